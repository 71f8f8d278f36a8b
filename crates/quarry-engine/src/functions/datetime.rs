//! Datetime functions: `now`, `ago`, `bin`, `datetime_add`, `datetime_diff`, `startof*`/`endof*`, parts, formatting.
//!
//! `bin` of a datetime rounds down to a multiple of the bin size counted from 0001-01-01 (Kusto's
//! tick origin), which differs from the Unix epoch for sizes that do not divide 1969 years.
//!
//! Datetimes are nanoseconds since the Unix epoch (UTC) and timespans nanoseconds; Kusto's
//! resolution is the 100 ns tick. `now()` is the query's pinned instant ([`CallContext::now_nanos`]),
//! never the wall clock.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::functions::expr_fn::floor;
use datafusion::logical_expr::{cast, lit, Expr};

use super::conversions::cast_safe;
use super::dynamic::{
    literal_str, row_call, scalar_f64, scalar_i64, scalar_nanos, scalar_str, RowFn,
};
use super::strings::{udf_call, Batch, KqlUdf};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use crate::error::EngineError;
use crate::types::{kusto_type, NANOS_PER_TICK};
use crate::values::{parse_datetime, NANOS_PER_DAY};
use datafusion::arrow::array::{new_null_array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::datatypes::Int64Type;
use std::sync::Arc;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;
const TICKS_PER_SECOND: i64 = NANOS_PER_SECOND / NANOS_PER_TICK;
/// 0001-01-01T00:00:00Z, where Kusto's ticks start: datetime bins are aligned to it.
const KUSTO_EPOCH_NANOS: i128 = -719_162 * NANOS_PER_DAY as i128;

fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, None)
}

fn duration_type() -> DataType {
    DataType::Duration(TimeUnit::Nanosecond)
}

fn ts(value: Option<i64>) -> ScalarValue {
    ScalarValue::TimestampNanosecond(value, None)
}

fn long(value: Option<i64>) -> ScalarValue {
    ScalarValue::Int64(value)
}

/// A datetime argument: a timestamp, or text Kusto would parse as one.
fn dt_arg(args: &[ScalarValue], index: usize) -> Option<i64> {
    let value = args.get(index)?;
    match scalar_str(value) {
        Some(text) => {
            let text = serde_json::from_str::<String>(text).unwrap_or_else(|_| text.to_string());
            parse_datetime(&text)
        }
        None => scalar_nanos(value),
    }
}

fn int_arg(args: &[ScalarValue], index: usize) -> Option<i64> {
    args.get(index).and_then(scalar_i64)
}

fn naive(nanos: i64) -> Option<NaiveDateTime> {
    let seconds = nanos.div_euclid(NANOS_PER_SECOND);
    let sub = nanos.rem_euclid(NANOS_PER_SECOND) as u32;
    DateTime::from_timestamp(seconds, sub).map(|instant| instant.naive_utc())
}

fn nanos_of(value: NaiveDateTime) -> Option<i64> {
    value.and_utc().timestamp_nanos_opt()
}

fn date_nanos(date: NaiveDate) -> Option<i64> {
    nanos_of(date.and_hms_opt(0, 0, 0)?)
}

/// Floor division (rounds towards negative infinity); `None` for a zero divisor.
fn floor_div(value: i64, size: i64) -> Option<i64> {
    if size == 0 {
        return None;
    }
    let quotient = value / size;
    if (value % size != 0) && ((value < 0) != (size < 0)) {
        Some(quotient - 1)
    } else {
        Some(quotient)
    }
}

fn add_months(nanos: i64, months: i64) -> Option<i64> {
    let value = naive(nanos)?;
    let count = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    let moved = if months >= 0 {
        value.checked_add_months(count)?
    } else {
        value.checked_sub_months(count)?
    };
    nanos_of(moved)
}

// ---------------------------------------------------------------------------------------------
// bin / bin_at
// ---------------------------------------------------------------------------------------------

fn is_integer(value: &ScalarValue) -> bool {
    value.data_type().is_integer()
}

/// `fixed + floor((value - fixed) / size) * size`, in the type of `value`.
fn bin_value(value: &ScalarValue, size: &ScalarValue, fixed: Option<&ScalarValue>) -> ScalarValue {
    match value {
        ScalarValue::TimestampNanosecond(..) | ScalarValue::DurationNanosecond(..) => {
            // Datetime bins are aligned to Kusto's tick origin 0001-01-01, timespans to zero.
            let default_origin = match value {
                ScalarValue::TimestampNanosecond(..) => KUSTO_EPOCH_NANOS,
                _ => 0,
            };
            let origin = fixed.map_or(Some(default_origin), |f| scalar_nanos(f).map(i128::from));
            let result = (|| {
                let (v, s, o) = (
                    i128::from(scalar_nanos(value)?),
                    i128::from(scalar_nanos(size)?.checked_abs()?),
                    origin?,
                );
                if s == 0 {
                    return None;
                }
                i64::try_from((v - o).div_euclid(s) * s + o).ok()
            })();
            match value {
                ScalarValue::TimestampNanosecond(..) => ts(result),
                _ => ScalarValue::DurationNanosecond(result),
            }
        }
        _ if is_integer(value) && is_integer(size) && fixed.is_none_or(is_integer) => {
            let result = (|| {
                let (v, s, o) = (
                    scalar_i64(value)?,
                    scalar_i64(size)?.checked_abs()?,
                    fixed.map_or(Some(0), scalar_i64)?,
                );
                floor_div(v.checked_sub(o)?, s)?
                    .checked_mul(s)?
                    .checked_add(o)
            })();
            long(result)
        }
        _ => {
            let result = (|| {
                let (v, s, o) = (
                    scalar_f64(value)?,
                    scalar_f64(size)?.abs(),
                    fixed.map_or(Some(0.0), scalar_f64)?,
                );
                (s != 0.0).then(|| ((v - o) / s).floor() * s + o)
            })();
            ScalarValue::Float64(result)
        }
    }
}

fn bin_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(bin_value(&args[0], &args[1], None))
}

fn bin_at_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(bin_value(&args[0], &args[1], Some(&args[2])))
}

/// The result type of `bin(value, size)`: the value's type, but `real` for a number binned by a
/// fractional size.
fn bin_result_type(value: &DataType, size: &DataType) -> Option<DataType> {
    Some(match value {
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => timestamp_type(),
        DataType::Duration(_) => duration_type(),
        v if v.is_integer() && (size.is_integer() || size == &DataType::Null) => {
            if v == &DataType::Int32
                || matches!(
                    v,
                    DataType::Int8 | DataType::Int16 | DataType::UInt8 | DataType::UInt16
                )
            {
                DataType::Int32
            } else {
                DataType::Int64
            }
        }
        v if v.is_numeric() || v == &DataType::Null || v == &DataType::LargeUtf8 => {
            DataType::Float64
        }
        _ => return None,
    })
}

/// A vectorised `bin` for a constant, non-zero size: integer floor arithmetic on the value's
/// nanoseconds (or integer), or `floor(v / s) * s` for reals. `at` is `bin_at`'s constant
/// alignment point (`None`: Kusto's epoch for datetimes, zero otherwise).
/// `v - pmod(v - origin, size)` for a 64-bit integer `value` and constants `size > 0` and
/// `0 <= origin < size`: one remainder per row (the same expression in DataFusion arithmetic took
/// four checked remainders). A result beyond the 64-bit range is null.
fn floor_to_bins(value: Expr, size: i64, origin: i64) -> Expr {
    udf_call(
        "bin_floor",
        DataType::Int64,
        0,
        k_floor_to_bins,
        vec![value, lit(size), lit(origin)],
    )
}

