//! One ingest of one input file: detect its format, read it, route every record to its table,
//! type it by the table's schema, stage Parquet files, and commit them with the manifest — or,
//! if anything fails, leave the workspace as it was. Malformed records are written to a rejects
//! file and counted; they never stop the ingest.

use crate::coerce::TableBuilder;
use crate::formats::{self, Format, Item};
use crate::infer::infer_schema;
use crate::record::{Origin, Position};
use crate::route::{table_name_from_stem, Route, Router};
use crate::typed_lines::{type_lines, TypedChunk, TypedLinesError};
use crate::windows::{self, clock::ClockOffset, nxlog, WinEvent};
use crate::workspace::manifest::{column_entries, InputEntry, TableEntry};
use crate::workspace::writer::StagedWriter;
use crate::workspace::{io_error, sync_parent, Workspace, WorkspaceError, REJECTS_DIR, TMP_DIR};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use quarry_schema::{Catalog, TableSchema};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows a table builder holds before they are written out.
const FLUSH_ROWS: usize = 65_536;
/// The longest record text kept in a rejects file.
const MAX_REJECT_TEXT: usize = 16 * 1024;

/// How to read inputs.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The format, instead of detecting it.
    pub format: Option<Format>,
    /// The table every record goes to, instead of deciding per record.
    pub table: Option<String>,
}

/// Progress of one file, for progress bars.
#[derive(Debug, Clone, Copy, Default)]
pub struct Progress {
    /// Bytes of the input read so far.
    pub bytes: u64,
    /// Records read so far.
    pub records: u64,
}

/// What one input file's ingest did.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    /// The input file.
    pub path: PathBuf,
    /// The format it was read as.
    pub format: Option<Format>,
    /// Its size.
    pub bytes: u64,
    /// True when the same content had been ingested before, so nothing was added.
    pub already_ingested: bool,
    /// Records accepted, by table.
    pub accepted: BTreeMap<String, u64>,
    /// Records rejected.
    pub rejected: u64,
    /// The rejects file, when there were rejects.
    pub rejects_file: Option<PathBuf>,
    /// Fields that match no column of their table and were dropped, by table, with counts.
    pub dropped_fields: BTreeMap<String, BTreeMap<String, u64>>,
    /// Tables whose schema was inferred from this input.
    pub inferred_tables: Vec<String>,
}

impl FileReport {
    /// Records accepted over all tables.
    pub fn total_accepted(&self) -> u64 {
        self.accepted.values().sum()
    }
}

