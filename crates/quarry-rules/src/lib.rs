//! `quarry-rules`: rule sources (Azure-Sentinel), the rule model, static analysis of rule KQL,
//! enrichment, ATT&CK data and the catalog store.
//!
//! The flow is `source` (find and read rule files) → `analysis` (what the KQL does) → `enrich`
//! (generated fields) → `catalog` (SQLite with full-text search).

pub mod analysis;
pub mod attack;
pub mod catalog;
pub mod coverage;
pub mod enrich;
pub mod import;
pub mod model;
pub mod parameters;
pub mod sentinel;
pub mod source;
