//! `manifest.json`: the one file that says what a workspace holds. A Parquet file is part of a
//! table only once the manifest lists it, and the manifest is replaced atomically, so a reader
//! never sees half an ingest.

use quarry_schema::{Column, KustoType, TableSchema};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The manifest format version this build writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// Everything a workspace holds: tables with their files, and the inputs already ingested.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The format version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// Tables by name.
    pub tables: BTreeMap<String, TableEntry>,
    /// Ingested inputs by the SHA-256 of their content (hex).
    pub inputs: BTreeMap<String, InputEntry>,
}

/// One table: its schema as written and its committed files.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableEntry {
    /// The columns, in order, as `(name, Kusto type name)`.
    pub columns: Vec<ColumnEntry>,
    /// Whether the schema was inferred from data (a custom table) rather than a known schema.
    pub inferred: bool,
    /// The committed Parquet files.
    pub files: Vec<FileEntry>,
}

/// One column of a stored schema.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ColumnEntry {
    /// The column name.
    pub name: String,
    /// The Kusto type name (`string`, `long`, `datetime`, …).
    #[serde(rename = "type")]
    pub ty: String,
}

/// One committed Parquet file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    /// The path relative to the workspace root, with `/` separators.
    pub path: String,
    /// The day partition (`YYYY-MM-DD`, or `none` for rows without a time).
    pub date: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size on disk in bytes.
    pub bytes: u64,
    /// Per time column (`TimeGenerated`, `Timestamp`): the smallest and largest value in
    /// nanoseconds since the Unix epoch, when the column has any non-null value.
    pub time_ranges: BTreeMap<String, (i64, i64)>,
}

/// One ingested input file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct InputEntry {
    /// The path as given on the command line.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// The detected or forced format.
    pub format: String,
    /// When the ingest committed (ISO-8601 UTC).
    pub ingested_at: String,
    /// Records accepted, by table.
    pub tables: BTreeMap<String, u64>,
    /// Records rejected.
    pub rejected: u64,
    /// The rejects file, relative to the workspace root, when there were rejects.
    pub rejects_file: Option<String>,
}

impl TableEntry {
    /// The stored schema as a [`TableSchema`] named `name`.
    pub fn schema(&self, name: &str) -> Result<TableSchema, String> {
        let columns = self
            .columns
            .iter()
            .map(|c| {
                KustoType::from_name(&c.ty)
                    .map(|ty| Column::new(c.name.clone(), ty))
                    .ok_or_else(|| {
                        format!("table {name}: column {}: unknown type {}", c.name, c.ty)
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let source = if self.inferred {
            "inferred"
        } else {
            "workspace"
        };
        TableSchema::new(name, columns, source, self.inferred).map_err(|e| e.to_string())
    }

    /// Rows over all files.
    pub fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }

    /// Bytes on disk over all files.
    pub fn bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }

    /// The earliest and latest value of time column `column` over all files.
    pub fn time_range(&self, column: &str) -> Option<(i64, i64)> {
        self.files
            .iter()
            .filter_map(|f| f.time_ranges.get(column))
            .fold(None, |acc, &(lo, hi)| match acc {
                None => Some((lo, hi)),
                Some((a, b)) => Some((a.min(lo), b.max(hi))),
            })
    }
}

/// The stored form of a schema's columns.
pub fn column_entries(schema: &TableSchema) -> Vec<ColumnEntry> {
    schema
        .columns()
        .iter()
        .map(|c| ColumnEntry {
            name: c.name.clone(),
            ty: c.ty.name().to_string(),
        })
        .collect()
}
