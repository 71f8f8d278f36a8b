//! `quarry-engine`: KQL compiled onto DataFusion logical plans and run on Arrow, with Kusto's
//! semantics rather than SQL's.
//!
//! A [`Session`] holds the tables a query can read, the pinned `now`, parameters and limits;
//! [`Session::run`] parses, binds and plans a query text into a DataFusion `LogicalPlan` (built
//! programmatically, never through SQL) and executes it into a [`QueryOutput`].
//!
//! Queries can also call the session's stored functions (parsers such as ASIM's `imDns`,
//! registered with [`Session::register_function`], see [`stored`]) and read Sentinel
//! watchlists with `_GetWatchlist('name')` from CSV files (see [`watchlist`]).

mod bounded_filter_pushdown;
pub mod conformance;
pub mod coverage;
mod distinct_to_group_by;
pub mod error;
pub mod external;
pub mod format;
pub mod functions;
pub mod output;
mod planner;
pub mod schemas;
pub mod session;
pub mod stored;
pub mod types;
pub mod values;
pub mod watchlist;

pub use error::{EngineError, Result};
pub use external::NetworkAccess;
pub use output::{QueryOutput, QueryWarning, RenderRequest, ScanStats};
pub use session::{PlanObserver, Session, SessionConfig};
pub use stored::{CompiledFunction, StoredFunction, StoredFunctionError, StoredParameter};
pub use types::KustoType;
