//! `make-series`, `top-nested` and `scan`.
//!
//! `make-series` is planned as: filter the axis to `[from, to)`; summarize the aggregates by the
//! keys and the bin of the axis; number the bins of the whole result (`min`/`max` over all rows
//! when `from`/`to` are omitted); collect the bins and the values of each key group as lists; and
//! lay each list onto the full axis with [`SeriesFill`], filling empty bins with the default.

use super::{column, column_names, Planner, Relation};
use crate::error::{EngineError, Result};
use crate::functions::dynamic::to_dynamic;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::functions_aggregate::expr_fn::{array_agg, min};
use datafusion::functions_aggregate::min_max::{max_udaf, min_udaf};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    lit, ColumnarValue, Expr, ExprSchemable, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility, WindowFunctionDefinition,
};
use quarry_kql::ast::{
    Arg, ColumnExpr, Expr as KqlExpr, ExprKind, Ident, Operator, OperatorKind, SeriesRange,
};
use quarry_kql::Span;
use std::sync::Arc;

const BIN: &str = "__series_bin";
const LOW: &str = "__series_low";
const HIGH: &str = "__series_high";
const BINS: &str = "__series_bins";

impl Planner<'_> {
    pub(super) fn apply_series_operator(
        &mut self,
        input: Relation,
        operator: &Operator,
    ) -> Result<Relation> {
        match &operator.kind {
            OperatorKind::MakeSeries {
                params,
                aggregates,
                on,
                range,
                by,
            } => {
                let nonempty = super::operators::param(params, "kind")
                    .is_some_and(|p| super::operators::param_text(p) == "nonempty");
                self.make_series(input, aggregates, on, range, by, nonempty, operator.span)
            }
            OperatorKind::TopNested { levels } => self.top_nested(input, levels, operator.span),
            OperatorKind::Scan {
                params,
                declarations,
                steps,
            } => self.scan(input, params, declarations, steps, operator.span),
            _ => Err(EngineError::unsupported("this operator", operator.span)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn make_series(
        &mut self,
        input: Relation,
        aggregates: &[quarry_kql::ast::SeriesAggregate],
        on: &KqlExpr,
        range: &SeriesRange,
        by: &[ColumnExpr],
        nonempty: bool,
        span: Span,
    ) -> Result<Relation> {
        let axis_name = super::scalar::derived_name(on)
            .ok_or_else(|| EngineError::bind("make-series needs an axis column", on.span))?;
        let (from, to, step) = match range {
            SeriesRange::FromTo { from, to, step } => (from.as_ref(), to.as_ref(), step),
            SeriesRange::InRange { start, stop, step } => (Some(start), Some(stop), step),
        };
        let schema = input.schema().clone();
        let axis = self.plan_scalar(on, &schema)?;
        let from_expr = from.map(|f| self.plan_constant(f)).transpose()?;
        let to_expr = to.map(|t| self.plan_constant(t)).transpose()?;
        let step_expr = self.plan_constant(step)?;

        // Keep the axis values inside [from, to).
        let mut relation = input;
        let mut predicate: Option<Expr> = None;
        if let Some(from) = &from_expr {
            predicate = Some(axis.clone().gt_eq(from.clone()));
        }
        if let Some(to) = &to_expr {
            let upper = axis.clone().lt(to.clone());
            predicate = Some(match predicate {
                Some(p) => p.and(upper),
                None => upper,
            });
        }
        if let Some(predicate) = predicate {
            let plan = relation.filter(predicate)?;
            relation = Relation::unordered(plan);
        }

        // Summarize by the keys and the bin of the axis.
        let bin_call = |name: &str, mut args: Vec<KqlExpr>| KqlExpr {
            kind: ExprKind::Call {
                function: Box::new(KqlExpr {
                    kind: ExprKind::Name {
                        name: Ident {
                            name: name.to_string(),
                            span,
                        },
                    },
                    span,
                }),
                args: args
                    .drain(..)
                    .map(|value| Arg { name: None, value })
                    .collect(),
            },
            span,
        };
        let bin_expr = match from {
            Some(from) => bin_call("bin_at", vec![on.clone(), step.clone(), from.clone()]),
            None => bin_call("bin", vec![on.clone(), step.clone()]),
        };
        let mut keys: Vec<ColumnExpr> = by.to_vec();
        keys.push(ColumnExpr {
            names: vec![Ident {
                name: BIN.to_string(),
                span,
            }],
            expr: bin_expr,
            span,
        });
        let columns: Vec<ColumnExpr> = aggregates
            .iter()
            .map(|a| constant_as_aggregate(&a.column, span))
            .collect();
        let summarized = self.summarize(relation, &columns, &keys, span)?;
        let names = column_names(summarized.schema());
        let key_names: Vec<String> = names[..by.len()].to_vec();
        let value_names: Vec<String> = names[by.len() + 1..].to_vec();
        if value_names.len() != aggregates.len() {
            return Err(EngineError::unsupported(
                "make-series aggregates that expand to several columns",
                span,
            ));
        }
        let bin_type = summarized
            .schema()
            .field_with_unqualified_name(BIN)?
            .data_type()
            .clone();
        let value_types: Vec<DataType> = value_names
            .iter()
            .map(|n| {
                summarized
                    .schema()
                    .field_with_unqualified_name(n)
                    .map(|f| f.data_type().clone())
            })
            .collect::<std::result::Result<_, _>>()?;

        // The axis range: constants, or the bins of the whole result.
        let mut window_exprs = Vec::new();
        let low = match &from_expr {
            Some(from) => cast_to(from.clone(), &bin_type, summarized.schema())?,
            None => {
                window_exprs.push(whole_window(min_udaf(), column(BIN), LOW));
                column(LOW)
            }
        };
        let inclusive = to_expr.is_none();
        let high = match &to_expr {
            Some(to) => cast_to(to.clone(), &bin_type, summarized.schema())?,
            None => {
                window_exprs.push(whole_window(max_udaf(), column(BIN), HIGH));
                column(HIGH)
            }
        };
        let mut builder = summarized.builder();
        if !window_exprs.is_empty() {
            let windows: Vec<(Expr, &str)> = window_exprs
                .iter()
                .map(|w| match w {
                    Expr::Alias(alias) if alias.name == LOW => (alias.expr.as_ref().clone(), LOW),
                    Expr::Alias(alias) => (alias.expr.as_ref().clone(), HIGH),
                    other => (other.clone(), LOW),
                })
                .collect();
            let plan = LogicalPlanBuilder::window_plan(
                builder.build()?,
                windows.iter().map(|(w, _)| w.clone()),
            )?;
            let mut exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
            for (w, name) in &windows {
                exprs.push(column(&w.schema_name().to_string()).alias(*name));
            }
            builder = LogicalPlanBuilder::from(plan).project(exprs)?;
        }

        // One row per key group, with the bins and values as lists.
        let mut aggs = vec![array_agg(column(BIN)).alias(BINS)];
        for (i, name) in value_names.iter().enumerate() {
            aggs.push(array_agg(column(name)).alias(format!("__series_v{i}")));
        }
        let (low, high) = if window_exprs.is_empty() {
            (low, high)
        } else {
            if from_expr.is_none() {
                aggs.push(min(column(LOW)).alias(LOW));
            }
            if to_expr.is_none() {
                aggs.push(min(column(HIGH)).alias(HIGH));
            }
            (low, high)
        };
        let group: Vec<Expr> = key_names.iter().map(|k| column(k)).collect();
        builder = builder.aggregate(group, aggs)?;
        if by.is_empty() && !nonempty {
            builder = builder.filter(column(BINS).is_not_null())?;
        }

        let step_value = cast_to(step_expr, &step_type(&bin_type), summarized.schema())?;
        let mut output: Vec<Expr> = key_names.iter().map(|k| column(k)).collect();
        for (i, aggregate) in aggregates.iter().enumerate() {
            let default = match &aggregate.default {
                Some(d) => self.plan_constant(d)?,
                None => lit(ScalarValue::Null),
            };
            let fill = series_fill(
                value_types[i].clone(),
                false,
                vec![
                    column(BINS),
                    column(&format!("__series_v{i}")),
                    low.clone(),
                    high.clone(),
                    step_value.clone(),
                    default,
                    lit(inclusive),
                ],
            );
            output.push(to_dynamic(fill).alias(&value_names[i]));
        }
        let axis_fill = series_fill(
            bin_type.clone(),
            true,
            vec![
                column(BINS),
                column(BINS),
                low,
                high,
                step_value,
                lit(ScalarValue::Null),
                lit(inclusive),
            ],
        );
        output.push(to_dynamic(axis_fill).alias(&axis_name));
        let plan = builder.project(output)?.build()?;
        Ok(Relation::unordered(plan))
    }
}

/// The type of a step over bins of `bin_type`.
fn step_type(bin_type: &DataType) -> DataType {
    match bin_type {
        DataType::Timestamp(_, _) => {
            DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond)
        }
        other => other.clone(),
    }
}

fn cast_to(
    expr: Expr,
    data_type: &DataType,
    schema: &datafusion::common::DFSchema,
) -> Result<Expr> {
    if expr.get_type(schema)? == *data_type {
        Ok(expr)
    } else {
        Ok(datafusion::logical_expr::cast(expr, data_type.clone()))
    }
}

/// `udaf(value) OVER ()` named `name`.
fn whole_window(
    udaf: Arc<datafusion::logical_expr::AggregateUDF>,
    value: Expr,
    name: &str,
) -> Expr {
    Expr::WindowFunction(Box::new(WindowFunction::new(
        WindowFunctionDefinition::AggregateUDF(udaf),
        vec![value],
    )))
    .alias(name)
}

fn series_fill(element: DataType, axis: bool, args: Vec<Expr>) -> Expr {
    let udf = SeriesFill {
        ret: DataType::List(Arc::new(Field::new("item", element.clone(), true))),
        element,
        axis,
        signature: Signature::variadic_any(Volatility::Immutable),
    };
    ScalarUDF::new_from_impl(udf).call(args)
}

/// Lays `(bins, values)` lists onto the axis `low, low + step, …` up to `high` (exclusive, or
/// inclusive when the last argument is true), filling missing bins with the default (zero for
/// numbers when no default is given). With `axis`, returns the bin starts themselves.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SeriesFill {
    ret: DataType,
    element: DataType,
    axis: bool,
    signature: Signature,
}

