//! Enrichment over every rule of the Azure-Sentinel corpus (`Hunting Queries/` and
//! `Detections/`): no panics, deterministic output, one hypothesis per distinct query, the seed
//! rule's contradictions, golden snapshots of two rules, and the embedded table → connector data
//! checked against the corpus it was generated from.

use quarry_rules::analysis::{analyse, QueryAnalysis};
use quarry_rules::attack::Attack;
use quarry_rules::enrich::{enrich, BindStatus, EnrichInput, Enrichment, DESCRIPTION_VS_QUERY};
use quarry_rules::model::{FunctionLibrary, Provenance, Rule, RuleKind};
use quarry_rules::sentinel::{read_rule, rule_files, RuleReadError};
use quarry_rules::source::RepositorySource;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The corpus, relative to this crate's folder (tests run with the crate folder as cwd).
const CORPUS: &str = "../../../shared/corpus/azure-sentinel";
/// The commit the corpus was copied from (its README).
const COMMIT: &str = "b819f6737ee1d0c3c865225f5750112c8f1096e3";
/// The pinned import time.
const NOW: &str = "2026-11-28T00:00:00Z";
/// The data file generated from the corpus, relative to this crate's folder.
const TABLE_CONNECTORS: &str = "data/table-connectors.tsv";
/// The seed rule.
const SEED: &str =
    "Hunting Queries/Microsoft 365 Defender/General queries/Network footprint (3).yaml";
/// The analytic rule whose enrichment is kept as a snapshot.
const ANALYTIC: &str = "Detections/SecurityEvent/ExcessiveLogonFailures.yaml";

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_root() -> PathBuf {
    let root = crate_dir().join(CORPUS);
    assert!(
        root.is_dir(),
        "the Azure-Sentinel corpus is missing: expected a folder at {} (`{CORPUS}` relative to \
         crates/quarry-rules, i.e. `shared/corpus/azure-sentinel` beside the repository checkout)",
        root.display()
    );
    root
}

/// One corpus rule with its analysis.
struct CorpusRule {
    path: String,
    rule: Rule,
    analysis: QueryAnalysis,
}

fn source() -> RepositorySource {
    RepositorySource {
        root: corpus_root(),
        repository: "https://github.com/Azure/Azure-Sentinel".to_string(),
        commit: Some(COMMIT.to_string()),
        retrieved_at: NOW.to_string(),
        web_url: Some("https://github.com/Azure/Azure-Sentinel".to_string()),
    }
}

/// Every rule under `Hunting Queries/` (hunting) and `Detections/` (analytic), in path order.
fn load_rules() -> Vec<CorpusRule> {
    let root = corpus_root();
    let source = source();
    let library = FunctionLibrary::new();
    let mut rules = Vec::new();
    let mut unreadable = Vec::new();
    for (folder, kind) in [
        ("Hunting Queries", RuleKind::Hunting),
        ("Detections", RuleKind::Analytic),
    ] {
        for path in rule_files(&root.join(folder)) {
            let relative = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let Ok(text) = std::fs::read_to_string(&path) else {
                unreadable.push(format!("{relative}: not UTF-8"));
                continue;
            };
            let provenance = Provenance {
                repository: source.repository.clone(),
                path: relative.clone(),
                commit: source.commit.clone(),
                original_url: source.file_url(&relative),
                retrieved_at: NOW.to_string(),
                last_modified: None,
            };
            match read_rule(&text, kind, provenance, &format!("fallback:{relative}")) {
                Ok(rule) => {
                    let analysis = analyse(&rule.query, &library);
                    rules.push(CorpusRule {
                        path: relative,
                        rule,
                        analysis,
                    });
                }
                Err(RuleReadError::NotAMapping | RuleReadError::NoQuery) => {}
                Err(error) => unreadable.push(format!("{relative}: {error}")),
            }
        }
    }
    assert!(
        rules.len() > 1000,
        "only {} rules read from {}",
        rules.len(),
        root.display()
    );
    for problem in &unreadable {
        eprintln!("not read: {problem}");
    }
    rules
}

fn enrich_one(rule: &CorpusRule) -> Enrichment {
    enrich(EnrichInput {
        rule: &rule.rule,
        analysis: &rule.analysis,
        bind: &BindStatus::NotChecked,
        attack: Attack::embedded(),
        now: NOW,
    })
}

