//! The rule model: what Quarry knows about one rule, upstream fields normalised.

use serde::{Deserialize, Serialize};

/// Which part of a rule repository a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A hunting query (`Hunting Queries/`, a solution's `Hunting Queries`).
    Hunting,
    /// A scheduled or near-real-time analytic rule (`Detections/`, `Analytic Rules`).
    Analytic,
    /// An exploration query (`Exploration Queries/`).
    Exploration,
}

impl RuleKind {
    /// The lower-case name used in the catalog and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Hunting => "hunting",
            RuleKind::Analytic => "analytic",
            RuleKind::Exploration => "exploration",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(text: &str) -> Option<RuleKind> {
        match text.to_ascii_lowercase().as_str() {
            "hunting" => Some(RuleKind::Hunting),
            "analytic" | "analytics" | "detection" => Some(RuleKind::Analytic),
            "exploration" => Some(RuleKind::Exploration),
            _ => None,
        }
    }
}

/// A connector a rule declares it needs, with the data types (tables) it provides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredConnector {
    /// The connector id (`SecurityEvents`, `MicrosoftThreatProtection`, …).
    pub connector_id: String,
    /// The data types the rule needs from it (usually table names).
    pub data_types: Vec<String>,
}

/// One entity a rule maps from its result columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityMapping {
    /// The entity type (`Account`, `Host`, `IP`, `URL`, `FileHash`, …).
    pub entity_type: String,
    /// `(identifier, column)` pairs, e.g. `("FullName", "AccountCustomEntity")`.
    pub fields: Vec<(String, String)>,
}

/// Where a rule came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Provenance {
    /// The repository: a URL (`https://github.com/Azure/Azure-Sentinel`) or a local path.
    pub repository: String,
    /// The file's path inside the repository, with `/` separators.
    pub path: String,
    /// The commit the file was read at, when known.
    pub commit: Option<String>,
    /// A link to the file at that commit (or on the default branch), when the repository is a
    /// known web host.
    pub original_url: Option<String>,
    /// When the repository was read (RFC 3339, UTC).
    pub retrieved_at: String,
    /// When the file last changed upstream (RFC 3339), when the repository's history is known.
    pub last_modified: Option<String>,
}

/// A rule as read from its source, normalised. Enrichment lives beside it, not in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The upstream id (a GUID in Azure-Sentinel).
    pub id: String,
    /// The display name.
    pub name: String,
    /// The upstream description, trimmed.
    pub description: String,
    /// Hunting, analytic or exploration.
    pub kind: RuleKind,
    /// `Informational`, `Low`, `Medium` or `High` as upstream gives it.
    pub severity: Option<String>,
    /// `Available`, `Deprecated`, … as upstream gives it.
    pub status: Option<String>,
    /// Analytic rule type (`Scheduled`, `NRT`), when given.
    pub rule_type: Option<String>,
    /// ATT&CK tactics as upstream spells them (`CredentialAccess`).
    pub tactics: Vec<String>,
    /// ATT&CK technique and sub-technique ids as upstream gives them (`T1003`, `T1003.001`).
    pub techniques: Vec<String>,
    /// Connectors and data types the rule declares.
    pub required_connectors: Vec<RequiredConnector>,
    /// The KQL query.
    pub query: String,
    /// Byte offset of the query's first character in the file (for diagnostics).
    pub query_offset_in_file: usize,
    /// Entity mappings.
    pub entity_mappings: Vec<EntityMapping>,
    /// How often an analytic rule runs (`1d`, `PT1H`), as written.
    pub query_frequency: Option<String>,
    /// How far back an analytic rule looks, as written.
    pub query_period: Option<String>,
    /// Trigger operator (`gt`, `eq`, …), as written.
    pub trigger_operator: Option<String>,
    /// Trigger threshold.
    pub trigger_threshold: Option<i64>,
    /// The rule's own version string.
    pub version: Option<String>,
    /// Tags (strings; structured tags are flattened to `name=value`).
    pub tags: Vec<String>,
    /// Where it came from.
    pub provenance: Provenance,
    /// The upstream file, byte for byte.
    pub raw: String,
}

/// A parameter of a stored function (`disabled:bool=false`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionParameter {
    /// The name.
    pub name: String,
    /// The Kusto type (`bool`, `string`, `datetime`, `dynamic`, or a tabular schema `(*)`).
    pub kusto_type: String,
    /// The default value as KQL text, when it has one.
    pub default: Option<String>,
}

/// A KQL function defined outside the queries that call it: a parser (ASIM and others) or a
/// custom function from a rule repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFunction {
    /// The name queries call it by (`imProcessCreate`, `_Im_Dns`).
    pub name: String,
    /// Its parameters, in order.
    pub parameters: Vec<FunctionParameter>,
    /// The body: KQL statements ending in a tabular expression.
    pub body: String,
    /// What it is for.
    pub description: String,
    /// Where it came from.
    pub provenance: Provenance,
}

/// Stored functions by name (names are case-sensitive, as in KQL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionLibrary {
    by_name: std::collections::BTreeMap<String, StoredFunction>,
}

impl FunctionLibrary {
    /// An empty library.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a function; a later one with the same name replaces the earlier.
    pub fn insert(&mut self, function: StoredFunction) {
        self.by_name.insert(function.name.clone(), function);
    }

    /// The function called `name`.
    pub fn get(&self, name: &str) -> Option<&StoredFunction> {
        self.by_name.get(name)
    }

    /// Every function, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = &StoredFunction> {
        self.by_name.values()
    }

    /// How many functions there are.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}
