//! `externaldata`: a table read from files when the query runs, typed by the columns the query
//! declares.
//!
//! Sources are local files (a path, or a `file://` URI) or network addresses. What happens to a
//! network address is the session's [`NetworkAccess`]: by default it is refused when the query
//! runs, with an error naming it, because rules often point `externaldata` at lists on GitHub and
//! a hunt on a laptop must not reach the internet behind the user's back. The user can allow it
//! (`--allow-network`); `quarry check --run` reads such a source as empty, as it does every table.
//! The query plans in every case, so such rules bind and show their schema.

use crate::functions::convert_text;
use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session as DfSession, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How `externaldata` treats a source at a network address (`https://…`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NetworkAccess {
    /// The query fails with an error that names the address.
    #[default]
    Refuse,
    /// The source is downloaded when the query runs.
    Fetch,
    /// The source has no rows (for checking queries over empty inputs).
    Empty,
}

/// The longest a download may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest source that is downloaded; a larger one is an error, not a truncated table.
const MAX_FETCH_BYTES: u64 = 256 << 20;

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
#[derive(Debug, Clone)]
pub struct ExternalTable {
    schema: SchemaRef,
    sources: Vec<String>,
    format: ExternalFormat,
    ignore_first_record: bool,
    network: NetworkAccess,
}

impl ExternalTable {
    /// A table of `schema` read from `sources` (paths, `file://` or network URIs), treating
    /// network addresses as `network` says.
    pub fn new(
        schema: SchemaRef,
        sources: Vec<String>,
        format: ExternalFormat,
        ignore_first_record: bool,
        network: NetworkAccess,
    ) -> Self {
        ExternalTable {
            schema,
            sources,
            format,
            ignore_first_record,
            network,
        }
    }

    /// The text of one source, or `None` when it is a network address read as empty.
    fn source_text(&self, source: &str) -> DfResult<Option<(String, PathBuf)>> {
        let Some(path) = local_path(source) else {
            return match self.network {
                NetworkAccess::Refuse => Err(DataFusionError::Execution(format!(
                    "externaldata: `{source}` is a network address, and network access is off; \
                     allow it with --allow-network, or download the file and give its path \
                     (or load it as a watchlist)"
                ))),
                NetworkAccess::Empty => Ok(None),
                NetworkAccess::Fetch => fetch(source).map(|text| Some((text, source.into()))),
            };
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            DataFusionError::Execution(format!("externaldata: cannot read {}: {e}", path.display()))
        })?;
        Ok(Some((text, path)))
    }

    /// Reads every source into one batch of the declared schema.
    fn read(&self) -> DfResult<RecordBatch> {
        let width = self.schema.fields().len();
        let mut columns: Vec<StringBuilder> = (0..width).map(|_| StringBuilder::new()).collect();
        for source in &self.sources {
            let Some((text, path)) = self.source_text(source)? else {
                continue;
            };
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

/// The local file `source` names, or `None` for a network address.
fn local_path(source: &str) -> Option<PathBuf> {
    let lower = source.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("file://") {
        return Some(PathBuf::from(&source[source.len() - rest.len()..]));
    }
    if lower.contains("://") {
        return None;
    }
    Some(PathBuf::from(source))
}

/// Downloads `url` as text, within [`FETCH_TIMEOUT`] and [`MAX_FETCH_BYTES`].
fn fetch(url: &str) -> DfResult<String> {
    let failed = |reason: String| {
        DataFusionError::Execution(format!("externaldata: cannot download `{url}`: {reason}"))
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| failed(e.to_string()))?;
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(MAX_FETCH_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| failed(e.to_string()))?;
    if bytes.len() as u64 > MAX_FETCH_BYTES {
        return Err(failed(format!(
            "it is larger than {} MiB",
            MAX_FETCH_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|_| failed("it is not UTF-8 text".to_string()))
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
        // Reading may download or read large files: off the async workers.
        let table = self.clone();
        let batch = tokio::task::spawn_blocking(move || table.read())
            .await
            .map_err(|e| DataFusionError::Execution(format!("externaldata: {e}")))??;
        let table = MemTable::try_new(self.schema.clone(), vec![vec![batch]])?;
        table.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
    use std::io::{BufRead, BufReader, Write};

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("Name", DataType::Utf8, true),
            Field::new("Count", DataType::Int64, true),
        ]))
    }

    fn csv_table(source: String, network: NetworkAccess) -> ExternalTable {
        ExternalTable::new(schema(), vec![source], ExternalFormat::Csv, true, network)
    }

    #[test]
    fn reads_csv_with_a_header_and_types_the_columns() {
        let dir = std::env::temp_dir().join(format!("quarry-external-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("list.csv");
        std::fs::write(&file, "Name,Count\nalpha,3\n\"b,eta\",x\n").unwrap();
        let table = csv_table(format!("file://{}", file.display()), NetworkAccess::Refuse);
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
    fn a_network_address_is_refused_with_its_name_unless_allowed() {
        let url = "https://example.com/list.csv".to_string();
        let message = csv_table(url.clone(), NetworkAccess::Refuse)
            .read()
            .unwrap_err()
            .to_string();
        assert!(message.contains(&url), "{message}");
        assert!(message.contains("--allow-network"), "{message}");
        let empty = csv_table(url, NetworkAccess::Empty).read().unwrap();
        assert_eq!(empty.num_rows(), 0);
    }

    /// Serves `body` once over HTTP on a local port and returns its URL.
    fn serve_once(body: &'static str) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
        });
        format!("http://{address}/list.csv")
    }

    #[test]
    fn an_allowed_network_address_is_downloaded() {
        let url = serve_once("Name,Count\ngamma,7\n");
        let batch = csv_table(url, NetworkAccess::Fetch).read().unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.column(0).as_string::<i32>().value(0), "gamma");
        assert_eq!(batch.column(1).as_primitive::<Int64Type>().value(0), 7);
    }

    #[test]
    fn a_failed_download_names_the_address() {
        // A port nothing listens on: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/gone.csv");
        let message = csv_table(url.clone(), NetworkAccess::Fetch)
            .read()
            .unwrap_err()
            .to_string();
        assert!(message.contains("cannot download"), "{message}");
        assert!(message.contains(&url), "{message}");
    }
}
