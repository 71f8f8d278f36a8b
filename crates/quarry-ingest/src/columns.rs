//! One Arrow builder per column, typed once when the table builder is made, so that appending a
//! cell is a match on the column's kind instead of a downcast per cell. A column only receives
//! the rows that carry a value for it: the rows in between are filled with the column's empty
//! value in one go when the next value (or the end of the batch) comes, so the many columns a
//! record leaves out cost nothing per row.

use crate::coerce::Cell;
use datafusion::arrow::array::{
    new_null_array, Array, ArrayBuilder, ArrayRef, BooleanBuilder, Decimal128Builder,
    DurationNanosecondBuilder, FixedSizeBinaryBuilder, Float64Builder, Int32Builder, Int64Builder,
    LargeStringBuilder, StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::DataType;
use quarry_engine::types::{DECIMAL_PRECISION, DECIMAL_SCALE};
use quarry_schema::KustoType;
use std::sync::Arc;

/// The builder of one column, by the column's Kusto type.
pub(crate) enum ColumnBuilder {
    /// `bool`.
    Bool(BooleanBuilder),
    /// `int`.
    Int(Int32Builder),
    /// `long`.
    Long(Int64Builder),
    /// `real`.
    Real(Float64Builder),
    /// `decimal`.
    Decimal(Decimal128Builder),
    /// `string`: the empty string stands for a missing value (a column no row of a batch has
    /// is all nulls instead, see [`Columns::finish`]).
    String(StringBuilder),
    /// `datetime`.
    DateTime(TimestampNanosecondBuilder),
    /// `timespan`.
    TimeSpan(DurationNanosecondBuilder),
    /// `guid`, 16 bytes.
    Guid(FixedSizeBinaryBuilder),
    /// `dynamic`, as JSON text.
    Dynamic(LargeStringBuilder),
}

impl ColumnBuilder {
    /// An empty builder for a column of type `ty`, with room for `rows` values (and `bytes`
    /// of text in a string column).
    pub(crate) fn new(ty: KustoType, rows: usize, bytes: usize) -> ColumnBuilder {
        match ty {
            KustoType::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(rows)),
            KustoType::Int => ColumnBuilder::Int(Int32Builder::with_capacity(rows)),
            KustoType::Long => ColumnBuilder::Long(Int64Builder::with_capacity(rows)),
            KustoType::Real => ColumnBuilder::Real(Float64Builder::with_capacity(rows)),
            KustoType::Decimal => ColumnBuilder::Decimal(
                Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)
                    .unwrap_or_default(),
            ),
            KustoType::String => ColumnBuilder::String(StringBuilder::with_capacity(rows, bytes)),
            KustoType::DateTime => {
                ColumnBuilder::DateTime(TimestampNanosecondBuilder::with_capacity(rows))
            }
            KustoType::TimeSpan => {
                ColumnBuilder::TimeSpan(DurationNanosecondBuilder::with_capacity(rows))
            }
            KustoType::Guid => ColumnBuilder::Guid(FixedSizeBinaryBuilder::with_capacity(rows, 16)),
            KustoType::Dynamic => {
                ColumnBuilder::Dynamic(LargeStringBuilder::with_capacity(rows, bytes))
            }
        }
    }

    /// Values appended so far.
    pub(crate) fn len(&self) -> usize {
        match self {
            ColumnBuilder::Bool(b) => b.len(),
            ColumnBuilder::Int(b) => b.len(),
            ColumnBuilder::Long(b) => b.len(),
            ColumnBuilder::Real(b) => b.len(),
            ColumnBuilder::Decimal(b) => b.len(),
            ColumnBuilder::String(b) => b.len(),
            ColumnBuilder::DateTime(b) => b.len(),
            ColumnBuilder::TimeSpan(b) => b.len(),
            ColumnBuilder::Guid(b) => b.len(),
            ColumnBuilder::Dynamic(b) => b.len(),
        }
    }

    /// Appends the column's empty value (null, or the empty string for `string`) until the
    /// column holds `rows` values.
    pub(crate) fn fill_to(&mut self, rows: usize) {
        let missing = rows.saturating_sub(self.len());
        if missing == 0 {
            return;
        }
        match self {
            ColumnBuilder::Bool(b) => b.append_nulls(missing),
            ColumnBuilder::Int(b) => b.append_nulls(missing),
            ColumnBuilder::Long(b) => b.append_nulls(missing),
            ColumnBuilder::Real(b) => b.append_nulls(missing),
            ColumnBuilder::Decimal(b) => b.append_nulls(missing),
            ColumnBuilder::String(b) => b.append_value_n("", missing),
            ColumnBuilder::DateTime(b) => b.append_nulls(missing),
            ColumnBuilder::TimeSpan(b) => b.append_nulls(missing),
            ColumnBuilder::Guid(b) => b.append_nulls(missing),
            ColumnBuilder::Dynamic(b) => b.append_nulls(missing),
        }
    }

    /// Appends `cell` (converted for this column's type); a cell of another kind appends the
    /// column's empty value.
    pub(crate) fn push(&mut self, cell: Cell<'_>) {
        match (self, cell) {
            (ColumnBuilder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (ColumnBuilder::Int(b), Cell::Int(v)) => b.append_value(v),
            (ColumnBuilder::Long(b), Cell::Long(v)) => b.append_value(v),
            (ColumnBuilder::Real(b), Cell::Real(v)) => b.append_value(v),
            (ColumnBuilder::Decimal(b), Cell::Decimal(v)) => b.append_value(v),
            (ColumnBuilder::String(b), Cell::Text(v)) => b.append_value(v.as_ref()),
            (ColumnBuilder::DateTime(b), Cell::Nanos(v)) => b.append_value(v),
            (ColumnBuilder::TimeSpan(b), Cell::Nanos(v)) => b.append_value(v),
            (ColumnBuilder::Guid(b), Cell::Guid(v)) => {
                // The builder was made with width 16, so the length always matches.
                let _ = b.append_value(v);
            }
            (ColumnBuilder::Dynamic(b), Cell::Text(v)) => b.append_value(v.as_ref()),
            (builder, _) => {
                let rows = builder.len() + 1;
                builder.fill_to(rows);
            }
        }
    }

    /// The values appended so far as an array; the builder starts over empty, with room for
    /// `rows` values and about as much text as the array holds.
    fn finish(&mut self, rows: usize) -> ArrayRef {
        let array: ArrayRef = match self {
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Long(b) => Arc::new(b.finish()),
            ColumnBuilder::Real(b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal(b) => Arc::new(b.finish()),
            ColumnBuilder::String(b) => Arc::new(b.finish()),
            ColumnBuilder::DateTime(b) => Arc::new(b.finish()),
            ColumnBuilder::TimeSpan(b) => Arc::new(b.finish()),
            ColumnBuilder::Guid(b) => Arc::new(b.finish()),
            ColumnBuilder::Dynamic(b) => Arc::new(b.finish()),
        };
        let bytes = text_bytes(&array);
        *self = ColumnBuilder::new(self.kusto_type(), rows, bytes + bytes / 8);
        array
    }

    /// The Kusto type this builder was made for.
    fn kusto_type(&self) -> KustoType {
        match self {
            ColumnBuilder::Bool(_) => KustoType::Bool,
            ColumnBuilder::Int(_) => KustoType::Int,
            ColumnBuilder::Long(_) => KustoType::Long,
            ColumnBuilder::Real(_) => KustoType::Real,
            ColumnBuilder::Decimal(_) => KustoType::Decimal,
            ColumnBuilder::String(_) => KustoType::String,
            ColumnBuilder::DateTime(_) => KustoType::DateTime,
            ColumnBuilder::TimeSpan(_) => KustoType::TimeSpan,
            ColumnBuilder::Guid(_) => KustoType::Guid,
            ColumnBuilder::Dynamic(_) => KustoType::Dynamic,
        }
    }
}

/// The columns of one table being built, with the arrays of columns that stayed empty kept
/// for the next batches (their buffers are shared, not made again for every batch).
pub(crate) struct Columns {
    builders: Vec<ColumnBuilder>,
    /// The data type of each column's arrays.
    data_types: Vec<DataType>,
    /// Per column, an array of nulls at least as long as the last batch, if the column was
    /// empty in a batch.
    empty: Vec<Option<ArrayRef>>,
}

impl Columns {
    /// Builders for columns of types `types`, whose arrays have `data_types`.
    pub(crate) fn new(types: &[KustoType], data_types: Vec<DataType>) -> Columns {
        Columns {
            builders: types
                .iter()
                .map(|&ty| ColumnBuilder::new(ty, 1024, 1024))
                .collect(),
            data_types,
            empty: vec![None; types.len()],
        }
    }

    /// Appends `cell` as the value of row `row` (0-based in the batch) of column `column`.
    pub(crate) fn push(&mut self, column: usize, row: usize, cell: Cell<'_>) {
        if let Some(builder) = self.builders.get_mut(column) {
            builder.fill_to(row);
            builder.push(cell);
        }
    }

    /// The batch's arrays, each `rows` long (a column no row has is all nulls, whatever its
    /// type); the builders start over, with room for a batch like this one.
    pub(crate) fn finish(&mut self, rows: usize) -> Vec<ArrayRef> {
        let mut arrays = Vec::with_capacity(self.builders.len());
        for ((builder, data_type), empty) in self
            .builders
            .iter_mut()
            .zip(&self.data_types)
            .zip(&mut self.empty)
        {
            if builder.len() == 0 && rows > 0 {
                arrays.push(empty_array(empty, data_type, rows));
                continue;
            }
            builder.fill_to(rows);
            // The next batch is likely about as big: room for it up front spares growing the
            // buffers value by value (copies, and fresh pages from the kernel each time).
            arrays.push(builder.finish(rows + rows / 8));
        }
        arrays
    }
}

/// `rows` nulls of `data_type`, sliced from `cached` (made or grown as needed). A column no
/// row of the batch has is stored as nulls even for `string`, whose empty value is the empty
/// string: nulls cost the Parquet writer a few bytes instead of a length per row, and the
/// workspace scan reads them back as empty strings.
fn empty_array(cached: &mut Option<ArrayRef>, data_type: &DataType, rows: usize) -> ArrayRef {
    let fits = cached.as_ref().is_some_and(|array| array.len() >= rows);
    if !fits {
        // Room for slightly bigger batches, so that it is not made again for each.
        *cached = Some(new_null_array(data_type, rows + rows / 8));
    }
    match cached {
        Some(array) => array.slice(0, rows),
        None => new_null_array(data_type, rows),
    }
}

/// The bytes of text a string array holds (0 for other arrays).
fn text_bytes(array: &ArrayRef) -> usize {
    use datafusion::arrow::array::AsArray;
    match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().value_data().len(),
        DataType::LargeUtf8 => array.as_string::<i64>().value_data().len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Int64Type, TimeUnit};
    use std::borrow::Cow;

    #[test]
    fn rows_without_a_value_get_the_columns_empty_value() {
        let types = [KustoType::String, KustoType::Long, KustoType::String];
        let data_types = vec![DataType::Utf8, DataType::Int64, DataType::Utf8];
        let mut columns = Columns::new(&types, data_types);
        columns.push(0, 1, Cell::Text(Cow::Borrowed("b")));
        columns.push(1, 0, Cell::Long(7));
        columns.push(1, 2, Cell::Long(9));
        // A cell of the wrong kind is the empty value.
        columns.push(0, 3, Cell::Long(1));
        let arrays = columns.finish(5);
        let text = arrays[0].as_string::<i32>();
        assert_eq!(
            (0..5).map(|i| text.value(i)).collect::<Vec<_>>(),
            ["", "b", "", "", ""]
        );
        assert_eq!(text.null_count(), 0);
        let long = arrays[1].as_primitive::<Int64Type>();
        assert_eq!(
            (0..5)
                .map(|i| long.is_valid(i).then(|| long.value(i)))
                .collect::<Vec<_>>(),
            [Some(7), None, Some(9), None, None]
        );
        // A string column no row has is all nulls (the workspace scan reads them as "").
        let empty = arrays[2].as_string::<i32>();
        assert_eq!(empty.len(), 5);
        assert_eq!(empty.null_count(), 5);

        // The next batch starts empty; a column empty again reuses its shared array.
        columns.push(1, 1, Cell::Long(3));
        let arrays = columns.finish(2);
        assert_eq!(arrays[0].len(), 2);
        assert_eq!(arrays[0].as_string::<i32>().value(1), "");
        assert_eq!(arrays[1].as_primitive::<Int64Type>().value(1), 3);
        assert!(arrays[1].is_null(0));
        assert_eq!(arrays[2].len(), 2);
    }

    #[test]
    fn empty_columns_of_other_types_are_null() {
        let types = [KustoType::DateTime, KustoType::Dynamic, KustoType::Guid];
        let data_types = vec![
            DataType::Timestamp(TimeUnit::Nanosecond, None),
            DataType::LargeUtf8,
            DataType::FixedSizeBinary(16),
        ];
        let mut columns = Columns::new(&types, data_types.clone());
        columns.push(2, 2, Cell::Guid([1; 16]));
        let arrays = columns.finish(3);
        for (array, data_type) in arrays.iter().zip(&data_types) {
            assert_eq!(array.data_type(), data_type);
            assert_eq!(array.len(), 3);
        }
        assert_eq!(arrays[0].null_count(), 3);
        assert_eq!(arrays[1].null_count(), 3);
        assert_eq!(arrays[2].null_count(), 2);
        assert_eq!(arrays[2].as_fixed_size_binary().value(2), &[1; 16]);
    }
}
