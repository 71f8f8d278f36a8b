//! Dynamic (JSON) functions: member and index access, `to_dynamic`, `pack`/`bag_*`, `array_*`,
//! `set_*`, `zip`, `strcat_array`, `extract_json`.
//!
//! A `dynamic` value is `LargeUtf8` JSON text. A missing property, an out-of-range index and a
//! JSON `null` all come out as a SQL null, never as an error.
//!
//! This file also holds the row-at-a-time UDF used by the datetime and math families
//! ([`row_call`]): a plain function over one row of [`ScalarValue`]s, evaluated once for scalar
//! inputs and row by row for arrays.

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use datafusion::arrow::array::{new_empty_array, Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::{Map, Number, Value};

use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use crate::error::EngineError;
use crate::values::{format_datetime, format_timespan};

// ---------------------------------------------------------------------------------------------
// Row-at-a-time UDF
// ---------------------------------------------------------------------------------------------

/// A function over one row of argument values.
pub(super) type RowFn = fn(&[ScalarValue]) -> DfResult<ScalarValue>;

/// A scalar UDF computing [`RowFn`] row by row, with a return type fixed at planning time.
#[derive(Debug)]
struct RowUdf {
    name: String,
    ret: DataType,
    f: RowFn,
    signature: Signature,
}

impl PartialEq for RowUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ret == other.ret
    }
}

impl Eq for RowUdf {}

impl Hash for RowUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.ret.hash(state);
    }
}

impl RowUdf {
    /// Gives a result the declared return type (typed nulls, widened integers).
    fn conform(&self, value: ScalarValue) -> DfResult<ScalarValue> {
        if value.is_null() {
            ScalarValue::try_from(&self.ret)
        } else if value.data_type() != self.ret {
            // A value that does not convert is null, as in Kusto, rather than a query error.
            value
                .cast_to(&self.ret)
                .or_else(|_| ScalarValue::try_from(&self.ret))
        } else {
            Ok(value)
        }
    }
}

impl ScalarUDFImpl for RowUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.ret.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let scalars: Option<Vec<ScalarValue>> = args
            .args
            .iter()
            .map(|arg| match arg {
                ColumnarValue::Scalar(value) => Some(value.clone()),
                ColumnarValue::Array(_) => None,
            })
            .collect();
        if let Some(scalars) = scalars {
            return Ok(ColumnarValue::Scalar(self.conform((self.f)(&scalars)?)?));
        }
        let rows = args.number_rows;
        if rows == 0 {
            return Ok(ColumnarValue::Array(new_empty_array(&self.ret)));
        }
        let mut out = Vec::with_capacity(rows);
        let mut row = Vec::with_capacity(args.args.len());
        for index in 0..rows {
            row.clear();
            for arg in &args.args {
                row.push(match arg {
                    ColumnarValue::Scalar(value) => value.clone(),
                    ColumnarValue::Array(array) => ScalarValue::try_from_array(array, index)?,
                });
            }
            out.push(self.conform((self.f)(&row)?)?);
        }
        Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
    }
}

/// Calls `f` row by row on `args`; the result has type `ret`. `name` must identify `f`.
pub(super) fn row_call(name: &str, ret: DataType, f: RowFn, args: Vec<Expr>) -> Expr {
    let udf = RowUdf {
        name: format!("kql_{name}"),
        ret,
        f,
        signature: Signature::variadic_any(Volatility::Immutable),
    };
    ScalarUDF::new_from_impl(udf).call(args)
}

// ---------------------------------------------------------------------------------------------
// Scalar value helpers shared by the families
// ---------------------------------------------------------------------------------------------

/// An integer argument (any integer or float width; floats truncate).
pub(super) fn scalar_i64(value: &ScalarValue) -> Option<i64> {
    use ScalarValue as S;
    match value {
        S::Int8(v) => v.map(i64::from),
        S::Int16(v) => v.map(i64::from),
        S::Int32(v) => v.map(i64::from),
        S::Int64(v) => *v,
        S::UInt8(v) => v.map(i64::from),
        S::UInt16(v) => v.map(i64::from),
        S::UInt32(v) => v.map(i64::from),
        S::UInt64(v) => v.and_then(|v| i64::try_from(v).ok()),
        S::Float32(v) => v.filter(|v| v.is_finite()).map(|v| v as i64),
        S::Float64(v) => v.filter(|v| v.is_finite()).map(|v| v as i64),
        S::Decimal128(v, _, scale) => v.map(|v| (v / 10i128.pow(*scale as u32)) as i64),
        S::Boolean(v) => v.map(i64::from),
        S::LargeUtf8(Some(text)) => match serde_json::from_str::<Value>(text).ok()? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            _ => None,
        },
        _ => None,
    }
}

/// A real argument.
pub(super) fn scalar_f64(value: &ScalarValue) -> Option<f64> {
    use ScalarValue as S;
    match value {
        S::Float32(v) => v.map(f64::from),
        S::Float64(v) => *v,
        S::Decimal128(v, _, scale) => v.map(|v| v as f64 / 10f64.powi(*scale as i32)),
        S::LargeUtf8(Some(text)) => serde_json::from_str::<Value>(text).ok()?.as_f64(),
        other => scalar_i64(other).map(|v| v as f64),
    }
}