fn k_floor_to_bins(batch: &Batch, _: &KqlUdf) -> DfResult<ArrayRef> {
    let values = cast_safe(&batch.cols[0].array, &DataType::Int64)?;
    let (Some(size), Some(origin)) = (batch.ints(1)?.get(0), batch.ints(2)?.get(0)) else {
        return Ok(new_null_array(&DataType::Int64, batch.rows));
    };
    let floored: Int64Array = values
        .as_primitive::<Int64Type>()
        .unary_opt(|v| floor_value(v, size, origin));
    Ok(Arc::new(floored))
}

/// The start of the bin of `v` (bins of `size > 0` starting at `origin + k * size`).
fn floor_value(v: i64, size: i64, origin: i64) -> Option<i64> {
    let offset = match v.checked_sub(origin) {
        Some(shifted) => shifted.rem_euclid(size),
        None => (i128::from(v) - i128::from(origin)).rem_euclid(i128::from(size)) as i64,
    };
    v.checked_sub(offset)
}

fn bin_constant(
    value: Expr,
    value_type: &DataType,
    ret: &DataType,
    size: &ScalarValue,
    at: Option<&ScalarValue>,
) -> Option<Expr> {
    match ret {
        DataType::Timestamp(..) | DataType::Duration(_) => {
            if !matches!(
                value_type,
                DataType::Timestamp(TimeUnit::Nanosecond, _)
                    | DataType::Duration(TimeUnit::Nanosecond)
            ) {
                return None;
            }
            let size = scalar_nanos(size)?.checked_abs().filter(|s| *s != 0)?;
            let origin = match (at, ret) {
                (Some(at), _) => i128::from(scalar_nanos(at)?).rem_euclid(i128::from(size)) as i64,
                (None, DataType::Timestamp(..)) => {
                    KUSTO_EPOCH_NANOS.rem_euclid(i128::from(size)) as i64
                }
                (None, _) => 0,
            };
            let nanos = cast(value, DataType::Int64);
            Some(cast(floor_to_bins(nanos, size, origin), ret.clone()))
        }
        DataType::Int32 | DataType::Int64 => {
            let size = scalar_i64(size)?.checked_abs().filter(|s| *s != 0)?;
            let origin = match at {
                Some(at) => scalar_i64(at)?.rem_euclid(size),
                None => 0,
            };
            let int = cast(value, DataType::Int64);
            Some(cast(floor_to_bins(int, size, origin), ret.clone()))
        }
        DataType::Float64 if value_type.is_numeric() => {
            let size = scalar_f64(size)?.abs();
            if size == 0.0 || !size.is_finite() {
                return None;
            }
            let origin = match at {
                Some(at) => scalar_f64(at).filter(|a| a.is_finite())?,
                None => 0.0,
            };
            let value = cast(value, DataType::Float64) - lit(origin);
            Some(floor(value / lit(size)) * lit(size) + lit(origin))
        }
        _ => None,
    }
}

fn plan_bin(name: &str, args: &[PlannedArg], ctx: &CallContext) -> Result<Expr, EngineError> {
    let at = name == "bin_at";
    check_arity(
        name,
        args,
        if at { 3 } else { 2 },
        if at { 3 } else { 2 },
        ctx,
    )?;
    let value_type = &args[0].data_type;
    let size_type = &args[1].data_type;
    let Some(ret) = bin_result_type(value_type, size_type) else {
        return Err(type_error(name, &args[0], "a number, datetime or timespan"));
    };
    if matches!(ret, DataType::Timestamp(..) | DataType::Duration(_))
        && !matches!(size_type, DataType::Duration(_) | DataType::Null)
    {
        return Err(type_error(name, &args[1], "a timespan bin size"));
    }
    if !at {
        if let Expr::Literal(size, _) = &args[1].expr {
            if let Some(expr) = bin_constant(args[0].expr.clone(), value_type, &ret, size, None) {
                return Ok(expr);
            }
        }
        return Ok(row_call(
            name,
            ret,
            bin_row,
            vec![args[0].expr.clone(), args[1].expr.clone()],
        ));
    }
    if let (Expr::Literal(size, _), Expr::Literal(at, _)) = (&args[1].expr, &args[2].expr) {
        let value = args[0].expr.clone();
        let constant_type = matches!(
            (&ret, &args[2].data_type),
            (DataType::Timestamp(..), DataType::Timestamp(..))
                | (DataType::Duration(_), DataType::Duration(_))
                | (
                    DataType::Int32 | DataType::Int64,
                    DataType::Int32 | DataType::Int64
                )
                | (DataType::Float64, _)
        );
        if constant_type && !at.is_null() {
            if let Some(expr) = bin_constant(value, value_type, &ret, size, Some(at)) {
                return Ok(expr);
            }
        }
    }
    let exprs = args.iter().map(|a| a.expr.clone()).collect();
    Ok(row_call(name, ret, bin_at_row, exprs))
}

// ---------------------------------------------------------------------------------------------
// Calendar parts
// ---------------------------------------------------------------------------------------------

/// The unit names of `datetime_add` / `datetime_diff`, normalised.
fn unit_name(part: &str) -> Option<&'static str> {
    Some(match part.trim().to_ascii_lowercase().as_str() {
        "year" | "years" => "year",
        "quarter" | "quarters" => "quarter",
        "month" | "months" => "month",
        "week" | "weeks" => "week",
        "day" | "days" => "day",
        "hour" | "hours" => "hour",
        "minute" | "minutes" => "minute",
        "second" | "seconds" => "second",
        "millisecond" | "milliseconds" => "millisecond",
        "microsecond" | "microseconds" => "microsecond",
        "nanosecond" | "nanoseconds" => "nanosecond",
        _ => return None,
    })
}

fn fixed_unit_nanos(unit: &str) -> Option<i64> {
    Some(match unit {
        "week" => 7 * NANOS_PER_DAY,
        "day" => NANOS_PER_DAY,
        "hour" => NANOS_PER_HOUR,
        "minute" => NANOS_PER_MINUTE,
        "second" => NANOS_PER_SECOND,
        "millisecond" => 1_000_000,
        "microsecond" => 1_000,
        "nanosecond" => 1,
        _ => return None,
    })
}

fn datetime_add_value(unit: &str, amount: i64, nanos: i64) -> Option<i64> {
    match unit {
        "year" => add_months(nanos, amount.checked_mul(12)?),
        "quarter" => add_months(nanos, amount.checked_mul(3)?),
        "month" => add_months(nanos, amount),
        other => nanos.checked_add(amount.checked_mul(fixed_unit_nanos(other)?)?),
    }
}

fn datetime_add_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let result = (|| {
        let unit = unit_name(scalar_str(&args[0])?)?;
        datetime_add_value(unit, int_arg(args, 1)?, dt_arg(args, 2)?)
    })();
    Ok(ts(result))
}

fn start_of_week_day(nanos: i64) -> Option<i64> {
    let value = naive(nanos)?;
    let day = nanos.div_euclid(NANOS_PER_DAY);
    Some(day - i64::from(value.weekday().num_days_from_sunday()))
}

