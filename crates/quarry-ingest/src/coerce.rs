//! Typing records by their table's schema: each JSON value is converted to the column's Kusto
//! type and appended to an Arrow builder; a record with a value that cannot be converted is
//! rejected whole, with the reason, and leaves the builders untouched.

use crate::columns::Columns;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::record_batch::RecordBatch;
use quarry_engine::types::DECIMAL_SCALE;
use quarry_engine::values::{parse_datetime, parse_timespan};
use quarry_schema::{KustoType, TableSchema};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Suffixes that exports append to a column name to say its type (`ReportId_long`,
/// `AdditionalFields_string`); the value belongs to the column without the suffix.
const TYPE_SUFFIXES: [&str; 9] = [
    "_string",
    "_long",
    "_int",
    "_real",
    "_double",
    "_bool",
    "_datetime",
    "_dynamic",
    "_guid",
];

/// One converted value, ready to append.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i32),
    Long(i64),
    Real(f64),
    Text(Cow<'a, str>),
    Nanos(i64),
    Guid([u8; 16]),
    Decimal(i128),
}

/// Why a record was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// A value that cannot be read as its column's type.
    #[error("column {column} ({ty}): cannot read {value}")]
    BadValue {
        /// The column.
        column: String,
        /// The column's Kusto type.
        ty: &'static str,
        /// The offending value, shortened.
        value: String,
    },
    /// A table with a time column, and a record without a time.
    #[error("no time: {column} is missing or empty")]
    MissingTime {
        /// The table's time column.
        column: String,
    },
    /// The record is not a JSON object, or not readable at all.
    #[error("{0}")]
    Malformed(String),
}

/// Accumulates the rows of one table as Arrow columns.
pub struct TableBuilder {
    schema: Arc<TableSchema>,
    arrow_schema: SchemaRef,
    columns: Columns,
    index: HashMap<String, usize>,
    time_columns: Vec<usize>,
    type_column: Option<usize>,
    rows: usize,
    /// The previous record's field names with their columns: records of one input usually
    /// list the same fields in the same order, so a name equal to the one at the same place
    /// last time needs no hash lookup.
    last_fields: Vec<(String, Option<usize>, bool)>,
    /// Field names that matched no column, with how often they were dropped.
    dropped: BTreeMap<String, u64>,
    /// Per column, where the record being appended put its cell (see [`Slot`]).
    slots: Vec<Slot>,
    /// The number of the record being appended, which marks the slots it filled.
    record: u64,
}

/// Where a column's cell is among the cells of the record being appended: valid when `record`
/// is that record's number, so that no per-record clearing is needed.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    record: u64,
    index: usize,
    /// Whether a field of exactly the column's name filled it.
    exact: bool,
}

impl std::fmt::Debug for TableBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableBuilder")
            .field("table", &self.schema.name())
            .field("rows", &self.rows)
            .finish()
    }
}

impl TableBuilder {
    /// An empty builder for `schema`.
    pub fn new(schema: Arc<TableSchema>) -> TableBuilder {
        let arrow_schema = quarry_engine::schemas::arrow_schema(&schema);
        let types: Vec<KustoType> = schema.columns().iter().map(|c| c.ty).collect();
        let data_types = arrow_schema
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let columns = Columns::new(&types, data_types);
        let index = schema
            .columns()
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        let time_columns = ["TimeGenerated", "Timestamp"]
            .iter()
            .filter_map(|name| {
                schema
                    .columns()
                    .iter()
                    .position(|c| c.name == *name && c.ty == KustoType::DateTime)
            })
            .collect();
        let type_column = schema
            .columns()
            .iter()
            .position(|c| c.name == "Type" && c.ty == KustoType::String);
        TableBuilder {
            schema,
            arrow_schema,
            columns,
            index,
            time_columns,
            type_column,
            rows: 0,
            last_fields: Vec::new(),
            dropped: BTreeMap::new(),
            slots: vec![Slot::default(); types.len()],
            record: 0,
        }
    }

    /// The table schema rows are typed by.
    pub fn schema(&self) -> &Arc<TableSchema> {
        &self.schema
    }

    /// The Arrow schema of the batches [`TableBuilder::finish`] returns.
    pub fn arrow_schema(&self) -> &SchemaRef {
        &self.arrow_schema
    }

    /// Rows appended since the last [`TableBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row was appended since the last [`TableBuilder::finish`].
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Field names that matched no column, with counts (since the builder was made).
    pub fn dropped_fields(&self) -> &BTreeMap<String, u64> {
        &self.dropped
    }

