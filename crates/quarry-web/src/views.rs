//! Small pieces every page uses: URL query strings, labels and CSS classes. Values are plain
//! text here; the templates escape them.

use quarry_engine::values::format_datetime;
use quarry_ingest::workspace::manifest::TableEntry;
use serde::Serialize;

/// Percent-encodes a query-string component.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A query string from pairs, skipping empty values: `?a=1&b=x%20y`.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let parts: Vec<String> = pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The last part of a repository URL or path: `Azure-Sentinel`.
pub fn source_label(repository: &str) -> String {
    repository
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(repository)
        .to_string()
}

/// CSS class of a severity badge.
pub fn severity_class(severity: &str) -> &'static str {
    match severity.to_ascii_lowercase().as_str() {
        "high" | "critical" => "sev-high",
        "medium" => "sev-medium",
        "low" => "sev-low",
        "informational" => "sev-info",
        _ => "sev-none",
    }
}

/// A workspace table as listed on the data page and in the API.
#[derive(Debug, Clone, Serialize)]
pub struct TableInfo {
    /// Its name.
    pub table: String,
    /// Rows.
    pub rows: u64,
    /// First event time.
    pub first: Option<String>,
    /// Last event time.
    pub last: Option<String>,
    /// Bytes on disk.
    pub bytes: u64,
    /// Size on disk, for people.
    pub size: String,
    /// Parquet files.
    pub files: usize,
    /// Whether its schema was inferred from the data.
    pub inferred_schema: bool,
}

/// Describes a workspace table.
pub fn table_info(name: &str, entry: &TableEntry) -> TableInfo {
    let range = entry
        .time_range("TimeGenerated")
        .or_else(|| entry.time_range("Timestamp"));
    TableInfo {
        table: name.to_string(),
        rows: entry.rows(),
        first: range.map(|(first, _)| format_datetime(first, true)),
        last: range.map(|(_, last)| format_datetime(last, true)),
        bytes: entry.bytes(),
        size: quarry_hunt::report::human_bytes(entry.bytes()),
        files: entry.files.len(),
        inferred_schema: entry.inferred,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_encode_and_skip_empty_values() {
        assert_eq!(
            query_string([("table", "A B"), ("q", ""), ("x", "<&>\"")]),
            "?table=A%20B&x=%3C%26%3E%22"
        );
        assert_eq!(query_string([("q", "")]), "");
        assert_eq!(
            source_label("https://github.com/Azure/Azure-Sentinel.git"),
            "Azure-Sentinel"
        );
        assert_eq!(severity_class("High"), "sev-high");
    }
}
