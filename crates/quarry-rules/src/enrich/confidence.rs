//! The confidence score: how far a rule can be trusted to run as it is and to mean what it says.
//!
//! The score starts at [`BASE`] and each factor adds or takes points, in a fixed order; the result
//! is clamped to 0–100. Levels: `high` from [`HIGH`] up, `medium` from [`MEDIUM`] up, `low` below.
//! With every factor at its best (official source, parses, binds, known tables, a valid ATT&CK
//! mapping, no placeholders, recently changed) a rule scores 100; an official rule that parses,
//! with a valid mapping and no placeholders, not yet bound and of unknown age, scores 80 (high);
//! one that also needs values filled in and has no ATT&CK mapping falls to 60 (medium).

use super::data_sources::is_known_table;
use super::inference::unknown_tactics;
use super::{BindStatus, Confidence, ConfidenceReason, Contradiction, Inferred};
use crate::analysis::{PlaceholderKind, QueryAnalysis};
use crate::attack::{Attack, TechniqueStatus};
use crate::model::Rule;
use chrono::{DateTime, Utc};

/// Where every score starts.
pub const BASE: i32 = 30;
/// The lowest score called `high`.
pub const HIGH: u8 = 70;
/// The lowest score called `medium`.
pub const MEDIUM: u8 = 40;

/// What the score is computed from.
pub(crate) struct ConfidenceInput<'a> {
    pub rule: &'a Rule,
    pub analysis: &'a QueryAnalysis,
    pub bind: &'a BindStatus,
    pub techniques: &'a [Inferred],
    pub contradictions: &'a [Contradiction],
    pub attack: &'a Attack,
    pub now: &'a str,
}

/// Scores a rule.
pub(crate) fn confidence(input: &ConfidenceInput<'_>) -> Confidence {
    let mut reasons = vec![
        source(input.rule),
        parse(input.analysis),
        bind(input.bind),
        schema(input.analysis),
        attack_mapping(input.rule, input.techniques, input.attack),
        placeholders(input.analysis),
        age(input.rule, input.now),
    ];
    reasons.extend(status(input.rule));
    reasons.extend(identifier(input.rule));
    reasons.extend(contradictions(input.contradictions));
    let total = reasons.iter().map(|r| r.points).sum::<i32>() + BASE;
    let score = u8::try_from(total.clamp(0, 100)).unwrap_or(0);
    Confidence {
        score,
        level: level(score).to_string(),
        reasons,
    }
}

/// `high`, `medium` or `low`.
pub fn level(score: u8) -> &'static str {
    if score >= HIGH {
        "high"
    } else if score >= MEDIUM {
        "medium"
    } else {
        "low"
    }
}

fn reason(factor: &str, points: i32, detail: impl Into<String>) -> ConfidenceReason {
    ConfidenceReason {
        factor: factor.to_string(),
        points,
        detail: detail.into(),
    }
}

/// Whether a repository is Microsoft's Azure-Sentinel on GitHub (any URL form).
fn is_official(repository: &str) -> bool {
    let r = repository
        .trim()
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .to_ascii_lowercase();
    r.ends_with("github.com/azure/azure-sentinel") || r.ends_with("github.com:azure/azure-sentinel")
}

fn source(rule: &Rule) -> ConfidenceReason {
    let repository = rule.provenance.repository.trim();
    if is_official(repository) {
        reason(
            "source",
            20,
            "Microsoft's official Azure-Sentinel repository",
        )
    } else if repository.is_empty() {
        reason("source", 0, "unknown source")
    } else {
        reason("source", 0, format!("other source: {repository}"))
    }
}

fn parse(analysis: &QueryAnalysis) -> ConfidenceReason {
    let errors: Vec<&str> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.severity == "error")
        .map(|d| d.message.as_str())
        .collect();
    let warnings = analysis.diagnostics.len() - errors.len();
    match (errors.first(), warnings) {
        (Some(first), _) => reason(
            "parse",
            -30,
            format!(
                "the query does not parse ({} error(s); first: {first})",
                errors.len()
            ),
        ),
        (None, 0) => reason("parse", 10, "the query parses"),
        (None, n) => reason("parse", 5, format!("the query parses with {n} warning(s)")),
    }
}

fn bind(status: &BindStatus) -> ConfidenceReason {
    match status {
        BindStatus::Ok => reason("bind", 15, "the query binds against the table schemas"),
        BindStatus::MissingTables(tables) => {
            reason("bind", -10, format!("no schema for {}", tables.join(", ")))
        }
        BindStatus::Unsupported(what) => reason(
            "bind",
            -5,
            format!("uses a feature the engine does not support: {what}"),
        ),
        BindStatus::Error(message) => reason("bind", -20, format!("does not bind: {message}")),
        BindStatus::NotChecked => reason("bind", 0, "not checked against the schemas"),
    }
}

