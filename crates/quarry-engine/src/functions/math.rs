//! Math functions: `round`, `abs`, `ceiling`, logarithms and exponentials, `pow`, `sqrt`, `sign`,
//! `isnan`/`isinf`/`isfinite`, `pi`, `rand` and the trigonometric functions.
//!
//! All of these map onto DataFusion's built-ins; Kusto's differences (a real result for integer
//! input, null for the logarithm or square root of a negative number) are handled with casts
//! and `CASE`. `floor` is `bin`'s alias and lives with the datetime family.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::functions::expr_fn as df;
use datafusion::logical_expr::{cast, lit, when, Expr};

use super::dynamic::{row_call, scalar_f64};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use crate::error::EngineError;
use crate::types::{kusto_type, DECIMAL_PRECISION, DECIMAL_SCALE};

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "round", "abs", "ceiling", "log", "log2", "log10", "exp", "exp2", "exp10", "pow", "sqrt",
    "sign", "isnan", "isinf", "isfinite", "pi", "rand", "acos", "asin", "atan", "atan2", "cos",
    "sin", "tan", "cot", "degrees", "radians",
];

fn real(expr: Expr) -> Expr {
    cast(expr, DataType::Float64)
}

fn dynamic_real_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Float64(scalar_f64(&args[0])))
}

/// An argument as a real: a `dynamic` holding anything but a number is null (a plain cast
/// would fail on JSON text).
fn real_arg(arg: &PlannedArg) -> Expr {
    match arg.data_type {
        DataType::LargeUtf8 => row_call(
            "dynamic_to_real",
            DataType::Float64,
            dynamic_real_row,
            vec![arg.expr.clone()],
        ),
        _ => real(arg.expr.clone()),
    }
}

fn null_real() -> Expr {
    lit(ScalarValue::Float64(None))
}

fn expect_number(name: &str, arg: &PlannedArg) -> Result<(), EngineError> {
    let t = &arg.data_type;
    if t.is_numeric() || matches!(t, DataType::Null | DataType::LargeUtf8) {
        return Ok(());
    }
    let found = kusto_type(t).map_or_else(|| t.to_string(), |k| k.to_string());
    Err(EngineError::bind(
        format!("{name}() expects a number, not {found}"),
        arg.span,
    ))
}

/// `f(real(x))`, null when `x` is negative (Kusto's `log*` and `sqrt`).
fn non_negative(x: Expr, f: fn(Expr) -> Expr) -> Result<Expr, EngineError> {
    let x = real(x);
    Ok(when(x.clone().lt(lit(0.0)), null_real()).otherwise(f(x))?)
}

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    if !NAMES.contains(&name) {
        return None;
    }
    Some(plan_known(name, args, ctx))
}

