//! Conversions: `tostring`, `toint`, `tolong`, `todouble`/`toreal`, `tobool`, `todatetime`, `totimespan`, `todynamic`/`parse_json`, `toguid`, `todecimal`.
//!
//! Kusto's rules: a failed conversion gives null, never an error; `tostring` never gives null
//! (a missing value is `""`); datetime and timespan convert to and from numbers as 100 ns ticks
//! (datetime ticks count from 0001-01-01).

use super::strings::{udf_call, Batch, KqlUdf};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use crate::types::{DECIMAL_PRECISION, DECIMAL_SCALE};
use crate::values;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Decimal128Builder, DurationNanosecondBuilder,
    FixedSizeBinaryBuilder, Float64Builder, Int32Builder, Int64Builder, LargeStringBuilder,
    StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, DurationNanosecondType, Float64Type, Int32Type, Int64Type, TimeUnit,
    TimestampNanosecondType,
};
use datafusion::common::{DataFusionError, Result as DFResult};
use datafusion::logical_expr::Expr;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::sync::Arc;

/// Ticks (100 ns) from 0001-01-01 to the Unix epoch.
const EPOCH_TICKS: i64 = 621_355_968_000_000_000;

/// Casts with Arrow's rules, failures becoming null.
pub(super) fn cast_safe(array: &ArrayRef, to: &DataType) -> DFResult<ArrayRef> {
    if array.data_type() == to {
        return Ok(Arc::clone(array));
    }
    let options = CastOptions {
        safe: true,
        ..Default::default()
    };
    Ok(cast_with_options(array, to, &options)?)
}

