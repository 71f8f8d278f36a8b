//! `quarry tables`: the workspace's tables with row counts, time ranges and sizes on disk.

use crate::cli::{Format, TablesArgs};
use crate::commands::{CommandError, Outcome};
use quarry_engine::values::format_datetime;
use quarry_hunt::report::human_bytes;
use quarry_ingest::workspace::manifest::TableEntry;
use quarry_ingest::Workspace;
use serde_json::json;

/// Runs `quarry tables`.
pub fn run(args: &TablesArgs) -> Result<Outcome, CommandError> {
    let workspace = Workspace::open(&args.workspace.workspace)
        .map_err(|e| CommandError::Usage(e.to_string()))?;
    let tables = &workspace.manifest().tables;
    match args.format {
        Format::Json => {
            let rows: Vec<_> = tables
                .iter()
                .map(|(name, entry)| {
                    let (first, last) = time_range(entry);
                    json!({
                        "table": name,
                        "rows": entry.rows(),
                        "first": first,
                        "last": last,
                        "bytes": entry.bytes(),
                        "files": entry.files.len(),
                        "inferred_schema": entry.inferred,
                    })
                })
                .collect();
            println!(
                "{:#}",
                json!({"workspace": args.workspace.workspace.display().to_string(), "tables": rows})
            );
        }
        Format::Text => {
            let header = ["table", "rows", "first", "last", "size", "files"];
            let mut lines: Vec<[String; 6]> = Vec::new();
            for (name, entry) in tables {
                let (first, last) = time_range(entry);
                let label = if entry.inferred {
                    format!("{name} (inferred schema)")
                } else {
                    name.clone()
                };
                lines.push([
                    label,
                    entry.rows().to_string(),
                    first.unwrap_or_default(),
                    last.unwrap_or_default(),
                    human_bytes(entry.bytes()),
                    entry.files.len().to_string(),
                ]);
            }
            let widths: Vec<usize> = (0..6)
                .map(|i| {
                    lines
                        .iter()
                        .map(|l| l[i].chars().count())
                        .chain([header[i].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let print = |cells: &[String]| {
                let text: Vec<String> = cells
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        if i == 1 || i == 4 || i == 5 {
                            format!("{c:>w$}", w = widths[i])
                        } else {
                            format!("{c:<w$}", w = widths[i])
                        }
                    })
                    .collect();
                println!("{}", text.join("  ").trim_end());
            };
            print(&header.map(String::from));
            for line in &lines {
                print(line);
            }
            let rows: u64 = tables.values().map(TableEntry::rows).sum();
            let bytes: u64 = tables.values().map(TableEntry::bytes).sum();
            println!(
                "{} tables, {rows} rows, {} on disk",
                tables.len(),
                human_bytes(bytes)
            );
        }
    }
    Ok(Outcome::Ok)
}

/// The first and last time of a table's time column (TimeGenerated, else Timestamp).
fn time_range(entry: &TableEntry) -> (Option<String>, Option<String>) {
    let range = entry
        .time_range("TimeGenerated")
        .or_else(|| entry.time_range("Timestamp"));
    match range {
        Some((first, last)) => (
            Some(format_datetime(first, true)),
            Some(format_datetime(last, true)),
        ),
        None => (None, None),
    }
}
