//! `.evtx` files (read with the `evtx` crate) → [`WinEvent`]s. A record the parser cannot read
//! is reported by its position and does not stop the file.

use super::WinEvent;
use serde_json::{Map, Value};
use std::path::Path;

/// The first bytes of every EVTX file.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// One EVTX record: its number and the event, or why it is unreadable.
pub type EvtxRecord = (u64, Result<WinEvent, String>);

/// Reads every record of the EVTX file at `path`: `Ok(event)` or `Err(reason)` per record, in
/// file order, with the record number (1-based) in both cases.
pub fn read_file(path: &Path) -> Result<Vec<EvtxRecord>, String> {
    let settings = evtx::ParserSettings::default()
        .separate_json_attributes(true)
        .num_threads(1);
    let mut parser = evtx::EvtxParser::from_path(path)
        .map_err(|e| e.to_string())?
        .with_configuration(settings);
    let mut events = Vec::new();
    for (index, record) in parser.records_json_value().enumerate() {
        let number = index as u64 + 1;
        events.push((
            number,
            record
                .map_err(|e| format!("unreadable EVTX data, its records are lost: {e}"))
                .and_then(|r| from_json(&r.data, r.event_record_id as i64)),
        ));
    }
    Ok(events)
}

/// One record's JSON (`{"Event": {"System": …, "EventData": …}}`, attributes separated into
/// `<name>_attributes` objects) as a [`WinEvent`].
pub fn from_json(value: &Value, record_id: i64) -> Result<WinEvent, String> {
    let event = value
        .get("Event")
        .and_then(Value::as_object)
        .ok_or("the record has no Event element")?;
    let system = event
        .get("System")
        .and_then(Value::as_object)
        .ok_or("the record has no System element")?;
    let attribute = |element: &str, name: &str| -> Option<String> {
        system
            .get(&format!("{element}_attributes"))
            .and_then(|a| a.get(name))
            .and_then(scalar_text)
    };
    let text = |name: &str| system.get(name).and_then(scalar_text);
    let integer = |name: &str| text(name).and_then(|t| super::parse_windows_integer(&t));
    let time = attribute("TimeCreated", "SystemTime")
        .and_then(|t| quarry_engine::values::parse_datetime(&t));
    let event_id = integer("EventID").ok_or("the record has no EventID")?;
    let data = event
        .get("EventData")
        .or_else(|| event.get("UserData"))
        .map(event_data)
        .unwrap_or_default();
    Ok(WinEvent {
        computer: text("Computer").unwrap_or_default(),
        channel: text("Channel").unwrap_or_default(),
        provider: attribute("Provider", "Name").unwrap_or_default(),
        event_id,
        time,
        record_id: integer("EventRecordID").or(Some(record_id)),
        level: integer("Level"),
        task: integer("Task"),
        opcode: text("Opcode"),
        keywords: text("Keywords"),
        version: integer("Version"),
        user_sid: attribute("Security", "UserID"),
        process_id: attribute("Execution", "ProcessID")
            .and_then(|t| super::parse_windows_integer(&t)),
        thread_id: attribute("Execution", "ThreadID")
            .and_then(|t| super::parse_windows_integer(&t)),
        message: None,
        data,
    })
}

/// The event data as name/value pairs: named `<Data>` elements become fields; unnamed ones
/// (`Data` as a list) are numbered `Data1`, `Data2`, …; `UserData` is flattened one level.
fn event_data(value: &Value) -> Vec<(String, String)> {
    let Some(object) = value.as_object() else {
        return Vec::new();
    };
    let mut data = Vec::new();
    for (name, value) in object {
        if name.ends_with("_attributes") {
            continue;
        }
        match value {
            Value::Object(inner) if name != "Data" => flatten(inner, &mut data),
            Value::Object(inner) => {
                if let Some(text) = inner.get("#text") {
                    push_list(text, &mut data);
                }
            }
            Value::Array(_) if name == "Data" => push_list(value, &mut data),
            other => {
                if let Some(text) = scalar_text(other) {
                    data.push((name.clone(), text));
                }
            }
        }
    }
    data
}

/// Unnamed data values as `Data1`, `Data2`, ….
fn push_list(value: &Value, data: &mut Vec<(String, String)>) {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for (index, item) in items.into_iter().enumerate() {
        if let Some(text) = scalar_text(item) {
            data.push((format!("Data{}", index + 1), text));
        }
    }
}

/// The fields of a `UserData` child element.
fn flatten(object: &Map<String, Value>, data: &mut Vec<(String, String)>) {
    for (name, value) in object {
        if name.ends_with("_attributes") {
            continue;
        }
        match value {
            Value::Object(inner) => flatten(inner, data),
            other => {
                if let Some(text) = scalar_text(other) {
                    data.push((name.clone(), text));
                }
            }
        }
    }
}

/// A scalar JSON value as text (`#text` of an element with attributes included).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(inner) => inner.get("#text").and_then(scalar_text),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(scalar_text)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Null => None,
    }
}