/// One value read from any supported Arrow array, in Kusto's terms.
enum V<'a> {
    Null,
    Bool(bool),
    Long(i64),
    Real(f64),
    Decimal(i128, i8),
    Str(&'a str),
    Dynamic(&'a str),
    DateTime(i64),
    TimeSpan(i64),
    Guid(&'a [u8]),
}

/// Typed access to an input array, built once per batch.
enum Reader {
    Null,
    Bool(datafusion::arrow::array::BooleanArray),
    Int32(datafusion::arrow::array::Int32Array),
    Int64(datafusion::arrow::array::Int64Array),
    Real(datafusion::arrow::array::Float64Array),
    Decimal(datafusion::arrow::array::Decimal128Array, i8),
    Utf8(datafusion::arrow::array::StringArray),
    View(datafusion::arrow::array::StringViewArray),
    Dynamic(datafusion::arrow::array::LargeStringArray),
    DateTime(datafusion::arrow::array::TimestampNanosecondArray),
    TimeSpan(datafusion::arrow::array::DurationNanosecondArray),
    Guid(datafusion::arrow::array::FixedSizeBinaryArray),
}

impl Reader {
    fn new(array: &ArrayRef) -> DFResult<Self> {
        Ok(match array.data_type() {
            DataType::Null => Reader::Null,
            DataType::Boolean => Reader::Bool(array.as_boolean().clone()),
            DataType::Int32 => Reader::Int32(array.as_primitive::<Int32Type>().clone()),
            DataType::Int64 => Reader::Int64(array.as_primitive::<Int64Type>().clone()),
            DataType::Int8
            | DataType::Int16
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => Reader::Int64(
                cast_safe(array, &DataType::Int64)?
                    .as_primitive::<Int64Type>()
                    .clone(),
            ),
            DataType::Float64 => Reader::Real(array.as_primitive::<Float64Type>().clone()),
            DataType::Float16 | DataType::Float32 => Reader::Real(
                cast_safe(array, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone(),
            ),
            DataType::Decimal128(_, scale) => {
                Reader::Decimal(array.as_primitive::<Decimal128Type>().clone(), *scale)
            }
            DataType::Decimal256(..) => {
                let to = DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE);
                Reader::Decimal(
                    cast_safe(array, &to)?
                        .as_primitive::<Decimal128Type>()
                        .clone(),
                    DECIMAL_SCALE,
                )
            }
            DataType::Utf8 => Reader::Utf8(array.as_string::<i32>().clone()),
            DataType::Utf8View => Reader::View(array.as_string_view().clone()),
            DataType::LargeUtf8 => Reader::Dynamic(array.as_string::<i64>().clone()),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                Reader::DateTime(array.as_primitive::<TimestampNanosecondType>().clone())
            }
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
                let to = DataType::Timestamp(TimeUnit::Nanosecond, None);
                Reader::DateTime(
                    cast_safe(array, &to)?
                        .as_primitive::<TimestampNanosecondType>()
                        .clone(),
                )
            }
            DataType::Duration(TimeUnit::Nanosecond) => {
                Reader::TimeSpan(array.as_primitive::<DurationNanosecondType>().clone())
            }
            DataType::Duration(_) => {
                let to = DataType::Duration(TimeUnit::Nanosecond);
                Reader::TimeSpan(
                    cast_safe(array, &to)?
                        .as_primitive::<DurationNanosecondType>()
                        .clone(),
                )
            }
            DataType::FixedSizeBinary(16) => Reader::Guid(array.as_fixed_size_binary().clone()),
            other => {
                return Err(DataFusionError::Execution(format!(
                    "cannot convert values of Arrow type {other}"
                )))
            }
        })
    }

    fn get(&self, i: usize) -> V<'_> {
        macro_rules! read {
            ($array:expr, $wrap:expr) => {
                if $array.is_null(i) {
                    V::Null
                } else {
                    $wrap($array.value(i))
                }
            };
        }
        match self {
            Reader::Null => V::Null,
            Reader::Bool(a) => read!(a, V::Bool),
            Reader::Int32(a) => read!(a, |v: i32| V::Long(i64::from(v))),
            Reader::Int64(a) => read!(a, V::Long),
            Reader::Real(a) => read!(a, V::Real),
            Reader::Decimal(a, scale) => read!(a, |v| V::Decimal(v, *scale)),
            Reader::Utf8(a) => read!(a, V::Str),
            Reader::View(a) => read!(a, V::Str),
            Reader::Dynamic(a) => read!(a, V::Dynamic),
            Reader::DateTime(a) => read!(a, V::DateTime),
            Reader::TimeSpan(a) => read!(a, V::TimeSpan),
            Reader::Guid(a) => read!(a, V::Guid),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Text forms
// ---------------------------------------------------------------------------------------------

/// Kusto's text form of a real: the shortest round-trip digits, `.0` on integral values,
/// exponent form (`1E+20`) for very large and very small magnitudes.
pub(super) fn format_real(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-5..1e15).contains(&magnitude) {
        let text = format!("{value:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let exponent: i32 = exponent.parse().unwrap_or(0);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}E{sign}{:02}", exponent.abs());
    }
    let text = format!("{value}");
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

/// Plain decimal notation of `value / 10^scale`, without trailing zeros.
fn format_decimal(value: i128, scale: i8) -> String {
    if scale <= 0 {
        return (value * 10i128.pow(u32::from(scale.unsigned_abs()))).to_string();
    }
    let negative = value < 0;
    let digits = value.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int_part, frac_part) = padded.split_at(padded.len() - scale);
    let frac_part = frac_part.trim_end_matches('0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(int_part);
    if !frac_part.is_empty() {
        out.push('.');
        out.push_str(frac_part);
    }
    out
}

fn format_guid(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The `tostring` text of a dynamic value's JSON text: a string's content, `None` for null,
/// the JSON text otherwise.
fn dynamic_to_string(text: &str) -> Option<String> {
    dynamic_to_str(text).map(Cow::into_owned)
}

/// `tostring` of a dynamic value's JSON text, borrowed from it whenever no unescaping is needed.
fn dynamic_to_str(text: &str) -> Option<Cow<'_, str>> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "null" {
        return None;
    }
    if let Some(quoted) = trimmed.strip_prefix('"') {
        let plain = quoted
            .strip_suffix('"')
            .filter(|inner| !inner.bytes().any(|b| b == b'\\' || b == b'"' || b < 0x20));
        if let Some(inner) = plain {
            return Some(Cow::Borrowed(inner));
        }
        if let Ok(s) = serde_json::from_str::<String>(trimmed) {
            return Some(Cow::Owned(s));
        }
    }
    Some(Cow::Borrowed(trimmed))
}

fn value_to_string(value: V<'_>) -> Option<String> {
    Some(match value {
        V::Null => return None,
        V::Bool(b) => if b { "True" } else { "False" }.to_string(),
        V::Long(v) => v.to_string(),
        V::Real(v) => format_real(v),
        V::Decimal(v, s) => format_decimal(v, s),
        V::Str(s) => s.to_string(),
        V::Dynamic(text) => return dynamic_to_string(text),
        V::DateTime(n) => values::format_datetime(n, false),
        V::TimeSpan(n) => values::format_timespan(n),
        V::Guid(bytes) => format_guid(bytes),
    })
}

/// Any array as Kusto strings (`tostring`), nulls kept as nulls. String arrays are returned as
/// they are; dynamic values give their `tostring` text.
pub(super) fn to_string_array(array: &ArrayRef) -> DFResult<ArrayRef> {
    if matches!(array.data_type(), DataType::Utf8 | DataType::Utf8View) {
        return Ok(Arc::clone(array));
    }
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 8);
    if let Some(texts) = array.as_string_opt::<i64>() {
        for text in texts.iter() {
            out.append_option(text.and_then(dynamic_to_str));
        }
        return Ok(Arc::new(out.finish()));
    }
    let reader = Reader::new(array)?;
    for i in 0..array.len() {
        out.append_option(value_to_string(reader.get(i)));
    }
    Ok(Arc::new(out.finish()))
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

fn parse_long(text: &str) -> Option<i64> {
    let t = text.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        // Kusto reads hex as the 64 bits of the value (0xFFFFFFFFFFFFFFFF is -1) and has no
        // negative hex.
        if negative {
            return None;
        }
        return u64::from_str_radix(hex, 16).ok().map(|v| v as i64);
    }
    if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if negative {
        format!("-{body}").parse().ok()
    } else {
        body.parse().ok()
    }
}

