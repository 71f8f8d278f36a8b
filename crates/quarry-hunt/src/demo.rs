//! `quarry demo`: generate the demo telemetry into a fresh workspace, import the demo rule pack
//! into its catalog, hunt with `now()` pinned to the end of the data, and match what fired
//! against the planted scenarios.

use crate::checker::EngineChecker;
use crate::findings::FindingsStore;
use crate::hunt::{
    run_hunt, store_runs, HuntOptions, HuntStatus, ParameterValues, RuleRun, WindowOptions,
};
use quarry_engine::session::default_memory_limit;
use quarry_ingest::demo::{self, DemoConfig, Scenario};
use quarry_ingest::{ingest_records, FileReport, Progress, Workspace};
use quarry_rules::catalog::{Catalog, RuleFilter, CATALOG_FILE};
use quarry_rules::import::{import_repository, NoChecker, QueryChecker};
use quarry_rules::model::FunctionLibrary;
use quarry_rules::source::{open_repository, RepositoryOptions};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the demo rule pack is written inside the demo workspace (then imported from there).
pub const DEMO_RULES_FOLDER: &str = "demo-rules";

/// What to build and where.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The workspace folder; replaced if it holds a workspace, refused if it holds anything else.
    pub workspace: PathBuf,
    /// Generator settings.
    pub config: DemoConfig,
    /// The time the rules are imported at (RFC 3339).
    pub now: String,
}

/// A planted scenario and whether the hunt found it.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    /// The scenario.
    pub scenario: &'static Scenario,
    /// Whether its rule fired on its device or account.
    pub found: bool,
}

/// Everything the demo did.
#[derive(Debug)]
pub struct DemoReport {
    /// The ingest of the generated data.
    pub ingest: FileReport,
    /// How long generating and ingesting took.
    pub ingest_time: Duration,
    /// The pinned `now` (the latest time in the data).
    pub now: i64,
    /// One run per rule of the pack.
    pub runs: Vec<RuleRun>,
    /// The hunt's id in the workspace database.
    pub run_id: i64,
    /// How long the hunt took.
    pub hunt_time: Duration,
    /// Each planted scenario and whether it was found.
    pub scenarios: Vec<ScenarioResult>,
    /// Rules that fired on something no planted scenario explains: (rule name, rows).
    pub unexplained: Vec<(String, usize)>,
}