    /// Converts `fields` and appends them as one row, or rejects the record and appends nothing.
    pub fn append(&mut self, fields: &Map<String, Value>) -> Result<(), RejectReason> {
        self.append_fields(fields.iter().map(|(name, value)| (name.as_str(), value)))
    }

    /// Converts the fields of one record (distinct names, in the record's order) and appends
    /// them as one row, or rejects the record and appends nothing.
    pub(crate) fn append_fields<'f, V: FieldValue + 'f>(
        &mut self,
        fields: impl Iterator<Item = (&'f str, &'f V)>,
    ) -> Result<(), RejectReason> {
        let columns = self.schema.columns();
        self.record += 1;
        let record = self.record;
        // The cells of the columns this record fills, by column, in the order first filled.
        let mut cells: Vec<(usize, Cell<'f>)> = Vec::with_capacity(self.last_fields.len());
        let mut unmatched: Vec<&str> = Vec::new();
        for (index, (name, value)) in fields.enumerate() {
            // The column, and whether the name is exactly the column's name.
            let known = self
                .last_fields
                .get(index)
                .filter(|(last, _, _)| last == name)
                .map(|(_, position, exact)| (*position, *exact));
            let (found, exact) = match known {
                Some(known) => known,
                None => {
                    let position = self.column_of(name);
                    let exact = position.is_some_and(|p| columns[p].name == name);
                    let entry = (name.to_string(), position, exact);
                    if index < self.last_fields.len() {
                        self.last_fields[index] = entry;
                    } else {
                        self.last_fields.push(entry);
                    }
                    (position, exact)
                }
            };
            let Some(position) = found else {
                if !value.is_blank() {
                    unmatched.push(name);
                }
                continue;
            };
            let column = &columns[position];
            let cell = value
                .to_cell(column.ty)
                .ok_or_else(|| RejectReason::BadValue {
                    column: column.name.clone(),
                    ty: column.ty.name(),
                    value: value.shortened(),
                })?;
            // A field of exactly the column's name wins over suffixed ones (`ProcessId` over
            // `ProcessId_string`) wherever it stands in the record.
            let slot = &mut self.slots[position];
            if slot.record != record {
                *slot = Slot {
                    record,
                    index: cells.len(),
                    exact,
                };
                cells.push((position, cell));
            } else if exact {
                cells[slot.index].1 = cell;
                slot.exact = true;
            } else if !slot.exact && cells[slot.index].1 == Cell::Null {
                // A later exact field still replaces this one.
                cells[slot.index].1 = cell;
            }
        }
        self.fill_times(&mut cells)?;
        // A record without a `Type` gets the table's name, pushed straight from the schema
        // (not copied into every record's cells).
        let mut name_as_type = None;
        if let Some(position) = self.type_column {
            let cell = self.cell_mut(&mut cells, position);
            if matches!(cell, Cell::Null) || matches!(cell, Cell::Text(t) if t.is_empty()) {
                *cell = Cell::Null;
                name_as_type = Some(position);
            }
        }
        for (position, cell) in cells {
            // A column left without a value gets its empty value when the next one comes.
            if cell != Cell::Null {
                self.columns.push(position, self.rows, cell);
            }
        }
        if let Some(position) = name_as_type {
            let name = Cell::Text(Cow::Borrowed(self.schema.name()));
            self.columns.push(position, self.rows, name);
        }
        for name in unmatched {
            match self.dropped.get_mut(name) {
                Some(count) => *count += 1,
                None => {
                    self.dropped.insert(name.to_string(), 1);
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// The cell of column `position` among the record's `cells`, added as null if the record
    /// did not fill that column.
    fn cell_mut<'c, 'f>(
        &mut self,
        cells: &'c mut Vec<(usize, Cell<'f>)>,
        position: usize,
    ) -> &'c mut Cell<'f> {
        let slot = &mut self.slots[position];
        if slot.record != self.record {
            *slot = Slot {
                record: self.record,
                index: cells.len(),
                exact: false,
            };
            cells.push((position, Cell::Null));
        }
        &mut cells[slot.index].1
    }

    /// Takes the dropped-field counts gathered so far, leaving none.
    pub(crate) fn take_dropped(&mut self) -> BTreeMap<String, u64> {
        std::mem::take(&mut self.dropped)
    }

    /// Adds dropped-field counts gathered elsewhere (by another builder of the same table).
    pub(crate) fn add_dropped(&mut self, dropped: BTreeMap<String, u64>) {
        for (name, count) in dropped {
            *self.dropped.entry(name).or_insert(0) += count;
        }
    }

    /// The rows appended so far as one batch; the builder starts over empty.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let arrays = self.columns.finish(self.rows);
        self.rows = 0;
        RecordBatch::try_new(self.arrow_schema.clone(), arrays)
    }

    /// The column a field name lands in: the exact name, or the name without a type suffix.
    fn column_of(&self, name: &str) -> Option<usize> {
        if let Some(&position) = self.index.get(name) {
            return Some(position);
        }
        let base = strip_type_suffix(name);
        (base.len() < name.len())
            .then(|| self.index.get(base).copied())
            .flatten()
    }

    /// Copies the one time column that has a value into the other (Defender tables carry both
    /// `Timestamp` and `TimeGenerated`), and rejects a record of a timed table with no time.
    fn fill_times(&mut self, cells: &mut Vec<(usize, Cell<'_>)>) -> Result<(), RejectReason> {
        let Some(&first) = self.time_columns.first() else {
            return Ok(());
        };
        let known = self
            .time_columns
            .iter()
            .find_map(|&i| {
                let slot = self.slots[i];
                match cells.get(slot.index) {
                    Some((_, Cell::Nanos(n))) if slot.record == self.record => Some(*n),
                    _ => None,
                }
            })
            .ok_or_else(|| RejectReason::MissingTime {
                column: self.schema.columns()[first].name.clone(),
            })?;
        for k in 0..self.time_columns.len() {
            let cell = self.cell_mut(cells, self.time_columns[k]);
            if *cell == Cell::Null {
                *cell = Cell::Nanos(known);
            }
        }
        Ok(())
    }
}

/// A field name without an export's type suffix (`ReportId_long` → `ReportId`).
pub(crate) fn strip_type_suffix(name: &str) -> &str {
    TYPE_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

impl Cell<'_> {
    /// The same cell, owning its text.
    fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Null => Cell::Null,
            Cell::Bool(v) => Cell::Bool(v),
            Cell::Int(v) => Cell::Int(v),
            Cell::Long(v) => Cell::Long(v),
            Cell::Real(v) => Cell::Real(v),
            Cell::Text(v) => Cell::Text(Cow::Owned(v.into_owned())),
            Cell::Nanos(v) => Cell::Nanos(v),
            Cell::Guid(v) => Cell::Guid(v),
            Cell::Decimal(v) => Cell::Decimal(v),
        }
    }
}

/// A field's value as a reader produced it: a JSON value, or a scalar read straight from the
/// input's text.
pub(crate) trait FieldValue {
    /// The value converted to `ty`; `None` when it cannot be read as that type.
    fn to_cell(&self, ty: KustoType) -> Option<Cell<'_>>;
    /// Whether the value carries nothing (null or an empty string).
    fn is_blank(&self) -> bool;
    /// The value as a reject reason shows it.
    fn shortened(&self) -> String;
}

impl FieldValue for Value {
    fn to_cell(&self, ty: KustoType) -> Option<Cell<'_>> {
        convert(self, ty)
    }

    fn is_blank(&self) -> bool {
        is_blank(self)
    }

    fn shortened(&self) -> String {
        shorten(self)
    }
}

/// A JSON scalar read from a record's text, its string borrowed from the text when it has no
/// escapes. Converts exactly as the [`Value`] it stands for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A number with a fraction or exponent.
    Real(f64),
    /// A string.
    Text(Cow<'a, str>),
}

impl Scalar<'_> {
    /// The JSON value this scalar stands for.
    fn to_value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(v) => Value::from(*v),
            Scalar::UInt(v) => Value::from(*v),
            Scalar::Real(v) => serde_json::Number::from_f64(*v)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Scalar::Text(s) => Value::String(s.to_string()),
        }
    }
}

