//! Result cells as JSON values and as text, and whole results as table, CSV, JSON or NDJSON.
//!
//! [`cell_to_json`] follows the value normalisation of the conformance cases
//! (`shared/conformance/README.md`): strings are never null, reals are JSON numbers with `NaN` and
//! the infinities as strings, decimals are strings in plain notation, datetimes and timespans are
//! Kusto's text forms, guids are lower-case and dynamic values are the JSON value itself.
//!
//! Arrow types the Kusto mapping (see [`crate::types`]) does not produce but DataFusion may
//! (other integer widths, `Float32`, `Utf8View`, other time units, dates, lists, structs) are
//! converted to the nearest Kusto form.

use crate::output::QueryOutput;
use crate::types::kusto_type;
use crate::values::{format_datetime, format_timespan, NANOS_PER_DAY};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Date64Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Value};
use std::io::{self, Write};

/// Longest cell of `table` output, in characters; longer cells end in `…`.
pub const TABLE_CELL_WIDTH: usize = 60;

/// The cell at `row` of `array` as the JSON value the conformance cases use.
///
/// A null `Utf8`/`Utf8View` cell is `""` (Kusto strings are never null); every other null is
/// `null`.
pub fn cell_to_json(array: &dyn Array, row: usize) -> Value {
    json_value(array, row, true)
}

/// `top_level` is false inside lists and structs, where a null string stays `null`.
fn json_value(array: &dyn Array, row: usize, top_level: bool) -> Value {
    let data_type = array.data_type();
    if let DataType::Dictionary(..) = data_type {
        let dictionary = array.as_any_dictionary();
        if dictionary.keys().is_null(row) {
            return null_of(dictionary.values().data_type(), top_level);
        }
        let key = dictionary.normalized_keys()[row];
        return json_value(dictionary.values().as_ref(), key, top_level);
    }
    if matches!(data_type, DataType::Null) || array.is_null(row) {
        return null_of(data_type, top_level);
    }
    match data_type {
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => array.as_primitive::<Int8Type>().value(row).into(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(row).into(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(row).into(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(row).into(),
        DataType::UInt8 => array.as_primitive::<UInt8Type>().value(row).into(),
        DataType::UInt16 => array.as_primitive::<UInt16Type>().value(row).into(),
        DataType::UInt32 => array.as_primitive::<UInt32Type>().value(row).into(),
        DataType::UInt64 => array.as_primitive::<UInt64Type>().value(row).into(),
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            real_to_json(float_value(array, row))
        }
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Value::String(decimal_text(array, row)),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_string()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_string()),
        DataType::LargeUtf8 => {
            let text = array.as_string::<i64>().value(row);
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
        }
        DataType::List(_) => {
            let values = array.as_list::<i32>().value(row);
            list_json(values.as_ref())
        }
        DataType::LargeList(_) => {
            let values = array.as_list::<i64>().value(row);
            list_json(values.as_ref())
        }
        DataType::FixedSizeList(..) => {
            let values = array.as_fixed_size_list().value(row);
            list_json(values.as_ref())
        }
        DataType::Struct(fields) => {
            let columns = array.as_struct().columns();
            let mut object = Map::new();
            for (field, column) in fields.iter().zip(columns) {
                object.insert(
                    field.name().clone(),
                    json_value(column.as_ref(), row, false),
                );
            }
            Value::Object(object)
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut object = Map::new();
            for i in 0..entries.len() {
                object.insert(
                    cell_to_text(keys.as_ref(), i),
                    json_value(values.as_ref(), i, false),
                );
            }
            Value::Object(object)
        }
        _ => match scalar_text(array, row) {
            Some(text) => Value::String(text),
            None => Value::String(display(array, row)),
        },
    }
}

/// The JSON of a null cell of `data_type`.
fn null_of(data_type: &DataType, top_level: bool) -> Value {
    if top_level && matches!(data_type, DataType::Utf8 | DataType::Utf8View) {
        Value::String(String::new())
    } else {
        Value::Null
    }
}

fn list_json(values: &dyn Array) -> Value {
    Value::Array(
        (0..values.len())
            .map(|i| json_value(values, i, false))
            .collect(),
    )
}

/// A real as JSON: a number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub fn real_to_json(value: f64) -> Value {
    match serde_json::Number::from_f64(value) {
        Some(number) => Value::Number(number),
        None if value.is_nan() => Value::String("NaN".to_string()),
        None if value > 0.0 => Value::String("Infinity".to_string()),
        None => Value::String("-Infinity".to_string()),
    }
}