/// Why an input could not be ingested at all.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The workspace could not be read or written.
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    /// The input could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The input is in none of the formats Quarry reads.
    #[error("{0}: unrecognised format (expected JSON lines, JSON, CSV, EVTX or Parquet); use --format to force one")]
    UnknownFormat(PathBuf),
    /// The input's container is broken (not a record, the whole file).
    #[error("{path}: {message}")]
    Unreadable {
        /// The input.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Ingests the file at `path` into `workspace` and commits it.
pub fn ingest_file(
    workspace: &mut Workspace,
    path: &Path,
    options: &IngestOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<FileReport, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = fs::metadata(path).map_err(io)?.len();
    let mut report = FileReport {
        path: path.to_path_buf(),
        bytes,
        ..FileReport::default()
    };
    // Hash first only when the manifest has an input of the same size (a possible repeat);
    // otherwise the hash is taken while reading, in the same pass.
    let same_size = workspace
        .manifest()
        .inputs
        .values()
        .any(|i| i.bytes == bytes);
    if same_size {
        let hash = hash_file(path).map_err(io)?;
        if workspace.manifest().inputs.contains_key(&hash) {
            report.already_ingested = true;
            return Ok(report);
        }
    }
    let format = match options.format {
        Some(format) => format,
        None => formats::detect(path)
            .map_err(io)?
            .ok_or_else(|| IngestError::UnknownFormat(path.to_path_buf()))?,
    };
    report.format = Some(format);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("Custom");
    let mut hasher = Sha256::new();
    let staging_name = format!("{:016x}", quick_id(path, bytes));
    let mut sink = Sink::new(workspace, &staging_name, path)?;
    let mut router = Router::new(
        Catalog::embedded(),
        options.table.clone(),
        table_name_from_stem(stem),
    );
    let mut windows_events: Vec<PendingEvent> = Vec::new();
    let records = std::cell::Cell::new(0u64);
    let mut handle = |item: Item, sink: &mut Sink, events: &mut Vec<PendingEvent>| {
        records.set(records.get() + 1);
        let (position, object) = item;
        match object {
            Err(reason) => sink.reject(position, &reason, None),
            Ok(object) => {
                for route in router.route(object) {
                    match route {
                        Route::Table(table, fields) => sink.accept(position, &table, fields),
                        Route::WindowsEvent(object) => events.push(PendingEvent {
                            position,
                            local: nxlog::local_time(&object),
                            collector: nxlog::collector_utc_time(&object),
                            event: nxlog::read(&object),
                        }),
                    }
                }
            }
        }
    };
    // JSON lines bound for one table of known schema are typed in parallel, straight from
    // their text; other inputs go record by record.
    let forced_schema = match (&options.table, format) {
        (Some(table), Format::Ndjson) => sink.known_schema(table).map(|s| (table.clone(), s)),
        _ => None,
    };
    match (format, forced_schema) {
        (Format::Ndjson, Some((table, schema))) => {
            let file = File::open(path).map_err(io)?;
            let mut records_done = 0u64;
            type_lines(file, &table, &schema, &mut hasher, |chunk| {
                records_done += chunk.records;
                let done = Progress {
                    bytes: chunk.bytes_done,
                    records: records_done,
                };
                sink.accept_typed(&table, &schema, chunk);
                progress(done);
            })
            .map_err(|error| match error {
                TypedLinesError::Io(source) => io(source),
                other => IngestError::Unreadable {
                    path: path.to_path_buf(),
                    message: other.to_string(),
                },
            })?;
        }
        (Format::Ndjson | Format::Csv, _) => {
            let file = File::open(path).map_err(io)?;
            // Reading and parsing run on a thread of their own, one chunk of records ahead of
            // the routing, typing and Parquet encoding here.
            let (sender, receiver) = std::sync::mpsc::sync_channel::<(Vec<Item>, u64)>(4);
            let hasher = &mut hasher;
            let outcome = std::thread::scope(|scope| {
                let reader = scope.spawn(move || read_text(file, format, hasher, &sender));
                for (items, bytes_done) in receiver {
                    for item in items {
                        handle(item, &mut sink, &mut windows_events);
                    }
                    progress(Progress {
                        bytes: bytes_done,
                        records: records.get(),
                    });
                }
                reader.join()
            });
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(TextError::Io(source))) => return Err(io(source)),
                Ok(Err(TextError::Unreadable(message))) => {
                    return Err(IngestError::Unreadable {
                        path: path.to_path_buf(),
                        message,
                    })
                }
                Err(_) => {
                    return Err(IngestError::Unreadable {
                        path: path.to_path_buf(),
                        message: "the reader thread failed".to_string(),
                    })
                }
            }
        }
        (Format::Json, _) => {
            let text = fs::read(path).map_err(io)?;
            hasher.update(&text);
            let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&text);
            let document: Value =
                serde_json::from_slice(text).map_err(|e| IngestError::Unreadable {
                    path: path.to_path_buf(),
                    message: format!("invalid JSON: {e}"),
                })?;
            let rows = formats::json::document_rows(document).map_err(|message| {
                IngestError::Unreadable {
                    path: path.to_path_buf(),
                    message,
                }
            })?;
            for item in rows {
                handle(item, &mut sink, &mut windows_events);
            }
            progress(Progress {
                bytes,
                records: records.get(),
            });
        }
        (Format::Parquet, _) => {
            hasher.update(hash_file(path).map_err(io)?.as_bytes());
            formats::parquet::read(
                path,
                |item| {
                    handle(item, &mut sink, &mut windows_events);
                },
                |_| {},
            )
            .map_err(|message| IngestError::Unreadable {
                path: path.to_path_buf(),
                message,
            })?;
            progress(Progress {
                bytes,
                records: records.get(),
            });
        }
        (Format::Evtx, _) => {
            hasher.update(hash_file(path).map_err(io)?.as_bytes());
            let events =
                windows::evtx::read_file(path).map_err(|message| IngestError::Unreadable {
                    path: path.to_path_buf(),
                    message,
                })?;
            let count = events.len() as u64;
            for (number, event) in events {
                let position = Position::Record(number);
                match event {
                    Ok(event) => {
                        let record = windows::map_event(&event);
                        sink.accept(position, &record.table, record.fields);
                    }
                    Err(reason) => sink.reject(position, &reason, None),
                }
            }
            progress(Progress {
                bytes,
                records: count,
            });
        }
    }
    map_windows_events(windows_events, &mut sink);
    let hash = format!("{:x}", hasher.finalize());
    if workspace.manifest().inputs.contains_key(&hash) {
        sink.discard();
        report.already_ingested = true;
        return Ok(report);
    }
    sink.commit(workspace, &hash, format.name(), &mut report)?;
    Ok(report)
}