fn schema(analysis: &QueryAnalysis) -> ConfidenceReason {
    if analysis.tables.is_empty() {
        return if analysis.stored_functions.is_empty() {
            reason("schema", 0, "no tables found in the query")
        } else {
            reason(
                "schema",
                0,
                format!("reads through {}", analysis.stored_functions.join(", ")),
            )
        };
    }
    let unknown: Vec<&str> = analysis
        .tables
        .iter()
        .filter(|t| !is_known_table(t))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        reason("schema", 5, "every table is one that corpus rules declare")
    } else {
        reason(
            "schema",
            -5,
            format!("tables no corpus rule declares: {}", unknown.join(", ")),
        )
    }
}

fn attack_mapping(rule: &Rule, techniques: &[Inferred], attack: &Attack) -> ConfidenceReason {
    let declared: Vec<&Inferred> = techniques.iter().filter(|t| !t.inferred).collect();
    let valid_tactics = rule
        .tactics
        .iter()
        .filter(|t| attack.tactic(t).is_some())
        .count();
    let unknown = unknown_tactics(rule, attack);
    if declared.is_empty() && valid_tactics == 0 {
        return reason(
            "tactics",
            -5,
            if unknown.is_empty() {
                "no ATT&CK mapping upstream".to_string()
            } else {
                format!(
                    "no ATT&CK mapping upstream (categories {})",
                    unknown.join(", ")
                )
            },
        );
    }
    let mut problems: Vec<String> = declared
        .iter()
        .filter_map(|t| match attack.resolve(&t.value) {
            TechniqueStatus::Active(_) => None,
            TechniqueStatus::Revoked(..) => Some(format!("{} revoked", t.value)),
            TechniqueStatus::Deprecated(_) => Some(format!("{} deprecated", t.value)),
            TechniqueStatus::Unknown => Some(format!("{} unknown", t.value)),
        })
        .collect();
    problems.extend(unknown.iter().map(|u| format!("{u} is not a tactic")));
    if declared.is_empty() {
        problems.push("no techniques".to_string());
    }
    if valid_tactics == 0 {
        problems.push("no ATT&CK tactics".to_string());
    }
    if problems.is_empty() {
        reason(
            "tactics",
            10,
            format!(
                "{} tactic(s) and {} technique(s), all valid ATT&CK",
                valid_tactics,
                declared.len()
            ),
        )
    } else {
        reason(
            "tactics",
            3,
            format!(
                "ATT&CK mapping present with problems: {}",
                problems.join(", ")
            ),
        )
    }
}

