//! JSON lines bound for one table of known schema (`--table`), typed in parallel: a reader
//! thread reads and hashes the file in chunks that end at a line end, worker threads read each
//! chunk's records straight into Arrow columns, and the caller receives the chunks' rows in
//! file order. Records are typed exactly as the record-by-record path types them; a record the
//! flat reader cannot take is read as a `Value` and typed the usual way.

use crate::coerce::TableBuilder;
use crate::content_hash::ContentHasher;
use crate::formats::flat_json::FlatReader;
use crate::formats::json::parse_line;
use crate::record::Position;
use datafusion::arrow::record_batch::RecordBatch;
use quarry_schema::TableSchema;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Bytes of input a worker types at a time (a chunk grows to hold a longer line).
const CHUNK_BYTES: usize = 4 << 20;
/// The fewest bytes read at a time, when a chunk grows to hold a longer line.
const MIN_READ: usize = 4096;
/// Typed chunks that may wait for the caller: about a Parquet batch's worth of rows.
const TYPED_AHEAD: usize = 16;
/// The most worker threads, however many cores there are.
const MAX_WORKERS: usize = 8;

/// One rejected record of a chunk.
#[derive(Debug)]
pub(crate) struct LineReject {
    /// Its line.
    pub position: Position,
    /// Why it was rejected.
    pub reason: String,
    /// The record as JSON text, when it was an object.
    pub text: Option<String>,
}

/// What a worker made of one chunk of lines.
#[derive(Debug)]
pub(crate) struct TypedChunk {
    /// The accepted records' rows.
    pub rows: RecordBatch,
    /// The rejected records, in line order.
    pub rejects: Vec<LineReject>,
    /// Field names that matched no column, with counts.
    pub dropped: BTreeMap<String, u64>,
    /// Records read (lines that are not blank).
    pub records: u64,
    /// Bytes of the input up to the chunk's end.
    pub bytes_done: u64,
}

/// Why typing the lines stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TypedLinesError {
    /// Reading the input failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Arrow could not assemble a chunk's rows.
    #[error("{0}")]
    Arrow(String),
    /// A reader or worker thread failed.
    #[error("a reader or worker thread failed")]
    Thread,
}

/// A chunk of whole lines with the number of lines before it.
struct Chunk {
    index: u64,
    lines_before: u64,
    bytes_done: u64,
    text: Vec<u8>,
}

/// Reads `file` (hashing it into `hasher`) as JSON lines of `table`, typed by `schema`, and
/// hands each chunk's rows to `on_chunk` in file order.
pub(crate) fn type_lines(
    file: File,
    table: &str,
    schema: &Arc<TableSchema>,
    hasher: &mut ContentHasher,
    on_chunk: impl FnMut(TypedChunk),
) -> Result<(), TypedLinesError> {
    type_lines_in_chunks(file, table, schema, hasher, CHUNK_BYTES, on_chunk)
}

