//! Assorted scalar functions: `range`, `bag_zip`, `bag_set_key`, `treepath`, `dynamic_to_json`,
//! `array_shift_*`/`array_rotate_*`, `jaccard_index`, `hash`/`hash_xxhash64`/`hash_sha1`,
//! `unicode_codepoints_*`, `regex_quote`, `parse_urlquery`, `loggamma`, `erf`/`erfc`, `isutf8`,
//! `format_bytes`, `base64_encode_fromarray`, `base64_*guid` and the `punycode_*` functions.
//!
//! All are row-at-a-time functions ([`row_call`]) over `ScalarValue`s; `dynamic` values are
//! JSON text, as everywhere else. Beside them, the planner's vectorised [`distinct_key`] shares
//! `hash`'s XXH64.

use datafusion::arrow::array::{ArrayRef, AsArray, UInt64Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::{lit, Expr};
use serde_json::{Map, Value};
use std::sync::Arc;

use super::dynamic::{row_call, scalar_f64, scalar_i64, scalar_nanos, scalar_to_json, RowFn};
use super::strings::{udf_call, Batch, KqlUdf};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use crate::error::EngineError;

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "range",
    "bag_zip",
    "bag_set_key",
    "treepath",
    "dynamic_to_json",
    "array_shift_left",
    "array_shift_right",
    "array_rotate_left",
    "array_rotate_right",
    "jaccard_index",
    "hash",
    "hash_xxhash64",
    "hash_sha1",
    "unicode_codepoints_from_string",
    "unicode_codepoints_to_string",
    "make_string",
    "regex_quote",
    "parse_urlquery",
    "loggamma",
    "erf",
    "erfc",
    "isutf8",
    "format_bytes",
    "base64_encode_fromarray",
    "base64_decode_toguid",
    "base64_encode_fromguid",
    "punycode_from_string",
    "punycode_to_string",
    "punycode_domain_from_string",
    "punycode_domain_to_string",
    "parse_version",
    "assert",
    "bag_pack_columns",
];

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    const MANY: usize = usize::MAX;
    use DataType::{Boolean, Float64, Int64, LargeUtf8, Utf8};
    match name {
        "bag_pack_columns" => return Some(plan_bag_pack_columns(args, ctx)),
        "assert" => return Some(plan_assert(args, ctx)),
        _ => {}
    }
    let (min, max, ret, f): (usize, usize, DataType, RowFn) = match name {
        "range" => (2, 3, LargeUtf8, range_row),
        "bag_zip" => (2, 2, LargeUtf8, bag_zip_row),
        "bag_set_key" => (3, 3, LargeUtf8, bag_set_key_row),
        "treepath" => (1, 1, LargeUtf8, treepath_row),
        "dynamic_to_json" => (1, 1, Utf8, dynamic_to_json_row),
        "array_shift_left" => (2, 3, LargeUtf8, array_shift_left_row),
        "array_shift_right" => (2, 3, LargeUtf8, array_shift_right_row),
        "array_rotate_left" => (2, 2, LargeUtf8, array_rotate_left_row),
        "array_rotate_right" => (2, 2, LargeUtf8, array_rotate_right_row),
        "jaccard_index" => (2, 2, Float64, jaccard_index_row),
        "hash" | "hash_xxhash64" => (1, 2, Int64, hash_row),
        "hash_sha1" => (1, 1, Utf8, hash_sha1_row),
        "unicode_codepoints_from_string" => (1, 1, LargeUtf8, codepoints_from_string_row),
        "unicode_codepoints_to_string" | "make_string" => (1, MANY, Utf8, codepoints_to_string_row),
        "regex_quote" => (1, 1, Utf8, regex_quote_row),
        "parse_urlquery" => (1, 1, LargeUtf8, parse_urlquery_row),
        "loggamma" => (1, 1, Float64, loggamma_row),
        "erf" => (1, 1, Float64, erf_row),
        "erfc" => (1, 1, Float64, erfc_row),
        "isutf8" => (1, 1, Boolean, isutf8_row),
        "format_bytes" => (1, 4, Utf8, format_bytes_row),
        "base64_encode_fromarray" => (1, 1, Utf8, base64_encode_fromarray_row),
        "base64_decode_toguid" => (
            1,
            1,
            DataType::FixedSizeBinary(16),
            base64_decode_toguid_row,
        ),
        "base64_encode_fromguid" => (1, 1, Utf8, base64_encode_fromguid_row),
        "punycode_from_string" => (1, 1, Utf8, punycode_from_string_row),
        "punycode_to_string" => (1, 1, Utf8, punycode_to_string_row),
        "punycode_domain_from_string" => (1, 1, Utf8, punycode_domain_from_string_row),
        "punycode_domain_to_string" => (1, 1, Utf8, punycode_domain_to_string_row),
        "parse_version" => (1, 1, VERSION_TYPE, parse_version_row),
        _ => return None,
    };
    Some(check_arity(name, args, min, max, ctx).map(|()| {
        let exprs: Vec<Expr> = args.iter().map(|a| a.expr.clone()).collect();
        row_call(name, ret, f, exprs)
    }))
}

// ---------------------------------------------------------------------------------------------
// bag_pack_columns, assert, parse_version
// ---------------------------------------------------------------------------------------------