/// A string argument (`string` or the text of a `dynamic`).
pub(super) fn scalar_str(value: &ScalarValue) -> Option<&str> {
    match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// Nanoseconds of a datetime or timespan argument (any unit); plain integers are taken as
/// nanoseconds.
pub(super) fn scalar_nanos(value: &ScalarValue) -> Option<i64> {
    use ScalarValue as S;
    match value {
        S::TimestampNanosecond(v, _) | S::DurationNanosecond(v) => *v,
        S::TimestampMicrosecond(v, _) | S::DurationMicrosecond(v) => {
            v.and_then(|v| v.checked_mul(1_000))
        }
        S::TimestampMillisecond(v, _) | S::DurationMillisecond(v) => {
            v.and_then(|v| v.checked_mul(1_000_000))
        }
        S::TimestampSecond(v, _) | S::DurationSecond(v) => {
            v.and_then(|v| v.checked_mul(1_000_000_000))
        }
        S::Date32(v) => v.and_then(|d| i64::from(d).checked_mul(crate::values::NANOS_PER_DAY)),
        S::Date64(v) => v.and_then(|v| v.checked_mul(1_000_000)),
        other => scalar_i64(other),
    }
}

/// The text of a constant string argument, if the planner passed a literal.
pub(super) fn literal_str(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Literal(value, _) => scalar_str(value),
        Expr::Alias(alias) => literal_str(&alias.expr),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Arrow values to JSON
// ---------------------------------------------------------------------------------------------

fn float_json(value: f64) -> Value {
    match Number::from_f64(value) {
        Some(number) => Value::Number(number),
        None if value.is_nan() => Value::String("NaN".into()),
        None if value > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

fn guid_text(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if hex.len() != 32 {
        return hex;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn array_json(array: &dyn Array) -> Value {
    let mut items = Vec::with_capacity(array.len());
    for index in 0..array.len() {
        let item = ScalarValue::try_from_array(array, index)
            .ok()
            .and_then(|value| scalar_to_json(&value))
            .unwrap_or(Value::Null);
        items.push(item);
    }
    Value::Array(items)
}

/// The JSON value of any Arrow scalar, `None` for null. `dynamic` (`LargeUtf8`) text is parsed;
/// datetimes and timespans become their Kusto text; lists become arrays.
pub(super) fn scalar_to_json(value: &ScalarValue) -> Option<Value> {
    use ScalarValue as S;
    if value.is_null() {
        return None;
    }
    Some(match value {
        S::Boolean(Some(b)) => Value::Bool(*b),
        S::Float16(Some(f)) => float_json(f64::from(*f)),
        S::Float32(Some(f)) => float_json(f64::from(*f)),
        S::Float64(Some(f)) => float_json(*f),
        S::UInt64(Some(v)) => Value::Number((*v).into()),
        S::Decimal128(..) | S::Decimal256(..) => {
            let text = value.to_string();
            match text.parse::<i64>() {
                Ok(int) if !text.contains('.') => Value::Number(int.into()),
                _ => float_json(text.parse::<f64>().ok()?),
            }
        }
        S::Utf8(Some(s)) | S::Utf8View(Some(s)) => Value::String(s.clone()),
        S::LargeUtf8(Some(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Null) => return None,
            Ok(parsed) => parsed,
            Err(_) => Value::String(s.clone()),
        },
        S::TimestampNanosecond(..)
        | S::TimestampMicrosecond(..)
        | S::TimestampMillisecond(..)
        | S::TimestampSecond(..)
        | S::Date32(_)
        | S::Date64(_) => Value::String(format_datetime(scalar_nanos(value)?, false)),
        S::DurationNanosecond(..)
        | S::DurationMicrosecond(..)
        | S::DurationMillisecond(..)
        | S::DurationSecond(..) => Value::String(format_timespan(scalar_nanos(value)?)),
        S::FixedSizeBinary(_, Some(bytes)) => Value::String(guid_text(bytes)),
        S::List(list) => array_json(&list.value(0)),
        S::LargeList(list) => array_json(&list.value(0)),
        S::FixedSizeList(list) => array_json(&list.value(0)),
        S::Struct(fields) => {
            let mut object = Map::new();
            for (index, field) in fields.fields().iter().enumerate() {
                let item = ScalarValue::try_from_array(fields.column(index), 0)
                    .ok()
                    .and_then(|v| scalar_to_json(&v))
                    .unwrap_or(Value::Null);
                object.insert(field.name().clone(), item);
            }
            Value::Object(object)
        }
        other => match scalar_i64(other) {
            Some(int) => Value::Number(int.into()),
            None => Value::String(other.to_string()),
        },
    })
}

/// A dynamic result: JSON text, SQL null for a missing value or JSON `null`.
fn json_scalar(value: Option<Value>) -> ScalarValue {
    match value {
        None | Some(Value::Null) => ScalarValue::LargeUtf8(None),
        Some(value) => ScalarValue::LargeUtf8(serde_json::to_string(&value).ok()),
    }
}

fn arg_json(args: &[ScalarValue], index: usize) -> Option<Value> {
    args.get(index).and_then(scalar_to_json)
}

fn arg_array(args: &[ScalarValue], index: usize) -> Option<Vec<Value>> {
    match arg_json(args, index)? {
        Value::Array(items) => Some(items),
        _ => None,
    }
}

fn arg_object(args: &[ScalarValue], index: usize) -> Option<Map<String, Value>> {
    match arg_json(args, index)? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Access for the planner
// ---------------------------------------------------------------------------------------------

fn element(items: &[Value], index: i64) -> Option<&Value> {
    let len = items.len() as i64;
    let position = if index < 0 { len + index } else { index };
    if (0..len).contains(&position) {
        items.get(position as usize)
    } else {
        None
    }
}

fn index_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let target = arg_json(args, 0);
    let index = arg_json(args, 1);
    Ok(json_scalar(match (target, index) {
        (Some(Value::Array(items)), Some(Value::Number(n))) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .and_then(|i| element(&items, i).cloned()),
        (Some(Value::Object(mut map)), Some(Value::String(key))) => map.remove(&key),
        _ => None,
    }))
}

fn to_dynamic_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    match &args[0] {
        ScalarValue::LargeUtf8(text) => Ok(ScalarValue::LargeUtf8(text.clone())),
        other => Ok(json_scalar(scalar_to_json(other))),
    }
}

/// `d.key` / `d["key"]`: the property `key` of a JSON object; null when missing.
pub(crate) fn member(target: Expr, key: &str) -> Expr {
    super::json_access::member(target, key)
}

/// `d[i]` (negative counts from the end) or `d["k"]` when `index` is a string; null when missing.
pub(crate) fn index(target: Expr, index: Expr) -> Expr {
    row_call("index", DataType::LargeUtf8, index_row, vec![target, index])
}

/// Any value (including DataFusion list arrays) as `dynamic` JSON text.
pub(crate) fn to_dynamic(expr: Expr) -> Expr {
    row_call(
        "to_dynamic",
        DataType::LargeUtf8,
        to_dynamic_row,
        vec![expr],
    )
}

// ---------------------------------------------------------------------------------------------
// JSON comparison
// ---------------------------------------------------------------------------------------------

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

fn type_rank(value: &Value) -> u8 {
    match value {
        Value::Bool(_) => 0,
        Value::Number(_) => 1,
        Value::String(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

fn json_cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => x
                .as_f64()
                .unwrap_or(f64::NAN)
                .total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        },
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => match type_rank(a).cmp(&type_rank(b)) {
            Ordering::Equal => a.to_string().cmp(&b.to_string()),
            other => other,
        },
    }
}

fn push_unique(out: &mut Vec<Value>, value: Value) {
    if !out.iter().any(|seen| json_eq(seen, &value)) {
        out.push(value);
    }
}

// ---------------------------------------------------------------------------------------------
// Function rows
// ---------------------------------------------------------------------------------------------

fn pack_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let mut object = Map::new();
    for pair in args.chunks(2) {
        let key = match scalar_to_json(&pair[0]) {
            Some(Value::String(key)) => key,
            Some(other) => other.to_string(),
            None => continue,
        };
        let value = pair.get(1).and_then(scalar_to_json).unwrap_or(Value::Null);
        object.insert(key, value);
    }
    Ok(json_scalar(Some(Value::Object(object))))
}

fn pack_array_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let items = args
        .iter()
        .map(|a| scalar_to_json(a).unwrap_or(Value::Null))
        .collect();
    Ok(json_scalar(Some(Value::Array(items))))
}

fn array_length_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Int64(
        arg_array(args, 0).map(|items| items.len() as i64),
    ))
}

fn array_concat_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let mut out = Vec::new();
    let mut any = false;
    for index in 0..args.len() {
        match arg_json(args, index) {
            Some(Value::Array(items)) => {
                any = true;
                out.extend(items);
            }
            Some(_) => any = true,
            None => {}
        }
    }
    Ok(json_scalar(any.then_some(Value::Array(out))))
}

