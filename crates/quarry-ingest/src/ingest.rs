//! One ingest of one input file: detect its format, read it, route every record to its table,
//! type it by the table's schema, stage Parquet files, and commit them with the manifest — or,
//! if anything fails, leave the workspace as it was. Malformed records are written to a rejects
//! file and counted; they never stop the ingest.

use crate::content_hash::{self, hash_file, ContentHasher};
use crate::formats::{self, Format, Item};
use crate::record::Position;
use crate::route::{table_name_from_stem, Route, Router};
use crate::sink::Sink;
use crate::typed_lines::{type_lines, TypedLinesError};
use crate::windows::{self, clock::ClockOffset, nxlog, WinEvent};
use crate::workspace::{Workspace, WorkspaceError};
use quarry_schema::Catalog;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

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
        let inputs = &workspace.manifest().inputs;
        let mut seen = inputs.contains_key(&hash);
        let legacy_of_same_size = inputs
            .iter()
            .any(|(key, input)| input.bytes == bytes && content_hash::is_legacy_key(key));
        if !seen && legacy_of_same_size {
            let legacy = content_hash::legacy_keys(path).map_err(io)?;
            seen = legacy.iter().any(|key| inputs.contains_key(key));
        }
        if seen {
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
    let mut hasher = ContentHasher::new();
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
            hasher
                .update_from(File::open(path).map_err(io)?)
                .map_err(io)?;
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
            hasher
                .update_from(File::open(path).map_err(io)?)
                .map_err(io)?;
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
    let hash = hasher.key();
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
    hasher: &mut ContentHasher,
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
    hasher: &'a mut ContentHasher,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        Ok(read)
    }
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
