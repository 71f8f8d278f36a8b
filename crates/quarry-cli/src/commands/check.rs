//! `quarry check`: parses KQL files and the queries of Azure-Sentinel rules, binds and plans the
//! queries that parse against the embedded table schemas (unless `--syntax`), and reports every
//! diagnostic at its place in the file.

use crate::cli::{CheckArgs, Format};
use crate::commands::{CommandError, Outcome};
use crate::render::{stdout_color, FileDiagnostic, Renderer};
use quarry_engine::{EngineError, NetworkAccess, Session, SessionConfig};
use quarry_kql::Severity;
use quarry_rules::sentinel::{is_yaml_path, read_rule_query, YamlError};
use serde::Serialize;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

const BOM: &str = "\u{feff}";
const EXTENSIONS: &str = ".kql, .csl, .txt, .yaml or .yml";
/// The most threads `check` uses.
const MAX_THREADS: usize = 8;

/// What a file holds, decided by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InputKind {
    /// The whole file is one KQL query (`.kql`, `.csl`, `.txt`).
    Kql,
    /// An Azure-Sentinel rule whose `query:` is checked (`.yaml`, `.yml`).
    SentinelRule,
}

/// A file to check, or a folder entry that could not be read.
#[derive(Debug)]
enum Input {
    /// A file and how to read it.
    File(PathBuf, InputKind),
    /// Something under a folder that could not be listed.
    Unreadable(PathBuf, String),
}

/// One checked file: its text (for rendering) and its queries.
#[derive(Debug)]
struct CheckedFile {
    path: PathBuf,
    /// The file text, empty if it could not be read.
    source: String,
    queries: Vec<CheckedQuery>,
}

/// One query of a file with its diagnostics, positioned in the file.
#[derive(Debug)]
struct CheckedQuery {
    /// True when the query parsed without errors.
    parsed: bool,
    /// Parse diagnostics, then the planning diagnostic, if any.
    diagnostics: Vec<FileDiagnostic>,
    /// How binding and planning went.
    plan: PlanStatus,
}

/// How binding and planning a query went.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PlanStatus {
    /// Bound and planned.
    Ok,
    /// Valid KQL that Quarry cannot plan yet (a warning, not a failure).
    Unsupported { feature: String, message: String },
    /// Binding or planning failed: unknown names, types, …
    Error { code: String, message: String },
    /// Not planned: the query did not parse, or `--syntax` was given.
    Skipped,
}

impl PlanStatus {
    fn name(&self) -> &'static str {
        match self {
            PlanStatus::Ok => "ok",
            PlanStatus::Unsupported { .. } => "unsupported",
            PlanStatus::Error { .. } => "error",
            PlanStatus::Skipped => "skipped",
        }
    }
}

impl CheckedQuery {
    /// A query that could not even be read: it fails with one diagnostic.
    fn failed(diagnostic: FileDiagnostic) -> Self {
        CheckedQuery {
            parsed: false,
            diagnostics: vec![diagnostic],
            plan: PlanStatus::Skipped,
        }
    }

