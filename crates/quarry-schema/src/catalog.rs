//! Table schemas and the catalog of known tables.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::types::KustoType;

/// The schema file embedded into the binary (a copy of the shared `tables.json`, see `data/README.md`).
const EMBEDDED_JSON: &str = include_str!("../data/tables.json");

/// The only schema file format version this crate reads.
pub const FORMAT_VERSION: u64 = 1;

/// Name of the Log Analytics / Sentinel time column, preferred by [`TableSchema::time_column`].
pub const TIME_GENERATED: &str = "TimeGenerated";

/// Name of the Defender XDR Advanced Hunting time column, the fallback of [`TableSchema::time_column`].
pub const TIMESTAMP: &str = "Timestamp";

/// An error in a schema file or in a table schema being built.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON of the expected shape.
    #[error("malformed schema file: {0}")]
    Json(#[from] serde_json::Error),
    /// The file declares a format version this crate does not read.
    #[error("unsupported schema file version {found} (expected {FORMAT_VERSION})")]
    UnsupportedVersion {
        /// The version found in the file.
        found: u64,
    },
    /// A table has an empty name.
    #[error("table with an empty name")]
    EmptyTableName,
    /// A column has an empty name.
    #[error("table `{table}`: column #{index} has an empty name")]
    EmptyColumnName {
        /// The table at fault.
        table: String,
        /// Zero-based position of the column in the table.
        index: usize,
    },
    /// A column's type is not a Kusto type name.
    #[error("table `{table}`, column `{column}`: unknown Kusto type `{ty}`")]
    UnknownType {
        /// The table at fault.
        table: String,
        /// The column at fault.
        column: String,
        /// The type name as written in the file.
        ty: String,
    },
    /// A column name occurs twice in one table (names are case-sensitive).
    #[error("table `{table}`: duplicate column `{column}`")]
    DuplicateColumn {
        /// The table at fault.
        table: String,
        /// The repeated column name.
        column: String,
    },
}

/// A column: name and Kusto type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
pub struct Column {
    /// Column name, case-sensitive as in KQL.
    pub name: String,
    /// Column type.
    #[serde(rename = "type")]
    pub ty: KustoType,
}

impl Column {
    /// Creates a column.
    pub fn new(name: impl Into<String>, ty: KustoType) -> Column {
        Column {
            name: name.into(),
            ty,
        }
    }
}

/// The schema of one table: its columns in order, where it came from, and whether it was inferred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    name: String,
    columns: Vec<Column>,
    source: String,
    inferred: bool,
}

