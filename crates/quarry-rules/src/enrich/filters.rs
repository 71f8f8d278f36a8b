//! The filters of a query in words, for the hypothesis: grouped by column, alike filters merged,
//! placeholders read as "the IP you supply", long lists cut with a count of what was left out.

use super::text::{and_list, clip, describe_predicate};
use crate::analysis::{PlaceholderKind, QueryAnalysis};

/// Filters on more columns than this are summarised by count: the sentence must stay readable.
const MAX_FILTER_COLUMNS: usize = 6;
/// Values shown per filter.
const MAX_VALUES: usize = 4;
/// Differently worded filters shown per column.
const MAX_CONDITIONS: usize = 3;

/// What a placeholder stands for, in words.
pub(crate) fn semantic_words(semantic: Option<&str>) -> &'static str {
    match semantic {
        Some("ip") => "IP",
        Some("url") => "URL",
        Some("domain") => "domain",
        Some("host") => "host name",
        Some("file") => "file name",
        Some("account") => "account",
        Some("hash") => "hash",
        Some("process") => "process name",
        Some("time") => "time",
        _ => "value",
    }
}

/// The verb phrase of an operator, positive and negated.
fn operator_phrase(op: &str, values: usize) -> (&'static str, &'static str) {
    match op.trim_start_matches('!').to_ascii_lowercase().as_str() {
        "==" | "=~" | "=" => ("equals", "does not equal"),
        "in" | "in~" if values <= 1 => ("equals", "does not equal"),
        "in" | "in~" => ("is one of", "is not one of"),
        "has" | "has_cs" => ("has the term", "does not have the term"),
        "contains" | "contains_cs" => ("contains", "does not contain"),
        "startswith" | "startswith_cs" | "hasprefix" | "hasprefix_cs" => {
            ("starts with", "does not start with")
        }
        "endswith" | "endswith_cs" | "hassuffix" | "hassuffix_cs" => {
            ("ends with", "does not end with")
        }
        "has_any" => ("has any of", "has none of"),
        "has_all" => ("has all of", "does not have all of"),
        "matches regex" => ("matches the pattern", "does not match the pattern"),
        ">" => ("is above", "is not above"),
        ">=" => ("is at least", "is below"),
        "<" => ("is below", "is not below"),
        "<=" => ("is at most", "is above"),
        "between" => ("is between", "is not between"),
        _ => ("matches", "does not match"),
    }
}

/// Filters on one column that read the same way, merged: `has the term "a", "b" or "c"`.
struct Condition {
    verb: &'static str,
    /// `or` for alternatives, `and` for `has_all` and `between`.
    conjunction: &'static str,
    /// Exclusions and numeric bounds add up; alternatives are usually `or`-ed.
    bound: bool,
    values: Vec<String>,
}

impl Condition {
    fn render(&self) -> String {
        let total = self.values.len();
        let shown: Vec<&str> = self
            .values
            .iter()
            .take(MAX_VALUES)
            .map(String::as_str)
            .collect();
        let values = if total > MAX_VALUES {
            format!("{} and {} more", shown.join(", "), total - MAX_VALUES)
        } else {
            and_list(&shown, self.conjunction)
        };
        if values.is_empty() {
            self.verb.to_string()
        } else {
            format!("{} {values}", self.verb)
        }
    }
}

/// A value as words: a placeholder is "the IP you supply", a number stays bare, text is quoted.
fn value_phrase(value: &str, analysis: &QueryAnalysis) -> String {
    match placeholder_of(value, analysis) {
        Some(semantic) => format!("the {} you supply", semantic_words(semantic)),
        None if value.trim().parse::<f64>().is_ok() => value.trim().to_string(),
        None => format!("\"{}\"", clip(value, 40)),
    }
}

/// `Some(semantic)` when a value is a placeholder the user must fill in.
fn placeholder_of<'a>(value: &str, analysis: &'a QueryAnalysis) -> Option<Option<&'a str>> {
    analysis
        .parameters
        .iter()
        .find(|p| p.kind != PlaceholderKind::Template && p.placeholder.eq_ignore_ascii_case(value))
        .map(|p| p.semantic.as_deref())
}

