//! The stream of demo records: benign events drawn hour by hour, with the planted records merged
//! in by time.

use crate::demo::benign;
use crate::demo::clock::{self, Slot, HOUR};
use crate::demo::fields::Shapes;
use crate::demo::scenarios;
use crate::demo::world::World;
use crate::demo::DemoConfig;
use crate::record::Record;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::collections::VecDeque;

/// The stream of demo records made by [`generate`](crate::demo::generate): benign events hour
/// by hour with the planted records merged in.
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
    shapes: Shapes,
}

impl DemoStream {
    /// The stream for `config`.
    pub(crate) fn new(config: &DemoConfig) -> DemoStream {
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
            shapes: Shapes::default(),
        }
    }

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

    /// The next `ReportId`.
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
        let draft = benign::event(&self.world, &mut self.rng, time, people, report);
        let record = self.shapes.record(draft);
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
