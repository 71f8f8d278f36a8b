//! ATT&CK tactics and techniques (upstream's normalised, or inferred) and severity (upstream's,
//! or inferred from the tactics and the query's logic).

use super::indicators::compromise_indicators;
use super::technique_table;
use super::text::{and_list, QueryText};
use super::Inferred;
use crate::analysis::QueryAnalysis;
use crate::attack::{Attack, Technique, TechniqueStatus};
use crate::model::{Rule, RuleKind};

/// A technique's name as ATT&CK shows it: sub-techniques carry their parent's name
/// (`OS Credential Dumping: LSASS Memory`).
pub(crate) fn full_name(attack: &Attack, technique: &Technique) -> String {
    match technique
        .subtechnique_of
        .as_deref()
        .and_then(|p| attack.technique(p))
    {
        Some(parent) => format!("{}: {}", parent.name, technique.name),
        None => technique.name.clone(),
    }
}

/// `T1105 Ingress Tool Transfer`, or the id alone when ATT&CK does not know it.
pub(crate) fn technique_label(attack: &Attack, id: &str) -> String {
    match attack.technique(id) {
        Some(t) => format!("{} {}", t.id, full_name(attack, t)),
        None => id.to_string(),
    }
}

/// Upstream's techniques (deduplicated, in upstream order) with a note on revoked, deprecated
/// and unknown ids; when upstream gives none, the techniques the query shows evidence of.
pub(crate) fn techniques(rule: &Rule, query: &QueryText, attack: &Attack) -> Vec<Inferred> {
    let mut out: Vec<Inferred> = Vec::new();
    for raw in &rule.techniques {
        let id = raw.trim().to_ascii_uppercase();
        if id.is_empty() || out.iter().any(|t| t.value == id) {
            continue;
        }
        let reason = match attack.resolve(&id) {
            TechniqueStatus::Active(_) => None,
            TechniqueStatus::Revoked(_, Some(by)) => Some(format!(
                "revoked in ATT&CK {}; replaced by {}",
                attack.version,
                technique_label(attack, &by.id)
            )),
            TechniqueStatus::Revoked(_, None) => Some(format!(
                "revoked in ATT&CK {} without a named replacement",
                attack.version
            )),
            TechniqueStatus::Deprecated(_) => Some(format!(
                "deprecated in ATT&CK {}: no longer maintained",
                attack.version
            )),
            TechniqueStatus::Unknown => Some(format!(
                "not an ATT&CK Enterprise {} technique id",
                attack.version
            )),
        };
        out.push(Inferred {
            value: id,
            inferred: false,
            reason,
        });
    }
    if !out.is_empty() {
        return out;
    }
    technique_table::matches(query)
        .into_iter()
        .map(|m| Inferred {
            value: m.technique.to_string(),
            inferred: true,
            reason: Some(format!(
                "the rule declares no technique; the query looks for {}",
                m.evidence.join("; ")
            )),
        })
        .collect()
}

/// Upstream's tactics as ATT&CK shortnames in matrix order (names that are not ATT&CK tactics —
/// `Ransomware`, `Vulnerability` — are left out; `unknown_tactics` lists them); when upstream
/// names no ATT&CK tactic, the tactics ATT&CK lists for the techniques.
pub(crate) fn tactics(rule: &Rule, techniques: &[Inferred], attack: &Attack) -> Vec<Inferred> {
    let order = |shortname: &str| {
        attack
            .tactics()
            .iter()
            .position(|t| t.shortname == shortname)
            .unwrap_or(usize::MAX)
    };
    let mut upstream: Vec<&str> = rule
        .tactics
        .iter()
        .filter_map(|name| attack.tactic(name))
        .map(|t| t.shortname.as_str())
        .collect();
    upstream.sort_by_key(|s| order(s));
    upstream.dedup();
    if !upstream.is_empty() {
        return upstream
            .into_iter()
            .map(|s| Inferred {
                value: s.to_string(),
                inferred: false,
                reason: None,
            })
            .collect();
    }
    let unknown = unknown_tactics(rule, attack);
    // shortname → techniques placing it there, in technique order.
    let mut found: Vec<(&str, Vec<String>)> = Vec::new();
    for technique in techniques {
        let Some(entry) = attack.technique(&technique.value) else {
            continue;
        };
        for tactic in &entry.tactics {
            match found.iter_mut().find(|(s, _)| s == tactic) {
                Some((_, from)) => from.push(entry.id.clone()),
                None => found.push((tactic.as_str(), vec![entry.id.clone()])),
            }
        }
    }
    found.sort_by_key(|(s, _)| order(s));
    found
        .into_iter()
        .map(|(shortname, from)| {
            let mut reason = format!("ATT&CK lists {} under {shortname}", and_list(&from, "and"));
            if !unknown.is_empty() {
                reason.push_str(&format!(
                    " (the rule's {} {} not an ATT&CK tactic)",
                    and_list(&unknown, "and"),
                    if unknown.len() == 1 { "is" } else { "are" }
                ));
            }
            Inferred {
                value: shortname.to_string(),
                inferred: true,
                reason: Some(reason),
            }
        })
        .collect()
}