/// The query's tokens joined by single spaces: comments and layout do not count.
fn normalised_query(query: &str) -> String {
    let (tokens, _) = quarry_kql::lexer::tokenize(query);
    tokens
        .iter()
        .filter(|t| t.kind != quarry_kql::token::TokenKind::Eof)
        .filter_map(|t| query.get(t.span.start..t.span.end))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The hypothesis without its closing fingerprint sentence: what the real content alone tells
/// apart.
fn content_only(hypothesis: &str) -> &str {
    hypothesis
        .rfind(" Query fingerprint ")
        .map_or(hypothesis, |i| &hypothesis[..i])
}

#[test]
fn every_corpus_rule_enriches_deterministically_with_one_hypothesis_per_query() {
    let rules = load_rules();
    let started = Instant::now();
    let enriched: Vec<Enrichment> = rules.iter().map(enrich_one).collect();
    let elapsed = started.elapsed();
    eprintln!(
        "enriched {} rules in {:.1} ms ({} build)",
        rules.len(),
        elapsed.as_secs_f64() * 1000.0,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );

    for (rule, first) in rules.iter().zip(&enriched) {
        assert_eq!(&enrich_one(rule), first, "{}: not deterministic", rule.path);
    }

    print_summary(&rules, &enriched);
    check_hypothesis_uniqueness(&rules, &enriched);
}

/// One hypothesis per distinct normalised query: no hypothesis is shared by two different
/// queries, and one query has one hypothesis — unless its files declare different ATT&CK
/// mappings or entities (the hypothesis names those too; upstream has a few such copies), which
/// is checked and listed.
fn check_hypothesis_uniqueness(rules: &[CorpusRule], enriched: &[Enrichment]) {
    let mut queries_by_hypothesis: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut by_query: BTreeMap<String, Vec<(&CorpusRule, &Enrichment)>> = BTreeMap::new();
    let mut queries_by_content: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (rule, e) in rules.iter().zip(enriched) {
        let query = normalised_query(&rule.rule.query);
        let hypothesis = e.hypothesis.text.as_str();
        queries_by_hypothesis
            .entry(hypothesis)
            .or_default()
            .insert(query.clone());
        queries_by_content
            .entry(content_only(hypothesis))
            .or_default()
            .insert(query.clone());
        by_query.entry(query).or_default().push((rule, e));
    }
    let distinct_hypotheses = queries_by_hypothesis.len();
    let distinct_queries = by_query.len();
    let ratio = distinct_hypotheses as f64 / distinct_queries as f64;

    let collisions: Vec<String> = queries_by_hypothesis
        .iter()
        .filter(|(_, queries)| queries.len() > 1)
        .map(|(h, queries)| {
            let paths: Vec<&str> = queries
                .iter()
                .flat_map(|q| by_query[q].iter().map(|(r, _)| r.path.as_str()))
                .collect();
            format!("{h}\n    shared by {paths:?}")
        })
        .collect();
    // Queries with several hypotheses: explained only when their rules' mappings differ.
    let mut explained = 0;
    let mut unexplained = Vec::new();
    for (query, group) in &by_query {
        let hypotheses: BTreeSet<&str> = group
            .iter()
            .map(|(_, e)| e.hypothesis.text.as_str())
            .collect();
        if hypotheses.len() == 1 {
            continue;
        }
        let mappings: BTreeSet<String> = group
            .iter()
            .map(|(r, _)| {
                let entities: BTreeSet<&str> = r
                    .rule
                    .entity_mappings
                    .iter()
                    .map(|m| m.entity_type.as_str())
                    .collect();
                format!("{:?} {:?} {entities:?}", r.rule.tactics, r.rule.techniques)
            })
            .collect();
        let paths: Vec<&str> = group.iter().map(|(r, _)| r.path.as_str()).collect();
        if mappings.len() > 1 {
            explained += hypotheses.len() - 1;
            eprintln!("one query, different upstream mappings: {paths:?} {mappings:?}");
        } else {
            unexplained.push(format!(
                "{}\n    in {paths:?} has hypotheses {hypotheses:#?}",
                query.chars().take(120).collect::<String>()
            ));
        }
    }
    let adjusted = (distinct_hypotheses - explained) as f64 / distinct_queries as f64;
    let content_ratio = queries_by_content.len() as f64 / distinct_queries as f64;
    eprintln!(
        "hypotheses: {distinct_hypotheses} distinct for {distinct_queries} distinct normalised \
         queries ({} rules): ratio {ratio:.4}; {explained} extra from files that copy a query \
         with another ATT&CK mapping or entities: adjusted ratio {adjusted:.4}",
        rules.len()
    );
    eprintln!(
        "without the fingerprint sentence: {} distinct hypotheses ({content_ratio:.4})",
        queries_by_content.len()
    );
    if std::env::var_os("QUARRY_SHOW_HYPOTHESES").is_some() {
        for (h, queries) in queries_by_content.iter().filter(|(_, q)| q.len() > 1) {
            eprintln!("content shared by {} queries: {h}", queries.len());
        }
    }
    assert!(
        collisions.is_empty() && unexplained.is_empty() && adjusted == 1.0,
        "hypothesis uniqueness: ratio {ratio}, adjusted {adjusted}; {} hypotheses shared by \
         different queries:\n{}\n{} queries with several hypotheses and one mapping:\n{}",
        collisions.len(),
        collisions.join("\n"),
        unexplained.len(),
        unexplained.join("\n")
    );
    // The real content (filters, values, logic) alone must tell nearly every query apart; the
    // fingerprint only settles the rest.
    assert!(
        content_ratio >= 0.98,
        "only {content_ratio:.4} of the queries get a hypothesis of their own without the \
         fingerprint"
    );
}

fn print_summary(rules: &[CorpusRule], enriched: &[Enrichment]) {
    let count = |f: &dyn Fn(&Enrichment) -> bool| enriched.iter().filter(|e| f(e)).count();
    let mut contradiction_kinds: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for e in enriched {
        let mut seen = BTreeSet::new();
        for c in &e.contradictions {
            let entry = contradiction_kinds.entry(c.kind.as_str()).or_default();
            entry.0 += 1;
            if seen.insert(c.kind.as_str()) {
                entry.1 += 1;
            }
        }
    }
    let mut levels: BTreeMap<&str, usize> = BTreeMap::new();
    for e in enriched {
        *levels.entry(e.confidence.level.as_str()).or_default() += 1;
    }
    let fp_items: usize = enriched.iter().map(|e| e.false_positives.len()).sum();
    eprintln!("summary over {} rules:", rules.len());
    eprintln!("  severity inferred: {}", count(&|e| e.severity.inferred));
    eprintln!(
        "  techniques inferred: {} rules ({} techniques); tactics inferred: {} rules",
        count(&|e| e.techniques.iter().any(|t| t.inferred)),
        enriched
            .iter()
            .map(|e| e.techniques.iter().filter(|t| t.inferred).count())
            .sum::<usize>(),
        count(&|e| e.tactics.iter().any(|t| t.inferred))
    );
    eprintln!(
        "  techniques with a note (revoked, deprecated, unknown): {}",
        enriched
            .iter()
            .flat_map(|e| &e.techniques)
            .filter(|t| !t.inferred && t.reason.is_some())
            .count()
    );
    for (kind, (items, rules)) in &contradiction_kinds {
        eprintln!("  contradictions {kind}: {items} in {rules} rules");
    }
    eprintln!(
        "  false-positive guidance: {fp_items} items, {} rules with at least one",
        count(&|e| !e.false_positives.is_empty())
    );
    eprintln!(
        "  references: {} rules with a link from the rule text",
        count(&|e| e.references.iter().any(|r| r.kind == "rule"))
    );
    eprintln!("  confidence levels: {levels:?}");
    if std::env::var_os("QUARRY_SHOW_HYPOTHESES").is_some() {
        for (rule, e) in rules.iter().zip(enriched) {
            eprintln!("{}\n  {}", rule.path, e.hypothesis.text);
        }
    }
    if std::env::var_os("QUARRY_SHOW_INFERRED").is_some() {
        for (rule, e) in rules.iter().zip(enriched) {
            for t in e.techniques.iter().filter(|t| t.inferred) {
                eprintln!("{} [technique {}] {:?}", rule.path, t.value, t.reason);
            }
            if e.severity.inferred {
                eprintln!(
                    "{} [severity {}] {:?}",
                    rule.path, e.severity.value, e.severity.reason
                );
            }
            for fp in &e.false_positives {
                eprintln!("{} [fp] {} {:?}", rule.path, fp.text, fp.inputs);
            }
        }
    }
    if std::env::var_os("QUARRY_SHOW_CONTRADICTIONS").is_some() {
        for (rule, e) in rules.iter().zip(enriched) {
            for c in &e.contradictions {
                eprintln!("{} [{}] {}", rule.path, c.kind, c.message);
            }
        }
    }
}

fn find<'a>(rules: &'a [CorpusRule], path: &str) -> &'a CorpusRule {
    rules
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("{path} is not in the corpus"))
}

