//! Sysmon events → the Defender XDR device tables, so that hunting rules written for Defender
//! run over Sysmon telemetry. Which event goes where and which column is filled from which
//! Sysmon field is listed in `docs/windows-event-mapping.md`; events without a Defender
//! counterpart return `None` and go to `Event`.

use super::{file_name, parse_windows_integer, Fields, WinEvent};
use crate::record::Record;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Maps a Sysmon event onto its Defender table, or `None` when it has no counterpart there.
pub fn map(event: &WinEvent) -> Option<Record> {
    let (table, action) = match event.event_id {
        1 => ("DeviceProcessEvents", "ProcessCreated".to_string()),
        3 => (
            "DeviceNetworkEvents",
            if is_true(event.get("Initiated")) {
                "ConnectionSuccess".to_string()
            } else {
                "InboundConnectionAccepted".to_string()
            },
        ),
        7 => ("DeviceImageLoadEvents", "ImageLoaded".to_string()),
        8 => ("DeviceEvents", "CreateRemoteThreadApiCall".to_string()),
        10 => ("DeviceEvents", "OpenProcessApiCall".to_string()),
        11 => ("DeviceFileEvents", "FileCreated".to_string()),
        12..=14 => ("DeviceRegistryEvents", registry_action(event)),
        17 | 18 => ("DeviceEvents", "NamedPipeEvent".to_string()),
        22 => ("DeviceEvents", "DnsQueryResponse".to_string()),
        23 | 26 => ("DeviceFileEvents", "FileDeleted".to_string()),
        _ => return None,
    };
    let mut fields = Fields::default();
    fields.time("Timestamp", event.time);
    fields.time("TimeGenerated", event.time);
    let device = event.computer.to_ascii_lowercase();
    fields.text("DeviceId", Some(&device_id(&device)));
    fields.text("DeviceName", Some(&device));
    fields.text("ActionType", Some(&action));
    fields.number("ReportId", event.record_id);
    let mut additional = Map::new();
    if let Some(rule) = event.get("RuleName").filter(|r| !r.is_empty() && *r != "-") {
        additional.insert("RuleName".into(), json!(rule));
    }

    match event.event_id {
        1 => {
            let image = event.get("Image");
            fields.text("FileName", image.map(file_name));
            fields.text("FolderPath", image);
            fields.text("ProcessCommandLine", event.get("CommandLine"));
            fields.number("ProcessId", integer(event.get("ProcessId")));
            fields.text("ProcessIntegrityLevel", event.get("IntegrityLevel"));
            fields.number("LogonId", integer(event.get("LogonId")));
            fields.time("ProcessCreationTime", event.time);
            let (domain, user) = split_account(event.get("User"));
            fields.text("AccountDomain", domain);
            fields.text("AccountName", user);
            hashes(&mut fields, "", event.get("Hashes"));
            fields.text("ProcessVersionInfoCompanyName", event.get("Company"));
            fields.text("ProcessVersionInfoProductName", event.get("Product"));
            fields.text("ProcessVersionInfoProductVersion", event.get("FileVersion"));
            fields.text(
                "ProcessVersionInfoFileDescription",
                event.get("Description"),
            );
            fields.text(
                "ProcessVersionInfoOriginalFileName",
                event.get("OriginalFileName"),
            );
            let parent = event.get("ParentImage");
            fields.text("InitiatingProcessFileName", parent.map(file_name));
            fields.text("InitiatingProcessFolderPath", parent);
            fields.text(
                "InitiatingProcessCommandLine",
                event.get("ParentCommandLine"),
            );
            fields.number("InitiatingProcessId", integer(event.get("ParentProcessId")));
            let (parent_domain, parent_user) = split_account(event.get("ParentUser"));
            fields.text("InitiatingProcessAccountDomain", parent_domain);
            fields.text("InitiatingProcessAccountName", parent_user);
            for key in [
                "ProcessGuid",
                "ParentProcessGuid",
                "CurrentDirectory",
                "TerminalSessionId",
            ] {
                if let Some(value) = event.get(key) {
                    additional.insert(key.into(), json!(value));
                }
            }
        }
        3 => {
            initiating(&mut fields, event, "Image", "ProcessId");
            let outbound = is_true(event.get("Initiated"));
            let (local, remote) = if outbound {
                ("Source", "Destination")
            } else {
                ("Destination", "Source")
            };
            let local_ip = event.get(&format!("{local}Ip"));
            let remote_ip = event.get(&format!("{remote}Ip"));
            fields.text("LocalIP", local_ip);
            fields.number("LocalPort", integer(event.get(&format!("{local}Port"))));
            fields.text("RemoteIP", remote_ip);
            fields.number("RemotePort", integer(event.get(&format!("{remote}Port"))));
            fields.text("RemoteUrl", event.get(&format!("{remote}Hostname")));
            fields.text("LocalIPType", local_ip.map(ip_type));
            fields.text("RemoteIPType", remote_ip.map(ip_type));
            fields.text(
                "Protocol",
                event.get("Protocol").map(protocol_name).as_deref(),
            );
        }
        7 => {
            initiating(&mut fields, event, "Image", "ProcessId");
            let loaded = event.get("ImageLoaded");
            fields.text("FileName", loaded.map(file_name));
            fields.text("FolderPath", loaded);
            hashes(&mut fields, "", event.get("Hashes"));
            for key in ["Signed", "Signature", "SignatureStatus"] {
                if let Some(value) = event.get(key) {
                    additional.insert(key.into(), json!(value));
                }
            }
        }
        8 | 10 => {
            initiating(&mut fields, event, "SourceImage", "SourceProcessId");
            let target = event.get("TargetImage");
            fields.text("FileName", target.map(file_name));
            fields.text("FolderPath", target);
            fields.number("ProcessId", integer(event.get("TargetProcessId")));
            if event.event_id == 10 {
                if let Some(access) = event.get("GrantedAccess") {
                    let desired = parse_windows_integer(access).map(Value::from);
                    additional.insert(
                        "DesiredAccess".into(),
                        desired.unwrap_or_else(|| json!(access)),
                    );
                }
                if let Some(trace) = event.get("CallTrace") {
                    additional.insert("CallTrace".into(), json!(trace));
                }
            } else {
                for key in [
                    "StartAddress",
                    "StartModule",
                    "StartFunction",
                    "NewThreadId",
                ] {
                    if let Some(value) = event.get(key) {
                        additional.insert(key.into(), json!(value));
                    }
                }
            }
        }
        11 | 23 | 26 => {
            initiating(&mut fields, event, "Image", "ProcessId");
            let target = event.get("TargetFilename");
            fields.text("FileName", target.map(file_name));
            fields.text("FolderPath", target);
            hashes(&mut fields, "", event.get("Hashes"));
        }
        12..=14 => {
            initiating(&mut fields, event, "Image", "ProcessId");
            let target = event.get("TargetObject").map(registry_path);
            match (event.event_id, target) {
                (13, Some(path)) => {
                    let (key, value_name) = match path.rfind('\\') {
                        Some(at) => (path[..at].to_string(), path[at + 1..].to_string()),
                        None => (path.clone(), String::new()),
                    };
                    fields.text("RegistryKey", Some(&key));
                    fields.text("RegistryValueName", Some(&value_name));
                    let (value_type, data) = registry_value(event.get("Details").unwrap_or(""));
                    fields.text("RegistryValueType", Some(value_type));
                    fields.text("RegistryValueData", Some(&data));
                }
                (14, Some(path)) => {
                    fields.text("PreviousRegistryKey", Some(&path));
                    fields.text(
                        "RegistryKey",
                        event.get("NewName").map(registry_path).as_deref(),
                    );
                }
                (_, Some(path)) => fields.text("RegistryKey", Some(&path)),
                _ => {}
            }
        }
        17 | 18 => {
            initiating(&mut fields, event, "Image", "ProcessId");
            if let Some(pipe) = event.get("PipeName") {
                additional.insert("PipeName".into(), json!(pipe));
            }
            additional.insert(
                "NamedPipeEnd".into(),
                json!(if event.event_id == 17 {
                    "Server"
                } else {
                    "Client"
                }),
            );
        }
        22 => {
            initiating(&mut fields, event, "Image", "ProcessId");
            fields.text("RemoteUrl", event.get("QueryName"));
            additional.insert("DnsQueryString".into(), json!(event.get("QueryName")));
            if let Some(status) = event.get("QueryStatus") {
                additional.insert("DnsQueryStatus".into(), json!(status));
            }
            let answers: Vec<&str> = event
                .get("QueryResults")
                .unwrap_or("")
                .split(';')
                .map(|a| a.trim().trim_start_matches("::ffff:"))
                .filter(|a| !a.is_empty())
                .collect();
            additional.insert("DnsQueryResult".into(), json!(answers));
        }
        _ => {}
    }
    if !additional.is_empty() {
        fields.value("AdditionalFields", Value::Object(additional));
    }
    Some(Record::new(table, fields.0))
}