fn plan_known(name: &str, args: &[PlannedArg], ctx: &CallContext) -> Result<Expr, EngineError> {
    let (min, max) = match name {
        "pi" => (0, 0),
        "rand" => (0, 1),
        "round" => (1, 2),
        "pow" | "atan2" => (2, 2),
        _ => (1, 1),
    };
    check_arity(name, args, min, max, ctx)?;
    for arg in args {
        let timespan_abs = name == "abs" && matches!(arg.data_type, DataType::Duration(_));
        if !timespan_abs {
            expect_number(name, arg)?;
        }
    }
    // A dynamic argument is read as a real first.
    let converted: Vec<PlannedArg> = args
        .iter()
        .map(|a| match a.data_type {
            DataType::LargeUtf8 => PlannedArg {
                expr: real_arg(a),
                data_type: DataType::Float64,
                span: a.span,
            },
            _ => a.clone(),
        })
        .collect();
    let args = converted.as_slice();
    let x = || args[0].expr.clone();
    let x_type = || &args[0].data_type;
    Ok(match name {
        "pi" => lit(std::f64::consts::PI),
        "rand" => match args.first() {
            None => df::random(),
            Some(limit) => cast(
                df::floor(df::random() * real(limit.expr.clone())),
                DataType::Int64,
            ),
        },
        "round" => {
            let digits = args
                .get(1)
                .map_or_else(|| lit(0i64), |d| cast(d.expr.clone(), DataType::Int64));
            match x_type() {
                DataType::Float64 => df::round(vec![x(), digits]),
                DataType::Int64 | DataType::Int32 => cast(
                    df::round(vec![cast(x(), DataType::Int64), digits]),
                    x_type().clone(),
                ),
                t if t.is_integer() => df::round(vec![cast(x(), DataType::Int64), digits]),
                DataType::Decimal128(..) | DataType::Decimal256(..) => cast(
                    df::round(vec![real(x()), digits]),
                    DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
                ),
                _ => df::round(vec![real(x()), digits]),
            }
        }
        "abs" => match x_type() {
            t if t.is_integer() => df::abs(cast(x(), DataType::Int64)),
            // abs() of a timespan is a timespan: take it of the nanoseconds.
            DataType::Duration(unit) => cast(
                df::abs(cast(x(), DataType::Int64)),
                DataType::Duration(*unit),
            ),
            DataType::Decimal128(..) | DataType::Decimal256(..) | DataType::Float64 => df::abs(x()),
            _ => df::abs(real(x())),
        },
        "ceiling" => df::ceil(real(x())),
        "log" => non_negative(x(), df::ln)?,
        "log2" => non_negative(x(), df::log2)?,
        "log10" => non_negative(x(), df::log10)?,
        "sqrt" => non_negative(x(), df::sqrt)?,
        "exp" => df::exp(real(x())),
        "exp2" => df::power(lit(2.0), real(x())),
        "exp10" => df::power(lit(10.0), real(x())),
        "pow" => df::power(real(x()), real(args[1].expr.clone())),
        "sign" => df::signum(real(x())),
        "isnan" => df::isnan(real(x())),
        "isinf" => df::abs(real(x())).eq(lit(f64::INFINITY)),
        // x - x is 0 exactly for finite x, NaN for NaN and the infinities.
        "isfinite" => (real(x()) - real(x())).eq(lit(0.0)),
        "acos" => df::acos(real(x())),
        "asin" => df::asin(real(x())),
        "atan" => df::atan(real(x())),
        "atan2" => df::atan2(real(x()), real(args[1].expr.clone())),
        "cos" => df::cos(real(x())),
        "sin" => df::sin(real(x())),
        "tan" => df::tan(real(x())),
        "cot" => df::cot(real(x())),
        "degrees" => df::degrees(real(x())),
        "radians" => df::radians(real(x())),
        _ => {
            return Err(EngineError::unsupported(
                format!("function {name}()"),
                ctx.span,
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::strings::tests::{arg, ctx};
    use datafusion::arrow::array::{ArrayRef, Float64Array, Int32Array};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::logical_expr::col;
    use datafusion::prelude::SessionContext;
    use std::sync::Arc;

    fn r(value: f64) -> PlannedArg {
        arg(lit(value), DataType::Float64)
    }

    fn n(value: i64) -> PlannedArg {
        arg(lit(value), DataType::Int64)
    }

    /// Evaluates `name(args)` over a batch with columns `r` (real) and `i` (int).
    async fn eval(
        name: &str,
        args: Vec<PlannedArg>,
        reals: Vec<Option<f64>>,
        ints: Vec<Option<i32>>,
    ) -> Vec<ScalarValue> {
        let expr = plan(name, &args, &ctx()).unwrap().unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("r", DataType::Float64, true),
            Field::new("i", DataType::Int32, true),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Float64Array::from(reals)) as ArrayRef,
                Arc::new(Int32Array::from(ints)) as ArrayRef,
            ],
        )
        .unwrap();
        let session = SessionContext::new();
        let frame = session
            .read_batch(batch)
            .unwrap()
            .select(vec![expr.alias("x")])
            .unwrap();
        let mut out = Vec::new();
        for batch in frame.collect().await.unwrap() {
            for row in 0..batch.num_rows() {
                out.push(ScalarValue::try_from_array(batch.column(0), row).unwrap());
            }
        }
        out
    }

    async fn scalar(name: &str, args: Vec<PlannedArg>) -> ScalarValue {
        eval(name, args, vec![Some(0.0)], vec![Some(0)])
            .await
            .remove(0)
    }

    fn real_col() -> PlannedArg {
        arg(col("r"), DataType::Float64)
    }

    fn int_col() -> PlannedArg {
        arg(col("i"), DataType::Int32)
    }

    fn f(value: f64) -> ScalarValue {
        ScalarValue::Float64(Some(value))
    }

    #[tokio::test]
    async fn round_half_away_from_zero() {
        let reals = vec![
            Some(2.5),
            Some(-2.5),
            Some(0.5),
            Some(-0.5),
            Some(2.49999999),
            None,
        ];
        let out = eval("round", vec![real_col()], reals, vec![None; 6]).await;
        let expected = [
            Some(3.0),
            Some(-3.0),
            Some(1.0),
            Some(-1.0),
            Some(2.0),
            None,
        ]
        .map(ScalarValue::Float64);
        assert_eq!(out, expected.to_vec());
        let out = eval(
            "round",
            vec![real_col(), n(1)],
            vec![Some(3.25), Some(-5.5), Some(0.1)],
            vec![None; 3],
        )
        .await;
        assert_eq!(out, vec![f(3.3), f(-5.5), f(0.1)]);
        assert_eq!(
            scalar("round", vec![n(1234), n(-2)]).await,
            ScalarValue::Int64(Some(1200))
        );
    }

    #[tokio::test]
    async fn result_types_follow_kusto() {
        let ints = vec![Some(i32::MIN), Some(-5), Some(0)];
        let out = eval("abs", vec![int_col()], vec![None; 3], ints.clone()).await;
        assert_eq!(
            out,
            [2_147_483_648, 5, 0]
                .map(|v| ScalarValue::Int64(Some(v)))
                .to_vec()
        );
        let out = eval("sign", vec![int_col()], vec![None; 3], ints.clone()).await;
        assert_eq!(out, vec![f(-1.0), f(-1.0), f(0.0)]);
        let out = eval("ceiling", vec![int_col()], vec![None; 3], ints).await;
        assert_eq!(out, vec![f(-2147483648.0), f(-5.0), f(0.0)]);
        assert_eq!(scalar("ceiling", vec![r(-1.1)]).await, f(-1.0));
        assert_eq!(scalar("pow", vec![n(2), n(3)]).await, f(8.0));
        assert_eq!(scalar("exp2", vec![n(3)]).await, f(8.0));
        assert_eq!(scalar("exp10", vec![n(2)]).await, f(100.0));
        assert_eq!(scalar("pi", vec![]).await, f(std::f64::consts::PI));
    }

    #[tokio::test]
    async fn logarithms_of_negatives_are_null() {
        let reals = vec![Some(-1.0), Some(0.0), Some(4.0), None];
        let out = eval("log2", vec![real_col()], reals.clone(), vec![None; 4]).await;
        assert_eq!(
            out,
            vec![
                ScalarValue::Float64(None),
                f(f64::NEG_INFINITY),
                f(2.0),
                ScalarValue::Float64(None)
            ]
        );
        let out = eval("sqrt", vec![real_col()], reals, vec![None; 4]).await;
        assert_eq!(
            out,
            vec![
                ScalarValue::Float64(None),
                f(0.0),
                f(2.0),
                ScalarValue::Float64(None)
            ]
        );
        assert_eq!(scalar("log10", vec![n(5)]).await, f(0.6989700043360189));
    }

    #[tokio::test]
    async fn nan_and_infinity_checks() {
        let reals = vec![
            Some(f64::NAN),
            Some(f64::INFINITY),
            Some(f64::NEG_INFINITY),
            Some(1.5),
            None,
        ];
        let b = |v: Option<bool>| ScalarValue::Boolean(v);
        let out = eval("isnan", vec![real_col()], reals.clone(), vec![None; 5]).await;
        assert_eq!(
            out,
            [Some(true), Some(false), Some(false), Some(false), None]
                .map(b)
                .to_vec()
        );
        let out = eval("isinf", vec![real_col()], reals.clone(), vec![None; 5]).await;
        assert_eq!(
            out,
            [Some(false), Some(true), Some(true), Some(false), None]
                .map(b)
                .to_vec()
        );
        let out = eval("isfinite", vec![real_col()], reals, vec![None; 5]).await;
        assert_eq!(
            out,
            [Some(false), Some(false), Some(false), Some(true), None]
                .map(b)
                .to_vec()
        );
        let out = eval("isnan", vec![int_col()], vec![None; 2], vec![Some(1), None]).await;
        assert_eq!(out, [Some(false), None].map(b).to_vec());
    }

    #[tokio::test]
    async fn rand_is_in_range() {
        match scalar("rand", vec![]).await {
            ScalarValue::Float64(Some(v)) => assert!((0.0..1.0).contains(&v)),
            other => panic!("{other:?}"),
        }
        match scalar("rand", vec![n(10)]).await {
            ScalarValue::Int64(Some(v)) => assert!((0..10).contains(&v)),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn dynamic_arguments_are_read_as_reals() {
        let d = |text: &str| {
            arg(
                lit(ScalarValue::LargeUtf8(Some(text.into()))),
                DataType::LargeUtf8,
            )
        };
        assert_eq!(scalar("abs", vec![d("-2.5")]).await, f(2.5));
        assert_eq!(
            scalar("abs", vec![d("\"x\"")]).await,
            ScalarValue::Float64(None)
        );
        assert_eq!(scalar("pow", vec![d("2"), n(2)]).await, f(4.0));
    }

    #[test]
    fn arity_and_types_are_checked() {
        assert!(plan("pow", &[n(1)], &ctx()).unwrap().is_err());
        assert!(plan("abs", &[arg(lit("x"), DataType::Utf8)], &ctx())
            .unwrap()
            .is_err());
        assert!(plan("floor", &[n(1)], &ctx()).is_none());
    }
}