#[test]
fn the_seed_rule_is_enriched_with_its_contradictions() {
    let rules = load_rules();
    let seed = find(&rules, SEED);
    assert_eq!(seed.rule.id, "44b02f8c-d206-4e1a-9859-6aa06b80c346");
    let e = enrich_one(seed);

    let described: Vec<&str> = e
        .contradictions
        .iter()
        .filter(|c| c.kind == DESCRIPTION_VS_QUERY)
        .map(|c| c.message.as_str())
        .collect();
    assert!(
        described
            .iter()
            .any(|m| m.contains("Query 1") && m.contains("Query 4")),
        "{described:#?}"
    );
    assert!(
        described
            .iter()
            .any(|m| m.contains("RemoteIP") && m.contains("RemoteURL")),
        "{described:#?}"
    );

    let original = seed.rule.provenance.original_url.clone().unwrap();
    assert!(e
        .references
        .iter()
        .any(|r| r.kind == "source" && r.url == original));
    for technique in &e.techniques {
        let page = quarry_rules::attack::technique_url(&technique.value);
        assert!(
            e.references
                .iter()
                .any(|r| r.kind == "attack" && r.url == page),
            "no ATT&CK page for {}",
            technique.value
        );
    }

    let source = e
        .data_sources
        .iter()
        .find(|d| d.table == "DeviceFileEvents")
        .expect("a DeviceFileEvents data source");
    assert_eq!(source.connectors, ["MicrosoftThreatProtection"]);
    assert!(source.declared);
    assert!(
        source.read,
        "the analysis finds that the query reads DeviceFileEvents"
    );

    // The filters and the values to supply are what make this hypothesis its own.
    for part in ["DeviceFileEvents", "FileOriginUrl", "FileOriginReferrerUrl"] {
        assert!(e.hypothesis.text.contains(part), "{}", e.hypothesis.text);
    }

    insta::assert_yaml_snapshot!("seed_network_footprint_3", e);
}