/// The `InitiatingProcess*` columns from the acting process's image, id and user.
fn initiating(fields: &mut Fields, event: &WinEvent, image_key: &str, id_key: &str) {
    let image = event.get(image_key);
    fields.text("InitiatingProcessFileName", image.map(file_name));
    fields.text("InitiatingProcessFolderPath", image);
    fields.number("InitiatingProcessId", integer(event.get(id_key)));
    let (domain, user) = split_account(event.get("User"));
    fields.text("InitiatingProcessAccountDomain", domain);
    fields.text("InitiatingProcessAccountName", user);
}

/// The registry action of Sysmon 12/13/14 in Defender's words.
fn registry_action(event: &WinEvent) -> String {
    match (event.event_id, event.get("EventType").unwrap_or("")) {
        (13, _) => "RegistryValueSet",
        (14, _) => "RegistryKeyRenamed",
        (_, "DeleteKey") => "RegistryKeyDeleted",
        (_, "DeleteValue") => "RegistryValueDeleted",
        _ => "RegistryKeyCreated",
    }
    .to_string()
}

/// A Sysmon registry path with its hive spelled out as Defender writes it.
fn registry_path(path: &str) -> String {
    const HIVES: [(&str, &str); 5] = [
        ("HKLM", "HKEY_LOCAL_MACHINE"),
        ("HKU", "HKEY_USERS"),
        ("HKCU", "HKEY_CURRENT_USER"),
        ("HKCR", "HKEY_CLASSES_ROOT"),
        ("HKCC", "HKEY_CURRENT_CONFIG"),
    ];
    for (short, long) in HIVES {
        if let Some(rest) = path.strip_prefix(short) {
            if rest.is_empty() || rest.starts_with('\\') {
                return format!("{long}{rest}");
            }
        }
    }
    path.to_string()
}

