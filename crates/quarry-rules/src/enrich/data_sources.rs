//! The tables a rule needs and the connectors that provide them: those the rule declares, else
//! the connectors that rules of the Azure-Sentinel corpus usually declare for the table
//! (`data/table-connectors.tsv`, generated from the corpus; see `data/README.md`).

use super::text::within_one_edit;
use super::DataSource;
use crate::analysis::QueryAnalysis;
use crate::model::Rule;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The embedded table → connector counts.
const TABLE_CONNECTORS_TSV: &str = include_str!("../../data/table-connectors.tsv");

/// At most this many usual connectors are named for a table nobody declared: beyond that the
/// list stops helping (CommonSecurityLog has nine vendors).
const MAX_USUAL_CONNECTORS: usize = 4;

/// Table (lower-case) → (connector, rules declaring it), most rules first.
fn usual_connectors() -> &'static BTreeMap<String, Vec<(String, u32)>> {
    static TABLE: OnceLock<BTreeMap<String, Vec<(String, u32)>>> = OnceLock::new();
    TABLE.get_or_init(|| parse_table_connectors(TABLE_CONNECTORS_TSV))
}

/// Reads `table<TAB>connector<TAB>rules` lines; `#` lines and malformed lines are skipped.
pub(crate) fn parse_table_connectors(text: &str) -> BTreeMap<String, Vec<(String, u32)>> {
    let mut map: BTreeMap<String, Vec<(String, u32)>> = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let mut fields = line.split('\t');
        let (Some(table), Some(connector), Some(count)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Ok(count) = count.trim().parse::<u32>() else {
            continue;
        };
        map.entry(table.trim().to_ascii_lowercase())
            .or_default()
            .push((connector.trim().to_string(), count));
    }
    for connectors in map.values_mut() {
        connectors.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }
    map
}

/// Whether a table name appears in the corpus's declarations (any case).
pub(crate) fn is_known_table(table: &str) -> bool {
    usual_connectors().contains_key(&table.to_ascii_lowercase())
}

/// Every table name the corpus declares, as first spelled there (for spotting table names in
/// descriptions).
pub(crate) fn known_tables() -> impl Iterator<Item = &'static str> {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            let mut names: Vec<String> = Vec::new();
            for line in TABLE_CONNECTORS_TSV.lines().filter(|l| !l.starts_with('#')) {
                if let Some(table) = line.split('\t').next().map(str::trim) {
                    if !table.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(table)) {
                        names.push(table.to_string());
                    }
                }
            }
            names
        })
        .iter()
        .map(String::as_str)
}

/// The table a declared data type names: `CommonSecurityLog (PaloAlto)` → `CommonSecurityLog`.
pub(crate) fn data_type_table(data_type: &str) -> &str {
    let trimmed = data_type.trim();
    match trimmed.find(" (") {
        Some(i) if trimmed.ends_with(')') => trimmed[..i].trim(),
        _ => trimmed,
    }
}

/// Whether two table names are near misses of each other (`SecurityEvents` / `SecurityEvent`,
/// `Signinlogs` / `SigninLogs` is an exact match, not a near miss): equal after dropping case,
/// separators and a trailing `s`, or one edit apart for names of eight letters or more.
pub(crate) fn near_miss(a: &str, b: &str) -> bool {
    if a.eq_ignore_ascii_case(b) {
        return false;
    }
    let key = |s: &str| -> String {
        let k: String = s
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        k.strip_suffix('s').map(str::to_string).unwrap_or(k)
    };
    let (ka, kb) = (key(a), key(b));
    ka == kb || (ka.len().min(kb.len()) >= 8 && within_one_edit(ka.as_bytes(), kb.as_bytes()))
}

/// One declared data type: the table it names and the connector declaring it.
#[derive(Debug, Clone)]
pub(crate) struct Declared {
    /// The data type as written.
    pub data_type: String,
    /// The table it names.
    pub table: String,
    /// The connector id.
    pub connector: String,
}

/// Every declared data type, in declaration order.
pub(crate) fn declared(rule: &Rule) -> Vec<Declared> {
    rule.required_connectors
        .iter()
        .flat_map(|c| {
            c.data_types.iter().map(|d| Declared {
                data_type: d.trim().to_string(),
                table: data_type_table(d).to_string(),
                connector: c.connector_id.trim().to_string(),
            })
        })
        .filter(|d| !d.table.is_empty())
        .collect()
}

