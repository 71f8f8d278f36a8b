//! CSV inputs with a header row. Export decorations on header names are removed
//! (`TimeGenerated [UTC]` → `TimeGenerated`); every value is read as text and typed later by
//! the table's schema.

use super::Item;
use crate::record::Position;
use serde_json::{Map, Value};
use std::io::Read;

/// Suffixes that exports add to column names to say which clock a time is in.
const HEADER_SUFFIXES: [&str; 3] = [" [UTC]", " [Local Time]", " (UTC)"];

/// A header name without export decorations.
pub fn clean_header(name: &str) -> String {
    let name = name.trim_start_matches('\u{feff}').trim();
    for suffix in HEADER_SUFFIXES {
        if let Some(base) = name.strip_suffix(suffix) {
            return base.trim().to_string();
        }
    }
    name.to_string()
}

/// Reads CSV rows from `reader` as objects keyed by the cleaned header names; `progress` gets
/// the bytes consumed so far.
pub fn read<R: Read>(
    reader: R,
    mut sink: impl FnMut(Item),
    mut progress: impl FnMut(u64),
) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| format!("unreadable header row: {e}"))?
        .iter()
        .map(clean_header)
        .collect();
    let mut record = csv::StringRecord::new();
    let mut rows = 0u64;
    loop {
        let line = csv.position().line() + 1;
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| p.line());
                let item = if record.len() > headers.len() {
                    Err(format!(
                        "{} fields, but the header has {}",
                        record.len(),
                        headers.len()
                    ))
                } else {
                    let object: Map<String, Value> = headers
                        .iter()
                        .zip(record.iter())
                        .map(|(name, value)| (name.clone(), Value::String(value.to_string())))
                        .collect();
                    Ok(object)
                };
                sink((Position::Line(line), item));
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                sink((Position::Line(line), Err(format!("unreadable CSV: {e}"))));
                if !matches!(
                    e.kind(),
                    csv::ErrorKind::Utf8 { .. } | csv::ErrorKind::UnequalLengths { .. }
                ) {
                    break;
                }
            }
        }
        rows += 1;
        if rows.is_multiple_of(4096) {
            progress(csv.position().byte());
        }
    }
    progress(csv.position().byte());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_lose_their_clock_suffix_and_long_rows_are_errors() {
        let text = "TimeGenerated [UTC],Computer\n2024-01-01T00:00:00Z,DC01\n1,2,3\n";
        let mut items = Vec::new();
        read(text.as_bytes(), |item| items.push(item), |_| {}).unwrap();
        assert_eq!(items.len(), 2);
        let first = items[0].1.as_ref().unwrap();
        assert_eq!(first["TimeGenerated"], "2024-01-01T00:00:00Z");
        assert_eq!(items[1].0, Position::Line(3));
        assert!(items[1].1.is_err());
    }
}