/// Defender's value type and data for Sysmon's `Details` (`DWORD (0x00000001)` → Dword, `1`).
fn registry_value(details: &str) -> (&'static str, String) {
    let number = |inner: &str| -> Option<String> {
        let hex = inner.trim().trim_start_matches('(').trim_end_matches(')');
        let digits: String = hex.split('-').map(|p| p.trim_start_matches("0x")).collect();
        u64::from_str_radix(&digits, 16).ok().map(|v| v.to_string())
    };
    if let Some(rest) = details.strip_prefix("DWORD ") {
        return ("Dword", number(rest).unwrap_or_else(|| details.to_string()));
    }
    if let Some(rest) = details.strip_prefix("QWORD ") {
        return ("Qword", number(rest).unwrap_or_else(|| details.to_string()));
    }
    if details == "Binary Data" {
        return ("Binary", String::new());
    }
    ("String", details.to_string())
}

/// `SHA1=…,MD5=…,SHA256=…,IMPHASH=…` into the hash columns (lower-case hex, as Defender).
fn hashes(fields: &mut Fields, prefix: &str, text: Option<&str>) {
    for part in text.unwrap_or("").split(',') {
        let Some((algorithm, value)) = part.split_once('=') else {
            continue;
        };
        let column = match algorithm.trim().to_ascii_uppercase().as_str() {
            "SHA1" => "SHA1",
            "MD5" => "MD5",
            "SHA256" => "SHA256",
            _ => continue,
        };
        fields.text(
            &format!("{prefix}{column}"),
            Some(&value.trim().to_ascii_lowercase()),
        );
    }
}

/// `DOMAIN\user` split in two; a bare name has no domain.
fn split_account(account: Option<&str>) -> (Option<&str>, Option<&str>) {
    match account.filter(|a| !a.is_empty() && *a != "-") {
        Some(account) => match account.split_once('\\') {
            Some((domain, user)) => (Some(domain), Some(user)),
            None => (None, Some(account)),
        },
        None => (None, None),
    }
}

/// A decimal or hex integer field.
fn integer(text: Option<&str>) -> Option<i64> {
    text.and_then(parse_windows_integer)
}

/// Sysmon's `true`/`false` text.
fn is_true(text: Option<&str>) -> bool {
    text.is_some_and(|t| t.eq_ignore_ascii_case("true"))
}

