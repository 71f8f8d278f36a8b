//! Time for the demo data: the hourly schedule with its business-hours rhythm, and fast
//! formatting of instants as ISO-8601 UTC text.
//!
//! The organisation works on UTC (a London office, daylight saving ignored), so local hours are
//! UTC hours.

/// Nanoseconds in one second.
pub(crate) const SECOND: i64 = 1_000_000_000;
/// Nanoseconds in one minute.
pub(crate) const MINUTE: i64 = 60 * SECOND;
/// Nanoseconds in one hour.
pub(crate) const HOUR: i64 = 60 * MINUTE;
/// Nanoseconds in one day.
pub(crate) const DAY: i64 = 24 * HOUR;
/// How many days of data the demo covers, ending at `end_nanos`.
pub(crate) const SPAN_DAYS: i64 = 14;

/// Relative activity of each hour of a weekday (0–23 h).
const WEEKDAY: [u64; 24] = [
    2, 2, 2, 2, 2, 3, 6, 20, 60, 90, 100, 100, 85, 95, 100, 95, 80, 45, 20, 12, 8, 6, 4, 3,
];
/// Relative activity of each hour of a Saturday or Sunday.
const WEEKEND: [u64; 24] = [
    2, 2, 2, 2, 2, 2, 2, 3, 5, 7, 8, 8, 8, 8, 7, 6, 5, 4, 4, 3, 3, 3, 2, 2,
];

/// One hour of the demo period: when it starts, how many benign events it holds and how much of
/// its activity is people (rather than machines).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    /// Start of the hour, ns since the Unix epoch.
    pub start: i64,
    /// Number of benign events in the hour.
    pub count: u64,
    /// Share of user-driven activity, in thousandths.
    pub people: u32,
}

/// The hours of the demo period with the benign events spread over them by the rhythm, so that
/// the counts add up to exactly `benign`.
pub(crate) fn schedule(end_nanos: i64, benign: u64) -> Vec<Slot> {
    let first = end_nanos - SPAN_DAYS * DAY;
    let hours = (SPAN_DAYS * 24) as usize;
    let weights: Vec<u64> = (0..hours)
        .map(|h| hour_weight(first + h as i64 * HOUR))
        .collect();
    let total: u64 = weights.iter().sum();
    let mut slots = Vec::with_capacity(hours);
    let mut cumulative = 0u64;
    let mut allotted = 0u64;
    for (h, weight) in weights.iter().enumerate() {
        cumulative += weight;
        let upto = (u128::from(benign) * u128::from(cumulative) / u128::from(total)) as u64;
        slots.push(Slot {
            start: first + h as i64 * HOUR,
            count: upto - allotted,
            people: (1000 * weight / (weight + 8)) as u32,
        });
        allotted = upto;
    }
    slots
}

/// The rhythm's weight of the hour that contains `nanos`.
fn hour_weight(nanos: i64) -> u64 {
    let days = nanos.div_euclid(DAY);
    let hour = (nanos.rem_euclid(DAY) / HOUR) as usize;
    if is_weekend(days) {
        WEEKEND[hour]
    } else {
        WEEKDAY[hour]
    }
}

/// Whether the day `days` after 1970-01-01 (a Thursday) is a Saturday or a Sunday.
pub(crate) fn is_weekend(days: i64) -> bool {
    // 0 = Monday ... 6 = Sunday.
    let weekday = (days + 3).rem_euclid(7);
    weekday >= 5
}

/// `nanos` as ISO-8601 UTC text with milliseconds, e.g. `2026-10-30T14:03:12.123Z`.
pub(crate) fn iso(nanos: i64) -> String {
    let days = nanos.div_euclid(DAY);
    let within = nanos.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    let hour = within / HOUR;
    let minute = within % HOUR / MINUTE;
    let second = within % MINUTE / SECOND;
    let millis = within % SECOND / 1_000_000;
    let mut text = String::with_capacity(24);
    push_digits(&mut text, year, 4);
    text.push('-');
    push_digits(&mut text, month, 2);
    text.push('-');
    push_digits(&mut text, day, 2);
    text.push('T');
    push_digits(&mut text, hour, 2);
    text.push(':');
    push_digits(&mut text, minute, 2);
    text.push(':');
    push_digits(&mut text, second, 2);
    text.push('.');
    push_digits(&mut text, millis, 3);
    text.push('Z');
    text
}

/// Appends `value` as exactly `width` decimal digits (zero-padded, leading digits dropped).
fn push_digits(text: &mut String, value: i64, width: u32) {
    let mut divisor = 10i64.pow(width - 1);
    let value = value.rem_euclid(10i64.pow(width));
    while divisor > 0 {
        text.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// The proleptic Gregorian (year, month, day) of `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    // Shift the epoch to 0000-03-01 so that leap days end each 400-year era's years.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_format_as_iso_utc() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        // 2026-11-01T00:00:00Z
        assert_eq!(iso(1_793_491_200 * SECOND), "2026-11-01T00:00:00.000Z");
        assert_eq!(
            iso(1_793_491_200 * SECOND - 1_000_000),
            "2026-10-31T23:59:59.999Z"
        );
        assert_eq!(iso(951_782_400 * SECOND), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn the_schedule_spreads_exactly_the_benign_count() {
        let slots = schedule(1_793_491_200 * SECOND, 123_457);
        assert_eq!(slots.len(), 14 * 24);
        assert_eq!(slots.iter().map(|s| s.count).sum::<u64>(), 123_457);
        // 2026-11-01 is a Sunday and 2026-10-31 a Saturday.
        assert!(is_weekend(1_793_491_200 / 86_400 - 1));
        assert!(!is_weekend(1_793_491_200 / 86_400 - 2));
    }
}
