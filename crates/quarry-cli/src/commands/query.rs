//! `quarry query`: runs one KQL query in a session over `--table` files and prints the result.

use crate::cli::{QueryArgs, QueryFormat};
use crate::commands::{runtime, table_files, CommandError, Outcome};
use crate::render::{stderr_color, FileDiagnostic, Renderer};
use quarry_engine::format::{write_csv, write_json, write_ndjson, write_table};
use quarry_engine::{EngineError, NetworkAccess, QueryOutput, SessionConfig};
use quarry_kql::Severity;
use std::io::{self, Read, Write};
use std::path::Path;

const BOM: &str = "\u{feff}";

/// Runs `quarry query`.
pub fn run(args: &QueryArgs) -> Result<Outcome, CommandError> {
    let (source_name, text) = read_query(args)?;
    let config = SessionConfig {
        now_nanos: args.now,
        parameters: args.params.iter().cloned().collect(),
        time_limit: args.timeout,
        max_rows: args.max_rows,
        network_access: network_access(args.allow_network),
        ..SessionConfig::default()
    };
    let runtime = runtime()?;
    #[cfg(feature = "distributed")]
    let (cluster, workspace) = crate::commands::cluster::connect_with_workspace(
        &runtime,
        args.cluster.as_deref(),
        &args.workspace.workspace,
    )?;
    #[cfg(feature = "distributed")]
    let workspace = &workspace;
    #[cfg(feature = "distributed")]
    let session = crate::commands::cluster::session(cluster.as_ref(), config, workspace)?;
    #[cfg(not(feature = "distributed"))]
    let workspace = &args.workspace.workspace;
    #[cfg(not(feature = "distributed"))]
    let session = quarry_engine::Session::new(config)
        .map_err(|e| CommandError::Failed(format!("cannot create the session: {e}")))?;
    if workspace
        .join(quarry_ingest::workspace::MANIFEST_FILE)
        .is_file()
    {
        let workspace = quarry_ingest::Workspace::open(workspace)
            .map_err(|e| CommandError::Failed(e.to_string()))?;
        workspace
            .register(&session)
            .map_err(|e| CommandError::Failed(e.to_string()))?;
    }
    let result = runtime.block_on(async {
        for (name, path) in &args.tables {
            table_files::register(&session, name, Path::new(path)).await?;
        }
        if args.explain {
            return Ok::<_, CommandError>(session.explain(&text).await.map(Explained::Plans));
        }
        Ok::<_, CommandError>(session.run(&text).await.map(Explained::Ran))
    });
    // A query stopped by its time limit may leave work running on the runtime's threads; do not
    // wait for it.
    runtime.shutdown_background();
    let result = result?;
    match result {
        Ok(Explained::Plans(plans)) => {
            println!("{plans}");
            Ok(Outcome::Ok)
        }
        Ok(Explained::Ran(output)) => {
            write_output(&output, args.format)?;
            if output.truncated {
                eprintln!(
                    "note: the result was truncated to {} rows (--max-rows)",
                    output.row_count()
                );
            }
            Ok(Outcome::Ok)
        }
        Err(error) => {
            report_error(&source_name, &text, &error);
            #[cfg(feature = "distributed")]
            if cluster.is_some() {
                let note = quarry_distributed::client::explain_failure(
                    &session,
                    &text,
                    &error.to_string(),
                );
                if let Some(note) = note {
                    eprintln!("note: {note}");
                }
            }
            Ok(Outcome::Findings)
        }
    }
}

/// What `quarry query` produced: the result, or with `--explain` the plans.
enum Explained {
    Ran(QueryOutput),
    Plans(String),
}

