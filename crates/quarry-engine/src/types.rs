//! The Kusto type system on Arrow: one Arrow type per Kusto type, so that a column's Kusto type
//! can always be read back from its Arrow type without side metadata.
//!
//! | Kusto | Arrow |
//! |---|---|
//! | bool | Boolean |
//! | int | Int32 |
//! | long | Int64 |
//! | real | Float64 |
//! | decimal | Decimal128(38, 18) |
//! | string | Utf8 (never null: a missing string is `""`) |
//! | datetime | Timestamp(Nanosecond, None), UTC |
//! | timespan | Duration(Nanosecond) |
//! | guid | FixedSizeBinary(16) |
//! | dynamic | LargeUtf8 holding JSON text |

use datafusion::arrow::datatypes::{DataType, TimeUnit};
pub use quarry_schema::KustoType;

/// Precision and scale of the Arrow decimal that carries Kusto `decimal`.
pub const DECIMAL_PRECISION: u8 = 38;
/// Scale of the Arrow decimal that carries Kusto `decimal`.
pub const DECIMAL_SCALE: i8 = 18;

/// The Arrow type that carries values of `ty`.
pub fn arrow_type(ty: KustoType) -> DataType {
    match ty {
        KustoType::Bool => DataType::Boolean,
        KustoType::Int => DataType::Int32,
        KustoType::Long => DataType::Int64,
        KustoType::Real => DataType::Float64,
        KustoType::Decimal => DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
        KustoType::String => DataType::Utf8,
        KustoType::DateTime => DataType::Timestamp(TimeUnit::Nanosecond, None),
        KustoType::TimeSpan => DataType::Duration(TimeUnit::Nanosecond),
        KustoType::Guid => DataType::FixedSizeBinary(16),
        KustoType::Dynamic => DataType::LargeUtf8,
    }
}

/// The Kusto type of an Arrow type, mapping the types DataFusion may produce on its own
/// (other integer widths, views, other time units) to the nearest Kusto type.
pub fn kusto_type(data_type: &DataType) -> Option<KustoType> {
    Some(match data_type {
        DataType::Boolean => KustoType::Bool,
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16 => {
            KustoType::Int
        }
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => KustoType::Long,
        DataType::Float16 | DataType::Float32 | DataType::Float64 => KustoType::Real,
        DataType::Decimal128(..) | DataType::Decimal256(..) => KustoType::Decimal,
        DataType::Utf8 | DataType::Utf8View => KustoType::String,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => KustoType::DateTime,
        DataType::Duration(_) => KustoType::TimeSpan,
        DataType::FixedSizeBinary(16) => KustoType::Guid,
        DataType::LargeUtf8 => KustoType::Dynamic,
        DataType::Null => KustoType::Dynamic,
        _ => return None,
    })
}

/// Nanoseconds in one Kusto tick (100 ns).
pub const NANOS_PER_TICK: i64 = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kusto_type_round_trips_through_arrow() {
        for ty in KustoType::ALL {
            assert_eq!(kusto_type(&arrow_type(ty)), Some(ty), "{ty}");
        }
    }
}