/// Start and end (exclusive) of `start..=end` over `len` items, negative indexes from the end.
fn slice_bounds(len: i64, start: i64, end: i64) -> (usize, usize) {
    let start = if start < 0 { len + start } else { start }.clamp(0, len);
    let end = if end < 0 { len + end } else { end }.clamp(-1, len - 1) + 1;
    (start as usize, end.max(start) as usize)
}

fn array_slice_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = arg_array(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let len = items.len() as i64;
    let start = args.get(1).and_then(scalar_i64).unwrap_or(0);
    let end = args.get(2).and_then(scalar_i64).unwrap_or(len - 1);
    let (from, to) = slice_bounds(len, start, end);
    let sliced = if from < to {
        items[from..to].to_vec()
    } else {
        Vec::new()
    };
    Ok(json_scalar(Some(Value::Array(sliced))))
}

fn array_index_of_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = arg_array(args, 0) else {
        return Ok(ScalarValue::Int64(None));
    };
    let needle = arg_json(args, 1).unwrap_or(Value::Null);
    let len = items.len() as i64;
    let start = args.get(2).and_then(scalar_i64).unwrap_or(0);
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let length = args.get(3).and_then(scalar_i64).unwrap_or(-1);
    let end = if length < 0 {
        len
    } else {
        (start + length).min(len)
    };
    let occurrence = args.get(4).and_then(scalar_i64).unwrap_or(1).max(1);
    let mut seen = 0;
    for position in start..end {
        if json_eq(&items[position as usize], &needle) {
            seen += 1;
            if seen == occurrence {
                return Ok(ScalarValue::Int64(Some(position)));
            }
        }
    }
    Ok(ScalarValue::Int64(Some(-1)))
}

fn array_sum_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = arg_array(args, 0) else {
        return Ok(ScalarValue::Float64(None));
    };
    let numbers: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
    Ok(ScalarValue::Float64(if numbers.is_empty() {
        None
    } else {
        Some(numbers.iter().sum())
    }))
}

/// The order in which `array_sort_*` puts the elements of `keys`: non-null elements by value
/// (stable, ascending or descending), the nulls before or after them.
fn sort_permutation(keys: &[Value], descending: bool, nulls_last: bool) -> Vec<usize> {
    let (nulls, mut values): (Vec<usize>, Vec<usize>) =
        (0..keys.len()).partition(|&i| keys[i].is_null());
    values.sort_by(|&a, &b| {
        if descending {
            json_cmp(&keys[b], &keys[a])
        } else {
            json_cmp(&keys[a], &keys[b])
        }
    });
    if nulls_last {
        values.extend(nulls);
        values
    } else {
        let mut order = nulls;
        order.extend(values);
        order
    }
}

/// `array_sort_asc`/`array_sort_desc`: `(array1[, array2, ...][, nulls_last])`. One array gives
/// the sorted array. Several arrays give an array holding each of them reordered by the
/// permutation that sorts the first; null when an argument is not an array or the lengths differ.
fn sort_row(args: &[ScalarValue], descending: bool) -> DfResult<ScalarValue> {
    let (arrays, nulls_last) = match args.split_last() {
        Some((ScalarValue::Boolean(flag), rest)) if !rest.is_empty() => {
            (rest, flag.unwrap_or(true))
        }
        _ => (args, true),
    };
    let mut lists = Vec::with_capacity(arrays.len());
    for index in 0..arrays.len() {
        match arg_array(arrays, index) {
            Some(items) => lists.push(items),
            None => return Ok(ScalarValue::LargeUtf8(None)),
        }
    }
    let Some(keys) = lists.first() else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    if lists.iter().any(|list| list.len() != keys.len()) {
        return Ok(ScalarValue::LargeUtf8(None));
    }
    let order = sort_permutation(keys, descending, nulls_last);
    let mut sorted: Vec<Value> = lists
        .iter()
        .map(|list| Value::Array(order.iter().map(|&i| list[i].clone()).collect()))
        .collect();
    Ok(json_scalar(Some(if sorted.len() == 1 {
        sorted.remove(0)
    } else {
        Value::Array(sorted)
    })))
}

fn array_sort_asc_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    sort_row(args, false)
}

fn array_sort_desc_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    sort_row(args, true)
}

fn array_reverse_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(json_scalar(arg_array(args, 0).map(|mut items| {
        items.reverse();
        Value::Array(items)
    })))
}