fn datetime_diff_value(unit: &str, a: i64, b: i64) -> Option<i64> {
    let months =
        |nanos: i64| naive(nanos).map(|v| i64::from(v.year()) * 12 + i64::from(v.month0()));
    Some(match unit {
        "year" => i64::from(naive(a)?.year()) - i64::from(naive(b)?.year()),
        "quarter" => {
            let quarter = |n: i64| months(n).map(|m| m.div_euclid(12) * 4 + m.rem_euclid(12) / 3);
            quarter(a)? - quarter(b)?
        }
        "month" => months(a)? - months(b)?,
        "week" => (start_of_week_day(a)? - start_of_week_day(b)?) / 7,
        other => {
            let size = fixed_unit_nanos(other)?;
            floor_div(a, size)? - floor_div(b, size)?
        }
    })
}

fn datetime_diff_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let result = (|| {
        let unit = unit_name(scalar_str(&args[0])?)?;
        datetime_diff_value(unit, dt_arg(args, 1)?, dt_arg(args, 2)?)
    })();
    Ok(long(result))
}

/// A part of a datetime as `datetime_part` names it.
fn part_value(part: &str, nanos: i64) -> Option<i64> {
    let value = naive(nanos)?;
    let sub = nanos.rem_euclid(NANOS_PER_SECOND);
    Some(match part.trim().to_ascii_lowercase().as_str() {
        "year" => i64::from(value.year()),
        "quarter" => i64::from(value.month0() / 3 + 1),
        "month" => i64::from(value.month()),
        "week_of_year" | "weekofyear" | "week" => i64::from(value.iso_week().week()),
        "day" => i64::from(value.day()),
        "dayofyear" => i64::from(value.ordinal()),
        "hour" => i64::from(value.hour()),
        "minute" => i64::from(value.minute()),
        "second" => i64::from(value.second()),
        "millisecond" => sub / 1_000_000,
        "microsecond" => sub / 1_000,
        "nanosecond" => sub,
        _ => return None,
    })
}

fn is_part_name(part: &str) -> bool {
    part_value(part, 0).is_some()
}

fn datetime_part_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(long((|| {
        part_value(scalar_str(&args[0])?, dt_arg(args, 1)?)
    })()))
}

macro_rules! part_rows {
    ($($fn_name:ident => $part:literal),* $(,)?) => {
        $(fn $fn_name(args: &[ScalarValue]) -> DfResult<ScalarValue> {
            Ok(long(dt_arg(args, 0).and_then(|n| part_value($part, n))))
        })*
    };
}

part_rows! {
    getyear_row => "year",
    monthofyear_row => "month",
    dayofmonth_row => "day",
    dayofyear_row => "dayofyear",
    hourofday_row => "hour",
    minuteofhour_row => "minute",
    week_of_year_row => "week_of_year",
}

fn dayofweek_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let result = dt_arg(args, 0)
        .and_then(naive)
        .map(|v| i64::from(v.weekday().num_days_from_sunday()) * NANOS_PER_DAY);
    Ok(ScalarValue::DurationNanosecond(result))
}

// ---------------------------------------------------------------------------------------------
// startof* / endof*
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Period {
    Day,
    Week,
    Month,
    Year,
}

fn start_of(period: Period, nanos: i64, offset: i64) -> Option<i64> {
    let value = naive(nanos)?;
    match period {
        Period::Day => nanos
            .div_euclid(NANOS_PER_DAY)
            .checked_add(offset)?
            .checked_mul(NANOS_PER_DAY),
        Period::Week => start_of_week_day(nanos)?
            .checked_add(offset.checked_mul(7)?)?
            .checked_mul(NANOS_PER_DAY),
        Period::Month => add_months(
            date_nanos(NaiveDate::from_ymd_opt(value.year(), value.month(), 1)?)?,
            offset,
        ),
        Period::Year => {
            let year = i32::try_from(i64::from(value.year()).checked_add(offset)?).ok()?;
            date_nanos(NaiveDate::from_ymd_opt(year, 1, 1)?)
        }
    }
}

fn end_of(period: Period, nanos: i64, offset: i64) -> Option<i64> {
    start_of(period, nanos, offset.checked_add(1)?)?.checked_sub(NANOS_PER_TICK)
}

fn period_row(args: &[ScalarValue], period: Period, end: bool) -> DfResult<ScalarValue> {
    let result = (|| {
        let nanos = dt_arg(args, 0)?;
        let offset = if args.len() > 1 { int_arg(args, 1)? } else { 0 };
        if end {
            end_of(period, nanos, offset)
        } else {
            start_of(period, nanos, offset)
        }
    })();
    Ok(ts(result))
}

macro_rules! period_rows {
    ($($fn_name:ident => $period:expr, $end:literal),* $(,)?) => {
        $(fn $fn_name(args: &[ScalarValue]) -> DfResult<ScalarValue> {
            period_row(args, $period, $end)
        })*
    };
}

period_rows! {
    startofday_row => Period::Day, false,
    startofweek_row => Period::Week, false,
    startofmonth_row => Period::Month, false,
    startofyear_row => Period::Year, false,
    endofday_row => Period::Day, true,
    endofweek_row => Period::Week, true,
    endofmonth_row => Period::Month, true,
    endofyear_row => Period::Year, true,
}

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/// Splits a format into runs of one repeated specifier letter (at most `max(letter)` long) and
/// literal characters.
fn format_runs(format: &str, max: fn(char) -> usize) -> Vec<(char, usize)> {
    let chars: Vec<char> = format.chars().collect();
    let mut runs = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let letter = chars[index];
        if letter == '\\' && index + 1 < chars.len() {
            runs.push((chars[index + 1], 0));
            index += 2;
            continue;
        }
        let limit = max(letter);
        if limit == 0 {
            runs.push((letter, 0));
            index += 1;
            continue;
        }
        let mut length = 1;
        while index + length < chars.len() && chars[index + length] == letter && length < limit {
            length += 1;
        }
        runs.push((letter, length));
        index += length;
    }
    runs
}

/// `f`…`fffffff` (`trim` = false) or `F`…`FFFFFFF` (`trim` = true) of a tick fraction.
fn push_fraction(out: &mut String, ticks: i64, digits: usize, trim: bool) {
    let text = format!("{ticks:07}");
    let part = &text[..digits];
    if trim {
        let trimmed = part.trim_end_matches('0');
        if trimmed.is_empty() {
            if out.ends_with('.') {
                out.pop();
            }
        } else {
            out.push_str(trimmed);
        }
    } else {
        out.push_str(part);
    }
}

fn pad(out: &mut String, value: i64, width: usize) {
    out.push_str(&format!("{value:0width$}"));
}

