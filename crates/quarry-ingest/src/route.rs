//! Deciding which table a JSON object belongs to: `--table`, a Defender streaming record's
//! `category`, a Log Analytics `Type`, or — for exports that carry no table name, such as the
//! Defender portal's CSV or a union of advanced hunting tables — the known table whose columns
//! the object's non-empty fields match best.

use crate::coerce::strip_type_suffix;
use quarry_schema::{Catalog, TableSchema};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The prefix of Defender streaming API categories (`AdvancedHunting-DeviceProcessEvents`).
const STREAMING_PREFIX: &str = "AdvancedHunting-";
/// The share of an object's non-empty fields a table must have for the object to be its row.
const MATCH_THRESHOLD: f64 = 0.9;
/// Fewer non-empty fields than this never identify a table.
const MIN_MATCHED_FIELDS: usize = 3;

/// Where an object goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// A row of `table`, with these fields.
    Table(String, Map<String, Value>),
    /// A flat Windows event, to be mapped by `windows`.
    WindowsEvent(Map<String, Value>),
}

/// Routes objects to tables, remembering which table each field signature matched.
#[derive(Debug)]
pub struct Router<'a> {
    catalog: &'a Catalog,
    forced: Option<String>,
    fallback: String,
    matches: HashMap<Vec<String>, Option<String>>,
}

