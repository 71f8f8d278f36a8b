//! Enrichment: fields generated from a rule and its analysis — hypothesis, confidence, inferred
//! severity and techniques, data sources, false-positive guidance, references, contradictions.
//! Deterministic, and every generated field records the inputs that produced it.

use crate::analysis::QueryAnalysis;
use crate::attack::Attack;
use crate::model::Rule;
use serde::{Deserialize, Serialize};

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
