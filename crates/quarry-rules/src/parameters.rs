//! Filling a rule's parameters: the query text with each placeholder replaced by a value, either
//! the user's or a neutral value of the parameter's type (to check everything else about a rule
//! that waits for input).

use crate::analysis::{PlaceholderKind, QueryAnalysis, QueryParameter};

/// A neutral value of a parameter's type as KQL literal content (no quotes), or `None` for an
/// empty list (which already binds as it is).
pub fn neutral_value(parameter: &QueryParameter) -> Option<String> {
    if parameter.kind == PlaceholderKind::EmptyList {
        return None;
    }
    Some(
        match parameter.value_type.as_str() {
            "datetime" => "2000-01-01T00:00:00Z",
            "long" | "int" | "real" | "double" | "decimal" => "0",
            _ => "quarry-parameter",
        }
        .to_string(),
    )
}

/// The query with each parameter that `value_of` gives a value replaced by it. A span that
/// covers a quoted literal keeps its quotes around the value (the value is escaped for them);
/// a bare span gets the value as it is.
pub fn fill_parameters(
    query: &str,
    analysis: &QueryAnalysis,
    value_of: &dyn Fn(&QueryParameter) -> Option<String>,
) -> String {
    let mut edits: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    for parameter in &analysis.parameters {
        let Some(value) = value_of(parameter) else {
            continue;
        };
        for span in &parameter.spans {
            let Some(text) = query.get(span.clone()) else {
                continue;
            };
            let replacement = match text.chars().next() {
                Some(quote @ ('"' | '\'')) if text.len() >= 2 && text.ends_with(quote) => {
                    let escaped = value
                        .replace('\\', "\\\\")
                        .replace(quote, &format!("\\{quote}"));
                    format!("{quote}{escaped}{quote}")
                }
                _ => value.clone(),
            };
            edits.push((span.clone(), replacement));
        }
    }
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut out = query.to_string();
    let mut last_start = usize::MAX;
    for (span, replacement) in edits {
        // Overlapping spans (a template inside a placeholder literal) are edited once.
        if span.end > last_start
            || !out.is_char_boundary(span.start)
            || !out.is_char_boundary(span.end)
        {
            continue;
        }
        out.replace_range(span.clone(), &replacement);
        last_start = span.start;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(
        kind: PlaceholderKind,
        value_type: &str,
        spans: Vec<std::ops::Range<usize>>,
    ) -> QueryParameter {
        QueryParameter {
            name: "p".into(),
            placeholder: "p".into(),
            kind,
            value_type: value_type.into(),
            semantic: None,
            spans,
        }
    }

    #[test]
    fn placeholders_take_values_inside_their_quotes() {
        let query = "T | where A == \"IP GOES HERE\" and B > todatetime('{{StartTimeISO}}')";
        let start = query.find('"').unwrap();
        let end = query[start + 1..].find('"').unwrap() + start + 2;
        let t = query.find("{{").unwrap();
        let analysis = QueryAnalysis {
            parameters: vec![
                parameter(
                    PlaceholderKind::FillIn,
                    "string",
                    std::iter::once(start..end).collect(),
                ),
                parameter(
                    PlaceholderKind::Template,
                    "datetime",
                    std::iter::once(t..t + 16).collect(),
                ),
            ],
            ..QueryAnalysis::default()
        };
        assert_eq!(
            fill_parameters(query, &analysis, &neutral_value),
            "T | where A == \"quarry-parameter\" and B > todatetime('2000-01-01T00:00:00Z')"
        );
        let quoted = fill_parameters(query, &analysis, &|p| {
            (p.kind == PlaceholderKind::FillIn).then(|| "a\"b".to_string())
        });
        assert!(quoted.contains(r#"A == "a\"b""#), "{quoted}");
        assert!(quoted.contains("{{StartTimeISO}}"));
    }
}
