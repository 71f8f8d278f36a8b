//! The query session: tables, pinned `now`, parameters and limits, and running queries.

use crate::bounded_filter_pushdown::with_bounded_filter_rules;
use crate::error::{EngineError, Result};
use crate::output::{QueryOutput, QueryWarning, ScanStats};
use crate::planner::Planner;
use crate::stored::CompiledFunction;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::prelude::{SessionConfig as DfConfig, SessionContext};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// How a session runs queries.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    /// The instant `now()` and `ago()` see, in nanoseconds since the Unix epoch; the wall clock
    /// at the start of each query when unset.
    pub now_nanos: Option<i64>,
    /// Values for `declare query_parameters` and rule parameters, as text.
    pub parameters: BTreeMap<String, String>,
    /// Memory cap in bytes for query execution (operators spill or fail beyond it); half of
    /// the machine's memory when unset (see [`default_memory_limit`]).
    pub memory_limit: Option<usize>,
    /// Wall-clock limit for one query.
    pub time_limit: Option<Duration>,
    /// Largest number of rows returned; the rest is dropped and the output marked truncated.
    pub max_rows: Option<usize>,
    /// Number of partitions DataFusion executes in parallel (the core count when unset).
    pub target_partitions: Option<usize>,
    /// The folder `_GetWatchlist('name')` reads `<name>.csv` from (see [`crate::watchlist`]);
    /// without one every watchlist is missing.
    pub watchlist_dir: Option<PathBuf>,
    /// When true, `_GetWatchlist` of a watchlist that does not exist is an error; by default it
    /// is an empty table with the standard columns and a warning, as in Sentinel.
    pub strict_watchlists: bool,
    /// What `externaldata` does with a source at a network address (refused by default).
    pub network_access: crate::external::NetworkAccess,
}

/// Rows per batch passed between operators: four times DataFusion's default. A batch's
/// functions run once per distinct value (`functions::distinct_values`), and a telemetry column's
/// few thousand values repeat far more often in 32k rows than in 8k; per-batch costs shrink too.
/// (At 10M rows, compare-duckdb's string queries ran 1.3-2.7x faster than with 8,192.)
pub const BATCH_SIZE: usize = 32_768;

/// The memory cap of a session that sets none: half of the machine's memory (`MemTotal` in
/// `/proc/meminfo`), or 4 GiB where that cannot be read.
pub fn default_memory_limit() -> usize {
    const FALLBACK: usize = 4 << 30;
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
        });
    match total_kib {
        Some(kib) if kib > 0 => kib.saturating_mul(1024) / 2,
        _ => FALLBACK,
    }
}

/// Sums the file-scan metrics over every node of an executed plan.
fn scan_stats(plan: &dyn datafusion::physical_plan::ExecutionPlan) -> ScanStats {
    let mut stats = ScanStats::default();
    let mut pending = vec![plan];
    while let Some(node) = pending.pop() {
        if let Some(metrics) = node.metrics() {
            for metric in metrics.iter() {
                match metric.value() {
                    MetricValue::PruningMetrics {
                        name,
                        pruning_metrics,
                    } if name.as_ref() == "row_groups_pruned_statistics" => {
                        stats.row_groups_pruned += pruning_metrics.pruned() as u64;
                        stats.row_groups_read += pruning_metrics.matched() as u64;
                    }
                    MetricValue::Count { name, count } if name.as_ref() == "bytes_scanned" => {
                        stats.bytes_scanned += count.value() as u64;
                    }
                    _ => {}
                }
            }
        }
        pending.extend(node.children().into_iter().map(|c| c.as_ref()));
    }
    stats
}

/// Cancels the queries a session is running, from any thread (a stop button, Ctrl-C, a hunt
/// that is being shut down). Queries started after the call are not affected.
#[derive(Debug, Clone)]
pub struct CancelHandle(Arc<watch::Sender<u64>>);

impl CancelHandle {
    /// Stops every query the session is running now; each returns [`EngineError::Cancelled`].
    pub fn cancel(&self) {
        self.0
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }
}