/// `bag_pack_columns(c1, c2, ...)`: a bag keyed by the columns' names; the arguments must be
/// column references.
fn plan_bag_pack_columns(args: &[PlannedArg], ctx: &CallContext) -> Result<Expr, EngineError> {
    check_arity("bag_pack_columns", args, 1, usize::MAX, ctx)?;
    let mut pairs = Vec::with_capacity(args.len() * 2);
    for arg in args {
        let Expr::Column(column) = &arg.expr else {
            return Err(EngineError::bind(
                "bag_pack_columns() takes column names, not expressions",
                arg.span,
            ));
        };
        pairs.push(PlannedArg {
            expr: lit(ScalarValue::Utf8(Some(column.name.clone()))),
            data_type: DataType::Utf8,
            span: arg.span,
        });
        pairs.push(arg.clone());
    }
    super::plan_scalar_call("bag_pack", &pairs, ctx)
}

/// `assert(condition, message)`: `true` when the condition holds, otherwise the query fails
/// with the message. A constant condition is checked while planning.
fn plan_assert(args: &[PlannedArg], ctx: &CallContext) -> Result<Expr, EngineError> {
    check_arity("assert", args, 2, 2, ctx)?;
    if args[0].data_type != DataType::Boolean {
        return Err(EngineError::bind(
            "assert() expects a bool condition",
            args[0].span,
        ));
    }
    if let Expr::Literal(ScalarValue::Boolean(value), _) = &args[0].expr {
        if *value != Some(true) {
            let message = match &args[1].expr {
                Expr::Literal(message, _) => scalar_text(message),
                _ => String::new(),
            };
            return Err(EngineError::bind(
                format!("assertion failed: {message}"),
                args[0].span,
            ));
        }
    }
    let exprs: Vec<Expr> = args.iter().map(|a| a.expr.clone()).collect();
    Ok(row_call("assert", DataType::Boolean, assert_row, exprs))
}

fn scalar_text(value: &ScalarValue) -> String {
    match value {
        ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => s.clone(),
        _ => String::new(),
    }
}

fn assert_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    match args.first() {
        Some(ScalarValue::Boolean(Some(true))) => Ok(ScalarValue::Boolean(Some(true))),
        _ => {
            let message = args.get(1).map(scalar_text).unwrap_or_default();
            Err(DataFusionError::Execution(format!(
                "assertion failed: {message}"
            )))
        }
    }
}

/// `parse_version`'s result: a decimal wide enough for four eight-digit parts (32 digits).
const VERSION_TYPE: DataType = DataType::Decimal128(38, 0);

/// The comparable number of a version string: one to four dot-separated parts of one to eight
/// digits, missing trailing parts being 0, each part taking eight decimal digits
/// (`"1.2"` is 1 00000002 00000000 00000000). `None` for any other text.
fn parse_version(text: &str) -> Option<i128> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut value: i128 = 0;
    for index in 0..4 {
        let part = match parts.get(index) {
            Some(part) => {
                if part.is_empty() || part.len() > 8 || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                part.parse::<i128>().ok()?
            }
            None => 0,
        };
        value = value * 100_000_000 + part;
    }
    Some(value)
}

fn parse_version_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let value = args
        .first()
        .and_then(|v| match v {
            ScalarValue::Utf8(Some(s))
            | ScalarValue::LargeUtf8(Some(s))
            | ScalarValue::Utf8View(Some(s)) => Some(s.as_str()),
            _ => None,
        })
        .and_then(parse_version);
    Ok(ScalarValue::Decimal128(value, 38, 0))
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

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

/// The text of a string argument (a `dynamic` string counts).
fn arg_string(args: &[ScalarValue], index: usize) -> Option<String> {
    match args.get(index)? {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        other => match scalar_to_json(other)? {
            Value::String(s) => Some(s),
            _ => None,
        },
    }
}

