//! Catalog round trips with hand-built rules: revisions, refreshes, removal, restoration,
//! filters, search and idempotence.

use super::*;
use crate::analysis::QueryAnalysis;
use crate::enrich::{BindStatus, Confidence, Enrichment, Generated, Inferred};
use crate::model::{Provenance, Rule, RuleKind, StoredFunction};
use crate::source::RepositorySource;
use std::path::PathBuf;

fn source(now: &str) -> RepositorySource {
    RepositorySource {
        root: PathBuf::from("/repo"),
        repository: "https://github.com/o/r".into(),
        commit: Some("c1".into()),
        retrieved_at: now.into(),
        web_url: Some("https://github.com/o/r".into()),
    }
}

fn prepared(
    path: &str,
    id: &str,
    query: &str,
    tables: &[&str],
    techniques: &[&str],
) -> PreparedRule {
    let raw = format!("id: {id}\nname: {path}\nquery: {query}\n");
    PreparedRule {
        rule: Rule {
            id: id.into(),
            name: format!("Rule {path}"),
            description: format!("Looks for {query}"),
            kind: RuleKind::Hunting,
            severity: Some("High".into()),
            status: None,
            rule_type: None,
            tactics: vec![],
            techniques: techniques.iter().map(|t| t.to_string()).collect(),
            required_connectors: vec![],
            query: query.into(),
            query_offset_in_file: 0,
            entity_mappings: vec![],
            query_frequency: None,
            query_period: None,
            trigger_operator: None,
            trigger_threshold: None,
            version: None,
            tags: vec!["Demo".into()],
            provenance: Provenance {
                repository: "https://github.com/o/r".into(),
                path: path.into(),
                retrieved_at: "t0".into(),
                ..Provenance::default()
            },
            raw: raw.clone(),
        },
        analysis: QueryAnalysis {
            tables: tables.iter().map(|t| t.to_string()).collect(),
            ..QueryAnalysis::default()
        },
        bind: BindStatus::Ok,
        enrichment: Enrichment {
            hypothesis: Generated {
                text: format!("hypothesis {query}"),
                inputs: vec![],
            },
            confidence: Confidence {
                score: 70,
                level: "high".into(),
                reasons: vec![],
            },
            severity: Inferred {
                value: "High".into(),
                inferred: false,
                reason: None,
            },
            tactics: vec![Inferred {
                value: "credential-access".into(),
                inferred: false,
                reason: None,
            }],
            techniques: techniques
                .iter()
                .map(|t| Inferred {
                    value: t.to_string(),
                    inferred: false,
                    reason: None,
                })
                .collect(),
            data_sources: vec![],
            false_positives: vec![],
            references: vec![],
            contradictions: vec![],
        },
        content_hash: sha256_hex(raw.as_bytes()),
    }
}

fn function(name: &str, body: &str) -> StoredFunction {
    StoredFunction {
        name: name.into(),
        parameters: vec![],
        body: body.into(),
        description: String::new(),
        provenance: Provenance {
            path: format!("Parsers/{name}.txt"),
            ..Provenance::default()
        },
    }
}

#[test]
fn imports_revise_refresh_remove_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::open(&dir.path().join("catalog.sqlite")).unwrap();
    let s1 = source("2026-01-01T00:00:00Z");
    let first = ImportBatch {
        source: &s1,
        rules: vec![
            prepared(
                "a.yaml",
                "id-a",
                "SecurityEvent | where EventID == 4625",
                &["SecurityEvent"],
                &["T1110"],
            ),
            prepared(
                "b.yaml",
                "id-b",
                "DeviceProcessEvents | where FileName == 'lsass.exe'",
                &["DeviceProcessEvents"],
                &["T1003.001"],
            ),
        ],
        functions: vec![function("Parser1", "T | take 1")],
        problems: vec![ImportProblem {
            path: "bad.yaml".into(),
            line: Some(3),
            column: Some(1),
            category: "invalid YAML".into(),
            reason: "bad".into(),
        }],
    };
    let changes = catalog.apply_import(&first).unwrap();
    assert_eq!((changes.added, changes.functions_changed), (2, 1));
    let digest = catalog.content_digest().unwrap();

    // The same content again changes nothing.
    let again = catalog.apply_import(&first).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(again.unchanged, 2);
    assert_eq!(catalog.content_digest().unwrap(), digest);

    // a changes (new revision), b disappears (removed), the function goes.
    let s2 = source("2026-02-01T00:00:00Z");
    let second = ImportBatch {
        source: &s2,
        rules: vec![prepared(
            "a.yaml",
            "id-a",
            "SecurityEvent | where EventID == 4771",
            &["SecurityEvent"],
            &["T1110"],
        )],
        functions: vec![],
        problems: vec![],
    };
    let changes = catalog.apply_import(&second).unwrap();
    assert_eq!(
        (changes.revised, changes.removed, changes.functions_removed),
        (1, 1, 1)
    );
    let a = catalog.rule("id-a").unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].summary.revision, 2);
    assert_eq!(a[0].revisions.len(), 2);
    assert!(a[0].rule.query.contains("4771"));
    assert!(a[0].rule.raw.contains("4771"));
    assert!(catalog.functions().unwrap().is_empty());
    assert!(catalog
        .list(&RuleFilter::default())
        .unwrap()
        .iter()
        .all(|r| r.id != "id-b"));
    let with_removed = catalog
        .list(&RuleFilter {
            include_removed: true,
            ..RuleFilter::default()
        })
        .unwrap();
    assert!(with_removed
        .iter()
        .any(|r| r.id == "id-b" && r.removed_at.is_some()));

    // b comes back unchanged: restored, same revision.
    let third = ImportBatch {
        source: &s2,
        rules: first.rules.clone(),
        functions: vec![],
        problems: vec![],
    };
    let changes = catalog.apply_import(&third).unwrap();
    assert_eq!((changes.restored, changes.revised), (1, 1));
    let b = catalog.rule("id-b").unwrap();
    assert_eq!(b[0].summary.revision, 1);
    assert!(b[0].summary.removed_at.is_none());
}

