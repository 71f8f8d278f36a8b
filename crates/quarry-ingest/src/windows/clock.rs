//! Correcting exporters' clocks. Flat JSON exports often stamp events with the collector's local
//! time (sometimes on a 12-hour clock, sometimes with a misleading `Z`), while Sysmon events
//! carry their exact UTC time in `UtcTime`. Within one file the difference between the two is
//! the same for every event, so it is learnt from the Sysmon events and applied to the others.

use std::collections::HashMap;

/// The granularity offsets are rounded to: time zones are whole quarter hours.
const QUARTER_HOUR_NANOS: i64 = 15 * 60 * 1_000_000_000;

/// Collects `(local, utc)` pairs and yields the offset most of them agree on.
#[derive(Debug, Default)]
pub struct ClockOffset {
    votes: HashMap<i64, u64>,
}

impl ClockOffset {
    /// Records one event stamped `local` by the exporter whose true time is `utc`.
    pub fn observe(&mut self, local: i64, utc: i64) {
        let difference = utc.saturating_sub(local);
        let rounded = (difference as f64 / QUARTER_HOUR_NANOS as f64).round() as i64;
        *self.votes.entry(rounded).or_insert(0) += 1;
    }

    /// The offset (nanoseconds to add to local times), if any event was observed.
    pub fn offset(&self) -> Option<i64> {
        self.votes
            .iter()
            .max_by_key(|(quarters, votes)| (**votes, -quarters.abs()))
            .map(|(quarters, _)| quarters * QUARTER_HOUR_NANOS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_majority_offset_rounded_to_quarter_hours() {
        let hour = 3_600 * 1_000_000_000i64;
        let mut clock = ClockOffset::default();
        assert_eq!(clock.offset(), None);
        for second in 0..5 {
            let local = second * 1_000_000_000;
            clock.observe(local, local + 16 * hour + 657_000_000);
        }
        clock.observe(0, 3 * hour);
        assert_eq!(clock.offset(), Some(16 * hour));
    }
}
