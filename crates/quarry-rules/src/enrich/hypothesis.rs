//! The hunt hypothesis: "if an adversary does T, then these tables will show records matching
//! these filters, through this logic, in this window" — built only from the rule's own query
//! (tables, filters and their values, placeholders, indicators, aggregation and join logic, time
//! window), its ATT&CK mapping and its entities.
//!
//! Sibling rules that copied one description still get different hypotheses because the
//! filters and values come from each query. The last sentence carries a short fingerprint of the
//! normalised query (comments and layout ignored), so two rules share a hypothesis only when
//! their queries are the same; every other sentence is real content.

use super::data_sources::known_tables;
use super::filters::{filters, semantic_words};
use super::indicators::compromise_indicators;
use super::inference::technique_label;
use super::text::{and_list, clip, QueryText};
use super::{Generated, Inferred};
use crate::analysis::{IndicatorKind, PlaceholderKind, QueryAnalysis};
use crate::attack::Attack;
use crate::model::Rule;

/// Techniques named in the opening clause.
const MAX_TECHNIQUES: usize = 3;

/// What the hypothesis is built from, beyond the rule.
pub(crate) struct HypothesisInput<'a> {
    pub rule: &'a Rule,
    pub analysis: &'a QueryAnalysis,
    pub query: &'a QueryText,
    pub tactics: &'a [Inferred],
    pub techniques: &'a [Inferred],
    pub attack: &'a Attack,
}

/// Builds the hypothesis and the list of facts it used.
pub(crate) fn hypothesis(input: &HypothesisInput<'_>) -> Generated {
    let mut inputs = Vec::new();
    let opening = opening(input, &mut inputs);
    let source = source(input, &mut inputs);
    let mut body = format!("{opening}, then {source} will show records");
    let filters = filters(input.analysis, &mut inputs);
    if !filters.is_empty() {
        body.push_str(" matching: ");
        body.push_str(&filters);
    }
    let mut clauses = Vec::new();
    if let Some(indicators) = indicators(input.analysis, &mut inputs) {
        clauses.push(indicators);
    }
    if let Some(supplied) = unfiltered_parameters(input.analysis, &mut inputs) {
        clauses.push(supplied);
    }
    if let Some(logic) = logic(input.analysis, &mut inputs) {
        clauses.push(logic);
    }
    if let Some(window) = window(input.analysis, &mut inputs) {
        clauses.push(window);
    }
    if !clauses.is_empty() {
        body.push_str(if filters.is_empty() { " " } else { "; " });
        body.push_str(&clauses.join(", "));
    }
    body.push('.');
    if let Some(entities) = entities(input.rule, &mut inputs) {
        body.push(' ');
        body.push_str(&entities);
    }
    let fingerprint = input.query.fingerprint();
    body.push_str(&format!(" Query fingerprint {fingerprint}."));
    inputs.push(format!(
        "fingerprint {fingerprint}: SHA-256 of the query without comments and layout"
    ));
    Generated { text: body, inputs }
}

/// "If an adversary uses Ingress Tool Transfer (T1105)", from techniques, else tactics.
fn opening(input: &HypothesisInput<'_>, inputs: &mut Vec<String>) -> String {
    let named: Vec<String> = input
        .techniques
        .iter()
        .take(MAX_TECHNIQUES)
        .map(|t| {
            let label = technique_label(input.attack, &t.value);
            let name = label
                .strip_prefix(&t.value)
                .map(str::trim)
                .filter(|n| !n.is_empty());
            inputs.push(format!(
                "technique {label}{}",
                if t.inferred { " (inferred)" } else { "" }
            ));
            match name {
                Some(name) => format!("{name} ({})", t.value),
                None => t.value.clone(),
            }
        })
        .collect();
    if !named.is_empty() {
        let more = input.techniques.len().saturating_sub(MAX_TECHNIQUES);
        let mut list = and_list(&named, "or");
        if more > 0 {
            list = format!(
                "{} or {more} more technique{}",
                named.join(", "),
                plural(more)
            );
        }
        return if input.techniques.iter().all(|t| t.inferred) {
            format!("If, as the query suggests, an adversary uses {list}")
        } else {
            format!("If an adversary uses {list}")
        };
    }
    let tactics: Vec<String> = input
        .tactics
        .iter()
        .map(|t| {
            inputs.push(format!("tactic {}", t.value));
            input
                .attack
                .tactic(&t.value)
                .map_or_else(|| t.value.clone(), |a| a.name.clone())
        })
        .collect();
    if !tactics.is_empty() {
        return format!(
            "If an adversary is working toward {}",
            and_list(&tactics, "or")
        );
    }
    "If the activity this query looks for takes place".to_string()
}