/// A bin, bound or step as an integer (nanoseconds for time) or a float.
#[derive(Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

fn num(value: &ScalarValue) -> Option<Num> {
    use ScalarValue as S;
    Some(match value {
        S::TimestampNanosecond(v, _) => Num::Int(i128::from((*v)?)),
        S::DurationNanosecond(v) => Num::Int(i128::from((*v)?)),
        S::Int32(v) => Num::Int(i128::from((*v)?)),
        S::Int64(v) => Num::Int(i128::from((*v)?)),
        S::Float64(v) => Num::Float((*v)?),
        S::Float32(v) => Num::Float(f64::from((*v)?)),
        _ => return None,
    })
}

fn as_f64(n: Num) -> f64 {
    match n {
        Num::Int(v) => v as f64,
        Num::Float(v) => v,
    }
}

impl SeriesFill {
    fn zero(&self) -> ScalarValue {
        match &self.element {
            DataType::Int64 => ScalarValue::Int64(Some(0)),
            DataType::Int32 => ScalarValue::Int32(Some(0)),
            DataType::UInt64 => ScalarValue::UInt64(Some(0)),
            DataType::Float64 => ScalarValue::Float64(Some(0.0)),
            DataType::Decimal128(p, s) => ScalarValue::Decimal128(Some(0), *p, *s),
            other => ScalarValue::try_from(other).unwrap_or(ScalarValue::Null),
        }
    }

