//! Input formats: detection from a file's first bytes, and readers that turn a file into a
//! stream of JSON objects with their positions. Which table each object belongs to is decided
//! afterwards (`route`), so one reader serves every export that shares a container format.

pub mod csv;
pub(crate) mod flat_json;
pub mod json;
mod json_scan;
pub mod parquet;

use crate::record::Position;
use serde_json::{Map, Value};
use std::io::Read;
use std::path::Path;

/// An input format, detected or forced with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON object per line: Log Analytics exports (`Type` names the table), Defender
    /// streaming records, flat Windows events, or rows already in a table's shape.
    Ndjson,
    /// One JSON document: a Defender advanced hunting API response (`Schema` + `Results`), a
    /// Log Analytics query API response (`tables`), a streaming batch (`records`), or an array.
    Json,
    /// CSV with a header row: the Defender portal's export, Log Analytics exports with
    /// `Column [UTC]` headers, or rows in a table's shape.
    Csv,
    /// Windows event log files.
    Evtx,
    /// Parquet files in a table's shape.
    Parquet,
}

impl Format {
    /// Every format, for `--format` help and errors.
    pub const ALL: [Format; 5] = [
        Format::Ndjson,
        Format::Json,
        Format::Csv,
        Format::Evtx,
        Format::Parquet,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Ndjson => "ndjson",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Evtx => "evtx",
            Format::Parquet => "parquet",
        }
    }

    /// The format called `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .or(match name.to_ascii_lowercase().as_str() {
                "jsonl" | "json-lines" => Some(Format::Ndjson),
                _ => None,
            })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Detects the format of the file at `path` from its first bytes (and its extension when the
/// bytes do not decide): `None` when it is none of the formats.
pub fn detect(path: &Path) -> std::io::Result<Option<Format>> {
    let mut head = Vec::with_capacity(64 * 1024);
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    if head.starts_with(crate::windows::evtx::MAGIC) {
        return Ok(Some(Format::Evtx));
    }
    if head.starts_with(b"PAR1") {
        return Ok(Some(Format::Parquet));
    }
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('[') {
        return Ok(Some(Format::Json));
    }
    if text.starts_with('{') {
        // One object per line, unless the first object spans lines (a pretty-printed document).
        let first_line = text.lines().next().unwrap_or("");
        return Ok(Some(
            if serde_json::from_str::<Value>(first_line.trim()).is_ok() {
                Format::Ndjson
            } else {
                Format::Json
            },
        ));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(extension.as_deref(), Some("csv" | "tsv")) || looks_like_csv(text) {
        return Ok(Some(Format::Csv));
    }
    Ok(None)
}

/// Whether text starts with a plausible CSV header (several comma-separated names).
fn looks_like_csv(text: &str) -> bool {
    let header = text.lines().next().unwrap_or("");
    header.split(',').count() >= 2 && !header.contains('\0')
}

/// One item a reader yields: a JSON object, or why the item at that position is unreadable.
pub type Item = (Position, Result<Map<String, Value>, String>);