/// [`type_lines`] with chunks of about `chunk_bytes`.
fn type_lines_in_chunks(
    file: File,
    table: &str,
    schema: &Arc<TableSchema>,
    hasher: &mut ContentHasher,
    chunk_bytes: usize,
    mut on_chunk: impl FnMut(TypedChunk),
) -> Result<(), TypedLinesError> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_WORKERS);
    let (chunk_sender, chunk_receiver) = sync_channel::<Chunk>(workers);
    let chunk_receiver = Arc::new(Mutex::new(chunk_receiver));
    // Typed chunks may queue up while the caller encodes a batch, so that the workers keep
    // typing (and both cores stay busy) instead of waiting for the encoder.
    let (typed_sender, typed_receiver) =
        sync_channel::<(u64, Result<TypedChunk, TypedLinesError>)>(TYPED_AHEAD);
    // Workers hand finished chunks' buffers back to the reader, which fills them again
    // instead of asking the allocator (and the kernel) for fresh pages every time.
    let (spare_sender, spare_receiver) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| -> Result<(), TypedLinesError> {
        let reader = scope
            .spawn(move || read_chunks(file, hasher, chunk_bytes, &chunk_sender, &spare_receiver));
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let chunks = Arc::clone(&chunk_receiver);
            let typed = typed_sender.clone();
            let schema = Arc::clone(schema);
            let spare = spare_sender.clone();
            handles.push(scope.spawn(move || work(&chunks, &typed, &spare, table, schema)));
        }
        drop(typed_sender);
        drop(spare_sender);
        // Chunks finish out of order; they are handed on in order.
        let mut waiting: BTreeMap<u64, TypedChunk> = BTreeMap::new();
        let mut next = 0u64;
        let mut failure: Option<TypedLinesError> = None;
        for (index, typed) in typed_receiver {
            match typed {
                Ok(chunk) => {
                    waiting.insert(index, chunk);
                }
                Err(error) => {
                    failure.get_or_insert(error);
                }
            }
            while let Some(chunk) = waiting.remove(&next) {
                on_chunk(chunk);
                next += 1;
            }
        }
        let reader = reader.join().map_err(|_| TypedLinesError::Thread)?;
        for handle in handles {
            handle.join().map_err(|_| TypedLinesError::Thread)?;
        }
        reader?;
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    })
}

/// Reads the file in chunks ending at a line end, hashing every byte, and sends them.
fn read_chunks(
    mut file: File,
    hasher: &mut ContentHasher,
    chunk_bytes: usize,
    sender: &SyncSender<Chunk>,
    spare: &Receiver<Vec<u8>>,
) -> std::io::Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    let mut lines_before = 0u64;
    let mut bytes_done = 0u64;
    let mut index = 0u64;
    loop {
        let mut text = spare.try_recv().unwrap_or_default();
        text.clear();
        text.reserve(chunk_bytes + carry.len());
        text.append(&mut carry);
        let mut at_end = false;
        // Read until the chunk is full and holds a line end, or the file ends.
        loop {
            let start = text.len();
            let wanted = chunk_bytes.saturating_sub(start).max(MIN_READ) as u64;
            let read = (&mut file).take(wanted).read_to_end(&mut text)?;
            hasher.update(&text[start..]);
            if read == 0 {
                at_end = true;
                break;
            }
            if text.len() >= chunk_bytes {
                if let Some(end) = memchr::memrchr(b'\n', &text) {
                    carry = text.split_off(end + 1);
                    break;
                }
            }
        }
        if text.is_empty() {
            return Ok(());
        }
        bytes_done += text.len() as u64;
        let lines = memchr::memchr_iter(b'\n', &text).count() as u64;
        let chunk = Chunk {
            index,
            lines_before,
            bytes_done,
            text,
        };
        if sender.send(chunk).is_err() {
            // The workers stopped; the caller reports why.
            return Ok(());
        }
        index += 1;
        lines_before += lines;
        if at_end {
            return Ok(());
        }
    }
}

/// A worker: types chunks until there are none left.
fn work(
    chunks: &Mutex<Receiver<Chunk>>,
    typed: &SyncSender<(u64, Result<TypedChunk, TypedLinesError>)>,
    spare: &std::sync::mpsc::Sender<Vec<u8>>,
    table: &str,
    schema: Arc<TableSchema>,
) {
    let mut builder = TableBuilder::new(schema);
    let mut reader = FlatReader::default();
    loop {
        let next = match chunks.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(chunk) = next else {
            return;
        };
        let result = type_chunk(&chunk, table, &mut builder, &mut reader);
        if typed.send((chunk.index, result)).is_err() {
            return;
        }
        // The reader may have finished; then the buffer is simply dropped.
        let _ = spare.send(chunk.text);
    }
}