/// `format_datetime` with Kusto's specifiers (`y`…`yyyy`, `M`, `MM`, `d`, `dd`, `h`, `hh`, `H`,
/// `HH`, `m`, `mm`, `s`, `ss`, `f`…, `F`…, `t`, `tt`); other characters are copied.
fn format_datetime_with(nanos: i64, format: &str) -> Option<String> {
    let value = naive(nanos)?;
    let ticks = nanos.rem_euclid(NANOS_PER_SECOND) / NANOS_PER_TICK;
    let max = |c: char| match c {
        'd' | 'M' | 'H' | 'h' | 'm' | 's' | 't' => 2,
        'f' | 'F' => 7,
        'y' => 5,
        _ => 0,
    };
    let mut out = String::new();
    for (letter, length) in format_runs(format, max) {
        if length == 0 {
            out.push(letter);
            continue;
        }
        match letter {
            'y' => match length {
                1 => out.push_str(&(i64::from(value.year()) % 100).to_string()),
                2 => pad(&mut out, i64::from(value.year()) % 100, 2),
                n => pad(&mut out, i64::from(value.year()), n),
            },
            'M' => pad(&mut out, i64::from(value.month()), length),
            'd' => pad(&mut out, i64::from(value.day()), length),
            'H' => pad(&mut out, i64::from(value.hour()), length),
            'h' => {
                let hour = value.hour() % 12;
                pad(
                    &mut out,
                    i64::from(if hour == 0 { 12 } else { hour }),
                    length,
                )
            }
            'm' => pad(&mut out, i64::from(value.minute()), length),
            's' => pad(&mut out, i64::from(value.second()), length),
            'f' => push_fraction(&mut out, ticks, length, false),
            'F' => push_fraction(&mut out, ticks, length, true),
            't' => {
                let marker = if value.hour() < 12 { "AM" } else { "PM" };
                out.push_str(&marker[..length]);
            }
            _ => out.push(letter),
        }
    }
    Some(out)
}

/// `format_timespan` with `d`…`dddddddd`, `h`/`H`, `hh`/`HH`, `m`, `mm`, `s`, `ss`, `f`…, `F`…;
/// a negative span gets a leading `-`.
fn format_timespan_with(nanos: i64, format: &str) -> String {
    let magnitude = i128::from(nanos).unsigned_abs();
    let ticks = (magnitude / NANOS_PER_TICK as u128) as i128;
    let per_day = i128::from(NANOS_PER_DAY / NANOS_PER_TICK);
    let days = ticks / per_day;
    let rest = ticks % per_day;
    let tick_second = i128::from(TICKS_PER_SECOND);
    let hours = rest / (3600 * tick_second);
    let minutes = rest / (60 * tick_second) % 60;
    let seconds = rest / tick_second % 60;
    let fraction = (rest % tick_second) as i64;
    let max = |c: char| match c {
        'd' => 8,
        'h' | 'H' | 'm' | 's' => 2,
        'f' | 'F' => 7,
        _ => 0,
    };
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    for (letter, length) in format_runs(format, max) {
        if length == 0 {
            out.push(letter);
            continue;
        }
        match letter {
            'd' => out.push_str(&format!("{days:0length$}")),
            'h' | 'H' => out.push_str(&format!("{hours:0length$}")),
            'm' => out.push_str(&format!("{minutes:0length$}")),
            's' => out.push_str(&format!("{seconds:0length$}")),
            'f' => push_fraction(&mut out, fraction, length, false),
            'F' => push_fraction(&mut out, fraction, length, true),
            _ => out.push(letter),
        }
    }
    out
}

fn format_datetime_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let text = (|| format_datetime_with(dt_arg(args, 0)?, scalar_str(&args[1])?))();
    Ok(ScalarValue::Utf8(Some(text.unwrap_or_default())))
}

fn format_timespan_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let text = (|| {
        Some(format_timespan_with(
            scalar_nanos(&args[0])?,
            scalar_str(&args[1])?,
        ))
    })();
    Ok(ScalarValue::Utf8(Some(text.unwrap_or_default())))
}

// ---------------------------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------------------------

/// Seconds (possibly fractional) to nanoseconds, rounded to the tick.
fn seconds_nanos(seconds: f64) -> Option<i64> {
    let ticks = (seconds * TICKS_PER_SECOND as f64).round();
    if !ticks.is_finite() || ticks.abs() > (i64::MAX / NANOS_PER_TICK) as f64 {
        return None;
    }
    Some(ticks as i64 * NANOS_PER_TICK)
}

fn make_datetime_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let result = (|| {
        let year = i32::try_from(int_arg(args, 0)?).ok()?;
        let month = u32::try_from(int_arg(args, 1)?).ok()?;
        let day = u32::try_from(int_arg(args, 2)?).ok()?;
        let hour = if args.len() > 3 {
            u32::try_from(int_arg(args, 3)?).ok()?
        } else {
            0
        };
        let minute = if args.len() > 4 {
            u32::try_from(int_arg(args, 4)?).ok()?
        } else {
            0
        };
        let second = if args.len() > 5 {
            args.get(5).and_then(scalar_f64)?
        } else {
            0.0
        };
        if !(0.0..60.0).contains(&second) {
            return None;
        }
        let base = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, 0)?;
        nanos_of(base)?.checked_add(seconds_nanos(second)?)
    })();
    Ok(ts(result))
}

fn make_timespan_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let result = (|| {
        let (days, hours, minutes, seconds) = match args.len() {
            2 => (0, int_arg(args, 0)?, int_arg(args, 1)?, 0.0),
            3 => (
                0,
                int_arg(args, 0)?,
                int_arg(args, 1)?,
                scalar_f64(&args[2])?,
            ),
            _ => (
                int_arg(args, 0)?,
                int_arg(args, 1)?,
                int_arg(args, 2)?,
                scalar_f64(&args[3])?,
            ),
        };
        if days < 0
            || !(0..24).contains(&hours)
            || !(0..60).contains(&minutes)
            || !(0.0..60.0).contains(&seconds)
        {
            return None;
        }
        days.checked_mul(NANOS_PER_DAY)?
            .checked_add(hours * NANOS_PER_HOUR + minutes * NANOS_PER_MINUTE)?
            .checked_add(seconds_nanos(seconds)?)
    })();
    Ok(ScalarValue::DurationNanosecond(result))
}

fn unixtime_value(value: &ScalarValue, nanos_per_unit: i64) -> Option<i64> {
    if value.data_type().is_integer() {
        scalar_i64(value)?.checked_mul(nanos_per_unit)
    } else {
        let units = scalar_f64(value)?;
        seconds_nanos(units * nanos_per_unit as f64 / NANOS_PER_SECOND as f64)
    }
}

macro_rules! unixtime_rows {
    ($($fn_name:ident => $unit:expr),* $(,)?) => {
        $(fn $fn_name(args: &[ScalarValue]) -> DfResult<ScalarValue> {
            Ok(ts(unixtime_value(&args[0], $unit)))
        })*
    };
}

unixtime_rows! {
    unixtime_seconds_row => NANOS_PER_SECOND,
    unixtime_milliseconds_row => 1_000_000,
    unixtime_microseconds_row => 1_000,
    unixtime_nanoseconds_row => 1,
}

fn plus_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ts((|| {
        scalar_nanos(&args[0])?.checked_add(scalar_nanos(&args[1])?)
    })()))
}