/// Upstream tactic names that ATT&CK does not know, deduplicated, in upstream order.
pub(crate) fn unknown_tactics(rule: &Rule, attack: &Attack) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in &rule.tactics {
        let name = name.trim();
        if !name.is_empty() && attack.tactic(name).is_none() && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// Severity levels from least to most severe, as Sentinel spells them.
const LEVELS: [&str; 4] = ["Informational", "Low", "Medium", "High"];

/// How severe activity under a tactic usually is: what directly damages, steals or spreads is
/// High; footholds and evasion are Medium; looking around is Low.
fn tactic_level(shortname: &str) -> usize {
    match shortname {
        "impact"
        | "credential-access"
        | "exfiltration"
        | "lateral-movement"
        | "privilege-escalation"
        | "command-and-control" => 3,
        "execution" | "persistence" | "defense-evasion" | "initial-access" | "collection" => 2,
        _ => 1,
    }
}

/// Whether a predicate compares a number against a threshold (`count_ > 10`).
pub(crate) fn is_threshold(predicate: &crate::analysis::Predicate) -> bool {
    matches!(predicate.operator.as_str(), ">" | ">=" | "<" | "<=")
        && !predicate.values.is_empty()
        && predicate
            .values
            .iter()
            .all(|v| v.trim().parse::<f64>().is_ok())
}

/// Upstream's severity, or one inferred by these steps (each recorded in the reason):
///
/// 1. exploration queries are `Informational`: they describe, they do not detect;
/// 2. otherwise the most severe tactic decides (see [`tactic_level`]); with no tactic, an
///    analytic rule is `Medium` (it raises alerts someone must triage) and a hunting query `Low`;
/// 3. a query that matches literal indicators (IPs, hashes, domains) or threat-intelligence
///    tables is at least `Medium`: a hit on a known-bad value is seldom benign;
/// 4. a hunting query is at most `Medium`: it returns leads to investigate, not alerts;
/// 5. a hunting query with no literal filter, no indicator and no threshold only lists or counts
///    activity, and is lowered one level (not below `Informational`).
pub(crate) fn severity(rule: &Rule, tactics: &[Inferred], analysis: &QueryAnalysis) -> Inferred {
    if let Some(given) = rule
        .severity
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let canonical = LEVELS
            .iter()
            .find(|l| l.eq_ignore_ascii_case(given))
            .map_or_else(|| given.to_string(), |l| l.to_string());
        return Inferred {
            value: canonical,
            inferred: false,
            reason: None,
        };
    }
    if rule.kind == RuleKind::Exploration {
        return Inferred {
            value: LEVELS[0].to_string(),
            inferred: true,
            reason: Some(
                "exploration query: it describes activity rather than detecting it".into(),
            ),
        };
    }
    let mut steps = Vec::new();
    let top = tactics
        .iter()
        .map(|t| (tactic_level(&t.value), t.value.as_str()))
        .max_by_key(|&(level, _)| level);
    let mut level = match top {
        Some((level, tactic)) => {
            steps.push(format!("most severe tactic {tactic} → {}", LEVELS[level]));
            level
        }
        None if rule.kind == RuleKind::Analytic => {
            steps.push("analytic rule without tactics → Medium".to_string());
            2
        }
        None => {
            steps.push("hunting query without tactics → Low".to_string());
            1
        }
    };
    let threat_intel = analysis
        .tables
        .iter()
        .any(|t| t.eq_ignore_ascii_case("ThreatIntelligenceIndicator"));
    let indicators = compromise_indicators(analysis).len();
    if (indicators > 0 || threat_intel) && level < 2 {
        level = 2;
        steps.push(if threat_intel {
            "matches threat-intelligence indicators → at least Medium".to_string()
        } else {
            format!("matches {indicators} literal indicator(s) → at least Medium")
        });
    }
    if rule.kind == RuleKind::Hunting && level > 2 {
        level = 2;
        steps.push(
            "hunting query: it returns leads to investigate, not alerts → Medium".to_string(),
        );
    }
    let has_literal_filter = analysis
        .predicates
        .iter()
        .any(|p| !p.values.is_empty() && !p.negated);
    let broad = !has_literal_filter
        && indicators == 0
        && !threat_intel
        && !analysis.predicates.iter().any(is_threshold);
    if rule.kind == RuleKind::Hunting && broad && level > 0 {
        level -= 1;
        steps.push(format!(
            "hunting query with no literal filter, indicator or threshold → lowered to {}",
            LEVELS[level]
        ));
    }
    Inferred {
        value: LEVELS[level].to_string(),
        inferred: true,
        reason: Some(format!("no upstream severity; {}", steps.join("; "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Indicator, IndicatorKind, Predicate};
    use crate::enrich::test_support::rule;

    fn values(items: &[Inferred]) -> Vec<&str> {
        items.iter().map(|i| i.value.as_str()).collect()
    }

    #[test]
    fn upstream_techniques_are_normalised_and_revoked_ones_name_their_replacement() {
        let attack = Attack::embedded();
        let mut r = rule(RuleKind::Analytic);
        r.techniques = vec![
            "t1003.001".into(),
            "T1002".into(),
            "T1003.001".into(),
            "T9999".into(),
        ];
        let t = techniques(&r, &QueryText::read("T | where x has 'mimikatz'"), attack);
        assert_eq!(values(&t), ["T1003.001", "T1002", "T9999"]);
        assert!(t.iter().all(|t| !t.inferred));
        assert_eq!(t[0].reason, None);
        let revoked = t[1].reason.as_deref().unwrap();
        assert!(
            revoked.contains("replaced by T1560 Archive Collected Data"),
            "{revoked}"
        );
        assert!(t[2].reason.as_deref().unwrap().contains("not an ATT&CK"));
    }

    #[test]
    fn techniques_are_inferred_only_when_none_is_declared() {
        let attack = Attack::embedded();
        let r = rule(RuleKind::Hunting);
        let q = QueryText::read(
            r#"DeviceProcessEvents | where FileName =~ "schtasks.exe" and ProcessCommandLine has "/create""#,
        );
        let t = techniques(&r, &q, attack);
        assert_eq!(values(&t), ["T1053.005"]);
        assert!(t[0].inferred);
        assert!(t[0].reason.as_deref().unwrap().contains("\"schtasks\""));
    }

    #[test]
    fn tactics_are_shortnames_in_matrix_order_and_inferred_from_techniques_when_absent() {
        let attack = Attack::embedded();
        let mut r = rule(RuleKind::Analytic);
        r.tactics = vec![
            "Persistence".into(),
            "Initial access".into(),
            "Ransomware".into(),
            "InitialAccess".into(),
        ];
        let t = tactics(&r, &[], attack);
        assert_eq!(values(&t), ["initial-access", "persistence"]);
        assert_eq!(unknown_tactics(&r, attack), ["Ransomware"]);

        r.tactics = vec!["Ransomware".into()];
        let techniques = [Inferred {
            value: "T1053.005".into(),
            inferred: true,
            reason: None,
        }];
        let t = tactics(&r, &techniques, attack);
        assert_eq!(
            values(&t),
            ["execution", "persistence", "privilege-escalation"]
        );
        assert!(t.iter().all(|t| t.inferred));
        let reason = t[0].reason.as_deref().unwrap();
        assert!(reason.contains("T1053.005 under execution"), "{reason}");
        assert!(
            reason.contains("Ransomware is not an ATT&CK tactic"),
            "{reason}"
        );
    }

    fn tactic(shortname: &str) -> Inferred {
        Inferred {
            value: shortname.into(),
            inferred: false,
            reason: None,
        }
    }

    #[test]
    fn upstream_severity_wins_and_is_spelled_canonically() {
        let mut r = rule(RuleKind::Analytic);
        r.severity = Some("high".into());
        let s = severity(&r, &[], &QueryAnalysis::default());
        assert_eq!((s.value.as_str(), s.inferred), ("High", false));
    }

    #[test]
    fn severity_follows_the_most_severe_tactic() {
        let r = rule(RuleKind::Analytic);
        let s = severity(
            &r,
            &[tactic("discovery"), tactic("impact")],
            &QueryAnalysis::default(),
        );
        assert_eq!((s.value.as_str(), s.inferred), ("High", true));
        assert!(s.reason.unwrap().contains("impact"));
        let s = severity(&r, &[], &QueryAnalysis::default());
        assert_eq!(s.value, "Medium");
    }

    #[test]
    fn indicators_raise_and_broad_hunting_queries_lower() {
        let r = rule(RuleKind::Hunting);
        let broad = severity(&r, &[tactic("discovery")], &QueryAnalysis::default());
        assert_eq!(broad.value, "Informational");
        let capped = severity(&r, &[tactic("impact")], &QueryAnalysis::default());
        assert_eq!(capped.value, "Low", "{:?}", capped.reason);
        let analysis = QueryAnalysis {
            indicators: vec![Indicator {
                kind: IndicatorKind::Ipv4,
                value: "203.0.113.9".into(),
                span: 0..1,
            }],
            ..QueryAnalysis::default()
        };
        let ioc = severity(&r, &[tactic("discovery")], &analysis);
        assert_eq!(ioc.value, "Medium");
        assert!(ioc.reason.unwrap().contains("1 literal indicator"));
        let filtered = QueryAnalysis {
            predicates: vec![Predicate {
                column: "FileName".into(),
                operator: "=~".into(),
                values: vec!["net.exe".into()],
                negated: false,
            }],
            ..QueryAnalysis::default()
        };
        assert_eq!(severity(&r, &[tactic("discovery")], &filtered).value, "Low");
        let e = severity(&rule(RuleKind::Exploration), &[tactic("impact")], &filtered);
        assert_eq!(e.value, "Informational");
    }
}