#[test]
fn an_analytic_rule_snapshot() {
    let rules = load_rules();
    let rule = find(&rules, ANALYTIC);
    let e = enrich_one(rule);
    assert_eq!(e.severity.value, "Low");
    assert!(!e.severity.inferred);
    assert_eq!(e.techniques[0].value, "T1110");
    assert_eq!(e.tactics[0].value, "credential-access");
    insta::assert_yaml_snapshot!("analytic_excessive_logon_failures", e);
}

/// The embedded `data/table-connectors.tsv` as the corpus gives it. With
/// `QUARRY_REGENERATE_DATA=1` the file is rewritten instead of compared.
#[test]
fn table_connectors_data_is_generated_from_the_corpus() {
    let rules = load_rules();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for rule in &rules {
        let mut pairs = BTreeSet::new();
        for connector in &rule.rule.required_connectors {
            for data_type in &connector.data_types {
                let data_type = data_type.trim();
                // `CommonSecurityLog (PaloAlto)` names the table CommonSecurityLog.
                let table = match data_type.find(" (") {
                    Some(i) if data_type.ends_with(')') => data_type[..i].trim(),
                    _ => data_type,
                };
                let connector_id = connector.connector_id.trim();
                if !table.is_empty() && !connector_id.is_empty() {
                    pairs.insert((table.to_string(), connector_id.to_string()));
                }
            }
        }
        for pair in pairs {
            *counts.entry(pair).or_default() += 1;
        }
    }
    let mut rows: Vec<(&String, &String, usize)> =
        counts.iter().map(|((t, c), n)| (t, c, *n)).collect();
    rows.sort_by(|a, b| {
        a.0.to_ascii_lowercase()
            .cmp(&b.0.to_ascii_lowercase())
            .then(b.2.cmp(&a.2))
            .then(a.1.cmp(b.1))
    });
    let mut expected = format!(
        "# Connectors that declare each table in `requiredDataConnectors`, counted over the \
         Azure-Sentinel corpus\n\
         # (shared/corpus/azure-sentinel at {COMMIT}, `Hunting Queries/` and `Detections/`, {} rules).\n\
         # One line per (table, connectorId): the number of rules declaring that pair. A qualifier in a\n\
         # data type (`CommonSecurityLog (PaloAlto)`) is dropped. Generated by\n\
         # `QUARRY_REGENERATE_DATA=1 cargo test -p quarry-rules --test enrich_corpus`; do not edit.\n\
         # table\tconnector\trules\n",
        rules.len()
    );
    for (table, connector, n) in rows {
        expected.push_str(&format!("{table}\t{connector}\t{n}\n"));
    }
    let path = crate_dir().join(TABLE_CONNECTORS);
    if std::env::var_os("QUARRY_REGENERATE_DATA").is_some() {
        std::fs::write(&path, &expected).expect("write the data file");
        return;
    }
    let actual = std::fs::read_to_string(Path::new(&path)).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is not what the corpus gives; regenerate it with QUARRY_REGENERATE_DATA=1",
        path.display()
    );
}