impl DemoReport {
    /// Whether every planted scenario was found.
    pub fn all_found(&self) -> bool {
        self.scenarios.iter().all(|s| s.found)
    }
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The folder exists and is not a workspace: refusing to replace it.
    #[error("{0}: exists and is not a Quarry workspace; refusing to replace it (choose another --workspace)")]
    NotAWorkspace(PathBuf),
    /// Removing the old demo workspace or writing the rule pack failed.
    #[error("{path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Ingest failed.
    #[error(transparent)]
    Ingest(#[from] quarry_ingest::IngestError),
    /// The workspace could not be opened or read.
    #[error(transparent)]
    Workspace(#[from] quarry_ingest::WorkspaceError),
    /// The rule pack could not be imported or read back (a defect of this build).
    #[error("demo rule pack: {0}")]
    Rules(String),
}

/// Writes the demo rule pack as YAML files under `folder`.
fn write_rule_pack(folder: &Path) -> Result<(), DemoError> {
    let io = |source| DemoError::Io {
        path: folder.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(folder).map_err(io)?;
    for (name, text) in demo::rule_pack() {
        std::fs::write(folder.join(name), text).map_err(io)?;
    }
    Ok(())
}

/// Builds the demo workspace, imports the demo rules, hunts, and matches the results against
/// the planted scenarios.
pub fn run_demo(
    options: &DemoOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<DemoReport, DemoError> {
    prepare_folder(&options.workspace)?;
    let started = Instant::now();
    let mut workspace = Workspace::open_for_writing(&options.workspace)?;
    let identity = format!(
        "demo seed={} events={} end={}",
        options.config.seed, options.config.events, options.config.end_nanos
    );
    let ingest = ingest_records(
        &mut workspace,
        "quarry demo",
        &identity,
        demo::generate(&options.config),
        progress,
    )?;
    let ingest_time = started.elapsed();

    let rules_folder = options.workspace.join(DEMO_RULES_FOLDER);
    write_rule_pack(&rules_folder)?;
    let catalog_path = options.workspace.join(CATALOG_FILE);
    let mut catalog = Catalog::open(&catalog_path).map_err(|e| DemoError::Rules(e.to_string()))?;
    let source = open_repository(
        &rules_folder.to_string_lossy(),
        &RepositoryOptions {
            origin: Some("quarry demo rule pack".into()),
            now: options.now.clone(),
            ..RepositoryOptions::default()
        },
    )
    .map_err(|e| DemoError::Rules(e.to_string()))?;
    let make_checker = |functions: &FunctionLibrary| -> Box<dyn QueryChecker> {
        match EngineChecker::new(functions) {
            Ok(checker) => Box::new(checker),
            Err(_) => Box::new(NoChecker),
        }
    };
    import_repository(&mut catalog, &source, &make_checker)
        .map_err(|e| DemoError::Rules(e.to_string()))?;
    let summaries = catalog
        .list(&RuleFilter::default())
        .map_err(|e| DemoError::Rules(e.to_string()))?;
    let mut records = Vec::new();
    for summary in &summaries {
        let found = catalog
            .rule(&summary.path)
            .map_err(|e| DemoError::Rules(e.to_string()))?;
        records.extend(found.into_iter().filter(|r| r.summary.pk == summary.pk));
    }

    let mut values = ParameterValues::default();
    for (placeholder, value) in demo::placeholder_values() {
        values
            .global
            .insert((*placeholder).to_string(), (*value).to_string());
    }
    let hunt_options = HuntOptions {
        values,
        window: WindowOptions::default(),
        concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
        time_limit: Some(Duration::from_secs(300)),
        memory_limit: default_memory_limit(),
        max_findings_per_rule: 10_000,
        functions: FunctionLibrary::new(),
        shared_scans: true,
        network_access: Default::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| DemoError::Rules(format!("cannot start the query runtime: {e}")))?;
    let hunt_started = Instant::now();
    let (mut runs, _shared) = runtime.block_on(run_hunt(&workspace, &records, &hunt_options));
    let hunt_time = hunt_started.elapsed();
    let mut store =
        FindingsStore::open(&catalog_path).map_err(|e| DemoError::Rules(e.to_string()))?;
    let run_id = store
        .start_run(&options.now)
        .map_err(|e| DemoError::Rules(e.to_string()))?;
    store_runs(&mut store, run_id, &mut runs).map_err(|e| DemoError::Rules(e.to_string()))?;
    store
        .finish_run(run_id, &options.now, &Value::Null)
        .map_err(|e| DemoError::Rules(e.to_string()))?;
    let now = runs
        .iter()
        .filter_map(|r| r.window.as_ref().map(|w| w.now))
        .max()
        .unwrap_or(options.config.end_nanos);
    let (scenarios, unexplained) = match_scenarios(&runs);
    Ok(DemoReport {
        ingest,
        ingest_time,
        now,
        runs,
        run_id,
        hunt_time,
        scenarios,
        unexplained,
    })
}

/// Empties the demo folder: removes an old workspace there, refuses anything else.
fn prepare_folder(folder: &Path) -> Result<(), DemoError> {
    if !folder.exists() {
        return Ok(());
    }
    let is_empty = std::fs::read_dir(folder)
        .map_err(|source| DemoError::Io {
            path: folder.to_path_buf(),
            source,
        })?
        .next()
        .is_none();
    if is_empty {
        return Ok(());
    }
    if !folder
        .join(quarry_ingest::workspace::MANIFEST_FILE)
        .is_file()
    {
        return Err(DemoError::NotAWorkspace(folder.to_path_buf()));
    }
    std::fs::remove_dir_all(folder).map_err(|source| DemoError::Io {
        path: folder.to_path_buf(),
        source,
    })
}

/// Which scenarios the runs found, and which hits no scenario explains. A scenario is found
/// when its rule returned a row naming its device or account; a row that names no planted
/// scenario's device or account is unexplained.
fn match_scenarios(runs: &[RuleRun]) -> (Vec<ScenarioResult>, Vec<(String, usize)>) {
    let scenarios: Vec<ScenarioResult> = demo::scenarios()
        .iter()
        .map(|scenario| {
            let found = runs.iter().any(|run| {
                run.rule_id.eq_ignore_ascii_case(scenario.rule_id)
                    && matches!(run.status, HuntStatus::Hits(_))
                    && run.findings.iter().any(|f| row_names(&f.row, scenario))
            });
            ScenarioResult { scenario, found }
        })
        .collect();
    let mut unexplained = Vec::new();
    for run in runs {
        let HuntStatus::Hits(rows) = run.status else {
            continue;
        };
        // A row naming any planted scenario's device or account belongs to the attack (the
        // C2 server also serves the tool another scenario downloads); the rest is clean data.
        let explained = run
            .findings
            .iter()
            .filter(|f| demo::scenarios().iter().any(|s| row_names(&f.row, s)))
            .count();
        if explained < rows {
            unexplained.push((run.name.clone(), rows - explained));
        }
    }
    (scenarios, unexplained)
}

/// Whether a row names the scenario's device or account (case-insensitively, anywhere in its
/// cells); a scenario with neither matches every row.
fn row_names(row: &serde_json::Map<String, Value>, scenario: &Scenario) -> bool {
    let needles: Vec<String> = [scenario.device, scenario.account]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if needles.is_empty() {
        return true;
    }
    row.values().any(|value| {
        let text = match value {
            Value::String(s) => s.to_ascii_lowercase(),
            other => other.to_string().to_ascii_lowercase(),
        };
        needles.iter().any(|n| text.contains(n.as_str()))
    })
}