/// The tables (or parsers) the records come from.
fn source(input: &HypothesisInput<'_>, inputs: &mut Vec<String>) -> String {
    let analysis = input.analysis;
    let mut tables: Vec<String> = analysis.tables.clone();
    for t in &tables {
        inputs.push(format!("table {t}"));
    }
    if tables.is_empty() && analysis.stored_functions.is_empty() {
        // The analysis found nothing (the query does not parse): known table names in the code
        // are the best evidence left.
        for t in known_tables() {
            if input.query.identifiers.contains(&t.to_ascii_lowercase()) {
                inputs.push(format!("table {t} (named in the query)"));
                tables.push(t.to_string());
            }
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if !tables.is_empty() {
        let shown: Vec<&str> = tables.iter().take(4).map(String::as_str).collect();
        let mut list = and_list(&shown, "and");
        if tables.len() > 4 {
            list = format!("{} and {} more tables", shown.join(", "), tables.len() - 4);
        }
        let joined = analysis
            .operators
            .iter()
            .any(|o| o == "join" || o == "lookup");
        if joined && tables.len() > 1 {
            list = format!("{list} (joined)");
        }
        parts.push(list);
    }
    if !analysis.stored_functions.is_empty() {
        for f in &analysis.stored_functions {
            inputs.push(format!("stored function {f}"));
        }
        parts.push(format!(
            "the {} {}",
            and_list(&analysis.stored_functions, "and"),
            if analysis.stored_functions.len() == 1 {
                "parser"
            } else {
                "parsers"
            }
        ));
    }
    if parts.is_empty() {
        "the query's data".to_string()
    } else {
        and_list(&parts, "and")
    }
}

/// Literal indicators by kind, with the first values: IOC rules differ by them.
fn indicators(analysis: &QueryAnalysis, inputs: &mut Vec<String>) -> Option<String> {
    let found = compromise_indicators(analysis);
    if found.is_empty() {
        return None;
    }
    let mut kinds: Vec<(IndicatorKind, Vec<&str>)> = Vec::new();
    for indicator in found {
        match kinds.iter_mut().find(|(k, _)| *k == indicator.kind) {
            Some((_, values)) => {
                if !values.contains(&indicator.value.as_str()) {
                    values.push(&indicator.value);
                }
            }
            None => kinds.push((indicator.kind, vec![&indicator.value])),
        }
    }
    kinds.sort_by_key(|(k, _)| *k);
    let parts: Vec<String> = kinds
        .iter()
        .map(|(kind, values)| {
            inputs.push(format!(
                "{} {} indicator(s)",
                values.len(),
                kind_name(*kind)
            ));
            let examples: Vec<String> = values.iter().take(2).map(|v| clip(v, 50)).collect();
            let name = kind_name(*kind);
            let name = match (values.len(), name.ends_with("hash")) {
                (1, _) => name.to_string(),
                (_, true) => format!("{name}es"),
                _ => format!("{name}s"),
            };
            format!("{} {name} (e.g. {})", values.len(), examples.join(", "))
        })
        .collect();
    Some(format!(
        "matching literal indicators: {}",
        and_list(&parts, "and")
    ))
}

fn kind_name(kind: IndicatorKind) -> &'static str {
    match kind {
        IndicatorKind::Ipv4 => "IPv4 address",
        IndicatorKind::Ipv6 => "IPv6 address",
        IndicatorKind::Domain => "domain",
        IndicatorKind::Url => "URL",
        IndicatorKind::Md5 => "MD5 hash",
        IndicatorKind::Sha1 => "SHA-1 hash",
        IndicatorKind::Sha256 => "SHA-256 hash",
        IndicatorKind::Email => "e-mail address",
    }
}

/// Placeholders that no filter shows (used in computed expressions or joins).
fn unfiltered_parameters(analysis: &QueryAnalysis, inputs: &mut Vec<String>) -> Option<String> {
    let mut names = Vec::new();
    for p in &analysis.parameters {
        inputs.push(format!(
            "parameter {} ({}{})",
            p.name,
            p.value_type,
            p.semantic
                .as_deref()
                .map(|s| format!(", {s}"))
                .unwrap_or_default()
        ));
        let in_filter = analysis.predicates.iter().any(|f| {
            f.values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(&p.placeholder))
        });
        if p.kind != PlaceholderKind::Template && !in_filter {
            names.push(format!(
                "the {} you supply as {}",
                semantic_words(p.semantic.as_deref()),
                p.name
            ));
        }
    }
    (!names.is_empty()).then(|| format!("using {}", and_list(&names, "and")))
}

