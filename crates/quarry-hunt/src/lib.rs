//! `quarry-hunt`: running catalog rules over a workspace — parameters, a pinned time window,
//! concurrency, findings kept in the workspace database, reports — plus the import-time bind
//! check and the demo that ties generator, ingest, rules and hunt together.

pub mod checker;
pub mod demo;
pub mod findings;
pub mod functions;
pub mod hunt;
pub mod report;