fn parse_real(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    // Kusto takes `NaN` and `Infinity` in any case but `inf` only in lower case.
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if unsigned.eq_ignore_ascii_case("inf") && unsigned != "inf" {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Parses a decimal number (optionally with an exponent) into a value scaled by 10^18.
fn parse_decimal(text: &str) -> Option<i128> {
    let t = text.trim();
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(p) => (&t[..p], t[p + 1..].parse::<i32>().ok()?),
        None => (t, 0),
    };
    let (negative, body) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut scale = frac_part.len() as i32 - exponent;
    // Bring to scale 18: drop or add digits.
    let target = i32::from(DECIMAL_SCALE);
    if scale > target {
        let drop = (scale - target) as usize;
        if drop >= digits.len() {
            digits = "0".into();
        } else {
            digits.truncate(digits.len() - drop);
        }
        scale = target;
    }
    let digits = digits.trim_start_matches('0');
    let mut value: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    for _ in scale..target {
        value = value.checked_mul(10)?;
    }
    if value >= 10i128.pow(u32::from(DECIMAL_PRECISION)) {
        return None;
    }
    Some(if negative { -value } else { value })
}

fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        parse_long(t).map(|v| v != 0)
    }
}

fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let t = text.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .or_else(|| t.strip_prefix('(').and_then(|r| r.strip_suffix(')')))
        .unwrap_or(t);
    let hex: Vec<u8> = t.bytes().filter(|&b| b != b'-').collect();
    if hex.len() != 32 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; 16];
    for (k, slot) in out.iter_mut().enumerate() {
        let pair = std::str::from_utf8(&hex[2 * k..2 * k + 2]).ok()?;
        *slot = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// A dynamic value's JSON, `None` for null or text that is not JSON.
fn parse_dynamic(text: &str) -> Option<Json> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Null) | Err(_) => None,
        Ok(value) => Some(value),
    }
}

// ---------------------------------------------------------------------------------------------
// Per-value conversions
// ---------------------------------------------------------------------------------------------

/// A real truncated to a long; out-of-range values saturate as Kusto's do, NaN is null.
fn truncate_real(v: f64) -> Option<i64> {
    if v.is_nan() {
        return None;
    }
    // `as` saturates at i64::MIN / i64::MAX.
    Some(v.trunc() as i64)
}

fn decimal_to_real(v: i128, scale: i8) -> f64 {
    v as f64 / 10f64.powi(i32::from(scale))
}

