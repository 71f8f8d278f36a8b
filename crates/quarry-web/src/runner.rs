//! Runs a query started from a page — a rule's Run button or the query page — inside the
//! limits of the server (time, memory, rows, runs at once), and shapes the outcome for the
//! browser: columns and rows as JSON, the `render` request, and errors with their spans.

use crate::state::{AppState, Snapshot};
use quarry_engine::format::{json_rows, kusto_type_name};
use quarry_engine::values::format_datetime;
use quarry_engine::{EngineError, QueryOutput, RenderRequest, SessionConfig};
use quarry_hunt::hunt::{prepare, HuntOptions, ParameterValues, Prepared, SkipReason};
use quarry_rules::catalog::RuleRecord;
use quarry_rules::model::FunctionLibrary;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Limits of one query run from the web.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Wall-clock limit of one run.
    pub time_limit: Duration,
    /// Memory cap of one run, in bytes.
    pub memory_limit: usize,
    /// Rows returned at most (the rest is dropped and the result marked truncated).
    pub max_rows: usize,
    /// Runs at the same time; more wait for a slot.
    pub concurrent_runs: usize,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            time_limit: Duration::from_secs(30),
            memory_limit: 1 << 30,
            max_rows: 10_000,
            concurrent_runs: 2,
        }
    }
}

/// A column of a result.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// Its Kusto type (`string`, `datetime`, `long`, …).
    #[serde(rename = "type")]
    pub kusto_type: &'static str,
}

/// A problem located in the query text. Offsets are in UTF-16 code units (what the browser's
/// strings count), line and column are 1-based.
#[derive(Debug, Clone, Serialize)]
pub struct Located {
    /// What is wrong.
    pub message: String,
    /// A suggestion.
    pub help: Option<String>,
    /// Start offset in the query, UTF-16 units.
    pub start: usize,
    /// End offset, UTF-16 units.
    pub end: usize,
    /// 1-based line of the start.
    pub line: usize,
    /// 1-based column of the start (characters).
    pub column: usize,
}

/// The time window a rule ran over.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    /// Its start.
    pub start: String,
    /// `now()`.
    pub now: String,
}

/// The outcome of a run, as the pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// `ok`, `error`, `skipped` or `timed-out`.
    pub status: &'static str,
    /// The query text that ran (parameters filled).
    pub query: String,
    /// The rule's window, for rule runs.
    pub window: Option<Window>,
    /// The result's columns.
    pub columns: Vec<Column>,
    /// The rows, one JSON array per row.
    pub rows: Vec<Vec<Value>>,
    /// True when rows beyond the row limit were dropped.
    pub truncated: bool,
    /// The `render` request of the query.
    pub render: Option<RenderRequest>,
    /// Wall time.
    pub elapsed_ms: u64,
    /// Bytes read from Parquet.
    pub bytes_scanned: u64,
    /// Problems that did not stop the query.
    pub warnings: Vec<String>,
    /// Why it failed or was skipped.
    pub message: Option<String>,
    /// Where in the query it failed.
    pub errors: Vec<Located>,
}

impl RunResult {
    fn failed(status: &'static str, query: &str, message: String) -> RunResult {
        RunResult {
            status,
            query: query.to_string(),
            window: None,
            columns: Vec::new(),
            rows: Vec::new(),
            truncated: false,
            render: None,
            elapsed_ms: 0,
            bytes_scanned: 0,
            warnings: Vec::new(),
            message: Some(message),
            errors: Vec::new(),
        }
    }
}

fn utf16_offset(text: &str, byte: usize) -> usize {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    text[..byte].encode_utf16().count()
}

fn locate(text: &str, message: String, help: Option<String>, span: (usize, usize)) -> Located {
    let (line, column) = quarry_kql::line_col(text, span.0.min(text.len()));
    Located {
        message,
        help,
        start: utf16_offset(text, span.0),
        end: utf16_offset(text, span.1.max(span.0)),
        line,
        column,
    }
}

