//! `quarry-hunt`: running rules over a workspace with `now()` pinned to the data, and the demo
//! that ties generator, ingest, rules and hunt together.
//!
//! For now a hunt runs a set of Azure-Sentinel rules one after another and reports per rule
//! whether it fired; parameters files, concurrency, findings storage and reports come with the
//! hunt issue.

pub mod demo;
pub mod rule;
pub mod run;

pub use rule::{load_rule, RunnableRule};
pub use run::{latest_time, run_rules, RuleOutcome, RuleStatus};
