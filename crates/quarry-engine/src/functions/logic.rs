//! Logic: `iff`/`iif`, `case`, `coalesce`, `isempty`/`isnotempty`/`isnull`/`isnotnull`, `min_of`/`max_of`, `not`, `gettype`.

use super::strings::{udf_call, Batch, KqlUdf};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use crate::error::EngineError;
use crate::types::kusto_type;
use datafusion::arrow::array::{ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DFResult;
use datafusion::functions::core::expr_fn::{coalesce, greatest, least};
use datafusion::logical_expr::{lit, when, Expr};
use serde_json::Value as Json;
use std::sync::Arc;

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "iff",
    "iif",
    "case",
    "coalesce",
    "isempty",
    "isnotempty",
    "notempty",
    "isnull",
    "isnotnull",
    "notnull",
    "not",
    "min_of",
    "max_of",
    "gettype",
];

fn is_string(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Utf8 | DataType::Utf8View)
}

fn is_dynamic(data_type: &DataType) -> bool {
    matches!(data_type, DataType::LargeUtf8)
}

/// `isempty(x)`: null, or an empty string (for dynamic: null or the string `""`).
fn is_empty(arg: &PlannedArg) -> Expr {
    let x = arg.expr.clone();
    match &arg.data_type {
        DataType::Null => lit(true),
        // Comparing lengths reads only the offsets (or views); `x == ""` compares bytes per row.
        t if is_string(t) => x
            .clone()
            .is_null()
            .or(datafusion::functions::expr_fn::octet_length(x).eq(lit(0))),
        t if is_dynamic(t) => x
            .clone()
            .is_null()
            .or(x.clone().eq(lit("null")))
            .or(x.clone().eq(lit("\"\"")))
            .or(x.eq(lit(""))),
        _ => x.is_null(),
    }
}

/// `isnull(x)`: a string is never null; a dynamic null is null.
fn is_null(arg: &PlannedArg) -> Expr {
    let x = arg.expr.clone();
    match &arg.data_type {
        DataType::Null => lit(true),
        t if is_string(t) => lit(false),
        t if is_dynamic(t) => x.clone().is_null().or(x.eq(lit("null"))),
        _ => x.is_null(),
    }
}

/// The Kusto type name of a dynamic value's JSON text.
fn dynamic_type_name(text: Option<&str>) -> &'static str {
    let Some(text) = text else {
        return "null";
    };
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Null) | Err(_) => "null",
        Ok(Json::Bool(_)) => "bool",
        Ok(Json::Number(n)) => {
            if n.is_i64() || n.is_u64() {
                "long"
            } else {
                "double"
            }
        }
        Ok(Json::String(_)) => "string",
        Ok(Json::Array(_)) => "array",
        Ok(Json::Object(_)) => "dictionary",
    }
}

fn k_gettype_dynamic(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let col = &batch.cols[0];
    // The planner may hand over a value that is not yet JSON text (a null literal, say).
    let converted;
    let array = match col.array.as_string_opt::<i64>() {
        Some(array) => array,
        None => {
            converted = datafusion::arrow::compute::cast(&col.array, &DataType::LargeUtf8)?;
            converted.as_string::<i64>()
        }
    };
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 6);
    for i in 0..batch.rows {
        let k = col.index(i);
        let text = (!datafusion::arrow::array::Array::is_null(array, k)).then(|| array.value(k));
        out.append_value(dynamic_type_name(text));
    }
    Ok(Arc::new(out.finish()))
}