impl FieldValue for Scalar<'_> {
    fn to_cell(&self, ty: KustoType) -> Option<Cell<'_>> {
        // Strings are converted in place, as `convert` converts a `Value::String`; every
        // other scalar goes through its `Value`, which is cheap to make.
        match (self, ty) {
            (Scalar::Text(s), KustoType::String) => Some(Cell::Text(Cow::Borrowed(s.as_ref()))),
            // Integers as `convert` reads a JSON integer, without making the `Value`.
            (Scalar::UInt(v), KustoType::Long) => i64::try_from(*v).ok().map(Cell::Long),
            (Scalar::Int(v), KustoType::Long) => Some(Cell::Long(*v)),
            (Scalar::Text(s), ty) if ty != KustoType::Dynamic => {
                let trimmed = s.trim();
                if trimmed.is_empty() {
                    Some(Cell::Null)
                } else {
                    convert_text(trimmed, ty)
                }
            }
            _ => convert(&self.to_value(), ty).map(Cell::into_owned),
        }
    }

    fn is_blank(&self) -> bool {
        match self {
            Scalar::Null => true,
            Scalar::Text(s) => s.is_empty(),
            _ => false,
        }
    }

    fn shortened(&self) -> String {
        shorten(&self.to_value())
    }
}

/// Whether a value carries nothing (null or an empty string), so dropping it loses nothing.
fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// A value as it is shown in a reject reason: JSON text, at most 80 characters.
fn shorten(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 80 {
        return text;
    }
    let cut: String = text.chars().take(77).collect();
    format!("{cut}...")
}