/// Defender's protocol spelling (`Tcp`, `Udp`).
fn protocol_name(protocol: &str) -> String {
    match protocol.to_ascii_lowercase().as_str() {
        "tcp" => "Tcp".to_string(),
        "udp" => "Udp".to_string(),
        "icmp" => "Icmp".to_string(),
        _ => protocol.to_string(),
    }
}

/// Defender's IP type: Loopback, Private, LinkLocal, Multicast, Reserved or Public.
fn ip_type(ip: &str) -> &'static str {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => {
            if v4.is_loopback() {
                "Loopback"
            } else if v4.is_private() {
                "Private"
            } else if v4.is_link_local() {
                "LinkLocal"
            } else if v4.is_multicast() || v4.is_broadcast() {
                "Multicast"
            } else if v4.is_unspecified() {
                "Reserved"
            } else {
                "Public"
            }
        }
        Ok(std::net::IpAddr::V6(v6)) => {
            if v6.is_loopback() {
                "Loopback"
            } else if v6.is_multicast() {
                "Multicast"
            } else if v6.is_unspecified() {
                "Reserved"
            } else if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                "LinkLocal"
            } else if (v6.segments()[0] & 0xfe00) == 0xfc00 {
                "Private"
            } else {
                "Public"
            }
        }
        Err(_) => "",
    }
}

/// A stable Defender-style device id (40 hex digits) for a device name.
pub fn device_id(device: &str) -> String {
    let digest = Sha256::digest(device.as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sysmon(id: i64, data: &[(&str, &str)]) -> WinEvent {
        WinEvent {
            computer: "WORKSTATION5.theshire.local".into(),
            channel: super::super::SYSMON_CHANNEL.into(),
            event_id: id,
            time: Some(1_000),
            data: data
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..WinEvent::default()
        }
    }

    #[test]
    fn process_access_to_lsass_is_an_open_process_call() {
        let record = map(&sysmon(
            10,
            &[
                ("SourceImage", r"C:\Windows\System32\rundll32.exe"),
                ("SourceProcessId", "4242"),
                ("TargetImage", r"C:\Windows\system32\lsass.exe"),
                ("GrantedAccess", "0x1fffff"),
            ],
        ))
        .unwrap();
        assert_eq!(record.table, "DeviceEvents");
        assert_eq!(record.fields["ActionType"], "OpenProcessApiCall");
        assert_eq!(record.fields["FileName"], "lsass.exe");
        assert_eq!(record.fields["InitiatingProcessFileName"], "rundll32.exe");
        assert_eq!(record.fields["InitiatingProcessId"], 4242);
        assert_eq!(record.fields["AdditionalFields"]["DesiredAccess"], 0x1fffff);
        assert_eq!(record.fields["DeviceName"], "workstation5.theshire.local");
    }

    #[test]
    fn a_run_key_value_is_split_into_key_and_value_name() {
        let record = map(&sysmon(
            13,
            &[
                ("EventType", "SetValue"),
                (
                    "Image",
                    r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
                ),
                (
                    "TargetObject",
                    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Updater",
                ),
                ("Details", "DWORD (0x00000001)"),
            ],
        ))
        .unwrap();
        assert_eq!(record.table, "DeviceRegistryEvents");
        assert_eq!(
            record.fields["RegistryKey"],
            r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"
        );
        assert_eq!(record.fields["RegistryValueName"], "Updater");
        assert_eq!(record.fields["RegistryValueType"], "Dword");
        assert_eq!(record.fields["RegistryValueData"], "1");
    }

    #[test]
    fn outbound_and_inbound_connections_swap_local_and_remote() {
        let data = [
            ("Initiated", "false"),
            ("SourceIp", "10.0.0.9"),
            ("SourcePort", "50000"),
            ("DestinationIp", "10.0.0.5"),
            ("DestinationPort", "445"),
            ("Protocol", "tcp"),
        ];
        let record = map(&sysmon(3, &data)).unwrap();
        assert_eq!(record.fields["ActionType"], "InboundConnectionAccepted");
        assert_eq!(record.fields["RemoteIP"], "10.0.0.9");
        assert_eq!(record.fields["LocalPort"], 445);
        assert_eq!(record.fields["Protocol"], "Tcp");
        assert!(map(&sysmon(5, &[])).is_none());
    }
}