    fn fill(&self, row: &[ScalarValue]) -> DfResult<ScalarValue> {
        let null = ScalarValue::try_from(&self.ret)?;
        let [bins, values, low, high, step, default, inclusive] = row else {
            return Ok(null);
        };
        let (Some(low), Some(high), Some(step)) = (num(low), num(high), num(step)) else {
            return Ok(null);
        };
        let inclusive = matches!(inclusive, ScalarValue::Boolean(Some(true)));
        let count = {
            let span = (as_f64(high) - as_f64(low)) / as_f64(step);
            if as_f64(step) <= 0.0 || !span.is_finite() {
                0
            } else if inclusive {
                span.floor() as i64 + 1
            } else {
                span.ceil() as i64
            }
        }
        .clamp(0, 1_000_000) as usize;
        let default = if matches!(default, ScalarValue::Null) {
            self.zero()
        } else if default.is_null() {
            ScalarValue::try_from(&self.element)?
        } else {
            default
                .cast_to(&self.element)
                .unwrap_or_else(|_| self.zero())
        };
        let mut slots: Vec<ScalarValue> = vec![default; count];
        if self.axis {
            for (i, slot) in slots.iter_mut().enumerate() {
                let at = match (low, step) {
                    (Num::Int(l), Num::Int(s)) => Num::Int(l + s * i as i128),
                    _ => Num::Float(as_f64(low) + as_f64(step) * i as f64),
                };
                *slot = match (&self.element, at) {
                    (DataType::Timestamp(_, tz), Num::Int(v)) => {
                        ScalarValue::TimestampNanosecond(Some(v as i64), tz.clone())
                    }
                    (_, Num::Int(v)) => {
                        ScalarValue::Int64(Some(v as i64)).cast_to(&self.element)?
                    }
                    (_, Num::Float(v)) => ScalarValue::Float64(Some(v)).cast_to(&self.element)?,
                };
            }
        } else if let (ScalarValue::List(bins), ScalarValue::List(values)) = (bins, values) {
            let bins = bins.value(0);
            let values = values.value(0);
            for index in 0..bins.len().min(values.len()) {
                let bin = ScalarValue::try_from_array(&bins, index)?;
                let Some(bin) = num(&bin) else { continue };
                let position = match (bin, low, step) {
                    (Num::Int(b), Num::Int(l), Num::Int(s)) if s > 0 => (b - l) / s,
                    _ => ((as_f64(bin) - as_f64(low)) / as_f64(step)).round() as i128,
                };
                if position >= 0 && (position as usize) < count {
                    let value = ScalarValue::try_from_array(&values, index)?;
                    if !value.is_null() {
                        slots[position as usize] = value;
                    }
                }
            }
        }
        if slots.is_empty() {
            return Ok(ScalarValue::List(ScalarValue::new_list_nullable(
                &[],
                &self.element,
            )));
        }
        Ok(ScalarValue::List(ScalarValue::new_list_nullable(
            &slots,
            &self.element,
        )))
    }
}