/// The values of `iff`/`case` branches brought to one type, as Kusto's engine accepts them:
/// numbers widen (int, long, decimal, real), a string beside a `dynamic` becomes a `dynamic`
/// string, and any other mix beside a string is converted with `tostring`. Branches of one type
/// (nulls aside) are left as they are; DataFusion reports what still does not fit.
fn unify_branches(values: &[&PlannedArg], ctx: &CallContext) -> Result<Vec<Expr>, EngineError> {
    let typed: Vec<&DataType> = values
        .iter()
        .map(|arg| &arg.data_type)
        .filter(|t| **t != DataType::Null)
        .collect();
    let unchanged = || values.iter().map(|arg| arg.expr.clone()).collect();
    if typed.windows(2).all(|pair| pair[0] == pair[1]) {
        return Ok(unchanged());
    }
    let is_text = |t: &DataType| matches!(t, DataType::Utf8 | DataType::Utf8View);
    let convert = |arg: &PlannedArg,
                   keep: &dyn Fn(&DataType) -> bool,
                   to: &dyn Fn(&PlannedArg) -> Result<Expr, EngineError>| {
        if arg.data_type == DataType::Null || keep(&arg.data_type) {
            Ok(arg.expr.clone())
        } else {
            to(arg)
        }
    };
    if typed.iter().any(|t| **t == DataType::LargeUtf8) {
        return values
            .iter()
            .map(|arg| {
                convert(arg, &|t| *t == DataType::LargeUtf8, &|arg| {
                    Ok(super::dynamic::to_dynamic(arg.expr.clone()))
                })
            })
            .collect();
    }
    if typed.iter().all(|t| t.is_numeric()) {
        let target = if typed.iter().any(|t| t.is_floating()) {
            DataType::Float64
        } else if let Some(decimal) = typed.iter().find(|t| matches!(t, DataType::Decimal128(..))) {
            (*decimal).clone()
        } else {
            DataType::Int64
        };
        return values
            .iter()
            .map(|arg| {
                convert(arg, &|t| *t == target, &|arg| {
                    Ok(datafusion::logical_expr::cast(
                        arg.expr.clone(),
                        target.clone(),
                    ))
                })
            })
            .collect();
    }
    if typed.iter().any(|t| is_text(t)) {
        return values
            .iter()
            .map(|arg| {
                convert(
                    arg,
                    &|t| *t == DataType::Utf8,
                    &|arg| match super::conversions::plan(
                        "tostring",
                        std::slice::from_ref(arg),
                        ctx,
                    ) {
                        Some(result) => result,
                        None => Ok(arg.expr.clone()),
                    },
                )
            })
            .collect();
    }
    Ok(unchanged())
}

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    let arity = |min, max| check_arity(name, args, min, max, ctx);
    let expr = |i: usize| args[i].expr.clone();
    let result = match name {
        "iff" | "iif" => arity(3, 3).and_then(|_| {
            let values = unify_branches(&[&args[1], &args[2]], ctx)?;
            when(expr(0), values[0].clone())
                .otherwise(values[1].clone())
                .map_err(|e| EngineError::bind(format!("{name}(): {e}"), ctx.span))
        }),
        "case" => arity(3, usize::MAX).and_then(|_| {
            if args.len().is_multiple_of(2) {
                return Err(EngineError::bind(
                    "case() takes pairs of predicate and value followed by an else value",
                    ctx.span,
                ));
            }
            let branches: Vec<&PlannedArg> = args
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == 1 || *i == args.len() - 1)
                .map(|(_, arg)| arg)
                .collect();
            let mut values = unify_branches(&branches, ctx)?.into_iter();
            let mut next_value = || values.next().expect("one value per branch");
            let mut builder = when(expr(0), next_value());
            for pair in args[2..args.len() - 1].chunks(2) {
                builder = builder.when(pair[0].expr.clone(), next_value());
            }
            builder
                .otherwise(next_value())
                .map_err(|e| EngineError::bind(format!("case(): {e}"), ctx.span))
        }),
        "coalesce" => arity(1, 64).map(|_| {
            if is_string(&args[0].data_type) {
                // For strings the first non-empty value wins.
                let last = args.len() - 1;
                if last == 0 {
                    return coalesce(vec![expr(0), lit("")]);
                }
                let mut builder = when(expr(0).is_not_null().and(expr(0).not_eq(lit(""))), expr(0));
                for arg in &args[1..last] {
                    let x = arg.expr.clone();
                    builder =
                        builder.when(x.clone().is_not_null().and(x.clone().not_eq(lit(""))), x);
                }
                builder
                    .otherwise(coalesce(vec![expr(last), lit("")]))
                    .unwrap_or_else(|_| coalesce(args.iter().map(|a| a.expr.clone()).collect()))
            } else {
                coalesce(args.iter().map(|a| a.expr.clone()).collect())
            }
        }),
        "isempty" => arity(1, 1).map(|_| is_empty(&args[0])),
        "isnotempty" | "notempty" => arity(1, 1).map(|_| Expr::Not(Box::new(is_empty(&args[0])))),
        "isnull" => arity(1, 1).map(|_| is_null(&args[0])),
        "isnotnull" | "notnull" => arity(1, 1).map(|_| Expr::Not(Box::new(is_null(&args[0])))),
        "not" => arity(1, 1).and_then(|_| match &args[0].data_type {
            DataType::Boolean | DataType::Null => Ok(Expr::Not(Box::new(expr(0)))),
            other => Err(EngineError::bind(
                format!("not() expects a bool argument, got {}", type_name(other)),
                ctx.span,
            )),
        }),
        "min_of" | "max_of" => arity(1, 64).map(|_| {
            let all: Vec<Expr> = args.iter().map(|a| a.expr.clone()).collect();
            if all.len() == 1 {
                all.into_iter().next().expect("one argument")
            } else if name == "min_of" {
                least(all)
            } else {
                greatest(all)
            }
        }),
        "gettype" => arity(1, 1).map(|_| {
            let data_type = &args[0].data_type;
            if is_dynamic(data_type) || matches!(data_type, DataType::Null) {
                udf_call(
                    "gettype",
                    DataType::Utf8,
                    0,
                    k_gettype_dynamic,
                    vec![expr(0)],
                )
            } else {
                lit(type_name(data_type))
            }
        }),
        _ => return None,
    };
    Some(result)
}