fn json_to_long(json: &Json) -> Option<i64> {
    match json {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(truncate_real)),
        Json::String(s) => parse_long(s),
        Json::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn to_long(value: V<'_>) -> Option<i64> {
    match value {
        V::Null | V::Guid(_) => None,
        V::Bool(b) => Some(i64::from(b)),
        V::Long(v) => Some(v),
        V::Real(v) => truncate_real(v),
        V::Decimal(v, s) => i64::try_from(v / 10i128.pow(u32::from(s.max(0).unsigned_abs()))).ok(),
        V::Str(s) => parse_long(s),
        V::Dynamic(text) => json_to_long(&parse_dynamic(text)?),
        V::DateTime(n) => Some(n.div_euclid(100) + EPOCH_TICKS),
        V::TimeSpan(n) => Some(n / 100),
    }
}

fn to_int(value: V<'_>) -> Option<i32> {
    match value {
        V::Str(s) => i32::try_from(parse_long(s)?).ok(),
        V::Dynamic(text) => match parse_dynamic(text)? {
            Json::String(s) => i32::try_from(parse_long(&s)?).ok(),
            other => json_to_long(&other).map(|v| v as i32),
        },
        V::Real(v) if v.is_nan() => None,
        // A real saturates at the int range; a long or timespan keeps its low 32 bits.
        V::Real(v) => Some(v.trunc() as i32),
        other => to_long(other).map(|v| v as i32),
    }
}

fn to_real(value: V<'_>) -> Option<f64> {
    match value {
        V::Null | V::Guid(_) => None,
        V::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
        V::Long(v) => Some(v as f64),
        V::Real(v) => Some(v),
        V::Decimal(v, s) => Some(decimal_to_real(v, s)),
        V::Str(s) => parse_real(s),
        V::Dynamic(text) => match parse_dynamic(text)? {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => parse_real(&s),
            Json::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            _ => None,
        },
        V::DateTime(n) => Some((n.div_euclid(100) + EPOCH_TICKS) as f64),
        V::TimeSpan(n) => Some((n / 100) as f64),
    }
}

fn to_bool(value: V<'_>) -> Option<bool> {
    match value {
        V::Null | V::Guid(_) | V::DateTime(_) => None,
        V::Bool(b) => Some(b),
        V::Long(v) => Some(v != 0),
        V::Real(v) => Some(v != 0.0),
        V::Decimal(v, _) => Some(v != 0),
        V::Str(s) => parse_bool(s),
        V::TimeSpan(n) => Some(n != 0),
        V::Dynamic(text) => match parse_dynamic(text)? {
            Json::Bool(b) => Some(b),
            Json::Number(n) => n.as_f64().map(|v| v != 0.0),
            Json::String(s) => parse_bool(&s),
            _ => None,
        },
    }
}

fn real_to_decimal(v: f64) -> Option<i128> {
    if !v.is_finite() {
        return None;
    }
    parse_decimal(&format!("{v}"))
}

fn to_decimal(value: V<'_>) -> Option<i128> {
    let unit = 10i128.pow(DECIMAL_SCALE as u32);
    match value {
        V::Null | V::Guid(_) => None,
        V::Bool(b) => Some(if b { unit } else { 0 }),
        V::Long(v) => i128::from(v).checked_mul(unit),
        V::Real(v) => real_to_decimal(v),
        V::Decimal(v, s) => {
            let shift = i32::from(DECIMAL_SCALE) - i32::from(s);
            if shift >= 0 {
                v.checked_mul(10i128.pow(shift as u32))
            } else {
                Some(v / 10i128.pow(shift.unsigned_abs()))
            }
        }
        V::Str(s) => parse_decimal(s),
        V::Dynamic(text) => match parse_dynamic(text)? {
            Json::Number(n) => parse_decimal(&n.to_string()),
            Json::String(s) => parse_decimal(&s),
            Json::Bool(b) => Some(if b { unit } else { 0 }),
            _ => None,
        },
        V::DateTime(n) => i128::from(n.div_euclid(100) + EPOCH_TICKS).checked_mul(unit),
        V::TimeSpan(n) => i128::from(n / 100).checked_mul(unit),
    }
}

fn ticks_to_datetime(ticks: i64) -> Option<i64> {
    ticks.checked_sub(EPOCH_TICKS)?.checked_mul(100)
}

fn to_datetime(value: V<'_>) -> Option<i64> {
    match value {
        V::DateTime(n) => Some(n),
        V::Str(s) => values::parse_datetime(s),
        V::Long(v) => ticks_to_datetime(v),
        V::Real(v) => ticks_to_datetime(truncate_real(v)?),
        V::Decimal(v, s) => ticks_to_datetime(
            i64::try_from(v / 10i128.pow(u32::from(s.max(0).unsigned_abs()))).ok()?,
        ),
        V::Dynamic(text) => match parse_dynamic(text)? {
            Json::String(s) => values::parse_datetime(&s),
            Json::Number(n) => ticks_to_datetime(n.as_i64()?),
            _ => None,
        },
        V::Null | V::Bool(_) | V::TimeSpan(_) | V::Guid(_) => None,
    }
}

fn to_timespan(value: V<'_>) -> Option<i64> {
    match value {
        V::TimeSpan(n) => Some(n),
        V::Str(s) => values::parse_timespan(s),
        V::Long(v) => v.checked_mul(100),
        V::Real(v) => truncate_real(v * 100.0),
        V::Decimal(v, s) => i64::try_from(v / 10i128.pow(u32::from(s.max(0).unsigned_abs())))
            .ok()?
            .checked_mul(100),
        V::Dynamic(text) => match parse_dynamic(text)? {
            Json::String(s) => values::parse_timespan(&s),
            Json::Number(n) => n.as_i64()?.checked_mul(100),
            _ => None,
        },
        V::Null | V::Bool(_) | V::DateTime(_) | V::Guid(_) => None,
    }
}

/// The JSON text of a value as `todynamic` gives it; `None` for null.
fn to_dynamic(value: V<'_>) -> Option<String> {
    Some(match value {
        V::Null => return None,
        V::Bool(b) => b.to_string(),
        V::Long(v) => v.to_string(),
        V::Real(v) => match serde_json::Number::from_f64(v) {
            Some(n) => Json::Number(n).to_string(),
            None => Json::String(format_real(v)).to_string(),
        },
        V::Decimal(v, s) => format_decimal(v, s),
        V::Str(s) => {
            if s.trim().is_empty() {
                return None;
            }
            match serde_json::from_str::<Json>(s) {
                Ok(Json::Null) => return None,
                Ok(json) => json.to_string(),
                Err(_) => Json::String(s.to_string()).to_string(),
            }
        }
        V::Dynamic(text) => text.to_string(),
        V::DateTime(n) => Json::String(values::format_datetime(n, false)).to_string(),
        V::TimeSpan(n) => Json::String(values::format_timespan(n)).to_string(),
        V::Guid(bytes) => Json::String(format_guid(bytes)).to_string(),
    })
}

fn to_guid(value: V<'_>) -> Option<[u8; 16]> {
    match value {
        V::Guid(bytes) => bytes.try_into().ok(),
        V::Str(s) => parse_guid(s),
        V::Dynamic(text) => match parse_dynamic(text)? {
            Json::String(s) => parse_guid(&s),
            _ => None,
        },
        _ => None,
    }
}

/// `tostring` of a text array (string or dynamic) without a `String` per row; `None` for other
/// types.
fn text_to_string(array: &ArrayRef) -> Option<ArrayRef> {
    let n = array.len();
    let mut out = StringBuilder::with_capacity(n, n * 8);
    match array.data_type() {
        DataType::Utf8 if array.null_count() == 0 => return Some(Arc::clone(array)),
        DataType::Utf8 => array
            .as_string::<i32>()
            .iter()
            .for_each(|s| out.append_value(s.unwrap_or(""))),
        DataType::Utf8View => array
            .as_string_view()
            .iter()
            .for_each(|s| out.append_value(s.unwrap_or(""))),
        DataType::LargeUtf8 => array
            .as_string::<i64>()
            .iter()
            .for_each(|s| out.append_value(s.and_then(dynamic_to_str).as_deref().unwrap_or(""))),
        _ => return None,
    }
    Some(Arc::new(out.finish()))
}

/// Converts `array` to `target` with Kusto's rules (failures become null; a string result is
/// never null).
pub(super) fn convert_array(array: &ArrayRef, target: &DataType) -> DFResult<ArrayRef> {
    if target == &DataType::Utf8 {
        if let Some(strings) = text_to_string(array) {
            return Ok(strings);
        }
    }
    let reader = Reader::new(array)?;
    let n = array.len();
    Ok(match target {
        DataType::Utf8 => {
            let mut out = StringBuilder::with_capacity(n, n * 8);
            for i in 0..n {
                out.append_value(value_to_string(reader.get(i)).unwrap_or_default());
            }
            Arc::new(out.finish())
        }
        DataType::Int32 => {
            let mut out = Int32Builder::with_capacity(n);
            for i in 0..n {
                out.append_option(to_int(reader.get(i)));
            }
            Arc::new(out.finish())
        }
        DataType::Int64 => {
            let mut out = Int64Builder::with_capacity(n);
            for i in 0..n {
                out.append_option(to_long(reader.get(i)));
            }
            Arc::new(out.finish())
        }
        DataType::Float64 => {
            let mut out = Float64Builder::with_capacity(n);
            for i in 0..n {
                out.append_option(to_real(reader.get(i)));
            }
            Arc::new(out.finish())
        }
        DataType::Boolean => {
            let mut out = BooleanBuilder::with_capacity(n);
            for i in 0..n {
                out.append_option(to_bool(reader.get(i)));
            }
            Arc::new(out.finish())
        }
        DataType::Decimal128(..) => {
            let mut out = Decimal128Builder::with_capacity(n);
            for i in 0..n {
                out.append_option(to_decimal(reader.get(i)));
            }
            Arc::new(
                out.finish()
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)?,
            )
        }
        DataType::Timestamp(..) => {
            let mut out = TimestampNanosecondBuilder::with_capacity(n);
            for i in 0..n {
                out.append_option(to_datetime(reader.get(i)));
            }
            Arc::new(out.finish())
        }
        DataType::Duration(_) => {
            let mut out = DurationNanosecondBuilder::with_capacity(n);
            for i in 0..n {
                out.append_option(to_timespan(reader.get(i)));
            }
            Arc::new(out.finish())
        }
        DataType::LargeUtf8 => {
            let mut out = LargeStringBuilder::with_capacity(n, n * 8);
            for i in 0..n {
                out.append_option(to_dynamic(reader.get(i)));
            }
            Arc::new(out.finish())
        }
        DataType::FixedSizeBinary(16) => {
            let mut out = FixedSizeBinaryBuilder::with_capacity(n, 16);
            for i in 0..n {
                match to_guid(reader.get(i)) {
                    Some(bytes) => out.append_value(bytes)?,
                    None => out.append_null(),
                }
            }
            Arc::new(out.finish())
        }
        other => {
            return Err(DataFusionError::Execution(format!(
                "no Kusto conversion to Arrow type {other}"
            )))
        }
    })
}

