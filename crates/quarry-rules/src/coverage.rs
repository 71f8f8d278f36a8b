//! ATT&CK coverage of a catalog: how many rules cover each technique, how many of them can run on
//! the workspace, and how many fired; as a matrix (tactics × techniques) and as an ATT&CK
//! Navigator layer (format 4.5).

use crate::attack::{Attack, ATTACK_COPYRIGHT};
use crate::catalog::RuleSummary;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One technique under one tactic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageCell {
    /// Technique id (a parent technique; sub-technique rules count toward their parent).
    pub technique: String,
    /// Its name.
    pub name: String,
    /// Rules that cover it (directly or through a sub-technique).
    pub rules: usize,
    /// Of those, rules runnable on the workspace.
    pub runnable: usize,
    /// Of those, rules that fired in a hunt.
    pub fired: usize,
    /// The covering rules' ids.
    pub rule_ids: Vec<String>,
}

/// One tactic column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageColumn {
    /// `TA0006`.
    pub tactic_id: String,
    /// `credential-access`.
    pub shortname: String,
    /// `Credential Access`.
    pub name: String,
    /// Active techniques of the tactic.
    pub techniques: usize,
    /// Its covered techniques, most rules first.
    pub covered: Vec<CoverageCell>,
}

/// The coverage matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// ATT&CK version.
    pub attack_version: String,
    /// The tactics in matrix order.
    pub columns: Vec<CoverageColumn>,
    /// Rules with at least one technique.
    pub rules_with_techniques: usize,
    /// Rules considered.
    pub rules: usize,
    /// Distinct techniques covered.
    pub techniques_covered: usize,
    /// Distinct techniques covered by a runnable rule.
    pub techniques_runnable: usize,
    /// The copyright line ATT&CK's terms require.
    pub attribution: String,
}

/// Builds the matrix. `runnable_on` is the workspace's tables (none: no rule is runnable);
/// `fired` holds the ids of rules that fired.
pub fn coverage(
    rules: &[RuleSummary],
    runnable_on: Option<&BTreeSet<String>>,
    fired: &BTreeSet<String>,
) -> Coverage {
    let attack = Attack::embedded();
    // (tactic shortname, parent technique) → cell
    let mut cells: BTreeMap<(String, String), CoverageCell> = BTreeMap::new();
    let mut with_techniques = 0;
    for rule in rules {
        let runnable = runnable_on.is_some_and(|tables| rule.runnable_on(tables));
        let did_fire = fired.contains(&rule.id);
        let mut parents: BTreeSet<&str> = BTreeSet::new();
        for technique in &rule.techniques {
            let parent = technique.split('.').next().unwrap_or(technique);
            parents.insert(parent);
        }
        if !parents.is_empty() {
            with_techniques += 1;
        }
        for parent in parents {
            let Some(entry) = attack.technique(parent) else {
                continue;
            };
            // A revoked id counts toward its replacement.
            let entry = match (&entry.revoked_by, entry.revoked) {
                (Some(by), true) => attack.technique(by).unwrap_or(entry),
                _ => entry,
            };
            let entry_parent = entry
                .subtechnique_of
                .as_deref()
                .and_then(|p| attack.technique(p))
                .unwrap_or(entry);
            // Rules name tactics too, but the matrix places a technique under ATT&CK's tactics.
            for tactic in &entry_parent.tactics {
                let cell = cells
                    .entry((tactic.clone(), entry_parent.id.clone()))
                    .or_insert_with(|| CoverageCell {
                        technique: entry_parent.id.clone(),
                        name: entry_parent.name.clone(),
                        rules: 0,
                        runnable: 0,
                        fired: 0,
                        rule_ids: Vec::new(),
                    });
                if !cell.rule_ids.contains(&rule.id) {
                    cell.rules += 1;
                    cell.runnable += usize::from(runnable);
                    cell.fired += usize::from(did_fire);
                    cell.rule_ids.push(rule.id.clone());
                }
            }
        }
    }
    let mut covered_all = BTreeSet::new();
    let mut covered_runnable = BTreeSet::new();
    let columns = attack
        .tactics()
        .iter()
        .map(|tactic| {
            let mut covered: Vec<CoverageCell> = cells
                .iter()
                .filter(|((t, _), _)| *t == tactic.shortname)
                .map(|(_, cell)| cell.clone())
                .collect();
            covered.sort_by(|a, b| b.rules.cmp(&a.rules).then(a.technique.cmp(&b.technique)));
            for cell in &covered {
                covered_all.insert(cell.technique.clone());
                if cell.runnable > 0 {
                    covered_runnable.insert(cell.technique.clone());
                }
            }
            CoverageColumn {
                tactic_id: tactic.id.clone(),
                shortname: tactic.shortname.clone(),
                name: tactic.name.clone(),
                techniques: attack.techniques_of_tactic(&tactic.shortname).count(),
                covered,
            }
        })
        .collect();
    Coverage {
        attack_version: attack.version.clone(),
        columns,
        rules_with_techniques: with_techniques,
        rules: rules.len(),
        techniques_covered: covered_all.len(),
        techniques_runnable: covered_runnable.len(),
        attribution: ATTACK_COPYRIGHT.to_string(),
    }
}

