//! Hand-built rules for the unit tests of the enrichment files.

use crate::model::{Provenance, RequiredConnector, Rule, RuleKind};

/// A rule with nothing in it but its kind and a GUID.
pub(crate) fn rule(kind: RuleKind) -> Rule {
    Rule {
        id: "00000000-0000-4000-8000-000000000001".into(),
        name: "r".into(),
        description: String::new(),
        kind,
        severity: None,
        status: None,
        rule_type: None,
        tactics: vec![],
        techniques: vec![],
        required_connectors: vec![],
        query: String::new(),
        query_offset_in_file: 0,
        entity_mappings: vec![],
        query_frequency: None,
        query_period: None,
        trigger_operator: None,
        trigger_threshold: None,
        version: None,
        tags: vec![],
        provenance: Provenance::default(),
        raw: String::new(),
    }
}

/// A hunting rule declaring these connectors and data types.
pub(crate) fn rule_with_connectors(connectors: &[(&str, &[&str])]) -> Rule {
    let mut r = rule(RuleKind::Hunting);
    r.required_connectors = connectors
        .iter()
        .map(|(id, types)| RequiredConnector {
            connector_id: (*id).to_string(),
            data_types: types.iter().map(|t| (*t).to_string()).collect(),
        })
        .collect();
    r
}

/// A filter as the analysis reports it.
pub(crate) fn predicate(
    column: &str,
    operator: &str,
    values: &[&str],
    negated: bool,
) -> crate::analysis::Predicate {
    crate::analysis::Predicate {
        column: column.into(),
        operator: operator.into(),
        values: values.iter().map(|v| (*v).to_string()).collect(),
        negated,
    }
}
