//! `quarry demo`: generate the demo telemetry into a fresh workspace, run the demo rule pack over
//! it with `now()` pinned to the end of the data, and match what fired against the planted
//! scenarios.

use crate::rule::{load_rule, RunnableRule};
use crate::run::{latest_time, run_rules, RuleOutcome, RuleStatus};
use quarry_engine::format::cell_to_text;
use quarry_engine::{QueryOutput, Session, SessionConfig};
use quarry_ingest::demo::{self, DemoConfig, Scenario};
use quarry_ingest::{ingest_records, FileReport, Progress, Workspace};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to build and where.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The workspace folder; replaced if it holds a workspace, refused if it holds anything else.
    pub workspace: PathBuf,
    /// Generator settings.
    pub config: DemoConfig,
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
    /// One outcome per rule of the pack.
    pub outcomes: Vec<RuleOutcome>,
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
    /// Removing the old demo workspace failed.
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
    /// A bundled rule is broken (a defect of this build).
    #[error("demo rule pack: {0}")]
    Rule(String),
    /// The query engine could not start.
    #[error("query engine: {0}")]
    Engine(String),
}

/// The demo rule pack as runnable rules, placeholders filled with the demo's values.
pub fn demo_rules() -> Result<Vec<RunnableRule>, DemoError> {
    demo::rule_pack()
        .iter()
        .map(|(name, text)| load_rule(name, text, demo::placeholder_values()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(DemoError::Rule)
}

/// Builds the demo workspace, hunts, and matches the results against the planted scenarios.
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
    let now = latest_time(&workspace).unwrap_or(options.config.end_nanos);
    let rules = demo_rules()?;
    let session = Session::new(SessionConfig {
        now_nanos: Some(now),
        ..SessionConfig::default()
    })
    .map_err(|e| DemoError::Engine(e.to_string()))?;
    session.register_empty_schemas(quarry_schema::Catalog::embedded());
    workspace.register(&session)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| DemoError::Engine(e.to_string()))?;
    let hunt_started = Instant::now();
    let outcomes = runtime.block_on(run_rules(&session, &rules));
    let hunt_time = hunt_started.elapsed();
    let (scenarios, unexplained) = match_scenarios(&outcomes);
    Ok(DemoReport {
        ingest,
        ingest_time,
        now,
        outcomes,
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

/// Which scenarios the outcomes found, and which hits no scenario explains. A scenario is found
/// when its rule returned a row naming its device or account; a row that names no planted
/// scenario's device or account is unexplained.
fn match_scenarios(outcomes: &[RuleOutcome]) -> (Vec<ScenarioResult>, Vec<(String, usize)>) {
    let scenarios: Vec<ScenarioResult> = demo::scenarios()
        .iter()
        .map(|scenario| {
            let found = outcomes.iter().any(|outcome| {
                outcome
                    .rule
                    .header
                    .id
                    .eq_ignore_ascii_case(scenario.rule_id)
                    && matches!(outcome.status, RuleStatus::Hits(_))
                    && outcome
                        .output
                        .as_ref()
                        .is_some_and(|o| rows_naming(o, scenario) > 0)
            });
            ScenarioResult { scenario, found }
        })
        .collect();
    let mut unexplained = Vec::new();
    for outcome in outcomes {
        let (RuleStatus::Hits(rows), Some(output)) = (&outcome.status, &outcome.output) else {
            continue;
        };
        // A row naming any planted scenario's device or account belongs to the attack (the
        // C2 server also serves the tool another scenario downloads); the rest is clean data.
        let explained = (0..output.row_count())
            .filter(|&row| demo::scenarios().iter().any(|s| row_names(output, row, s)))
            .count();
        if explained < *rows {
            unexplained.push((outcome.rule.header.name.clone(), rows - explained));
        }
    }
    (scenarios, unexplained)
}

/// Rows of `output` that name the scenario's device or account.
fn rows_naming(output: &QueryOutput, scenario: &Scenario) -> usize {
    (0..output.row_count())
        .filter(|&row| row_names(output, row, scenario))
        .count()
}

/// Whether row `row` (counted over all batches) names the scenario's device or account
/// (case-insensitively, anywhere in its cells); a scenario with neither matches every row.
fn row_names(output: &QueryOutput, row: usize, scenario: &Scenario) -> bool {
    let needles: Vec<String> = [scenario.device, scenario.account]
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect();
    if needles.is_empty() {
        return true;
    }
    let mut remaining = row;
    for batch in &output.batches {
        if remaining >= batch.num_rows() {
            remaining -= batch.num_rows();
            continue;
        }
        return batch.columns().iter().any(|column| {
            let text = cell_to_text(column.as_ref(), remaining).to_ascii_lowercase();
            needles.iter().any(|n| text.contains(n.as_str()))
        });
    }
    false
}