/// The logic beyond filtering: aggregation, joins, rarity, statistics.
fn logic(analysis: &QueryAnalysis, inputs: &mut Vec<String>) -> Option<String> {
    let has_op = |name: &str| {
        analysis
            .operators
            .iter()
            .any(|o| o.eq_ignore_ascii_case(name))
    };
    let has_fn = |name: &str| {
        analysis
            .functions
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name))
    };
    let mut parts: Vec<String> = Vec::new();
    let mut used = |what: &str, phrase: String, parts: &mut Vec<String>| {
        inputs.push(what.to_string());
        if !parts.contains(&phrase) {
            parts.push(phrase);
        }
    };
    if has_op("summarize") {
        // min and max are left out: they almost always only keep a first and last time.
        let aggregates: Vec<&str> = [
            "count",
            "countif",
            "dcount",
            "dcountif",
            "make_set",
            "make_list",
            "arg_min",
            "arg_max",
            "sum",
            "avg",
            "percentile",
            "stdev",
        ]
        .into_iter()
        .filter(|f| has_fn(f))
        .collect();
        let phrase = if aggregates.is_empty() {
            "summarized".to_string()
        } else {
            format!("summarized with {}", and_list(&aggregates, "and"))
        };
        used("operator summarize", phrase, &mut parts);
        if has_fn("arg_min") {
            used(
                "function arg_min",
                "keeping first-seen times".to_string(),
                &mut parts,
            );
        }
    }
    if has_op("make-series") || has_fn("series_decompose_anomalies") {
        used(
            "operator make-series / series_decompose_anomalies",
            "looking for anomalies in a time series".to_string(),
            &mut parts,
        );
    }
    if has_op("join") || has_op("lookup") {
        used(
            "operator join",
            "joining result sets".to_string(),
            &mut parts,
        );
    }
    if has_op("union") {
        used(
            "operator union",
            "over a union of sources".to_string(),
            &mut parts,
        );
    }
    if has_op("mv-expand") || has_op("mvexpand") {
        used(
            "operator mv-expand",
            "expanding lists".to_string(),
            &mut parts,
        );
    }
    if has_op("externaldata") {
        used(
            "operator externaldata",
            "checked against an external list".to_string(),
            &mut parts,
        );
    }
    if has_fn("geo_info_from_ip_address") {
        used(
            "function geo_info_from_ip_address",
            "with IP geolocation".to_string(),
            &mut parts,
        );
    }
    if has_fn("ipv4_is_private") {
        used(
            "function ipv4_is_private",
            "separating private from public addresses".to_string(),
            &mut parts,
        );
    }
    if has_fn("base64_decode_tostring") || has_fn("base64_decodestring") {
        used(
            "function base64_decode_tostring",
            "decoding base64".to_string(),
            &mut parts,
        );
    }
    if has_fn("prev") || has_fn("next") || has_fn("row_window_session") {
        used(
            "function prev/next/row_window_session",
            "comparing consecutive records".to_string(),
            &mut parts,
        );
    }
    if has_op("top") {
        used(
            "operator top",
            "keeping the top results".to_string(),
            &mut parts,
        );
    }
    (!parts.is_empty()).then(|| and_list(&parts, "and"))
}