fn minus_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ts((|| {
        scalar_nanos(&args[0])?.checked_sub(scalar_nanos(&args[1])?)
    })()))
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "now",
    "ago",
    "bin",
    "bin_at",
    "floor",
    "datetime_add",
    "datetime_diff",
    "datetime_part",
    "startofday",
    "startofweek",
    "startofmonth",
    "startofyear",
    "endofday",
    "endofweek",
    "endofmonth",
    "endofyear",
    "dayofweek",
    "dayofmonth",
    "dayofyear",
    "hourofday",
    "minuteofhour",
    "getyear",
    "getmonth",
    "monthofyear",
    "week_of_year",
    "weekofyear",
    "format_datetime",
    "format_timespan",
    "make_datetime",
    "make_timespan",
    "unixtime_seconds_todatetime",
    "unixtime_milliseconds_todatetime",
    "unixtime_microseconds_todatetime",
    "unixtime_nanoseconds_todatetime",
];

fn type_error(name: &str, arg: &PlannedArg, expected: &str) -> EngineError {
    let found =
        kusto_type(&arg.data_type).map_or_else(|| arg.data_type.to_string(), |t| t.to_string());
    EngineError::bind(
        format!("{name}() expects {expected}, not {found}"),
        arg.span,
    )
}

fn expect_datetime(name: &str, arg: &PlannedArg) -> Result<(), EngineError> {
    match arg.data_type {
        DataType::Timestamp(..)
        | DataType::Date32
        | DataType::Date64
        | DataType::Null
        | DataType::LargeUtf8 => Ok(()),
        _ => Err(type_error(name, arg, "a datetime")),
    }
}

fn expect_timespan(name: &str, arg: &PlannedArg) -> Result<(), EngineError> {
    match arg.data_type {
        DataType::Duration(_) | DataType::Null | DataType::LargeUtf8 => Ok(()),
        _ => Err(type_error(name, arg, "a timespan")),
    }
}

fn expect_number(name: &str, arg: &PlannedArg) -> Result<(), EngineError> {
    match &arg.data_type {
        t if t.is_numeric() || matches!(t, DataType::Null | DataType::LargeUtf8) => Ok(()),
        _ => Err(type_error(name, arg, "a number")),
    }
}

fn now_literal(ctx: &CallContext) -> Expr {
    lit(ts(Some(ctx.now_nanos)))
}

fn exprs(args: &[PlannedArg]) -> Vec<Expr> {
    args.iter().map(|a| a.expr.clone()).collect()
}

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    if !NAMES.contains(&name) {
        return None;
    }
    Some(plan_known(name, args, ctx))
}

fn plan_known(name: &str, args: &[PlannedArg], ctx: &CallContext) -> Result<Expr, EngineError> {
    let single_datetime = |f: RowFn, ret: DataType| -> Result<Expr, EngineError> {
        check_arity(name, args, 1, 1, ctx)?;
        expect_datetime(name, &args[0])?;
        Ok(row_call(name, ret, f, exprs(args)))
    };
    let period = |f: RowFn| -> Result<Expr, EngineError> {
        check_arity(name, args, 1, 2, ctx)?;
        expect_datetime(name, &args[0])?;
        if let Some(offset) = args.get(1) {
            expect_number(name, offset)?;
        }
        Ok(row_call(name, timestamp_type(), f, exprs(args)))
    };
    let unixtime = |f: RowFn| -> Result<Expr, EngineError> {
        check_arity(name, args, 1, 1, ctx)?;
        expect_number(name, &args[0])?;
        Ok(row_call(name, timestamp_type(), f, exprs(args)))
    };
    match name {
        "now" => {
            check_arity(name, args, 0, 1, ctx)?;
            match args.first() {
                None => Ok(now_literal(ctx)),
                Some(offset) => {
                    expect_timespan(name, offset)?;
                    Ok(row_call(
                        "now_plus",
                        timestamp_type(),
                        plus_row,
                        vec![now_literal(ctx), offset.expr.clone()],
                    ))
                }
            }
        }
        "ago" => {
            check_arity(name, args, 1, 1, ctx)?;
            expect_timespan(name, &args[0])?;
            Ok(row_call(
                "ago",
                timestamp_type(),
                minus_row,
                vec![now_literal(ctx), args[0].expr.clone()],
            ))
        }
        "bin" | "floor" => plan_bin("bin", args, ctx),
        "bin_at" => plan_bin("bin_at", args, ctx),
        "datetime_add" => {
            check_arity(name, args, 3, 3, ctx)?;
            check_unit(name, &args[0])?;
            expect_number(name, &args[1])?;
            expect_datetime(name, &args[2])?;
            Ok(row_call(
                name,
                timestamp_type(),
                datetime_add_row,
                exprs(args),
            ))
        }
        "datetime_diff" => {
            check_arity(name, args, 3, 3, ctx)?;
            let unit = check_unit(name, &args[0])?;
            expect_datetime(name, &args[1])?;
            expect_datetime(name, &args[2])?;
            // Kusto returns the week count as a real.
            let ret = if unit == Some("week") {
                DataType::Float64
            } else {
                DataType::Int64
            };
            Ok(row_call(name, ret, datetime_diff_row, exprs(args)))
        }
        "datetime_part" => {
            check_arity(name, args, 2, 2, ctx)?;
            if let Some(part) = literal_str(&args[0].expr) {
                if !is_part_name(part) {
                    return Err(EngineError::bind(
                        format!("datetime_part(): unknown part '{part}'"),
                        args[0].span,
                    ));
                }
            }
            expect_datetime(name, &args[1])?;
            Ok(row_call(
                name,
                DataType::Int64,
                datetime_part_row,
                exprs(args),
            ))
        }
        "startofday" => period(startofday_row),
        "startofweek" => period(startofweek_row),
        "startofmonth" => period(startofmonth_row),
        "startofyear" => period(startofyear_row),
        "endofday" => period(endofday_row),
        "endofweek" => period(endofweek_row),
        "endofmonth" => period(endofmonth_row),
        "endofyear" => period(endofyear_row),
        "dayofweek" => single_datetime(dayofweek_row, duration_type()),
        "dayofmonth" => single_datetime(dayofmonth_row, DataType::Int64),
        "dayofyear" => single_datetime(dayofyear_row, DataType::Int64),
        "hourofday" => single_datetime(hourofday_row, DataType::Int64),
        "minuteofhour" => single_datetime(minuteofhour_row, DataType::Int64),
        "getyear" => single_datetime(getyear_row, DataType::Int64),
        "getmonth" | "monthofyear" => single_datetime(monthofyear_row, DataType::Int64),
        "week_of_year" | "weekofyear" => single_datetime(week_of_year_row, DataType::Int64),
        "format_datetime" => {
            check_arity(name, args, 2, 2, ctx)?;
            expect_datetime(name, &args[0])?;
            Ok(row_call(
                name,
                DataType::Utf8,
                format_datetime_row,
                exprs(args),
            ))
        }
        "format_timespan" => {
            check_arity(name, args, 2, 2, ctx)?;
            expect_timespan(name, &args[0])?;
            Ok(row_call(
                name,
                DataType::Utf8,
                format_timespan_row,
                exprs(args),
            ))
        }
        "make_datetime" => {
            check_arity(name, args, 3, 6, ctx)?;
            for arg in args {
                expect_number(name, arg)?;
            }
            Ok(row_call(
                name,
                timestamp_type(),
                make_datetime_row,
                exprs(args),
            ))
        }
        "make_timespan" => {
            check_arity(name, args, 2, 4, ctx)?;
            for arg in args {
                expect_number(name, arg)?;
            }
            Ok(row_call(
                name,
                duration_type(),
                make_timespan_row,
                exprs(args),
            ))
        }
        "unixtime_seconds_todatetime" => unixtime(unixtime_seconds_row),
        "unixtime_milliseconds_todatetime" => unixtime(unixtime_milliseconds_row),
        "unixtime_microseconds_todatetime" => unixtime(unixtime_microseconds_row),
        "unixtime_nanoseconds_todatetime" => unixtime(unixtime_nanoseconds_row),
        _ => Err(EngineError::unsupported(
            format!("function {name}()"),
            ctx.span,
        )),
    }
}