    /// True when no diagnostic (of parsing or planning) is an error.
    fn ok(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// The counts of one run.
#[derive(Debug, Default)]
struct Summary {
    total: usize,
    parsed: usize,
    planned: usize,
    unsupported: usize,
    plan_errors: usize,
    /// Whether queries were planned at all (not under `--syntax`).
    planning: bool,
}

impl Summary {
    fn of(files: &[CheckedFile], planning: bool) -> Self {
        let mut summary = Summary {
            planning,
            ..Summary::default()
        };
        for query in files.iter().flat_map(|f| &f.queries) {
            summary.total += 1;
            summary.parsed += usize::from(query.parsed);
            match query.plan {
                PlanStatus::Ok => summary.planned += 1,
                PlanStatus::Unsupported { .. } => summary.unsupported += 1,
                PlanStatus::Error { .. } => summary.plan_errors += 1,
                PlanStatus::Skipped => {}
            }
        }
        summary
    }
}

/// How long `--run` lets one query run over the empty tables.
const RUN_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

/// What checking does after parsing: plan in `session` (every embedded table, empty), and with
/// `run` also execute the plan.
struct Checker {
    session: Session,
    run: bool,
}

/// Runs `quarry check`.
pub fn run(args: &CheckArgs) -> Result<Outcome, CommandError> {
    let inputs = collect_inputs(&args.paths)?;
    // One session with every embedded table schema (as an empty table) for all queries.
    let session = if args.syntax {
        None
    } else {
        let session = Session::new(SessionConfig {
            time_limit: Some(RUN_TIME_LIMIT),
            // Every input is empty here, including lists a query would download.
            network_access: NetworkAccess::Empty,
            ..SessionConfig::default()
        })
        .map_err(|e| CommandError::Failed(format!("cannot start a session for planning: {e}")))?;
        session.register_empty_schemas(quarry_schema::Catalog::embedded());
        Some(Checker {
            session,
            run: args.run,
        })
    };
    let checked = check_inputs(&inputs, session.as_ref());
    let summary = Summary::of(&checked, session.is_some());
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Text => write_text(&mut out, &checked, &summary)?,
        Format::Json => write_json(&mut out, &checked, &summary)?,
    }
    out.flush()?;
    if summary.total == 0 {
        eprintln!("note: no queries found in the given paths (looked for {EXTENSIONS} files)");
    }
    Ok(
        if summary.parsed == summary.total && summary.plan_errors == 0 {
            Outcome::Ok
        } else {
            Outcome::Findings
        },
    )
}

/// The kind of a file from its extension, if it is one `check` reads.
fn input_kind(path: &Path) -> Option<InputKind> {
    if is_yaml_path(path) {
        return Some(InputKind::SentinelRule);
    }
    let extension = path.extension()?.to_str()?;
    ["kql", "csl", "txt"]
        .iter()
        .any(|e| extension.eq_ignore_ascii_case(e))
        .then_some(InputKind::Kql)
}

/// Expands the PATH arguments into files, in argument order (folders sorted by name).
///
/// A PATH that does not exist, or a file that is not of a known kind, is a usage error.
fn collect_inputs(paths: &[PathBuf]) -> Result<Vec<Input>, CommandError> {
    let mut inputs = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|e| {
            CommandError::Usage(if e.kind() == io::ErrorKind::NotFound {
                format!("{}: no such file or folder", path.display())
            } else {
                format!("{}: {e}", path.display())
            })
        })?;
        if metadata.is_dir() {
            collect_folder(path, &mut inputs);
        } else {
            let kind = input_kind(path).ok_or_else(|| {
                CommandError::Usage(format!(
                    "{}: not a file `check` reads (expected {EXTENSIONS})",
                    path.display()
                ))
            })?;
            inputs.push(Input::File(path.clone(), kind));
        }
    }
    Ok(inputs)
}

/// Adds every file of a known kind under `folder`.
fn collect_folder(folder: &Path, inputs: &mut Vec<Input>) {
    let walk = walkdir::WalkDir::new(folder)
        .follow_links(true)
        .sort_by_file_name();
    for entry in walk {
        match entry {
            Ok(entry) if entry.file_type().is_file() => {
                if let Some(kind) = input_kind(entry.path()) {
                    inputs.push(Input::File(entry.into_path(), kind));
                }
            }
            Ok(_) => {}
            Err(error) => {
                let path = error.path().unwrap_or(folder).to_path_buf();
                let reason = error
                    .io_error()
                    .map_or_else(|| error.to_string(), ToString::to_string);
                inputs.push(Input::Unreadable(path, reason));
            }
        }
    }
}

