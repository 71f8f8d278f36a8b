//! What a query returns.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

/// A `render` request kept with the result: the chart kind and its properties.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RenderRequest {
    /// `timechart`, `barchart`, `piechart`, …
    pub chart: String,
    /// `with (…)` properties as written, values as text.
    pub properties: Vec<(String, String)>,
}

/// The result of a query: its rows as Arrow batches plus what KQL says about them.
#[derive(Debug, Clone)]
pub struct QueryOutput {
    /// Column names and Arrow types (see [`crate::types`] for the Kusto mapping).
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Vec<RecordBatch>,
    /// True when KQL's semantics fix the row order (the query ends in sort/top/serialize…).
    pub ordered: bool,
    /// The `render` request, if the query ends with one.
    pub render: Option<RenderRequest>,
    /// True when rows were dropped because of the session's row cap.
    pub truncated: bool,
    /// What executing the query read.
    pub scan: ScanStats,
    /// Problems that did not stop the query, in the order planning found them.
    pub warnings: Vec<QueryWarning>,
}

/// Something a query should know about that did not stop it, such as a `union isfuzzy=true`
/// leg that was left out or a watchlist that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueryWarning {
    /// What happened.
    pub message: String,
    /// Where in the query text (the call of the stored function, when it happened inside one).
    pub span: Option<quarry_kql::Span>,
}

/// What a query's execution read from its sources, from DataFusion's metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Bytes read from files (Parquet pages and footers).
    pub bytes_scanned: u64,
    /// Parquet row groups skipped by their statistics.
    pub row_groups_pruned: u64,
    /// Parquet row groups read.
    pub row_groups_read: u64,
}

impl QueryOutput {
    /// The number of rows.
    pub fn row_count(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}
