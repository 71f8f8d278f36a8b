//! `quarry-engine`: KQL compiled onto DataFusion logical plans and run on Arrow, with Kusto's
//! semantics rather than SQL's.
//!
//! A [`Session`] holds the tables a query can read, the pinned `now`, parameters and limits;
//! [`Session::run`] parses, binds and plans a query text into a DataFusion `LogicalPlan` (built
//! programmatically, never through SQL) and executes it into a [`QueryOutput`].

pub mod conformance;
pub mod error;
pub mod format;
pub mod functions;
pub mod output;
mod planner;
pub mod schemas;
pub mod session;
pub mod types;
pub mod values;

pub use error::{EngineError, Result};
pub use output::{QueryOutput, RenderRequest, ScanStats};
pub use session::{Session, SessionConfig};
pub use types::KustoType;
