//! Kusto's implicit conversions between the operands of a comparison or arithmetic, which
//! DataFusion's type coercion does not make: a `dynamic` value meets a scalar of the type the
//! other side has (`Data.NewValue == 1`, `Props.IsAdmin == true`), and a `bool` compares with a
//! number as 0 or 1 (`IsLocalAdmin == 1`), and text meets a number, bool, datetime or timespan as
//! that type (`ErrorCode == "0xc0000193"`, `ResultType == 50126` on a string column).

use crate::functions::convert_expr;
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{cast, Expr};

/// The operands of a comparison or arithmetic, converted so that both sides have types
/// DataFusion can compare or compute with; operands that already agree are returned unchanged.
pub(super) fn align(
    left: Expr,
    left_type: Option<&DataType>,
    right: Expr,
    right_type: Option<&DataType>,
) -> (Expr, Expr) {
    let (Some(lt), Some(rt)) = (left_type, right_type) else {
        return (left, right);
    };
    let is_literal = |e: &Expr| matches!(e, Expr::Literal(..));
    match (
        conversion(lt, is_literal(&left), rt),
        conversion(rt, is_literal(&right), lt),
    ) {
        (Some(Conversion::Kusto(target)), _) => (convert_expr(left, target), right),
        (_, Some(Conversion::Kusto(target))) => (left, convert_expr(right, target)),
        (Some(Conversion::Cast(target)), _) => (cast(left, target), right),
        (_, Some(Conversion::Cast(target))) => (left, cast(right, target)),
        _ => (left, right),
    }
}

/// How one operand is converted to meet the other.
enum Conversion {
    /// By Kusto's conversion functions (text and JSON are parsed).
    Kusto(DataType),
    /// By an Arrow cast (lossless for the types it is used on).
    Cast(DataType),
}

/// How an operand of type `from` (a literal or not) is converted to meet an operand of type
/// `other`, if it must be.
fn conversion(from: &DataType, literal: bool, other: &DataType) -> Option<Conversion> {
    let is_dynamic = |t: &DataType| matches!(t, DataType::LargeUtf8);
    let is_scalar = |t: &DataType| {
        t.is_numeric()
            || matches!(
                t,
                DataType::Boolean
                    | DataType::Utf8
                    | DataType::Utf8View
                    | DataType::Timestamp(..)
                    | DataType::Duration(..)
                    | DataType::FixedSizeBinary(16)
            )
    };
    if is_dynamic(from) && is_scalar(other) {
        // A dynamic number meets an int as a long, so that `dynamic(3000000000) > 1` holds.
        let target = match other {
            DataType::Int8 | DataType::Int16 | DataType::Int32 => DataType::Int64,
            DataType::Utf8View => DataType::Utf8,
            t => t.clone(),
        };
        return Some(Conversion::Kusto(target));
    }
    // Text meets a number, bool, datetime or timespan as that type, read by Kusto's conversion
    // (text that does not convert is null, so the comparison is false). DataFusion would cast the
    // text with Arrow's cast instead, which fails the whole query on the first `abc`.
    if matches!(from, DataType::Utf8 | DataType::Utf8View) && is_scalar(other) && !other.is_string()
    {
        let target = match other {
            DataType::Int8 | DataType::Int16 | DataType::Int32 if !literal => DataType::Int64,
            t => t.clone(),
        };
        return Some(Conversion::Kusto(target));
    }
    if matches!(from, DataType::Boolean) && other.is_numeric() {
        return Some(Conversion::Cast(if other.is_integer() {
            DataType::Int64
        } else {
            other.clone()
        }));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit};

    #[test]
    fn dynamic_meets_the_scalar_type_of_the_other_side() {
        let (l, r) = align(
            col("d"),
            Some(&DataType::LargeUtf8),
            lit(1),
            Some(&DataType::Int32),
        );
        assert_eq!(r, lit(1));
        assert!(l.to_string().starts_with("tolong("), "{l}");
        let (l, r) = align(
            lit(true),
            Some(&DataType::Boolean),
            col("d"),
            Some(&DataType::LargeUtf8),
        );
        assert_eq!(l, lit(true));
        assert!(r.to_string().starts_with("tobool("), "{r}");
    }

    #[test]
    fn bool_compares_with_a_number_as_an_integer() {
        let (l, _) = align(
            col("b"),
            Some(&DataType::Boolean),
            lit(1),
            Some(&DataType::Int32),
        );
        assert_eq!(l, cast(col("b"), DataType::Int64));
    }

    #[test]
    fn a_text_literal_meets_a_typed_column_as_its_type() {
        let (l, r) = align(
            col("code"),
            Some(&DataType::Int32),
            lit("0xc0000193"),
            Some(&DataType::Utf8),
        );
        assert_eq!(l, col("code"));
        assert!(r.to_string().starts_with("toint("), "{r}");
        // A text column is read as a long, so that `abc` is null rather than a failed cast.
        let (l, r) = align(
            col("s"),
            Some(&DataType::Utf8),
            lit(5),
            Some(&DataType::Int32),
        );
        assert!(l.to_string().starts_with("tolong("), "{l}");
        assert_eq!(r, lit(5));
    }

    #[test]
    fn agreeing_operands_are_unchanged() {
        let (l, r) = align(
            col("a"),
            Some(&DataType::Int64),
            lit(1.5),
            Some(&DataType::Float64),
        );
        assert_eq!((l, r), (col("a"), lit(1.5)));
        let (l, r) = align(
            col("d"),
            Some(&DataType::LargeUtf8),
            col("e"),
            Some(&DataType::LargeUtf8),
        );
        assert_eq!((l, r), (col("d"), col("e")));
    }
}
