//! Staging an ingest's rows as Parquet: one file per table and day, rows sorted by time inside
//! each batch, zstd, row groups with page statistics so that time filters prune. Files are
//! written under `tmp/` and moved into `tables/` by [`StagedWriter::publish`]; the caller then
//! commits the manifest that lists them.

use super::manifest::FileEntry;
use super::{io_error, sync_parent, WorkspaceError, TABLES_DIR, TMP_DIR};
use chrono::DateTime;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::{sort_to_indices, take_record_batch, SortOptions};
use datafusion::arrow::datatypes::{DataType, TimestampNanosecondType};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use quarry_schema::{KustoType, TableSchema};
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Rows per Parquet row group: small enough that a time filter skips most of a day's file.
const ROW_GROUP_ROWS: usize = 65_536;
/// The partition of rows without a time.
const NO_DATE: &str = "none";
/// Nanoseconds in a day.
const DAY_NANOS: i64 = 86_400 * 1_000_000_000;
/// The time columns whose ranges are recorded per file.
const TIME_COLUMNS: [&str; 2] = ["TimeGenerated", "Timestamp"];

/// An open staged file.
struct OpenFile {
    writer: ArrowWriter<File>,
    staged: PathBuf,
    rows: u64,
    time_ranges: BTreeMap<String, (i64, i64)>,
}

/// The files of one ingest, staged until published.
pub struct StagedWriter {
    root: PathBuf,
    stage: PathBuf,
    file_prefix: String,
    zstd: ZstdLevel,
    open: HashMap<(String, String), OpenFile>,
}

impl std::fmt::Debug for StagedWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StagedWriter")
            .field("stage", &self.stage)
            .field("open_files", &self.open.len())
            .finish()
    }
}

impl StagedWriter {
    /// A writer staging under `<root>/tmp/<file_prefix>/`; published files are named
    /// `part-<file_prefix>.parquet` in their day folder.
    pub fn new(root: &Path, file_prefix: &str) -> Result<StagedWriter, WorkspaceError> {
        let stage = root.join(TMP_DIR).join(file_prefix);
        fs::create_dir_all(&stage).map_err(io_error(&stage))?;
        let zstd = ZstdLevel::try_new(3).map_err(|e| WorkspaceError::Parquet {
            path: stage.clone(),
            message: e.to_string(),
        })?;
        Ok(StagedWriter {
            root: root.to_path_buf(),
            stage,
            file_prefix: file_prefix.to_string(),
            zstd,
            open: HashMap::new(),
        })
    }

