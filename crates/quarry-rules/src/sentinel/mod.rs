//! Azure-Sentinel rules: YAML files whose top-level `query:` holds the KQL.
//!
//! Only the query is read for now; the rest of the rule model comes later.

mod document;
mod header;
mod query_field;

pub use document::{read_rule, RuleReadError};
pub use header::{read_rule_header, RuleHeader};
pub use query_field::{QueryStyle, RuleQuery};

use serde::Deserialize;
use serde_saphyr::options::DuplicateKeyPolicy;
use serde_saphyr::Spanned;
use std::path::{Path, PathBuf};

/// A rule file that is not valid YAML (or whose `query:` is not a string).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at line {line}, column {column}")]
pub struct YamlError {
    /// What is wrong, without the position.
    pub message: String,
    /// 1-based line of the problem in the file.
    pub line: usize,
    /// 1-based column (in characters) of the problem in the file.
    pub column: usize,
}

/// The only part of a rule read for now; every other key is ignored.
#[derive(Deserialize)]
struct RuleDocument {
    #[serde(default)]
    query: Option<Spanned<String>>,
}

const BOM: &str = "\u{feff}";

/// Reads the top-level `query:` of an Azure-Sentinel rule file.
///
/// Returns `Ok(None)` when the YAML has no `query` (or it is null). A leading UTF-8 BOM is
/// skipped, duplicate keys are accepted (the last one wins, as in most YAML readers), and the
/// offsets of the returned [`RuleQuery`] are offsets into `file_text` itself, BOM included.
pub fn read_rule_query(file_text: &str) -> Result<Option<RuleQuery>, YamlError> {
    let (bom_len, yaml) = match file_text.strip_prefix(BOM) {
        Some(rest) => (BOM.len(), rest),
        None => (0, file_text),
    };
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::LastWins,
    };
    let document: RuleDocument =
        serde_saphyr::from_str_with_options(yaml, options).map_err(|e| yaml_error(&e, yaml))?;
    let Some(query) = document.query else {
        return Ok(None);
    };
    let location = query.defined;
    let span = location.span();
    let value_start = span
        .byte_offset()
        .and_then(|o| usize::try_from(o).ok())
        .unwrap_or_else(|| offset_of_line_col(yaml, location.line(), location.column()));
    let value_len = span
        .byte_len()
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(0);
    let mut value_start = value_start.min(yaml.len());
    while !yaml.is_char_boundary(value_start) {
        value_start -= 1;
    }
    Ok(Some(RuleQuery::new(
        query.value,
        yaml,
        value_start,
        value_len,
        bom_len,
    )))
}

/// Every `.yaml`/`.yml` file under `root` (or `root` itself if it is one), sorted by path.
///
/// Folders that cannot be read are skipped; this is for corpus-wide use, where one unreadable
/// folder should not stop the rest.
pub fn rule_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file() && is_yaml_path(entry.path()))
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.sort();
    files
}

/// True for a path ending in `.yaml` or `.yml` (any case).
pub fn is_yaml_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// A [`YamlError`] for any YAML document read with serde-saphyr (parsers as well as rules).
pub(crate) fn yaml_error_for(error: &serde_saphyr::Error, yaml: &str) -> YamlError {
    yaml_error(error, yaml)
}