/// Checks every input, in order, on as many threads as there are cores: planning a query costs
/// far more than parsing it, and queries are independent (the session is only read).
fn check_inputs(inputs: &[Input], session: Option<&Checker>) -> Vec<CheckedFile> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(inputs.len())
        .min(MAX_THREADS);
    if threads <= 1 {
        return inputs
            .iter()
            .filter_map(|input| check_input(input, session))
            .collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Option<CheckedFile>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(input) = inputs.get(index) else {
                            break;
                        };
                        done.push((index, check_input(input, session)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().filter_map(|(_, file)| file).collect()
}

/// Checks one input, planning with `session` unless it is `None`; `None` for a YAML file without
/// a `query`.
fn check_input(input: &Input, session: Option<&Checker>) -> Option<CheckedFile> {
    let (path, kind) = match input {
        Input::File(path, kind) => (path, *kind),
        Input::Unreadable(path, reason) => {
            return Some(unreadable(path, format!("cannot read: {reason}")));
        }
    };
    let source = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(error) => {
                let at = error.utf8_error().valid_up_to();
                let reason = format!("not UTF-8 text (invalid byte at offset {at})");
                return Some(unreadable(path, reason));
            }
        },
        Err(error) => return Some(unreadable(path, format!("cannot read: {error}"))),
    };
    let query = match kind {
        InputKind::Kql => check_kql_file(&source, session),
        InputKind::SentinelRule => check_rule_file(&source, session)?,
    };
    Some(CheckedFile {
        path: path.clone(),
        source,
        queries: vec![query],
    })
}

/// A file that could not be read: one failed query, no source to show.
fn unreadable(path: &Path, reason: String) -> CheckedFile {
    CheckedFile {
        path: path.to_path_buf(),
        source: String::new(),
        queries: vec![CheckedQuery::failed(FileDiagnostic {
            code: "quarry::unreadable-file".to_string(),
            severity: Severity::Error,
            message: reason,
            span: None,
            label: None,
            help: None,
        })],
    }
}

/// A whole file of KQL (after a BOM, if any).
fn check_kql_file(source: &str, session: Option<&Checker>) -> CheckedQuery {
    let (shift, text) = match source.strip_prefix(BOM) {
        Some(rest) => (BOM.len(), rest),
        None => (0, source),
    };
    check_query(source, text, |offset| offset + shift, session)
}

/// The `query:` of an Azure-Sentinel rule; `None` when there is none.
fn check_rule_file(source: &str, session: Option<&Checker>) -> Option<CheckedQuery> {
    match read_rule_query(source) {
        Ok(Some(rule_query)) => Some(check_query(
            source,
            &rule_query.text,
            |offset| rule_query.file_offset(offset),
            session,
        )),
        Ok(None) => None,
        Err(error) => Some(CheckedQuery::failed(yaml_diagnostic(source, &error))),
    }
}

/// Parses `text` (and plans it in `session`, if any, when it parses) and places its diagnostics
/// in `source` through `to_file`.
fn check_query(
    source: &str,
    text: &str,
    to_file: impl Fn(usize) -> usize,
    session: Option<&Checker>,
) -> CheckedQuery {
    // A parser bug must not end the whole run: report it as a failed query and go on.
    let parsed = match std::panic::catch_unwind(|| quarry_kql::parse(text)) {
        Ok(parsed) => parsed,
        Err(_) => {
            return CheckedQuery::failed(FileDiagnostic {
                code: "quarry::parser-panic".to_string(),
                severity: Severity::Error,
                message: "internal error: the KQL parser panicked on this query".to_string(),
                span: Some((0, 0)),
                label: None,
                help: Some("please report this query as a bug".to_string()),
            });
        }
    };
    let file_span = |span: quarry_kql::Span| {
        let start = char_floor(source, to_file(span.start));
        let end = char_floor(source, to_file(span.end)).max(start);
        (start, end)
    };
    let is_ok = parsed.is_ok();
    let mut diagnostics: Vec<FileDiagnostic> = parsed
        .diagnostics
        .into_iter()
        .map(|d| FileDiagnostic {
            code: d.code.to_string(),
            severity: d.severity,
            message: d.message,
            span: Some(file_span(d.span)),
            label: d.label,
            help: d.help,
        })
        .collect();
    let plan = match session {
        Some(session) if is_ok => {
            let (plan, diagnostic) = plan_query(session, text);
            if let Some(mut diagnostic) = diagnostic {
                diagnostic.span = diagnostic.span.map(|(s, e)| {
                    file_span(quarry_kql::Span {
                        start: s,
                        end: e.max(s),
                    })
                });
                diagnostics.push(diagnostic);
            }
            plan
        }
        _ => PlanStatus::Skipped,
    };
    CheckedQuery {
        parsed: is_ok,
        diagnostics,
        plan,
    }
}

