//! Where one ingest's records go: typed rows staged as Parquet by table and day, rejects
//! written with their position and reason, custom tables held until their schema is inferred,
//! and everything committed together with the manifest (or dropped).

use crate::coerce::TableBuilder;
use crate::custom_spool::CustomSpool;
use crate::ingest::{FileReport, IngestError};
use crate::record::{Origin, Position};
use crate::typed_lines::TypedChunk;
use crate::workspace::manifest::{column_entries, InputEntry, TableEntry};
use crate::workspace::writer::StagedWriter;
use crate::workspace::{io_error, sync_parent, Workspace, WorkspaceError, REJECTS_DIR, TMP_DIR};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use quarry_schema::{Catalog, TableSchema};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows a table builder holds before they are written out.
const FLUSH_ROWS: usize = 65_536;
/// The longest record text kept in a rejects file.
const MAX_REJECT_TEXT: usize = 16 * 1024;

/// Where accepted and rejected records go during one ingest.
pub(crate) struct Sink {
    input: String,
    schemas: HashMap<String, Option<Arc<TableSchema>>>,
    stored: BTreeMap<String, TableEntry>,
    builders: HashMap<String, TableBuilder>,
    /// Rows typed elsewhere, waiting to make up a full batch.
    pending: HashMap<String, Vec<RecordBatch>>,
    /// Custom tables' records, spooled until their schema is inferred.
    custom: BTreeMap<String, CustomSpool>,
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
    pub(crate) fn new(
        workspace: &Workspace,
        staging_name: &str,
        input: &Path,
    ) -> Result<Sink, IngestError> {
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
    pub(crate) fn known_schema(&mut self, table: &str) -> Option<Arc<TableSchema>> {
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
    pub(crate) fn accept(&mut self, position: Position, table: &str, fields: Map<String, Value>) {
        // The common case, a table already being built, costs one lookup and no allocation.
        if !self.builders.contains_key(table) {
            let Some(schema) = self.known_schema(table) else {
                self.spool(position, table, &fields);
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

    /// Keeps a record of custom table `table` until its schema is known.
    fn spool(&mut self, position: Position, table: &str, fields: &Map<String, Value>) {
        if self.failure.is_some() {
            return;
        }
        if !self.custom.contains_key(table) {
            let path = self
                .stage_root
                .join(format!("custom-{}.ndjson", self.custom.len()));
            match CustomSpool::create(&path) {
                Ok(spool) => {
                    self.custom.insert(table.to_string(), spool);
                }
                Err(source) => {
                    self.failure = Some(WorkspaceError::Io { path, source });
                    return;
                }
            }
        }
        let Some(spool) = self.custom.get_mut(table) else {
            return;
        };
        if let Err(source) = spool.push(position, fields) {
            let path = spool.path().to_path_buf();
            self.failure = Some(WorkspaceError::Io { path, source });
        }
    }

    /// Takes a chunk of rows typed elsewhere for `table`, with its rejects.
    pub(crate) fn accept_typed(
        &mut self,
        table: &str,
        schema: &Arc<TableSchema>,
        chunk: TypedChunk,
    ) {
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
    pub(crate) fn reject(&mut self, position: Position, reason: &str, record: Option<String>) {
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
    pub(crate) fn discard(self) {
        let _ = fs::remove_dir_all(&self.stage_root);
    }

    /// Types the custom tables, writes the rest, publishes the files and commits the manifest.
    pub(crate) fn commit(
        mut self,
        workspace: &mut Workspace,
        hash: &str,
        format: &str,
        report: &mut FileReport,
    ) -> Result<(), IngestError> {
        let mut new_schemas: BTreeMap<String, TableSchema> = BTreeMap::new();
        if let Some(error) = self.failure.take() {
            return Err(error.into());
        }
        for (table, spool) in std::mem::take(&mut self.custom) {
            let existing = workspace.table_schema(&table)?;
            let schema = spool.schema(&table, existing.as_ref()).map_err(|message| {
                IngestError::Unreadable {
                    path: report.path.clone(),
                    message: format!("table {table}: {message}"),
                }
            })?;
            let schema = Arc::new(schema);
            self.schemas.insert(table.clone(), Some(schema.clone()));
            new_schemas.insert(table.clone(), (*schema).clone());
            report.inferred_tables.push(table.clone());
            let spool_path = spool.path().to_path_buf();
            spool
                .drain(|position, fields| self.accept(position, &table, fields))
                .map_err(io_error(&spool_path))?;
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
