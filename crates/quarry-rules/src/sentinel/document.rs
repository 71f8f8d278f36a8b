//! An Azure-Sentinel rule file read into the [`Rule`] model: every upstream field the catalog
//! shows, normalised (lists that may be one string, scalars that may be numbers, structured tags).

use super::{read_rule_query, yaml_error, YamlError, BOM};
use crate::model::{EntityMapping, Provenance, RequiredConnector, Rule, RuleKind};
use serde::Deserialize;
use serde_saphyr::options::DuplicateKeyPolicy;

/// Why a rule file could not become a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleReadError {
    /// The file is not valid YAML, or a field has the wrong shape.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// The file is YAML but not a mapping with a `query` (documentation, templates, …).
    #[error("the file has no `query`")]
    NoQuery,
    /// The file is not a YAML mapping at all (Markdown, plain text, a list).
    #[error("the file is not a YAML mapping (documentation or another kind of file)")]
    NotAMapping,
    /// The `query` is empty.
    #[error("the `query` is empty")]
    EmptyQuery,
}

/// A scalar that YAML may type as a string, a number or a boolean; kept as its text.
#[derive(Debug, Clone, PartialEq)]
struct ScalarText(String);

impl<'de> Deserialize<'de> for ScalarText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            Text(String),
            Int(i64),
            Float(f64),
            Bool(bool),
        }
        Ok(ScalarText(match Scalar::deserialize(deserializer)? {
            Scalar::Text(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }))
    }
}

/// A tag: a plain string, or a mapping flattened to `key=value` pairs.
#[derive(Deserialize)]
#[serde(untagged)]
enum TagValue {
    Text(ScalarText),
    Map(std::collections::BTreeMap<String, Option<ScalarText>>),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectorDocument {
    #[serde(default)]
    connector_id: Option<ScalarText>,
    #[serde(default, deserialize_with = "scalar_list")]
    data_types: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldMappingDocument {
    #[serde(default)]
    identifier: Option<ScalarText>,
    #[serde(default)]
    column_name: Option<ScalarText>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntityMappingDocument {
    #[serde(default)]
    entity_type: Option<ScalarText>,
    #[serde(default)]
    field_mappings: Option<Vec<FieldMappingDocument>>,
}

/// The keys of a rule file that the model keeps; anything else stays in the raw text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleDocument {
    #[serde(default)]
    id: Option<ScalarText>,
    #[serde(default)]
    name: Option<ScalarText>,
    #[serde(default)]
    description: Option<ScalarText>,
    #[serde(default)]
    severity: Option<ScalarText>,
    #[serde(default)]
    status: Option<ScalarText>,
    #[serde(default)]
    kind: Option<ScalarText>,
    #[serde(default, deserialize_with = "scalar_list")]
    tactics: Vec<String>,
    #[serde(default, deserialize_with = "scalar_list")]
    relevant_techniques: Vec<String>,
    #[serde(default)]
    required_data_connectors: Option<Vec<Option<ConnectorDocument>>>,
    #[serde(default)]
    entity_mappings: Option<Vec<Option<EntityMappingDocument>>>,
    #[serde(default)]
    query_frequency: Option<ScalarText>,
    #[serde(default)]
    query_period: Option<ScalarText>,
    #[serde(default)]
    trigger_operator: Option<ScalarText>,
    #[serde(default)]
    trigger_threshold: Option<ScalarText>,
    #[serde(default)]
    version: Option<ScalarText>,
    #[serde(default)]
    tags: Option<Vec<Option<TagValue>>>,
}

/// A list of scalars that may be written as one scalar (comma-separated is kept whole), or null.
fn scalar_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(ScalarText),
        Many(Vec<Option<ScalarText>>),
    }
    let values = match Option::<OneOrMany>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(OneOrMany::One(one)) => vec![one.0],
        Some(OneOrMany::Many(many)) => many.into_iter().flatten().map(|s| s.0).collect(),
    };
    Ok(values
        .into_iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect())
}