fn string_result(text: Option<String>) -> ScalarValue {
    ScalarValue::Utf8(Some(text.unwrap_or_default()))
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------
// range()
// ---------------------------------------------------------------------------------------------

/// The most elements `range()` makes.
const RANGE_LIMIT: usize = 1_048_576;
const NANOS_PER_HOUR: i64 = 3_600_000_000_000;

fn is_time(value: &ScalarValue) -> Option<bool> {
    use ScalarValue as S;
    match value {
        S::TimestampNanosecond(..)
        | S::TimestampMicrosecond(..)
        | S::TimestampMillisecond(..)
        | S::TimestampSecond(..) => Some(true),
        S::DurationNanosecond(..)
        | S::DurationMicrosecond(..)
        | S::DurationMillisecond(..)
        | S::DurationSecond(..) => Some(false),
        _ => None,
    }
}

fn is_real(value: &ScalarValue) -> bool {
    match value {
        ScalarValue::Float16(_) | ScalarValue::Float32(_) | ScalarValue::Float64(_) => true,
        ScalarValue::Decimal128(..) | ScalarValue::Decimal256(..) => true,
        ScalarValue::LargeUtf8(Some(_)) => {
            matches!(scalar_to_json(value), Some(Value::Number(n)) if !n.is_i64() && !n.is_u64())
        }
        _ => false,
    }
}

/// `range(start, stop[, step])`: the array `start, start + step, …` up to `stop` inclusive.
fn range_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    if args.iter().any(ScalarValue::is_null) {
        return Ok(ScalarValue::LargeUtf8(None));
    }
    let mut items = Vec::new();
    if let Some(datetime) = is_time(&args[0]) {
        let (Some(start), Some(stop)) = (scalar_nanos(&args[0]), scalar_nanos(&args[1])) else {
            return Ok(ScalarValue::LargeUtf8(None));
        };
        let step = args.get(2).map_or(Some(NANOS_PER_HOUR), scalar_nanos);
        let Some(step) = step.filter(|s| *s != 0) else {
            return Ok(ScalarValue::LargeUtf8(None));
        };
        let mut current = start;
        while items.len() < RANGE_LIMIT
            && (step > 0 && current <= stop || step < 0 && current >= stop)
        {
            let value = if datetime {
                ScalarValue::TimestampNanosecond(Some(current), None)
            } else {
                ScalarValue::DurationNanosecond(Some(current))
            };
            items.push(scalar_to_json(&value).unwrap_or(Value::Null));
            match current.checked_add(step) {
                Some(next) => current = next,
                None => break,
            }
        }
    } else if args.iter().any(is_real) {
        let (Some(start), Some(stop)) = (scalar_f64(&args[0]), scalar_f64(&args[1])) else {
            return Ok(ScalarValue::LargeUtf8(None));
        };
        let step = args.get(2).map_or(Some(1.0), scalar_f64);
        let Some(step) = step.filter(|s| *s != 0.0 && s.is_finite()) else {
            return Ok(ScalarValue::LargeUtf8(None));
        };
        let mut index = 0.0;
        loop {
            let current = start + index * step;
            if items.len() >= RANGE_LIMIT
                || (step > 0.0 && current > stop)
                || (step < 0.0 && current < stop)
            {
                break;
            }
            items.push(serde_json::Number::from_f64(current).map_or(Value::Null, Value::Number));
            index += 1.0;
        }
    } else {
        let (Some(start), Some(stop)) = (scalar_i64(&args[0]), scalar_i64(&args[1])) else {
            return Ok(ScalarValue::LargeUtf8(None));
        };
        let step = args.get(2).map_or(Some(1), scalar_i64);
        let Some(step) = step.filter(|s| *s != 0) else {
            return Ok(ScalarValue::LargeUtf8(None));
        };
        let mut current = start;
        while items.len() < RANGE_LIMIT
            && (step > 0 && current <= stop || step < 0 && current >= stop)
        {
            items.push(Value::from(current));
            match current.checked_add(step) {
                Some(next) => current = next,
                None => break,
            }
        }
    }
    Ok(json_scalar(Some(Value::Array(items))))
}

// ---------------------------------------------------------------------------------------------
// Bags and arrays
// ---------------------------------------------------------------------------------------------

/// `bag_zip(keys, values)`: string keys paired with the values at the same position (null when
/// the values run out or are not an array); non-string keys are skipped.
fn bag_zip_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(keys) = arg_array(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let values = arg_array(args, 1).unwrap_or_default();
    let mut bag = Map::new();
    for (index, key) in keys.into_iter().enumerate() {
        if let Value::String(key) = key {
            let value = values.get(index).cloned().unwrap_or(Value::Null);
            bag.insert(key, value);
        }
    }
    Ok(json_scalar(Some(Value::Object(bag))))
}

/// The keys of a `bag_set_key` path: a plain key, or `$.a.b` / `$['a']['b']`.
fn key_path(path: &str) -> Option<Vec<String>> {
    let path = path.trim();
    let Some(mut rest) = path.strip_prefix('$') else {
        return (!path.is_empty()).then(|| vec![path.to_string()]);
    };
    let mut keys = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            if end == 0 {
                return None;
            }
            keys.push(after[..end].to_string());
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']')?;
            let inner = after[..close].trim();
            let key = inner
                .strip_prefix('\'')
                .and_then(|s| s.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))?;
            keys.push(key.to_string());
            rest = &after[close + 1..];
        } else {
            return None;
        }
    }
    (!keys.is_empty()).then_some(keys)
}

fn set_path(bag: &mut Map<String, Value>, keys: &[String], value: Value) {
    match keys {
        [] => {}
        [last] => {
            bag.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = bag
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
    }
}

/// `bag_set_key(bag, key, value)`: the bag with `key` (a key or a JSONPath of keys) set.
fn bag_set_key_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(Value::Object(mut bag)) = arg_json(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let Some(keys) = arg_string(args, 1).and_then(|p| key_path(&p)) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let value = arg_json(args, 2).unwrap_or(Value::Null);
    // The property is removed and inserted again, so that it comes last.
    remove_leaf(&mut bag, &keys);
    set_path(&mut bag, &keys, value);
    Ok(json_scalar(Some(Value::Object(bag))))
}

fn remove_leaf(bag: &mut Map<String, Value>, keys: &[String]) {
    match keys {
        [] => {}
        [last] => {
            bag.shift_remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Value::Object(inner)) = bag.get_mut(first) {
                remove_leaf(inner, rest);
            }
        }
    }
}

fn tree_paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    let push = |path: String, out: &mut Vec<String>| {
        if !out.contains(&path) {
            out.push(path);
        }
    };
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = format!("{prefix}['{key}']");
                push(path.clone(), out);
                tree_paths(inner, &path, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let path = format!("{prefix}[0]");
            push(path.clone(), out);
            for item in items {
                tree_paths(item, &path, out);
            }
        }
        _ => {}
    }
}

/// `treepath(object)`: the paths of every property, array elements all as `[0]`.
fn treepath_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(value) = arg_json(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let mut out = Vec::new();
    tree_paths(&value, "", &mut out);
    Ok(json_scalar(Some(Value::Array(
        out.into_iter().map(Value::String).collect(),
    ))))
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// `dynamic_to_json(value)`: canonical JSON text, object keys sorted.
fn dynamic_to_json_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let text = match arg_json(args, 0) {
        Some(value) => serde_json::to_string(&sort_keys(value)).unwrap_or_default(),
        None => "null".to_string(),
    };
    Ok(ScalarValue::Utf8(Some(text)))
}