fn array_split_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = arg_array(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let len = items.len() as i64;
    let points: Vec<i64> = match arg_json(args, 1) {
        Some(Value::Array(points)) => points.iter().filter_map(Value::as_i64).collect(),
        Some(Value::Number(n)) => n.as_i64().into_iter().collect(),
        _ => Vec::new(),
    };
    let mut cuts: Vec<usize> = points
        .into_iter()
        .map(|p| if p < 0 { len + p } else { p }.clamp(0, len) as usize)
        .collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut from = 0;
    for cut in cuts.into_iter().chain(std::iter::once(items.len())) {
        parts.push(Value::Array(items[from..cut.max(from)].to_vec()));
        from = cut.max(from);
    }
    Ok(json_scalar(Some(Value::Array(parts))))
}

fn array_iff_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(conditions) = arg_array(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let pick = |value: Option<Value>, index: usize| match value {
        Some(Value::Array(items)) => items.get(index).cloned().unwrap_or(Value::Null),
        Some(other) => other,
        None => Value::Null,
    };
    let when_true = arg_json(args, 1);
    let when_false = arg_json(args, 2);
    let out = conditions
        .iter()
        .enumerate()
        .map(|(index, condition)| {
            let truth = match condition {
                Value::Bool(b) => Some(*b),
                Value::Number(n) => n.as_f64().map(|f| f != 0.0),
                _ => None,
            };
            match truth {
                Some(true) => pick(when_true.clone(), index),
                Some(false) => pick(when_false.clone(), index),
                None => Value::Null,
            }
        })
        .collect();
    Ok(json_scalar(Some(Value::Array(out))))
}

fn all_arrays(args: &[ScalarValue]) -> Option<Vec<Vec<Value>>> {
    (0..args.len())
        .map(|index| arg_array(args, index))
        .collect()
}

fn set_union_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(arrays) = all_arrays(args) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let mut out = Vec::new();
    for value in arrays.into_iter().flatten() {
        push_unique(&mut out, value);
    }
    Ok(json_scalar(Some(Value::Array(out))))
}

fn set_intersect_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(mut arrays) = all_arrays(args) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let first = arrays.remove(0);
    let mut out = Vec::new();
    for value in first {
        if arrays
            .iter()
            .all(|other| other.iter().any(|v| json_eq(v, &value)))
        {
            push_unique(&mut out, value);
        }
    }
    Ok(json_scalar(Some(Value::Array(out))))
}

fn set_difference_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(mut arrays) = all_arrays(args) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let first = arrays.remove(0);
    let mut out = Vec::new();
    for value in first {
        if !arrays
            .iter()
            .any(|other| other.iter().any(|v| json_eq(v, &value)))
        {
            push_unique(&mut out, value);
        }
    }
    Ok(json_scalar(Some(Value::Array(out))))
}

fn set_has_element_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = arg_array(args, 0) else {
        return Ok(ScalarValue::Boolean(None));
    };
    let needle = arg_json(args, 1).unwrap_or(Value::Null);
    Ok(ScalarValue::Boolean(Some(
        items.iter().any(|v| json_eq(v, &needle)),
    )))
}

fn bag_keys_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(json_scalar(arg_object(args, 0).map(|map| {
        Value::Array(map.keys().cloned().map(Value::String).collect())
    })))
}

fn bag_merge_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let mut out: Option<Map<String, Value>> = None;
    for index in 0..args.len() {
        if let Some(map) = arg_object(args, index) {
            let merged = out.get_or_insert_with(Map::new);
            for (key, value) in map {
                merged.entry(key).or_insert(value);
            }
        }
    }
    Ok(json_scalar(out.map(Value::Object)))
}

fn bag_remove_keys_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(mut map) = arg_object(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let keys = match arg_json(args, 1) {
        Some(Value::Array(keys)) => keys,
        Some(other) => vec![other],
        None => Vec::new(),
    };
    for key in keys {
        if let Value::String(key) = key {
            match parse_path(&key) {
                Some(steps) if key.starts_with('$') => remove_path(&mut map, &steps),
                _ => {
                    map.shift_remove(&key);
                }
            }
        }
    }
    Ok(json_scalar(Some(Value::Object(map))))
}

fn remove_path(map: &mut Map<String, Value>, steps: &[PathStep]) {
    match steps {
        [PathStep::Key(key)] => {
            map.shift_remove(key);
        }
        [PathStep::Key(key), rest @ ..] => {
            if let Some(Value::Object(inner)) = map.get_mut(key) {
                remove_path(inner, rest);
            }
        }
        _ => {}
    }
}

fn bag_has_key_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(bag) = arg_json(args, 0) else {
        return Ok(ScalarValue::Boolean(Some(false)));
    };
    let key = args.get(1).and_then(scalar_str).unwrap_or_default();
    let found = if key.starts_with('$') {
        parse_path(key).is_some_and(|steps| follow_path(&bag, &steps).is_some())
    } else {
        matches!(&bag, Value::Object(map) if map.contains_key(key))
    };
    Ok(ScalarValue::Boolean(Some(found)))
}

fn zip_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(arrays) = all_arrays(args) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let longest = arrays.iter().map(Vec::len).max().unwrap_or(0);
    let out = (0..longest)
        .map(|i| {
            Value::Array(
                arrays
                    .iter()
                    .map(|a| a.get(i).cloned().unwrap_or(Value::Null))
                    .collect(),
            )
        })
        .collect();
    Ok(json_scalar(Some(Value::Array(out))))
}

/// The string form of a JSON value inside `strcat_array` and `extract_json`: strings unquoted,
/// null empty, anything else as JSON text.
fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn strcat_array_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let delimiter = args.get(1).and_then(scalar_str).unwrap_or_default();
    let text = arg_array(args, 0)
        .map(|items| {
            items
                .iter()
                .map(json_text)
                .collect::<Vec<_>>()
                .join(delimiter)
        })
        .unwrap_or_default();
    Ok(ScalarValue::Utf8(Some(text)))
}

// ---------------------------------------------------------------------------------------------
// JSONPath subset: $ .key ['key'] ["key"] [index]
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum PathStep {
    Key(String),
    Index(i64),
}