/// Colour of techniques whose rules cannot run on the workspace (no data).
const NO_DATA_COLOUR: &str = "#f6c26b";

/// An ATT&CK Navigator layer (format 4.5): score = number of rules; techniques whose rules
/// cannot run on the workspace are coloured apart, and each technique lists its rule counts.
pub fn navigator_layer(coverage: &Coverage, name: &str) -> Value {
    let max = coverage
        .columns
        .iter()
        .flat_map(|c| c.covered.iter().map(|cell| cell.rules))
        .max()
        .unwrap_or(1);
    let techniques: Vec<Value> = coverage
        .columns
        .iter()
        .flat_map(|column| {
            column.covered.iter().map(move |cell| {
                let mut technique = json!({
                    "techniqueID": cell.technique,
                    "tactic": column.shortname,
                    "score": cell.rules,
                    "enabled": true,
                    "showSubtechniques": false,
                    "comment": format!(
                        "{} rules, {} runnable on this workspace, {} fired",
                        cell.rules, cell.runnable, cell.fired
                    ),
                    "metadata": [
                        {"name": "rules", "value": cell.rules.to_string()},
                        {"name": "runnable", "value": cell.runnable.to_string()},
                        {"name": "fired", "value": cell.fired.to_string()},
                    ],
                });
                if cell.runnable == 0 {
                    technique["color"] = json!(NO_DATA_COLOUR);
                }
                technique
            })
        })
        .collect();
    json!({
        "name": name,
        "versions": {"attack": coverage.attack_version.split('.').next().unwrap_or("18"), "navigator": "5.1.0", "layer": "4.5"},
        "domain": "enterprise-attack",
        "description": format!(
            "Quarry rule coverage: {} techniques covered by {} rules; {} covered by rules runnable on this workspace. {}",
            coverage.techniques_covered, coverage.rules_with_techniques, coverage.techniques_runnable, coverage.attribution
        ),
        "sorting": 3,
        "layout": {"layout": "side", "showID": true, "showName": true, "aggregateFunction": "max"},
        "hideDisabled": false,
        "techniques": techniques,
        "gradient": {"colors": ["#dff0d8", "#2e7d32"], "minValue": 0, "maxValue": max},
        "legendItems": [
            {"label": "rules runnable on this workspace (shade: number of rules)", "color": "#2e7d32"},
            {"label": "rules exist, but the workspace lacks their data", "color": NO_DATA_COLOUR},
        ],
        "selectTechniquesAcrossTactics": true,
        "selectSubtechniquesWithParent": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, techniques: &[&str], tables: &[&str]) -> RuleSummary {
        RuleSummary {
            pk: 0,
            id: id.into(),
            name: id.into(),
            kind: "hunting".into(),
            severity: "Medium".into(),
            severity_inferred: false,
            confidence: 50,
            parameters: 0,
            bind_status: "ok".into(),
            tables: tables.iter().map(|t| t.to_string()).collect(),
            functions: vec![],
            tactics: vec![],
            techniques: techniques.iter().map(|t| t.to_string()).collect(),
            tags: vec![],
            source: "s".into(),
            path: id.into(),
            revision: 1,
            removed_at: None,
        }
    }

    #[test]
    fn sub_techniques_count_toward_parents_under_every_tactic() {
        let rules = [
            rule("a", &["T1003.001"], &["DeviceProcessEvents"]),
            rule("b", &["T1003", "T1003.002"], &["SecurityEvent"]),
            rule("c", &["T1078"], &["SigninLogs"]),
            rule("d", &[], &["SigninLogs"]),
        ];
        let tables: BTreeSet<String> = ["DeviceProcessEvents".to_string()].into();
        let fired: BTreeSet<String> = ["a".to_string()].into();
        let matrix = coverage(&rules, Some(&tables), &fired);
        let credential = matrix
            .columns
            .iter()
            .find(|c| c.tactic_id == "TA0006")
            .unwrap();
        let cell = credential
            .covered
            .iter()
            .find(|c| c.technique == "T1003")
            .unwrap();
        assert_eq!((cell.rules, cell.runnable, cell.fired), (2, 1, 1));
        // T1078 Valid Accounts sits under four tactics.
        let valid_accounts = matrix
            .columns
            .iter()
            .filter(|c| c.covered.iter().any(|cell| cell.technique == "T1078"))
            .count();
        assert_eq!(valid_accounts, 4);
        assert_eq!(matrix.rules_with_techniques, 3);
        assert_eq!(matrix.techniques_covered, 2);
        assert_eq!(matrix.techniques_runnable, 1);
        let layer = navigator_layer(&matrix, "test");
        assert_eq!(layer["versions"]["layer"], "4.5");
        let entries = layer["techniques"].as_array().unwrap();
        let t1078 = entries
            .iter()
            .find(|t| t["techniqueID"] == "T1078")
            .unwrap();
        assert_eq!(t1078["color"], NO_DATA_COLOUR);
        assert!(entries
            .iter()
            .any(|t| t["techniqueID"] == "T1003" && t.get("color").is_none()));
    }
}
