//! A workspace table as a DataFusion table: its committed Parquet files, of which a scan reads
//! only those whose recorded time range meets the query's time filters (partition pruning);
//! the Parquet reader then skips row groups and pages by their statistics.

use super::manifest::FileEntry;
use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session as DfSession;
use datafusion::catalog::TableProvider;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::TableType;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::expressions::{is_not_null, CaseExpr, Column, Literal};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;
use quarry_schema::TableSchema;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A table backed by workspace Parquet files.
#[derive(Debug)]
pub struct WorkspaceTable {
    schema: SchemaRef,
    files: Vec<(PathBuf, FileEntry)>,
}

impl WorkspaceTable {
    /// The table `schema` over `files` (paths relative to `root`).
    pub fn new(root: &Path, schema: &TableSchema, files: &[FileEntry]) -> WorkspaceTable {
        WorkspaceTable {
            schema: quarry_engine::schemas::scan_schema(schema),
            files: files
                .iter()
                .map(|f| (root.join(&f.path), f.clone()))
                .collect(),
        }
    }

    /// The table `schema` over `files` (absolute paths with their manifest entries), as
    /// [`WorkspaceTable::files`] lists them; used to rebuild a table on another node.
    pub fn from_files(schema: SchemaRef, files: Vec<(PathBuf, FileEntry)>) -> WorkspaceTable {
        WorkspaceTable { schema, files }
    }

    /// Every file of the table: its absolute path and manifest entry.
    pub fn files(&self) -> &[(PathBuf, FileEntry)] {
        &self.files
    }

    /// The files a scan with `filters` must read: those whose time ranges meet every bound.
    pub fn files_for(&self, filters: &[Expr]) -> Vec<&(PathBuf, FileEntry)> {
        let bounds = time_bounds(filters);
        self.files
            .iter()
            .filter(|(_, file)| {
                bounds
                    .iter()
                    .all(|(column, bound)| match file.time_ranges.get(column) {
                        Some(&(lo, hi)) => bound.meets(lo, hi),
                        // A file without values in that column holds only nulls there, which no
                        // comparison keeps.
                        None => false,
                    })
            })
            .collect()
    }
}

#[async_trait]
impl TableProvider for WorkspaceTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let selected = self.files_for(filters);
        if selected.is_empty() {
            let projected = match projection {
                Some(columns) => Arc::new(self.schema.project(columns)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        let urls = selected
            .iter()
            .map(|(path, _)| ListingTableUrl::parse(path.to_string_lossy()))
            .collect::<DfResult<Vec<_>>>()?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(urls)
            .with_listing_options(options)
            .with_schema(self.schema.clone());
        let listing = ListingTable::try_new(config)?;
        let scan = listing.scan(state, projection, filters, limit).await?;
        strings_never_null(scan)
    }
}

/// `plan` with its string columns' nulls read as empty strings. Kusto strings are never null;
/// ingest stores a column that no row of a batch has as nulls, which cost the Parquet writer
/// a few bytes instead of a length per row. Every `Utf8View` column of a scan is a Kusto
/// `string` (see `quarry_engine::schemas::scan_schema`; `dynamic` is read as `LargeUtf8`). A
/// batch without nulls passes through as it is (`CASE` returns its `THEN` column untouched
/// when every row takes it).
fn strings_never_null(plan: Arc<dyn ExecutionPlan>) -> DfResult<Arc<dyn ExecutionPlan>> {
    let schema = plan.schema();
    if !schema
        .fields()
        .iter()
        .any(|f| f.data_type() == &DataType::Utf8View)
    {
        return Ok(plan);
    }
    let mut expressions: Vec<(Arc<dyn PhysicalExpr>, String)> =
        Vec::with_capacity(schema.fields().len());
    for (index, field) in schema.fields().iter().enumerate() {
        let column: Arc<dyn PhysicalExpr> = Arc::new(Column::new(field.name(), index));
        let expression: Arc<dyn PhysicalExpr> = if field.data_type() == &DataType::Utf8View {
            let empty: Arc<dyn PhysicalExpr> =
                Arc::new(Literal::new(ScalarValue::Utf8View(Some(String::new()))));
            Arc::new(CaseExpr::try_new(
                None,
                vec![(is_not_null(Arc::clone(&column))?, Arc::clone(&column))],
                Some(empty),
            )?)
        } else {
            column
        };
        expressions.push((expression, field.name().to_string()));
    }
    Ok(Arc::new(ProjectionExec::try_new(expressions, plan)?))
}

/// An interval of nanoseconds a time column must meet; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Bound {
    low: Option<i64>,
    high: Option<i64>,
}