/// Sees the session, each query's text, pinned `now` and logical plan before the plan runs, and
/// may refuse it; set with [`Session::set_plan_observer`] (a cluster client uses it to ship
/// what the plan needs).
pub type PlanObserver = Arc<dyn Fn(&Session, &str, i64, &LogicalPlan) -> Result<()> + Send + Sync>;

/// A query session over a set of tables.
pub struct Session {
    config: SessionConfig,
    context: SessionContext,
    observer: Option<PlanObserver>,
    tables: RwLock<HashMap<String, Arc<dyn TableProvider>>>,
    /// Stored functions by name; replaced as a whole on registration so that a query plans
    /// against one consistent snapshot.
    functions: RwLock<Arc<HashMap<String, Arc<CompiledFunction>>>>,
    cancel: Arc<watch::Sender<u64>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("config", &self.config)
            .finish()
    }
}

impl Session {
    /// A session with `config` and no tables.
    pub fn new(config: SessionConfig) -> Result<Self> {
        let mut df_config = DfConfig::new()
            .with_information_schema(false)
            .with_batch_size(BATCH_SIZE);
        if let Some(partitions) = config.target_partitions {
            df_config = df_config.with_target_partitions(partitions.max(1));
        }
        let limit = config.memory_limit.unwrap_or_else(default_memory_limit);
        let runtime =
            RuntimeEnvBuilder::new().with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        let runtime = runtime.build_arc()?;
        let state = SessionStateBuilder::new()
            .with_config(df_config)
            .with_runtime_env(runtime)
            .with_default_features()
            .build();
        let state = with_bounded_filter_rules(state);
        let state = crate::distinct_to_group_by::with_distinct_to_group_by(state);
        let context = SessionContext::new_with_state(state);
        Ok(Session::with_context(config, context))
    }

    /// A session with `config` and no tables that runs its plans in `context` (for example a
    /// context connected to a cluster); the context's own settings and limits apply.
    pub fn with_context(config: SessionConfig, context: SessionContext) -> Self {
        Session {
            config,
            context,
            observer: None,
            tables: RwLock::new(HashMap::new()),
            functions: RwLock::new(Arc::new(HashMap::new())),
            cancel: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Calls `observer` with every query's plan before it runs; an error stops the query.
    pub fn set_plan_observer(&mut self, observer: PlanObserver) {
        self.observer = Some(observer);
    }

    /// A handle that cancels this session's running queries.
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.cancel.clone())
    }

    /// The session's configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The DataFusion context queries run in.
    pub fn context(&self) -> &SessionContext {
        &self.context
    }

    /// Makes `provider` readable as table `name` (case-sensitive), replacing any table of that name.
    pub fn register_table(&self, name: &str, provider: Arc<dyn TableProvider>) {
        if let Ok(mut tables) = self.tables.write() {
            tables.insert(name.to_string(), provider);
        }
    }

    /// Makes in-memory `batches` readable as table `name`.
    pub fn register_batches(
        &self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<()> {
        let table = MemTable::try_new(schema, vec![batches])?;
        self.register_table(name, Arc::new(table));
        Ok(())
    }

    /// The table registered as `name`.
    pub fn table(&self, name: &str) -> Option<Arc<dyn TableProvider>> {
        self.tables.read().ok()?.get(name).cloned()
    }

    /// The names of every registered table, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .tables
            .read()
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Adds or replaces a compiled stored function.
    pub(crate) fn insert_function(&self, function: Arc<CompiledFunction>) {
        if let Ok(mut functions) = self.functions.write() {
            Arc::make_mut(&mut functions).insert(function.name().to_string(), function);
        }
    }

    /// The stored functions as they are now.
    pub(crate) fn functions_snapshot(&self) -> Arc<HashMap<String, Arc<CompiledFunction>>> {
        self.functions.read().map(|f| f.clone()).unwrap_or_default()
    }

    /// The instant `now()` means for a query starting now.
    pub fn now_nanos(&self) -> i64 {
        self.config
            .now_nanos
            .unwrap_or_else(|| chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX))
    }