/// Ingests generated `records` (the demo generator's, or any producer's) as one input named
/// `source`, identified by `identity` for idempotence, and commits them.
pub fn ingest_records(
    workspace: &mut Workspace,
    source: &str,
    identity: &str,
    records: impl Iterator<Item = crate::Record>,
    progress: &mut dyn FnMut(Progress),
) -> Result<FileReport, IngestError> {
    let mut report = FileReport {
        path: PathBuf::from(source),
        ..FileReport::default()
    };
    let hash = format!("{:x}", Sha256::digest(identity.as_bytes()));
    if workspace.manifest().inputs.contains_key(&hash) {
        report.already_ingested = true;
        return Ok(report);
    }
    let mut sink = Sink::new(workspace, &hash[..16], Path::new(source))?;
    let mut count = 0u64;
    for record in records {
        count += 1;
        sink.accept(Position::Record(count), &record.table, record.fields);
        if count.is_multiple_of(65_536) {
            progress(Progress {
                bytes: 0,
                records: count,
            });
        }
    }
    progress(Progress {
        bytes: 0,
        records: count,
    });
    sink.commit(workspace, &hash, "generated", &mut report)?;
    Ok(report)
}

/// A flat Windows event waiting for its file's clock offset to be known.
struct PendingEvent {
    position: Position,
    local: Option<i64>,
    collector: Option<i64>,
    event: WinEvent,
}

/// Gives every flat Windows event its UTC time (learning the file's clock offset from its
/// Sysmon events), maps it onto its table and accepts it.
fn map_windows_events(events: Vec<PendingEvent>, sink: &mut Sink) {
    let mut clock = ClockOffset::default();
    for pending in &events {
        if let (Some(local), Some(utc), true) =
            (pending.local, pending.event.time, pending.event.is_sysmon())
        {
            clock.observe(local, utc);
        }
    }
    let offset = clock.offset();
    for mut pending in events {
        if pending.event.time.is_none() {
            pending.event.time = match (pending.local, offset) {
                (Some(local), Some(offset)) => Some(local.saturating_add(offset)),
                _ => pending.collector.or(pending.local),
            };
        }
        let record = windows::map_event(&pending.event);
        sink.accept(pending.position, &record.table, record.fields);
    }
}

/// A record's fields with its position, held until its custom table's schema is inferred.
type PositionedFields = (Position, Map<String, Value>);

/// Where accepted and rejected records go during one ingest.
struct Sink {
    input: String,
    schemas: HashMap<String, Option<Arc<TableSchema>>>,
    stored: BTreeMap<String, TableEntry>,
    builders: HashMap<String, TableBuilder>,
    /// Rows typed elsewhere, waiting to make up a full batch.
    pending: HashMap<String, Vec<RecordBatch>>,
    custom: BTreeMap<String, Vec<PositionedFields>>,
    writer: StagedWriter,
    rejects_path: PathBuf,
    rejects: Option<BufWriter<File>>,
    rejected: u64,
    accepted: BTreeMap<String, u64>,
    failure: Option<WorkspaceError>,
    stage_root: PathBuf,
}

impl Sink {
    /// A sink staging under the workspace's `tmp/<staging_name>`.
    fn new(workspace: &Workspace, staging_name: &str, input: &Path) -> Result<Sink, IngestError> {
        let writer = StagedWriter::new(workspace.root(), staging_name)?;
        let stage_root = workspace.root().join(TMP_DIR).join(staging_name);
        Ok(Sink {
            input: input.display().to_string(),
            schemas: HashMap::new(),
            stored: workspace.manifest().tables.clone(),
            builders: HashMap::new(),
            pending: HashMap::new(),
            custom: BTreeMap::new(),
            writer,
            rejects_path: stage_root.join("rejects.ndjson"),
            rejects: None,
            rejected: 0,
            accepted: BTreeMap::new(),
            failure: None,
            stage_root,
        })
    }