fn type_name(data_type: &DataType) -> String {
    kusto_type(data_type).map_or_else(|| data_type.to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::strings::tests::{arg, ctx, eval_on, string_values, strings};
    use super::*;
    use datafusion::arrow::array::{
        Array, BooleanArray, Int64Array, LargeStringArray, RecordBatch,
    };
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::col;
    use datafusion::prelude::SessionContext;

    fn planned(name: &str, args: Vec<PlannedArg>) -> Expr {
        plan(name, &args, &ctx()).unwrap().unwrap()
    }

    fn bools(array: &ArrayRef) -> Vec<Option<bool>> {
        array
            .as_any()
            .downcast_ref::<BooleanArray>()
            .unwrap()
            .iter()
            .collect()
    }

    fn sv(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|s| Some(s.to_string())).collect()
    }

    async fn eval_ints(values: Vec<Option<i64>>, expr: Expr) -> ArrayRef {
        let array: ArrayRef = Arc::new(Int64Array::from(values));
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, true)]));
        let batch = RecordBatch::try_new(schema, vec![array]).unwrap();
        let out = SessionContext::new()
            .read_batch(batch)
            .unwrap()
            .select(vec![expr.alias("x")])
            .unwrap()
            .collect()
            .await
            .unwrap();
        Arc::clone(out[0].column(0))
    }

    #[tokio::test]
    async fn emptiness_and_nullness_of_strings() {
        let input = strings(&[Some("a"), Some(""), None]);
        let s = || arg(col("s"), DataType::Utf8);
        assert_eq!(
            bools(&eval_on(input.clone(), planned("isempty", vec![s()])).await),
            vec![Some(false), Some(true), Some(true)]
        );
        assert_eq!(
            bools(&eval_on(input.clone(), planned("isnotempty", vec![s()])).await),
            vec![Some(true), Some(false), Some(false)]
        );
        assert_eq!(
            bools(&eval_on(input.clone(), planned("isnull", vec![s()])).await),
            vec![Some(false); 3]
        );
        assert_eq!(
            bools(&eval_on(input, planned("isnotnull", vec![s()])).await),
            vec![Some(true); 3]
        );
    }

    #[tokio::test]
    async fn emptiness_of_dynamic_and_numbers() {
        let dynamic: ArrayRef = Arc::new(LargeStringArray::from(vec![
            None,
            Some("\"\""),
            Some("[]"),
            Some("{}"),
            Some("1"),
        ]));
        let d = || arg(col("s"), DataType::LargeUtf8);
        assert_eq!(
            bools(&eval_on(dynamic.clone(), planned("isempty", vec![d()])).await),
            vec![
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
        assert_eq!(
            bools(&eval_on(dynamic.clone(), planned("isnull", vec![d()])).await),
            vec![
                Some(true),
                Some(false),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
        assert_eq!(
            string_values(&eval_on(dynamic, planned("gettype", vec![d()])).await),
            sv(&["null", "string", "array", "dictionary", "long"])
        );
        let v = || arg(col("v"), DataType::Int64);
        let out = eval_ints(vec![Some(1), None], planned("isnull", vec![v()])).await;
        assert_eq!(bools(&out), vec![Some(false), Some(true)]);
        let out = eval_ints(vec![Some(1), None], planned("isempty", vec![v()])).await;
        assert_eq!(bools(&out), vec![Some(false), Some(true)]);
    }

    #[tokio::test]
    async fn iff_case_and_coalesce() {
        let v = || arg(col("v"), DataType::Int64);
        let cond = col("v").gt(lit(2_i64));
        let expr = planned(
            "iff",
            vec![
                arg(cond.clone(), DataType::Boolean),
                arg(lit("big"), DataType::Utf8),
                arg(lit("small"), DataType::Utf8),
            ],
        );
        let out = eval_ints(vec![Some(1), Some(3), None], expr).await;
        assert_eq!(string_values(&out), sv(&["small", "big", "small"]));
        let expr = planned(
            "case",
            vec![
                arg(col("v").lt(lit(2_i64)), DataType::Boolean),
                arg(lit("low"), DataType::Utf8),
                arg(col("v").lt(lit(5_i64)), DataType::Boolean),
                arg(lit("mid"), DataType::Utf8),
                arg(lit("high"), DataType::Utf8),
            ],
        );
        let out = eval_ints(vec![Some(1), Some(3), Some(9), None], expr).await;
        assert_eq!(string_values(&out), sv(&["low", "mid", "high", "high"]));
        assert!(plan("case", &[v(), v()], &ctx()).unwrap().is_err());
        let expr = planned("coalesce", vec![v(), arg(lit(-1_i64), DataType::Int64)]);
        let out = eval_ints(vec![Some(1), None], expr).await;
        let out = out.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(out.iter().collect::<Vec<_>>(), vec![Some(1), Some(-1)]);
        let s = || arg(col("s"), DataType::Utf8);
        let expr = planned(
            "coalesce",
            vec![
                s(),
                arg(lit(""), DataType::Utf8),
                arg(lit("x"), DataType::Utf8),
            ],
        );
        let out = eval_on(strings(&[Some("a"), Some(""), None]), expr).await;
        assert_eq!(string_values(&out), sv(&["a", "x", "x"]));
    }

    #[tokio::test]
    async fn min_of_max_of_and_gettype() {
        let v = || arg(col("v"), DataType::Int64);
        let expr = planned(
            "max_of",
            vec![
                v(),
                arg(lit(3_i64), DataType::Int64),
                arg(
                    Expr::Literal(ScalarValue::Int64(None), None),
                    DataType::Int64,
                ),
            ],
        );
        let out = eval_ints(vec![Some(1), Some(5), None], expr).await;
        let out = out.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(3), Some(5), Some(3)]
        );
        let expr = planned("min_of", vec![v(), arg(lit(3_i64), DataType::Int64)]);
        let out = eval_ints(vec![Some(1), Some(5), None], expr).await;
        let out = out.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(
            out.iter().collect::<Vec<_>>(),
            vec![Some(1), Some(3), Some(3)]
        );
        let expr = planned("gettype", vec![v()]);
        let out = eval_ints(vec![Some(1)], expr).await;
        assert_eq!(string_values(&out), sv(&["long"]));
        assert_eq!(out.len(), 1);
        assert!(plan("not", &[v()], &ctx()).unwrap().is_err());
        assert!(plan("iff", &[v()], &ctx()).unwrap().is_err());
    }
}