    /// Parses, binds and plans `text` without running it: the errors [`Session::run`] would
    /// report before execution (syntax, unknown names, types, unsupported features).
    pub fn plan_only(&self, text: &str) -> Result<()> {
        self.plan_with_warnings(text).map(|_| ())
    }

    /// [`Session::plan_only`], returning the warnings planning gave (skipped `union
    /// isfuzzy=true` legs, missing watchlists).
    pub fn plan_with_warnings(&self, text: &str) -> Result<Vec<QueryWarning>> {
        let parsed = quarry_kql::parse(text);
        if !parsed.is_ok() {
            return Err(EngineError::Syntax(parsed.diagnostics));
        }
        let planned = Planner::new(self, self.now_nanos()).plan_query(&parsed.query)?;
        Ok(planned.warnings)
    }

    /// Parses, binds and plans `text` into the DataFusion logical plan [`Session::run`] would
    /// execute, with `now()` at [`Session::now_nanos`].
    pub fn logical_plan(&self, text: &str) -> Result<LogicalPlan> {
        let parsed = quarry_kql::parse(text);
        if !parsed.is_ok() {
            return Err(EngineError::Syntax(parsed.diagnostics));
        }
        Ok(Planner::new(self, self.now_nanos())
            .plan_query(&parsed.query)?
            .plan)
    }

    /// The plans `text` would run as, without running it: Quarry's logical plan, DataFusion's
    /// optimised plan and the physical plan, as indented text (what `quarry query --explain`
    /// prints).
    pub async fn explain(&self, text: &str) -> Result<String> {
        let plan = self.logical_plan(text)?;
        let logical = plan.display_indent_schema().to_string();
        let state = self.execution_state(&plan);
        let optimized = state.optimize(&plan)?;
        let physical = state.create_physical_plan(&optimized).await?;
        let physical_text = datafusion::physical_plan::displayable(physical.as_ref()).indent(true);
        Ok(format!(
            "== logical plan (from KQL) ==\n{logical}\n\n== optimised logical plan ==\n{}\n\n== physical plan ==\n{physical_text}",
            optimized.display_indent()
        ))
    }

    /// The DataFusion state `plan` runs with: the session's, in one partition when the plan
    /// reads only a little literal data.
    fn execution_state(&self, plan: &LogicalPlan) -> datafusion::execution::SessionState {
        let mut state = self.context.state();
        if inline_rows(plan).is_some_and(|rows| rows <= SINGLE_PARTITION_ROWS) {
            // Kusto keeps the order rows arrive in (first-seen group order, `make_list` after
            // `sort`, ties in `top`); one partition does too, and costs nothing on literal data.
            state.config_mut().options_mut().execution.target_partitions = 1;
        }
        state
    }

    /// Parses, plans and runs `text`.
    pub async fn run(&self, text: &str) -> Result<QueryOutput> {
        // Subscribing marks the current generation as seen: a cancel from now on, planning
        // included, stops this query.
        let mut cancelled = self.cancel.subscribe();
        let parsed = quarry_kql::parse(text);
        if !parsed.is_ok() {
            return Err(EngineError::Syntax(parsed.diagnostics));
        }
        let now = self.now_nanos();
        let planned = Planner::new(self, now).plan_query(&parsed.query)?;
        if let Some(observer) = &self.observer {
            observer(self, text, now, &planned.plan)?;
        }
        let state = self.execution_state(&planned.plan);
        let physical = state.create_physical_plan(&planned.plan).await?;
        let task = Arc::new(datafusion::execution::TaskContext::from(&state));
        let run = datafusion::physical_plan::collect(physical.clone(), task);
        let limited = async {
            match self.config.time_limit {
                Some(limit) => tokio::time::timeout(limit, run)
                    .await
                    .map_err(|_| EngineError::Timeout(limit))?
                    .map_err(EngineError::from),
                None => run.await.map_err(EngineError::from),
            }
        };
        // Dropping the running plan on cancel stops its tasks.
        let mut batches = tokio::select! {
            result = limited => result?,
            _ = cancelled.changed() => return Err(EngineError::Cancelled),
        };
        let schema = planned.schema;
        let mut truncated = false;
        if let Some(max_rows) = self.config.max_rows {
            let mut kept = 0usize;
            batches.retain_mut(|batch| {
                if kept >= max_rows {
                    truncated = true;
                    return false;
                }
                if kept + batch.num_rows() > max_rows {
                    *batch = batch.slice(0, max_rows - kept);
                    truncated = true;
                }
                kept += batch.num_rows();
                true
            });
        }
        Ok(QueryOutput {
            schema,
            batches,
            ordered: planned.ordered,
            render: planned.render,
            truncated,
            scan: scan_stats(physical.as_ref()),
            warnings: planned.warnings,
        })
    }

