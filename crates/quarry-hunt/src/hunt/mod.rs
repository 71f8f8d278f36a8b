//! A hunt: catalog rules × the workspace × parameters. Each rule is prepared (skipped with the
//! reason when it cannot run here), run concurrently with a pinned `now`, a time limit and a
//! share of the memory cap, and its result rows become findings.

mod params;
mod prepare;
mod shared;
mod window;

pub use params::{is_required, kql_value, ParameterError, ParameterValues};
pub use prepare::{prepare, Prepared, SkipReason};
pub use shared::{load_shared, SharedTables};
pub use window::{
    latest_event, parse_lookback, rule_window, NowSource, RuleWindow, WindowOptions,
    DEFAULT_LOOKBACK_NANOS,
};

use crate::findings::{finding_of, Finding, FindingsError, FindingsStore};
use crate::functions::CompiledLibrary;
use futures::StreamExt;
use quarry_engine::{EngineError, Session, SessionConfig};
use quarry_ingest::Workspace;
use quarry_rules::catalog::RuleRecord;
use quarry_rules::model::FunctionLibrary;
use serde::Serialize;
use std::time::{Duration, Instant};

/// How a hunt runs.
#[derive(Debug, Clone)]
pub struct HuntOptions {
    /// Parameter values.
    pub values: ParameterValues,
    /// `--from` / `--to`.
    pub window: WindowOptions,
    /// Rules run at the same time.
    pub concurrency: usize,
    /// Wall-clock limit of one rule.
    pub time_limit: Option<Duration>,
    /// Memory cap of the whole hunt, shared by the rules running at once.
    pub memory_limit: usize,
    /// Result rows kept per rule (the rest are counted, not stored).
    pub max_findings_per_rule: usize,
    /// Stored functions (parsers) the rules may call.
    pub functions: FunctionLibrary,
    /// Decode tables read by several rules once and share them (within half the memory cap).
    pub shared_scans: bool,
    /// What `externaldata` does with a source at a network address.
    pub network_access: quarry_engine::NetworkAccess,
}

/// How one rule's run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status", content = "detail")]
pub enum HuntStatus {
    /// The rule returned rows.
    Hits(usize),
    /// The rule ran and returned nothing.
    NoHits,
    /// The rule did not run, for this reason.
    Skipped(SkipReason),
    /// The rule failed while planning or running.
    Error(String),
    /// The rule ran out of time.
    TimedOut(u64),
}

impl HuntStatus {
    /// A short label: `hits`, `no-hits`, `skipped`, `error`, `timed-out`.
    pub fn label(&self) -> &'static str {
        match self {
            HuntStatus::Hits(_) => "hits",
            HuntStatus::NoHits => "no-hits",
            HuntStatus::Skipped(_) => "skipped",
            HuntStatus::Error(_) => "error",
            HuntStatus::TimedOut(_) => "timed-out",
        }
    }
}

/// One rule's part of a hunt.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRun {
    /// Upstream id.
    pub rule_id: String,
    /// Name.
    pub name: String,
    /// Path in its source.
    pub path: String,
    /// Catalog revision run.
    pub revision: i64,
    /// Severity (upstream or inferred).
    pub severity: String,
    /// ATT&CK tactics.
    pub tactics: Vec<String>,
    /// ATT&CK techniques.
    pub techniques: Vec<String>,
    /// Tables read.
    pub tables: Vec<String>,
    /// How it ended.
    pub status: HuntStatus,
    /// Its time window (when it ran).
    pub window: Option<RuleWindow>,
    /// Wall time.
    pub elapsed_ms: u64,
    /// Result rows kept as findings.
    pub findings: Vec<Finding>,
    /// Of the findings, those never seen in an earlier run (set when stored).
    pub new_findings: usize,
    /// Bytes read from Parquet.
    pub bytes_scanned: u64,
    /// Rows in the tables it read (the events it looked at, before filters).
    pub events_in_tables: u64,
}

/// Makes the session a rule runs in from its configuration ([`Session::new`] by default; a
/// cluster client passes its own).
pub type MakeSession<'a> = dyn Fn(SessionConfig) -> quarry_engine::Result<Session> + Sync + 'a;

/// Runs `rules` over `workspace`. Skipped rules are decided first (no engine work); the others
/// run `options.concurrency` at a time.
pub async fn run_hunt(
    workspace: &Workspace,
    rules: &[RuleRecord],
    options: &HuntOptions,
) -> (Vec<RuleRun>, SharedTables) {
    run_hunt_with(workspace, rules, options, &Session::new).await
}

/// [`run_hunt`] with each rule's session made by `make_session`.
pub async fn run_hunt_with(
    workspace: &Workspace,
    rules: &[RuleRecord],
    options: &HuntOptions,
    make_session: &MakeSession<'_>,
) -> (Vec<RuleRun>, SharedTables) {
    let concurrency = options.concurrency.max(1);
    let library = CompiledLibrary::compile(&options.functions);
    let prepared: Vec<Result<Prepared, SkipReason>> = rules
        .iter()
        .map(|record| prepare(record, workspace.manifest(), options))
        .collect();
    let shared = if options.shared_scans {
        let mut readers: std::collections::BTreeMap<String, usize> =
            std::collections::BTreeMap::new();
        for (record, prepared) in rules.iter().zip(&prepared) {
            if prepared.is_ok() {
                for table in &record.analysis.tables {
                    *readers.entry(table.clone()).or_insert(0) += 1;
                }
            }
        }
        let partitions = std::thread::available_parallelism().map_or(2, |n| n.get());
        load_shared(
            workspace,
            &readers,
            (options.memory_limit / 2) as u64,
            partitions,
        )
        .await
    } else {
        SharedTables::default()
    };
    // What the shared tables hold no longer counts against the rules' share of the cap.
    let available = options.memory_limit.saturating_sub(shared.bytes);
    let per_rule_memory = (available / concurrency).max(64 << 20);
    let setup = RuleSetup {
        shared: &shared,
        library: &library,
        make_session,
    };
    let setup = &setup;
    let jobs = rules
        .iter()
        .zip(prepared)
        .map(|(record, prepared)| async move {
            run_one(workspace, setup, record, prepared, options, per_rule_memory).await
        });
    let runs = futures::stream::iter(jobs)
        .buffered(concurrency)
        .collect()
        .await;
    (runs, shared)
}