/// Shifts `items` left by `shift` (right when negative), filling with `fill`.
fn shifted(items: &[Value], shift: i64, fill: &Value) -> Vec<Value> {
    let len = items.len() as i64;
    (0..len)
        .map(|i| {
            let source = i + shift;
            if (0..len).contains(&source) {
                items[source as usize].clone()
            } else {
                fill.clone()
            }
        })
        .collect()
}

fn shift_row(args: &[ScalarValue], sign: i64) -> DfResult<ScalarValue> {
    let Some(items) = arg_array(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let Some(shift) = args.get(1).and_then(scalar_i64) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let fill = arg_json(args, 2).unwrap_or(Value::Null);
    Ok(json_scalar(Some(Value::Array(shifted(
        &items,
        shift.saturating_mul(sign),
        &fill,
    )))))
}

fn array_shift_left_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    shift_row(args, 1)
}

fn array_shift_right_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    shift_row(args, -1)
}

fn rotate_row(args: &[ScalarValue], sign: i64) -> DfResult<ScalarValue> {
    let Some(mut items) = arg_array(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let Some(shift) = args.get(1).and_then(scalar_i64) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    if !items.is_empty() {
        let by = (shift.saturating_mul(sign)).rem_euclid(items.len() as i64) as usize;
        items.rotate_left(by);
    }
    Ok(json_scalar(Some(Value::Array(items))))
}

fn array_rotate_left_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    rotate_row(args, 1)
}

fn array_rotate_right_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    rotate_row(args, -1)
}

fn distinct(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.iter().any(|seen| json_eq(seen, &item)) {
            out.push(item);
        }
    }
    out
}

/// `jaccard_index(set1, set2)`: |set1 ∩ set2| / |set1 ∪ set2| over distinct elements.
fn jaccard_index_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let (Some(a), Some(b)) = (arg_array(args, 0), arg_array(args, 1)) else {
        return Ok(ScalarValue::Float64(None));
    };
    let a = distinct(a);
    let b = distinct(b);
    let common = a.iter().filter(|x| b.iter().any(|y| json_eq(x, y))).count();
    let union = a.len() + b.len() - common;
    Ok(ScalarValue::Float64(Some(common as f64 / union as f64)))
}

// ---------------------------------------------------------------------------------------------
// Hashes
// ---------------------------------------------------------------------------------------------

/// The bytes a hash function reads: a string's UTF-8, any other value's Kusto text (a datetime
/// as `yyyy-MM-ddTHH:mm:ss.fffffffZ`).
fn hash_input(value: &ScalarValue) -> Option<Vec<u8>> {
    match value {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Some(s.as_bytes().to_vec()),
        other => match scalar_to_json(other)? {
            Value::String(s) => Some(s.into_bytes()),
            json => Some(json.to_string().into_bytes()),
        },
    }
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn xx_round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

fn xx_merge(acc: u64, value: u64) -> u64 {
    (acc ^ xx_round(0, value)).wrapping_mul(P1).wrapping_add(P4)
}

fn read_u64(data: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&data[at..at + 8]);
    u64::from_le_bytes(bytes)
}

fn read_u32(data: &[u8], at: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&data[at..at + 4]);
    u32::from_le_bytes(bytes)
}

