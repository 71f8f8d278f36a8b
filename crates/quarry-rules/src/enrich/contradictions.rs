//! Contradictions between parts of a rule: what the description says against what the query
//! does, the declared tactics against the declared techniques, and the declared data types
//! against the tables the query reads.
//!
//! Each check prefers silence to a false alarm: a name counts as used when it occurs anywhere in
//! the query's code, and a check whose facts are missing (no tables found, a parser that may read
//! anything) reports nothing.

use super::data_sources::{declared, is_known_table, known_tables, near_miss};
use super::inference::technique_label;
use super::text::{and_list, clip, is_identifier_shaped, sentences, urls, words, QueryText};
use super::{Contradiction, Inferred};
use crate::analysis::QueryAnalysis;
use crate::attack::Attack;
use crate::model::Rule;
use regex::Regex;
use std::sync::OnceLock;

/// The kind of a contradiction between the description and the query.
pub const DESCRIPTION_VS_QUERY: &str = "description-vs-query";
/// The kind of a contradiction between declared tactics and declared techniques.
pub const TACTICS_VS_TECHNIQUES: &str = "tactics-vs-techniques";
/// The kind of a contradiction between declared data types and the tables read.
pub const DATA_TYPES_VS_TABLES: &str = "data-types-vs-tables";

/// Endings of column and variable names (`RemoteIP`, `FileOriginUrl`, `AccountName`). Product
/// and malware names (`PowerShell`, `SolarWinds`) seldom end this way, which keeps the check
/// quiet about them.
const COLUMN_SUFFIXES: &[&str] = &[
    "IP",
    "Ip",
    "IPs",
    "Url",
    "URL",
    "Uri",
    "URI",
    "Name",
    "Id",
    "ID",
    "Type",
    "Address",
    "Domain",
    "Path",
    "Hash",
    "Port",
    "Host",
    "Account",
    "Upn",
    "UPN",
    "Sid",
    "SID",
    "Guid",
    "Line",
    "Email",
    "Sender",
    "Recipient",
    "Value",
    "Action",
    "Time",
    "Count",
];

/// Words after a name that say it is a name in the query.
const NAME_CUES: &[&str] = &[
    "variable",
    "variables",
    "column",
    "columns",
    "field",
    "fields",
    "parameter",
    "parameters",
    "property",
];

/// Every contradiction found, in a fixed order of checks.
pub(crate) fn contradictions(
    rule: &Rule,
    analysis: &QueryAnalysis,
    query: &QueryText,
    tactics: &[Inferred],
    techniques: &[Inferred],
    attack: &Attack,
) -> Vec<Contradiction> {
    let mut out = Vec::new();
    let all = sentences(&rule.description);
    let about_this_query = about_this_query(&all);
    query_numbers(&all, query, &mut out);
    missing_names(rule, &about_this_query, query, &mut out);
    missing_tables(&about_this_query, analysis, query, &mut out);
    tactics_vs_techniques(tactics, techniques, attack, &mut out);
    data_types_vs_tables(rule, analysis, query, &mut out);
    out
}

fn query_number_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)\bquery\s*#?\s*(\d{1,2})\b").expect("valid pattern"))
}

/// The `Query N` labels in a text, with the sentence or comment each is in.
fn query_labels(texts: &[String]) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for text in texts {
        for capture in query_number_regex().captures_iter(text) {
            if let Some(n) = capture.get(1).and_then(|m| m.as_str().parse().ok()) {
                out.push((n, text.clone()));
            }
        }
    }
    out
}

/// The description speaks of `Query 1` while the query's comments label it `Query 4` (sibling
/// rules that copied one description).
fn query_numbers(sentences: &[String], query: &QueryText, out: &mut Vec<Contradiction>) {
    let described = query_labels(sentences);
    let labelled = query_labels(&query.comments);
    if described.is_empty() || labelled.is_empty() {
        return;
    }
    if described
        .iter()
        .any(|(d, _)| labelled.iter().any(|(l, _)| l == d))
    {
        return;
    }
    let (d, d_text) = &described[0];
    let (l, l_text) = &labelled[0];
    out.push(Contradiction {
        kind: DESCRIPTION_VS_QUERY.to_string(),
        message: format!(
            "The description describes Query {d}, but the query's comment labels it Query {l}: \
             the description was probably copied from a sibling rule."
        ),
        evidence: vec![
            format!("description: \"{}\"", clip(d_text, 160)),
            format!("query comment: \"{}\"", clip(l_text, 160)),
        ],
    });
}