impl<'a> Router<'a> {
    /// A router over `catalog`; `forced` is `--table`, `fallback` names the table of objects
    /// that match no known table (the input file's stem).
    pub fn new(catalog: &'a Catalog, forced: Option<String>, fallback: String) -> Router<'a> {
        Router {
            catalog,
            forced,
            fallback,
            matches: HashMap::new(),
        }
    }

    /// The route of one object; a streaming batch (`records`) yields one route per record.
    pub fn route(&mut self, mut object: Map<String, Value>) -> Vec<Route> {
        if let Some(table) = &self.forced {
            return vec![Route::Table(table.clone(), object)];
        }
        if let Some(Value::Array(records)) = object.get("records") {
            if object.len() == 1 {
                let records = records.clone();
                return records
                    .into_iter()
                    .filter_map(|r| match r {
                        Value::Object(o) => Some(o),
                        _ => None,
                    })
                    .flat_map(|o| self.route(o))
                    .collect();
            }
        }
        if let Some(table) = object
            .get("category")
            .and_then(Value::as_str)
            .and_then(|c| c.strip_prefix(STREAMING_PREFIX))
            .map(str::to_string)
        {
            if let Some(Value::Object(properties)) = object.remove("properties") {
                let mut fields = properties;
                // The record's own time is the event time when the properties lack one.
                if let Some(time) = object.get("time").cloned() {
                    fields.entry("Timestamp").or_insert(time);
                }
                return vec![Route::Table(table, fields)];
            }
        }
        if crate::windows::nxlog::looks_like_event(&object) {
            return vec![Route::WindowsEvent(object)];
        }
        if let Some(table) = object.get("Type").and_then(Value::as_str) {
            if self.catalog.table(table).is_some() || table.ends_with("_CL") {
                let table = table.to_string();
                return vec![Route::Table(table, object)];
            }
        }
        if is_untyped_security_row(&object) {
            return vec![Route::Table("SecurityEvent".to_string(), object)];
        }
        let table = self
            .best_table(&object)
            .unwrap_or_else(|| self.fallback.clone());
        vec![Route::Table(table, object)]
    }

    /// The known table whose columns cover the object's non-empty fields best, if one covers
    /// at least [`MATCH_THRESHOLD`] of them.
    fn best_table(&mut self, object: &Map<String, Value>) -> Option<String> {
        let mut signature: Vec<String> = object
            .iter()
            .filter(|(_, v)| !matches!(v, Value::Null) && v.as_str() != Some(""))
            .map(|(k, _)| strip_type_suffix(k).to_string())
            .collect();
        signature.sort();
        signature.dedup();
        let action = object
            .get("ActionType")
            .and_then(Value::as_str)
            .unwrap_or("");
        signature.push(format!("\0{action}"));
        if let Some(found) = self.matches.get(&signature) {
            return found.clone();
        }
        let fields = &signature[..signature.len() - 1];
        let found = if fields.len() < MIN_MATCHED_FIELDS {
            None
        } else {
            let scored: Vec<(f64, &TableSchema)> = self
                .catalog
                .tables()
                .map(|table| {
                    let matched = fields.iter().filter(|n| table.column(n).is_some()).count();
                    (matched as f64 / fields.len() as f64, table)
                })
                .filter(|(share, _)| *share >= MATCH_THRESHOLD)
                .collect();
            let best = scored.iter().map(|(s, _)| *s).fold(0.0, f64::max);
            let tied: Vec<&TableSchema> = scored
                .iter()
                .filter(|(s, _)| (*s - best).abs() < 1e-9)
                .map(|(_, t)| *t)
                .collect();
            choose_among(&tied, action)
        };
        self.matches.insert(signature, found.clone());
        found
    }
}

/// Picks one of equally well matching tables: the Defender table a known `ActionType` belongs
/// to, else the catch-all `DeviceEvents` for other actions, else the table with fewest columns.
fn choose_among(tied: &[&TableSchema], action: &str) -> Option<String> {
    let by_action = match action {
        "ProcessCreated" => Some("DeviceProcessEvents"),
        "ConnectionSuccess"
        | "ConnectionFailed"
        | "ConnectionAttempt"
        | "ConnectionRequest"
        | "InboundConnectionAccepted"
        | "ListeningConnectionCreated" => Some("DeviceNetworkEvents"),
        "FileCreated" | "FileModified" | "FileDeleted" | "FileRenamed" => Some("DeviceFileEvents"),
        "RegistryValueSet"
        | "RegistryKeyCreated"
        | "RegistryKeyDeleted"
        | "RegistryValueDeleted"
        | "RegistryKeyRenamed" => Some("DeviceRegistryEvents"),
        "ImageLoaded" => Some("DeviceImageLoadEvents"),
        "LogonSuccess" | "LogonFailed" | "LogonAttempted" => Some("DeviceLogonEvents"),
        "" => None,
        _ => Some("DeviceEvents"),
    };
    if let Some(name) = by_action {
        if let Some(table) = tied.iter().find(|t| t.name() == name) {
            return Some(table.name().to_string());
        }
    }
    tied.iter()
        .min_by_key(|t| (t.columns().len(), t.name().to_string()))
        .map(|t| t.name().to_string())
}

/// Whether an object is a Log Analytics `SecurityEvent` row whose `Type` was lost (a union
/// export): a computer, a time and a Security audit event id (1100–1108, 4608–6424).
fn is_untyped_security_row(object: &Map<String, Value>) -> bool {
    let event_id = match object.get("EventID") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    object.contains_key("Computer")
        && object.contains_key("TimeGenerated")
        && !object.contains_key("Type")
        && event_id.is_some_and(|id| (1100..=1108).contains(&id) || (4608..=6424).contains(&id))
}

/// A table name made from a file name: letters, digits and `_` only, not starting with a digit.
pub fn table_name_from_stem(stem: &str) -> String {
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "T_");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn routes_by_category_type_and_columns() {
        let catalog = Catalog::embedded();
        let mut router = Router::new(catalog, None, "fallback".into());
        let streaming = object(
            json!({"time": "2024-01-01T00:00:00Z", "category": "AdvancedHunting-DeviceProcessEvents", "properties": {"DeviceName": "a"}}),
        );
        match &router.route(streaming)[0] {
            Route::Table(table, fields) => {
                assert_eq!(table, "DeviceProcessEvents");
                assert_eq!(fields["Timestamp"], "2024-01-01T00:00:00Z");
            }
            other => panic!("{other:?}"),
        }
        let typed = object(json!({"Type": "SecurityEvent", "EventID": 4624}));
        assert!(matches!(&router.route(typed)[0], Route::Table(t, _) if t == "SecurityEvent"));
        let untyped = object(
            json!({"Timestamp": "2024-01-01", "DeviceName": "a", "ActionType": "LdapSearch", "InitiatingProcessFileName": "x.exe", "ReportId_long": 3, "AdditionalFields_string": "{}", "QueryTarget": ""}),
        );
        let routed = router.route(untyped);
        assert!(
            matches!(&routed[0], Route::Table(t, _) if t == "DeviceEvents"),
            "{routed:?}"
        );
        let unknown = object(json!({"a": 1, "b": 2, "c": 3}));
        assert!(matches!(&router.route(unknown)[0], Route::Table(t, _) if t == "fallback"));
        let event = object(json!({"Channel": "Security", "EventID": 4624, "Hostname": "h"}));
        assert!(matches!(router.route(event)[0], Route::WindowsEvent(_)));
    }

    #[test]
    fn table_names_from_file_names() {
        assert_eq!(table_name_from_stem("my-data.2024"), "my_data_2024");
        assert_eq!(table_name_from_stem("2024"), "T_2024");
    }
}