/// XXH64 with seed 0.
fn xxhash64(data: &[u8]) -> u64 {
    let len = data.len();
    let mut i = 0;
    let mut h = if len >= 32 {
        let mut v = [P1.wrapping_add(P2), P2, 0, 0u64.wrapping_sub(P1)];
        while i + 32 <= len {
            for (lane, acc) in v.iter_mut().enumerate() {
                *acc = xx_round(*acc, read_u64(data, i + 8 * lane));
            }
            i += 32;
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for acc in v {
            h = xx_merge(h, acc);
        }
        h
    } else {
        P5
    };
    h = h.wrapping_add(len as u64);
    while i + 8 <= len {
        h ^= xx_round(0, read_u64(data, i));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= len {
        h ^= u64::from(read_u32(data, i)).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < len {
        h ^= u64::from(data[i]).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^= h >> 32;
    h
}

/// A 64-bit key for counting the distinct values of a string expression: XXH64 of its text
/// (null stays null). A summarize with `dcount`s of several different string columns runs on
/// DataFusion's per-group hash sets of strings, fed row by row and several times slower than
/// its vectorised distinct count of integers, which counts these keys instead. Two values of a
/// group sharing a key (odds about n²/2⁶⁵ for n values) would count once; Kusto's own `dcount`
/// is an estimate with about 1% error.
pub(crate) fn distinct_key(value: Expr) -> Expr {
    udf_call(
        "dcount_key",
        DataType::UInt64,
        0,
        k_distinct_key,
        vec![value],
    )
}

fn k_distinct_key(batch: &Batch, _: &KqlUdf) -> DfResult<ArrayRef> {
    fn keys<'a>(values: impl Iterator<Item = Option<&'a str>>) -> UInt64Array {
        values.map(|v| v.map(|s| xxhash64(s.as_bytes()))).collect()
    }
    let array = &batch.cols[0].array;
    let keyed = match array.data_type() {
        DataType::Utf8 => keys(array.as_string::<i32>().iter()),
        DataType::LargeUtf8 => keys(array.as_string::<i64>().iter()),
        DataType::Utf8View => keys(array.as_string_view().iter()),
        other => {
            return Err(DataFusionError::Internal(format!(
                "dcount_key of a {other} value"
            )))
        }
    };
    Ok(Arc::new(keyed))
}

/// Ticks (100 ns) between 0001-01-01 and the Unix epoch.
const EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// The bytes `hash()` reads: datetimes and timespans as little-endian .NET ticks, numbers as
/// their little-endian bytes, anything else as for [`hash_input`].
fn hash_bytes(value: &ScalarValue) -> Option<Vec<u8>> {
    use ScalarValue as S;
    match value {
        S::TimestampNanosecond(..)
        | S::TimestampMicrosecond(..)
        | S::TimestampMillisecond(..)
        | S::TimestampSecond(..) => {
            let ticks = scalar_nanos(value)?.div_euclid(100) + EPOCH_TICKS;
            Some(ticks.to_le_bytes().to_vec())
        }
        S::DurationNanosecond(..)
        | S::DurationMicrosecond(..)
        | S::DurationMillisecond(..)
        | S::DurationSecond(..) => {
            Some(scalar_nanos(value)?.div_euclid(100).to_le_bytes().to_vec())
        }
        S::Int32(v) => v.map(|v| v.to_le_bytes().to_vec()),
        S::Int64(v) => v.map(|v| v.to_le_bytes().to_vec()),
        S::Float64(v) => v.map(|v| v.to_le_bytes().to_vec()),
        other => hash_input(other),
    }
}

/// `hash(value[, mod])`: XXH64 of the value, modulo `mod` when given.
fn hash_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(bytes) = hash_bytes(&args[0]) else {
        return Ok(ScalarValue::Int64(None));
    };
    let h = xxhash64(&bytes);
    Ok(ScalarValue::Int64(match args.get(1) {
        None => Some(h as i64),
        Some(m) => match scalar_i64(m) {
            Some(m) if m > 0 => Some((h % m as u64) as i64),
            _ => None,
        },
    }))
}

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for chunk in message.chunks(64) {
        let mut w = [0u32; 80];
        for (t, word) in chunk.chunks(4).enumerate() {
            w[t] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for t in 16..80 {
            w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (t, word) in w.iter().enumerate() {
            let (f, k) = match t {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let temp = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = temp;
        }
        for (slot, value) in h.iter_mut().zip([a, b, c, d, e]) {
            *slot = slot.wrapping_add(value);
        }
    }
    let mut out = [0u8; 20];
    for (i, word) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn hash_sha1_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(string_result(hash_input(&args[0]).map(|bytes| {
        sha1(&bytes).iter().map(|b| format!("{b:02x}")).collect()
    })))
}

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

fn codepoints_from_string_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(json_scalar(arg_string(args, 0).map(|s| {
        Value::Array(s.chars().map(|c| Value::from(u32::from(c))).collect())
    })))
}

/// `unicode_codepoints_to_string(values…)`: code points given as numbers or arrays of numbers.
fn codepoints_to_string_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let mut out = String::new();
    for index in 0..args.len() {
        let points: Vec<Value> = match arg_json(args, index) {
            Some(Value::Array(items)) => items,
            Some(other) => vec![other],
            None => Vec::new(),
        };
        for point in points {
            if let Some(c) = point
                .as_i64()
                .and_then(|p| u32::try_from(p).ok())
                .and_then(char::from_u32)
            {
                out.push(c);
            }
        }
    }
    Ok(ScalarValue::Utf8(Some(out)))
}

fn regex_quote_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(string_result(
        arg_string(args, 0).map(|s| regex::escape(&s)),
    ))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() && text.is_char_boundary(i + 3) => {
                match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `parse_urlquery(query)`: `{"Query Parameters": {key: value, …}}`, values URL-decoded.
fn parse_urlquery_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(query) = arg_string(args, 0) else {
        return Ok(ScalarValue::LargeUtf8(None));
    };
    let query = query.strip_prefix('?').unwrap_or(&query);
    let mut parameters = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        parameters.insert(percent_decode(key), Value::String(percent_decode(value)));
    }
    let mut out = Map::new();
    out.insert("Query Parameters".to_string(), Value::Object(parameters));
    Ok(json_scalar(Some(Value::Object(out))))
}

fn isutf8_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    // Arrow strings are valid UTF-8 by construction.
    Ok(ScalarValue::Boolean(Some(arg_string(args, 0).is_some())))
}

/// `format_bytes(size[, precision[, units[, base]]])`: `564 Bytes`, `10.1 KB`, `19 MB`, …
fn format_bytes_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    const UNITS: [&str; 7] = ["Bytes", "KB", "MB", "GB", "TB", "PB", "EB"];
    let Some(size) = args.first().and_then(scalar_f64) else {
        return Ok(string_result(None));
    };
    let precision = args.get(1).and_then(scalar_i64).unwrap_or(0).clamp(0, 15) as usize;
    let base = match args.get(3).and_then(scalar_i64) {
        Some(10) => 1000.0,
        _ => 1024.0,
    };
    let unit = match arg_string(args, 2).filter(|u| !u.is_empty()) {
        Some(wanted) => match UNITS.iter().position(|u| u.eq_ignore_ascii_case(&wanted)) {
            Some(index) => index,
            None => return Ok(string_result(None)),
        },
        None => {
            let mut index = 0;
            let mut scaled = size.abs();
            while scaled >= base && index + 1 < UNITS.len() {
                scaled /= base;
                index += 1;
            }
            index
        }
    };
    let value = size / f64::powi(base, unit as i32);
    let factor = 10f64.powi(precision as i32);
    let rounded = (value * factor).round() / factor;
    Ok(string_result(Some(format!(
        "{rounded:.precision$} {}",
        UNITS[unit]
    ))))
}