/// Turns a serde-saphyr error into a [`YamlError`] with a plain message and a position.
fn yaml_error(error: &serde_saphyr::Error, yaml: &str) -> YamlError {
    let (line, column) = error
        .location()
        .map(|l| (to_usize(l.line()), to_usize(l.column())))
        .filter(|&(line, column)| line > 0 && column > 0)
        .unwrap_or_else(|| end_position(yaml));
    let mut message = error.without_snippet().to_string();
    let suffix = format!(" at line {line}, column {column}");
    if let Some(stripped) = message.strip_suffix(&suffix) {
        message = stripped.to_string();
    }
    // Keep the first line only: the reason, not a rendered excerpt.
    if let Some((first, _)) = message.split_once('\n') {
        message = first.trim_end().to_string();
    }
    YamlError {
        message,
        line,
        column,
    }
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

/// Line and column just past the last character (used when the reader gives no position).
fn end_position(text: &str) -> (usize, usize) {
    let line = text.matches('\n').count() + 1;
    let last_line = text.rsplit('\n').next().unwrap_or("");
    (line, last_line.chars().count() + 1)
}

/// Byte offset of a 1-based line and (character) column, clamped to the text.
fn offset_of_line_col(text: &str, line: u64, column: u64) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let line_text = &text[start..];
    let skip = to_usize(column.saturating_sub(1));
    start
        + line_text
            .char_indices()
            .nth(skip)
            .map_or(line_text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(yaml: &str) -> RuleQuery {
        read_rule_query(yaml)
            .expect("valid YAML")
            .expect("has a query")
    }

    /// For every offset of every query line's first non-blank character, the file has the same
    /// character at the mapped offset.
    fn assert_exact(yaml: &str) {
        let q = query(yaml);
        let mut line_start = 0;
        for line in q.text.split('\n') {
            if let Some(lead) = line.find(|c: char| !c.is_whitespace()) {
                let i = line_start + lead;
                let expected = q.text[i..].chars().next();
                let at = q.file_offset(i);
                assert_eq!(
                    yaml.get(at..).and_then(|s| s.chars().next()),
                    expected,
                    "offset {i} maps to {at} in {yaml:?}"
                );
            }
            line_start += line.len() + 1;
        }
        if q.style() == QueryStyle::Literal {
            for (i, byte) in q.text.bytes().enumerate() {
                if byte != b'\n' {
                    assert_eq!(
                        yaml.as_bytes()[q.file_offset(i)],
                        byte,
                        "byte {i} in {yaml:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn literal_block() {
        let yaml = "id: 1\nquery: |\n  SecurityEvent\n  | where EventID == 4625\nname: x\n";
        let q = query(yaml);
        assert_eq!(q.text, "SecurityEvent\n| where EventID == 4625\n");
        assert_eq!(q.style(), QueryStyle::Literal);
        let where_at = q.text.find("where").unwrap();
        assert_eq!(&yaml[q.file_offset(where_at)..][..5], "where");
        assert_eq!(q.file_offset(0), yaml.find("SecurityEvent").unwrap());
        // The end of the text maps to the end of the last content line.
        assert_eq!(q.file_offset(q.text.len()), yaml.find("\nname").unwrap());
        assert_exact(yaml);
    }

    #[test]
    fn literal_block_strip_and_indentation_indicator() {
        let yaml = "query: |2-\n   T\n  | take 1\nother: 2\n";
        let q = query(yaml);
        assert_eq!(q.text, " T\n| take 1");
        assert_eq!(q.file_offset(1), yaml.find('T').unwrap());
        assert_eq!(q.file_offset(q.text.len()), yaml.find("\nother").unwrap());
        assert_exact(yaml);

        let yaml = "query: |-\n    T\n    | take 1\n";
        assert_eq!(query(yaml).text, "T\n| take 1");
        assert_exact(yaml);
    }

    #[test]
    fn literal_block_starting_with_a_line_of_spaces() {
        let yaml = "query: |2-\n   \n  // c\n  T\nname: x\n";
        let q = query(yaml);
        assert_eq!(q.text, " \n// c\nT");
        assert_eq!(q.file_offset(2), yaml.find("//").unwrap());
        assert_exact(yaml);
    }

    #[test]
    fn literal_block_with_blank_lines_and_tabs() {
        let yaml = "query: |\n\n  T\n\n  |\ttake 1\n   | count\n";
        let q = query(yaml);
        assert_eq!(q.text, "\nT\n\n|\ttake 1\n | count\n");
        let take = q.text.find("take").unwrap();
        assert_eq!(&yaml[q.file_offset(take)..][..4], "take");
        assert_exact(yaml);
    }

    #[test]
    fn byte_order_mark_and_crlf() {
        let yaml =
            "\u{feff}id: 1\r\nquery: |\r\n  T\r\n  | where x == 'é'\r\n  | take 1\r\nname: x\r\n";
        let q = query(yaml);
        assert_eq!(q.text, "T\n| where x == 'é'\n| take 1\n");
        let take = q.text.find("take").unwrap();
        assert_eq!(&yaml[q.file_offset(take)..][..4], "take");
        let second_line_end = q.text.find("'\n").unwrap() + 1;
        assert_eq!(&yaml[q.file_offset(second_line_end)..][..2], "\r\n");
        assert_exact(yaml);
    }

    #[test]
    fn indented_document() {
        let yaml = "  id: 1\n  query: |\n    T\n    | take 1\n  name: x\n";
        let q = query(yaml);
        assert_eq!(q.text, "T\n| take 1\n");
        assert_exact(yaml);
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let yaml = "query: |\n  First\nname: a\nquery: |\n  Second\n  | take 1\nname: b\n";
        let q = query(yaml);
        assert_eq!(q.text, "Second\n| take 1\n");
        assert_eq!(q.file_offset(0), yaml.find("Second").unwrap());
        assert_exact(yaml);
    }

    #[test]
    fn quoted_single_line() {
        let yaml = "id: 1\nquery: 'T | where A == \"x\"'\n";
        let q = query(yaml);
        assert_eq!(q.text, "T | where A == \"x\"");
        assert_eq!(q.style(), QueryStyle::SingleQuoted);
        let where_at = q.text.find("where").unwrap();
        assert_eq!(&yaml[q.file_offset(where_at)..][..5], "where");

        let yaml = "query: \"T | where A == 'x'\"\n";
        let q = query(yaml);
        assert_eq!(q.style(), QueryStyle::DoubleQuoted);
        assert_eq!(&yaml[q.file_offset(0)..][..1], "T");
    }

    #[test]
    fn quoted_with_escapes_maps_to_the_value() {
        let yaml = "query: \"T | where A == \\\"x\\\"\"\n";
        let q = query(yaml);
        assert_eq!(q.text, "T | where A == \"x\"");
        let value_start = yaml.find('"').unwrap();
        assert_eq!(q.file_offset(5), value_start);
    }

    #[test]
    fn plain_and_folded_multi_line() {
        let yaml = "query:\n  AWSGuardDuty\n  | extend x = 1\n  | take 1\nname: n\n";
        let q = query(yaml);
        assert_eq!(q.text, "AWSGuardDuty | extend x = 1 | take 1");
        assert_eq!(q.style(), QueryStyle::Plain);
        assert_exact(yaml);
        let extend = q.text.find("extend").unwrap();
        assert_eq!(&yaml[q.file_offset(extend)..][..6], "extend");

        let yaml = "query: >\n  T\n  | take 1\n";
        let q = query(yaml);
        assert_eq!(q.text, "T | take 1\n");
        assert_eq!(q.style(), QueryStyle::Folded);
        assert_exact(yaml);
    }

    #[test]
    fn missing_or_null_query() {
        assert_eq!(read_rule_query("id: 1\nname: x\n"), Ok(None));
        assert_eq!(read_rule_query("query:\n"), Ok(None));
        assert_eq!(read_rule_query(""), Ok(None));
        assert_eq!(read_rule_query("# only a comment\n"), Ok(None));
    }

    #[test]
    fn malformed_yaml_gives_line_and_column() {
        let error = read_rule_query("id: 1\nname: [x\nquery: |\n  b\n").unwrap_err();
        assert_eq!((error.line, error.column), (3, 6));
        assert!(!error.message.contains("line"), "{}", error.message);
        assert!(error.to_string().ends_with("at line 3, column 6"));

        let error = read_rule_query("id: 1\nquery: [a, b]\n").unwrap_err();
        assert_eq!(error.line, 2);
    }

    #[test]
    fn rule_files_are_sorted_and_filtered() {
        let dir = std::env::temp_dir().join(format!("quarry-rules-test-{}", std::process::id()));
        let sub = dir.join("b");
        std::fs::create_dir_all(&sub).unwrap();
        for name in ["z.yaml", "a.yml", "c.kql", "b/x.YAML"] {
            std::fs::write(dir.join(name), "query: T\n").unwrap();
        }
        let files = rule_files(&dir);
        let names: Vec<_> = files
            .iter()
            .map(|p| {
                p.strip_prefix(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names, ["a.yml", "b/x.YAML", "z.yaml"]);
    }
}