impl ScalarUDFImpl for SeriesFill {
    fn name(&self) -> &str {
        if self.axis {
            "kql_series_axis"
        } else {
            "kql_series_fill"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(self.ret.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let rows = args.number_rows;
        let mut out = Vec::with_capacity(rows);
        let mut row = Vec::with_capacity(args.args.len());
        for index in 0..rows {
            row.clear();
            for arg in &args.args {
                row.push(match arg {
                    ColumnarValue::Scalar(value) => value.clone(),
                    ColumnarValue::Array(array) => ScalarValue::try_from_array(array, index)?,
                });
            }
            out.push(self.fill(&row)?);
        }
        if out.is_empty() {
            return Ok(ColumnarValue::Array(
                datafusion::arrow::array::new_empty_array(&self.ret),
            ));
        }
        Ok(ColumnarValue::Array(ScalarValue::iter_to_array(out)?))
    }
}

/// A make-series column that is a constant (`other = -1`) rather than an aggregate: Kusto gives
/// it in every bin that has rows (and the default elsewhere), which is `take_any(constant)`.
fn constant_as_aggregate(column: &ColumnExpr, span: Span) -> ColumnExpr {
    let mut inner = &column.expr;
    while let ExprKind::Unary { operand, .. } | ExprKind::Paren { inner: operand } = &inner.kind {
        inner = operand;
    }
    if !matches!(inner.kind, ExprKind::Literal { .. }) {
        return column.clone();
    }
    let call = KqlExpr {
        kind: ExprKind::Call {
            function: Box::new(KqlExpr {
                kind: ExprKind::Name {
                    name: Ident {
                        name: "take_any".to_string(),
                        span,
                    },
                },
                span,
            }),
            args: vec![Arg {
                name: None,
                value: column.expr.clone(),
            }],
        },
        span: column.expr.span,
    };
    ColumnExpr {
        names: column.names.clone(),
        expr: call,
        span: column.span,
    }
}
