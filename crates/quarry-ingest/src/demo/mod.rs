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
mod stream;
mod world;

pub use scenarios::Scenario;
pub use stream::DemoStream;

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

/// The demo records for `config`: exactly `config.events` of them (or all the planted ones, if
/// there are more), in time order, the same for the same configuration.
pub fn generate(config: &DemoConfig) -> DemoStream {
    DemoStream::new(config)
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