/// One data source per table read (in the analysis's order), then one per declared table the
/// query does not read (in declaration order). A declared near miss of a read table counts as
/// declaring it (the contradiction check reports the spelling).
pub(crate) fn data_sources(rule: &Rule, analysis: &QueryAnalysis) -> Vec<DataSource> {
    let declared = declared(rule);
    let mut used = vec![false; declared.len()];
    let mut out = Vec::new();
    for table in &analysis.tables {
        let exact: Vec<usize> = (0..declared.len())
            .filter(|&i| declared[i].table.eq_ignore_ascii_case(table))
            .collect();
        let matching = if exact.is_empty() {
            (0..declared.len())
                .filter(|&i| near_miss(&declared[i].table, table))
                .collect()
        } else {
            exact
        };
        let mut connectors: Vec<String> = Vec::new();
        for &i in &matching {
            used[i] = true;
            push_unique(&mut connectors, &declared[i].connector);
        }
        if connectors.is_empty() {
            if let Some(usual) = usual_connectors().get(&table.to_ascii_lowercase()) {
                for (connector, _) in usual.iter().take(MAX_USUAL_CONNECTORS) {
                    push_unique(&mut connectors, connector);
                }
            }
        }
        out.push(DataSource {
            table: table.clone(),
            connectors,
            declared: !matching.is_empty(),
            read: true,
        });
    }
    for i in 0..declared.len() {
        if used[i] {
            continue;
        }
        let table = &declared[i].table;
        if let Some(existing) = out
            .iter_mut()
            .find(|d: &&mut DataSource| !d.read && d.table.eq_ignore_ascii_case(table))
        {
            push_unique(&mut existing.connectors, &declared[i].connector);
            continue;
        }
        let mut connectors = Vec::new();
        push_unique(&mut connectors, &declared[i].connector);
        out.push(DataSource {
            table: table.clone(),
            connectors,
            declared: true,
            read: false,
        });
    }
    out
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !item.is_empty() && !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::test_support::rule_with_connectors;

    #[test]
    fn declared_connectors_win_and_undeclared_tables_get_the_usual_ones() {
        let rule = rule_with_connectors(&[
            ("MicrosoftThreatProtection", &["DeviceFileEvents"]),
            ("Office365", &["OfficeActivity (Teams)"]),
        ]);
        let analysis = QueryAnalysis {
            tables: vec!["DeviceFileEvents".into(), "SigninLogs".into()],
            ..QueryAnalysis::default()
        };
        let sources = data_sources(&rule, &analysis);
        assert_eq!(sources.len(), 3);
        assert_eq!(sources[0].table, "DeviceFileEvents");
        assert_eq!(sources[0].connectors, ["MicrosoftThreatProtection"]);
        assert!(sources[0].declared && sources[0].read);
        assert_eq!(sources[1].table, "SigninLogs");
        assert!(!sources[1].declared && sources[1].read);
        assert_eq!(sources[1].connectors, ["AzureActiveDirectory"]);
        assert_eq!(sources[2].table, "OfficeActivity");
        assert!(sources[2].declared && !sources[2].read);
        assert_eq!(sources[2].connectors, ["Office365"]);
    }

    #[test]
    fn a_near_miss_declares_the_table_it_misspells() {
        let rule = rule_with_connectors(&[("SecurityEvents", &["SecurityEvents"])]);
        let analysis = QueryAnalysis {
            tables: vec!["SecurityEvent".into()],
            ..QueryAnalysis::default()
        };
        let sources = data_sources(&rule, &analysis);
        assert_eq!(sources.len(), 1);
        assert!(sources[0].declared && sources[0].read);
        assert_eq!(sources[0].connectors, ["SecurityEvents"]);
    }

    #[test]
    fn near_misses() {
        assert!(near_miss("SecurityEvents", "SecurityEvent"));
        assert!(near_miss("Syslogs", "Syslog"));
        assert!(near_miss("SigninLog", "SigninLogs"));
        assert!(near_miss("DeviceProcesEvents", "DeviceProcessEvents"));
        assert!(!near_miss("SigninLogs", "signinlogs"));
        assert!(!near_miss("DeviceEvents", "DeviceInfo"));
        assert!(!near_miss("Event", "Events2"));
        assert_eq!(
            data_type_table("CommonSecurityLog (PaloAlto)"),
            "CommonSecurityLog"
        );
        assert_eq!(data_type_table(" Syslog "), "Syslog");
    }

    #[test]
    fn the_embedded_table_parses_and_sorts_by_use() {
        let map = parse_table_connectors("# note\nT\tA\t1\nT\tB\t5\nbad line\nU\tC\tx\n");
        assert_eq!(map["t"], [("B".to_string(), 5), ("A".to_string(), 1)]);
        assert!(!map.contains_key("u"));
        assert!(is_known_table("devicefileevents"));
        assert!(known_tables().any(|t| t == "SigninLogs"));
    }
}
