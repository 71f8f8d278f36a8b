//! Telemetry ingest for Quarry: readers for the formats Microsoft's products export and for
//! Windows event logs, the mapping of each record onto a Sentinel / Defender table schema, the
//! Parquet workspace those tables live in, and the seeded demo data generator.
//!
//! Data flows through the modules in this order: `formats` detects and reads a file into
//! [`Record`]s (`windows` maps Windows events onto tables on the way), `coerce` types each
//! record by its table's schema into Arrow columns, and `workspace` writes them as Parquet
//! partitioned by day and commits them atomically.

pub mod coerce;
mod columns;
pub mod content_hash;
mod custom_spool;
pub mod demo;
pub mod formats;
pub mod infer;
pub mod ingest;
pub mod record;
pub mod route;
mod sink;
mod typed_lines;
pub mod windows;
pub mod workspace;

pub use ingest::{ingest_file, ingest_records, FileReport, IngestError, IngestOptions, Progress};
pub use record::{Origin, Record};
pub use workspace::{Workspace, WorkspaceError};