// ---------------------------------------------------------------------------------------------
// Math
// ---------------------------------------------------------------------------------------------

/// ln|Γ(x)| by the Lanczos approximation (g = 7, 9 terms), with reflection below 0.5.
pub(super) fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin().abs()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

fn loggamma_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Float64(
        args.first().and_then(scalar_f64).map(ln_gamma),
    ))
}

/// erfc(x) for x ≥ 0 by the continued fraction (large x) or the series of erf (small x),
/// accurate to about 1e-15.
fn erfc_positive(x: f64) -> f64 {
    if x < 2.5 {
        1.0 - erf_series(x)
    } else {
        // Lentz's continued fraction for erfc.
        let mut f = x;
        let mut c = x;
        let mut d = 0.0;
        let tiny = 1e-300;
        for n in 1..300 {
            let a = n as f64 / 2.0;
            d = x + a * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = x + a / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let delta = c * d;
            f *= delta;
            if (delta - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (-x * x).exp() / (f * std::f64::consts::PI.sqrt())
    }
}

/// erf(x) by its Taylor series (x small).
fn erf_series(x: f64) -> f64 {
    let mut sum = x;
    let mut term = x;
    let x2 = x * x;
    for n in 1..200 {
        term *= -x2 / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 * sum.abs() {
            break;
        }
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x.abs() < 2.5 {
        erf_series(x)
    } else if x > 0.0 {
        1.0 - erfc_positive(x)
    } else {
        erfc_positive(-x) - 1.0
    }
}

fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else if x >= 0.0 {
        erfc_positive(x)
    } else {
        2.0 - erfc_positive(-x)
    }
}

fn erf_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Float64(
        args.first().and_then(scalar_f64).map(erf),
    ))
}

fn erfc_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Float64(
        args.first().and_then(scalar_f64).map(erfc),
    ))
}

// ---------------------------------------------------------------------------------------------
// Base64 and GUIDs
// ---------------------------------------------------------------------------------------------

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(super) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = BASE64.iter().position(|&b| b == byte)? as u32;
        acc = (acc << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn base64_encode_fromarray_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let bytes: Option<Vec<u8>> = arg_array(args, 0).and_then(|items| {
        items
            .iter()
            .map(|v| v.as_i64().and_then(|b| u8::try_from(b).ok()))
            .collect()
    });
    Ok(string_result(bytes.map(|b| base64_encode(&b))))
}

/// .NET's GUID byte order: the first three fields little-endian.
fn swap_guid(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[0..4].reverse();
    out[4..6].reverse();
    out[6..8].reverse();
    out
}

fn base64_decode_toguid_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let bytes = arg_string(args, 0)
        .and_then(|s| base64_decode(&s))
        .filter(|b| b.len() == 16);
    Ok(ScalarValue::FixedSizeBinary(
        16,
        bytes.map(|b| swap_guid(&b)),
    ))
}

fn base64_encode_fromguid_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let bytes = match args.first() {
        Some(ScalarValue::FixedSizeBinary(16, Some(bytes))) => Some(swap_guid(bytes)),
        _ => None,
    };
    Ok(string_result(bytes.map(|b| base64_encode(&b))))
}

// ---------------------------------------------------------------------------------------------
// Punycode (RFC 3492)
// ---------------------------------------------------------------------------------------------

const BASE: u32 = 36;
const T_MIN: u32 = 1;
const T_MAX: u32 = 26;
const SKEW: u32 = 38;
const DAMP: u32 = 700;
const INITIAL_BIAS: u32 = 72;
const INITIAL_N: u32 = 128;

fn adapt(delta: u32, points: u32, first: bool) -> u32 {
    let mut delta = if first { delta / DAMP } else { delta / 2 };
    delta += delta / points;
    let mut k = 0;
    while delta > ((BASE - T_MIN) * T_MAX) / 2 {
        delta /= BASE - T_MIN;
        k += BASE;
    }
    k + (BASE - T_MIN + 1) * delta / (delta + SKEW)
}

fn digit(d: u32) -> char {
    (if d < 26 {
        b'a' + d as u8
    } else {
        b'0' + (d - 26) as u8
    }) as char
}

