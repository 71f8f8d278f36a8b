//! `externaldata`: a table read from files when the query runs, typed by the columns the query
//! declares.
//!
//! Quarry reads local files only (a path, or a `file://` URI). A network address is refused when
//! the query runs, with an error naming it: rules often point `externaldata` at lists on GitHub,
//! and a hunt on a laptop must not fetch from the internet behind the user's back. The query
//! still plans, so such rules bind and show their schema.

use crate::functions::convert_text;
use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session as DfSession, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use std::path::PathBuf;
use std::sync::Arc;

/// The text formats `externaldata` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalFormat {
    /// Comma-separated values (the default).
    Csv,
    /// Tab-separated values.
    Tsv,
    /// Semicolon-separated values.
    Scsv,
    /// Pipe-separated values.
    Psv,
    /// One JSON object per line (`json`, `multijson`): columns are read by name.
    Json,
    /// Each line is one value of the first column.
    Txt,
}

impl ExternalFormat {
    /// The format named by `format=`, or `None` for one Quarry does not read.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "csv" => Self::Csv,
            "tsv" | "tsve" => Self::Tsv,
            "scsv" => Self::Scsv,
            "psv" => Self::Psv,
            "json" | "multijson" | "singlejson" => Self::Json,
            "txt" | "raw" => Self::Txt,
            _ => return None,
        })
    }

    fn delimiter(self) -> u8 {
        match self {
            Self::Tsv => b'\t',
            Self::Scsv => b';',
            Self::Psv => b'|',
            _ => b',',
        }
    }
}

/// A table whose rows are read from `sources` when a query scans it.
#[derive(Debug)]
pub struct ExternalTable {
    schema: SchemaRef,
    sources: Vec<String>,
    format: ExternalFormat,
    ignore_first_record: bool,
}

impl ExternalTable {
    /// A table of `schema` read from `sources` (paths, `file://` or network URIs).
    pub fn new(
        schema: SchemaRef,
        sources: Vec<String>,
        format: ExternalFormat,
        ignore_first_record: bool,
    ) -> Self {
        ExternalTable {
            schema,
            sources,
            format,
            ignore_first_record,
        }
    }

    /// Reads every source into one batch of the declared schema.
    fn read(&self) -> DfResult<RecordBatch> {
        let width = self.schema.fields().len();
        let mut columns: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
        for source in &self.sources {
            let path = local_path(source)?;
            let text = std::fs::read_to_string(&path).map_err(|e| {
                DataFusionError::Execution(format!(
                    "externaldata: cannot read {}: {e}",
                    path.display()
                ))
            })?;
            match self.format {
                ExternalFormat::Json => self.read_json(&text, &path, &mut columns)?,
                ExternalFormat::Txt => {
                    for line in text.lines().skip(self.ignore_first_record as usize) {
                        for (index, column) in columns.iter_mut().enumerate() {
                            column.append_option((index == 0).then_some(line));
                        }
                    }
                }
                _ => self.read_delimited(&text, &path, &mut columns)?,
            }
        }
        let arrays = columns
            .into_iter()
            .zip(self.schema.fields())
            .map(|(mut builder, field)| {
                let text: ArrayRef = Arc::new(builder.finish());
                convert_text(&text, field.data_type())
            })
            .collect::<DfResult<Vec<_>>>()?;
        Ok(RecordBatch::try_new(self.schema.clone(), arrays)?)
    }

    fn read_delimited(
        &self,
        text: &str,
        path: &std::path::Path,
        columns: &mut [StringBuilder],
    ) -> DfResult<()> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(self.ignore_first_record)
            .delimiter(self.format.delimiter())
            .flexible(true)
            .from_reader(text.as_bytes());
        for (number, record) in reader.records().enumerate() {
            let record = record.map_err(|e| {
                DataFusionError::Execution(format!(
                    "externaldata: {} record {}: {e}",
                    path.display(),
                    number + 1
                ))
            })?;
            for (index, column) in columns.iter_mut().enumerate() {
                column.append_option(record.get(index));
            }
        }
        Ok(())
    }

    fn read_json(
        &self,
        text: &str,
        path: &std::path::Path,
        columns: &mut [StringBuilder],
    ) -> DfResult<()> {
        let stream = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
        for (number, value) in stream.enumerate() {
            let value = value.map_err(|e| {
                DataFusionError::Execution(format!(
                    "externaldata: {} record {}: {e}",
                    path.display(),
                    number + 1
                ))
            })?;
            let records = match value {
                serde_json::Value::Array(items) => items,
                other => vec![other],
            };
            for record in records {
                for (column, field) in columns.iter_mut().zip(self.schema.fields()) {
                    match record.get(field.name()) {
                        None | Some(serde_json::Value::Null) => column.append_null(),
                        Some(serde_json::Value::String(s)) => column.append_value(s),
                        Some(other) => column.append_value(other.to_string()),
                    }
                }
            }
        }
        Ok(())
    }
}

/// The local file `source` names, or an error for a network address.
fn local_path(source: &str) -> DfResult<PathBuf> {
    let lower = source.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("file://") {
        return Ok(PathBuf::from(&source[source.len() - rest.len()..]));
    }
    if lower.contains("://") {
        return Err(DataFusionError::Execution(format!(
            "externaldata: `{source}` is a network address; Quarry reads only local files, \
             so download it and give its path (or load it as a watchlist)"
        )));
    }
    Ok(PathBuf::from(source))
}

#[async_trait]
impl TableProvider for ExternalTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn DfSession,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let batch = self.read()?;
        let table = MemTable::try_new(self.schema.clone(), vec![vec![batch]])?;
        table.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("Name", DataType::Utf8, true),
            Field::new("Count", DataType::Int64, true),
        ]))
    }

    #[test]
    fn reads_csv_with_a_header_and_types_the_columns() {
        let dir = std::env::temp_dir().join(format!("quarry-external-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("list.csv");
        std::fs::write(&file, "Name,Count\nalpha,3\n\"b,eta\",x\n").unwrap();
        let table = ExternalTable::new(
            schema(),
            vec![format!("file://{}", file.display())],
            ExternalFormat::Csv,
            true,
        );
        let batch = table.read().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let names = batch.column(0).as_string::<i32>();
        assert_eq!((names.value(0), names.value(1)), ("alpha", "b,eta"));
        let counts = batch.column(1).as_primitive::<Int64Type>();
        assert_eq!(counts.value(0), 3);
        assert!(counts.is_null(1), "`x` is not a long");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_network_address_is_refused_with_its_name() {
        let table = ExternalTable::new(
            schema(),
            vec!["https://example.com/list.csv".into()],
            ExternalFormat::Csv,
            false,
        );
        let message = table.read().unwrap_err().to_string();
        assert!(
            message.contains("https://example.com/list.csv"),
            "{message}"
        );
        assert!(message.contains("local files"), "{message}");
    }
}
