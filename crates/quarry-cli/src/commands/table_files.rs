//! `--table NAME=PATH`: reading CSV, JSON and Parquet files into a session's tables, with their
//! columns brought onto the Arrow types of the Kusto mapping (`quarry_engine::types`).

use crate::commands::CommandError;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DurationNanosecondArray, LargeStringArray, TimestampNanosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, Field, Int64Type, Schema, TimeUnit,
};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionContext};
use quarry_engine::format::cell_to_json;
use quarry_engine::Session;
use std::path::Path;
use std::sync::Arc;

/// The file kinds `--table` reads, by extension.
const EXTENSIONS: &str = ".csv, .json, .ndjson, .jsonl or .parquet";

/// Reads `path` and registers it in `session` as table `name`.
pub async fn register(session: &Session, name: &str, path: &Path) -> Result<(), CommandError> {
    let shown = path.display();
    let metadata = std::fs::metadata(path).map_err(|e| {
        CommandError::Usage(if e.kind() == std::io::ErrorKind::NotFound {
            format!("--table {name}: {shown}: no such file")
        } else {
            format!("--table {name}: {shown}: {e}")
        })
    })?;
    if !metadata.is_file() {
        return Err(CommandError::Usage(format!(
            "--table {name}: {shown}: not a file"
        )));
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let location = path.to_str().ok_or_else(|| {
        CommandError::Usage(format!("--table {name}: {shown}: the path is not UTF-8"))
    })?;
    let dotted = format!(".{extension}");
    let context = SessionContext::new();
    let frame = match extension.as_str() {
        "csv" => {
            context
                .read_csv(location, CsvReadOptions::new().file_extension(&dotted))
                .await
        }
        "json" | "ndjson" | "jsonl" => {
            let options = JsonReadOptions {
                newline_delimited: !(extension == "json" && is_json_array(path)),
                ..JsonReadOptions::default()
            }
            .file_extension(&dotted);
            context.read_json(location, options).await
        }
        "parquet" => {
            let options = ParquetReadOptions {
                file_extension: &dotted,
                ..ParquetReadOptions::default()
            };
            context.read_parquet(location, options).await
        }
        _ => {
            return Err(CommandError::Usage(format!(
                "--table {name}: {shown}: not a file `query` reads (expected {EXTENSIONS})"
            )))
        }
    };
    let unreadable = |e: &dyn std::fmt::Display| {
        CommandError::Usage(format!("--table {name}: cannot read {shown}: {e}"))
    };
    let frame = frame.map_err(|e| unreadable(&e))?;
    let schema = frame.schema().as_arrow().clone();
    let batches = frame.collect().await.map_err(|e| unreadable(&e))?;
    let (schema, batches) = normalise(&schema, &batches).map_err(|e| unreadable(&e))?;
    session
        .register_batches(name, schema, batches)
        .map_err(|e| unreadable(&e))
}

/// True when the file's first non-blank character is `[` (a JSON array of objects).
fn is_json_array(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 512];
    let read = std::fs::File::open(path)
        .and_then(|mut file| file.read(&mut head))
        .unwrap_or(0);
    head[..read]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[')
}

/// The schema and batches with every column on the Arrow type of its Kusto type.
fn normalise(
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<(Arc<Schema>, Vec<RecordBatch>), datafusion::arrow::error::ArrowError> {
    let target: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| Field::new(f.name(), kusto_arrow_type(f.data_type()), true))
        .collect();
    let target = Arc::new(Schema::new(target));
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let columns = batch
            .columns()
            .iter()
            .map(normalise_column)
            .collect::<Result<Vec<_>, _>>()?;
        out.push(RecordBatch::try_new(target.clone(), columns)?);
    }
    Ok((target, out))
}