    /// The schema of a table with a known schema (stored in the workspace, else embedded);
    /// `None` for a custom table.
    fn known_schema(&mut self, table: &str) -> Option<Arc<TableSchema>> {
        if let Some(schema) = self.schemas.get(table) {
            return schema.clone();
        }
        let schema = match self.stored.get(table) {
            Some(entry) if !entry.inferred => entry.schema(table).ok().map(Arc::new),
            Some(_) => None,
            None => Catalog::embedded().table(table).cloned().map(Arc::new),
        };
        self.schemas.insert(table.to_string(), schema.clone());
        schema
    }

    /// Takes one record for `table`.
    fn accept(&mut self, position: Position, table: &str, fields: Map<String, Value>) {
        // The common case, a table already being built, costs one lookup and no allocation.
        if !self.builders.contains_key(table) {
            let Some(schema) = self.known_schema(table) else {
                self.custom
                    .entry(table.to_string())
                    .or_default()
                    .push((position, fields));
                return;
            };
            self.builders
                .insert(table.to_string(), TableBuilder::new(schema));
        }
        let Some(builder) = self.builders.get_mut(table) else {
            return;
        };
        match builder.append(&fields) {
            Ok(()) => {
                let full = builder.len() >= FLUSH_ROWS;
                match self.accepted.get_mut(table) {
                    Some(count) => *count += 1,
                    None => {
                        self.accepted.insert(table.to_string(), 1);
                    }
                }
                if full {
                    self.flush(table);
                }
            }
            Err(reason) => {
                let reason = format!("{table}: {reason}");
                self.reject(position, &reason, Some(Value::Object(fields).to_string()));
            }
        }
    }

    /// Takes a chunk of rows typed elsewhere for `table`, with its rejects.
    fn accept_typed(&mut self, table: &str, schema: &Arc<TableSchema>, chunk: TypedChunk) {
        for reject in chunk.rejects {
            self.reject(reject.position, &reject.reason, reject.text);
        }
        // The table's builder keeps the dropped-field counts the report lists.
        self.builders
            .entry(table.to_string())
            .or_insert_with(|| TableBuilder::new(schema.clone()))
            .add_dropped(chunk.dropped);
        let rows = chunk.rows.num_rows();
        if rows == 0 {
            return;
        }
        *self.accepted.entry(table.to_string()).or_insert(0) += rows as u64;
        let pending = self.pending.entry(table.to_string()).or_default();
        pending.push(chunk.rows);
        if pending.iter().map(RecordBatch::num_rows).sum::<usize>() >= FLUSH_ROWS {
            self.write_pending(table, schema, false);
        }
    }

    /// Writes `table`'s pending rows in batches of [`FLUSH_ROWS`], as its builder would have
    /// flushed them; the rest waits for more rows unless `all`.
    fn write_pending(&mut self, table: &str, schema: &Arc<TableSchema>, all: bool) {
        let Some(pending) = self.pending.get_mut(table) else {
            return;
        };
        if self.failure.is_some() || pending.is_empty() {
            return;
        }
        let batches = std::mem::take(pending);
        let result = if StagedWriter::in_time_order(schema, &batches) {
            // Rows in time order need no sorting, so they need not be joined into one batch.
            self.write_in_order(table, schema, batches, all)
        } else {
            self.write_joined(table, schema, batches, all)
        };
        if let Err(error) = result {
            self.failure = Some(error);
        }
    }

    /// Writes whole batches of [`FLUSH_ROWS`] from `batches` (already in time order) as they
    /// are; the rest waits unless `all`.
    fn write_in_order(
        &mut self,
        table: &str,
        schema: &TableSchema,
        batches: Vec<RecordBatch>,
        all: bool,
    ) -> Result<(), WorkspaceError> {
        let total: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let mut writable = if all {
            total
        } else {
            total - total % FLUSH_ROWS
        };
        for batch in batches {
            let now = batch.num_rows().min(writable);
            if now > 0 {
                self.writer.write(schema, &batch.slice(0, now))?;
                writable -= now;
            }
            if now < batch.num_rows() {
                let rest = batch.slice(now, batch.num_rows() - now);
                self.pending
                    .entry(table.to_string())
                    .or_default()
                    .push(rest);
            }
        }
        Ok(())
    }

