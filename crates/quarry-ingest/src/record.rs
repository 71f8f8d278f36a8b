//! One telemetry record on its way into a table: its target table, its fields as JSON values and
//! where it came from (for the rejects file).

use serde_json::{Map, Value};

/// Where a record came from: the input file and its line or record number (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The input file as the user named it.
    pub file: String,
    /// A line number for text formats, a record number for binary ones.
    pub position: Position,
}

/// The position of a record inside its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A 1-based line of a text file.
    Line(u64),
    /// A 1-based record of a file without lines (EVTX, Parquet, a JSON array, generated data).
    Record(u64),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.position {
            Position::Line(line) => write!(f, "{}:{line}", self.file),
            Position::Record(record) => write!(f, "{} record {record}", self.file),
        }
    }
}

/// A record bound for `table`, with its columns as JSON values (strings, numbers, booleans,
/// objects and arrays for `dynamic`, datetimes as ISO-8601 text).
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The target table, e.g. `DeviceProcessEvents`.
    pub table: String,
    /// Column name → value; columns the table does not have are dropped at coercion.
    pub fields: Map<String, Value>,
}

impl Record {
    /// A record for `table` with `fields`.
    pub fn new(table: impl Into<String>, fields: Map<String, Value>) -> Record {
        Record {
            table: table.into(),
            fields,
        }
    }
}