impl TableSchema {
    /// Creates a schema, checking that the table and column names are non-empty and unique.
    pub fn new(
        name: impl Into<String>,
        columns: Vec<Column>,
        source: impl Into<String>,
        inferred: bool,
    ) -> Result<TableSchema, SchemaError> {
        let name = name.into();
        if name.is_empty() {
            return Err(SchemaError::EmptyTableName);
        }
        let mut seen = HashSet::with_capacity(columns.len());
        for (index, column) in columns.iter().enumerate() {
            if column.name.is_empty() {
                return Err(SchemaError::EmptyColumnName { table: name, index });
            }
            if !seen.insert(column.name.as_str()) {
                return Err(SchemaError::DuplicateColumn {
                    table: name,
                    column: column.name.clone(),
                });
            }
        }
        Ok(TableSchema {
            name,
            columns,
            source: source.into(),
            inferred,
        })
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The columns, in schema order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The source id of the schema (a key of [`Catalog::sources`] for embedded tables).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the schema was inferred from data rather than taken from a schema file.
    pub fn inferred(&self) -> bool {
        self.inferred
    }

    /// Looks up a column by exact (case-sensitive) name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The time column: `TimeGenerated` if present, else `Timestamp`, else `None`.
    ///
    /// Defender XDR tables as received by Sentinel carry both columns, so for them this is
    /// `TimeGenerated`; only tables without it (Advanced Hunting-only ones) yield `Timestamp`.
    pub fn time_column(&self) -> Option<&Column> {
        self.column(TIME_GENERATED)
            .or_else(|| self.column(TIMESTAMP))
    }
}

/// The set of known table schemas, keyed by exact table name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    tables: BTreeMap<String, TableSchema>,
    sources: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawFile {
    version: u64,
    #[serde(default)]
    sources: BTreeMap<String, String>,
    tables: BTreeMap<String, RawTable>,
}

#[derive(Deserialize)]
struct RawTable {
    source: String,
    columns: Vec<RawColumn>,
}

#[derive(Deserialize)]
struct RawColumn {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

impl Catalog {
    /// The catalog embedded in the binary, parsed on first use and shared afterwards.
    pub fn embedded() -> &'static Catalog {
        static EMBEDDED: OnceLock<Catalog> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            Catalog::from_json(EMBEDDED_JSON)
                .unwrap_or_else(|e| panic!("embedded data/tables.json is invalid: {e}"))
        })
    }

    /// Parses a schema file (the `tables.json` format, version 1; provenance keys are ignored).
    pub fn from_json(text: &str) -> Result<Catalog, SchemaError> {
        let raw: RawFile = serde_json::from_str(text)?;
        if raw.version != FORMAT_VERSION {
            return Err(SchemaError::UnsupportedVersion { found: raw.version });
        }
        let mut tables = BTreeMap::new();
        for (name, table) in raw.tables {
            let mut columns = Vec::with_capacity(table.columns.len());
            for column in table.columns {
                let Some(ty) = KustoType::from_name(&column.ty) else {
                    return Err(SchemaError::UnknownType {
                        table: name,
                        column: column.name,
                        ty: column.ty,
                    });
                };
                columns.push(Column::new(column.name, ty));
            }
            add_standard_columns(&mut columns);
            let schema = TableSchema::new(name.clone(), columns, table.source, false)?;
            tables.insert(name, schema);
        }
        Ok(Catalog {
            tables,
            sources: raw.sources,
        })
    }

    /// Looks up a table by exact (case-sensitive) name.
    pub fn table(&self, name: &str) -> Option<&TableSchema> {
        self.tables.get(name)
    }

    /// All tables, sorted by name (byte order).
    pub fn tables(&self) -> impl ExactSizeIterator<Item = &TableSchema> + '_ {
        self.tables.values()
    }

    /// Number of tables.
    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Whether the catalog has no tables.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The provenance block of the schema file: source id → description.
    pub fn sources(&self) -> &BTreeMap<String, String> {
        &self.sources
    }

    /// The table name closest to `name` (case-insensitive edit distance, adjacent swaps cost 1),
    /// for "did you mean".
    ///
    /// Returns `None` when no name is within a third of `name`'s length (at least 1 edit);
    /// ties go to the first name in sorted order.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        let wanted: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
        let limit = (wanted.len() / 3).max(1);
        let mut best: Option<(usize, &str)> = None;
        for candidate in self.tables.keys() {
            let lower: Vec<char> = candidate.chars().flat_map(char::to_lowercase).collect();
            if lower.len().abs_diff(wanted.len()) > limit {
                continue;
            }
            let distance = edit_distance(&wanted, &lower);
            if distance <= limit && best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, candidate.as_str()));
            }
        }
        best.map(|(_, name)| name)
    }
}