impl Bound {
    /// Whether some value in `[lo, hi]` lies inside the bound.
    fn meets(&self, lo: i64, hi: i64) -> bool {
        self.low.is_none_or(|low| hi >= low) && self.high.is_none_or(|high| lo <= high)
    }

    /// Narrows the bound to values `op` `value` (for `column op value`).
    fn narrow(&mut self, op: Operator, value: i64) {
        let raise = |low: &mut Option<i64>, v: i64| *low = Some(low.map_or(v, |l| l.max(v)));
        let lower = |high: &mut Option<i64>, v: i64| *high = Some(high.map_or(v, |h| h.min(v)));
        match op {
            Operator::Gt => raise(&mut self.low, value.saturating_add(1)),
            Operator::GtEq => raise(&mut self.low, value),
            Operator::Lt => lower(&mut self.high, value.saturating_sub(1)),
            Operator::LtEq => lower(&mut self.high, value),
            Operator::Eq => {
                raise(&mut self.low, value);
                lower(&mut self.high, value);
            }
            _ => {}
        }
    }
}

/// The bounds that conjunctive `filters` put on columns compared with datetime literals.
fn time_bounds(filters: &[Expr]) -> BTreeMap<String, Bound> {
    let mut bounds: BTreeMap<String, Bound> = BTreeMap::new();
    let mut pending: Vec<&Expr> = filters.iter().collect();
    while let Some(filter) = pending.pop() {
        match filter {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
                if *op == Operator::And {
                    pending.push(left);
                    pending.push(right);
                    continue;
                }
                let (column, value, op) = match (left.as_ref(), right.as_ref()) {
                    (Expr::Column(c), other) => match nanos_of(other) {
                        Some(v) => (c.name.clone(), v, *op),
                        None => continue,
                    },
                    (other, Expr::Column(c)) => match (nanos_of(other), op.swap()) {
                        (Some(v), Some(swapped)) => (c.name.clone(), v, swapped),
                        _ => continue,
                    },
                    _ => continue,
                };
                bounds.entry(column).or_default().narrow(op, value);
            }
            Expr::Between(between) if !between.negated => {
                if let (Expr::Column(c), Some(low), Some(high)) = (
                    between.expr.as_ref(),
                    nanos_of(&between.low),
                    nanos_of(&between.high),
                ) {
                    let bound = bounds.entry(c.name.clone()).or_default();
                    bound.narrow(Operator::GtEq, low);
                    bound.narrow(Operator::LtEq, high);
                }
            }
            _ => {}
        }
    }
    bounds
}

/// The nanoseconds of a datetime literal.
fn nanos_of(expr: &Expr) -> Option<i64> {
    match expr {
        Expr::Literal(ScalarValue::TimestampNanosecond(Some(v), _), _) => Some(*v),
        Expr::Literal(ScalarValue::TimestampMicrosecond(Some(v), _), _) => v.checked_mul(1_000),
        Expr::Literal(ScalarValue::TimestampMillisecond(Some(v), _), _) => v.checked_mul(1_000_000),
        Expr::Literal(ScalarValue::TimestampSecond(Some(v), _), _) => v.checked_mul(1_000_000_000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{ident as col, lit};

    fn ts(v: i64) -> Expr {
        lit(ScalarValue::TimestampNanosecond(Some(v), None))
    }

    #[test]
    fn bounds_from_comparisons_and_between() {
        let filters = vec![
            col("TimeGenerated").gt(ts(100)),
            ts(500).gt_eq(col("TimeGenerated")),
            col("Timestamp").between(ts(10), ts(20)),
            col("Other").eq(lit(3)),
        ];
        let bounds = time_bounds(&filters);
        assert_eq!(
            bounds["TimeGenerated"],
            Bound {
                low: Some(101),
                high: Some(500)
            }
        );
        assert_eq!(
            bounds["Timestamp"],
            Bound {
                low: Some(10),
                high: Some(20)
            }
        );
        assert!(!bounds.contains_key("Other"));
        assert!(bounds["TimeGenerated"].meets(0, 101));
        assert!(!bounds["TimeGenerated"].meets(501, 900));
    }
}