/// Stores every rule's result and findings in run `run_id`, setting each run's count of new
/// findings.
pub fn store_runs(
    store: &mut FindingsStore,
    run_id: i64,
    runs: &mut [RuleRun],
) -> Result<(), FindingsError> {
    for run in runs {
        let detail = match &run.status {
            HuntStatus::Skipped(reason) => Some(reason.to_string()),
            HuntStatus::Error(message) => Some(message.clone()),
            HuntStatus::TimedOut(secs) => Some(format!("stopped after {secs} s")),
            HuntStatus::Hits(_) | HuntStatus::NoHits => None,
        };
        let now = run
            .window
            .as_ref()
            .map(|w| quarry_engine::values::format_datetime(w.now, true));
        run.new_findings = store.record_rule(
            run_id,
            &run.rule_id,
            &run.path,
            run.revision,
            run.status.label(),
            detail.as_deref(),
            run.elapsed_ms,
            now.as_deref(),
            &run.findings,
        )?;
    }
    Ok(())
}

fn base_run(record: &RuleRecord) -> RuleRun {
    RuleRun {
        rule_id: record.rule.id.clone(),
        name: record.rule.name.clone(),
        path: record.rule.provenance.path.clone(),
        revision: record.summary.revision,
        severity: record.enrichment.severity.value.clone(),
        tactics: record
            .enrichment
            .tactics
            .iter()
            .map(|t| t.value.clone())
            .collect(),
        techniques: record
            .enrichment
            .techniques
            .iter()
            .map(|t| t.value.clone())
            .collect(),
        tables: record.analysis.tables.clone(),
        status: HuntStatus::NoHits,
        window: None,
        elapsed_ms: 0,
        findings: Vec::new(),
        new_findings: 0,
        bytes_scanned: 0,
        events_in_tables: 0,
    }
}

/// What every rule's session is made from.
struct RuleSetup<'a> {
    shared: &'a SharedTables,
    library: &'a CompiledLibrary,
    make_session: &'a MakeSession<'a>,
}

async fn run_one(
    workspace: &Workspace,
    setup: &RuleSetup<'_>,
    record: &RuleRecord,
    prepared: Result<Prepared, SkipReason>,
    options: &HuntOptions,
    memory_limit: usize,
) -> RuleRun {
    let mut run = base_run(record);
    let prepared = match prepared {
        Ok(prepared) => prepared,
        Err(reason) => {
            run.status = HuntStatus::Skipped(reason);
            return run;
        }
    };
    run.window = Some(prepared.window.clone());
    run.events_in_tables = record
        .analysis
        .tables
        .iter()
        .filter_map(|t| workspace.manifest().tables.get(t))
        .map(|e| e.rows())
        .sum();
    let started = Instant::now();
    let config = SessionConfig {
        now_nanos: Some(prepared.window.now),
        memory_limit: Some(memory_limit),
        time_limit: options.time_limit,
        max_rows: Some(options.max_findings_per_rule),
        network_access: options.network_access,
        ..SessionConfig::default()
    };
    let result = match (setup.make_session)(config) {
        Ok(session) => match workspace.register(&session) {
            Ok(()) => {
                setup.shared.register(&session);
                setup.library.register(&session);
                session.run(&prepared.query).await
            }
            Err(error) => Err(EngineError::Bind {
                message: error.to_string(),
                span: quarry_kql::Span { start: 0, end: 0 },
                help: None,
            }),
        },
        Err(error) => Err(error),
    };
    run.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(output) => {
            run.bytes_scanned = output.scan.bytes_scanned;
            let names: Vec<String> = output
                .schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let rows = quarry_engine::format::json_rows(&output);
            let count = rows.len();
            run.findings = rows
                .into_iter()
                .map(|values| {
                    let row = names.iter().cloned().zip(values).collect();
                    finding_of(row, &record.rule.entity_mappings)
                })
                .collect();
            run.status = if count == 0 {
                HuntStatus::NoHits
            } else {
                HuntStatus::Hits(count)
            };
        }
        Err(EngineError::Timeout(limit)) => {
            run.status = HuntStatus::TimedOut(limit.as_secs());
        }
        Err(EngineError::NotSupported { feature, span }) => {
            run.status = HuntStatus::Skipped(SkipReason::Unsupported {
                feature,
                span: Some((span.start, span.end)),
            });
        }
        // A rule that reads parsers passes the table check when some of its sources exist;
        // a table it needs outright can still be missing, and that is a skip, not a failure.
        Err(error) if error.missing_table().is_some() => {
            let table = error.missing_table().unwrap_or_default().to_string();
            run.status = HuntStatus::Skipped(SkipReason::MissingTable { table });
        }
        Err(error) => run.status = HuntStatus::Error(error.to_string()),
    }
    run
}