/// Executes a query that plans, over the empty tables: what fails only when a plan runs (a
/// file `externaldata` cannot read, an operator DataFusion rejects while executing).
fn run_query(session: &Session, text: &str) -> (PlanStatus, Option<FileDiagnostic>) {
    let run = || -> Result<(), EngineError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EngineError::Execution(e.into()))?;
        runtime.block_on(session.run(text)).map(|_| ())
    };
    let message = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(())) => return (PlanStatus::Ok, None),
        Ok(Err(error)) => format!("running over empty tables failed: {error}"),
        Err(_) => "internal error: running this query over empty tables panicked".to_string(),
    };
    let code = "quarry::run-error".to_string();
    let diagnostic = FileDiagnostic {
        code: code.clone(),
        severity: Severity::Error,
        message: message.clone(),
        span: Some((0, 0)),
        label: None,
        help: None,
    };
    (PlanStatus::Error { code, message }, Some(diagnostic))
}

/// Binds and plans a query that parses; the outcome and its diagnostic, whose span is still in
/// the query text.
fn plan_query(checker: &Checker, text: &str) -> (PlanStatus, Option<FileDiagnostic>) {
    let session = &checker.session;
    // A planner bug must not end the whole run either.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.plan_only(text)));
    let error = match result {
        Ok(Ok(())) if checker.run => return run_query(session, text),
        Ok(Ok(())) => return (PlanStatus::Ok, None),
        Ok(Err(error)) => error,
        Err(_) => {
            let message = "internal error: the planner panicked on this query".to_string();
            let diagnostic = FileDiagnostic {
                code: "quarry::planner-panic".to_string(),
                severity: Severity::Error,
                message: message.clone(),
                span: Some((0, 0)),
                label: None,
                help: Some("please report this query as a bug".to_string()),
            };
            let code = diagnostic.code.clone();
            return (PlanStatus::Error { code, message }, Some(diagnostic));
        }
    };
    match error {
        EngineError::NotSupported { feature, span } => unsupported(
            feature.clone(),
            format!("not supported yet: {feature}"),
            span,
        ),
        EngineError::Bind {
            message,
            span,
            help,
        } => {
            // Rule templates and parameters are filled in by whoever runs the rule: a query that
            // uses them is not wrong, `check` just cannot plan it without values.
            let feature = if message.starts_with("the template placeholder") {
                Some("rule template placeholders")
            } else if message.starts_with("query parameter") && message.ends_with("has no value") {
                Some("query parameters without a value")
            } else {
                None
            };
            if let Some(feature) = feature {
                let text = format!("not supported yet: {feature} ({message})");
                return unsupported(feature.to_string(), text, span);
            }
            let code = bind_code(&message).to_string();
            let diagnostic = FileDiagnostic {
                code: code.clone(),
                severity: Severity::Error,
                message: message.clone(),
                span: Some((span.start, span.end)),
                label: None,
                help,
            };
            (PlanStatus::Error { code, message }, Some(diagnostic))
        }
        other => {
            let code = "quarry::plan-error".to_string();
            let message = match &other {
                // Nothing runs here: a DataFusion error is a planning failure.
                EngineError::Execution(error) => format!("planning failed: {error}"),
                _ => other.to_string(),
            };
            let diagnostic = FileDiagnostic {
                code: code.clone(),
                severity: Severity::Error,
                message: message.clone(),
                span: other.span().map(|s| (s.start, s.end)),
                label: None,
                help: None,
            };
            (PlanStatus::Error { code, message }, Some(diagnostic))
        }
    }
}

