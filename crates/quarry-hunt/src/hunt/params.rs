//! Parameter values for a hunt: from `--param name=value`, from a parameters file, per rule or
//! for every rule; and how one rule's parameters are resolved against them.

use quarry_rules::analysis::{PlaceholderKind, QueryParameter};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The values a hunt was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParameterValues {
    /// For every rule: parameter name (or placeholder text, or semantic such as `ip`) → value.
    pub global: BTreeMap<String, String>,
    /// For one rule (by upstream id): parameter name or placeholder text → value.
    pub per_rule: BTreeMap<String, BTreeMap<String, String>>,
}

/// Why a parameters file or option could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParameterError {
    /// `--param` without `=`.
    #[error("--param {0}: expected NAME=VALUE")]
    Malformed(String),
    /// The file could not be read.
    #[error("cannot read the parameters file {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong (with line and column for YAML).
        message: String,
    },
}

#[derive(Deserialize)]
struct ParametersFile {
    #[serde(default)]
    parameters: BTreeMap<String, ScalarOrList>,
    #[serde(default)]
    rules: BTreeMap<String, BTreeMap<String, ScalarOrList>>,
}

/// A value in the file: a scalar, or a list (for list parameters).
#[derive(Deserialize)]
#[serde(untagged)]
enum ScalarOrList {
    Text(String),
    Number(f64),
    Bool(bool),
    List(Vec<String>),
}

impl ScalarOrList {
    fn into_text(self) -> String {
        match self {
            ScalarOrList::Text(t) => t,
            ScalarOrList::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                format!("{}", n as i64)
            }
            ScalarOrList::Number(n) => n.to_string(),
            ScalarOrList::Bool(b) => b.to_string(),
            ScalarOrList::List(items) => items.join(","),
        }
    }
}

impl ParameterValues {
    /// Adds `--param NAME=VALUE` options.
    pub fn add_options(&mut self, options: &[String]) -> Result<(), ParameterError> {
        for option in options {
            let (name, value) = option
                .split_once('=')
                .ok_or_else(|| ParameterError::Malformed(option.clone()))?;
            self.global
                .insert(name.trim().to_string(), value.to_string());
        }
        Ok(())
    }

    /// Reads a YAML or JSON parameters file:
    ///
    /// ```yaml
    /// parameters:            # for every rule
    ///   ip: 203.0.113.7
    /// rules:                 # for one rule, by id
    ///   44b02f8c-d206-4e1a-9859-6aa06b80c346:
    ///     url: evil.example
    /// ```
    pub fn add_file(&mut self, path: &Path) -> Result<(), ParameterError> {
        let file_error = |message: String| ParameterError::File {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        let file: ParametersFile = serde_saphyr::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| file_error(e.to_string()))?;
        for (name, value) in file.parameters {
            self.global.insert(name, value.into_text());
        }
        for (rule, values) in file.rules {
            let entry = self.per_rule.entry(rule).or_default();
            for (name, value) in values {
                entry.insert(name, value.into_text());
            }
        }
        Ok(())
    }

    /// The value for one parameter of a rule: the rule's own values first, then the global ones;
    /// matched by name, then placeholder text, then semantic (`ip`, `url`, …), names compared
    /// case-insensitively.
    pub fn value_for(&self, rule_id: &str, parameter: &QueryParameter) -> Option<String> {
        let lookup = |map: &BTreeMap<String, String>| {
            let find = |key: &str| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v.clone())
            };
            find(&parameter.name)
                .or_else(|| find(&parameter.placeholder))
                .or_else(|| parameter.semantic.as_deref().and_then(find))
        };
        self.per_rule
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(rule_id))
            .and_then(|(_, map)| lookup(map))
            .or_else(|| lookup(&self.global))
    }
}

/// Whether a parameter must have a value for the rule to mean anything. Empty lists are valid
/// as they are (the filter just matches nothing extra); fill-ins and templates are not.
pub fn is_required(parameter: &QueryParameter) -> bool {
    parameter.kind != PlaceholderKind::EmptyList
}

/// The KQL text a user value becomes inside the query: list values (`a,b`) for list parameters
/// become `dynamic(["a","b"])`; other values are placed as they are (the placeholder's own
/// quotes, if any, are kept by the filler).
pub fn kql_value(parameter: &QueryParameter, value: &str) -> String {
    if parameter.kind == PlaceholderKind::EmptyList {
        let items: Vec<String> = value
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| serde_json::Value::String(v.to_string()).to_string())
            .collect();
        return format!("dynamic([{}])", items.join(", "));
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameter(name: &str, placeholder: &str, semantic: Option<&str>) -> QueryParameter {
        QueryParameter {
            name: name.into(),
            placeholder: placeholder.into(),
            kind: PlaceholderKind::FillIn,
            value_type: "string".into(),
            semantic: semantic.map(String::from),
            spans: vec![],
        }
    }

    #[test]
    fn rule_values_win_then_name_placeholder_and_semantic_match() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("params.yaml");
        std::fs::write(&file, "parameters:\n  IP: 203.0.113.7\n  port: 443\nrules:\n  RULE-1:\n    url: evil.example\n    lists: [a, b]\n").unwrap();
        let mut values = ParameterValues::default();
        values.add_file(&file).unwrap();
        values
            .add_options(&["URL GOES HERE=cli.example".to_string()])
            .unwrap();
        assert!(values.add_options(&["novalue".to_string()]).is_err());
        let url = parameter("url", "URL GOES HERE", Some("url"));
        assert_eq!(
            values.value_for("rule-1", &url).as_deref(),
            Some("evil.example")
        );
        assert_eq!(
            values.value_for("other", &url).as_deref(),
            Some("cli.example")
        );
        let ip = parameter("ip_address", "IP ADDRESS GOES HERE", Some("ip"));
        assert_eq!(
            values.value_for("other", &ip).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(values.value_for("other", &parameter("x", "X", None)), None);
        assert_eq!(values.per_rule["RULE-1"]["lists"], "a,b");
        assert_eq!(values.global["port"], "443");
        let mut list = parameter("l", "", None);
        list.kind = PlaceholderKind::EmptyList;
        assert_eq!(kql_value(&list, "a, b\"c"), r#"dynamic(["a", "b\"c"])"#);
        assert!(!is_required(&list));
        let broken = dir.path().join("broken.yaml");
        std::fs::write(&broken, "parameters: [unclosed\n").unwrap();
        assert!(matches!(
            values.add_file(&broken),
            Err(ParameterError::File { .. })
        ));
    }
}