/// A float cell widened to f64; `Float32`/`Float16` through their shortest text so that `0.1f32`
/// stays `0.1`.
fn float_value(array: &dyn Array, row: usize) -> f64 {
    match array.data_type() {
        DataType::Float16 => {
            let value = array.as_primitive::<Float16Type>().value(row).to_f32();
            widen_f32(value)
        }
        DataType::Float32 => widen_f32(array.as_primitive::<Float32Type>().value(row)),
        _ => array.as_primitive::<Float64Type>().value(row),
    }
}

fn widen_f32(value: f32) -> f64 {
    if value.is_finite() {
        value.to_string().parse().unwrap_or(f64::from(value))
    } else {
        f64::from(value)
    }
}

/// A decimal in plain notation without trailing fractional zeros (`700000000`, `0.25`).
fn decimal_text(array: &dyn Array, row: usize) -> String {
    let text = display(array, row);
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.');
        match trimmed {
            "" | "-" | "-0" => "0".to_string(),
            _ => trimmed.to_string(),
        }
    } else {
        text
    }
}

/// The text of cells whose JSON form is a string in Kusto's format: datetimes, timespans and
/// guids (and the other Arrow time and binary types). `None` for other types.
fn scalar_text(array: &dyn Array, row: usize) -> Option<String> {
    Some(match array.data_type() {
        DataType::Timestamp(unit, _) => format_datetime(timestamp_nanos(array, *unit, row), true),
        DataType::Date32 => {
            let days = i64::from(array.as_primitive::<Date32Type>().value(row));
            format_datetime(days.saturating_mul(NANOS_PER_DAY), true)
        }
        DataType::Date64 => {
            let millis = array.as_primitive::<Date64Type>().value(row);
            format_datetime(millis.saturating_mul(1_000_000), true)
        }
        DataType::Duration(unit) => format_timespan(duration_nanos(array, *unit, row)),
        DataType::Time32(TimeUnit::Second) => {
            let seconds = i64::from(array.as_primitive::<Time32SecondType>().value(row));
            format_timespan(seconds * 1_000_000_000)
        }
        DataType::Time32(_) => {
            let millis = i64::from(array.as_primitive::<Time32MillisecondType>().value(row));
            format_timespan(millis * 1_000_000)
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            let micros = array.as_primitive::<Time64MicrosecondType>().value(row);
            format_timespan(micros.saturating_mul(1_000))
        }
        DataType::Time64(_) => {
            format_timespan(array.as_primitive::<Time64NanosecondType>().value(row))
        }
        DataType::FixedSizeBinary(16) => guid_text(array.as_fixed_size_binary().value(row)),
        DataType::FixedSizeBinary(_) => hex(array.as_fixed_size_binary().value(row)),
        DataType::Binary => hex(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => hex(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => hex(array.as_binary_view().value(row)),
        _ => return None,
    })
}

fn timestamp_nanos(array: &dyn Array, unit: TimeUnit, row: usize) -> i64 {
    match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .saturating_mul(1_000_000_000),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .saturating_mul(1_000_000),
        TimeUnit::Microsecond => array
            .as_primitive::<TimestampMicrosecondType>()
            .value(row)
            .saturating_mul(1_000),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
    }
}

fn duration_nanos(array: &dyn Array, unit: TimeUnit, row: usize) -> i64 {
    match unit {
        TimeUnit::Second => array
            .as_primitive::<DurationSecondType>()
            .value(row)
            .saturating_mul(1_000_000_000),
        TimeUnit::Millisecond => array
            .as_primitive::<DurationMillisecondType>()
            .value(row)
            .saturating_mul(1_000_000),
        TimeUnit::Microsecond => array
            .as_primitive::<DurationMicrosecondType>()
            .value(row)
            .saturating_mul(1_000),
        TimeUnit::Nanosecond => array.as_primitive::<DurationNanosecondType>().value(row),
    }
}

/// 16 bytes in RFC 4122 order as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lower case.
pub fn guid_text(bytes: &[u8]) -> String {
    let hex = hex(bytes);
    if hex.len() != 32 {
        return hex;
    }
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Arrow's own display of a cell, for types without a Kusto form.
fn display(array: &dyn Array, row: usize) -> String {
    let options = FormatOptions::default();
    match ArrayFormatter::try_new(array, &options) {
        Ok(formatter) => formatter.value(row).to_string(),
        Err(_) => String::new(),
    }
}

/// The cell at `row` of `array` as text for `table` and `csv` output: Kusto's forms (datetime
/// `2020-01-01T00:00:00Z`, timespan `1.02:00:00`, dynamic as compact JSON (a dynamic string as its
/// text, as `tostring()` gives it), `true`/`false`, reals
/// in their shortest round-trip form); null is the empty string.
pub fn cell_to_text(array: &dyn Array, row: usize) -> String {
    let data_type = array.data_type();
    if let DataType::Dictionary(..) = data_type {
        let dictionary = array.as_any_dictionary();
        if dictionary.keys().is_null(row) {
            return String::new();
        }
        let key = dictionary.normalized_keys()[row];
        return cell_to_text(dictionary.values().as_ref(), key);
    }
    if matches!(data_type, DataType::Null) || array.is_null(row) {
        return String::new();
    }
    match data_type {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            format_real(float_value(array, row))
        }
        DataType::Utf8 => array.as_string::<i32>().value(row).to_string(),
        DataType::Utf8View => array.as_string_view().value(row).to_string(),
        DataType::LargeUtf8 => {
            let text = array.as_string::<i64>().value(row);
            match serde_json::from_str::<Value>(text) {
                // A dynamic string prints as its text, as `tostring()` does.
                Ok(Value::String(inner)) => inner,
                Ok(value) => value.to_string(),
                Err(_) => text.to_string(),
            }
        }
        _ => match cell_to_json(array, row) {
            Value::String(text) => text,
            Value::Null => String::new(),
            other => other.to_string(),
        },
    }
}

/// A real in its shortest round-trip form: `15`, `0.1`, `1e+20`, `NaN`, `Infinity`.
pub fn format_real(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-5..1e15).contains(&magnitude) {
        let text = format!("{value:e}");
        return match text.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            _ => text,
        };
    }
    format!("{value}")
}