fn parse_path(path: &str) -> Option<Vec<PathStep>> {
    let path = path.trim();
    let mut rest = path.strip_prefix('$').unwrap_or(path);
    let mut steps = Vec::new();
    if !path.starts_with('$') && !rest.is_empty() && !rest.starts_with(['.', '[']) {
        rest = &path[..0];
        steps.push(PathStep::Key(path.to_string()));
    }
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return None;
            }
            steps.push(PathStep::Key(after[..end].to_string()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']')?;
            let inner = after[..close].trim();
            let quoted = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
            match quoted {
                Some(key) => steps.push(PathStep::Key(key.to_string())),
                None => steps.push(PathStep::Index(inner.parse().ok()?)),
            }
            rest = &after[close + 1..];
        } else {
            return None;
        }
    }
    Some(steps)
}

fn follow_path<'a>(value: &'a Value, steps: &[PathStep]) -> Option<&'a Value> {
    let mut current = value;
    for step in steps {
        current = match (step, current) {
            (PathStep::Key(key), Value::Object(map)) => map.get(key)?,
            (PathStep::Index(i), Value::Array(items)) => element(items, *i)?,
            _ => return None,
        };
    }
    Some(current)
}

fn extract_json_value(args: &[ScalarValue]) -> Option<Value> {
    let path = args.first().and_then(scalar_str)?;
    let steps = parse_path(path)?;
    let source = match &args[1] {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => {
            serde_json::from_str::<Value>(s).ok()?
        }
        other => scalar_to_json(other)?,
    };
    follow_path(&source, &steps).cloned()
}

fn extract_json_string_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Utf8(Some(
        extract_json_value(args)
            .map(|v| json_text(&v))
            .unwrap_or_default(),
    )))
}

fn extract_json_dynamic_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(json_scalar(extract_json_value(args)))
}

/// Typed `extract_json`: numbers and booleans directly, anything else through its text (the
/// row UDF then casts to the declared type).
fn extract_json_typed_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(match extract_json_value(args) {
        None | Some(Value::Null) => ScalarValue::Null,
        Some(Value::Bool(b)) => ScalarValue::Boolean(Some(b)),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => ScalarValue::Int64(Some(i)),
            None => ScalarValue::Float64(n.as_f64()),
        },
        Some(other) => ScalarValue::Utf8(Some(json_text(&other))),
    })
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "pack",
    "bag_pack",
    "pack_dictionary",
    "pack_array",
    "array_length",
    "arraylength",
    "array_concat",
    "array_slice",
    "array_index_of",
    "array_sum",
    "array_sort_asc",
    "array_sort_desc",
    "array_reverse",
    "array_split",
    "array_iff",
    "array_iif",
    "set_union",
    "set_intersect",
    "set_difference",
    "set_has_element",
    "bag_keys",
    "bag_merge",
    "bag_remove_keys",
    "bag_has_key",
    "zip",
    "strcat_array",
    "array_strcat",
    "extractjson",
    "extract_json",
];

fn exprs(args: &[PlannedArg]) -> Vec<Expr> {
    args.iter().map(|a| a.expr.clone()).collect()
}

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    const MANY: usize = usize::MAX;
    use DataType::{Boolean, Float64, Int64, LargeUtf8, Utf8};
    let (min, max, ret, f): (usize, usize, DataType, RowFn) = match name {
        "pack" | "bag_pack" | "pack_dictionary" => (0, MANY, LargeUtf8, pack_row),
        "pack_array" => (0, MANY, LargeUtf8, pack_array_row),
        "array_length" | "arraylength" => (1, 1, Int64, array_length_row),
        "array_concat" => (1, MANY, LargeUtf8, array_concat_row),
        "array_slice" => (3, 3, LargeUtf8, array_slice_row),
        "array_index_of" => (2, 5, Int64, array_index_of_row),
        "array_sum" => (1, 1, Float64, array_sum_row),
        "array_sort_asc" => (1, MANY, LargeUtf8, array_sort_asc_row),
        "array_sort_desc" => (1, MANY, LargeUtf8, array_sort_desc_row),
        "array_reverse" => (1, 1, LargeUtf8, array_reverse_row),
        "array_split" => (2, 2, LargeUtf8, array_split_row),
        "array_iff" | "array_iif" => (3, 3, LargeUtf8, array_iff_row),
        "set_union" => (2, MANY, LargeUtf8, set_union_row),
        "set_intersect" => (2, MANY, LargeUtf8, set_intersect_row),
        "set_difference" => (2, MANY, LargeUtf8, set_difference_row),
        "set_has_element" => (2, 2, Boolean, set_has_element_row),
        "bag_keys" => (1, 1, LargeUtf8, bag_keys_row),
        "bag_merge" => (2, MANY, LargeUtf8, bag_merge_row),
        "bag_remove_keys" => (2, 2, LargeUtf8, bag_remove_keys_row),
        "bag_has_key" => (2, 2, Boolean, bag_has_key_row),
        "zip" => (2, MANY, LargeUtf8, zip_row),
        "strcat_array" | "array_strcat" => (2, 2, Utf8, strcat_array_row),
        "extractjson" | "extract_json" => (2, 3, Utf8, extract_json_string_row),
        _ => return None,
    };
    Some((|| {
        check_arity(name, args, min, max, ctx)?;
        match name {
            "pack" | "bag_pack" | "pack_dictionary" if !args.len().is_multiple_of(2) => {
                return Err(EngineError::bind(
                    format!(
                        "{name}() takes key-value pairs: an even number of arguments, not {}",
                        args.len()
                    ),
                    ctx.span,
                ))
            }
            "pack" | "bag_pack" if args.is_empty() => {
                return Ok(Expr::Literal(
                    ScalarValue::LargeUtf8(Some("{}".into())),
                    None,
                ))
            }
            "pack_array" if args.is_empty() => {
                return Ok(Expr::Literal(
                    ScalarValue::LargeUtf8(Some("[]".into())),
                    None,
                ))
            }
            "extractjson" | "extract_json" if args.len() == 3 => {
                let target = args[2].data_type.clone();
                let mut call_args = exprs(&args[..2]);
                return Ok(match target {
                    Utf8 | DataType::Null => {
                        row_call(name, Utf8, extract_json_string_row, call_args)
                    }
                    LargeUtf8 => row_call(
                        "extract_json_dynamic",
                        LargeUtf8,
                        extract_json_dynamic_row,
                        call_args,
                    ),
                    other => {
                        call_args.truncate(2);
                        row_call(
                            &format!("extract_json_{other}"),
                            other,
                            extract_json_typed_row,
                            call_args,
                        )
                    }
                });
            }
            _ => {}
        }
        Ok(row_call(name, ret, f, exprs(args)))
    })())
}