/// An unsupported feature at `span` of the query: a warning.
fn unsupported(
    feature: String,
    message: String,
    span: quarry_kql::Span,
) -> (PlanStatus, Option<FileDiagnostic>) {
    let diagnostic = FileDiagnostic {
        code: "quarry::not-supported".to_string(),
        severity: Severity::Warning,
        message: message.clone(),
        span: Some((span.start, span.end)),
        label: Some("not supported yet".to_string()),
        help: Some(
            "this is valid KQL that Quarry cannot plan yet; it does not fail the check".to_string(),
        ),
    };
    (
        PlanStatus::Unsupported { feature, message },
        Some(diagnostic),
    )
}

/// The diagnostic code of a binding error, from its message.
fn bind_code(message: &str) -> &'static str {
    if message.starts_with("unknown table") {
        "quarry::unknown-table"
    } else if message.starts_with("unknown column") {
        "quarry::unknown-column"
    } else if message.starts_with("unknown function") {
        "quarry::unknown-function"
    } else {
        "quarry::bind-error"
    }
}

/// A YAML error as a diagnostic at its line and column.
fn yaml_diagnostic(source: &str, error: &YamlError) -> FileDiagnostic {
    let yaml = source.strip_prefix(BOM).unwrap_or(source);
    let offset = source.len() - yaml.len() + offset_of(yaml, error.line, error.column);
    FileDiagnostic {
        code: "yaml::invalid".to_string(),
        severity: Severity::Error,
        message: format!("the rule is not valid YAML: {}", error.message),
        span: Some((offset, offset)),
        label: Some(error.message.clone()),
        help: None,
    }
}

/// The byte offset of a 1-based line and (character) column, clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let line_len = rest.find(['\r', '\n']).unwrap_or(rest.len());
    start
        + rest[..line_len]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line_len, |(i, _)| i)
}

/// `offset` clamped to `text` and moved back to a character boundary.
fn char_floor(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Rendered diagnostics, then the summary line.
fn write_text(out: &mut impl Write, files: &[CheckedFile], summary: &Summary) -> io::Result<()> {
    let renderer = Renderer::new(stdout_color());
    for file in files {
        if file.queries.iter().all(|q| q.diagnostics.is_empty()) {
            continue;
        }
        let name = file.path.display().to_string();
        let source = miette::NamedSource::new(&name, file.source.clone());
        for diagnostic in file.queries.iter().flat_map(|q| &q.diagnostics) {
            out.write_all(renderer.render(&source, diagnostic).as_bytes())?;
            writeln!(out)?;
        }
    }
    let Summary {
        total,
        parsed,
        planned,
        unsupported,
        plan_errors,
        planning,
    } = *summary;
    if planning {
        writeln!(
            out,
            "planned {planned} of {total} queries ({unsupported} not supported yet, {plan_errors} errors)"
        )?;
    }
    writeln!(out, "parsed {parsed} of {total} queries")
}

/// The JSON document of `--format json`.
#[derive(Serialize)]
struct JsonReport<'a> {
    files: Vec<JsonFile<'a>>,
    parsed: usize,
    total: usize,
    planned: usize,
    unsupported: usize,
    plan_errors: usize,
    unsupported_features: Vec<JsonFeature<'a>>,
}

/// How many queries use a feature Quarry cannot plan yet.
#[derive(Serialize)]
struct JsonFeature<'a> {
    feature: &'a str,
    count: usize,
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: String,
    queries: Vec<JsonQuery<'a>>,
}

#[derive(Serialize)]
struct JsonQuery<'a> {
    ok: bool,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    plan: JsonPlan<'a>,
}

/// How binding and planning went: `status` is `ok`, `unsupported`, `error` or `skipped`.
#[derive(Serialize)]
struct JsonPlan<'a> {
    status: &'static str,
    code: Option<&'a str>,
    message: Option<&'a str>,
    feature: Option<&'a str>,
}