fn punycode_encode(input: &str) -> Option<String> {
    let chars: Vec<u32> = input.chars().map(u32::from).collect();
    let mut out: String = input.chars().filter(char::is_ascii).collect();
    let basic = out.len() as u32;
    let mut handled = basic;
    if basic > 0 {
        out.push('-');
    }
    let (mut n, mut delta, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    while (handled as usize) < chars.len() {
        let m = chars.iter().copied().filter(|&c| c >= n).min()?;
        delta = delta.checked_add((m - n).checked_mul(handled + 1)?)?;
        n = m;
        for &c in &chars {
            if c < n {
                delta = delta.checked_add(1)?;
            }
            if c == n {
                let mut q = delta;
                let mut k = BASE;
                loop {
                    let t = if k <= bias {
                        T_MIN
                    } else if k >= bias + T_MAX {
                        T_MAX
                    } else {
                        k - bias
                    };
                    if q < t {
                        break;
                    }
                    out.push(digit(t + (q - t) % (BASE - t)));
                    q = (q - t) / (BASE - t);
                    k += BASE;
                }
                out.push(digit(q));
                bias = adapt(delta, handled + 1, handled == basic);
                delta = 0;
                handled += 1;
            }
        }
        delta += 1;
        n += 1;
    }
    Some(out)
}

fn punycode_decode(input: &str) -> Option<String> {
    let (basic, rest) = match input.rfind('-') {
        Some(index) => (&input[..index], &input[index + 1..]),
        None => ("", input),
    };
    if !basic.is_ascii() {
        return None;
    }
    let mut out: Vec<char> = basic.chars().collect();
    let (mut n, mut i, mut bias) = (INITIAL_N, 0u32, INITIAL_BIAS);
    let mut bytes = rest.bytes().peekable();
    while bytes.peek().is_some() {
        let old_i = i;
        let mut w = 1u32;
        let mut k = BASE;
        loop {
            let byte = bytes.next()?;
            let d = match byte {
                b'a'..=b'z' => u32::from(byte - b'a'),
                b'A'..=b'Z' => u32::from(byte - b'A'),
                b'0'..=b'9' => u32::from(byte - b'0') + 26,
                _ => return None,
            };
            i = i.checked_add(d.checked_mul(w)?)?;
            let t = if k <= bias {
                T_MIN
            } else if k >= bias + T_MAX {
                T_MAX
            } else {
                k - bias
            };
            if d < t {
                break;
            }
            w = w.checked_mul(BASE - t)?;
            k += BASE;
        }
        let len = out.len() as u32 + 1;
        bias = adapt(i - old_i, len, old_i == 0);
        n = n.checked_add(i / len)?;
        i %= len;
        out.insert(i as usize, char::from_u32(n)?);
        i += 1;
    }
    Some(out.into_iter().collect())
}

fn punycode_from_string_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(string_result(
        arg_string(args, 0).and_then(|s| punycode_encode(&s)),
    ))
}

fn punycode_to_string_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(string_result(
        arg_string(args, 0).and_then(|s| punycode_decode(&s)),
    ))
}

/// The labels of a domain: separated by `.` or the ideographic and half-width full stops.
fn labels(domain: &str) -> Vec<&str> {
    domain
        .split(['.', '\u{3002}', '\u{ff0e}', '\u{ff61}'])
        .collect()
}

fn punycode_domain_from_string_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let decoded = arg_string(args, 0).and_then(|domain| {
        labels(&domain)
            .into_iter()
            .map(|label| match label.strip_prefix("xn--") {
                Some(encoded) => punycode_decode(encoded),
                None => Some(label.to_string()),
            })
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join("."))
    });
    Ok(string_result(decoded))
}

