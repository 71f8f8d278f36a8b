//! Static analysis of a rule's KQL, from its syntax tree: what it reads, what it filters on, what
//! the user must fill in, which indicators it names.
//!
//! One walk of the tree (`walk`, `operators`, `expressions`, with `scope` for names, `sources`
//! for stored functions and `predicates` for filters) records `facts`; `parameters`,
//! `indicators` and `time_window` then read those facts and the query text.

mod expressions;
mod facts;
mod indicators;
mod operators;
mod parameters;
mod predicates;
mod scope;
mod semantic;
mod sources;
mod time_window;
mod walk;

use crate::model::FunctionLibrary;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// What a query does, read from its syntax tree (no schemas, no execution).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryAnalysis {
    /// Tables read, resolved through `let`, `union`, `join`, `lookup` and stored functions;
    /// sorted, unique.
    pub tables: Vec<String>,
    /// Names called as tabular sources that are neither tables nor `let`-defined: parsers and
    /// stored functions (`imProcessCreate`, `_GetWatchlist`); sorted, unique.
    pub stored_functions: Vec<String>,
    /// Column names referenced; sorted, unique.
    pub columns: Vec<String>,
    /// Tabular operators used (`where`, `summarize`, `join`, `mv-expand`, …); sorted, unique.
    pub operators: Vec<String>,
    /// Scalar and aggregate functions called; sorted, unique.
    pub functions: Vec<String>,
    /// The time window the query looks at, when it has one.
    pub time_window: Option<TimeWindow>,
    /// Values the user must supply.
    pub parameters: Vec<QueryParameter>,
    /// Literal indicators in the query.
    pub indicators: Vec<Indicator>,
    /// Filters on columns with literal values (`where ActionType == "X"`), in query order.
    pub predicates: Vec<Predicate>,
    /// Syntax problems, with spans in the query text.
    pub diagnostics: Vec<QueryDiagnostic>,
}

/// The time window of a query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    /// How far back the query looks, in seconds, when that is a constant (`ago(14d)` → 1,209,600).
    pub lookback_seconds: Option<i64>,
    /// Whether the window comes from `{{StartTimeISO}}`/`{{EndTimeISO}}` templates.
    pub templated: bool,
    /// The text that sets it (`ago(14d)`, `{{StartTimeISO}}`).
    pub text: String,
    /// Where that text is in the query.
    pub span: Range<usize>,
}

/// How a parameter shows itself in the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlaceholderKind {
    /// A string the author meant to be replaced (`"IP ADDRESS GOES HERE"`, `"<domain>"`,
    /// `"Enter the domain here"`).
    FillIn,
    /// An empty list the user must fill (`dynamic([])`, `datatable(x:string)[]` used as a filter).
    EmptyList,
    /// A `{{Name}}` template variable (`{{StartTimeISO}}`).
    Template,
}

/// A value the user must supply before the query means anything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryParameter {
    /// A name for it: the `let` name when it is bound by `let`, else derived from the text
    /// (`"IP ADDRESS GOES HERE"` → `ip_address`).
    pub name: String,
    /// The placeholder as written in the query, without quotes (`IP ADDRESS GOES HERE`).
    pub placeholder: String,
    /// How it shows itself.
    pub kind: PlaceholderKind,
    /// The Kusto type the value must have (`string`, `datetime`, `dynamic`, …).
    pub value_type: String,
    /// What the value denotes when it can be told (`ip`, `url`, `domain`, `host`, `file`,
    /// `account`, `hash`, `process`, `time`).
    pub semantic: Option<String>,
    /// Every place it occurs in the query (the literal including its quotes).
    pub spans: Vec<Range<usize>>,
}

/// The kind of a literal indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    /// An IPv4 address or CIDR range.
    Ipv4,
    /// An IPv6 address or range.
    Ipv6,
    /// A domain name.
    Domain,
    /// A URL.
    Url,
    /// An MD5 hash.
    Md5,
    /// A SHA-1 hash.
    Sha1,
    /// A SHA-256 hash.
    Sha256,
    /// An e-mail address.
    Email,
}

/// A literal indicator found in the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// What it is.
    pub kind: IndicatorKind,
    /// The value as written.
    pub value: String,
    /// Where it is in the query.
    pub span: Range<usize>,
}

/// A filter on a column with literal values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predicate {
    /// The column filtered.
    pub column: String,
    /// The operator as written (`==`, `has`, `contains`, `in~`, `startswith`, `matches regex`, …).
    pub operator: String,
    /// The literal values (resolved through `let` when they are `let`-bound literals).
    pub values: Vec<String>,
    /// Whether the filter is negated (`!=`, `!has`, `!in`, `not(...)`).
    pub negated: bool,
}

/// A problem found in the query text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryDiagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
    /// Where, in the query text.
    pub span: Range<usize>,
}

/// Analyses a KQL query; names called as tabular sources are looked up in `functions` (parsers,
/// stored functions) and the tables their bodies read count as read by the query.
///
/// Never fails: a query with syntax errors is analysed as far as its tree goes, and the errors
/// are in [`QueryAnalysis::diagnostics`].
pub fn analyse(query: &str, functions: &FunctionLibrary) -> QueryAnalysis {
    let parsed = quarry_kql::parse(query);
    let mut memo = sources::Memo::default();
    let facts = {
        let mut walker = walk::Walker::new(query, functions, &mut memo);
        walker.statements(&parsed.query.statements);
        walker.into_facts()
    };
    let (parameters, time_template) = parameters::find(query, &facts);
    let time_window = time_window::choose(&facts.lookbacks, time_template.as_ref());
    let indicators = indicators::find(query, &facts);
    let mut predicates = facts.predicates;
    predicates.sort_by_key(|(start, _)| *start);
    QueryAnalysis {
        tables: facts.tables.into_iter().collect(),
        stored_functions: facts.stored_functions.into_iter().collect(),
        columns: facts.columns.into_iter().collect(),
        operators: facts.operators.into_iter().collect(),
        functions: facts.functions.into_iter().collect(),
        time_window,
        parameters,
        indicators,
        predicates: predicates.into_iter().map(|(_, p)| p).collect(),
        diagnostics: parsed
            .diagnostics
            .iter()
            .map(|d| QueryDiagnostic {
                severity: match d.severity {
                    quarry_kql::Severity::Error => "error",
                    quarry_kql::Severity::Warning => "warning",
                }
                .to_string(),
                message: d.message.clone(),
                span: d.span.start..d.span.end,
            })
            .collect(),
    }
}
