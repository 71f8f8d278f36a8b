//! A rule ready to run: its descriptive fields and its query, with placeholders filled.

use quarry_rules::sentinel::{read_rule_header, read_rule_query, RuleHeader};

/// A rule and the query text that runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnableRule {
    /// Where the rule came from (a file name).
    pub source: String,
    /// Its descriptive fields.
    pub header: RuleHeader,
    /// The query, placeholders filled.
    pub query: String,
}

/// Reads an Azure-Sentinel rule from `text` and fills its placeholders with `values`
/// (`(placeholder text, value)`, replaced wherever the text occurs in the query).
pub fn load_rule(
    source: &str,
    text: &str,
    values: &[(&str, &str)],
) -> Result<RunnableRule, String> {
    let header = read_rule_header(text).map_err(|e| format!("{source}: {e}"))?;
    let query = read_rule_query(text)
        .map_err(|e| format!("{source}: {e}"))?
        .ok_or_else(|| format!("{source}: the rule has no query"))?;
    let mut query = query.text;
    for (placeholder, value) in values {
        query = query.replace(placeholder, value);
    }
    Ok(RunnableRule {
        source: source.to_string(),
        header,
        query,
    })
}
