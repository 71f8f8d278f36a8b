//! Windows events, from whichever exporter wrote them, reduced to one shape ([`WinEvent`]) and
//! mapped onto tables: Security → `SecurityEvent`, Sysmon → the Defender `Device*` tables
//! (`sysmon`), every other channel → `Event`. The column-by-column mapping is documented in
//! `docs/windows-event-mapping.md`.

pub mod clock;
pub mod event;
pub mod evtx;
pub mod nxlog;
pub mod security;
pub mod sysmon;
pub mod titles;

use crate::record::Record;
use serde_json::{Map, Value};

/// The Sysmon channel.
pub const SYSMON_CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";

/// One Windows event, whatever wrote it: its System part and its event data as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WinEvent {
    /// The computer that logged it (as logged: short name or FQDN).
    pub computer: String,
    /// The channel (`Security`, `Microsoft-Windows-Sysmon/Operational`, `System`, …).
    pub channel: String,
    /// The provider (`Microsoft-Windows-Security-Auditing`, …).
    pub provider: String,
    /// The event id.
    pub event_id: i64,
    /// When it happened, in nanoseconds since the Unix epoch (UTC), when known.
    pub time: Option<i64>,
    /// The record number in its log.
    pub record_id: Option<i64>,
    /// The level as a number (4 information, 3 warning, 2 error, 1 critical, 0 audit).
    pub level: Option<i64>,
    /// The task (category) number.
    pub task: Option<i64>,
    /// The opcode, as text.
    pub opcode: Option<String>,
    /// The keywords, as text (hex or decimal as written).
    pub keywords: Option<String>,
    /// The event version.
    pub version: Option<i64>,
    /// The SID in the System part (the user the event is about, often SYSTEM).
    pub user_sid: Option<String>,
    /// The process and thread that logged it.
    pub process_id: Option<i64>,
    /// The thread that logged it.
    pub thread_id: Option<i64>,
    /// The rendered message, when the exporter kept it.
    pub message: Option<String>,
    /// The event data, in order, values as text.
    pub data: Vec<(String, String)>,
}

impl WinEvent {
    /// The value of event-data field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether the event comes from Sysmon.
    pub fn is_sysmon(&self) -> bool {
        self.channel.eq_ignore_ascii_case(SYSMON_CHANNEL)
    }

    /// Whether the event comes from the Security log (some exporters write it lower-case).
    pub fn is_security(&self) -> bool {
        self.channel.eq_ignore_ascii_case("Security")
    }

    /// The event data as `<EventData>` XML, as Sentinel stores it in `EventData` columns.
    pub fn event_data_xml(&self) -> String {
        let mut xml = String::from(
            "<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">",
        );
        for (name, value) in &self.data {
            xml.push_str("<Data Name=\"");
            xml.push_str(&escape_xml(name));
            xml.push_str("\">");
            xml.push_str(&escape_xml(value));
            xml.push_str("</Data>");
        }
        xml.push_str("</EventData>");
        xml
    }
}

/// Maps `event` onto its table.
pub fn map_event(event: &WinEvent) -> Record {
    if event.is_sysmon() {
        if let Some(record) = sysmon::map(event) {
            return record;
        }
    }
    if event.is_security() {
        return security::map(event);
    }
    event::map(event)
}

/// Escapes text for an XML element or attribute.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

/// A JSON map under construction for a record, skipping absent values.
#[derive(Debug, Default)]
pub(crate) struct Fields(pub Map<String, Value>);

impl Fields {
    /// Sets a text column when the value is present and not empty.
    pub fn text(&mut self, column: &str, value: Option<&str>) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            self.0
                .insert(column.to_string(), Value::String(value.to_string()));
        }
    }

    /// Sets a column to any JSON value.
    pub fn value(&mut self, column: &str, value: Value) {
        self.0.insert(column.to_string(), value);
    }

    /// Sets a numeric column when the value is present.
    pub fn number(&mut self, column: &str, value: Option<i64>) {
        if let Some(value) = value {
            self.0.insert(column.to_string(), Value::from(value));
        }
    }

    /// Sets a datetime column from nanoseconds.
    pub fn time(&mut self, column: &str, nanos: Option<i64>) {
        if let Some(nanos) = nanos {
            self.0.insert(
                column.to_string(),
                Value::String(quarry_engine::values::format_datetime(nanos, false)),
            );
        }
    }
}

/// A Windows integer written in decimal or as `0x` hex.
pub fn parse_windows_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|v| v as i64),
        None => text.parse().ok(),
    }
}

/// The file name of a Windows path (`C:\Windows\System32\cmd.exe` → `cmd.exe`).
pub fn file_name(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}
