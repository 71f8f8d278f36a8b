//! The seeded demo data generator behind `quarry demo`, and the demo rule pack.
//!
//! [`generate`] streams realistic telemetry of a fictitious company, Contoso: workstations and a
//! few servers, their people, administrators and services, with a business-hours rhythm over the
//! fourteen days before [`DemoConfig::end_nanos`]. Into the background activity it plants the
//! attack [`scenarios`], at fixed times in the last seven days, which the rules of
//! [`rule_pack`] detect (one of them after its placeholders are replaced by
//! [`placeholder_values`]). No rule of the pack matches the background activity.
//!
//! The same configuration always gives the same records in the same order, in time order, and
//! the stream holds only the planted records (a few hundred) in memory however many events it
//! makes.

mod benign;
mod clock;
mod fields;
mod rules;
mod scenarios;
mod software;
mod world;

pub use scenarios::Scenario;

use crate::record::Record;
use clock::{Slot, HOUR};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::collections::VecDeque;
use world::World;

/// 2026-11-01T00:00:00Z in nanoseconds since the Unix epoch.
const DEFAULT_END_NANOS: i64 = 1_793_491_200_000_000_000;

/// How much demo data to make and from which seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConfig {
    /// Number of records in total, planted ones included.
    pub events: u64,
    /// Seed of the background activity (the planted scenarios do not depend on it).
    pub seed: u64,
    /// End of the data (exclusive), nanoseconds since the Unix epoch.
    pub end_nanos: i64,
    /// Whether to plant the attack scenarios; `false` gives background activity only.
    pub plant: bool,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            events: 200_000,
            seed: 42,
            end_nanos: DEFAULT_END_NANOS,
            plant: true,
        }
    }
}

impl DemoConfig {
    /// Number of devices the organisation has at this size: one per 2,000 events, 20 to 5,000.
    pub fn devices(&self) -> usize {
        (self.events / 2_000).clamp(20, 5_000) as usize
    }
}

/// The stream of demo records made by [`generate`].
#[derive(Debug)]
pub struct DemoStream {
    world: World,
    rng: ChaCha8Rng,
    slots: Vec<Slot>,
    slot: usize,
    in_slot: u64,
    next_benign: Option<i64>,
    benign_left: u64,
    planted: VecDeque<(i64, Record)>,
    report: i64,
}

/// The demo records for `config`: exactly `config.events` of them (or all the planted ones, if
/// there are more), in time order, the same for the same configuration.
pub fn generate(config: &DemoConfig) -> DemoStream {
    let world = World::new(config.devices());
    let planted: VecDeque<(i64, Record)> = if config.plant {
        scenarios::planted(&world, config.end_nanos).into()
    } else {
        VecDeque::new()
    };
    let benign = config.events.saturating_sub(planted.len() as u64);
    DemoStream {
        slots: clock::schedule(config.end_nanos, benign),
        world,
        rng: ChaCha8Rng::seed_from_u64(config.seed),
        slot: 0,
        in_slot: 0,
        next_benign: None,
        benign_left: benign,
        planted,
        report: 1 + (config.seed % 1_000) as i64 * 1_000_000_000,
    }
}

/// The planted attack scenarios, in the order they happen.
pub fn scenarios() -> &'static [Scenario] {
    scenarios::SCENARIOS
}

/// The demo rule pack: (file name, Azure-Sentinel YAML text) for every rule.
pub fn rule_pack() -> &'static [(&'static str, &'static str)] {
    rules::RULE_PACK
}

/// Values for the placeholders of the pack's parameterised rules: (placeholder text exactly as
/// it appears in the query, value to substitute).
pub fn placeholder_values() -> &'static [(&'static str, &'static str)] {
    rules::PLACEHOLDERS
}

impl DemoStream {
    /// When the next benign event happens, drawing it if needed; `None` when none are left.
    fn peek_benign(&mut self) -> Option<i64> {
        if self.next_benign.is_some() {
            return self.next_benign;
        }
        while self.slot < self.slots.len() && self.in_slot >= self.slots[self.slot].count {
            self.slot += 1;
            self.in_slot = 0;
        }
        let slot = self.slots.get(self.slot)?;
        // Spread the hour's events evenly, each jittered within its share of the hour, so that
        // times never go backwards.
        let share = (i128::from(HOUR) / i128::from(slot.count)).max(1);
        let offset = i128::from(self.in_slot) * i128::from(HOUR) / i128::from(slot.count);
        let jitter = self.rng.random_range(0..share);
        let time = slot.start + (offset + jitter) as i64;
        self.next_benign = Some(time);
        self.next_benign
    }

    fn next_report(&mut self) -> i64 {
        let report = self.report;
        self.report += 1;
        report
    }
}

impl Iterator for DemoStream {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        let benign_time = self.peek_benign();
        let plant_first = match (self.planted.front(), benign_time) {
            (Some((planted_time, _)), Some(time)) => *planted_time <= time,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if plant_first {
            let (_, mut record) = self.planted.pop_front()?;
            if record.fields.contains_key("ReportId") {
                let report = self.next_report();
                record
                    .fields
                    .insert("ReportId".to_string(), Value::from(report));
            }
            return Some(record);
        }
        let time = benign_time?;
        let people = self.slots[self.slot].people;
        let report = self.next_report();
        let record = benign::event(&self.world, &mut self.rng, time, people, report);
        self.next_benign = None;
        self.in_slot += 1;
        self.benign_left -= 1;
        Some(record)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.benign_left as usize + self.planted.len();
        (left, Some(left))
    }
}

impl ExactSizeIterator for DemoStream {}