fn k_convert(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    convert_array(&batch.cols[0].array, udf.ret())
}

/// `expr` converted to `target` by Kusto's conversion rules (as `tolong`, `tobool`, … would),
/// for operands the planner aligns, such as a dynamic value compared with a number.
pub(super) fn convert_expr(expr: Expr, target: DataType) -> Expr {
    let name = match &target {
        DataType::Utf8 => "tostring",
        DataType::Int32 => "toint",
        DataType::Int64 => "tolong",
        DataType::Float64 => "todouble",
        DataType::Decimal128(..) => "todecimal",
        DataType::Boolean => "tobool",
        DataType::Timestamp(..) => "todatetime",
        DataType::Duration(..) => "totimespan",
        DataType::FixedSizeBinary(_) => "toguid",
        _ => "todynamic",
    };
    udf_call(name, target, 0, k_convert, vec![expr])
}

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "toreal",
    "todecimal",
    "tobool",
    "toboolean",
    "todatetime",
    "totimespan",
    "totime",
    "todynamic",
    "toobject",
    "parse_json",
    "parsejson",
    "toguid",
    "new_guid",
];

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    if name == "new_guid" {
        // A fresh random (version 4) guid per row: DataFusion's uuid() text, read as a guid.
        return Some(check_arity(name, args, 0, 0, ctx).map(|_| {
            udf_call(
                "toguid",
                DataType::FixedSizeBinary(16),
                0,
                k_convert,
                vec![datafusion::functions::string::expr_fn::uuid()],
            )
        }));
    }
    let target = match name {
        "tostring" => DataType::Utf8,
        "toint" => DataType::Int32,
        "tolong" => DataType::Int64,
        "todouble" | "toreal" => DataType::Float64,
        "todecimal" => DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
        "tobool" | "toboolean" => DataType::Boolean,
        "todatetime" => DataType::Timestamp(TimeUnit::Nanosecond, None),
        "totimespan" | "totime" => DataType::Duration(TimeUnit::Nanosecond),
        "todynamic" | "toobject" | "parse_json" | "parsejson" => DataType::LargeUtf8,
        "toguid" => DataType::FixedSizeBinary(16),
        _ => return None,
    };
    if let Err(e) = check_arity(name, args, 1, 1, ctx) {
        return Some(Err(e));
    }
    let arg = &args[0];
    // Converting to the type a value already has changes nothing (except that a string is never
    // null, which the kernel takes care of).
    if arg.data_type == target && target != DataType::Utf8 {
        return Some(Ok(arg.expr.clone()));
    }
    Some(Ok(udf_call(
        name,
        target,
        0,
        k_convert,
        vec![arg.expr.clone()],
    )))
}