/// The Arrow type a column of `data_type` is brought onto.
fn kusto_arrow_type(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8View => DataType::Utf8,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 | DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Float16 | DataType::Float32 => DataType::Float64,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
            DataType::Timestamp(TimeUnit::Nanosecond, None)
        }
        DataType::Duration(_) => DataType::Duration(TimeUnit::Nanosecond),
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => DataType::Decimal128(38, 18),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..) => DataType::LargeUtf8,
        DataType::Dictionary(_, values) => kusto_arrow_type(values),
        other => other.clone(),
    }
}

fn normalise_column(array: &ArrayRef) -> Result<ArrayRef, datafusion::arrow::error::ArrowError> {
    let data_type = array.data_type();
    let target = kusto_arrow_type(data_type);
    if &target == data_type {
        return Ok(array.clone());
    }
    Ok(match data_type {
        DataType::Dictionary(_, values) => {
            let plain = cast(array, values)?;
            normalise_column(&plain)?
        }
        // Reinterpret the instants rather than cast: a cast from a zoned timestamp would shift
        // it to local time, and the Kusto mapping keeps UTC without a zone.
        DataType::Timestamp(unit, _) => {
            let raw = cast(array, &DataType::Int64)?;
            let factor = unit_nanos(*unit);
            let values: TimestampNanosecondArray = raw
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|x| x.saturating_mul(factor)))
                .collect();
            Arc::new(values)
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>();
            let values: TimestampNanosecondArray = days
                .iter()
                .map(|v| v.map(|d| i64::from(d).saturating_mul(86_400_000_000_000)))
                .collect();
            Arc::new(values)
        }
        DataType::Date64 => {
            let millis = array.as_primitive::<Date64Type>();
            let values: TimestampNanosecondArray = millis
                .iter()
                .map(|v| v.map(|ms| ms.saturating_mul(1_000_000)))
                .collect();
            Arc::new(values)
        }
        DataType::Duration(unit) => {
            let raw = cast(array, &DataType::Int64)?;
            let factor = unit_nanos(*unit);
            let values: DurationNanosecondArray = raw
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|x| x.saturating_mul(factor)))
                .collect();
            Arc::new(values)
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::Struct(_)
        | DataType::Map(..) => {
            let values: LargeStringArray = (0..array.len())
                .map(|row| {
                    (!array.is_null(row)).then(|| cell_to_json(array.as_ref(), row).to_string())
                })
                .collect();
            Arc::new(values)
        }
        _ => cast(array, &target)?,
    })
}

fn unit_nanos(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float32Array, StringArray, TimestampMillisecondArray};
    use datafusion::parquet::arrow::ArrowWriter;

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn a_parquet_file_is_brought_onto_the_kusto_types() {
        let dir = std::env::temp_dir().join(format!("quarry-tables-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("Name", DataType::Utf8, true),
            Field::new(
                "When",
                DataType::Timestamp(TimeUnit::Millisecond, Some("+02:00".into())),
                true,
            ),
            Field::new("Score", DataType::Float32, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["a", "b"])),
                Arc::new(
                    TimestampMillisecondArray::from(vec![1_000, 2_000]).with_timezone("+02:00"),
                ),
                Arc::new(Float32Array::from(vec![0.5, 1.5])),
            ],
        )
        .unwrap();
        let mut writer =
            ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();

        let session = Session::new(Default::default()).unwrap();
        block_on(register(&session, "Events", &path)).unwrap();
        let table = session.table("Events").expect("registered");
        let types: Vec<DataType> = table
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            vec![
                DataType::Utf8,
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                DataType::Float64
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nested_json_becomes_dynamic_text() {
        let dir = std::env::temp_dir().join(format!("quarry-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bags.ndjson");
        std::fs::write(&path, "{\"a\": 1, \"b\": {\"c\": [1, 2]}}\n{\"a\": 2}\n").unwrap();
        let session = Session::new(Default::default()).unwrap();
        block_on(register(&session, "Bags", &path)).unwrap();
        let schema = session.table("Bags").unwrap().schema();
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
        assert_eq!(schema.field(1).data_type(), &DataType::LargeUtf8);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