#[test]
fn filters_and_search_find_the_right_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::open(&dir.path().join("catalog.sqlite")).unwrap();
    let s = source("2026-01-01T00:00:00Z");
    let mut c = prepared(
        "c.yaml",
        "id-c",
        "SigninLogs | where ResultType == 50126",
        &["SigninLogs"],
        &["T1078"],
    );
    c.analysis.parameters.push(crate::analysis::QueryParameter {
        name: "user".into(),
        placeholder: "USER GOES HERE".into(),
        kind: crate::analysis::PlaceholderKind::FillIn,
        value_type: "string".into(),
        semantic: Some("account".into()),
        spans: std::iter::once(0..1).collect(),
    });
    c.enrichment.severity = Inferred {
        value: "Low".into(),
        inferred: true,
        reason: Some("r".into()),
    };
    let batch = ImportBatch {
        source: &s,
        rules: vec![
            prepared(
                "a.yaml",
                "id-a",
                "SecurityEvent | where EventID == 4625",
                &["SecurityEvent"],
                &["T1110"],
            ),
            prepared(
                "b.yaml",
                "id-b",
                "DeviceProcessEvents | where FileName == 'lsass.exe'",
                &["DeviceProcessEvents"],
                &["T1003.001"],
            ),
            c,
        ],
        functions: vec![],
        problems: vec![],
    };
    catalog.apply_import(&batch).unwrap();
    let ids = |filter: RuleFilter| -> Vec<String> {
        catalog
            .list(&filter)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    assert_eq!(
        ids(RuleFilter {
            table: Some("securityevent".into()),
            ..RuleFilter::default()
        }),
        ["id-a"]
    );
    assert_eq!(
        ids(RuleFilter {
            technique: Some("T1003".into()),
            ..RuleFilter::default()
        }),
        ["id-b"]
    );
    assert_eq!(
        ids(RuleFilter {
            tactic: Some("CredentialAccess".into()),
            ..RuleFilter::default()
        })
        .len(),
        3
    );
    assert_eq!(
        ids(RuleFilter {
            has_parameters: Some(true),
            ..RuleFilter::default()
        }),
        ["id-c"]
    );
    assert_eq!(
        ids(RuleFilter {
            severity: Some("low".into()),
            ..RuleFilter::default()
        }),
        ["id-c"]
    );
    let tables: std::collections::BTreeSet<String> = ["DeviceProcessEvents".to_string()].into();
    assert_eq!(
        ids(RuleFilter {
            runnable_on: Some(tables),
            ..RuleFilter::default()
        }),
        ["id-b"]
    );
    let by_severity = ids(RuleFilter {
        sort: RuleSort::Severity,
        ..RuleFilter::default()
    });
    // Filtering the cached listing in memory gives what the database gives.
    let all = catalog.list(&RuleFilter::default()).unwrap();
    let filters = [
        RuleFilter {
            table: Some("securityevent".into()),
            ..RuleFilter::default()
        },
        RuleFilter {
            technique: Some("t1003".into()),
            ..RuleFilter::default()
        },
        RuleFilter {
            tactic: Some("TA0006".into()),
            has_parameters: Some(false),
            ..RuleFilter::default()
        },
        RuleFilter {
            severity: Some("LOW".into()),
            tag: Some("demo".into()),
            source: Some("O/R".into()),
            ..RuleFilter::default()
        },
        RuleFilter {
            kind: Some(RuleKind::Analytic),
            ..RuleFilter::default()
        },
        RuleFilter {
            sort: RuleSort::Severity,
            ..RuleFilter::default()
        },
    ];
    for filter in filters {
        let mut in_memory: Vec<RuleSummary> =
            all.iter().filter(|s| filter.matches(s)).cloned().collect();
        filter.sort.apply(&mut in_memory);
        let in_memory: Vec<String> = in_memory.into_iter().map(|s| s.id).collect();
        assert_eq!(in_memory, ids(filter.clone()), "{filter:?}");
    }
    assert_eq!(by_severity.last().map(String::as_str), Some("id-c"));
    let hits = catalog.search("lsass", 10).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].summary.id, "id-b");
    assert!(hits[0].snippet.contains("[lsass"), "{}", hits[0].snippet);
    assert!(catalog
        .search("4625 SecurityEv", 10)
        .unwrap()
        .iter()
        .any(|h| h.summary.id == "id-a"));
    assert!(catalog.search("\"unbalanced OR (", 10).unwrap().is_empty());
}
