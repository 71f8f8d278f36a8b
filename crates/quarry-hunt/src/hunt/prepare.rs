//! Deciding whether a rule can run on this workspace, and the query text that runs: parameters
//! filled from the hunt's values, time templates from the rule's pinned window.

use super::params::{is_required, kql_value};
use super::window::{parse_lookback, rule_window, RuleWindow};
use super::HuntOptions;
use quarry_engine::values::format_datetime;
use quarry_ingest::workspace::manifest::Manifest;
use quarry_rules::catalog::RuleRecord;
use quarry_rules::enrich::BindStatus;
use quarry_rules::parameters::fill_parameters;
use serde::Serialize;

/// Why a rule did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum SkipReason {
    /// The workspace has no such table (or no schema describes it).
    MissingTable {
        /// The table.
        table: String,
    },
    /// A parameter has no value.
    MissingParameter {
        /// The parameter's name.
        name: String,
        /// Its placeholder in the query.
        placeholder: String,
    },
    /// The query uses a feature Quarry does not support yet.
    Unsupported {
        /// The feature.
        feature: String,
        /// Where in the query, when known.
        span: Option<(usize, usize)>,
    },
    /// The query reads no table (nothing to hunt in).
    NoTable,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::MissingTable { table } => write!(f, "missing table {table}"),
            SkipReason::MissingParameter { name, placeholder } => {
                write!(f, "missing parameter {name} (\"{placeholder}\")")
            }
            SkipReason::Unsupported {
                feature,
                span: Some((start, end)),
            } => {
                write!(f, "unsupported feature {feature} at {start}..{end}")
            }
            SkipReason::Unsupported {
                feature,
                span: None,
            } => write!(f, "unsupported feature {feature}"),
            SkipReason::NoTable => write!(f, "reads no table"),
        }
    }
}

impl SkipReason {
    /// The reason without its specifics, for counting (`missing table`).
    pub fn category(&self) -> &'static str {
        match self {
            SkipReason::MissingTable { .. } => "missing table",
            SkipReason::MissingParameter { .. } => "missing parameter",
            SkipReason::Unsupported { .. } => "unsupported feature",
            SkipReason::NoTable => "reads no table",
        }
    }
}

/// A rule ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The query with its parameters filled.
    pub query: String,
    /// Its window.
    pub window: RuleWindow,
}

/// Template variables that the window fills.
const START_TEMPLATES: &[&str] = &["StartTimeISO", "StartTime", "starttime"];
const END_TEMPLATES: &[&str] = &["EndTimeISO", "EndTime", "endtime"];

/// Decides whether `record` can run on the workspace described by `manifest`.
pub fn prepare(
    record: &RuleRecord,
    manifest: &Manifest,
    options: &HuntOptions,
) -> Result<Prepared, SkipReason> {
    let analysis = &record.analysis;
    if analysis.tables.is_empty() {
        return Err(SkipReason::NoTable);
    }
    // `union isfuzzy=true` tolerates missing tables, and so do the parsers (ASIM unions every
    // source fuzzily); everything else needs all of its tables.
    let fuzzy = record.rule.query.contains("isfuzzy=true")
        || record.rule.query.contains("isfuzzy = true")
        || !analysis.stored_functions.is_empty();
    let missing: Vec<&String> = analysis
        .tables
        .iter()
        .filter(|t| !manifest.tables.contains_key(*t))
        .collect();
    if (!fuzzy && !missing.is_empty()) || missing.len() == analysis.tables.len() {
        return Err(SkipReason::MissingTable {
            table: missing[0].clone(),
        });
    }
    if let BindStatus::Unsupported(feature) = &record.bind {
        return Err(SkipReason::Unsupported {
            feature: feature.clone(),
            span: None,
        });
    }
    let lookback = record
        .rule
        .query_period
        .as_deref()
        .and_then(parse_lookback)
        .or_else(|| {
            analysis
                .time_window
                .as_ref()
                .and_then(|w| w.lookback_seconds)
                .map(|s| s.saturating_mul(1_000_000_000))
        });
    let present: Vec<String> = analysis
        .tables
        .iter()
        .filter(|t| manifest.tables.contains_key(*t))
        .cloned()
        .collect();
    let window = rule_window(manifest, &present, lookback, options.window).ok_or_else(|| {
        SkipReason::MissingTable {
            table: present.first().cloned().unwrap_or_default(),
        }
    })?;
    let start_text = format_datetime(window.start, true);
    let end_text = format_datetime(window.now, true);
    let rule_id = record.rule.id.as_str();
    let mut missing_parameter = None;
    let query = fill_parameters(&record.rule.query, analysis, &|parameter| {
        let bare = parameter
            .placeholder
            .trim_start_matches("{{")
            .trim_end_matches("}}");
        if let Some(value) = options.values.value_for(rule_id, parameter) {
            return Some(kql_value(parameter, &value));
        }
        if START_TEMPLATES.contains(&bare) {
            return Some(start_text.clone());
        }
        if END_TEMPLATES.contains(&bare) {
            return Some(end_text.clone());
        }
        None
    });
    for parameter in &analysis.parameters {
        let bare = parameter
            .placeholder
            .trim_start_matches("{{")
            .trim_end_matches("}}");
        let filled_by_window = START_TEMPLATES.contains(&bare) || END_TEMPLATES.contains(&bare);
        if is_required(parameter)
            && !filled_by_window
            && options.values.value_for(rule_id, parameter).is_none()
        {
            missing_parameter.get_or_insert_with(|| SkipReason::MissingParameter {
                name: parameter.name.clone(),
                placeholder: parameter.placeholder.clone(),
            });
        }
    }
    if let Some(reason) = missing_parameter {
        return Err(reason);
    }
    Ok(Prepared { query, window })
}