fn placeholders(analysis: &QueryAnalysis) -> ConfidenceReason {
    let fill_ins: Vec<&str> = analysis
        .parameters
        .iter()
        .filter(|p| p.kind != PlaceholderKind::Template)
        .map(|p| p.name.as_str())
        .collect();
    if fill_ins.is_empty() {
        reason("placeholders", 5, "runs as it is: nothing to fill in")
    } else {
        reason(
            "placeholders",
            -15,
            format!(
                "cannot run as it is: {} value(s) to supply ({})",
                fill_ins.len(),
                fill_ins.join(", ")
            ),
        )
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Recently maintained rules match today's schemas and tools; old ones may not.
fn age(rule: &Rule, now: &str) -> ConfidenceReason {
    let Some(changed) = rule.provenance.last_modified.as_deref() else {
        return reason(
            "age",
            0,
            "unknown: when the file last changed is not recorded",
        );
    };
    let (Some(changed_at), Some(now_at)) = (parse_time(changed), parse_time(now)) else {
        return reason(
            "age",
            0,
            format!("unknown: cannot read the time {changed} or {now}"),
        );
    };
    let days = (now_at - changed_at).num_days();
    match days {
        d if d < 0 => reason(
            "age",
            0,
            format!("last changed {changed}, after the import time"),
        ),
        d if d <= 365 => reason("age", 5, format!("last changed {d} days ago ({changed})")),
        d if d <= 3 * 365 => reason("age", 0, format!("last changed {d} days ago ({changed})")),
        d => reason(
            "age",
            -10,
            format!("last changed {d} days ago ({changed}): over three years"),
        ),
    }
}

fn status(rule: &Rule) -> Option<ConfidenceReason> {
    let status = rule.status.as_deref().unwrap_or("");
    let deprecated = status.to_ascii_lowercase().contains("deprecat")
        || rule.name.to_ascii_lowercase().contains("[deprecated]");
    deprecated.then(|| {
        reason(
            "status",
            -30,
            format!(
                "deprecated upstream ({})",
                if status.is_empty() {
                    rule.name.as_str()
                } else {
                    status
                }
            ),
        )
    })
}

/// Rules copied from a template often keep a placeholder or mistyped id, which then collides.
fn identifier(rule: &Rule) -> Option<ConfidenceReason> {
    let id = rule.id.trim();
    let hex_groups: Vec<usize> = id.split('-').map(str::len).collect();
    let guid_shape =
        hex_groups == [8, 4, 4, 4, 12] && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit());
    let problem = if !guid_shape {
        Some("is not a GUID")
    } else if id
        .chars()
        .filter(|c| *c != '-')
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        <= 2
    {
        Some("looks like a placeholder GUID")
    } else {
        None
    };
    problem.map(|p| {
        reason(
            "id",
            -5,
            format!("the id {id} {p}: it may collide with another rule's"),
        )
    })
}

fn contradictions(found: &[Contradiction]) -> Option<ConfidenceReason> {
    if found.is_empty() {
        return None;
    }
    let mut kinds: Vec<&str> = found.iter().map(|c| c.kind.as_str()).collect();
    kinds.dedup();
    let points = -5 * i32::try_from(found.len().min(3)).unwrap_or(3);
    Some(reason(
        "contradictions",
        points,
        format!("{} contradiction(s): {}", found.len(), kinds.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{QueryDiagnostic, QueryParameter};
    use crate::enrich::test_support::rule;
    use crate::model::RuleKind;

    fn score(rule: &Rule, analysis: &QueryAnalysis, bind: &BindStatus, now: &str) -> Confidence {
        let techniques: Vec<Inferred> = rule
            .techniques
            .iter()
            .map(|t| Inferred {
                value: t.clone(),
                inferred: false,
                reason: None,
            })
            .collect();
        confidence(&ConfidenceInput {
            rule,
            analysis,
            bind,
            techniques: &techniques,
            contradictions: &[],
            attack: Attack::embedded(),
            now,
        })
    }

    fn official_rule() -> Rule {
        let mut r = rule(RuleKind::Analytic);
        r.provenance.repository = "https://github.com/Azure/Azure-Sentinel.git".into();
        r.tactics = vec!["CredentialAccess".into()];
        r.techniques = vec!["T1003".into()];
        r
    }

    fn clean_analysis() -> QueryAnalysis {
        QueryAnalysis {
            tables: vec!["SecurityEvent".into()],
            ..QueryAnalysis::default()
        }
    }

    #[test]
    fn a_clean_official_rule_is_high_and_every_factor_is_explained() {
        let mut r = official_rule();
        r.provenance.last_modified = Some("2026-06-01T00:00:00Z".into());
        let c = score(
            &r,
            &clean_analysis(),
            &BindStatus::Ok,
            "2026-11-28T00:00:00Z",
        );
        assert_eq!(c.score, 100);
        assert_eq!(c.level, "high");
        let factors: Vec<&str> = c.reasons.iter().map(|r| r.factor.as_str()).collect();
        assert_eq!(
            factors,
            [
                "source",
                "parse",
                "bind",
                "schema",
                "tactics",
                "placeholders",
                "age"
            ]
        );
        let unchecked = score(
            &official_rule(),
            &clean_analysis(),
            &BindStatus::NotChecked,
            "x",
        );
        assert_eq!(unchecked.score, 80);
        assert_eq!(
            unchecked.reasons[6].detail,
            "unknown: when the file last changed is not recorded"
        );
    }

    #[test]
    fn parse_errors_placeholders_age_and_bad_ids_lower_the_score() {
        let mut r = rule(RuleKind::Hunting);
        r.id = "f090f8f4a-b986-42d2-b536-e0795c723e25".into();
        r.provenance.repository = "/home/me/rules".into();
        r.provenance.last_modified = Some("2019-01-01T00:00:00Z".into());
        r.tactics = vec!["Ransomware".into()];
        let analysis = QueryAnalysis {
            diagnostics: vec![QueryDiagnostic {
                severity: "error".into(),
                message: "expected a name".into(),
                span: 0..1,
            }],
            parameters: vec![QueryParameter {
                name: "domain".into(),
                placeholder: "<domain>".into(),
                kind: PlaceholderKind::FillIn,
                value_type: "string".into(),
                semantic: Some("domain".into()),
                spans: vec![],
            }],
            ..QueryAnalysis::default()
        };
        let c = score(
            &r,
            &analysis,
            &BindStatus::Error("x".into()),
            "2026-11-28T00:00:00Z",
        );
        assert_eq!(c.score, 0);
        assert_eq!(c.level, "low");
        let detail = |f: &str| {
            c.reasons
                .iter()
                .find(|r| r.factor == f)
                .unwrap()
                .detail
                .clone()
        };
        assert!(detail("parse").contains("expected a name"));
        assert!(detail("tactics").contains("Ransomware"));
        assert!(detail("placeholders").contains("domain"));
        assert!(detail("age").contains("over three years"));
        assert!(detail("id").contains("is not a GUID"));
        assert_eq!(detail("source"), "other source: /home/me/rules");
    }

    #[test]
    fn levels_and_revoked_techniques() {
        assert_eq!(level(70), "high");
        assert_eq!(level(69), "medium");
        assert_eq!(level(40), "medium");
        assert_eq!(level(39), "low");
        let mut r = official_rule();
        r.techniques = vec!["T1002".into()];
        let c = score(&r, &clean_analysis(), &BindStatus::NotChecked, "x");
        let tactics = c.reasons.iter().find(|r| r.factor == "tactics").unwrap();
        assert_eq!(tactics.points, 3);
        assert!(tactics.detail.contains("T1002 revoked"));
    }
}