/// The Kusto type name of an Arrow type (`long`, `datetime`, …). Lists, structs and maps are
/// `dynamic`; types without a Kusto counterpart are shown as `string`.
pub fn kusto_type_name(data_type: &DataType) -> &'static str {
    match data_type {
        DataType::Dictionary(_, values) => kusto_type_name(values),
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::ListView(_)
        | DataType::LargeListView(_)
        | DataType::Struct(_)
        | DataType::Map(..) => "dynamic",
        DataType::Time32(_) | DataType::Time64(_) => "timespan",
        other => kusto_type(other).map_or("string", |ty| ty.name()),
    }
}

/// True for the Kusto types `table` output right-aligns.
fn is_numeric(data_type: &DataType) -> bool {
    matches!(
        kusto_type_name(data_type),
        "int" | "long" | "real" | "decimal"
    )
}

/// Every cell of `output` as text, row by row.
fn text_rows(output: &QueryOutput) -> Vec<Vec<String>> {
    let mut rows = Vec::with_capacity(output.row_count());
    for batch in &output.batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| cell_to_text(column.as_ref(), row))
                    .collect(),
            );
        }
    }
    rows
}

/// A cell made fit for one line of `table` output: control characters escaped, at most
/// [`TABLE_CELL_WIDTH`] characters.
fn table_cell(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if c.is_control() => escaped.push_str(&c.escape_unicode().to_string()),
            c => escaped.push(c),
        }
    }
    if escaped.chars().count() > TABLE_CELL_WIDTH {
        let mut cut: String = escaped.chars().take(TABLE_CELL_WIDTH - 1).collect();
        cut.push('…');
        cut
    } else {
        escaped
    }
}

