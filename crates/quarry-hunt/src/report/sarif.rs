//! SARIF 2.1.0 output of a hunt: one SARIF rule per catalog rule that ran, one result per
//! finding, with the host or account as a logical location and the finding's fingerprint.

use crate::hunt::{HuntStatus, RuleRun};
use quarry_rules::catalog::sha256_hex;
use serde_json::{json, Value};

/// SARIF level and `security-severity` of a rule severity.
fn level(severity: &str) -> (&'static str, &'static str) {
    match severity.to_ascii_lowercase().as_str() {
        "high" | "critical" => ("error", "8.0"),
        "medium" => ("warning", "5.5"),
        "low" => ("note", "3.0"),
        _ => ("note", "1.0"),
    }
}

/// The SARIF log of a hunt.
pub fn sarif(runs: &[RuleRun], started_at: &str, finished_at: &str) -> Value {
    let ran: Vec<&RuleRun> = runs
        .iter()
        .filter(|r| matches!(r.status, HuntStatus::Hits(_) | HuntStatus::NoHits))
        .collect();
    let rules: Vec<Value> = ran
        .iter()
        .map(|run| {
            let (level, security) = level(&run.severity);
            let mut tags: Vec<String> = run.tactics.clone();
            tags.extend(run.techniques.iter().cloned());
            json!({
                "id": run.rule_id,
                "name": run.name,
                "shortDescription": {"text": run.name},
                "defaultConfiguration": {"level": level},
                "properties": {"tags": tags, "security-severity": security, "path": run.path},
            })
        })
        .collect();
    let mut results = Vec::new();
    for (index, run) in ran.iter().enumerate() {
        let (level, _) = level(&run.severity);
        for finding in &run.findings {
            let locations: Vec<Value> = finding
                .entities
                .iter()
                .filter(|e| matches!(e.entity_type.as_str(), "Host" | "Account" | "IP"))
                .map(|e| json!({"logicalLocations": [{"name": e.value, "kind": e.entity_type.to_ascii_lowercase()}]}))
                .collect();
            let entities: Vec<String> = finding
                .entities
                .iter()
                .map(|e| format!("{} {}", e.entity_type, e.value))
                .collect();
            let message = if entities.is_empty() {
                format!("{} matched", run.name)
            } else {
                format!("{} matched: {}", run.name, entities.join(", "))
            };
            let row = serde_json::to_string(&finding.row).unwrap_or_default();
            results.push(json!({
                "ruleId": run.rule_id,
                "ruleIndex": index,
                "level": level,
                "message": {"text": message},
                "locations": locations,
                "partialFingerprints": {"quarryFinding/v1": sha256_hex(format!("{}\n{row}", run.path).as_bytes())},
                "properties": {"row": finding.row, "eventTime": finding.event_time},
            }));
        }
    }
    json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {
                "name": "Quarry",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/quarry",
                "rules": rules,
            }},
            "invocations": [{"executionSuccessful": true, "startTimeUtc": started_at, "endTimeUtc": finished_at}],
            "results": results,
        }],
    })
}