/// Names in the description written like columns or variables that the query's code never
/// mentions: the description talks about a different query.
fn missing_names(
    rule: &Rule,
    sentences: &[&String],
    query: &QueryText,
    out: &mut Vec<Contradiction>,
) {
    let title = rule.name.to_ascii_lowercase();
    let mut missing: Vec<(String, String)> = Vec::new();
    for &sentence in sentences {
        let text = without_urls(sentence);
        let tokens: Vec<(usize, &str)> = words(&text).collect();
        for (i, &(at, word)) in tokens.iter().enumerate() {
            if !is_identifier_shaped(word) || attached(&text, at, word) {
                continue;
            }
            let cued = tokens[i + 1..]
                .iter()
                .take(4)
                .map(|(_, w)| w.to_ascii_lowercase())
                .take_while(|w| w != "in" && w != "from" && w != "of")
                .any(|w| NAME_CUES.contains(&w.as_str()));
            let column_like = COLUMN_SUFFIXES.iter().any(|s| word.ends_with(s));
            let is_table = known_tables().any(|t| t.eq_ignore_ascii_case(word));
            // A word of the rule's own name is its subject (`IcedId`), not a column.
            let in_title = title.contains(&word.to_ascii_lowercase());
            if !(cued || column_like) || is_table || in_title || query.mentions(word) {
                continue;
            }
            if !missing.iter().any(|(w, _)| w.eq_ignore_ascii_case(word)) {
                missing.push((word.to_string(), sentence.clone()));
            }
        }
    }
    if missing.is_empty() {
        return;
    }
    let names: Vec<&str> = missing.iter().map(|(w, _)| w.as_str()).collect();
    let mut evidence: Vec<String> = Vec::new();
    for (_, sentence) in &missing {
        let line = format!("description: \"{}\"", clip(sentence, 160));
        if !evidence.contains(&line) {
            evidence.push(line);
        }
    }
    evidence.push(format!(
        "query: no column, variable or text named {}",
        and_list(&names, "or")
    ));
    let hints: Vec<String> = names
        .iter()
        .filter_map(|n| query.near_name(n).map(|m| format!("{m} (for {n}?)")))
        .collect();
    if !hints.is_empty() {
        evidence.push(format!(
            "query has the similar name {}",
            and_list(&hints, "and")
        ));
    }
    out.push(Contradiction {
        kind: DESCRIPTION_VS_QUERY.to_string(),
        message: format!(
            "The description names {} {}, which the query neither uses nor defines.",
            and_list(&names, "and"),
            if names.len() == 1 {
                "as a column or variable"
            } else {
                "as columns or variables"
            }
        ),
        evidence,
    });
}

/// Words that make a sentence about other queries or products, not this one ("could have
/// alternatively looked for … DeviceFileEvents", "inspired by a detection on AuditLogs").
const HEDGES: &[&str] = &[
    "alternative",
    "instead",
    "could",
    "inspired",
    "similar",
    "see ",
    "based on",
    "originally",
];

/// The description's sentences that speak about this query.
fn about_this_query(sentences: &[String]) -> Vec<&String> {
    sentences
        .iter()
        .filter(|s| {
            let lower = s.to_lowercase();
            !HEDGES.iter().any(|h| lower.contains(h))
        })
        .collect()
}

fn without_urls(sentence: &str) -> String {
    let mut text = sentence.to_string();
    for url in urls(sentence) {
        text = text.replace(&url, " ");
    }
    text
}

/// Handles (`@MiladMSFT`), e-mail addresses, hashtags (`#DownloadUrl`) and parts of hyphenated
/// names (`Invoke-PowerShellTcpOneLine`) are not names in a query.
fn attached(text: &str, at: usize, word: &str) -> bool {
    let before = text[..at].chars().next_back();
    let after = text[at + word.len()..].chars().next();
    matches!(before, Some('@' | '#' | '-' | '$' | '.' | '\\' | '/'))
        || matches!(after, Some('@' | '-' | '(' | '\\' | '/'))
}