/// Aligned columns: a header row, a separator of dashes, then the rows; numbers right-aligned.
pub fn write_table(output: &QueryOutput, out: &mut dyn Write) -> io::Result<()> {
    let fields = output.schema.fields();
    let header: Vec<String> = fields.iter().map(|f| table_cell(f.name())).collect();
    let rows: Vec<Vec<String>> = text_rows(output)
        .iter()
        .map(|row| row.iter().map(|cell| table_cell(cell)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let numeric: Vec<bool> = fields.iter().map(|f| is_numeric(f.data_type())).collect();
    let write_line = |out: &mut dyn Write, cells: &[String], align: bool| -> io::Result<()> {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            if align && numeric[i] {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        writeln!(out, "{}", line.trim_end())
    };
    write_line(out, &header, false)?;
    let separator: Vec<String> = widths.iter().map(|w| "-".repeat((*w).max(1))).collect();
    write_line(out, &separator, false)?;
    for row in &rows {
        write_line(out, row, true)?;
    }
    Ok(())
}

/// One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// RFC 4180 CSV: a header row with the column names, CRLF line ends; nulls are empty fields.
pub fn write_csv(output: &QueryOutput, out: &mut dyn Write) -> io::Result<()> {
    let header: Vec<String> = output
        .schema
        .fields()
        .iter()
        .map(|f| csv_field(f.name()))
        .collect();
    write!(out, "{}\r\n", header.join(","))?;
    for batch in &output.batches {
        for row in 0..batch.num_rows() {
            let fields: Vec<String> = batch
                .columns()
                .iter()
                .map(|column| csv_field(&cell_to_text(column.as_ref(), row)))
                .collect();
            write!(out, "{}\r\n", fields.join(","))?;
        }
    }
    Ok(())
}

/// The `{"name", "type"}` objects of the columns.
fn json_columns(output: &QueryOutput) -> Vec<Value> {
    output
        .schema
        .fields()
        .iter()
        .map(|f| serde_json::json!({"name": f.name(), "type": kusto_type_name(f.data_type())}))
        .collect()
}

/// Every row as a JSON array of [`cell_to_json`] values.
pub fn json_rows(output: &QueryOutput) -> Vec<Vec<Value>> {
    let mut rows = Vec::with_capacity(output.row_count());
    for batch in &output.batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| cell_to_json(column.as_ref(), row))
                    .collect(),
            );
        }
    }
    rows
}

/// One JSON document `{"columns":[{"name","type"}…],"rows":[[…]…]}` on one line.
pub fn write_json(output: &QueryOutput, out: &mut dyn Write) -> io::Result<()> {
    let document = serde_json::json!({
        "columns": json_columns(output),
        "rows": json_rows(output),
    });
    serde_json::to_writer(&mut *out, &document).map_err(io::Error::from)?;
    writeln!(out)
}

