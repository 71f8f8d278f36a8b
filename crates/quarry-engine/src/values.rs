//! Kusto's text forms of datetime and timespan values: parsing literals and `todatetime()` /
//! `totimespan()` input, and formatting as `tostring()` and result output do.
//!
//! Values are nanoseconds (datetime: since the Unix epoch, UTC); Kusto's resolution is the 100 ns
//! tick, so formatting prints at most seven fractional digits.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_MINUTE: i64 = 60 * NANOS_PER_SECOND;
const NANOS_PER_HOUR: i64 = 60 * NANOS_PER_MINUTE;
/// Nanoseconds in a day.
pub const NANOS_PER_DAY: i64 = 24 * NANOS_PER_HOUR;

/// The length in nanoseconds of a timespan unit as written after a number (`d`, `ms`, `tick`…).
pub fn timespan_unit_nanos(unit: &str) -> Option<f64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "d" | "day" | "days" => NANOS_PER_DAY as f64,
        "h" | "hr" | "hrs" | "hour" | "hours" => NANOS_PER_HOUR as f64,
        "m" | "min" | "minute" | "minutes" => NANOS_PER_MINUTE as f64,
        "s" | "sec" | "second" | "seconds" => NANOS_PER_SECOND as f64,
        "ms" | "milli" | "millis" | "millisec" | "millisecond" | "milliseconds" => 1e6,
        "micro" | "micros" | "microsec" | "microsecond" | "microseconds" => 1e3,
        "nano" | "nanos" | "nanosec" | "nanosecond" | "nanoseconds" => 1.0,
        "tick" | "ticks" => 100.0,
        _ => return None,
    })
}

/// Parses a timespan literal such as `1d`, `1.5h`, `100ms` (number immediately followed by a unit).
pub fn parse_timespan_literal(text: &str) -> Option<i64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let nanos = value * timespan_unit_nanos(unit)?;
    Some(round_to_tick(nanos))
}

fn round_to_tick(nanos: f64) -> i64 {
    ((nanos / 100.0).round() as i64).saturating_mul(100)
}

/// Parses the text of `timespan(…)` or a `totimespan()` string: a literal with a unit (`2d`), a
/// bare number of days (`2`), or `[-][d.]hh:mm[:ss[.fffffff]]`.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(nanos) = parse_timespan_literal(text) {
        return Some(nanos);
    }
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if !body.contains(':') {
        let days: f64 = body.parse().ok()?;
        let nanos = round_to_tick(days * NANOS_PER_DAY as f64);
        return Some(if negative { -nanos } else { nanos });
    }
    let mut parts = body.split(':');
    let first = parts.next()?;
    let (days, hours) = match first.split_once('.') {
        Some((d, h)) => (d.parse::<i64>().ok()?, h.parse::<i64>().ok()?),
        None => (0, first.parse::<i64>().ok()?),
    };
    let minutes: i64 = parts.next()?.parse().ok()?;
    let seconds_nanos = match parts.next() {
        Some(seconds) => parse_seconds(seconds)?,
        None => 0,
    };
    if parts.next().is_some() || minutes >= 60 || hours < 0 {
        return None;
    }
    let nanos = days
        .checked_mul(NANOS_PER_DAY)?
        .checked_add(hours.checked_mul(NANOS_PER_HOUR)?)?
        .checked_add(minutes * NANOS_PER_MINUTE)?
        .checked_add(seconds_nanos)?;
    Some(if negative { -nanos } else { nanos })
}

/// `ss[.fffffff]` to nanoseconds.
fn parse_seconds(text: &str) -> Option<i64> {
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    let seconds: i64 = whole.parse().ok()?;
    if seconds >= 60 || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(9)
        .collect();
    Some(seconds * NANOS_PER_SECOND + digits.parse::<i64>().ok()?)
}

/// Parses the text of `datetime(…)` or a `todatetime()` string (ISO 8601 and the common
/// variants Kusto accepts: date only, space or `T` separator, optional `Z`, up to 7 fractional
/// digits, RFC 1123 such as `Sat, 8 Nov 2014 15:05:02 GMT`).
pub fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
        .unwrap_or(text)
        .trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return parsed.timestamp_nanos_opt();
    }
    if let Ok(parsed) = DateTime::parse_from_rfc2822(text) {
        return parsed.timestamp_nanos_opt();
    }
    let body = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix('z'))
        .or_else(|| text.strip_suffix(" GMT"))
        .or_else(|| text.strip_suffix(" UTC"))
        .unwrap_or(text);
    const FORMATS: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S%.f",
        "%Y/%m/%d %H:%M",
        "%m/%d/%Y %H:%M:%S%.f",
        "%m/%d/%Y %H:%M",
    ];
    for format in FORMATS {
        if let Ok(parsed) = NaiveDateTime::parse_from_str(body, format) {
            return parsed.and_utc().timestamp_nanos_opt();
        }
    }
    for format in ["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%m-%d-%Y", "%Y%m%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(body, format) {
            return date
                .and_time(NaiveTime::MIN)
                .and_utc()
                .timestamp_nanos_opt();
        }
    }
    None
}

