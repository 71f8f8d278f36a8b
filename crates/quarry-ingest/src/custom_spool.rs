//! The records of a custom table (no known schema), kept in a staging file until the whole
//! input has been read and their schema inferred from every record.
//!
//! Holding them in memory made a large custom log cost gigabytes; the spool keeps one line per
//! record on disk (`l<line>` or `r<record>`, a tab, the fields as JSON) and only the running
//! inference in memory.

use crate::infer::SchemaInference;
use crate::record::Position;
use quarry_schema::TableSchema;
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// One custom table's spooled records and the schema they allow so far.
pub(crate) struct CustomSpool {
    path: PathBuf,
    out: BufWriter<File>,
    inference: SchemaInference,
}

impl CustomSpool {
    /// An empty spool written to `path` (a file of the ingest's staging folder).
    pub(crate) fn create(path: &Path) -> std::io::Result<CustomSpool> {
        Ok(CustomSpool {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, File::create(path)?),
            inference: SchemaInference::default(),
        })
    }

    /// The spool file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Adds one record.
    pub(crate) fn push(
        &mut self,
        position: Position,
        fields: &Map<String, Value>,
    ) -> std::io::Result<()> {
        self.inference.observe(fields);
        match position {
            Position::Line(line) => write!(self.out, "l{line}\t")?,
            Position::Record(record) => write!(self.out, "r{record}\t")?,
        }
        serde_json::to_writer(&mut self.out, fields)?;
        self.out.write_all(b"\n")
    }

    /// The schema of table `name` every record fits (see [`SchemaInference::schema`]).
    pub(crate) fn schema(
        &self,
        name: &str,
        base: Option<&TableSchema>,
    ) -> Result<TableSchema, String> {
        self.inference.schema(name, base)
    }

    /// Hands every record back, in the order they were added.
    pub(crate) fn drain(
        self,
        mut each: impl FnMut(Position, Map<String, Value>),
    ) -> std::io::Result<()> {
        let CustomSpool { path, out, .. } = self;
        out.into_inner().map_err(|e| e.into_error())?;
        let reader = BufReader::with_capacity(1 << 20, File::open(&path)?);
        for line in reader.split(b'\n') {
            let line = line?;
            let (position, fields) = parse_line(&line).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: a spooled record is damaged", path.display()),
                )
            })?;
            each(position, fields);
        }
        std::fs::remove_file(&path)
    }
}

/// One spool line back as its position and fields.
fn parse_line(line: &[u8]) -> Option<(Position, Map<String, Value>)> {
    let tab = line.iter().position(|&b| b == b'\t')?;
    let (head, json) = (&line[..tab], &line[tab + 1..]);
    let number: u64 = std::str::from_utf8(head.get(1..)?).ok()?.parse().ok()?;
    let position = match head.first()? {
        b'l' => Position::Line(number),
        b'r' => Position::Record(number),
        _ => return None,
    };
    let fields = serde_json::from_slice(json).ok()?;
    Some((position, fields))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_come_back_in_order_with_their_positions_and_the_inferred_schema() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = CustomSpool::create(&dir.path().join("custom-0.ndjson")).unwrap();
        let records = [
            (
                Position::Line(3),
                json!({"Count": 1, "Text": "a\nb\tc", "Bag": {"k": [1]}}),
            ),
            (
                Position::Record(7),
                json!({"Count": "2", "When": "2024-01-01T00:00:00Z"}),
            ),
        ];
        for (position, fields) in &records {
            spool.push(*position, fields.as_object().unwrap()).unwrap();
        }
        let schema = spool.schema("Custom_CL", None).unwrap();
        assert_eq!(
            crate::infer::column_types(&schema),
            [
                ("Count", "long"),
                ("Text", "string"),
                ("Bag", "dynamic"),
                ("When", "datetime")
            ]
        );
        let path = spool.path().to_path_buf();
        let mut back = Vec::new();
        spool
            .drain(|position, fields| back.push((position, Value::Object(fields))))
            .unwrap();
        assert_eq!(back, records);
        assert!(!path.exists(), "the spool file is removed once drained");
    }

    #[test]
    fn a_damaged_line_is_an_error() {
        assert!(parse_line(b"l12\t{\"a\":1}").is_some());
        for bad in [&b"x12\t{}"[..], b"l\t{}", b"l1 {}", b"l1\t{", b"l1\t[1]"] {
            assert!(
                parse_line(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