    /// Writes `batch` (rows of `table`) into the files of the days its rows fall on.
    pub fn write(
        &mut self,
        table: &TableSchema,
        batch: &RecordBatch,
    ) -> Result<(), WorkspaceError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let time_index = table
            .time_column()
            .and_then(|c| batch.schema().index_of(&c.name).ok())
            .filter(|&i| matches!(batch.column(i).data_type(), DataType::Timestamp(..)));
        let Some(time_index) = time_index else {
            return self.write_slice(table, NO_DATE, batch);
        };
        let column = batch
            .column(time_index)
            .as_primitive::<TimestampNanosecondType>();
        // Exports are usually in time order already; sorting then would only copy the batch.
        let in_order =
            column.null_count() == 0 && column.values().windows(2).all(|pair| pair[0] <= pair[1]);
        let sorted = if in_order {
            batch.clone()
        } else {
            let options = SortOptions {
                descending: false,
                nulls_first: false,
            };
            let order = sort_to_indices(batch.column(time_index), Some(options), None)
                .map_err(|e| self.parquet_error(&e))?;
            take_record_batch(batch, &order).map_err(|e| self.parquet_error(&e))?
        };
        let times = sorted
            .column(time_index)
            .as_primitive::<TimestampNanosecondType>();
        let mut start = 0;
        while start < sorted.num_rows() {
            let day = day_of(times, start);
            let mut end = start + 1;
            while end < sorted.num_rows() && day_of(times, end) == day {
                end += 1;
            }
            let date = day.map(date_text).unwrap_or_else(|| NO_DATE.to_string());
            self.write_slice(table, &date, &sorted.slice(start, end - start))?;
            start = end;
        }
        Ok(())
    }

    /// Closes every staged file, syncs it and moves it into its table's day folder. Returns
    /// the entries the manifest should add, by table.
    pub fn publish(self) -> Result<Vec<(String, FileEntry)>, WorkspaceError> {
        let mut published = Vec::with_capacity(self.open.len());
        let mut entries: Vec<((String, String), OpenFile)> = self.open.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for ((table, date), mut file) in entries {
            file.writer.finish().map_err(|e| WorkspaceError::Parquet {
                path: file.staged.clone(),
                message: e.to_string(),
            })?;
            drop(file.writer);
            File::open(&file.staged)
                .and_then(|f| f.sync_all())
                .map_err(io_error(&file.staged))?;
            let relative = format!(
                "{TABLES_DIR}/{table}/date={date}/part-{}.parquet",
                self.file_prefix
            );
            let target = self.root.join(&relative);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(io_error(parent))?;
            }
            fs::rename(&file.staged, &target).map_err(io_error(&target))?;
            sync_parent(&target)?;
            let bytes = fs::metadata(&target).map_err(io_error(&target))?.len();
            published.push((
                table,
                FileEntry {
                    path: relative,
                    date,
                    rows: file.rows,
                    bytes,
                    time_ranges: file.time_ranges,
                },
            ));
        }
        let _ = fs::remove_dir_all(&self.stage);
        Ok(published)
    }

    /// Appends `slice` to the staged file of (`table`, `date`), opening it on first use.
    fn write_slice(
        &mut self,
        table: &TableSchema,
        date: &str,
        slice: &RecordBatch,
    ) -> Result<(), WorkspaceError> {
        let key = (table.name().to_string(), date.to_string());
        if !self.open.contains_key(&key) {
            let staged = self.stage.join(format!("{}-{date}.parquet", table.name()));
            let file = File::create(&staged).map_err(io_error(&staged))?;
            let properties = writer_properties(table, self.zstd);
            let writer =
                ArrowWriter::try_new(file, slice.schema(), Some(properties)).map_err(|e| {
                    WorkspaceError::Parquet {
                        path: staged.clone(),
                        message: e.to_string(),
                    }
                })?;
            self.open.insert(
                key.clone(),
                OpenFile {
                    writer,
                    staged,
                    rows: 0,
                    time_ranges: BTreeMap::new(),
                },
            );
        }
        let Some(file) = self.open.get_mut(&key) else {
            return Ok(());
        };
        file.writer
            .write(slice)
            .map_err(|e| WorkspaceError::Parquet {
                path: file.staged.clone(),
                message: e.to_string(),
            })?;
        file.rows += slice.num_rows() as u64;
        for name in TIME_COLUMNS {
            let Ok(index) = slice.schema().index_of(name) else {
                continue;
            };
            let column = slice.column(index);
            if !matches!(column.data_type(), DataType::Timestamp(..)) {
                continue;
            }
            let values = column.as_primitive::<TimestampNanosecondType>();
            let (Some(lo), Some(hi)) = (
                datafusion::arrow::compute::min(values),
                datafusion::arrow::compute::max(values),
            ) else {
                continue;
            };
            let range = file.time_ranges.entry(name.to_string()).or_insert((lo, hi));
            range.0 = range.0.min(lo);
            range.1 = range.1.max(hi);
        }
        Ok(())
    }

    /// A Parquet/Arrow error while staging.
    fn parquet_error(&self, error: &dyn std::fmt::Display) -> WorkspaceError {
        WorkspaceError::Parquet {
            path: self.stage.clone(),
            message: error.to_string(),
        }
    }
}

/// How a table's files are written: zstd, row groups of [`ROW_GROUP_ROWS`], page statistics
/// for every column but strings.
fn writer_properties(table: &TableSchema, zstd: ZstdLevel) -> WriterProperties {
    let mut properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(zstd))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_dictionary_enabled(false);
    // Min/max of every string costs a comparison per value and prunes little in time-ordered
    // files; times and numbers keep theirs.
    for column in table.columns() {
        if matches!(column.ty, KustoType::String | KustoType::Dynamic) {
            properties = properties.set_column_statistics_enabled(
                ColumnPath::from(column.name.as_str()),
                EnabledStatistics::None,
            );
        }
    }
    properties.build()
}

/// The day (days since the Unix epoch) of row `row`, or `None` for a null time.
fn day_of(times: &datafusion::arrow::array::TimestampNanosecondArray, row: usize) -> Option<i64> {
    (!times.is_null(row)).then(|| times.value(row).div_euclid(DAY_NANOS))
}

/// `YYYY-MM-DD` of a day number.
fn date_text(day: i64) -> String {
    DateTime::from_timestamp(day * 86_400, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| NO_DATE.to_string())
}