/// Tables the description names that the query does not read.
fn missing_tables(
    sentences: &[&String],
    analysis: &QueryAnalysis,
    query: &QueryText,
    out: &mut Vec<Contradiction>,
) {
    // A parser or stored function may read any table.
    if !analysis.stored_functions.is_empty() {
        return;
    }
    let mut named: Vec<(String, String)> = Vec::new();
    for &sentence in sentences {
        let text = without_urls(sentence);
        for (_, word) in words(&text) {
            // `Event` is also an English word; the other table names are not.
            let Some(table) = known_tables().find(|t| *t == word && *t != "Event") else {
                continue;
            };
            let read = analysis
                .tables
                .iter()
                .any(|t| t.eq_ignore_ascii_case(table) || near_miss(t, table));
            if read || query.mentions(table) || named.iter().any(|(t, _)| t == table) {
                continue;
            }
            named.push((table.to_string(), sentence.clone()));
        }
    }
    if named.is_empty() {
        return;
    }
    let tables: Vec<&str> = named.iter().map(|(t, _)| t.as_str()).collect();
    let mut evidence: Vec<String> = named
        .iter()
        .map(|(_, s)| format!("description: \"{}\"", clip(s, 160)))
        .collect();
    evidence.dedup();
    evidence.push(if analysis.tables.is_empty() {
        "query: does not mention it".to_string()
    } else {
        format!("query reads {}", and_list(&analysis.tables, "and"))
    });
    out.push(Contradiction {
        kind: DESCRIPTION_VS_QUERY.to_string(),
        message: format!(
            "The description mentions {} but the query does not read {}.",
            and_list(&tables, "and"),
            if tables.len() == 1 { "it" } else { "them" }
        ),
        evidence,
    });
}

/// Declared techniques outside every declared tactic, and declared tactics without a declared
/// technique (checked only when the rule declares both).
fn tactics_vs_techniques(
    tactics: &[Inferred],
    techniques: &[Inferred],
    attack: &Attack,
    out: &mut Vec<Contradiction>,
) {
    let declared_tactics: Vec<&str> = tactics
        .iter()
        .filter(|t| !t.inferred)
        .map(|t| t.value.as_str())
        .collect();
    let declared_techniques: Vec<&str> = techniques
        .iter()
        .filter(|t| !t.inferred)
        .map(|t| t.value.as_str())
        .collect();
    if declared_tactics.is_empty() || declared_techniques.is_empty() {
        return;
    }
    let mut covered: Vec<&str> = Vec::new();
    for id in &declared_techniques {
        let Some(entry) = attack.technique(id) else {
            continue;
        };
        // A revoked entry may carry no tactics; its replacement's stand in.
        let entry_tactics = if entry.tactics.is_empty() {
            entry
                .revoked_by
                .as_deref()
                .and_then(|r| attack.technique(r))
                .map(|r| r.tactics.clone())
                .unwrap_or_default()
        } else {
            entry.tactics.clone()
        };
        if entry_tactics.is_empty() {
            continue;
        }
        let shared: Vec<&str> = declared_tactics
            .iter()
            .copied()
            .filter(|d| entry_tactics.iter().any(|t| t == d))
            .collect();
        covered.extend(shared.iter().copied());
        if shared.is_empty() {
            out.push(Contradiction {
                kind: TACTICS_VS_TECHNIQUES.to_string(),
                message: format!(
                    "{} belongs to {} in ATT&CK, none of which the rule declares.",
                    technique_label(attack, id),
                    and_list(&entry_tactics, "and")
                ),
                evidence: vec![
                    format!(
                        "technique {id}: ATT&CK tactics {}",
                        entry_tactics.join(", ")
                    ),
                    format!("declared tactics: {}", declared_tactics.join(", ")),
                ],
            });
        }
    }
    for tactic in &declared_tactics {
        if covered.contains(tactic) {
            continue;
        }
        out.push(Contradiction {
            kind: TACTICS_VS_TECHNIQUES.to_string(),
            message: format!(
                "The rule declares the tactic {tactic}, but none of its techniques belongs to it \
                 in ATT&CK."
            ),
            evidence: vec![
                format!("declared tactic: {tactic}"),
                format!("declared techniques: {}", declared_techniques.join(", ")),
            ],
        });
    }
}