/// Kusto's text form of a datetime: `2020-01-01T00:00:00Z` with the fraction's trailing zeros
/// removed (as results are normalised) when `trim_fraction` is set, else seven digits
/// (`2020-01-01T00:00:00.0000000Z`, as `tostring()` prints).
pub fn format_datetime(nanos: i64, trim_fraction: bool) -> String {
    let seconds = nanos.div_euclid(NANOS_PER_SECOND);
    let sub = nanos.rem_euclid(NANOS_PER_SECOND);
    let Some(instant) = DateTime::<Utc>::from_timestamp(seconds, 0) else {
        return String::new();
    };
    let base = instant.format("%Y-%m-%dT%H:%M:%S").to_string();
    let ticks = sub / 100;
    if trim_fraction {
        if ticks == 0 {
            format!("{base}Z")
        } else {
            let fraction = format!("{ticks:07}");
            format!("{base}.{}Z", fraction.trim_end_matches('0'))
        }
    } else {
        format!("{base}.{ticks:07}Z")
    }
}

/// Kusto's text form of a timespan: `[-][d.]hh:mm:ss[.fffffff]`.
pub fn format_timespan(nanos: i64) -> String {
    let negative = nanos < 0;
    let magnitude = nanos.unsigned_abs();
    let day = NANOS_PER_DAY as u64;
    let days = magnitude / day;
    let rest = magnitude % day;
    let hours = rest / NANOS_PER_HOUR as u64;
    let minutes = rest % NANOS_PER_HOUR as u64 / NANOS_PER_MINUTE as u64;
    let seconds = rest % NANOS_PER_MINUTE as u64 / NANOS_PER_SECOND as u64;
    let ticks = rest % NANOS_PER_SECOND as u64 / 100;
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{hours:02}:{minutes:02}:{seconds:02}"));
    if ticks > 0 {
        out.push_str(&format!(".{ticks:07}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespan_literals_and_text() {
        assert_eq!(parse_timespan_literal("1d"), Some(NANOS_PER_DAY));
        assert_eq!(parse_timespan_literal("1.5h"), Some(NANOS_PER_HOUR * 3 / 2));
        assert_eq!(parse_timespan_literal("1tick"), Some(100));
        assert_eq!(parse_timespan("2"), Some(2 * NANOS_PER_DAY));
        assert_eq!(
            parse_timespan("1.02:03:04.5"),
            Some(NANOS_PER_DAY + 2 * NANOS_PER_HOUR + 3 * NANOS_PER_MINUTE + 4_500_000_000)
        );
        assert_eq!(parse_timespan("-00:30"), Some(-30 * NANOS_PER_MINUTE));
        assert_eq!(
            format_timespan(NANOS_PER_DAY + NANOS_PER_HOUR),
            "1.01:00:00"
        );
        assert_eq!(format_timespan(-12 * NANOS_PER_HOUR), "-12:00:00");
        assert_eq!(format_timespan(100), "00:00:00.0000001");
    }

    #[test]
    fn datetime_forms() {
        let midnight = parse_datetime("2020-01-01").unwrap();
        assert_eq!(parse_datetime("2020-01-01T00:00:00Z"), Some(midnight));
        assert_eq!(parse_datetime("2020-01-01 00:00"), Some(midnight));
        assert_eq!(format_datetime(midnight, true), "2020-01-01T00:00:00Z");
        assert_eq!(
            format_datetime(midnight, false),
            "2020-01-01T00:00:00.0000000Z"
        );
        let fraction = parse_datetime("2026-08-01T04:32:02.4Z").unwrap();
        assert_eq!(format_datetime(fraction, true), "2026-08-01T04:32:02.4Z");
        assert!(parse_datetime("Sat, 8 Nov 2014 15:05:02 GMT").is_some());
        assert_eq!(parse_datetime("not a date"), None);
    }
}