#[cfg(test)]
mod tests {
    use super::super::strings::tests::{arg, ctx, eval_on, string_values, strings};
    use super::*;
    use datafusion::arrow::array::{LargeStringArray, StringArray};
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::{col, lit};

    fn convert(values: ArrayRef, target: &DataType) -> Vec<Option<String>> {
        let out = convert_array(&values, target).unwrap();
        assert_eq!(out.data_type(), target);
        string_values(&to_string_array(&out).unwrap())
    }

    fn s(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_string)).collect()
    }

    fn texts(values: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    #[test]
    fn tostring_forms() {
        assert_eq!(format_real(1.5), "1.5");
        assert_eq!(format_real(1.0), "1.0");
        assert_eq!(format_real(1500.0), "1500.0");
        assert_eq!(format_real(100000000000.0), "100000000000.0");
        assert_eq!(format_real(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_real(1e20), "1E+20");
        assert_eq!(format_real(-2.5e-7), "-2.5E-07");
        assert_eq!(format_real(f64::NAN), "NaN");
        assert_eq!(format_real(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(format_decimal(3_141_590_000_000_000_000, 18), "3.14159");
        assert_eq!(format_decimal(100_000_000_000_000_000_000, 18), "100");
        assert_eq!(format_decimal(-5_000_000_000_000_000, 18), "-0.005");
        let bools: ArrayRef = Arc::new(datafusion::arrow::array::BooleanArray::from(vec![
            Some(true),
            Some(false),
            None,
        ]));
        assert_eq!(
            convert(bools, &DataType::Utf8),
            s(&[Some("True"), Some("False"), Some("")])
        );
        let dynamic: ArrayRef = Arc::new(LargeStringArray::from(vec![
            Some("\"abc\""),
            Some("{\"a\":1}"),
            Some("1.5"),
            Some("true"),
            None,
        ]));
        assert_eq!(
            convert(dynamic, &DataType::Utf8),
            s(&[
                Some("abc"),
                Some("{\"a\":1}"),
                Some("1.5"),
                Some("true"),
                Some("")
            ])
        );
        let guid: ArrayRef = convert_array(
            &texts(&["0123456789ab-cdef-0123-456789abcdef"]),
            &DataType::FixedSizeBinary(16),
        )
        .unwrap();
        assert_eq!(
            convert(guid, &DataType::Utf8),
            s(&[Some("01234567-89ab-cdef-0123-456789abcdef")])
        );
    }

    #[test]
    fn numbers_from_strings() {
        let input = texts(&["42", "0xFF", "12.5", "", "2147483648", "abc", " 7 "]);
        assert_eq!(
            convert(input.clone(), &DataType::Int32),
            s(&[Some("42"), Some("255"), None, None, None, None, Some("7")])
        );
        assert_eq!(
            convert(input.clone(), &DataType::Int64),
            s(&[
                Some("42"),
                Some("255"),
                None,
                None,
                Some("2147483648"),
                None,
                Some("7")
            ])
        );
        let input = texts(&["1.5e3", "-2.5", "abc", "nan", "inf", ""]);
        assert_eq!(
            convert(input, &DataType::Float64),
            s(&[
                Some("1500.0"),
                Some("-2.5"),
                None,
                Some("NaN"),
                Some("Infinity"),
                None
            ])
        );
        let input = texts(&["true", "True", "FALSE", "1", "0", "yes", "", "-1", "1.0"]);
        assert_eq!(
            convert(input, &DataType::Boolean),
            s(&[
                Some("True"),
                Some("True"),
                Some("False"),
                Some("True"),
                Some("False"),
                None,
                None,
                Some("True"),
                None
            ])
        );
        let input = texts(&["3.14159", "abc", "100", "3.14159265358979323846"]);
        assert_eq!(
            convert(input, &DataType::Decimal128(38, 18)),
            s(&[
                Some("3.14159"),
                None,
                Some("100"),
                Some("3.141592653589793238")
            ])
        );
    }

    #[test]
    fn numbers_from_numbers_and_time() {
        let reals: ArrayRef = Arc::new(datafusion::arrow::array::Float64Array::from(vec![
            2.5,
            -2.5,
            9.99,
            -9.99,
            f64::NAN,
        ]));
        assert_eq!(
            convert(reals.clone(), &DataType::Int32),
            s(&[Some("2"), Some("-2"), Some("9"), Some("-9"), None])
        );
        assert_eq!(
            convert(reals, &DataType::Int64),
            s(&[Some("2"), Some("-2"), Some("9"), Some("-9"), None])
        );
        let hour: ArrayRef = Arc::new(datafusion::arrow::array::DurationNanosecondArray::from(
            vec![3_600_000_000_000_i64],
        ));
        assert_eq!(
            convert(hour.clone(), &DataType::Int32),
            s(&[Some("1640261632")])
        );
        assert_eq!(
            convert(hour.clone(), &DataType::Int64),
            s(&[Some("36000000000")])
        );
        assert_eq!(
            convert(hour, &DataType::Float64),
            s(&[Some("36000000000.0")])
        );
        let day = values::parse_datetime("2020-01-01").unwrap();
        let ts: ArrayRef = Arc::new(datafusion::arrow::array::TimestampNanosecondArray::from(
            vec![day],
        ));
        assert_eq!(
            convert(ts.clone(), &DataType::Int64),
            s(&[Some("637134336000000000")])
        );
        assert_eq!(
            convert(ts, &DataType::Utf8),
            s(&[Some("2020-01-01T00:00:00.0000000Z")])
        );
        let ticks: ArrayRef = Arc::new(datafusion::arrow::array::Int64Array::from(vec![
            637_134_336_000_000_000_i64,
        ]));
        assert_eq!(
            convert(ticks, &DataType::Timestamp(TimeUnit::Nanosecond, None)),
            s(&[Some("2020-01-01T00:00:00.0000000Z")])
        );
        let input = texts(&["1.02:03:04", "01:00:00", "abc", "1d"]);
        assert_eq!(
            convert(input, &DataType::Duration(TimeUnit::Nanosecond)),
            s(&[
                Some("1.02:03:04"),
                Some("01:00:00"),
                None,
                Some("1.00:00:00")
            ])
        );
        let input = texts(&["2020-01-01", "2020-13-01", "not-a-date"]);
        assert_eq!(
            convert(input, &DataType::Timestamp(TimeUnit::Nanosecond, None)),
            s(&[Some("2020-01-01T00:00:00.0000000Z"), None, None])
        );
    }

    #[test]
    fn dynamic_conversions() {
        let dynamic: ArrayRef = Arc::new(LargeStringArray::from(vec![
            Some("1"),
            Some("1.5"),
            Some("\"3\""),
            Some("true"),
            None,
            Some("[1,2]"),
        ]));
        assert_eq!(
            convert(dynamic.clone(), &DataType::Int32),
            s(&[Some("1"), Some("1"), Some("3"), Some("1"), None, None])
        );
        assert_eq!(
            convert(dynamic.clone(), &DataType::Float64),
            s(&[
                Some("1.0"),
                Some("1.5"),
                Some("3.0"),
                Some("1.0"),
                None,
                None
            ])
        );
        assert_eq!(
            convert(dynamic, &DataType::Boolean),
            s(&[
                Some("True"),
                Some("True"),
                Some("True"),
                Some("True"),
                None,
                None
            ])
        );
        let input = texts(&[
            "null",
            "[]",
            "{}",
            "",
            "not json",
            "{\"a\": 1, \"b\":[1, 2.0]}",
            "123",
        ]);
        let out = convert_array(&input, &DataType::LargeUtf8).unwrap();
        let out = out.as_string::<i64>();
        let got: Vec<Option<&str>> = out.iter().collect();
        assert_eq!(
            got,
            vec![
                None,
                Some("[]"),
                Some("{}"),
                None,
                Some("\"not json\""),
                Some("{\"a\":1,\"b\":[1,2.0]}"),
                Some("123")
            ]
        );
    }

    #[tokio::test]
    async fn planned_calls() {
        let planned = plan("tostring", &[arg(col("s"), DataType::Utf8)], &ctx())
            .unwrap()
            .unwrap();
        let got = string_values(&eval_on(strings(&[Some("a"), None]), planned).await);
        assert_eq!(got, s(&[Some("a"), Some("")]));
        let planned = plan("toint", &[arg(col("s"), DataType::Utf8)], &ctx())
            .unwrap()
            .unwrap();
        let out = eval_on(strings(&[Some("12"), Some("x")]), planned).await;
        assert_eq!(out.data_type(), &DataType::Int32);
        assert_eq!(string_values(&out), s(&[Some("12"), None]));
        // Scalars stay scalars.
        let planned = plan("tostring", &[arg(lit(1.0_f64), DataType::Float64)], &ctx())
            .unwrap()
            .unwrap();
        let got = string_values(&eval_on(strings(&[Some("a"), Some("b")]), planned).await);
        assert_eq!(got, s(&[Some("1.0"), Some("1.0")]));
        let null_long = Expr::Literal(ScalarValue::Int64(None), None);
        let planned = plan("tostring", &[arg(null_long, DataType::Int64)], &ctx())
            .unwrap()
            .unwrap();
        let got = string_values(&eval_on(strings(&[Some("a")]), planned).await);
        assert_eq!(got, s(&[Some("")]));
        assert!(plan("tostring", &[], &ctx()).unwrap().is_err());
    }
}
