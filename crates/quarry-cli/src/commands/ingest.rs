//! `quarry ingest`: loads telemetry files into the workspace, one atomic commit per file, with a
//! progress bar on stderr and a summary of accepted and rejected records.

use crate::cli::{Format, IngestArgs};
use crate::commands::{CommandError, Outcome};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quarry_ingest::formats::Format as InputFormat;
use quarry_ingest::{ingest_file, FileReport, IngestOptions, Progress, Workspace};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// File extensions read when a folder is given (a file named explicitly is always read).
const DATA_EXTENSIONS: [&str; 7] = ["json", "jsonl", "ndjson", "csv", "tsv", "evtx", "parquet"];

/// Runs `quarry ingest`.
pub fn run(args: &IngestArgs) -> Result<Outcome, CommandError> {
    let format = match &args.format {
        Some(name) => Some(InputFormat::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = InputFormat::ALL.iter().map(|f| f.name()).collect();
            CommandError::Usage(format!(
                "--format {name}: unknown format (expected one of {})",
                names.join(", ")
            ))
        })?),
        None => None,
    };
    let files = input_files(&args.paths)?;
    let options = IngestOptions {
        format,
        table: args.table.clone(),
    };
    let mut workspace = Workspace::open_for_writing(&args.workspace.workspace)
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    let total_bytes: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(total_bytes);
    let started = Instant::now();
    let mut reports: Vec<FileReport> = Vec::new();
    let mut failures: Vec<(PathBuf, String)> = Vec::new();
    let mut done_bytes = 0u64;
    let mut done_records = 0u64;
    for file in &files {
        let base = done_bytes;
        let base_records = done_records;
        let shown = file.display().to_string();
        let mut on_progress = |p: Progress| {
            bar.set_position(base + p.bytes);
            let events = base_records + p.records;
            let rate = events as f64 / started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{events} events ({rate:.0}/s) {shown}"));
        };
        match ingest_file(&mut workspace, file, &options, &mut on_progress) {
            Ok(report) => {
                done_bytes += report.bytes;
                done_records += report.total_accepted() + report.rejected;
                reports.push(report);
            }
            Err(error) => {
                done_bytes += std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
                failures.push((file.clone(), error.to_string()));
            }
        }
        bar.set_position(done_bytes);
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64().max(1e-9);
    let accepted: u64 = reports.iter().map(FileReport::total_accepted).sum();
    let rejected: u64 = reports.iter().map(|r| r.rejected).sum();
    let skipped = reports.iter().filter(|r| r.already_ingested).count();
    match args.report {
        Format::Json => {
            let files: Vec<_> = reports
                .iter()
                .map(|r| {
                    json!({
                        "path": r.path.display().to_string(),
                        "format": r.format.map(|f| f.name()),
                        "bytes": r.bytes,
                        "already_ingested": r.already_ingested,
                        "accepted": r.accepted,
                        "rejected": r.rejected,
                        "rejects_file": r.rejects_file.as_ref().map(|p| p.display().to_string()),
                        "inferred_tables": r.inferred_tables,
                        "dropped_fields": r.dropped_fields,
                    })
                })
                .collect();
            let failed: Vec<_> = failures
                .iter()
                .map(|(path, error)| json!({"path": path.display().to_string(), "error": error}))
                .collect();
            let document = json!({
                "workspace": args.workspace.workspace.display().to_string(),
                "files": files,
                "failed": failed,
                "accepted": accepted,
                "rejected": rejected,
                "already_ingested": skipped,
                "seconds": elapsed,
                "bytes": total_bytes,
            });
            println!("{document:#}");
        }
        Format::Text => {
            for report in &reports {
                print_report(report);
            }
            for (path, error) in &failures {
                println!("{}: failed: {error}", path.display());
            }
            let mb = total_bytes as f64 / 1e6;
            println!(
                "ingested {} of {} files into {}: {accepted} records accepted, {rejected} rejected{} in {elapsed:.2} s ({:.0} events/s, {:.1} MB/s)",
                files.len() - failures.len(),
                files.len(),
                args.workspace.workspace.display(),
                if skipped > 0 {
                    format!(", {skipped} files already ingested")
                } else {
                    String::new()
                },
                (accepted + rejected) as f64 / elapsed,
                mb / elapsed,
            );
        }
    }
    Ok(if failures.is_empty() && rejected == 0 {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// One file's line of the text summary, plus its rejects and dropped fields.
fn print_report(report: &FileReport) {
    let path = report.path.display();
    if report.already_ingested {
        println!("{path}: already ingested, nothing added");
        return;
    }
    let tables: Vec<String> = report
        .accepted
        .iter()
        .map(|(table, count)| format!("{table} {count}"))
        .collect();
    println!(
        "{path} ({}): {} accepted ({}), {} rejected",
        report.format.map(|f| f.name()).unwrap_or("?"),
        report.total_accepted(),
        tables.join(", "),
        report.rejected
    );
    if let Some(rejects) = &report.rejects_file {
        println!("  rejects: {}", rejects.display());
    }
    for table in &report.inferred_tables {
        println!("  {table}: custom table, schema inferred from the data");
    }
    for (table, fields) in &report.dropped_fields {
        let mut fields: Vec<(&String, &u64)> = fields.iter().collect();
        fields.sort_by(|a, b| b.1.cmp(a.1));
        let shown: Vec<String> = fields
            .iter()
            .take(5)
            .map(|(name, count)| format!("{name} ({count})"))
            .collect();
        let more = fields.len().saturating_sub(5);
        println!(
            "  {table}: fields without a column, dropped: {}{}",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
}

/// The files to read: files as given, folders searched recursively for data files.
fn input_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CommandError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
        } else if path.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file() && is_data_file(e.path()))
                .map(|e| e.into_path())
                .collect();
            found.sort();
            files.extend(found);
        } else {
            return Err(CommandError::Usage(format!(
                "{}: no such file or folder",
                path.display()
            )));
        }
    }
    Ok(files)
}

/// Whether a file found in a folder is one ingest reads (by extension).
fn is_data_file(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'));
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    !hidden && DATA_EXTENSIONS.contains(&extension.as_str())
}

/// A progress bar over `total` bytes on stderr (hidden when stderr is not a terminal).
pub(crate) fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}
