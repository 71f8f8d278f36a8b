//! `quarry check`: parses KQL files and the queries of Azure-Sentinel rules and reports every
//! diagnostic at its place in the file.

use crate::cli::{CheckArgs, Format};
use crate::commands::{CommandError, Outcome};
use crate::render::{stdout_color, FileDiagnostic, Renderer};
use quarry_kql::Severity;
use quarry_rules::sentinel::{is_yaml_path, read_rule_query, YamlError};
use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

const BOM: &str = "\u{feff}";
const EXTENSIONS: &str = ".kql, .csl, .txt, .yaml or .yml";

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
    diagnostics: Vec<FileDiagnostic>,
}

impl CheckedQuery {
    /// A query that could not even be read: it fails with one diagnostic.
    fn failed(diagnostic: FileDiagnostic) -> Self {
        CheckedQuery {
            diagnostics: vec![diagnostic],
        }
    }

    /// True when no diagnostic is an error.
    fn ok(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// Runs `quarry check`.
pub fn run(args: &CheckArgs) -> Result<Outcome, CommandError> {
    // Binding does not exist yet, so with or without --syntax the check is the same: parse only.
    let _parse_only = args.syntax;
    let inputs = collect_inputs(&args.paths)?;
    let checked: Vec<CheckedFile> = inputs.iter().filter_map(check_input).collect();
    let total: usize = checked.iter().map(|f| f.queries.len()).sum();
    let parsed = checked
        .iter()
        .flat_map(|f| &f.queries)
        .filter(|q| q.ok())
        .count();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Text => write_text(&mut out, &checked, parsed, total)?,
        Format::Json => write_json(&mut out, &checked, parsed, total)?,
    }
    out.flush()?;
    if total == 0 {
        eprintln!("note: no queries found in the given paths (looked for {EXTENSIONS} files)");
    }
    Ok(if parsed == total {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
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

/// Checks one input; `None` for a YAML file without a `query`.
fn check_input(input: &Input) -> Option<CheckedFile> {
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
        InputKind::Kql => check_kql_file(&source),
        InputKind::SentinelRule => check_rule_file(&source)?,
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
fn check_kql_file(source: &str) -> CheckedQuery {
    let (shift, text) = match source.strip_prefix(BOM) {
        Some(rest) => (BOM.len(), rest),
        None => (0, source),
    };
    check_query(source, text, |offset| offset + shift)
}

/// The `query:` of an Azure-Sentinel rule; `None` when there is none.
fn check_rule_file(source: &str) -> Option<CheckedQuery> {
    match read_rule_query(source) {
        Ok(Some(rule_query)) => Some(check_query(source, &rule_query.text, |offset| {
            rule_query.file_offset(offset)
        })),
        Ok(None) => None,
        Err(error) => Some(CheckedQuery::failed(yaml_diagnostic(source, &error))),
    }
}

/// Parses `text` and places its diagnostics in `source` through `to_file`.
fn check_query(source: &str, text: &str, to_file: impl Fn(usize) -> usize) -> CheckedQuery {
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
    let diagnostics = parsed
        .diagnostics
        .into_iter()
        .map(|d| {
            let start = char_floor(source, to_file(d.span.start));
            let end = char_floor(source, to_file(d.span.end)).max(start);
            FileDiagnostic {
                code: d.code.to_string(),
                severity: d.severity,
                message: d.message,
                span: Some((start, end)),
                label: d.label,
                help: d.help,
            }
        })
        .collect();
    CheckedQuery { diagnostics }
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
fn write_text(
    out: &mut impl Write,
    files: &[CheckedFile],
    parsed: usize,
    total: usize,
) -> io::Result<()> {
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
    writeln!(out, "parsed {parsed} of {total} queries")
}

/// The JSON document of `--format json`.
#[derive(Serialize)]
struct JsonReport<'a> {
    files: Vec<JsonFile<'a>>,
    parsed: usize,
    total: usize,
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
fn write_json(
    out: &mut impl Write,
    files: &[CheckedFile],
    parsed: usize,
    total: usize,
) -> io::Result<()> {
    let report = JsonReport {
        files: files.iter().map(json_file).collect(),
        parsed,
        total,
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