    /// Joins `batches` and writes them in batches of [`FLUSH_ROWS`] (each sorted by the
    /// writer); the rest waits unless `all`.
    fn write_joined(
        &mut self,
        table: &str,
        schema: &TableSchema,
        batches: Vec<RecordBatch>,
        all: bool,
    ) -> Result<(), WorkspaceError> {
        let joined = concat_batches(&batches[0].schema(), &batches).map_err(|e| {
            WorkspaceError::Parquet {
                path: PathBuf::from(table),
                message: e.to_string(),
            }
        })?;
        let mut start = 0;
        while joined.num_rows() - start >= FLUSH_ROWS {
            self.writer
                .write(schema, &joined.slice(start, FLUSH_ROWS))?;
            start += FLUSH_ROWS;
        }
        let rest = joined.slice(start, joined.num_rows() - start);
        if all && rest.num_rows() > 0 {
            self.writer.write(schema, &rest)?;
        } else if rest.num_rows() > 0 {
            self.pending
                .entry(table.to_string())
                .or_default()
                .push(rest);
        }
        Ok(())
    }

    /// Writes the rows `table`'s builder holds.
    fn flush(&mut self, table: &str) {
        let Some(builder) = self.builders.get_mut(table) else {
            return;
        };
        if builder.is_empty() || self.failure.is_some() {
            return;
        }
        let schema = builder.schema().clone();
        let result = builder
            .finish()
            .map_err(|e| WorkspaceError::Parquet {
                path: PathBuf::from(table),
                message: e.to_string(),
            })
            .and_then(|batch| self.writer.write(&schema, &batch));
        if let Err(error) = result {
            self.failure = Some(error);
        }
    }

    /// Records a reject with its position and reason (and the record, shortened).
    fn reject(&mut self, position: Position, reason: &str, record: Option<String>) {
        self.rejected += 1;
        if self.failure.is_some() {
            return;
        }
        let origin = Origin {
            file: self.input.clone(),
            position,
        };
        let (line, record_number) = match position {
            Position::Line(line) => (Some(line), None),
            Position::Record(number) => (None, Some(number)),
        };
        let mut text = record;
        if let Some(t) = &mut text {
            if t.len() > MAX_REJECT_TEXT {
                let mut cut = MAX_REJECT_TEXT;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
            }
        }
        let entry = json!({
            "file": origin.file,
            "line": line,
            "record": record_number,
            "at": origin.to_string(),
            "reason": reason,
            "text": text,
        });
        let result = (|| -> std::io::Result<()> {
            if self.rejects.is_none() {
                fs::create_dir_all(&self.stage_root)?;
                self.rejects = Some(BufWriter::new(File::create(&self.rejects_path)?));
            }
            if let Some(out) = &mut self.rejects {
                writeln!(out, "{entry}")?;
            }
            Ok(())
        })();
        if let Err(source) = result {
            self.failure = Some(WorkspaceError::Io {
                path: self.rejects_path.clone(),
                source,
            });
        }
    }

    /// Drops everything staged.
    fn discard(self) {
        let _ = fs::remove_dir_all(&self.stage_root);
    }

