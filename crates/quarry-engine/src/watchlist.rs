//! Sentinel watchlists for `_GetWatchlist('name')`, read from CSV files.
//!
//! A session's [`crate::SessionConfig::watchlist_dir`] holds one `<name>.csv` per watchlist,
//! UTF-8, with a header row. `_GetWatchlist('name')` returns Sentinel's standard columns followed
//! by the CSV's columns, all as the CSV wrote them (strings):
//!
//! | column | type | value here |
//! |---|---|---|
//! | `_DTItemId` | string | `<name>/<row>`, the 1-based row number (Sentinel uses a GUID) |
//! | `LastUpdatedTimeUTC` | datetime | the CSV file's modification time |
//! | `SearchKey` | string | the row's value in the search-key column |
//! | `WatchlistItem` | dynamic | the whole row as a property bag |
//!
//! The search-key column is the one named by `itemsSearchKey` in an optional `<name>.json`
//! next to the CSV (the property Sentinel's watchlist API uses), else the first column. A CSV
//! column that has the name of a standard column is left out (its values stay in
//! `WatchlistItem`).
//!
//! A watchlist that does not exist gives, as in Sentinel (where `_GetWatchlist` filters the
//! workspace's `Watchlist` table by alias and finds nothing), an empty table of the standard
//! columns and a warning; ASIM parsers rely on this for `_GetWatchlist('ASimDisabledParsers')`.
//! [`crate::SessionConfig::strict_watchlists`] makes it an error instead.

use datafusion::arrow::array::{ArrayRef, LargeStringArray, StringArray, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// The name queries call watchlists by.
pub const WATCHLIST_FUNCTION: &str = "_GetWatchlist";

/// The columns every `_GetWatchlist` result starts with, in order.
pub const STANDARD_COLUMNS: [&str; 4] = [
    "_DTItemId",
    "LastUpdatedTimeUTC",
    "SearchKey",
    "WatchlistItem",
];

/// Why a watchlist could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WatchlistError {
    /// The name could reach outside the watchlist folder or is empty.
    #[error("`{name}` is not a valid watchlist name (letters, digits, `_`, `-`, `.` and spaces, not starting with `.`)")]
    InvalidName {
        /// The name as given.
        name: String,
    },
    /// The file cannot be read.
    #[error("cannot read watchlist file {}: {message}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
    /// The CSV text is malformed.
    #[error("watchlist file {}, line {line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The line (1-based) where the record starts.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The `<name>.json` sidecar is malformed or names a column the CSV lacks.
    #[error("watchlist settings {}: {message}", path.display())]
    Settings {
        /// The sidecar file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A watchlist read from its CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchlist {
    /// The name (alias) queries use.
    pub name: String,
    /// The CSV header, in order.
    pub columns: Vec<String>,
    /// The rows, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
    /// The index in `columns` of the search-key column.
    pub search_key: usize,
    /// When the file was last modified, in nanoseconds since the Unix epoch.
    pub last_updated_nanos: Option<i64>,
}

/// Checks that `name` stays inside the watchlist folder once it becomes a file name.
pub fn validate_name(name: &str) -> Result<(), WatchlistError> {
    let valid = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    if valid {
        Ok(())
    } else {
        Err(WatchlistError::InvalidName {
            name: name.to_string(),
        })
    }
}

/// The CSV file of watchlist `name` in `dir`.
pub fn watchlist_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.csv"))
}

/// Reads watchlist `name` from `dir`; `Ok(None)` when there is no such file.
pub fn load(dir: &Path, name: &str) -> Result<Option<Watchlist>, WatchlistError> {
    validate_name(name)?;
    let path = watchlist_path(dir, name);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(WatchlistError::Io {
                path,
                message: error.to_string(),
            })
        }
    };
    let last_updated_nanos = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| i64::try_from(d.as_nanos()).ok());
    let text = String::from_utf8(bytes).map_err(|e| WatchlistError::Csv {
        path: path.clone(),
        line: 1,
        message: format!("not UTF-8 text ({e})"),
    })?;
    let mut records = parse_csv(&text).map_err(|(line, message)| WatchlistError::Csv {
        path: path.clone(),
        line,
        message,
    })?;
    if records.is_empty() {
        return Err(WatchlistError::Csv {
            path,
            line: 1,
            message: "the file has no header row".to_string(),
        });
    }
    let (_, header) = records.remove(0);
    let columns: Vec<String> = header.iter().map(|c| c.trim().to_string()).collect();
    for (i, column) in columns.iter().enumerate() {
        if column.is_empty() || columns[..i].contains(column) {
            return Err(WatchlistError::Csv {
                path,
                line: 1,
                message: format!("header column {} is empty or repeated", i + 1),
            });
        }
    }
    let mut rows = Vec::with_capacity(records.len());
    for (line, record) in records {
        // A trailing blank line is one empty field, not a row.
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if record.len() != columns.len() {
            return Err(WatchlistError::Csv {
                path,
                line,
                message: format!(
                    "the row has {} fields, the header {}",
                    record.len(),
                    columns.len()
                ),
            });
        }
        rows.push(record);
    }
    let search_key = search_key_column(dir, name, &columns)?;
    Ok(Some(Watchlist {
        name: name.to_string(),
        columns,
        rows,
        search_key,
        last_updated_nanos,
    }))
}