fn text(value: Option<ScalarText>) -> Option<String> {
    value
        .map(|v| v.0.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Reads a rule file into the model. `kind` comes from where the file lives; `id_fallback` is
/// used when the file has no `id` (a few upstream files lack one).
pub fn read_rule(
    file_text: &str,
    kind: RuleKind,
    provenance: Provenance,
    id_fallback: &str,
) -> Result<Rule, RuleReadError> {
    let yaml = file_text.strip_prefix(BOM).unwrap_or(file_text);
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::LastWins,
    };
    let document: RuleDocument = match serde_saphyr::from_str_with_options(yaml, options) {
        Ok(document) => document,
        Err(error) => {
            // A document that is not a mapping (Markdown, plain text, a list) is "not a rule",
            // not a broken rule.
            if !starts_like_a_mapping(yaml) {
                return Err(RuleReadError::NotAMapping);
            }
            return Err(yaml_error(&error, yaml).into());
        }
    };
    let query = read_rule_query(file_text)?.ok_or(RuleReadError::NoQuery)?;
    if query.text.trim().is_empty() {
        return Err(RuleReadError::EmptyQuery);
    }
    let required_connectors = document
        .required_data_connectors
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .map(|c| RequiredConnector {
            connector_id: text(c.connector_id).unwrap_or_default(),
            data_types: c.data_types,
        })
        .collect();
    let entity_mappings = document
        .entity_mappings
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .map(|m| EntityMapping {
            entity_type: text(m.entity_type).unwrap_or_default(),
            fields: m
                .field_mappings
                .unwrap_or_default()
                .into_iter()
                .map(|f| {
                    (
                        text(f.identifier).unwrap_or_default(),
                        text(f.column_name).unwrap_or_default(),
                    )
                })
                .collect(),
        })
        .collect();
    let tags = document
        .tags
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .flat_map(|tag| match tag {
            TagValue::Text(t) => vec![t.0.trim().to_string()],
            TagValue::Map(map) => map
                .into_iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={}", v.0.trim()),
                    None => k,
                })
                .collect(),
        })
        .filter(|t| !t.is_empty())
        .collect();
    let upstream_kind = text(document.kind);
    Ok(Rule {
        id: text(document.id).unwrap_or_else(|| id_fallback.to_string()),
        name: text(document.name).unwrap_or_else(|| file_stem(&provenance.path)),
        description: text(document.description)
            .map(|d| strip_wrapping_quotes(&d))
            .unwrap_or_default(),
        kind,
        severity: text(document.severity),
        status: text(document.status),
        rule_type: upstream_kind,
        tactics: document.tactics,
        techniques: document
            .relevant_techniques
            .iter()
            .flat_map(|t| t.split(','))
            .map(|t| t.trim().to_ascii_uppercase())
            .filter(|t| !t.is_empty())
            .collect(),
        required_connectors,
        query_offset_in_file: query.file_offset(0),
        query: query.text,
        entity_mappings,
        query_frequency: text(document.query_frequency),
        query_period: text(document.query_period),
        trigger_operator: text(document.trigger_operator),
        trigger_threshold: text(document.trigger_threshold).and_then(|t| t.parse().ok()),
        version: text(document.version),
        tags,
        provenance,
        raw: file_text.to_string(),
    })
}

/// Whether the first line with content looks like `key: …`.
fn starts_like_a_mapping(yaml: &str) -> bool {
    yaml.lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !line.starts_with('#') && *line != "---")
        .is_some_and(|line| {
            !line.starts_with("- ")
                && line.split_once(':').is_some_and(|(key, _)| {
                    !key.trim().is_empty() && !key.contains(' ') || key.starts_with(['"', '\''])
                })
        })
}

/// Many upstream descriptions are written `'…'` inside a block scalar; the quotes are not text.
fn strip_wrapping_quotes(description: &str) -> String {
    let trimmed = description.trim();
    let inner = trimmed
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .or_else(|| trimmed.strip_prefix('"').and_then(|t| t.strip_suffix('"')));
    inner.unwrap_or(trimmed).trim().to_string()
}

fn file_stem(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .map_or(name, |(stem, _)| stem)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Rule, RuleReadError> {
        read_rule(
            text,
            RuleKind::Analytic,
            Provenance {
                path: "Detections/X/rule.yaml".into(),
                ..Provenance::default()
            },
            "fallback-id",
        )
    }

    #[test]
    fn reads_every_normalised_field() {
        let text = "\u{feff}id: abc\r\nname: Rule\r\ndescription: |\r\n  'Finds things.'\r\nseverity: High\r\nrequiredDataConnectors:\r\n  - connectorId: SecurityEvents\r\n    dataTypes:\r\n      - SecurityEvent\r\nqueryFrequency: 1d\r\nqueryPeriod: 14d\r\ntriggerOperator: gt\r\ntriggerThreshold: 0\r\ntactics:\r\n  - Persistence\r\nrelevantTechniques:\r\n  - t1098, T1136.003\r\ntags:\r\n  - Log4j\r\n  - Id: 1234\r\n    version: 1.0\r\nquery: |\r\n  SecurityEvent | take 1\r\nentityMappings:\r\n  - entityType: Account\r\n    fieldMappings:\r\n      - identifier: FullName\r\n        columnName: AccountCustomEntity\r\nversion: 1.0\r\nkind: Scheduled\r\n";
        let rule = read(text).unwrap();
        assert_eq!(rule.id, "abc");
        assert_eq!(rule.description, "Finds things.");
        assert_eq!(rule.severity.as_deref(), Some("High"));
        assert_eq!(rule.techniques, ["T1098", "T1136.003"]);
        assert_eq!(rule.required_connectors[0].data_types, ["SecurityEvent"]);
        assert_eq!(rule.trigger_threshold, Some(0));
        assert_eq!(rule.tags, ["Log4j", "Id=1234", "version=1"]);
        assert_eq!(rule.version.as_deref(), Some("1"));
        assert_eq!(rule.rule_type.as_deref(), Some("Scheduled"));
        assert_eq!(
            rule.entity_mappings[0].fields,
            [("FullName".to_string(), "AccountCustomEntity".to_string())]
        );
        assert_eq!(rule.query.trim(), "SecurityEvent | take 1");
        assert_eq!(&text[rule.query_offset_in_file..][..13], "SecurityEvent");
    }

    #[test]
    fn missing_id_and_name_fall_back() {
        let rule = read("query: T | take 1\n").unwrap();
        assert_eq!(rule.id, "fallback-id");
        assert_eq!(rule.name, "rule");
    }

    #[test]
    fn files_that_are_not_rules_say_why() {
        assert_eq!(read("name: x\n"), Err(RuleReadError::NoQuery));
        assert_eq!(read("query: ''\n"), Err(RuleReadError::EmptyQuery));
        let doc = read("# Title\n\nSome text");
        assert!(matches!(doc, Err(RuleReadError::NotAMapping)), "{doc:?}");
        match read("name: x\nquery: [unclosed\n") {
            Err(RuleReadError::Yaml(e)) => assert_eq!(e.line, 2),
            other => panic!("unexpected {other:?}"),
        }
    }
}