fn json_plan(plan: &PlanStatus) -> JsonPlan<'_> {
    let (code, message, feature) = match plan {
        PlanStatus::Ok | PlanStatus::Skipped => (None, None, None),
        PlanStatus::Unsupported { feature, message } => (
            Some("quarry::not-supported"),
            Some(message.as_str()),
            Some(feature.as_str()),
        ),
        PlanStatus::Error { code, message } => (Some(code.as_str()), Some(message.as_str()), None),
    };
    JsonPlan {
        status: plan.name(),
        code,
        message,
        feature,
    }
}

/// A diagnostic with 1-based line/column and byte offsets in the file (null when unknown).
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    end_line: Option<usize>,
    end_column: Option<usize>,
    start: Option<usize>,
    end: Option<usize>,
    label: Option<&'a str>,
    help: Option<&'a str>,
}

/// One JSON document on one line.
fn write_json(out: &mut impl Write, files: &[CheckedFile], summary: &Summary) -> io::Result<()> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for query in files.iter().flat_map(|f| &f.queries) {
        if let PlanStatus::Unsupported { feature, .. } = &query.plan {
            *counts.entry(feature.as_str()).or_default() += 1;
        }
    }
    let mut unsupported_features: Vec<JsonFeature> = counts
        .into_iter()
        .map(|(feature, count)| JsonFeature { feature, count })
        .collect();
    unsupported_features.sort_by(|a, b| b.count.cmp(&a.count).then(a.feature.cmp(b.feature)));
    let report = JsonReport {
        files: files.iter().map(json_file).collect(),
        parsed: summary.parsed,
        total: summary.total,
        planned: summary.planned,
        unsupported: summary.unsupported,
        plan_errors: summary.plan_errors,
        unsupported_features,
    };
    serde_json::to_writer(&mut *out, &report).map_err(io::Error::from)?;
    writeln!(out)
}

fn json_file(file: &CheckedFile) -> JsonFile<'_> {
    let queries = file
        .queries
        .iter()
        .map(|q| JsonQuery {
            ok: q.ok(),
            diagnostics: q
                .diagnostics
                .iter()
                .map(|d| json_diagnostic(&file.source, d))
                .collect(),
            plan: json_plan(&q.plan),
        })
        .collect();
    JsonFile {
        path: file.path.display().to_string(),
        queries,
    }
}

fn json_diagnostic<'a>(source: &str, d: &'a FileDiagnostic) -> JsonDiagnostic<'a> {
    let (start, end) = match d.span {
        Some((start, end)) => (Some(start), Some(end)),
        None => (None, None),
    };
    let start_pos = start.map(|o| quarry_kql::line_col(source, o));
    let end_pos = end.map(|o| quarry_kql::line_col(source, o));
    JsonDiagnostic {
        code: &d.code,
        severity: d.severity,
        message: &d.message,
        line: start_pos.map(|p| p.0),
        column: start_pos.map(|p| p.1),
        end_line: end_pos.map(|p| p.0),
        end_column: end_pos.map(|p| p.1),
        start,
        end,
        label: d.label.as_deref(),
        help: d.help.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension() {
        assert_eq!(input_kind(Path::new("a.kql")), Some(InputKind::Kql));
        assert_eq!(input_kind(Path::new("a.CSL")), Some(InputKind::Kql));
        assert_eq!(input_kind(Path::new("a.txt")), Some(InputKind::Kql));
        assert_eq!(
            input_kind(Path::new("a.yml")),
            Some(InputKind::SentinelRule)
        );
        assert_eq!(input_kind(Path::new("a.json")), None);
        assert_eq!(input_kind(Path::new("README")), None);
    }

    #[test]
    fn offsets_of_lines_and_columns() {
        let text = "ab\r\ncdé\nf";
        assert_eq!(offset_of(text, 1, 1), 0);
        assert_eq!(offset_of(text, 2, 3), 6);
        assert_eq!(offset_of(text, 2, 9), 8);
        assert_eq!(offset_of(text, 1, 9), 2);
        assert_eq!(offset_of(text, 3, 1), 9);
        assert_eq!(offset_of(text, 7, 1), text.len());
        assert_eq!(char_floor(text, 7), 6);
    }
}