/// The search-key column from the `<name>.json` sidecar, else the first column.
fn search_key_column(dir: &Path, name: &str, columns: &[String]) -> Result<usize, WatchlistError> {
    let path = dir.join(format!("{name}.json"));
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => {
            return Err(WatchlistError::Io {
                path,
                message: error.to_string(),
            })
        }
    };
    let settings: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| WatchlistError::Settings {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let Some(key) = settings.get("itemsSearchKey") else {
        return Ok(0);
    };
    let Some(key) = key.as_str() else {
        return Err(WatchlistError::Settings {
            path,
            message: "`itemsSearchKey` must be a column name".to_string(),
        });
    };
    columns
        .iter()
        .position(|c| c == key)
        .ok_or_else(|| WatchlistError::Settings {
            path,
            message: format!("`itemsSearchKey` names `{key}`, which is not a CSV column"),
        })
}

/// A CSV record and the 1-based line it starts on.
type Record = (usize, Vec<String>);

/// Splits CSV text (RFC 4180: `,` separators, `"` quoting with `""` escapes, LF or CRLF line
/// ends, a leading byte-order mark) into records, each with the 1-based line it starts on.
fn parse_csv(text: &str) -> Result<Vec<Record>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut line = 1;
    let mut record_line = 1;
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                quoted = true;
                at_field_start = false;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut record)));
                line += 1;
                record_line = line;
                at_field_start = true;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if quoted {
        return Err((record_line, "a quoted field is not closed".to_string()));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push((record_line, record));
    }
    Ok(records)
}

/// The Arrow schema of a `_GetWatchlist` result: the standard columns, then `csv_columns` (less
/// any that repeat a standard column's name).
pub fn schema(csv_columns: &[String]) -> SchemaRef {
    let mut fields = vec![
        Field::new(STANDARD_COLUMNS[0], DataType::Utf8, true),
        Field::new(
            STANDARD_COLUMNS[1],
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            true,
        ),
        Field::new(STANDARD_COLUMNS[2], DataType::Utf8, true),
        Field::new(STANDARD_COLUMNS[3], DataType::LargeUtf8, true),
    ];
    fields.extend(
        csv_columns
            .iter()
            .filter(|c| !STANDARD_COLUMNS.contains(&c.as_str()))
            .map(|c| Field::new(c.as_str(), DataType::Utf8, true)),
    );
    Arc::new(Schema::new(fields))
}

/// The rows of `_GetWatchlist` over `watchlist`; no rows and the standard columns alone for a
/// watchlist that does not exist.
pub fn batch(watchlist: Option<&Watchlist>) -> Result<RecordBatch, crate::EngineError> {
    let Some(watchlist) = watchlist else {
        return Ok(RecordBatch::new_empty(schema(&[])));
    };
    let rows = &watchlist.rows;
    let ids: Vec<String> = (1..=rows.len())
        .map(|n| format!("{}/{n}", watchlist.name))
        .collect();
    let items: Vec<String> = rows
        .iter()
        .map(|row| {
            let bag: serde_json::Map<String, serde_json::Value> = watchlist
                .columns
                .iter()
                .zip(row)
                .map(|(c, v)| (c.clone(), serde_json::Value::String(v.clone())))
                .collect();
            serde_json::Value::Object(bag).to_string()
        })
        .collect();
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(TimestampNanosecondArray::from(vec![
            watchlist
                .last_updated_nanos;
            rows.len()
        ])),
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r[watchlist.search_key].as_str()),
        )),
        Arc::new(LargeStringArray::from(items)),
    ];
    for (i, column) in watchlist.columns.iter().enumerate() {
        if !STANDARD_COLUMNS.contains(&column.as_str()) {
            arrays.push(Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r[i].as_str()),
            )));
        }
    }
    Ok(RecordBatch::try_new(schema(&watchlist.columns), arrays)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_line_ends_and_bom() {
        let records =
            parse_csv("\u{feff}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",2\n").unwrap();
        assert_eq!(
            records,
            vec![
                (1, vec!["a".to_string(), "b".to_string()]),
                (2, vec!["x, y".to_string(), "say \"hi\"".to_string()]),
                (3, vec!["multi\nline".to_string(), "2".to_string()]),
            ]
        );
        assert_eq!(parse_csv("a\n\"open").unwrap_err().0, 2);
        assert_eq!(
            parse_csv("a,b").unwrap(),
            vec![(1, vec!["a".into(), "b".into()])]
        );
    }

    #[test]
    fn names_cannot_leave_the_folder() {
        for bad in ["", "../x", "a/b", "a\\b", ".hidden"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        for good in ["VIPUsers", "HostName-DomainControllers", "my list 2", "a.b"] {
            assert!(validate_name(good).is_ok(), "{good:?}");
        }
    }
}
