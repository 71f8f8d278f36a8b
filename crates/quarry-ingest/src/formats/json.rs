//! JSON inputs: JSON lines read as a stream, and whole JSON documents unwrapped into their rows
//! (Defender API `Schema` + `Results`, Log Analytics API `tables[].columns` + `rows`, streaming
//! batches `records[]`, plain arrays).

use super::Item;
use crate::record::Position;
use serde_json::{Map, Value};
use std::io::BufRead;

/// Reads JSON lines from `reader`, calling `progress` with the bytes consumed so far; blank
/// lines are skipped, a line that is not a JSON object is an error item.
pub fn read_lines<R: BufRead>(
    mut reader: R,
    mut sink: impl FnMut(Item),
    mut progress: impl FnMut(u64),
) -> std::io::Result<()> {
    let mut line = Vec::with_capacity(4096);
    let mut number = 0u64;
    let mut consumed = 0u64;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        number += 1;
        consumed += read as u64;
        let mut bytes = line.as_slice();
        if number == 1 {
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        sink((Position::Line(number), parse_line(bytes)));
        if number.is_multiple_of(4096) {
            progress(consumed);
        }
    }
    progress(consumed);
    Ok(())
}

/// One line of JSON lines (with its line end) as an object, or why it is not one.
pub(crate) fn parse_line(bytes: &[u8]) -> Result<Map<String, Value>, String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(format!("expected a JSON object, found {}", kind(&other))),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// The rows of one JSON document, in order.
pub fn document_rows(document: Value) -> Result<Vec<Item>, String> {
    let rows: Vec<Value> = match document {
        Value::Array(items) => items,
        Value::Object(mut object) => {
            if object.contains_key("Schema") && object.get("Results").is_some_and(Value::is_array) {
                // Defender advanced hunting API: Results are already objects keyed by column.
                match object.remove("Results") {
                    Some(Value::Array(results)) => results,
                    _ => Vec::new(),
                }
            } else if let Some(Value::Array(tables)) = object.get("tables") {
                log_analytics_rows(tables)?
            } else if let Some(Value::Array(records)) = object.remove("records") {
                records
            } else {
                vec![Value::Object(object)]
            }
        }
        other => {
            return Err(format!(
                "expected a JSON object or array, found {}",
                kind(&other)
            ))
        }
    };
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(index, row)| {
            let position = Position::Record(index as u64 + 1);
            match row {
                Value::Object(object) => (position, Ok(object)),
                other => (
                    position,
                    Err(format!("expected a JSON object, found {}", kind(&other))),
                ),
            }
        })
        .collect())
}

/// The rows of a Log Analytics query API response: `tables[0]` with `columns` (`name`, `type`)
/// and `rows` (arrays of values in column order).
fn log_analytics_rows(tables: &[Value]) -> Result<Vec<Value>, String> {
    let mut rows = Vec::new();
    for table in tables {
        let columns: Vec<String> = table
            .get("columns")
            .and_then(Value::as_array)
            .ok_or("a table without `columns`")?
            .iter()
            .map(|c| {
                c.get("name")
                    .or_else(|| c.get("ColumnName"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        let Some(table_rows) = table.get("rows").and_then(Value::as_array) else {
            continue;
        };
        for row in table_rows {
            let values = row.as_array().ok_or("a row that is not an array")?;
            let object: Map<String, Value> = columns
                .iter()
                .cloned()
                .zip(values.iter().cloned())
                .collect();
            rows.push(Value::Object(object));
        }
    }
    Ok(rows)
}

/// The JSON kind of a value, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_with_a_bom_blank_lines_and_errors() {
        let text = "\u{feff}{\"a\":1}\r\n\r\n[1]\n{bad\n{\"b\":2}";
        let mut items = Vec::new();
        read_lines(text.as_bytes(), |item| items.push(item), |_| {}).unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].0, Position::Line(1));
        assert!(items[0].1.is_ok());
        assert_eq!(items[1].0, Position::Line(3));
        assert_eq!(
            items[1].1,
            Err("expected a JSON object, found an array".into())
        );
        assert!(items[2].1.as_ref().unwrap_err().starts_with("invalid JSON"));
        assert_eq!(items[3].0, Position::Line(5));
    }

    #[test]
    fn api_documents_unwrap_into_rows() {
        let defender = json!({"Schema": [{"Name": "A", "Type": "String"}], "Results": [{"A": "x"}, {"A": "y"}]});
        assert_eq!(document_rows(defender).unwrap().len(), 2);
        let analytics = json!({"tables": [{"name": "PrimaryResult", "columns": [{"name": "A", "type": "string"}, {"name": "B", "type": "long"}], "rows": [["x", 1]]}]});
        let rows = document_rows(analytics).unwrap();
        assert_eq!(rows[0].1.as_ref().unwrap()["B"], 1);
        let streaming = json!({"records": [{"category": "AdvancedHunting-DeviceEvents"}]});
        assert_eq!(document_rows(streaming).unwrap().len(), 1);
    }
}