/// The time window in words.
fn window(analysis: &QueryAnalysis, inputs: &mut Vec<String>) -> Option<String> {
    let window = analysis.time_window.as_ref()?;
    inputs.push(format!("time window {}", window.text));
    Some(if window.templated {
        "over the time range you choose".to_string()
    } else if let Some(seconds) = window.lookback_seconds {
        format!(
            "over the last {}",
            super::false_positives::duration_words(seconds)
        )
    } else {
        format!("over the window set by {}", clip(&window.text, 40))
    })
}

/// The entity types results map to.
fn entities(rule: &Rule, inputs: &mut Vec<String>) -> Option<String> {
    let mut types: Vec<&str> = Vec::new();
    for mapping in &rule.entity_mappings {
        let t = mapping.entity_type.trim();
        if !t.is_empty() && !types.contains(&t) {
            types.push(t);
            inputs.push(format!("entity {t}"));
        }
    }
    (!types.is_empty()).then(|| {
        format!(
            "Each result names {} entit{}.",
            and_list(&types, "and"),
            if types.len() == 1 { "y" } else { "ies" }
        )
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Indicator, QueryParameter, TimeWindow};
    use crate::enrich::test_support::{predicate, rule};
    use crate::model::{EntityMapping, RuleKind};

    fn parameter(name: &str, placeholder: &str, semantic: &str) -> QueryParameter {
        QueryParameter {
            name: name.into(),
            placeholder: placeholder.into(),
            kind: PlaceholderKind::FillIn,
            value_type: "string".into(),
            semantic: Some(semantic.into()),
            spans: vec![],
        }
    }

    fn seed_analysis() -> QueryAnalysis {
        QueryAnalysis {
            tables: vec!["DeviceFileEvents".into()],
            operators: vec!["project".into(), "where".into()],
            parameters: vec![
                parameter("ip_address", "IP ADDRESS GOES HERE", "ip"),
                parameter("url", "URL GOES HERE", "url"),
            ],
            predicates: vec![
                predicate("FileOriginUrl", "==", &["IP ADDRESS GOES HERE"], false),
                predicate("FileOriginUrl", "contains", &["URL GOES HERE"], false),
                predicate(
                    "FileOriginReferrerUrl",
                    "contains",
                    &["URL GOES HERE"],
                    false,
                ),
            ],
            ..QueryAnalysis::default()
        }
    }

    fn build(rule: &Rule, analysis: &QueryAnalysis, techniques: &[Inferred]) -> Generated {
        let query = QueryText::read(&rule.query);
        hypothesis(&HypothesisInput {
            rule,
            analysis,
            query: &query,
            tactics: &[],
            techniques,
            attack: Attack::embedded(),
        })
    }

    #[test]
    fn the_seed_rule_reads_as_a_specific_hypothesis() {
        let mut r = rule(RuleKind::Hunting);
        r.query = "DeviceFileEvents | where FileOriginUrl == \"IP ADDRESS GOES HERE\"".into();
        let t1105 = Inferred {
            value: "T1105".into(),
            inferred: true,
            reason: None,
        };
        let g = build(&r, &seed_analysis(), &[t1105]);
        let fingerprint = QueryText::read(&r.query).fingerprint();
        assert_eq!(
            g.text,
            format!(
                "If, as the query suggests, an adversary uses Ingress Tool Transfer (T1105), then \
                 DeviceFileEvents will show records matching: FileOriginUrl equals the IP you \
                 supply or contains the URL you supply; FileOriginReferrerUrl contains the URL you \
                 supply. Query fingerprint {fingerprint}."
            )
        );
        assert!(g.inputs.contains(&"table DeviceFileEvents".to_string()));
        assert!(g
            .inputs
            .contains(&"technique T1105 Ingress Tool Transfer (inferred)".to_string()));
        assert!(g
            .inputs
            .contains(&"filter FileOriginUrl == \"IP ADDRESS GOES HERE\"".to_string()));
        assert!(g
            .inputs
            .iter()
            .any(|i| i.starts_with("parameter ip_address (string, ip)")));
    }

    #[test]
    fn logic_indicators_window_and_entities_are_described() {
        let mut r = rule(RuleKind::Analytic);
        r.query = "x".into();
        r.entity_mappings = vec![
            EntityMapping {
                entity_type: "Account".into(),
                fields: vec![],
            },
            EntityMapping {
                entity_type: "IP".into(),
                fields: vec![],
            },
        ];
        let analysis = QueryAnalysis {
            tables: vec!["SecurityEvent".into(), "SigninLogs".into()],
            operators: vec!["join".into(), "summarize".into(), "where".into()],
            functions: vec!["count".into(), "dcount".into()],
            predicates: vec![
                predicate("EventID", "==", &["4625"], false),
                predicate("count_", ">", &["10"], false),
                predicate("Account", "in", &["a", "b", "c", "d", "e", "f"], true),
            ],
            indicators: vec![Indicator {
                kind: IndicatorKind::Ipv4,
                value: "203.0.113.7".into(),
                span: 0..1,
            }],
            time_window: Some(TimeWindow {
                lookback_seconds: Some(86_400),
                templated: false,
                text: "ago(1d)".into(),
                span: 0..1,
            }),
            ..QueryAnalysis::default()
        };
        let g = build(&r, &analysis, &[]);
        let expected = "If the activity this query looks for takes place, then SecurityEvent and \
             SigninLogs (joined) will show records matching: EventID equals 4625; count_ is above \
             10; Account is not one of \"a\", \"b\", \"c\", \"d\" and 2 more; matching literal \
             indicators: 1 IPv4 address (e.g. 203.0.113.7), summarized with count and dcount and \
             joining result sets, over the last 1 day. Each result names Account and IP entities.";
        assert!(g.text.starts_with(expected), "{}", g.text);
        assert!(g.inputs.contains(&"entity IP".to_string()));
        assert!(g.inputs.contains(&"time window ago(1d)".to_string()));
    }

    #[test]
    fn different_filter_values_give_different_hypotheses_and_layout_does_not() {
        let mut a = rule(RuleKind::Hunting);
        a.query = "T | where X == 'a'".into();
        let mut b = a.clone();
        b.query = "// comment\nT\n| where X == 'a'".into();
        let mut c = a.clone();
        c.query = "T | where X == 'b'".into();
        let analysis = QueryAnalysis::default();
        assert_eq!(
            build(&a, &analysis, &[]).text,
            build(&b, &analysis, &[]).text
        );
        assert_ne!(
            build(&a, &analysis, &[]).text,
            build(&c, &analysis, &[]).text
        );
    }

    #[test]
    fn tactics_open_when_there_are_no_techniques_and_parsers_are_named() {
        let mut r = rule(RuleKind::Hunting);
        r.query = "imProcessCreate | take 1".into();
        let analysis = QueryAnalysis {
            stored_functions: vec!["imProcessCreate".into()],
            ..QueryAnalysis::default()
        };
        let query = QueryText::read(&r.query);
        let tactic = Inferred {
            value: "credential-access".into(),
            inferred: false,
            reason: None,
        };
        let g = hypothesis(&HypothesisInput {
            rule: &r,
            analysis: &analysis,
            query: &query,
            tactics: &[tactic],
            techniques: &[],
            attack: Attack::embedded(),
        });
        assert!(
            g.text.starts_with(
                "If an adversary is working toward Credential Access, then the imProcessCreate \
                 parser will show records."
            ),
            "{}",
            g.text
        );
    }
}