fn punycode_domain_to_string_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let encoded = arg_string(args, 0).and_then(|domain| {
        labels(&domain)
            .into_iter()
            .map(|label| {
                if label.is_ascii() {
                    Some(label.to_string())
                } else {
                    punycode_encode(label).map(|e| format!("xn--{e}"))
                }
            })
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join("."))
    });
    Ok(string_result(encoded))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::strings::tests::{arg, ctx, eval_scalar};
    use datafusion::logical_expr::lit;

    fn s(text: &str) -> PlannedArg {
        arg(lit(text), DataType::Utf8)
    }

    fn n(value: i64) -> PlannedArg {
        arg(lit(value), DataType::Int64)
    }

    fn d(json: &str) -> PlannedArg {
        arg(
            Expr::Literal(ScalarValue::LargeUtf8(Some(json.to_string())), None),
            DataType::LargeUtf8,
        )
    }

    async fn call(name: &str, args: Vec<PlannedArg>) -> ScalarValue {
        eval_scalar(plan(name, &args, &ctx()).unwrap().unwrap()).await
    }

    fn dynv(text: &str) -> ScalarValue {
        ScalarValue::LargeUtf8(Some(text.to_string()))
    }

    fn text(value: &str) -> ScalarValue {
        ScalarValue::Utf8(Some(value.to_string()))
    }

    #[tokio::test]
    async fn ranges() {
        assert_eq!(call("range", vec![n(1), n(3)]).await, dynv("[1,2,3]"));
        assert_eq!(
            call("range", vec![n(5), n(1), n(-2)]).await,
            dynv("[5,3,1]")
        );
        assert_eq!(
            call("range", vec![arg(lit(1.0), DataType::Float64), n(3)]).await,
            dynv("[1.0,2.0,3.0]")
        );
        let hour = 3_600_000_000_000i64;
        let span = |v: i64| {
            arg(
                lit(ScalarValue::DurationNanosecond(Some(v))),
                DataType::Null,
            )
        };
        assert_eq!(
            call("range", vec![span(hour), span(3 * hour)]).await,
            dynv(r#"["01:00:00","02:00:00","03:00:00"]"#)
        );
    }

    #[tokio::test]
    async fn bags_and_arrays() {
        assert_eq!(
            call("bag_zip", vec![d(r#"["a",8,"b"]"#), d("[1]")]).await,
            dynv(r#"{"a":1,"b":null}"#)
        );
        assert_eq!(
            call("bag_zip", vec![d(r#""a""#), d("[1]")]).await,
            ScalarValue::LargeUtf8(None)
        );
        assert_eq!(
            call("bag_set_key", vec![d(r#"{"k":1}"#), s("$.a.b"), n(2)]).await,
            dynv(r#"{"k":1,"a":{"b":2}}"#)
        );
        assert_eq!(
            call("treepath", vec![d(r#"{"p":[1,{"x":"y"}],"q":2}"#)]).await,
            dynv(r#"["['p']","['p'][0]","['p'][0]['x']","['q']"]"#)
        );
        assert_eq!(
            call("dynamic_to_json", vec![d(r#"{"b":{"d":1,"c":2},"a":[3]}"#)]).await,
            text(r#"{"a":[3],"b":{"c":2,"d":1}}"#)
        );
        let arr = || d("[1,2,3,4,5]");
        assert_eq!(
            call("array_shift_left", vec![arr(), n(2), n(-1)]).await,
            dynv("[3,4,5,-1,-1]")
        );
        assert_eq!(
            call("array_shift_right", vec![arr(), n(2)]).await,
            dynv("[null,null,1,2,3]")
        );
        assert_eq!(
            call("array_rotate_left", vec![arr(), n(-2)]).await,
            dynv("[4,5,1,2,3]")
        );
        assert_eq!(
            call("array_rotate_right", vec![arr(), n(7)]).await,
            dynv("[4,5,1,2,3]")
        );
        assert_eq!(
            call("jaccard_index", vec![d("[1,2,3,3]"), d("[1,2,3,4]")]).await,
            ScalarValue::Float64(Some(0.75))
        );
    }

    #[tokio::test]
    async fn hashes_and_strings() {
        assert_eq!(
            call("hash", vec![s("World")]).await,
            ScalarValue::Int64(Some(1846988464401551951))
        );
        assert_eq!(
            call("hash_xxhash64", vec![s("World"), n(100)]).await,
            ScalarValue::Int64(Some(51))
        );
        assert_eq!(xxhash64(b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(
            call("hash_sha1", vec![s("World")]).await,
            text("70c07ec18ef89c5309bbb0937f3a6342411e1fdd")
        );
        assert_eq!(
            call("unicode_codepoints_from_string", vec![s("Ku")]).await,
            dynv("[75,117]")
        );
        assert_eq!(
            call("unicode_codepoints_to_string", vec![d("[75,117]"), n(115)]).await,
            text("Kus")
        );
        assert_eq!(
            call("regex_quote", vec![s("(a$.^)")]).await,
            text(r"\(a\$\.\^\)")
        );
        assert_eq!(
            call("parse_urlquery", vec![s("k1=v%201&k2=v2")]).await,
            dynv(r#"{"Query Parameters":{"k1":"v 1","k2":"v2"}}"#)
        );
        assert_eq!(
            call("format_bytes", vec![n(20010332), n(2)]).await,
            text("19.08 MB")
        );
        assert_eq!(call("format_bytes", vec![n(564)]).await, text("564 Bytes"));
        assert_eq!(
            call("base64_encode_fromarray", vec![d("[75,117,115,116,111]")]).await,
            text("S3VzdG8=")
        );
        assert_eq!(
            call("punycode_to_string", vec![s("acadmie-franaise-npb1a")]).await,
            text("académie-française")
        );
        assert_eq!(
            call("punycode_from_string", vec![s("艺术")]).await,
            text("cqv902d")
        );
    }

    #[test]
    fn special_functions() {
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((erf(1.0) - 0.842_700_792_949_714_9).abs() < 1e-15);
        assert!((erfc(3.0) - 2.209_049_699_858_543_8e-5).abs() < 1e-19);
        assert!((erfc(-1.0) - 1.842_700_792_949_715).abs() < 1e-15);
    }

    #[test]
    fn parse_versions() {
        let cases = [
            ("0.0.0.5", Some(5)),
            ("0.0.7.0", Some(700_000_000)),
            ("0.0.3", Some(300_000_000)),
            ("0.2", Some(20_000_000_000_000_000)),
            ("0.1.2.0", Some(10_000_000_200_000_000)),
            ("1.2.3.4", Some(1_000_000_020_000_000_300_000_004)),
            ("1", Some(1_000_000_000_000_000_000_000_000)),
            (
                "99999999.0.0.1",
                Some(99_999_999_000_000_000_000_000_000_000_001),
            ),
            ("1.2.3.4.5", None),
            ("123456789", None),
            ("1..2", None),
            ("", None),
            ("1.a", None),
            ("-1.2", None),
            (" 1.2", None),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_version(text), expected, "{text}");
        }
    }

    #[tokio::test]
    async fn parse_version_is_a_wide_decimal() {
        assert_eq!(
            call("parse_version", vec![s("1.2.3.4")]).await,
            ScalarValue::Decimal128(Some(1_000_000_020_000_000_300_000_004), 38, 0)
        );
        assert_eq!(
            call("parse_version", vec![s("x")]).await,
            ScalarValue::Decimal128(None, 38, 0)
        );
    }

    #[tokio::test]
    async fn asserts() {
        let condition = |expr: Expr| arg(expr, DataType::Boolean);
        assert_eq!(
            call("assert", vec![condition(lit(true)), s("fine")]).await,
            ScalarValue::Boolean(Some(true))
        );
        let error = plan("assert", &[condition(lit(false)), s("len > 0")], &ctx())
            .unwrap()
            .unwrap_err();
        assert!(error.to_string().contains("len > 0"), "{error}");
        let computed = condition(lit(1i64).gt(lit(2i64)));
        assert!(assert_row(&[ScalarValue::Boolean(Some(false)), text("m")]).is_err());
        assert!(plan("assert", &[computed, s("m")], &ctx()).unwrap().is_ok());
        assert!(plan("assert", &[n(1), s("m")], &ctx()).unwrap().is_err());
    }

    #[tokio::test]
    async fn bag_pack_columns_keys_by_column_name() {
        use datafusion::common::Column;
        let column = arg(Expr::Column(Column::from_name("Id")), DataType::Utf8);
        let planned = plan("bag_pack_columns", &[column], &ctx())
            .unwrap()
            .unwrap();
        let text = format!("{planned}");
        assert!(text.contains("Id"), "{text}");
        assert!(plan("bag_pack_columns", &[s("x")], &ctx())
            .unwrap()
            .is_err());
    }
}