/// The query text and the name it is shown under: `<query>`, the file name, or `<stdin>`.
fn read_query(args: &QueryArgs) -> Result<(String, String), CommandError> {
    let (name, text) = match (&args.query, &args.file) {
        (Some(text), _) => ("<query>".to_string(), text.clone()),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            io::stdin().read_to_string(&mut text).map_err(|e| {
                CommandError::Usage(format!("cannot read the query from stdin: {e}"))
            })?;
            ("<stdin>".to_string(), text)
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CommandError::Usage(if e.kind() == io::ErrorKind::NotFound {
                    format!("{}: no such file", path.display())
                } else {
                    format!("{}: cannot read: {e}", path.display())
                })
            })?;
            (path.display().to_string(), text)
        }
        (None, None) => {
            return Err(CommandError::Usage(
                "give the query as an argument or with -f FILE".to_string(),
            ))
        }
    };
    let text = text.strip_prefix(BOM).map(str::to_string).unwrap_or(text);
    Ok((name, text))
}

/// The result on stdout in `format`.
fn write_output(output: &QueryOutput, format: QueryFormat) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match format {
        QueryFormat::Table => write_table(output, &mut out)?,
        QueryFormat::Json => write_json(output, &mut out)?,
        QueryFormat::Csv => write_csv(output, &mut out)?,
        QueryFormat::Ndjson => write_ndjson(output, &mut out)?,
    }
    out.flush()
}

/// An engine error on stderr: positioned errors as reports pointing into the query, the rest as
/// one line.
fn report_error(source_name: &str, text: &str, error: &EngineError) {
    let diagnostics = diagnostics_of(text, error);
    if diagnostics.is_empty() {
        eprintln!("error: {error}");
        return;
    }
    let renderer = Renderer::new(stderr_color());
    let source = miette::NamedSource::new(source_name, text.to_string());
    let mut err = io::stderr().lock();
    for diagnostic in &diagnostics {
        let _ = err.write_all(renderer.render(&source, diagnostic).as_bytes());
        let _ = writeln!(err);
    }
}

/// The reports of an error that points into the query; empty for execution errors.
fn diagnostics_of(text: &str, error: &EngineError) -> Vec<FileDiagnostic> {
    let span = |start: usize, end: usize| {
        let start = char_floor(text, start);
        Some((start, char_floor(text, end).max(start)))
    };
    match error {
        EngineError::Syntax(diagnostics) => diagnostics
            .iter()
            .map(|d| FileDiagnostic {
                code: d.code.to_string(),
                severity: d.severity,
                message: d.message.clone(),
                span: span(d.span.start, d.span.end),
                label: d.label.clone(),
                help: d.help.clone(),
            })
            .collect(),
        EngineError::Bind {
            message,
            span: at,
            help,
        } => vec![FileDiagnostic {
            code: "quarry::bind".to_string(),
            severity: Severity::Error,
            message: message.clone(),
            span: span(at.start, at.end),
            label: None,
            help: help.clone(),
        }],
        EngineError::NotSupported { feature, span: at } => vec![FileDiagnostic {
            code: "quarry::not-supported".to_string(),
            severity: Severity::Error,
            message: format!("not supported yet: {feature}"),
            span: span(at.start, at.end),
            label: Some("Quarry does not run this yet".to_string()),
            help: None,
        }],
        _ => Vec::new(),
    }
}

/// `offset` clamped to `text` and moved back to a character boundary.
fn char_floor(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The network access `--allow-network` asks for.
pub(crate) fn network_access(allow: bool) -> NetworkAccess {
    if allow {
        NetworkAccess::Fetch
    } else {
        NetworkAccess::Refuse
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_kql::Span;

    #[test]
    fn positioned_errors_become_diagnostics() {
        let text = "T | where é == 1";
        let bind = EngineError::bind_with_help(
            "unknown column `é`",
            Span::new(10, 12),
            "did you mean `e`?",
        );
        let diagnostics = diagnostics_of(text, &bind);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].span, Some((10, 12)));
        assert_eq!(diagnostics[0].help.as_deref(), Some("did you mean `e`?"));
        let unsupported = EngineError::unsupported("operator make-graph", Span::new(11, 99));
        assert_eq!(
            diagnostics_of(text, &unsupported)[0].span,
            Some((10, text.len()))
        );
        let timeout = EngineError::Timeout(std::time::Duration::from_secs(1));
        assert!(diagnostics_of(text, &timeout).is_empty());
    }
}