/// Converts `value` to type `ty`; `None` when it cannot be read as that type. Empty strings and
/// nulls become nulls (the empty string for `string` columns).
fn convert(value: &Value, ty: KustoType) -> Option<Cell<'_>> {
    if let Value::Null = value {
        return Some(Cell::Null);
    }
    if ty == KustoType::String {
        return Some(Cell::Text(match value {
            Value::String(s) => Cow::Borrowed(s.as_str()),
            other => Cow::Owned(other.to_string()),
        }));
    }
    if ty == KustoType::Dynamic {
        return Some(Cell::Text(dynamic_text(value)));
    }
    if let Value::String(s) = value {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Some(Cell::Null);
        }
        return convert_text(trimmed, ty);
    }
    match (ty, value) {
        (KustoType::Bool, Value::Bool(b)) => Some(Cell::Bool(*b)),
        (KustoType::Bool, Value::Number(n)) => match n.as_i64() {
            Some(0) => Some(Cell::Bool(false)),
            Some(1) => Some(Cell::Bool(true)),
            _ => None,
        },
        (KustoType::Int, Value::Number(n)) => integral(n)
            .and_then(|v| i32::try_from(v).ok())
            .map(Cell::Int),
        (KustoType::Long, Value::Number(n)) => integral(n).map(Cell::Long),
        (KustoType::Real, Value::Number(n)) => n.as_f64().map(Cell::Real),
        (KustoType::Decimal, Value::Number(n)) => decimal_from_text(&n.to_string()),
        (KustoType::Int | KustoType::Long, Value::Bool(b)) => Some(if ty == KustoType::Int {
            Cell::Int(i32::from(*b))
        } else {
            Cell::Long(i64::from(*b))
        }),
        _ => None,
    }
}

/// A JSON number as an integer when it has no fraction.
fn integral(n: &serde_json::Number) -> Option<i64> {
    if let Some(v) = n.as_i64() {
        return Some(v);
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

/// A non-empty, trimmed text value converted to `ty` (neither string nor dynamic).
fn convert_text(text: &str, ty: KustoType) -> Option<Cell<'_>> {
    match ty {
        KustoType::Bool => match text.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(Cell::Bool(true)),
            "false" | "0" => Some(Cell::Bool(false)),
            _ => None,
        },
        KustoType::Int => parse_integer(text)
            .and_then(|v| i32::try_from(v).ok())
            .map(Cell::Int),
        KustoType::Long => parse_integer(text).map(Cell::Long),
        KustoType::Real => text.parse::<f64>().ok().map(Cell::Real),
        KustoType::Decimal => decimal_from_text(text),
        KustoType::DateTime => parse_datetime(text).map(Cell::Nanos),
        KustoType::TimeSpan => parse_timespan(text).map(Cell::Nanos),
        KustoType::Guid => parse_guid(text).map(Cell::Guid),
        KustoType::String | KustoType::Dynamic => Some(Cell::Text(Cow::Borrowed(text))),
    }
}

/// A decimal or `0x` hexadecimal integer (Windows writes process ids both ways), or a real
/// without a fraction.
fn parse_integer(text: &str) -> Option<i64> {
    if let Ok(v) = text.parse::<i64>() {
        return Some(v);
    }
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok().map(|v| v as i64);
    }
    let f = text.parse::<f64>().ok()?;
    (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
}

/// A decimal number scaled to the Arrow decimal's 18 fractional digits.
fn decimal_from_text(text: &str) -> Option<Cell<'static>> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > DECIMAL_SCALE as usize
    {
        return None;
    }
    let mut scaled = format!("{whole}{fraction}");
    for _ in fraction.len()..DECIMAL_SCALE as usize {
        scaled.push('0');
    }
    let magnitude: i128 = scaled.trim_start_matches('0').parse().unwrap_or(0);
    Some(Cell::Decimal(if negative { -magnitude } else { magnitude }))
}

/// A GUID in its usual text forms (with or without braces or hyphens), in Kusto's byte order
/// (the text's order).
pub fn parse_guid(text: &str) -> Option<[u8; 16]> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let hex: String = inner.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(bytes)
}