/// Types one chunk's lines, as `formats::json::read_lines` and `TableBuilder::append` would.
fn type_chunk(
    chunk: &Chunk,
    table: &str,
    builder: &mut TableBuilder,
    reader: &mut FlatReader,
) -> Result<TypedChunk, TypedLinesError> {
    let mut rejects = Vec::new();
    let mut records = 0u64;
    let mut number = chunk.lines_before;
    let mut rest = chunk.text.as_slice();
    // One list of fields serves every line of the chunk.
    let mut fields = Vec::new();
    while !rest.is_empty() {
        // Each line keeps its line end, as `read_until` gives it (error columns depend on it).
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        number += 1;
        let mut bytes = line;
        if number == 1 {
            bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        records += 1;
        let position = Position::Line(number);
        let outcome = if reader.read_into(bytes, &mut fields) {
            builder
                .append_fields(fields.iter().map(|(name, value)| (name.as_ref(), value)))
                .map_err(|reason| (reason.to_string(), true))
        } else {
            match parse_line(bytes) {
                Ok(object) => builder
                    .append(&object)
                    .map_err(|reason| (reason.to_string(), true)),
                Err(reason) => Err((reason, false)),
            }
        };
        if let Err((reason, is_object)) = outcome {
            let (reason, text) = if is_object {
                // The text as the record-by-record path writes it: the object, re-serialised.
                let text = parse_line(bytes)
                    .ok()
                    .map(|object| Value::Object(object).to_string());
                (format!("{table}: {reason}"), text)
            } else {
                (reason, None)
            };
            rejects.push(LineReject {
                position,
                reason,
                text,
            });
        }
    }
    let rows = builder
        .finish()
        .map_err(|e| TypedLinesError::Arrow(e.to_string()))?;
    Ok(TypedChunk {
        rows,
        rejects,
        dropped: builder.take_dropped(),
        records,
        bytes_done: chunk.bytes_done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::read_lines;
    use datafusion::arrow::compute::concat_batches;
    use quarry_schema::Catalog;
    use std::io::Write;

    type Rejects = Vec<(Position, String, Option<String>)>;
    type Dropped = BTreeMap<String, u64>;

    /// Types `text` the record-by-record way: rows, and (line, reason, text) of each reject.
    fn reference(text: &str, schema: &Arc<TableSchema>) -> (RecordBatch, Rejects, Dropped) {
        let mut builder = TableBuilder::new(schema.clone());
        let mut rejects = Vec::new();
        read_lines(
            text.as_bytes(),
            |(position, item)| match item {
                Ok(object) => {
                    if let Err(reason) = builder.append(&object) {
                        rejects.push((
                            position,
                            format!("T: {reason}"),
                            Some(Value::Object(object).to_string()),
                        ));
                    }
                }
                Err(reason) => rejects.push((position, reason, None)),
            },
            |_| {},
        )
        .unwrap();
        let dropped = builder.dropped_fields().clone();
        (builder.finish().unwrap(), rejects, dropped)
    }

    /// `batch` as the workspace scan reads it: a string column absent from a whole batch is
    /// stored as nulls, which read as empty strings, so where batches end does not matter.
    fn as_read(batch: &RecordBatch) -> RecordBatch {
        use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
        use datafusion::arrow::datatypes::DataType;
        let columns: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(|column| match column.data_type() {
                DataType::Utf8 if column.null_count() > 0 => Arc::new(
                    column
                        .as_string::<i32>()
                        .iter()
                        .map(|v| Some(v.unwrap_or("")))
                        .collect::<StringArray>(),
                ) as ArrayRef,
                _ => Arc::clone(column),
            })
            .collect();
        RecordBatch::try_new(batch.schema(), columns).unwrap()
    }

    #[test]
    fn typed_chunks_equal_the_record_by_record_path() {
        let schema = Arc::new(
            Catalog::embedded()
                .table("DeviceProcessEvents")
                .unwrap()
                .clone(),
        );
        let mut text = String::from("\u{feff}");
        for i in 0..300 {
            let line = match i % 15 {
                0 => format!("{{\"Timestamp\": \"2024-05-01T00:00:{:02}Z\", \"DeviceName\": \"a\\\\b\", \"ProcessId\": {i}, \"Extra\": \"x\"}}\r\n", i % 60),
                1 => "\n".to_string(),
                2 => "[1, 2]\n".to_string(),
                3 => "{bad\n".to_string(),
                4 => "{\"Timestamp\": \"2024-05-01\", \"ProcessId\": \"twelve\"}\n".to_string(),
                5 => "{\"DeviceName\": \"no time\"}\n".to_string(),
                6 => "{\"Timestamp\": \"2024-05-02\", \"DeviceName\": \"one\", \"DeviceName\": \"two\"}\n".to_string(),
                7 => "{\"Timestamp\": \"2024-05-02\", \"AdditionalFields\": {\"a\": [1]}, \"FileName\": 1.5e3}\n".to_string(),
                8 => "{\"Timestamp\": \"2024-05-02\", \"ProcessId_string\": \"0x10\", \"ProcessId\": null, \"FileName\": true}\n".to_string(),
                9 => "{\"Timestamp_datetime\": \"2024-05-03T01:02:03Z\", \"ProcessId\": 18446744073709551615, \"AdditionalFields\": \"{\\\"k\\\": 1}\"}\n".to_string(),
                10 => "{\"Timestamp\": \"2024-05-03\", \"ProcessId\": 1.0, \"FileName\": \"\\u00e9\", \"AccountSid\": \"\", \"Unknown\": null}\n".to_string(),
                11 => "{\"Timestamp\": \"2024-05-03\", \"ProcessId\": -7, \"Unknown2\": 3}".to_string() + "\n",
                12 => "{\"Timestamp\": \"2024-05-03\", \"ProcessId\": 1.5}\n".to_string(),
                13 => "{\"Timestamp\": \"2024-05-03\"".to_string() + "\n",
                _ => "   \t\n".to_string(),
            };
            text.push_str(&line);
        }
        text.push_str(
            "{\"Timestamp\": \"2024-05-04\", \"FileName\": \"last line without an end\"}",
        );
        let (expected_rows, expected_rejects, expected_dropped) = reference(&text, &schema);

        for chunk_bytes in [1, 64, 1000, 1 << 20] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("in.ndjson");
            File::create(&path)
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let mut hasher = ContentHasher::new();
            let mut batches = Vec::new();
            let mut rejects = Vec::new();
            let mut dropped: BTreeMap<String, u64> = BTreeMap::new();
            let mut records = 0;
            let mut bytes_done = 0;
            type_lines_in_chunks(
                File::open(&path).unwrap(),
                "T",
                &schema,
                &mut hasher,
                chunk_bytes,
                |chunk| {
                    batches.push(chunk.rows);
                    rejects.extend(
                        chunk
                            .rejects
                            .into_iter()
                            .map(|r| (r.position, r.reason, r.text)),
                    );
                    for (name, count) in chunk.dropped {
                        *dropped.entry(name).or_insert(0) += count;
                    }
                    records += chunk.records;
                    assert!(chunk.bytes_done > bytes_done);
                    bytes_done = chunk.bytes_done;
                },
            )
            .unwrap();
            let rows = concat_batches(&expected_rows.schema(), &batches).unwrap();
            assert_eq!(
                as_read(&rows),
                as_read(&expected_rows),
                "chunks of {chunk_bytes}"
            );
            assert_eq!(rejects, expected_rejects, "chunks of {chunk_bytes}");
            assert_eq!(dropped, expected_dropped);
            assert_eq!(dropped.get("Extra"), Some(&20));
            assert_eq!(dropped.get("Unknown2"), Some(&20));
            assert_eq!(dropped.get("Unknown"), None);
            assert_eq!(records, 261);
            assert_eq!(bytes_done, text.len() as u64);
            let mut whole = ContentHasher::new();
            whole.update(text.as_bytes());
            assert_eq!(hasher.key(), whole.key());
        }
    }
}
