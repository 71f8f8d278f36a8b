//! Parquet inputs in a table's shape: each row as a JSON object, typed again by the table's
//! schema when it is appended.

use super::Item;
use crate::record::Position;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use quarry_engine::format::cell_to_json;
use serde_json::{Map, Value};
use std::fs::File;
use std::path::Path;

/// Reads every row of the Parquet file at `path`.
pub fn read(
    path: &Path,
    mut sink: impl FnMut(Item),
    mut progress: impl FnMut(u64),
) -> Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| e.to_string())?
        .with_batch_size(8192)
        .build()
        .map_err(|e| e.to_string())?;
    let mut row_number = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| format!("after row {row_number}: {e}"))?;
        let schema = batch.schema();
        for row in 0..batch.num_rows() {
            row_number += 1;
            let object: Map<String, Value> = schema
                .fields()
                .iter()
                .zip(batch.columns())
                .map(|(field, column)| (field.name().clone(), cell_to_json(column.as_ref(), row)))
                .collect();
            sink((Position::Record(row_number), Ok(object)));
        }
        progress(row_number);
    }
    Ok(())
}