/// The filters grouped by column, in query order: `FileOriginUrl equals the IP you supply or
/// contains the URL you supply; FileOriginReferrerUrl contains the URL you supply`.
pub(crate) fn filters(analysis: &QueryAnalysis, inputs: &mut Vec<String>) -> String {
    let mut columns: Vec<(&str, Vec<Condition>)> = Vec::new();
    for p in &analysis.predicates {
        push_unique(inputs, format!("filter {}", describe_predicate(p, 10)));
        let negated = p.negated || p.operator == "!=" || p.operator == "!~";
        let (positive, negative) = operator_phrase(&p.operator, p.values.len());
        let op = p.operator.to_ascii_lowercase();
        let conjunction = if op == "has_all" || op == "between" {
            "and"
        } else {
            "or"
        };
        let bound = negated || super::inference::is_threshold(p);
        let mut values: Vec<String> = Vec::new();
        for v in &p.values {
            let phrase = value_phrase(v, analysis);
            if !values.contains(&phrase) {
                values.push(phrase);
            }
        }
        let index = match columns.iter().position(|(c, _)| *c == p.column) {
            Some(i) => i,
            None => {
                columns.push((p.column.as_str(), Vec::new()));
                columns.len() - 1
            }
        };
        let verb = if negated { negative } else { positive };
        let conditions = &mut columns[index].1;
        let mergeable = conjunction == "or";
        match conditions
            .iter_mut()
            .find(|c| mergeable && c.verb == verb && c.conjunction == "or" && c.bound == bound)
        {
            Some(existing) => {
                for v in values {
                    if !existing.values.contains(&v) {
                        existing.values.push(v);
                    }
                }
            }
            None => conditions.push(Condition {
                verb,
                conjunction,
                bound,
                values,
            }),
        }
    }
    let mut parts: Vec<String> = columns
        .iter()
        .take(MAX_FILTER_COLUMNS)
        .map(|(column, conditions)| {
            let shown: Vec<&Condition> = conditions.iter().take(MAX_CONDITIONS).collect();
            let alternatives: Vec<String> = shown
                .iter()
                .filter(|c| !c.bound)
                .map(|c| c.render())
                .collect();
            let bounds: Vec<String> = shown
                .iter()
                .filter(|c| c.bound)
                .map(|c| c.render())
                .collect();
            let mut text = Vec::new();
            if !alternatives.is_empty() {
                text.push(alternatives.join(" or "));
            }
            if !bounds.is_empty() {
                text.push(and_list(&bounds, "and"));
            }
            let mut line = format!("{column} {}", text.join(" and "));
            if conditions.len() > MAX_CONDITIONS {
                let more = conditions.len() - MAX_CONDITIONS;
                line.push_str(&format!(" (and {more} more condition{})", plural(more)));
            }
            line
        })
        .collect();
    if columns.len() > MAX_FILTER_COLUMNS {
        let rest: Vec<&str> = columns[MAX_FILTER_COLUMNS..]
            .iter()
            .map(|(c, _)| *c)
            .collect();
        parts.push(format!("further filters on {}", and_list(&rest, "and")));
    }
    parts.join("; ")
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::test_support::predicate;

    #[test]
    fn filters_that_read_alike_merge_and_long_lists_are_cut() {
        let terms = ["a", "b", "c", "d", "e", "f"];
        let mut predicates: Vec<_> = terms
            .iter()
            .map(|t| predicate("CommandLine", "has", &[t], false))
            .collect();
        predicates.push(predicate("CommandLine", "has_all", &["x", "y"], false));
        predicates.push(predicate("CommandLine", "startswith", &["s"], false));
        predicates.push(predicate("CommandLine", "endswith", &["e"], false));
        predicates.push(predicate("Path", "startswith", &["C:\\"], true));
        let analysis = QueryAnalysis {
            predicates,
            ..QueryAnalysis::default()
        };
        let mut inputs = Vec::new();
        assert_eq!(
            filters(&analysis, &mut inputs),
            "CommandLine has the term \"a\", \"b\", \"c\", \"d\" and 2 more or has all of \"x\" \
             and \"y\" or starts with \"s\" (and 1 more condition); Path does not start with \
             \"C:\\\""
        );
        assert_eq!(inputs.len(), 10);
    }
}
