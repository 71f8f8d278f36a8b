//! Windows events exported as flat JSON lines (nxlog → Logstash, or exporters that write
//! `TimeCreated`), as in the OTRF Security-Datasets: the System fields and the event data side
//! by side at the top level. The envelope fields are recognised by name; everything else is
//! event data.

use super::WinEvent;
use serde_json::{Map, Value};

/// Top-level fields written by the exporter or the collector rather than by the event.
const ENVELOPE: &[&str] = &[
    "@timestamp",
    "@version",
    "AccountName",
    "AccountType",
    "ActivityID",
    "Category",
    "Channel",
    "Domain",
    "EventID",
    "EventReceivedTime",
    "EventTime",
    "EventTypeOrignal",
    "ExecutionProcessID",
    "Hostname",
    "Keywords",
    "Level",
    "Message",
    "Opcode",
    "OpcodeValue",
    "ProviderGuid",
    "RecordNumber",
    "Severity",
    "SeverityValue",
    "SourceModuleName",
    "SourceModuleType",
    "SourceName",
    "Task",
    "ThreadID",
    "TimeCreated",
    "UserID",
    "Version",
    "host",
    "port",
    "tags",
];

/// Whether a JSON object looks like a flat Windows event (a channel and an event id, and no
/// Log Analytics `Type`).
pub fn looks_like_event(object: &Map<String, Value>) -> bool {
    object.contains_key("Channel")
        && object.contains_key("EventID")
        && (object.contains_key("Hostname") || object.contains_key("Computer"))
        && !object.contains_key("Type")
        && !object.contains_key("TimeGenerated")
}

/// The local (collector-clock) time of the event as written, in nanoseconds, read as if UTC:
/// `EventTime` (nxlog) or `TimeCreated`.
pub fn local_time(object: &Map<String, Value>) -> Option<i64> {
    ["EventTime", "TimeCreated"]
        .iter()
        .find_map(|key| object.get(*key)?.as_str())
        .and_then(quarry_engine::values::parse_datetime)
}

/// The UTC time a collector stamped (`@timestamp` of nxlog → Logstash), when the record has
/// `EventTime` beside it (in the `TimeCreated` exports `@timestamp` is a copy of the local time).
pub fn collector_utc_time(object: &Map<String, Value>) -> Option<i64> {
    if !object.contains_key("EventTime") {
        return None;
    }
    object
        .get("@timestamp")?
        .as_str()
        .and_then(quarry_engine::values::parse_datetime)
}

/// The event as a [`WinEvent`]; its `time` is the Sysmon `UtcTime` when there is one and is
/// otherwise left for the clock correction to fill.
pub fn read(object: &Map<String, Value>) -> WinEvent {
    let text = |key: &str| -> Option<String> {
        match object.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    };
    let integer = |key: &str| -> Option<i64> {
        match object.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => super::parse_windows_integer(s),
            _ => None,
        }
    };
    let is_sysmon = text("Channel").is_some_and(|c| c.eq_ignore_ascii_case(super::SYSMON_CHANNEL));
    let mut data = Vec::new();
    for (key, value) in object {
        // Sysmon's own `EventType` (SetValue, CreateKey, …) is event data; nxlog's is moved to
        // `EventTypeOrignal` when the two clash.
        let envelope = ENVELOPE.contains(&key.as_str())
            || (key == "EventType" && !(is_sysmon && object.contains_key("EventTypeOrignal")));
        if envelope {
            continue;
        }
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Null => continue,
            other => other.to_string(),
        };
        data.push((key.clone(), value));
    }
    let time = if is_sysmon {
        data.iter()
            .find(|(k, _)| k == "UtcTime")
            .and_then(|(_, v)| quarry_engine::values::parse_datetime(v))
    } else {
        None
    };
    WinEvent {
        computer: text("Hostname")
            .or_else(|| text("Computer"))
            .unwrap_or_default(),
        channel: text("Channel").unwrap_or_default(),
        provider: text("SourceName").unwrap_or_default(),
        event_id: integer("EventID").unwrap_or_default(),
        time,
        record_id: integer("RecordNumber"),
        level: integer("SeverityValue")
            .map(nxlog_severity_to_level)
            .or_else(|| text("Level").and_then(|l| level_from_text(&l))),
        task: integer("Task"),
        opcode: text("Opcode").or_else(|| text("OpcodeValue")),
        keywords: text("Keywords"),
        version: integer("Version"),
        user_sid: text("UserID"),
        process_id: integer("ExecutionProcessID"),
        thread_id: integer("ThreadID"),
        message: text("Message"),
        data,
    }
}

/// nxlog's SeverityValue (1 debug … 5 critical) as a Windows level.
fn nxlog_severity_to_level(severity: i64) -> i64 {
    match severity {
        5 => 1,
        4 => 2,
        3 => 3,
        _ => 4,
    }
}

/// A level written as a number or a name.
fn level_from_text(text: &str) -> Option<i64> {
    if let Ok(level) = text.trim().parse() {
        return Some(level);
    }
    Some(match text.trim().to_ascii_lowercase().as_str() {
        "critical" => 1,
        "error" => 2,
        "warning" => 3,
        "information" | "informational" => 4,
        "verbose" => 5,
        _ => return None,
    })
}
