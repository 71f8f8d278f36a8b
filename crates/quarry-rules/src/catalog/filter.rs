//! The listing filter and sort applied to summaries already in memory (a server that keeps the
//! catalog's listing cached filters it per request without a database round trip). The rules are
//! those of [`Catalog::list`](super::Catalog::list); a test checks that both agree.

use super::read::{RuleFilter, RuleSort, RuleSummary};
use crate::attack::Attack;

/// Rank of a severity for sorting: high first, unknown last.
fn severity_rank(severity: &str) -> u8 {
    match severity.to_ascii_lowercase().as_str() {
        "high" | "critical" => 0,
        "medium" => 1,
        "low" => 2,
        "informational" => 3,
        _ => 4,
    }
}

/// Facet values compare case-insensitively (`COLLATE NOCASE` in the catalog).
fn contains_nocase(values: &[String], wanted: &str) -> bool {
    values.iter().any(|v| v.eq_ignore_ascii_case(wanted))
}

impl RuleFilter {
    /// Whether `summary` passes this filter (the same test [`Catalog::list`](super::Catalog::list)
    /// makes in SQL).
    pub fn matches(&self, summary: &RuleSummary) -> bool {
        if !self.include_removed && summary.removed_at.is_some() {
            return false;
        }
        if let Some(source) = &self.source {
            // SQL `LIKE` is case-insensitive for ASCII.
            if !summary
                .source
                .to_ascii_lowercase()
                .contains(&source.to_ascii_lowercase())
            {
                return false;
            }
        }
        if self.kind.is_some_and(|kind| summary.kind != kind.as_str()) {
            return false;
        }
        if let Some(severity) = &self.severity {
            if !summary.severity.eq_ignore_ascii_case(severity) {
                return false;
            }
        }
        if let Some(has) = self.has_parameters {
            if (summary.parameters > 0) != has {
                return false;
            }
        }
        if let Some(table) = &self.table {
            if !contains_nocase(&summary.tables, table) {
                return false;
            }
        }
        if let Some(tactic) = &self.tactic {
            let shortname = Attack::embedded()
                .tactic(tactic)
                .map_or_else(|| tactic.clone(), |t| t.shortname.clone());
            if !contains_nocase(&summary.tactics, &shortname) {
                return false;
            }
        }
        if let Some(technique) = &self.technique {
            let wanted = technique.trim().to_ascii_uppercase();
            let sub = format!("{wanted}.");
            if !summary
                .techniques
                .iter()
                .map(|t| t.to_ascii_uppercase())
                .any(|t| t == wanted || t.starts_with(&sub))
            {
                return false;
            }
        }
        if let Some(tag) = &self.tag {
            if !contains_nocase(&summary.tags, tag) {
                return false;
            }
        }
        if let Some(tables) = &self.runnable_on {
            if !summary.runnable_on(tables) {
                return false;
            }
        }
        true
    }
}

impl RuleSort {
    /// Sorts `summaries` in this order.
    pub fn apply(self, summaries: &mut [RuleSummary]) {
        let by_name =
            |a: &RuleSummary, b: &RuleSummary| a.name.to_lowercase().cmp(&b.name.to_lowercase());
        match self {
            RuleSort::Name => summaries.sort_by(|a, b| by_name(a, b).then(a.path.cmp(&b.path))),
            RuleSort::Severity => summaries.sort_by(|a, b| {
                severity_rank(&a.severity)
                    .cmp(&severity_rank(&b.severity))
                    .then(by_name(a, b))
            }),
            RuleSort::Confidence => {
                summaries.sort_by(|a, b| b.confidence.cmp(&a.confidence).then(by_name(a, b)))
            }
            RuleSort::Kind => summaries.sort_by(|a, b| a.kind.cmp(&b.kind).then(by_name(a, b))),
            RuleSort::Path => {
                summaries.sort_by(|a, b| a.source.cmp(&b.source).then(a.path.cmp(&b.path)))
            }
        }
    }
}
