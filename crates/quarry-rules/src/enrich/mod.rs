//! Enrichment: fields generated from a rule and its analysis — hypothesis, confidence, inferred
//! severity and techniques, data sources, false-positive guidance, references, contradictions.
//! Deterministic, and every generated field records the inputs that produced it.
//!
//! [`enrich`] reads the query's text once (`text.rs`: code without comments, comments, strings),
//! then each concern has its file: ATT&CK mapping and severity (`inference.rs`, with the evidence
//! table of `technique_table.rs`), data sources (`data_sources.rs`, with the corpus-derived
//! `data/table-connectors.tsv`), false-positive guidance, references, contradictions, confidence,
//! and the hypothesis (`hypothesis.rs`, its filters phrased by `filters.rs`).

mod confidence;
mod contradictions;
mod data_sources;
mod false_positives;
mod filters;
mod hypothesis;
mod indicators;
mod inference;
mod references;
mod technique_table;
#[cfg(test)]
mod test_support;
mod text;

use crate::analysis::QueryAnalysis;
use crate::attack::Attack;
use crate::model::Rule;
use serde::{Deserialize, Serialize};

pub use confidence::{
    level as confidence_level, BASE as CONFIDENCE_BASE, HIGH as CONFIDENCE_HIGH,
    MEDIUM as CONFIDENCE_MEDIUM,
};
pub use contradictions::{DATA_TYPES_VS_TABLES, DESCRIPTION_VS_QUERY, TACTICS_VS_TECHNIQUES};

/// A generated text and the inputs it was generated from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generated {
    /// The text.
    pub text: String,
    /// What produced it, readable (`table DeviceFileEvents`, `filter FileOriginUrl contains …`).
    pub inputs: Vec<String>,
}

/// A value that is either upstream's or inferred by Quarry (then with the reason).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inferred {
    /// The value (`High`, `T1003.001`, `credential-access`).
    pub value: String,
    /// True when Quarry inferred it rather than reading it from the rule.
    pub inferred: bool,
    /// Why it was inferred, or a note on upstream's value (e.g. a revoked technique's replacement).
    pub reason: Option<String>,
}

/// One reason that moved the confidence score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfidenceReason {
    /// The factor (`source`, `parse`, `bind`, `schema`, `tactics`, `placeholders`, `age`).
    pub factor: String,
    /// Points added (positive) or taken away (negative).
    pub points: i32,
    /// What was found.
    pub detail: String,
}

/// How far the rule can be trusted to run and mean what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confidence {
    /// 0 to 100.
    pub score: u8,
    /// `high`, `medium` or `low`.
    pub level: String,
    /// The reasons, in the order they were applied.
    pub reasons: Vec<ConfidenceReason>,
}

/// A table the rule needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSource {
    /// The table (`DeviceFileEvents`).
    pub table: String,
    /// Connectors that provide it: those the rule declares for it, else the usual ones.
    pub connectors: Vec<String>,
    /// The rule declares it (`requiredDataConnectors`).
    pub declared: bool,
    /// The query reads it.
    pub read: bool,
}

/// A link worth following.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// What it is (`ATT&CK T1003.001 OS Credential Dumping: LSASS Memory`).
    pub title: String,
    /// The URL.
    pub url: String,
    /// `rule` (found in the rule's text), `attack` or `source` (the original file).
    pub kind: String,
}

/// Two parts of a rule that disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contradiction {
    /// `description-vs-query`, `tactics-vs-techniques` or `data-types-vs-tables`.
    pub kind: String,
    /// One sentence saying what disagrees.
    pub message: String,
    /// The facts on each side.
    pub evidence: Vec<String>,
}

/// Whether the query binds against the table schemas (computed by the engine, outside this crate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BindStatus {
    /// It plans over the known schemas.
    Ok,
    /// It reads tables that no schema describes.
    MissingTables(Vec<String>),
    /// It uses a feature the engine does not support.
    Unsupported(String),
    /// Another binding error.
    Error(String),
    /// Not checked.
    NotChecked,
}

/// Everything generated for one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// A hunt hypothesis specific to the rule.
    pub hypothesis: Generated,
    /// The confidence score and its reasons.
    pub confidence: Confidence,
    /// Upstream's severity, or an inferred one.
    pub severity: Inferred,
    /// ATT&CK tactics (shortnames), upstream's or inferred.
    pub tactics: Vec<Inferred>,
    /// ATT&CK techniques, upstream's or inferred.
    pub techniques: Vec<Inferred>,
    /// Tables the rule needs.
    pub data_sources: Vec<DataSource>,
    /// False-positive guidance.
    pub false_positives: Vec<Generated>,
    /// Links.
    pub references: Vec<Reference>,
    /// Disagreements found.
    pub contradictions: Vec<Contradiction>,
}

/// What enrichment reads.
#[derive(Debug, Clone, Copy)]
pub struct EnrichInput<'a> {
    /// The rule.
    pub rule: &'a Rule,
    /// Its query's analysis.
    pub analysis: &'a QueryAnalysis,
    /// Whether it binds.
    pub bind: &'a BindStatus,
    /// ATT&CK.
    pub attack: &'a Attack,
    /// The import time (RFC 3339), for the age factor.
    pub now: &'a str,
}

