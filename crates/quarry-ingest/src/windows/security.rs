//! Security log events → `SecurityEvent`, filled the way Microsoft Sentinel fills it: the System
//! fields, the whole event data as XML in `EventData`, every event-data field that has a column
//! of the same name, and the derived columns rules rely on (`Account`, `Activity`, `Process`,
//! `LogonTypeName`, …).

use super::{file_name, titles, Fields, WinEvent};
use crate::record::Record;
use quarry_schema::{Catalog, KustoType};
use serde_json::Value;

/// The table Security events go to.
pub const TABLE: &str = "SecurityEvent";

/// Events whose `Account` is the target account rather than the subject (logons, logoffs,
/// Kerberos and credential validation), as in Sentinel.
const TARGET_ACCOUNT_EVENTS: &[i64] = &[
    4624, 4625, 4634, 4647, 4648, 4768, 4769, 4770, 4771, 4776, 4778, 4779, 4800, 4801,
];

/// Maps one Security event onto a `SecurityEvent` row.
pub fn map(event: &WinEvent) -> Record {
    let columns = Catalog::embedded().table(TABLE);
    let mut fields = Fields::default();
    fields.time("TimeGenerated", event.time);
    fields.text("Computer", Some(&event.computer));
    fields.number("EventID", Some(event.event_id));
    fields.text("Channel", Some("Security"));
    fields.text("EventSourceName", Some(&event.provider));
    fields.text(
        "Activity",
        Some(&titles::activity(event.event_id, titles::SECURITY)),
    );
    fields.number("Task", event.task);
    fields.text("Level", event.level.map(|l| l.to_string()).as_deref());
    fields.text("Keywords", event.keywords.as_deref());
    fields.text("Opcode", event.opcode.as_deref());
    fields.number("Version", event.version);
    fields.text(
        "EventRecordId",
        event.record_id.map(|r| r.to_string()).as_deref(),
    );
    fields.number("SystemProcessId", event.process_id);
    fields.number("SystemThreadId", event.thread_id);
    fields.text("SystemUserId", event.user_sid.as_deref());
    fields.text("EventData", Some(&event.event_data_xml()));

    // Event-data fields that have a column of the same name, when the value fits its type.
    for (name, value) in &event.data {
        let Some(column) = columns.and_then(|t| t.column(name)) else {
            continue;
        };
        if value.is_empty() || !fits(value, column.ty) {
            continue;
        }
        fields.value(name, Value::String(value.clone()));
    }

    let subject = account(event.get("SubjectDomainName"), event.get("SubjectUserName"));
    let target = account(event.get("TargetDomainName"), event.get("TargetUserName"));
    fields.text("SubjectAccount", subject.as_deref());
    fields.text("TargetAccount", target.as_deref());
    fields.text("TargetUser", event.get("TargetUserName"));
    let primary = if TARGET_ACCOUNT_EVENTS.contains(&event.event_id) {
        target.clone().or(subject.clone())
    } else {
        subject.clone().or(target.clone())
    };
    if let Some(primary) = &primary {
        fields.text("Account", Some(primary));
        let name = primary.rsplit('\\').next().unwrap_or(primary);
        fields.text(
            "AccountType",
            Some(if name.ends_with('$') {
                "Machine"
            } else {
                "User"
            }),
        );
    }
    if let Some(logon_type) = event
        .get("LogonType")
        .and_then(|t| t.trim().parse::<i64>().ok())
    {
        fields.text("LogonTypeName", Some(&logon_type_name(logon_type)));
    }
    let process = event
        .get("NewProcessName")
        .or_else(|| event.get("ProcessName"))
        .filter(|p| !p.is_empty() && *p != "-");
    fields.text("Process", process.map(file_name));
    Record::new(TABLE, fields.0)
}

/// `DOMAIN\user`, or just `user` without a domain; `None` for an absent or `-` user.
fn account(domain: Option<&str>, user: Option<&str>) -> Option<String> {
    let user = user.filter(|u| !u.is_empty() && *u != "-")?;
    Some(match domain.filter(|d| !d.is_empty() && *d != "-") {
        Some(domain) => format!("{domain}\\{user}"),
        None => user.to_string(),
    })
}

/// Whether event-data text can be stored in a column of type `ty`.
fn fits(value: &str, ty: KustoType) -> bool {
    match ty {
        KustoType::String | KustoType::Dynamic => true,
        KustoType::Int => {
            super::parse_windows_integer(value).is_some_and(|v| i32::try_from(v).is_ok())
        }
        KustoType::Long => super::parse_windows_integer(value).is_some(),
        KustoType::Real => value.trim().parse::<f64>().is_ok(),
        KustoType::Bool => matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "false"),
        KustoType::DateTime => quarry_engine::values::parse_datetime(value).is_some(),
        _ => false,
    }
}

/// Sentinel's `LogonTypeName` (`3 - Network`).
fn logon_type_name(logon_type: i64) -> String {
    let name = match logon_type {
        0 => "System",
        2 => "Interactive",
        3 => "Network",
        4 => "Batch",
        5 => "Service",
        7 => "Unlock",
        8 => "NetworkCleartext",
        9 => "NewCredentials",
        10 => "RemoteInteractive",
        11 => "CachedInteractive",
        12 => "CachedRemoteInteractive",
        13 => "CachedUnlock",
        _ => return logon_type.to_string(),
    };
    format!("{logon_type} - {name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logon_takes_the_target_account() {
        let event = WinEvent {
            computer: "DC01".into(),
            channel: "Security".into(),
            event_id: 4624,
            time: Some(0),
            data: vec![
                ("SubjectUserName".into(), "DC01$".into()),
                ("SubjectDomainName".into(), "CONTOSO".into()),
                ("TargetUserName".into(), "alice".into()),
                ("TargetDomainName".into(), "CONTOSO".into()),
                ("LogonType".into(), "3".into()),
                ("KeyLength".into(), "not a number".into()),
            ],
            ..WinEvent::default()
        };
        let record = map(&event);
        assert_eq!(record.fields["Account"], "CONTOSO\\alice");
        assert_eq!(record.fields["AccountType"], "User");
        assert_eq!(record.fields["LogonTypeName"], "3 - Network");
        assert_eq!(record.fields["LogonType"], "3");
        assert!(!record.fields.contains_key("KeyLength"));
        assert_eq!(
            record.fields["Activity"],
            "4624 - An account was successfully logged on."
        );
    }
}
