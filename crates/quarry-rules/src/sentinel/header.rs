//! The descriptive fields of an Azure-Sentinel rule (id, name, severity, ATT&CK mapping) — the
//! part of the rule model the hunt summary needs before the full catalog exists.

use super::{yaml_error, YamlError, BOM};
use serde::Deserialize;
use serde_saphyr::options::DuplicateKeyPolicy;

/// The descriptive fields of a rule; absent fields are empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleHeader {
    /// The rule's upstream id (a GUID).
    #[serde(default)]
    pub id: String,
    /// The display name.
    #[serde(default)]
    pub name: String,
    /// The description.
    #[serde(default)]
    pub description: String,
    /// Informational, Low, Medium or High.
    #[serde(default)]
    pub severity: String,
    /// `Scheduled`, `NRT`, … for analytic rules; empty for hunting queries.
    #[serde(default)]
    pub kind: String,
    /// ATT&CK tactics (names as Sentinel spells them, e.g. `CredentialAccess`).
    #[serde(default, deserialize_with = "strings")]
    pub tactics: Vec<String>,
    /// ATT&CK technique ids (`T1003`, `T1003.001`).
    #[serde(default, deserialize_with = "strings")]
    pub relevant_techniques: Vec<String>,
}

/// A list of strings that may be written as one string, or null.
fn strings<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<Option<String>>),
    }
    Ok(match Option::<OneOrMany>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(OneOrMany::One(one)) => vec![one],
        Some(OneOrMany::Many(many)) => many.into_iter().flatten().collect(),
    })
}

/// Reads the descriptive fields of an Azure-Sentinel rule file.
pub fn read_rule_header(file_text: &str) -> Result<RuleHeader, YamlError> {
    let yaml = file_text.strip_prefix(BOM).unwrap_or(file_text);
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::LastWins,
    };
    serde_saphyr::from_str_with_options(yaml, options).map_err(|e| yaml_error(&e, yaml))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_descriptive_fields() {
        let text = "id: 1234\nname: Test rule\nseverity: High\ntactics:\n  - CredentialAccess\nrelevantTechniques: T1003\nquery: |\n  T | take 1\n";
        let header = read_rule_header(text).unwrap();
        assert_eq!(header.name, "Test rule");
        assert_eq!(header.tactics, ["CredentialAccess"]);
        assert_eq!(header.relevant_techniques, ["T1003"]);
        assert!(read_rule_header("name: [unclosed").is_err());
    }
}