/// The located problems of an engine error (none for execution errors).
pub fn locate_error(text: &str, error: &EngineError) -> Vec<Located> {
    match error {
        EngineError::Syntax(diagnostics) => diagnostics
            .iter()
            .map(|d| {
                locate(
                    text,
                    d.message.clone(),
                    d.help.clone(),
                    (d.span.start, d.span.end),
                )
            })
            .collect(),
        EngineError::Bind {
            message,
            span,
            help,
        } => vec![locate(
            text,
            message.clone(),
            help.clone(),
            (span.start, span.end),
        )],
        EngineError::NotSupported { feature, span } => vec![locate(
            text,
            format!("not supported yet: {feature}"),
            None,
            (span.start, span.end),
        )],
        _ => Vec::new(),
    }
}

/// A failed run: the engine's error and, from the session factory, a note explaining it (why a
/// cluster rejected the query, for instance).
#[derive(Debug)]
pub struct RunFailure {
    /// The error.
    pub error: EngineError,
    /// The explanation, when there is one.
    pub note: Option<String>,
}

impl From<EngineError> for RunFailure {
    fn from(error: EngineError) -> Self {
        RunFailure { error, note: None }
    }
}

impl std::fmt::Display for RunFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.error)?;
        if let Some(note) = &self.note {
            write!(f, "\nnote: {note}")?;
        }
        Ok(())
    }
}

/// Runs `text` over the workspace with the server's limits; `now` pins `now()`. The session
/// comes from the server's session factory (this process, or a cluster).
pub async fn run_raw(
    state: &AppState,
    snapshot: &Snapshot,
    text: &str,
    now: Option<i64>,
) -> Result<QueryOutput, RunFailure> {
    let limits = state.limits();
    let slots = state.run_slots();
    // Waiting for a slot counts against nothing: the limit is on running, not queueing.
    let _permit = slots
        .acquire_owned()
        .await
        .map_err(|_| EngineError::Cancelled)?;
    let config = SessionConfig {
        now_nanos: now,
        memory_limit: Some(limits.memory_limit),
        time_limit: Some(limits.time_limit),
        max_rows: Some(limits.max_rows),
        // No watchlist folder: a query reads nothing but the workspace's tables.
        watchlist_dir: None,
        ..SessionConfig::default()
    };
    let factory = state.sessions();
    let session = factory.session(config, snapshot.workspace.as_ref().map(|w| w.root()))?;
    if let Some(workspace) = &snapshot.workspace {
        workspace
            .register(&session)
            .map_err(|e| EngineError::bind(e.to_string(), quarry_kql::Span::new(0, 0)))?;
    }
    if let Ok(functions) = state.functions(snapshot) {
        functions.register(&session);
    }
    match session.run(text).await {
        Ok(output) => Ok(output),
        Err(error) => {
            let note = factory.explain_failure(&session, text, &error);
            Err(RunFailure { error, note })
        }
    }
}

/// Runs `text` and shapes the outcome.
pub async fn run_text(
    state: &AppState,
    snapshot: &Snapshot,
    text: &str,
    now: Option<i64>,
) -> RunResult {
    let started = Instant::now();
    let result = run_raw(state, snapshot, text, now).await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut shaped = shape(text, result);
    shaped.elapsed_ms = elapsed_ms;
    shaped
}