    /// [`Session::run`] on a runtime of its own, for callers that are not async.
    pub fn run_blocking(&self, text: &str) -> Result<QueryOutput> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| EngineError::Execution(e.into()))?;
        runtime.block_on(self.run(text))
    }
}

/// Queries over at most this many rows of literal data (`datatable`, `range`, `print`) run in
/// one partition.
const SINGLE_PARTITION_ROWS: usize = 100_000;

/// The number of rows the plan reads when every table it scans is literal data the planner
/// made (`datatable`, `range`, `print`); `None` when it reads any other table.
fn inline_rows(plan: &LogicalPlan) -> Option<usize> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let mut rows = 0usize;
    let mut inline = true;
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let memory = scan
                .table_name
                .table()
                .starts_with("__values")
                .then(|| datafusion::datasource::source_as_provider(&scan.source).ok())
                .flatten();
            let counted = memory.as_ref().and_then(|provider| {
                let table = provider.downcast_ref::<MemTable>()?;
                table.batches.iter().try_fold(0usize, |sum, partition| {
                    let batches = partition.try_read().ok()?;
                    Some(sum + batches.iter().map(RecordBatch::num_rows).sum::<usize>())
                })
            });
            match counted {
                Some(count) => rows += count,
                None => {
                    inline = false;
                    return Ok(TreeNodeRecursion::Stop);
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    inline.then_some(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::MemoryLimit;

    fn limit_of(session: &Session) -> MemoryLimit {
        session.context().runtime_env().memory_pool.memory_limit()
    }

    #[test]
    fn a_running_query_is_cancelled_from_another_thread() {
        let session = Session::new(SessionConfig::default()).unwrap();
        let handle = session.cancel_handle();
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let finished = done.clone();
        // Cancels until the query has returned, so that the test cannot hang whatever the
        // timing.
        let canceller = std::thread::spawn(move || {
            while !finished.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(200));
                handle.cancel();
            }
        });
        let started = std::time::Instant::now();
        // About 9 * 10^9 joined rows: it runs far longer than the cancel takes.
        let result = session.run_blocking(
            "range x from 1 to 300000 step 1 | extend k = x % 10 \
             | join kind=inner (range y from 1 to 300000 step 1 | extend k = y % 10) on k | count",
        );
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        canceller.join().unwrap();
        assert!(matches!(result, Err(EngineError::Cancelled)), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(60));
        // A cancel before a query starts does not stop it.
        session.cancel_handle().cancel();
        assert_eq!(session.run_blocking("print x = 1").unwrap().row_count(), 1);
    }

    #[test]
    fn sessions_have_a_memory_cap_even_when_none_is_set() {
        let default = Session::new(SessionConfig::default()).unwrap();
        assert!(matches!(
            limit_of(&default),
            MemoryLimit::Finite(n) if n == default_memory_limit()
        ));
        assert!(default_memory_limit() > 0);
        let capped = Session::new(SessionConfig {
            memory_limit: Some(1 << 20),
            ..SessionConfig::default()
        })
        .unwrap();
        assert!(matches!(limit_of(&capped), MemoryLimit::Finite(n) if n == 1 << 20));
    }
}