// ---------------------------------------------------------------------------------------------
// mv-expand support (used by planner/expand.rs)
// ---------------------------------------------------------------------------------------------

/// `0..n` as a list of longs, `n` the longest of the argument lists.
fn mv_index_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let longest = args
        .iter()
        .map(|arg| match arg {
            ScalarValue::List(list) if !list.is_null(0) => list.value(0).len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    let scalars: Vec<ScalarValue> = (0..longest as i64)
        .map(|i| ScalarValue::Int64(Some(i)))
        .collect();
    Ok(ScalarValue::List(ScalarValue::new_list_nullable(
        &scalars,
        &DataType::Int64,
    )))
}

/// The `List<LargeUtf8>` of the elements `mv-expand` makes of `value`.
pub(crate) fn mv_expand_items(value: Expr, bag_as_array: bool, limit: Option<i64>) -> Expr {
    super::json_access::mv_expand_items(value, bag_as_array, limit)
}

/// The `List<Int64>` `0..n` for `with_itemindex`, `n` the longest of `lists`.
pub(crate) fn mv_expand_index(lists: Vec<Expr>) -> Expr {
    row_call(
        "mv_index",
        DataType::new_list(DataType::Int64, true),
        mv_index_row,
        lists,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::strings::tests::{arg, ctx};
    use datafusion::arrow::array::{
        ArrayRef, DurationNanosecondArray, Int64Array, LargeStringArray, ListArray, StringArray,
        TimestampNanosecondArray,
    };
    use datafusion::arrow::datatypes::{Field, Int64Type, Schema, TimeUnit};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::logical_expr::{col, lit};
    use datafusion::prelude::SessionContext;
    use std::sync::Arc;

    fn dyn_lit(text: &str) -> Expr {
        Expr::Literal(ScalarValue::LargeUtf8(Some(text.to_string())), None)
    }

    fn d(text: &str) -> PlannedArg {
        arg(dyn_lit(text), DataType::LargeUtf8)
    }

    fn s(text: &str) -> PlannedArg {
        arg(lit(text), DataType::Utf8)
    }

    fn n(value: i64) -> PlannedArg {
        arg(lit(value), DataType::Int64)
    }

    async fn eval_batch(batch: RecordBatch, expr: Expr) -> Vec<ScalarValue> {
        let session = SessionContext::new();
        let frame = session
            .read_batch(batch)
            .unwrap()
            .select(vec![expr.alias("x")])
            .unwrap();
        let batches = frame.collect().await.unwrap();
        let mut out = Vec::new();
        for batch in batches {
            for row in 0..batch.num_rows() {
                out.push(ScalarValue::try_from_array(batch.column(0), row).unwrap());
            }
        }
        out
    }

    fn one_row() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("one", DataType::Int64, false)]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from(vec![1])) as ArrayRef],
        )
        .unwrap()
    }

    async fn eval(expr: Expr) -> ScalarValue {
        eval_batch(one_row(), expr).await.remove(0)
    }

    async fn call(name: &str, args: Vec<PlannedArg>) -> ScalarValue {
        eval(plan(name, &args, &ctx()).unwrap().unwrap()).await
    }

    fn dynv(text: Option<&str>) -> ScalarValue {
        ScalarValue::LargeUtf8(text.map(str::to_string))
    }

    #[tokio::test]
    async fn member_and_index_access() {
        let doc = r#"{"a":1,"b":[10,20,30],"c":null,"d":{"e":"x"}}"#;
        let cases: Vec<(Expr, Option<&str>)> = vec![
            (member(dyn_lit(doc), "a"), Some("1")),
            (member(dyn_lit(doc), "missing"), None),
            (member(dyn_lit(doc), "c"), None),
            (member(dyn_lit(doc), "d"), Some(r#"{"e":"x"}"#)),
            (member(member(dyn_lit(doc), "d"), "e"), Some(r#""x""#)),
            (member(dyn_lit("[1,2]"), "a"), None),
            (index(member(dyn_lit(doc), "b"), lit(0i64)), Some("10")),
            (index(member(dyn_lit(doc), "b"), lit(-1i64)), Some("30")),
            (index(member(dyn_lit(doc), "b"), lit(-3i64)), Some("10")),
            (index(member(dyn_lit(doc), "b"), lit(-4i64)), None),
            (index(member(dyn_lit(doc), "b"), lit(3i64)), None),
            (index(dyn_lit(doc), lit("a")), Some("1")),
            (index(dyn_lit(doc), lit("zz")), None),
            (index(dyn_lit("null"), lit(0i64)), None),
            (index(dyn_lit("[null,1]"), lit(0i64)), None),
        ];
        for (expr, expected) in cases {
            let shown = expr.to_string();
            assert_eq!(eval(expr).await, dynv(expected), "{shown}");
        }
    }

    #[tokio::test]
    async fn member_over_a_column() {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "d",
            DataType::LargeUtf8,
            true,
        )]));
        let column = LargeStringArray::from(vec![
            Some(r#"{"k":1.5}"#),
            None,
            Some(r#"{"k":"v"}"#),
            Some("[]"),
        ]);
        let batch = RecordBatch::try_new(schema, vec![Arc::new(column) as ArrayRef]).unwrap();
        let out = eval_batch(batch, member(col("d"), "k")).await;
        assert_eq!(
            out,
            vec![
                dynv(Some("1.5")),
                dynv(None),
                dynv(Some(r#""v""#)),
                dynv(None)
            ]
        );
    }

    #[tokio::test]
    async fn to_dynamic_of_values_and_lists() {
        let cases: Vec<(Expr, Option<&str>)> = vec![
            (lit("a\"b"), Some(r#""a\"b""#)),
            (lit(5i64), Some("5")),
            (lit(1.0f64), Some("1.0")),
            (lit(true), Some("true")),
            (
                lit(ScalarValue::TimestampNanosecond(
                    Some(1_577_836_800_000_000_000),
                    None,
                )),
                Some(r#""2020-01-01T00:00:00.0000000Z""#),
            ),
            (
                lit(ScalarValue::DurationNanosecond(Some(
                    90 * 60 * 1_000_000_000,
                ))),
                Some(r#""01:30:00""#),
            ),
            (lit(ScalarValue::Int64(None)), None),
            (dyn_lit(r#"{"b":1,"a":2}"#), Some(r#"{"b":1,"a":2}"#)),
        ];
        for (expr, expected) in cases {
            let shown = expr.to_string();
            assert_eq!(eval(to_dynamic(expr)).await, dynv(expected), "{shown}");
        }
        // A list column, as array_agg produces.
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            Some(vec![]),
            None,
        ]);
        let strings = ListArray::new(
            Arc::new(Field::new("item", DataType::Utf8, true)),
            datafusion::arrow::buffer::OffsetBuffer::from_lengths([2]),
            Arc::new(StringArray::from(vec!["x", "y"])),
            None,
        );
        let schema = Arc::new(Schema::new(vec![Field::new(
            "l",
            list.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(list) as ArrayRef]).unwrap();
        let out = eval_batch(batch, to_dynamic(col("l"))).await;
        assert_eq!(
            out,
            vec![dynv(Some("[1,null,3]")), dynv(Some("[]")), dynv(None)]
        );
        let schema = Arc::new(Schema::new(vec![Field::new(
            "l",
            strings.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![Arc::new(strings) as ArrayRef]).unwrap();
        assert_eq!(
            eval_batch(batch, to_dynamic(col("l"))).await,
            vec![dynv(Some(r#"["x","y"]"#))]
        );
    }

    #[tokio::test]
    async fn pack_keeps_key_order_and_types() {
        let ts = arg(
            lit(ScalarValue::DurationNanosecond(Some(2_000_000_000))),
            DataType::Duration(TimeUnit::Nanosecond),
        );
        let out = call(
            "bag_pack",
            vec![
                s("z"),
                n(1),
                s("a"),
                s("x"),
                s("t"),
                ts.clone(),
                s("n"),
                d(r#"{"u":"w"}"#),
            ],
        )
        .await;
        assert_eq!(
            out,
            dynv(Some(r#"{"z":1,"a":"x","t":"00:00:02","n":{"u":"w"}}"#))
        );
        assert_eq!(
            call("pack_array", vec![n(1), s("2"), ts]).await,
            dynv(Some(r#"[1,"2","00:00:02"]"#))
        );
        assert!(plan("pack", &[s("a")], &ctx()).unwrap().is_err());
    }

    #[tokio::test]
    async fn array_functions() {
        type Case = (&'static str, Vec<PlannedArg>, ScalarValue);
        let cases: Vec<Case> = vec![
            (
                "array_length",
                vec![d("[1,2,3]")],
                ScalarValue::Int64(Some(3)),
            ),
            ("array_length", vec![d("{}")], ScalarValue::Int64(None)),
            ("array_length", vec![d("[]")], ScalarValue::Int64(Some(0))),
            (
                "array_concat",
                vec![d(r#"{"a":1}"#), d("[99]")],
                dynv(Some("[99]")),
            ),
            (
                "array_concat",
                vec![d("[1,2]"), d("[3]")],
                dynv(Some("[1,2,3]")),
            ),
            (
                "array_slice",
                vec![d("[1,2,3,4,5]"), n(2), n(-1)],
                dynv(Some("[3,4,5]")),
            ),
            (
                "array_slice",
                vec![d("[1,2,3,4,5]"), n(-3), n(-2)],
                dynv(Some("[3,4]")),
            ),
            (
                "array_slice",
                vec![d("[1,2,3,4,5,6]"), n(0), n(100)],
                dynv(Some("[1,2,3,4,5,6]")),
            ),
            (
                "array_slice",
                vec![d("[1,2,3]"), n(5), n(9)],
                dynv(Some("[]")),
            ),
            (
                "array_index_of",
                vec![d("[5,15]"), arg(lit(15.0f64), DataType::Float64)],
                ScalarValue::Int64(Some(1)),
            ),
            (
                "array_index_of",
                vec![d("[1,2,3]"), n(99)],
                ScalarValue::Int64(Some(-1)),
            ),
            (
                "array_sum",
                vec![d("[1,null,3]")],
                ScalarValue::Float64(Some(4.0)),
            ),
            ("array_sum", vec![d("[]")], ScalarValue::Float64(None)),
            (
                "array_sort_asc",
                vec![d(r#"[null,"blue","yellow","green",null]"#)],
                dynv(Some(r#"["blue","green","yellow",null,null]"#)),
            ),
            (
                "array_sort_asc",
                vec![d(r#"[null,"b","a"]"#), arg(lit(false), DataType::Boolean)],
                dynv(Some(r#"[null,"a","b"]"#)),
            ),
            (
                "array_sort_desc",
                vec![d("[1,3,4,5,2]")],
                dynv(Some("[5,4,3,2,1]")),
            ),
            (
                "array_sort_asc",
                vec![d("[1,3,4,5,2]"), d(r#"["a","b","c","d","e"]"#)],
                dynv(Some(r#"[[1,2,3,4,5],["a","e","b","c","d"]]"#)),
            ),
            (
                "array_sort_desc",
                vec![d("[1,3,4,5,2]"), d(r#"["a","b","c","d","e"]"#)],
                dynv(Some(r#"[[5,4,3,2,1],["d","c","b","e","a"]]"#)),
            ),
            (
                "array_sort_asc",
                vec![
                    d("[2,null,1]"),
                    d("[20,0,10]"),
                    arg(lit(false), DataType::Boolean),
                ],
                dynv(Some("[[null,1,2],[0,10,20]]")),
            ),
            ("array_sort_asc", vec![d("[2,1]"), d("[1,2,3]")], dynv(None)),
            ("array_reverse", vec![d("[1,2,3]")], dynv(Some("[3,2,1]"))),
            (
                "array_split",
                vec![d("[1,2,3,4,5]"), d("[1,3]")],
                dynv(Some("[[1],[2,3],[4,5]]")),
            ),
            (
                "array_iff",
                vec![d("[true,false,true]"), d("[1,2,3]"), d("[4,5,6]")],
                dynv(Some("[1,5,3]")),
            ),
            (
                "array_iff",
                vec![d("[1,0,50]"), s("yes"), s("no")],
                dynv(Some(r#"["yes","no","yes"]"#)),
            ),
            (
                "array_iff",
                vec![d(r#"["s",null]"#), n(1), n(0)],
                dynv(Some("[null,null]")),
            ),
            (
                "array_iff",
                vec![d("[true,true,true]"), d("[1,2]"), d("[3,4]")],
                dynv(Some("[1,2,null]")),
            ),
            (
                "set_union",
                vec![d("[1,2,1,4]"), d("[1,2]"), d("[8]")],
                dynv(Some("[1,2,4,8]")),
            ),
            (
                "set_intersect",
                vec![d("[1,2,1,4]"), d("[1,2]"), d("[8,1]")],
                dynv(Some("[1]")),
            ),
            (
                "set_difference",
                vec![d("[null,1,null,2]"), d("[null]")],
                dynv(Some("[1,2]")),
            ),
            (
                "set_difference",
                vec![d("[1,2,3]"), d("[1,2,3]")],
                dynv(Some("[]")),
            ),
            (
                "set_has_element",
                vec![d(r#"["a","b"]"#), s("b")],
                ScalarValue::Boolean(Some(true)),
            ),
            (
                "zip",
                vec![d(r#"["A",1,1.5]"#), d(r#"[{},"B"]"#)],
                dynv(Some(r#"[["A",{}],[1,"B"],[1.5,null]]"#)),
            ),
            (
                "strcat_array",
                vec![d(r#"["a",null,"","b"]"#), s("|")],
                ScalarValue::Utf8(Some("a|||b".into())),
            ),
            (
                "strcat_array",
                vec![d("[1,2,3]"), s("->")],
                ScalarValue::Utf8(Some("1->2->3".into())),
            ),
        ];
        for (name, args, expected) in cases {
            assert_eq!(call(name, args).await, expected, "{name}");
        }
    }

    #[tokio::test]
    async fn bag_functions() {
        type Case = (&'static str, Vec<PlannedArg>, ScalarValue);
        let cases: Vec<Case> = vec![
            (
                "bag_keys",
                vec![d(r#"{"b":1,"a":[1]}"#)],
                dynv(Some(r#"["b","a"]"#)),
            ),
            ("bag_keys", vec![d("{}")], dynv(Some("[]"))),
            ("bag_keys", vec![d("[1]")], dynv(None)),
            (
                "bag_merge",
                vec![d(r#"{"A1":12,"B1":2}"#), d(r#"{"A2":81,"A1":1}"#)],
                dynv(Some(r#"{"A1":12,"B1":2,"A2":81}"#)),
            ),
            (
                "bag_merge",
                vec![d(r#"{"k":1}"#), d("null")],
                dynv(Some(r#"{"k":1}"#)),
            ),
            (
                "bag_remove_keys",
                vec![d(r#"{"key1":123,"key2":"abc"}"#), d(r#"["key2","key4"]"#)],
                dynv(Some(r#"{"key1":123}"#)),
            ),
            (
                "bag_has_key",
                vec![d(r#"{"key1":123,"key2":"abc"}"#), s("key2")],
                ScalarValue::Boolean(Some(true)),
            ),
            (
                "bag_has_key",
                vec![d(r#"{"key1":123}"#), s("key2")],
                ScalarValue::Boolean(Some(false)),
            ),
            (
                "bag_has_key",
                vec![d(r#"{"key2":{"prop1":"abc"}}"#), s("$.key2.prop1")],
                ScalarValue::Boolean(Some(true)),
            ),
            (
                "extract_json",
                vec![s("$.name"), s(r#"{"name":"John","age":30}"#)],
                ScalarValue::Utf8(Some("John".into())),
            ),
            (
                "extractjson",
                vec![s("$.a.b[1]"), s(r#"{"a":{"b":[1,{"c":2}]}}"#)],
                ScalarValue::Utf8(Some(r#"{"c":2}"#.into())),
            ),
            (
                "extract_json",
                vec![s("$.missing"), s("{}")],
                ScalarValue::Utf8(Some(String::new())),
            ),
            (
                "extract_json",
                vec![
                    s("$['age']"),
                    s(r#"{"age":30}"#),
                    arg(lit(ScalarValue::Int64(None)), DataType::Int64),
                ],
                ScalarValue::Int64(Some(30)),
            ),
        ];
        for (name, args, expected) in cases {
            assert_eq!(call(name, args).await, expected, "{name}");
        }
    }

    #[test]
    fn path_parsing() {
        assert_eq!(
            parse_path("$.a['b c'][-1]"),
            Some(vec![
                PathStep::Key("a".into()),
                PathStep::Key("b c".into()),
                PathStep::Index(-1)
            ])
        );
        assert_eq!(parse_path("$"), Some(vec![]));
        assert_eq!(parse_path("$.a[x]"), None);
    }

    #[test]
    fn scalar_json_forms() {
        let ts = ScalarValue::TimestampNanosecond(Some(0), None);
        assert_eq!(
            scalar_to_json(&ts),
            Some(Value::String("1970-01-01T00:00:00.0000000Z".into()))
        );
        assert_eq!(
            scalar_to_json(&ScalarValue::Float64(Some(f64::NAN))),
            Some(Value::String("NaN".into()))
        );
        let durations = DurationNanosecondArray::from(vec![Some(-1_000_000_000)]);
        let value = ScalarValue::try_from_array(&durations, 0).unwrap();
        assert_eq!(
            scalar_to_json(&value),
            Some(Value::String("-00:00:01".into()))
        );
        let times = TimestampNanosecondArray::from(vec![None::<i64>]);
        assert_eq!(
            scalar_to_json(&ScalarValue::try_from_array(&times, 0).unwrap()),
            None
        );
    }
}