fn shape(text: &str, result: Result<QueryOutput, RunFailure>) -> RunResult {
    match result {
        Ok(output) => RunResult {
            status: "ok",
            query: text.to_string(),
            window: None,
            columns: output
                .schema
                .fields()
                .iter()
                .map(|f| Column {
                    name: f.name().clone(),
                    kusto_type: kusto_type_name(f.data_type()),
                })
                .collect(),
            rows: json_rows(&output),
            truncated: output.truncated,
            render: output.render.clone(),
            elapsed_ms: 0,
            bytes_scanned: output.scan.bytes_scanned,
            warnings: output.warnings.iter().map(|w| w.message.clone()).collect(),
            message: None,
            errors: Vec::new(),
        },
        Err(failure) => {
            let status = if matches!(failure.error, EngineError::Timeout(_)) {
                "timed-out"
            } else {
                "error"
            };
            let mut failed = RunResult::failed(status, text, failure.to_string());
            failed.errors = locate_error(text, &failure.error);
            failed
        }
    }
}

/// A rule ready to run with the user's parameter values, or why it cannot run here.
pub fn prepare_rule(
    record: &RuleRecord,
    snapshot: &Snapshot,
    params: &BTreeMap<String, String>,
) -> Result<Prepared, SkipReason> {
    let Some(workspace) = &snapshot.workspace else {
        return Err(SkipReason::MissingTable {
            table: record.analysis.tables.first().cloned().unwrap_or_default(),
        });
    };
    let mut values = ParameterValues::default();
    // An empty field of the form means "not given", so the rule reports the missing parameter.
    let given: BTreeMap<String, String> = params
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect();
    values.per_rule.insert(record.rule.id.clone(), given);
    let options = HuntOptions {
        values,
        window: Default::default(),
        concurrency: 1,
        time_limit: None,
        memory_limit: 0,
        max_findings_per_rule: 0,
        functions: FunctionLibrary::new(),
        shared_scans: false,
        network_access: Default::default(),
    };
    prepare(record, workspace.manifest(), &options)
}

/// Runs a catalog rule with parameter values.
pub async fn run_rule(
    state: &AppState,
    snapshot: &Snapshot,
    record: &RuleRecord,
    params: &BTreeMap<String, String>,
) -> RunResult {
    match prepare_rule(record, snapshot, params) {
        Err(reason) => {
            let mut skipped = RunResult::failed("skipped", &record.rule.query, reason.to_string());
            if let SkipReason::Unsupported {
                span: Some(span), ..
            } = &reason
            {
                skipped.errors = vec![locate(&record.rule.query, reason.to_string(), None, *span)];
            }
            skipped
        }
        Ok(prepared) => {
            let mut result =
                run_text(state, snapshot, &prepared.query, Some(prepared.window.now)).await;
            result.window = Some(Window {
                start: format_datetime(prepared.window.start, true),
                now: format_datetime(prepared.window.now, true),
            });
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_become_utf16_offsets_with_line_and_column() {
        let text = "T\n| where é == 1 | where 😀x";
        let byte = text.find("😀x").unwrap();
        let located = locate(text, "m".into(), None, (byte, byte + 5));
        assert_eq!(located.line, 2);
        assert_eq!(located.start, text[..byte].encode_utf16().count());
        assert_eq!(located.end - located.start, 3);
        // Offsets past the end or inside a character do not panic.
        let odd = locate(text, "m".into(), None, (byte + 1, 999));
        assert!(odd.end >= odd.start);
    }

    #[test]
    fn a_failure_shows_its_note_after_the_error() {
        let text = "T | where x == 1";
        let failure = RunFailure {
            error: EngineError::bind("unknown column `x`", quarry_kql::Span::new(10, 11)),
            note: Some("the cluster says why".into()),
        };
        let shaped = shape(text, Err(failure));
        assert_eq!(shaped.status, "error");
        let message = shaped.message.unwrap();
        assert!(message.contains("unknown column `x`"), "{message}");
        assert!(
            message.ends_with("\nnote: the cluster says why"),
            "{message}"
        );
        assert_eq!(shaped.errors.len(), 1);
        let timeout = shape(
            text,
            Err(EngineError::Timeout(Duration::from_secs(1)).into()),
        );
        assert_eq!(timeout.status, "timed-out");
        assert!(!timeout.message.unwrap().contains("note:"));
    }
}