/// The JSON text a `dynamic` column stores: exports write dynamic values as JSON text inside a
/// string, which Kusto parses back; any other string stays a JSON string.
fn dynamic_text(value: &Value) -> Cow<'_, str> {
    if let Value::String(s) = value {
        let trimmed = s.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            if let Ok(parsed) = serde_json::from_str::<Value>(s) {
                return Cow::Owned(parsed.to_string());
            }
        }
    }
    Cow::Owned(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Int64Type, TimestampNanosecondType};
    use quarry_schema::{Column, TableSchema};
    use serde_json::json;

    fn table() -> Arc<TableSchema> {
        Arc::new(
            TableSchema::new(
                "T",
                vec![
                    Column::new("TimeGenerated", KustoType::DateTime),
                    Column::new("Timestamp", KustoType::DateTime),
                    Column::new("ProcessId", KustoType::Long),
                    Column::new("Name", KustoType::String),
                    Column::new("AdditionalFields", KustoType::Dynamic),
                    Column::new("Id", KustoType::Guid),
                    Column::new("Type", KustoType::String),
                ],
                "test",
                false,
            )
            .unwrap(),
        )
    }

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn converts_types_and_fills_the_second_time_column() {
        let mut builder = TableBuilder::new(table());
        builder
            .append(&object(json!({
                "Timestamp": "2020-10-19T02:56:05.123Z",
                "ProcessId": "0x1a74",
                "Name": 7,
                "AdditionalFields_string": "{\"a\": 1}",
                "Id": "{6E6B3A51-0000-0000-0000-000000000001}",
                "Extra": "dropped"
            })))
            .unwrap();
        let batch = builder.finish().unwrap();
        let time = batch.column(0).as_primitive::<TimestampNanosecondType>();
        assert_eq!(time.value(0), 1_603_076_165_123_000_000);
        assert_eq!(
            batch
                .column(1)
                .as_primitive::<TimestampNanosecondType>()
                .value(0),
            time.value(0)
        );
        assert_eq!(batch.column(2).as_primitive::<Int64Type>().value(0), 0x1a74);
        assert_eq!(batch.column(3).as_string::<i32>().value(0), "7");
        assert_eq!(batch.column(4).as_string::<i64>().value(0), r#"{"a":1}"#);
        assert!(!batch.column(5).is_null(0));
        assert_eq!(batch.column(6).as_string::<i32>().value(0), "T");
        assert_eq!(builder.dropped_fields().get("Extra"), Some(&1));
    }

    #[test]
    fn rejects_a_bad_value_without_appending_anything() {
        let mut builder = TableBuilder::new(table());
        let error = builder
            .append(&object(
                json!({"TimeGenerated": "2020-01-01", "ProcessId": "twelve"}),
            ))
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"column ProcessId (long): cannot read "twelve""#
        );
        assert_eq!(builder.len(), 0);
        let error = builder.append(&object(json!({"Name": "x"}))).unwrap_err();
        assert_eq!(
            error.to_string(),
            "no time: TimeGenerated is missing or empty"
        );
        let batch = builder.finish().unwrap();
        assert_eq!(batch.num_rows(), 0);
    }

    #[test]
    fn a_record_without_a_type_gets_the_tables_name() {
        let mut builder = TableBuilder::new(table());
        for record in [
            json!({"TimeGenerated": "2020-01-01"}),
            json!({"TimeGenerated": "2020-01-01", "Type": ""}),
            json!({"TimeGenerated": "2020-01-01", "Type": "Other"}),
            json!({"TimeGenerated": "2020-01-01", "Type": null, "Name": "n"}),
        ] {
            builder.append(&object(record)).unwrap();
        }
        let batch = builder.finish().unwrap();
        let types = batch.column(6).as_string::<i32>();
        assert_eq!(
            (0..4).map(|i| types.value(i)).collect::<Vec<_>>(),
            ["T", "T", "Other", "T"]
        );
        let names = batch.column(3).as_string::<i32>();
        assert_eq!(
            (0..4).map(|i| names.value(i)).collect::<Vec<_>>(),
            ["", "", "", "n"]
        );
    }

    #[test]
    fn decimals_and_guids() {
        assert_eq!(
            decimal_from_text("-1.5"),
            Some(Cell::Decimal(-1_500_000_000_000_000_000))
        );
        assert_eq!(decimal_from_text("1.2.3"), None);
        assert_eq!(parse_guid("not-a-guid"), None);
        assert_eq!(
            parse_guid("00000000-0000-0000-0000-0000000000ff").map(|g| g[15]),
            Some(0xff)
        );
    }
}