/// One JSON object per row, keyed by column name.
pub fn write_ndjson(output: &QueryOutput, out: &mut dyn Write) -> io::Result<()> {
    let fields = output.schema.fields();
    for batch in &output.batches {
        for row in 0..batch.num_rows() {
            let mut object = Map::new();
            for (field, column) in fields.iter().zip(batch.columns()) {
                object.insert(field.name().clone(), cell_to_json(column.as_ref(), row));
            }
            serde_json::to_writer(&mut *out, &Value::Object(object)).map_err(io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::values::parse_datetime;
    use datafusion::arrow::array::{
        ArrayRef, BooleanArray, Decimal128Array, DurationNanosecondArray, FixedSizeBinaryArray,
        Float32Array, Float64Array, Int32Array, Int64Array, LargeStringArray, ListArray, NullArray,
        StringArray, StringViewArray, TimestampMicrosecondArray, TimestampNanosecondArray,
        UInt64Array,
    };
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use serde_json::json;
    use std::sync::Arc;

    /// A one-batch output of the named columns.
    pub(crate) fn output(columns: Vec<(&str, ArrayRef)>) -> QueryOutput {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch =
            RecordBatch::try_new(schema.clone(), columns.into_iter().map(|c| c.1).collect())
                .unwrap();
        QueryOutput {
            schema,
            batches: vec![batch],
            ordered: false,
            render: None,
            truncated: false,
            scan: Default::default(),
            warnings: Vec::new(),
        }
    }

    fn render(
        write: fn(&QueryOutput, &mut dyn Write) -> io::Result<()>,
        o: &QueryOutput,
    ) -> String {
        let mut buffer = Vec::new();
        write(o, &mut buffer).unwrap();
        String::from_utf8(buffer).unwrap()
    }

    #[test]
    fn strings_are_never_null() {
        let array = StringArray::from(vec![Some("a"), None]);
        assert_eq!(cell_to_json(&array, 0), json!("a"));
        assert_eq!(cell_to_json(&array, 1), json!(""));
        let view = StringViewArray::from(vec![None, Some("v")]);
        assert_eq!(cell_to_json(&view, 0), json!(""));
        assert_eq!(cell_to_json(&view, 1), json!("v"));
        assert_eq!(cell_to_text(&array, 1), "");
    }

    #[test]
    fn numbers() {
        let longs = Int64Array::from(vec![Some(i64::MAX), None]);
        assert_eq!(cell_to_json(&longs, 0), json!(i64::MAX));
        assert_eq!(cell_to_json(&longs, 1), Value::Null);
        assert_eq!(cell_to_json(&Int32Array::from(vec![-7]), 0), json!(-7));
        assert_eq!(
            cell_to_json(&UInt64Array::from(vec![u64::MAX]), 0),
            json!(u64::MAX)
        );
        let reals =
            Float64Array::from(vec![15.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0]);
        assert_eq!(cell_to_json(&reals, 0), json!(15.0));
        assert_eq!(
            serde_json::to_string(&cell_to_json(&reals, 0)).unwrap(),
            "15.0"
        );
        assert_eq!(cell_to_json(&reals, 1), json!("NaN"));
        assert_eq!(cell_to_json(&reals, 2), json!("Infinity"));
        assert_eq!(cell_to_json(&reals, 3), json!("-Infinity"));
        assert_eq!(
            serde_json::to_string(&cell_to_json(&reals, 4)).unwrap(),
            "-0.0"
        );
        assert_eq!(
            cell_to_json(&Float32Array::from(vec![0.1f32]), 0),
            json!(0.1)
        );
        assert_eq!(cell_to_text(&reals, 0), "15");
        assert_eq!(cell_to_text(&reals, 1), "NaN");
        assert_eq!(format_real(0.1), "0.1");
        assert_eq!(format_real(1e20), "1e+20");
        assert_eq!(format_real(1.5e-7), "1.5e-7");
        assert_eq!(format_real(123456.789), "123456.789");
    }

    #[test]
    fn decimals_in_plain_notation() {
        let scale = 10i128.pow(18);
        let array = Decimal128Array::from(vec![
            Some(700_000_000 * scale),
            Some(scale / 4),
            Some(-scale / 2),
            Some(0),
            None,
        ])
        .with_precision_and_scale(38, 18)
        .unwrap();
        assert_eq!(cell_to_json(&array, 0), json!("700000000"));
        assert_eq!(cell_to_json(&array, 1), json!("0.25"));
        assert_eq!(cell_to_json(&array, 2), json!("-0.5"));
        assert_eq!(cell_to_json(&array, 3), json!("0"));
        assert_eq!(cell_to_json(&array, 4), Value::Null);
        assert_eq!(cell_to_text(&array, 0), "700000000");
    }

    #[test]
    fn datetimes_timespans_guids_bools() {
        let nanos = parse_datetime("2026-08-01T04:32:02.4Z").unwrap();
        let array = TimestampNanosecondArray::from(vec![Some(nanos), None]);
        assert_eq!(cell_to_json(&array, 0), json!("2026-08-01T04:32:02.4Z"));
        assert_eq!(cell_to_json(&array, 1), Value::Null);
        assert_eq!(cell_to_text(&array, 0), "2026-08-01T04:32:02.4Z");
        let micros = TimestampMicrosecondArray::from(vec![nanos / 1000]).with_timezone("UTC");
        assert_eq!(cell_to_json(&micros, 0), json!("2026-08-01T04:32:02.4Z"));
        let spans =
            DurationNanosecondArray::from(vec![NANOS_PER_DAY, -3_600_000_000_000 * 12, 100]);
        assert_eq!(cell_to_json(&spans, 0), json!("1.00:00:00"));
        assert_eq!(cell_to_json(&spans, 1), json!("-12:00:00"));
        assert_eq!(cell_to_text(&spans, 2), "00:00:00.0000001");
        let bytes: Vec<u8> = (0u8..16).map(|b| b * 17).collect();
        let guids = FixedSizeBinaryArray::try_from_iter(std::iter::once(bytes)).unwrap();
        assert_eq!(
            cell_to_json(&guids, 0),
            json!("00112233-4455-6677-8899-aabbccddeeff")
        );
        let bools = BooleanArray::from(vec![Some(true), Some(false), None]);
        assert_eq!(cell_to_json(&bools, 0), json!(true));
        assert_eq!(cell_to_text(&bools, 1), "false");
        assert_eq!(cell_to_text(&bools, 2), "");
    }

    #[test]
    fn dynamic_lists_and_nulls() {
        let dynamic = LargeStringArray::from(vec![
            Some(r#"{"b": 1, "a": [1.5, "x", null]}"#),
            Some("null"),
            None,
            Some("not json"),
        ]);
        assert_eq!(
            cell_to_json(&dynamic, 0),
            json!({"b": 1, "a": [1.5, "x", null]})
        );
        assert_eq!(cell_to_text(&dynamic, 0), r#"{"b":1,"a":[1.5,"x",null]}"#);
        assert_eq!(cell_to_json(&dynamic, 1), Value::Null);
        assert_eq!(cell_to_json(&dynamic, 2), Value::Null);
        assert_eq!(cell_to_json(&dynamic, 3), json!("not json"));
        let list = ListArray::from_iter_primitive::<Int64Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            None,
        ]);
        assert_eq!(cell_to_json(&list, 0), json!([1, null, 3]));
        assert_eq!(cell_to_json(&list, 1), Value::Null);
        assert_eq!(cell_to_text(&list, 0), "[1,null,3]");
        assert_eq!(cell_to_json(&NullArray::new(2), 1), Value::Null);
    }

    #[test]
    fn type_names() {
        assert_eq!(kusto_type_name(&DataType::Int64), "long");
        assert_eq!(kusto_type_name(&DataType::Utf8View), "string");
        assert_eq!(kusto_type_name(&DataType::LargeUtf8), "dynamic");
        assert_eq!(
            kusto_type_name(&DataType::Timestamp(TimeUnit::Nanosecond, None)),
            "datetime"
        );
        assert_eq!(
            kusto_type_name(&DataType::Duration(TimeUnit::Second)),
            "timespan"
        );
        assert_eq!(kusto_type_name(&DataType::FixedSizeBinary(16)), "guid");
        assert_eq!(kusto_type_name(&DataType::Decimal128(38, 18)), "decimal");
        assert_eq!(
            kusto_type_name(&DataType::List(Arc::new(Field::new(
                "item",
                DataType::Int64,
                true
            )))),
            "dynamic"
        );
    }

    fn sample() -> QueryOutput {
        output(vec![
            (
                "Name",
                Arc::new(StringArray::from(vec!["a,b", "say \"hi\"", "x"])) as ArrayRef,
            ),
            (
                "Count",
                Arc::new(Int64Array::from(vec![Some(1), None, Some(300)])),
            ),
            (
                "Bag",
                Arc::new(LargeStringArray::from(vec![
                    Some("{\"k\": [1, 2]}"),
                    None,
                    Some("\"s\""),
                ])),
            ),
        ])
    }

    #[test]
    fn table_output() {
        let text = render(write_table, &sample());
        let expected = "\
Name      Count  Bag
--------  -----  -----------
a,b           1  {\"k\":[1,2]}
say \"hi\"
x           300  s
";
        assert_eq!(text, expected);
        let long = "é".repeat(70);
        let o = output(vec![(
            "c",
            Arc::new(StringArray::from(vec![long.as_str()])) as ArrayRef,
        )]);
        let text = render(write_table, &o);
        let last = text.lines().last().unwrap();
        assert_eq!(last.chars().count(), TABLE_CELL_WIDTH);
        assert!(last.ends_with('…'));
        let o = output(vec![(
            "c",
            Arc::new(StringArray::from(vec!["a\nb"])) as ArrayRef,
        )]);
        assert_eq!(render(write_table, &o).lines().count(), 3);
    }

    #[test]
    fn csv_output() {
        let text = render(write_csv, &sample());
        assert_eq!(
            text,
            "Name,Count,Bag\r\n\"a,b\",1,\"{\"\"k\"\":[1,2]}\"\r\n\"say \"\"hi\"\"\",,\r\nx,300,s\r\n"
        );
    }

    #[test]
    fn json_and_ndjson_output() {
        let text = render(write_json, &sample());
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            json!({
                "columns": [
                    {"name": "Name", "type": "string"},
                    {"name": "Count", "type": "long"},
                    {"name": "Bag", "type": "dynamic"}
                ],
                "rows": [["a,b", 1, {"k": [1, 2]}], ["say \"hi\"", null, null], ["x", 300, "s"]]
            })
        );
        let text = render(write_ndjson, &sample());
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            json!({"Name": "a,b", "Count": 1, "Bag": {"k": [1, 2]}})
        );
        assert_eq!(lines[1]["Count"], Value::Null);
    }
}