    /// Types the custom tables, writes the rest, publishes the files and commits the manifest.
    fn commit(
        mut self,
        workspace: &mut Workspace,
        hash: &str,
        format: &str,
        report: &mut FileReport,
    ) -> Result<(), IngestError> {
        let mut new_schemas: BTreeMap<String, TableSchema> = BTreeMap::new();
        for (table, rows) in std::mem::take(&mut self.custom) {
            let existing = workspace.table_schema(&table)?;
            let objects: Vec<Map<String, Value>> = rows.iter().map(|(_, o)| o.clone()).collect();
            let schema = infer_schema(&table, &objects, existing.as_ref()).map_err(|message| {
                IngestError::Unreadable {
                    path: report.path.clone(),
                    message: format!("table {table}: {message}"),
                }
            })?;
            let schema = Arc::new(schema);
            self.schemas.insert(table.clone(), Some(schema.clone()));
            new_schemas.insert(table.clone(), (*schema).clone());
            report.inferred_tables.push(table.clone());
            for (position, fields) in rows {
                self.accept(position, &table, fields);
            }
        }
        let tables: Vec<String> = self.builders.keys().cloned().collect();
        for table in &tables {
            if let Some(schema) = self.builders.get(table).map(|b| b.schema().clone()) {
                self.write_pending(table, &schema, true);
            }
            self.flush(table);
        }
        if let Some(error) = self.failure.take() {
            return Err(error.into());
        }
        for (table, builder) in &self.builders {
            if !builder.dropped_fields().is_empty() {
                report
                    .dropped_fields
                    .insert(table.clone(), builder.dropped_fields().clone());
            }
        }
        let rejects_file = match self.rejects.take() {
            Some(mut out) => {
                out.flush().map_err(io_error(&self.rejects_path))?;
                let file = out.into_inner().map_err(|e| WorkspaceError::Io {
                    path: self.rejects_path.clone(),
                    source: e.into_error(),
                })?;
                file.sync_all().map_err(io_error(&self.rejects_path))?;
                let relative = format!("{REJECTS_DIR}/{}.ndjson", &hash[..16]);
                let target = workspace.root().join(&relative);
                if let Some(parent) = target.parent() {
                    fs::create_dir_all(parent).map_err(io_error(parent))?;
                }
                fs::rename(&self.rejects_path, &target).map_err(io_error(&target))?;
                sync_parent(&target)?;
                Some(relative)
            }
            None => None,
        };
        let published = self.writer.publish()?;
        let mut manifest = workspace.manifest().clone();
        for (table, file) in published {
            let entry = manifest.tables.entry(table.clone()).or_insert_with(|| {
                let schema = self.schemas.get(&table).cloned().flatten();
                TableEntry {
                    columns: schema.map(|s| column_entries(&s)).unwrap_or_default(),
                    inferred: new_schemas.contains_key(&table),
                    files: Vec::new(),
                }
            });
            if let Some(schema) = new_schemas.get(&table) {
                entry.columns = column_entries(schema);
            }
            entry.files.push(file);
        }
        manifest.inputs.insert(
            hash.to_string(),
            InputEntry {
                path: report.path.display().to_string(),
                bytes: report.bytes,
                format: format.to_string(),
                ingested_at: quarry_engine::values::format_datetime(
                    chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0),
                    false,
                ),
                tables: self.accepted.clone(),
                rejected: self.rejected,
                rejects_file: rejects_file.clone(),
            },
        );
        workspace.commit(manifest)?;
        let _ = fs::remove_dir_all(&self.stage_root);
        report.accepted = self.accepted;
        report.rejected = self.rejected;
        report.rejects_file = rejects_file.map(|r| workspace.root().join(r));
        Ok(())
    }
}

/// Records a reader thread sends at a time.
const CHUNK_ITEMS: usize = 4096;

/// Why reading a text input stopped.
enum TextError {
    /// Reading the file failed.
    Io(std::io::Error),
    /// The file's structure is unreadable (e.g. a CSV header).
    Unreadable(String),
}

/// Reads a JSON-lines or CSV file, hashing it on the way, and sends its items in chunks with
/// the bytes read so far.
fn read_text(
    file: File,
    format: Format,
    hasher: &mut Sha256,
    sender: &std::sync::mpsc::SyncSender<(Vec<Item>, u64)>,
) -> Result<(), TextError> {
    let reader = HashingReader {
        inner: file,
        hasher,
    };
    let buffered = BufReader::with_capacity(1 << 20, reader);
    let bytes = std::cell::Cell::new(0u64);
    let mut pending: Vec<Item> = Vec::with_capacity(CHUNK_ITEMS);
    let mut on_item = |item: Item| {
        pending.push(item);
        if pending.len() >= CHUNK_ITEMS {
            // A closed receiver means the ingest stopped; the rest is read and dropped.
            let _ = sender.send((std::mem::take(&mut pending), bytes.get()));
        }
    };
    let on_progress = |done: u64| bytes.set(done);
    let result = if format == Format::Ndjson {
        formats::json::read_lines(buffered, &mut on_item, on_progress).map_err(TextError::Io)
    } else {
        formats::csv::read(buffered, &mut on_item, on_progress).map_err(TextError::Unreadable)
    };
    let _ = sender.send((pending, bytes.get()));
    result
}

/// A reader that hashes what passes through it.
struct HashingReader<'a, R> {
    inner: R,
    hasher: &'a mut Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        Ok(read)
    }
}

/// The SHA-256 of a file's content, as hex.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// A staging-folder id for an input (its path and size): unique enough for one writer at a
/// time, before the content hash is known.
fn quick_id(path: &Path, bytes: u64) -> u64 {
    let digest = Sha256::digest(format!(
        "{}\0{bytes}\0{:?}",
        path.display(),
        std::time::SystemTime::now()
    ));
    u64::from_le_bytes([
        digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
    ])
}