/// Enriches one rule. Deterministic: the output depends only on the input (the time comes from
/// `input.now`), and every generated field records what produced it.
pub fn enrich(input: EnrichInput<'_>) -> Enrichment {
    let EnrichInput {
        rule,
        analysis,
        bind,
        attack,
        now,
    } = input;
    let query = text::QueryText::read(&rule.query);
    let techniques = inference::techniques(rule, &query, attack);
    let tactics = inference::tactics(rule, &techniques, attack);
    let severity = inference::severity(rule, &tactics, analysis);
    let data_sources = data_sources::data_sources(rule, analysis);
    let false_positives = false_positives::false_positives(rule, analysis, &query);
    let references = references::references(rule, &query, &techniques, attack);
    let contradictions =
        contradictions::contradictions(rule, analysis, &query, &tactics, &techniques, attack);
    let confidence = confidence::confidence(&confidence::ConfidenceInput {
        rule,
        analysis,
        bind,
        techniques: &techniques,
        contradictions: &contradictions,
        attack,
        now,
    });
    let hypothesis = hypothesis::hypothesis(&hypothesis::HypothesisInput {
        rule,
        analysis,
        query: &query,
        tactics: &tactics,
        techniques: &techniques,
        attack,
    });
    Enrichment {
        hypothesis,
        confidence,
        severity,
        tactics,
        techniques,
        data_sources,
        false_positives,
        references,
        contradictions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{PlaceholderKind, Predicate, QueryParameter};
    use crate::enrich::test_support::{predicate, rule_with_connectors};

    fn seed_like() -> (Rule, QueryAnalysis) {
        let mut rule =
            rule_with_connectors(&[("MicrosoftThreatProtection", &["DeviceFileEvents"])]);
        rule.description = "Query 1 shows traffic to a Remote IP.\nEnsure to update RemoteIP \
                            variable."
            .into();
        rule.query = "// Query 4 file events\nDeviceFileEvents\n| where FileOriginUrl == \"IP \
                      ADDRESS GOES HERE\""
            .into();
        let analysis = QueryAnalysis {
            tables: vec!["DeviceFileEvents".into()],
            parameters: vec![QueryParameter {
                name: "ip_address".into(),
                placeholder: "IP ADDRESS GOES HERE".into(),
                kind: PlaceholderKind::FillIn,
                value_type: "string".into(),
                semantic: Some("ip".into()),
                spans: vec![],
            }],
            predicates: vec![predicate(
                "FileOriginUrl",
                "==",
                &["IP ADDRESS GOES HERE"],
                false,
            )],
            ..QueryAnalysis::default()
        };
        (rule, analysis)
    }

    fn run(rule: &Rule, analysis: &QueryAnalysis) -> Enrichment {
        enrich(EnrichInput {
            rule,
            analysis,
            bind: &BindStatus::NotChecked,
            attack: Attack::embedded(),
            now: "2026-11-28T00:00:00Z",
        })
    }

    #[test]
    fn every_part_is_generated_and_the_result_is_deterministic() {
        let (rule, analysis) = seed_like();
        let e = run(&rule, &analysis);
        assert_eq!(e, run(&rule, &analysis));
        assert!(e
            .hypothesis
            .text
            .contains("FileOriginUrl equals the IP you supply"));
        assert_eq!(e.techniques[0].value, "T1105");
        assert_eq!(e.tactics[0].value, "command-and-control");
        assert_eq!(
            (e.severity.value.as_str(), e.severity.inferred),
            ("Medium", true)
        );
        assert_eq!(e.data_sources[0].connectors, ["MicrosoftThreatProtection"]);
        assert_eq!(e.contradictions.len(), 2, "{:#?}", e.contradictions);
        assert!(e.false_positives[0].text.contains("ip_address (ip)"));
        assert!(e
            .confidence
            .reasons
            .iter()
            .any(|r| r.factor == "placeholders" && r.points < 0));
        let json = serde_json::to_string(&e).unwrap();
        let back: Enrichment = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let texts = [
            "",
            "é",
            "//",
            "\"unterminated",
            "Query 99999999999999999999 ü Ünïcödé RemoteÏP variable @x #y -z",
            "https:// http://[ (https://a.b/c_(d) ) …",
            "| | | where == \"\" !in () 💥",
        ];
        for text in texts {
            let (mut rule, _) = seed_like();
            rule.description = text.into();
            rule.query = text.into();
            rule.raw = text.into();
            rule.name = text.into();
            rule.id = text.into();
            rule.tactics = vec![text.into()];
            rule.techniques = vec![text.into()];
            rule.provenance.last_modified = Some(text.into());
            let analysis = QueryAnalysis {
                tables: vec![text.into()],
                predicates: vec![Predicate {
                    column: text.into(),
                    operator: text.into(),
                    values: vec![text.into(); 9],
                    negated: true,
                }],
                ..QueryAnalysis::default()
            };
            let _ = run(&rule, &analysis);
            let _ = run(&rule, &QueryAnalysis::default());
        }
    }
}
