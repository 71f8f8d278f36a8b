//! Events of every other channel (System, PowerShell, Task Scheduler, …, and Sysmon events
//! without a Defender counterpart) → `Event`, the table Sentinel's Windows agent fills.

use super::{escape_xml, Fields, WinEvent};
use crate::record::Record;

/// The table other Windows events go to.
pub const TABLE: &str = "Event";

/// Maps one event onto an `Event` row.
pub fn map(event: &WinEvent) -> Record {
    let mut fields = Fields::default();
    fields.time("TimeGenerated", event.time);
    fields.text("Computer", Some(&event.computer));
    fields.text("EventLog", Some(&event.channel));
    fields.number("EventID", Some(event.event_id));
    fields.text("Source", Some(&event.provider));
    let level = event.level.unwrap_or(4);
    fields.number("EventLevel", Some(level));
    fields.text("EventLevelName", Some(level_name(level)));
    fields.number("EventCategory", event.task);
    fields.text("RenderedDescription", event.message.as_deref());
    fields.text("UserName", event.user_sid.as_deref());
    // Sentinel wraps the event data in a DataItem element, and lists the values alone in
    // ParameterXml.
    fields.text(
        "EventData",
        Some(&format!(
            "<DataItem type=\"System.XmlData\" time=\"\" sourceHealthServiceId=\"\" version=\"2.0\">{}</DataItem>",
            event.event_data_xml()
        )),
    );
    let parameters: String = event
        .data
        .iter()
        .map(|(_, value)| format!("<Param>{}</Param>", escape_xml(value)))
        .collect();
    fields.text("ParameterXml", Some(&parameters));
    Record::new(TABLE, fields.0)
}

/// The `EventLevelName` of a level.
fn level_name(level: i64) -> &'static str {
    match level {
        1 => "Critical",
        2 => "Error",
        3 => "Warning",
        5 => "Verbose",
        _ => "Information",
    }
}