/// Declared data types the query does not read, and tables it reads that are not declared.
fn data_types_vs_tables(
    rule: &Rule,
    analysis: &QueryAnalysis,
    query: &QueryText,
    out: &mut Vec<Contradiction>,
) {
    let declared = declared(rule);
    // Without tables found there is nothing to compare (the query did not parse, or it reads
    // only through parsers).
    if declared.is_empty() || analysis.tables.is_empty() {
        return;
    }
    // Without the function library the analysis lists parsers (`imFileEvent`, `ProofpointPOD`)
    // among the tables; such a source may read any declared data type.
    let opaque =
        !analysis.stored_functions.is_empty() || analysis.tables.iter().any(|t| !is_known_table(t));
    let mut reported: Vec<String> = Vec::new();
    for d in &declared {
        let table = d.table.as_str();
        if analysis
            .tables
            .iter()
            .any(|t| t.eq_ignore_ascii_case(table))
            || reported.iter().any(|r| r.eq_ignore_ascii_case(table))
        {
            continue;
        }
        reported.push(table.to_string());
        if let Some(read) = analysis.tables.iter().find(|t| near_miss(table, t)) {
            out.push(Contradiction {
                kind: DATA_TYPES_VS_TABLES.to_string(),
                message: format!(
                    "The rule declares the data type {} (connector {}), a near miss of the table \
                     {read} that the query reads: probably a misspelling.",
                    d.data_type, d.connector
                ),
                evidence: vec![
                    format!("declared data type: {}", d.data_type),
                    format!("table read: {read}"),
                ],
            });
            continue;
        }
        // Reached through a parser, or named in a way the analysis does not resolve.
        if opaque || query.mentions(table) {
            continue;
        }
        out.push(Contradiction {
            kind: DATA_TYPES_VS_TABLES.to_string(),
            message: format!(
                "The rule declares the data type {} (connector {}), but the query does not read \
                 it.",
                d.data_type, d.connector
            ),
            evidence: vec![
                format!("declared data type: {}", d.data_type),
                format!("tables read: {}", analysis.tables.join(", ")),
            ],
        });
    }
    for table in &analysis.tables {
        let declared_here = declared
            .iter()
            .any(|d| d.table.eq_ignore_ascii_case(table) || near_miss(&d.table, table));
        // Only tables that rules declare elsewhere are known to be tables rather than parsers.
        if declared_here || !is_known_table(table) {
            continue;
        }
        out.push(Contradiction {
            kind: DATA_TYPES_VS_TABLES.to_string(),
            message: format!(
                "The query reads {table}, which the rule does not declare among its data types."
            ),
            evidence: vec![
                format!("table read: {table}"),
                format!(
                    "declared data types: {}",
                    declared
                        .iter()
                        .map(|d| d.data_type.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::test_support::{rule, rule_with_connectors};
    use crate::model::RuleKind;

    const SEED_QUERY: &str = "// Query 4 Search for specific network communication of a Remote IP or URL that also discovers related file creation events\n// Ensure to update RemoteIP and RemoteURL variable.\nDeviceFileEvents\n| where FileOriginUrl == \"IP ADDRESS GOES HERE\" or FileOriginUrl contains \"URL GOES HERE\" or FileOriginReferrerUrl contains \"URL GOES HERE\"\n| project DeviceName, Timestamp, FileName, FileOriginUrl, FileOriginIP, FileOriginReferrerUrl, SHA1\n";

    fn check(rule: &Rule, analysis: &QueryAnalysis) -> Vec<Contradiction> {
        let attack = Attack::embedded();
        let query = QueryText::read(&rule.query);
        contradictions(rule, analysis, &query, &[], &[], attack)
    }

    #[test]
    fn the_seed_rule_contradicts_its_query_twice() {
        let mut r = rule(RuleKind::Hunting);
        r.description = "Query 1 shows you any network communication happened from endpoints to a specific Remote IP or Remote URL.\nEnsure to update RemoteIP and RemoteURL variable.\nFor questions @MiladMSFT on Twitter or milad.aslaner@microsoft.com by email.".into();
        r.query = SEED_QUERY.into();
        let found = check(&r, &QueryAnalysis::default());
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|c| c.kind == DESCRIPTION_VS_QUERY));
        assert!(found[0].message.contains("Query 1"));
        assert!(found[0].message.contains("Query 4"));
        assert!(found[0].evidence[1].starts_with("query comment: \"Query 4 Search"));
        assert_eq!(
            found[1].message,
            "The description names RemoteIP and RemoteURL as columns or variables, which the query neither uses nor defines."
        );
    }

    #[test]
    fn names_and_labels_the_query_uses_are_not_flagged() {
        let mut r = rule(RuleKind::Hunting);
        r.description =
            "Query 2 of 3. Set the AccountName variable; see SolarWinds and PowerShell.".into();
        r.query = "// Query 2\nlet accountname = 'x'; T | where Account == accountname".into();
        assert!(check(&r, &QueryAnalysis::default()).is_empty());
    }

    #[test]
    fn tags_handles_title_words_and_hedged_sentences_are_not_names() {
        let mut r = rule(RuleKind::Hunting);
        r.name = "IcedId email delivery".into();
        r.description = "Finds IcedId mail. Tags: #DownloadUrl. Runs Invoke-PowerShellTcpOneLine. \
            We could have alternatively used the SenderIP column."
            .into();
        r.query = "EmailEvents | take 1".into();
        assert!(check(&r, &QueryAnalysis::default()).is_empty());
    }

    #[test]
    fn a_misspelt_name_points_at_the_name_the_query_uses() {
        let mut r = rule(RuleKind::Hunting);
        r.description = "Joins on CorrleationId.".into();
        r.query = "AuditLogs | summarize by CorrelationId".into();
        let found = check(&r, &QueryAnalysis::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].evidence.last().unwrap(),
            "query has the similar name CorrelationId (for CorrleationId?)"
        );
    }

    #[test]
    fn tables_named_in_the_description_but_not_read() {
        let mut r = rule(RuleKind::Hunting);
        r.description = "Looks at SigninLogs for odd logons.".into();
        r.query = "AuditLogs | take 1".into();
        let analysis = QueryAnalysis {
            tables: vec!["AuditLogs".into()],
            ..QueryAnalysis::default()
        };
        let found = check(&r, &analysis);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "The description mentions SigninLogs but the query does not read it."
        );
        let through_parser = QueryAnalysis {
            stored_functions: vec!["imAuthentication".into()],
            ..analysis
        };
        assert!(check(&r, &through_parser).is_empty());
    }

    fn declared(values: &[&str]) -> Vec<Inferred> {
        values
            .iter()
            .map(|v| Inferred {
                value: (*v).into(),
                inferred: false,
                reason: None,
            })
            .collect()
    }

    #[test]
    fn techniques_outside_declared_tactics_and_tactics_without_techniques() {
        let attack = Attack::embedded();
        let mut found = Vec::new();
        tactics_vs_techniques(
            &declared(&["credential-access", "discovery"]),
            &declared(&["T1003.001", "T1490"]),
            attack,
            &mut found,
        );
        let messages: Vec<&str> = found.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "T1490 Inhibit System Recovery belongs to impact in ATT&CK, none of which the rule declares.",
                "The rule declares the tactic discovery, but none of its techniques belongs to it in ATT&CK.",
            ]
        );
        let mut none = Vec::new();
        tactics_vs_techniques(&declared(&["impact"]), &[], attack, &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn data_types_against_tables_with_near_misses() {
        let mut r = rule_with_connectors(&[
            ("SecurityEvents", &["SecurityEvents"]),
            ("AzureActiveDirectory", &["SigninLogs"]),
        ]);
        r.query = "SecurityEvent | join (DeviceInfo) on DeviceId".into();
        let analysis = QueryAnalysis {
            tables: vec!["DeviceInfo".into(), "SecurityEvent".into()],
            ..QueryAnalysis::default()
        };
        let found = check(&r, &analysis);
        let messages: Vec<&str> = found.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(messages.len(), 3, "{messages:#?}");
        assert!(messages[0].contains("SecurityEvents") && messages[0].contains("misspelling"));
        assert!(messages[1].contains("declares the data type SigninLogs"));
        assert!(messages[2].contains("reads DeviceInfo"));
        assert!(found.iter().all(|c| c.kind == DATA_TYPES_VS_TABLES));
        // A source that may be a parser hides which declared types it reads, and is not itself
        // reported as undeclared.
        let parser = QueryAnalysis {
            tables: vec!["ProofpointPOD".into(), "SecurityEvent".into()],
            ..QueryAnalysis::default()
        };
        let found = check(&r, &parser);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.contains("misspelling"));
        // Nothing found by the analysis: nothing to compare.
        assert!(check(&r, &QueryAnalysis::default()).is_empty());
    }
}