/// Edit distance between two character sequences: insertions, deletions, substitutions and
/// transpositions of adjacent characters each cost 1 (optimal string alignment).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut previous: Vec<usize> = (0..width).collect();
    let mut current = vec![0; width];
    for i in 0..a.len() {
        current[0] = i + 1;
        for j in 0..b.len() {
            let mut best = (previous[j] + usize::from(a[i] != b[j]))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                best = best.min(before[j - 1] + 1);
            }
            current[j + 1] = best;
        }
        std::mem::swap(&mut before, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// Columns that every Log Analytics table has even where a schema file leaves them out
/// (Azure Monitor's "standard columns": `TenantId`, `Type`, `_ResourceId`, `_ItemId`,
/// `_SubscriptionId`, `_IsBillable`, `_BilledSize`). Only tables with `TimeGenerated` are Log
/// Analytics tables; Defender-only tables keep their own columns.
const STANDARD_COLUMNS: &[(&str, KustoType)] = &[
    ("TenantId", KustoType::String),
    ("Type", KustoType::String),
    ("_ResourceId", KustoType::String),
    ("_ItemId", KustoType::String),
    ("_SubscriptionId", KustoType::String),
    ("_IsBillable", KustoType::String),
    ("_BilledSize", KustoType::Real),
];

fn add_standard_columns(columns: &mut Vec<Column>) {
    if !columns.iter().any(|c| c.name == "TimeGenerated") {
        return;
    }
    for (name, ty) in STANDARD_COLUMNS {
        if !columns.iter().any(|c| c.name == *name) {
            columns.push(Column::new((*name).to_string(), *ty));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"{
      "version": 1,
      "sources": {"s": "test source"},
      "tables": {
        "Zeta": {"source": "s", "columns": [
          {"name": "Timestamp", "type": "datetime"},
          {"name": "Id", "type": "long", "source": "other", "other_types": {"x": "int"}}
        ]},
        "Alpha": {"source": "s", "also_in": ["t"], "columns": [
          {"name": "TimeGenerated", "type": "datetime"},
          {"name": "Timestamp", "type": "datetime"},
          {"name": "Type", "type": "string"},
          {"name": "type", "type": "int"}
        ]},
        "Bare": {"source": "s", "columns": [{"name": "X", "type": "Dynamic"}]}
      }
    }"#;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn parses_small_file() {
        let catalog = Catalog::from_json(SMALL).unwrap();
        assert_eq!(catalog.len(), 3);
        assert!(!catalog.is_empty());
        assert_eq!(catalog.sources()["s"], "test source");
        let names: Vec<&str> = catalog.tables().map(TableSchema::name).collect();
        assert_eq!(names, ["Alpha", "Bare", "Zeta"]);
        let zeta = catalog.table("Zeta").unwrap();
        assert_eq!(zeta.source(), "s");
        assert!(!zeta.inferred());
        assert_eq!(zeta.column("Id").unwrap().ty, KustoType::Long);
        assert_eq!(
            catalog.table("Bare").unwrap().columns()[0].ty,
            KustoType::Dynamic
        );
    }

    #[test]
    fn lookups_are_case_sensitive() {
        let catalog = Catalog::from_json(SMALL).unwrap();
        assert!(catalog.table("alpha").is_none());
        let alpha = catalog.table("Alpha").unwrap();
        assert_eq!(alpha.column("Type").unwrap().ty, KustoType::String);
        assert_eq!(alpha.column("type").unwrap().ty, KustoType::Int);
        assert!(alpha.column("TYPE").is_none());
    }

    #[test]
    fn time_column_prefers_time_generated() {
        let catalog = Catalog::from_json(SMALL).unwrap();
        let time = |t: &str| {
            catalog
                .table(t)
                .unwrap()
                .time_column()
                .map(|c| c.name.as_str())
        };
        assert_eq!(time("Alpha"), Some("TimeGenerated"));
        assert_eq!(time("Zeta"), Some("Timestamp"));
        assert_eq!(time("Bare"), None);
    }

    #[test]
    fn unknown_type_names_table_and_column() {
        let json = r#"{"version": 1, "tables": {"X": {"source": "s", "columns": [
            {"name": "A", "type": "string"}, {"name": "Y", "type": "strnig"}]}}}"#;
        let err = Catalog::from_json(json).unwrap_err();
        match &err {
            SchemaError::UnknownType { table, column, ty } => {
                assert_eq!(
                    (table.as_str(), column.as_str(), ty.as_str()),
                    ("X", "Y", "strnig")
                );
            }
            other => panic!("unexpected error {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains("`X`") && message.contains("`Y`") && message.contains("strnig"));
    }

    #[test]
    fn other_malformed_files() {
        let dup = r#"{"version": 1, "tables": {"T": {"source": "s", "columns": [
            {"name": "A", "type": "string"}, {"name": "A", "type": "long"}]}}}"#;
        assert!(matches!(
            Catalog::from_json(dup),
            Err(SchemaError::DuplicateColumn { table, column }) if table == "T" && column == "A"
        ));
        let empty = r#"{"version": 1, "tables": {"T": {"source": "s", "columns": [
            {"name": "", "type": "string"}]}}}"#;
        assert!(matches!(
            Catalog::from_json(empty),
            Err(SchemaError::EmptyColumnName { table, index: 0 }) if table == "T"
        ));
        let version = r#"{"version": 2, "tables": {}}"#;
        assert!(matches!(
            Catalog::from_json(version),
            Err(SchemaError::UnsupportedVersion { found: 2 })
        ));
        assert!(matches!(Catalog::from_json("{"), Err(SchemaError::Json(_))));
        let no_type =
            r#"{"version": 1, "tables": {"T": {"source": "s", "columns": [{"name": "A"}]}}}"#;
        assert!(matches!(
            Catalog::from_json(no_type),
            Err(SchemaError::Json(_))
        ));
    }

    #[test]
    fn table_schema_new_validates() {
        let ok = TableSchema::new(
            "T",
            vec![Column::new("A", KustoType::Guid)],
            "inferred",
            true,
        )
        .unwrap();
        assert!(ok.inferred());
        assert!(matches!(
            TableSchema::new("", vec![], "s", false),
            Err(SchemaError::EmptyTableName)
        ));
    }

    #[test]
    fn suggest_closest_name() {
        let catalog = Catalog::from_json(SMALL).unwrap();
        assert_eq!(catalog.suggest("alpha"), Some("Alpha"));
        assert_eq!(catalog.suggest("Alpah"), Some("Alpha"));
        assert_eq!(catalog.suggest("Zeat"), Some("Zeta"));
        assert_eq!(catalog.suggest("Completely"), None);
        assert_eq!(Catalog::default().suggest("Alpha"), None);
    }

    #[test]
    fn edit_distance_basics() {
        assert_eq!(edit_distance(&chars(""), &chars("abc")), 3);
        assert_eq!(edit_distance(&chars("kitten"), &chars("sitting")), 3);
        assert_eq!(edit_distance(&chars("same"), &chars("same")), 0);
        assert_eq!(edit_distance(&chars("ab"), &chars("ba")), 1);
        assert_eq!(edit_distance(&chars("alpah"), &chars("alpha")), 1);
        assert_eq!(edit_distance(&chars("ca"), &chars("abc")), 3);
    }
}
