//! Running rules in a session and saying, per rule, whether it fired.

use quarry_engine::{QueryOutput, Session};
use quarry_ingest::Workspace;

use crate::rule::RunnableRule;

/// How one rule's run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleStatus {
    /// The query returned this many rows.
    Hits(usize),
    /// The query returned nothing.
    NoHits,
    /// The query failed (syntax, binding, execution), with the message.
    Error(String),
}

/// One rule's outcome, with its result when it ran.
#[derive(Debug)]
pub struct RuleOutcome {
    /// The rule.
    pub rule: RunnableRule,
    /// How it ended.
    pub status: RuleStatus,
    /// The result rows when it ran.
    pub output: Option<QueryOutput>,
    /// Wall time of the run.
    pub elapsed: std::time::Duration,
}

/// Runs every rule in `session`, one after another.
pub async fn run_rules(session: &Session, rules: &[RunnableRule]) -> Vec<RuleOutcome> {
    let mut outcomes = Vec::with_capacity(rules.len());
    for rule in rules {
        let started = std::time::Instant::now();
        let (status, output) = match session.run(&rule.query).await {
            Ok(output) => {
                let rows = output.row_count();
                let status = if rows == 0 {
                    RuleStatus::NoHits
                } else {
                    RuleStatus::Hits(rows)
                };
                (status, Some(output))
            }
            Err(error) => (RuleStatus::Error(error.to_string()), None),
        };
        outcomes.push(RuleOutcome {
            rule: rule.clone(),
            status,
            output,
            elapsed: started.elapsed(),
        });
    }
    outcomes
}

/// The latest time in the workspace (over every table's time columns), which a hunt over
/// exported data uses as `now()`.
pub fn latest_time(workspace: &Workspace) -> Option<i64> {
    workspace
        .manifest()
        .tables
        .values()
        .filter_map(|entry| {
            ["TimeGenerated", "Timestamp"]
                .iter()
                .filter_map(|column| entry.time_range(column).map(|(_, last)| last))
                .max()
        })
        .max()
}