/// Checks a constant unit name of `datetime_add` / `datetime_diff`; returns it normalised.
fn check_unit(name: &str, arg: &PlannedArg) -> Result<Option<&'static str>, EngineError> {
    match literal_str(&arg.expr) {
        Some(text) => match unit_name(text) {
            Some(unit) => Ok(Some(unit)),
            None => Err(EngineError::bind(
                format!("{name}(): unknown period '{text}'"),
                arg.span,
            )),
        },
        None if matches!(
            arg.data_type,
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
        ) =>
        {
            Ok(None)
        }
        None => Err(type_error(name, arg, "a period name string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::strings::tests::arg;
    use crate::values::{format_datetime, format_timespan, parse_datetime, parse_timespan};
    use datafusion::arrow::array::{ArrayRef, Int64Array, TimestampNanosecondArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::logical_expr::col;
    use datafusion::prelude::SessionContext;
    use quarry_kql::Span;
    use std::sync::Arc;

    const NOW: i64 = 1_700_000_000_000_000_000;

    fn ctx() -> CallContext {
        CallContext {
            now_nanos: NOW,
            span: Span::default(),
        }
    }

    fn dt(text: &str) -> PlannedArg {
        arg(
            lit(ts(Some(parse_datetime(text).unwrap()))),
            timestamp_type(),
        )
    }

    fn span(text: &str) -> PlannedArg {
        arg(
            lit(ScalarValue::DurationNanosecond(Some(
                parse_timespan(text).unwrap(),
            ))),
            duration_type(),
        )
    }

    fn n(value: i64) -> PlannedArg {
        arg(lit(value), DataType::Int64)
    }

    fn i(value: i32) -> PlannedArg {
        arg(lit(value), DataType::Int32)
    }

    fn r(value: f64) -> PlannedArg {
        arg(lit(value), DataType::Float64)
    }

    fn s(text: &str) -> PlannedArg {
        arg(lit(text), DataType::Utf8)
    }

    async fn eval_batch(batch: RecordBatch, expr: Expr) -> Vec<ScalarValue> {
        let session = SessionContext::new();
        let frame = session
            .read_batch(batch)
            .unwrap()
            .select(vec![expr.alias("x")])
            .unwrap();
        let mut out = Vec::new();
        for batch in frame.collect().await.unwrap() {
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

    async fn call(name: &str, args: Vec<PlannedArg>) -> ScalarValue {
        let expr = plan(name, &args, &ctx()).unwrap().unwrap();
        eval_batch(one_row(), expr).await.remove(0)
    }

    /// Renders a result the way the conformance cases write it.
    fn show(value: &ScalarValue) -> String {
        match value {
            v if v.is_null() => "null".into(),
            ScalarValue::TimestampNanosecond(Some(n), _) => format_datetime(*n, true),
            ScalarValue::DurationNanosecond(Some(n)) => format_timespan(*n),
            ScalarValue::Utf8(Some(s)) => s.clone(),
            ScalarValue::Float64(Some(f)) => format!("{f:?}"),
            other => other.to_string(),
        }
    }

    async fn check(cases: Vec<(&str, Vec<PlannedArg>, &str)>) {
        for (name, args, expected) in cases {
            let shown = format!(
                "{name}({:?})",
                args.iter().map(|a| a.expr.to_string()).collect::<Vec<_>>()
            );
            assert_eq!(show(&call(name, args).await), expected, "{shown}");
        }
    }

    #[tokio::test]
    async fn now_and_ago_use_the_pinned_instant() {
        check(vec![
            ("now", vec![], "2023-11-14T22:13:20Z"),
            ("now", vec![span("1d")], "2023-11-15T22:13:20Z"),
            ("ago", vec![span("1h")], "2023-11-14T21:13:20Z"),
        ])
        .await;
    }

    #[tokio::test]
    async fn bin_rounds_down_from_the_epoch() {
        check(vec![
            (
                "bin",
                vec![dt("1970-05-11 13:45:07"), span("1d")],
                "1970-05-11T00:00:00Z",
            ),
            (
                "bin",
                vec![dt("1969-12-31 23:30:00"), span("1h")],
                "1969-12-31T23:00:00Z",
            ),
            (
                "bin",
                vec![dt("1955-11-05"), span("7d")],
                "1955-10-31T00:00:00Z",
            ),
            (
                "bin",
                vec![dt("2007-03-11"), span("30d")],
                "2007-02-14T00:00:00Z",
            ),
            ("bin", vec![span("16d"), span("7d")], "14.00:00:00"),
            ("bin", vec![span("-1h"), span("1d")], "-1.00:00:00"),
            ("bin", vec![n(-1), n(5)], "-5"),
            ("bin", vec![n(7), n(5)], "5"),
            ("bin", vec![r(-0.5), r(1.0)], "-1.0"),
            ("bin", vec![r(-2.5), r(1.5)], "-3.0"),
            ("bin", vec![r(3.25), n(1)], "3.0"),
            ("floor", vec![r(1.5), r(0.5)], "1.5"),
            ("bin_at", vec![r(6.5), r(2.5), n(7)], "4.5"),
            ("bin_at", vec![n(7), n(5), n(1)], "6"),
            ("bin_at", vec![n(-3), n(5), n(1)], "-4"),
            ("bin_at", vec![n(-3), n(5), n(-9)], "-4"),
            (
                "bin_at",
                vec![dt("2017-05-17 10:20:00"), span("7d"), dt("2017-06-04")],
                "2017-05-14T00:00:00Z",
            ),
            (
                "bin_at",
                vec![
                    dt("2023-03-12 07:30:00"),
                    span("90m"),
                    dt("2023-03-12 00:07:00"),
                ],
                "2023-03-12T06:07:00Z",
            ),
            ("bin", vec![n(5), n(0)], "null"),
        ])
        .await;
        // Result types follow the value.
        let int_bin = plan("bin", &[i(7), n(5)], &ctx()).unwrap().unwrap();
        assert_eq!(
            eval_batch(one_row(), int_bin).await[0],
            ScalarValue::Int32(Some(5))
        );
        let real_bin = plan("bin", &[n(7), r(2.5)], &ctx()).unwrap().unwrap();
        assert_eq!(
            eval_batch(one_row(), real_bin).await[0],
            ScalarValue::Float64(Some(5.0))
        );
    }

    #[tokio::test]
    async fn bin_over_a_column_with_nulls_and_pre_epoch_values() {
        let schema = Arc::new(Schema::new(vec![Field::new("t", timestamp_type(), true)]));
        let values = [
            "1969-12-31 23:59:59.999",
            "2020-06-15 13:45:00",
            "1900-01-01 00:00:00.0000001",
        ]
        .map(|t| Some(parse_datetime(t).unwrap()));
        let column = TimestampNanosecondArray::from(vec![values[0], None, values[1], values[2]]);
        let batch = RecordBatch::try_new(schema, vec![Arc::new(column) as ArrayRef]).unwrap();
        let size = lit(ScalarValue::DurationNanosecond(Some(
            parse_timespan("1h").unwrap(),
        )));
        let args = [
            arg(col("t"), timestamp_type()),
            arg(size.clone(), duration_type()),
        ];
        let constant = plan("bin", &args, &ctx()).unwrap().unwrap();
        let expected = vec![
            "1969-12-31T23:00:00Z",
            "null",
            "2020-06-15T13:00:00Z",
            "1900-01-01T00:00:00Z",
        ];
        let shown: Vec<String> = eval_batch(batch.clone(), constant)
            .await
            .iter()
            .map(show)
            .collect();
        assert_eq!(shown, expected);
        // The row-wise path (non-constant size) agrees.
        let rowwise = row_call("bin", timestamp_type(), bin_row, vec![col("t"), size]);
        let shown: Vec<String> = eval_batch(batch, rowwise).await.iter().map(show).collect();
        assert_eq!(shown, expected);

        // Week bins start on Mondays (aligned to 0001-01-01), also for dates far from 1970.
        let schema = Arc::new(Schema::new(vec![Field::new("t", timestamp_type(), true)]));
        let values = ["1955-11-05", "2007-03-09", "2250-06-15 12:00"]
            .map(|t| Some(parse_datetime(t).unwrap()));
        let column = TimestampNanosecondArray::from(values.to_vec());
        let batch = RecordBatch::try_new(schema, vec![Arc::new(column) as ArrayRef]).unwrap();
        let week = lit(ScalarValue::DurationNanosecond(Some(7 * NANOS_PER_DAY)));
        let expected = vec![
            "1955-10-31T00:00:00Z",
            "2007-03-05T00:00:00Z",
            "2250-06-10T00:00:00Z",
        ];
        let args = [
            arg(col("t"), timestamp_type()),
            arg(week.clone(), duration_type()),
        ];
        let constant = plan("bin", &args, &ctx()).unwrap().unwrap();
        let shown: Vec<String> = eval_batch(batch.clone(), constant)
            .await
            .iter()
            .map(show)
            .collect();
        assert_eq!(shown, expected);
        let rowwise = row_call("bin", timestamp_type(), bin_row, vec![col("t"), week]);
        let shown: Vec<String> = eval_batch(batch, rowwise).await.iter().map(show).collect();
        assert_eq!(shown, expected);
    }

    #[tokio::test]
    async fn calendar_arithmetic() {
        check(vec![
            (
                "datetime_add",
                vec![s("month"), n(1), dt("2020-01-31")],
                "2020-02-29T00:00:00Z",
            ),
            (
                "datetime_add",
                vec![s("month"), n(-1), dt("2020-03-31")],
                "2020-02-29T00:00:00Z",
            ),
            (
                "datetime_add",
                vec![s("quarter"), n(-5), dt("2020-05-31")],
                "2019-02-28T00:00:00Z",
            ),
            (
                "datetime_add",
                vec![s("year"), n(1), dt("2020-02-29")],
                "2021-02-28T00:00:00Z",
            ),
            (
                "datetime_add",
                vec![s("week"), n(-53), dt("2021-03-15 12:00:00")],
                "2020-03-09T12:00:00Z",
            ),
            (
                "datetime_add",
                vec![s("millisecond"), n(1500), dt("2020-01-01")],
                "2020-01-01T00:00:01.5Z",
            ),
            (
                "datetime_diff",
                vec![s("year"), dt("2020-12-31"), dt("2021-01-01")],
                "-1",
            ),
            (
                "datetime_diff",
                vec![s("month"), dt("2020-01-31"), dt("2020-02-01")],
                "-1",
            ),
            (
                "datetime_diff",
                vec![s("quarter"), dt("2024-03-31"), dt("2020-04-01")],
                "15",
            ),
            (
                "datetime_diff",
                vec![s("week"), dt("2021-03-01"), dt("2020-12-31")],
                "9.0",
            ),
            (
                "datetime_diff",
                vec![s("week"), dt("2020-12-31"), dt("2020-01-01")],
                "52.0",
            ),
            (
                "datetime_diff",
                vec![s("day"), dt("2020-01-01 23:00"), dt("2020-01-01 01:00")],
                "0",
            ),
            (
                "datetime_diff",
                vec![s("day"), dt("1970-01-01"), dt("1969-12-25")],
                "7",
            ),
            (
                "datetime_diff",
                vec![
                    s("second"),
                    dt("2020-01-01 00:00:01.9999999"),
                    dt("2020-01-01 00:00:00.0000001"),
                ],
                "1",
            ),
            (
                "datetime_diff",
                vec![
                    s("millisecond"),
                    dt("2020-03-01"),
                    dt("2020-02-29 23:59:59.9999999"),
                ],
                "1",
            ),
            (
                "datetime_diff",
                vec![
                    s("microsecond"),
                    dt("2020-01-01 00:00:00.000002"),
                    dt("2020-01-01 00:00:00.0000005"),
                ],
                "2",
            ),
            (
                "datetime_part",
                vec![s("year"), dt("2030-12-31 23:59:59")],
                "2030",
            ),
            ("datetime_part", vec![s("Quarter"), dt("2030-12-31")], "4"),
        ])
        .await;
        assert!(plan(
            "datetime_add",
            &[s("fortnight"), n(1), dt("2020-01-01")],
            &ctx()
        )
        .unwrap()
        .is_err());
        assert!(plan("datetime_add", &[s("day"), n(1)], &ctx())
            .unwrap()
            .is_err());
    }

    #[tokio::test]
    async fn periods() {
        check(vec![
            (
                "startofday",
                vec![dt("1950-06-15 13:45")],
                "1950-06-15T00:00:00Z",
            ),
            (
                "startofday",
                vec![dt("2020-06-15 13:45"), n(3)],
                "2020-06-18T00:00:00Z",
            ),
            (
                "startofweek",
                vec![dt("2020-06-15 13:45")],
                "2020-06-14T00:00:00Z",
            ),
            (
                "startofweek",
                vec![dt("2020-06-14")],
                "2020-06-14T00:00:00Z",
            ),
            (
                "startofweek",
                vec![dt("1950-06-15 13:45")],
                "1950-06-11T00:00:00Z",
            ),
            (
                "startofweek",
                vec![dt("2020-06-15 13:45"), n(-2)],
                "2020-05-31T00:00:00Z",
            ),
            (
                "startofmonth",
                vec![dt("2020-06-15"), n(-13)],
                "2019-05-01T00:00:00Z",
            ),
            (
                "startofyear",
                vec![dt("2020-06-15"), n(-5)],
                "2015-01-01T00:00:00Z",
            ),
            (
                "endofday",
                vec![dt("2020-06-15 13:45")],
                "2020-06-15T23:59:59.9999999Z",
            ),
            (
                "endofweek",
                vec![dt("2020-06-15 13:45"), n(2)],
                "2020-07-04T23:59:59.9999999Z",
            ),
            (
                "endofmonth",
                vec![dt("2020-01-31"), n(13)],
                "2021-02-28T23:59:59.9999999Z",
            ),
            (
                "endofmonth",
                vec![dt("1900-02-28")],
                "1900-02-28T23:59:59.9999999Z",
            ),
            (
                "endofyear",
                vec![dt("2020-06-15"), n(-1)],
                "2019-12-31T23:59:59.9999999Z",
            ),
        ])
        .await;
    }

    #[tokio::test]
    async fn parts() {
        check(vec![
            ("dayofweek", vec![dt("1947-11-30 10:00:05")], "00:00:00"),
            ("dayofweek", vec![dt("1970-05-11")], "1.00:00:00"),
            ("dayofweek", vec![dt("2020-02-29")], "6.00:00:00"),
            ("dayofmonth", vec![dt("2024-12-31")], "31"),
            ("dayofyear", vec![dt("2020-12-31")], "366"),
            ("hourofday", vec![dt("2020-06-15 23:59:59.9999999")], "23"),
            ("getyear", vec![dt("1950-06-15")], "1950"),
            ("monthofyear", vec![dt("2030-12-31")], "12"),
            ("week_of_year", vec![dt("2015-12-31")], "53"),
            ("week_of_year", vec![dt("2016-01-01")], "53"),
            ("week_of_year", vec![dt("2018-12-31")], "1"),
            ("week_of_year", vec![dt("2021-12-26")], "51"),
            ("week_of_year", vec![dt("2000-01-01")], "52"),
        ])
        .await;
        // dayofweek is a timespan, not a number.
        let expr = plan("dayofweek", &[dt("2020-01-01")], &ctx())
            .unwrap()
            .unwrap();
        assert_eq!(
            eval_batch(one_row(), expr).await[0],
            ScalarValue::DurationNanosecond(Some(3 * NANOS_PER_DAY))
        );
        assert!(plan("dayofweek", &[n(1)], &ctx()).unwrap().is_err());
    }

    #[tokio::test]
    async fn formatting() {
        check(vec![
            (
                "format_datetime",
                vec![dt("2017-01-29 09:00:05"), s("yy-MM-dd [HH:mm:ss]")],
                "17-01-29 [09:00:05]",
            ),
            (
                "format_datetime",
                vec![dt("2017-01-29 09:00:05"), s("yyyy-M-dd [H:mm:ss]")],
                "2017-1-29 [9:00:05]",
            ),
            ("format_datetime", vec![dt("2020-01-05"), s("dddd")], "0505"),
            ("format_datetime", vec![dt("2020-01-05"), s("MMM")], "011"),
            (
                "format_datetime",
                vec![dt("2020-06-15 09:05:03.007"), s("M/d/yy H:m:s")],
                "6/15/20 9:5:3",
            ),
            (
                "format_datetime",
                vec![dt("2020-06-15 09:05:03.007"), s("MM/dd/yyyy HH:mm:ss.fff")],
                "06/15/2020 09:05:03.007",
            ),
            (
                "format_datetime",
                vec![dt("2020-06-15 13:45:09.0000007"), s("FFFFFFF")],
                "0000007",
            ),
            (
                "format_datetime",
                vec![dt("2020-06-15 13:45:09"), s("ss.FFF")],
                "09",
            ),
            (
                "format_datetime",
                vec![dt("2020-06-15 13:45:09"), s("y")],
                "20",
            ),
            (
                "format_datetime",
                vec![dt("2007-03-09 05:04:03.5"), s("s.f")],
                "3.5",
            ),
            (
                "format_datetime",
                vec![dt("2007-03-09 17:04:03"), s("h tt")],
                "5 PM",
            ),
            (
                "format_datetime",
                vec![dt("2007-03-09 00:30:00"), s("hh:mm tt")],
                "12:30 AM",
            ),
            (
                "format_timespan",
                vec![span("29.09:00:05.12345"), s("dd.hh:mm:ss:FF")],
                "29.09:00:05:12",
            ),
            (
                "format_timespan",
                vec![span("29.09:00:05.12345"), s("ddd.h:mm:ss [fffffff]")],
                "029.9:00:05 [1234500]",
            ),
            ("format_timespan", vec![span("1d"), s("dddd")], "0001"),
            ("format_timespan", vec![span("2.05:00:00"), s("d.h")], "2.5"),
            (
                "format_timespan",
                vec![span("-1.02:30:00"), s("d.hh:mm:ss")],
                "-1.02:30:00",
            ),
            ("format_timespan", vec![span("-90s"), s("mm:ss")], "-01:30"),
            (
                "format_timespan",
                vec![span("1.01:01:00"), s("hh:mm")],
                "01:01",
            ),
        ])
        .await;
    }

    #[tokio::test]
    async fn construction() {
        check(vec![
            (
                "make_datetime",
                vec![n(2017), n(10), n(1)],
                "2017-10-01T00:00:00Z",
            ),
            (
                "make_datetime",
                vec![n(2017), n(10), n(1), n(12), n(10)],
                "2017-10-01T12:10:00Z",
            ),
            (
                "make_datetime",
                vec![n(2020), n(2), n(29), n(13), n(45), r(9.5)],
                "2020-02-29T13:45:09.5Z",
            ),
            ("make_datetime", vec![n(2020), n(13), n(1)], "null"),
            (
                "make_timespan",
                vec![n(1), n(12), n(30), r(55.123)],
                "1.12:30:55.1230000",
            ),
            ("make_timespan", vec![n(1), n(2), n(3)], "01:02:03"),
            ("make_timespan", vec![n(0), n(25), n(61), r(61.5)], "null"),
            ("make_timespan", vec![n(-1), n(-2)], "null"),
            (
                "make_timespan",
                vec![n(0), n(0), n(0), r(0.0000001)],
                "00:00:00.0000001",
            ),
            (
                "unixtime_seconds_todatetime",
                vec![n(1546300800)],
                "2019-01-01T00:00:00Z",
            ),
            (
                "unixtime_seconds_todatetime",
                vec![r(1546300800.5)],
                "2019-01-01T00:00:00.5Z",
            ),
            (
                "unixtime_milliseconds_todatetime",
                vec![n(1546300800123)],
                "2019-01-01T00:00:00.123Z",
            ),
            (
                "unixtime_microseconds_todatetime",
                vec![n(1546300800000000)],
                "2019-01-01T00:00:00Z",
            ),
            (
                "unixtime_nanoseconds_todatetime",
                vec![n(1546300800000000000)],
                "2019-01-01T00:00:00Z",
            ),
        ])
        .await;
    }

    #[test]
    fn floor_division() {
        assert_eq!(floor_div(-1, 5), Some(-1));
        assert_eq!(floor_div(-5, 5), Some(-1));
        assert_eq!(floor_div(4, 5), Some(0));
        assert_eq!(floor_div(1, 0), None);
    }

    #[test]
    fn floor_value_agrees_with_wide_arithmetic() {
        let sizes = [1, 7, 3_600_000_000_000, i64::MAX];
        let values = [
            0,
            1,
            -1,
            59,
            -59,
            1_700_000_000_000_000_000,
            i64::MIN,
            i64::MIN + 5,
            i64::MAX,
        ];
        for size in sizes {
            for origin in [0, 1, size / 2, size - 1] {
                for v in values {
                    let wide = i128::from(v)
                        - (i128::from(v) - i128::from(origin)).rem_euclid(i128::from(size));
                    let expected = i64::try_from(wide).ok();
                    assert_eq!(
                        floor_value(v, size, origin),
                        expected,
                        "{v} {size} {origin}"
                    );
                }
            }
        }
    }
}
