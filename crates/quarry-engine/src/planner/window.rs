//! Window functions over serialized rows: `row_number`, `prev`, `next`, `row_cumsum`,
//! `row_rank_dense`, `row_rank_min`.
//!
//! KQL evaluates these in the row order of the (serialized) input. DataFusion has no implicit
//! input order for window functions, so every window expression planned here is ordered by a
//! hidden row id column ([`ROWID`]); [`Planner::project_windowed`] adds that column (numbering
//! rows by the sort keys of the input when it is sorted, in arrival order otherwise), evaluates
//! the window expressions innermost first, and sorts the result back into that order.

use super::{column, column_names, project_plan, Planner, Relation};
use crate::error::{EngineError, Result};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::functions_aggregate::min_max::min_udaf;
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::functions_window::expr_fn::{lag, lead, row_number};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    binary_expr, cast, lit, when, Expr, ExprSchemable, LogicalPlan, LogicalPlanBuilder, Operator,
    SortExpr, WindowFrame, WindowFunctionDefinition,
};
use quarry_kql::ast::Arg;
use quarry_kql::Span;
use std::sync::Arc;

/// The window functions this module plans: the names [`Planner::plan_window_call`] dispatches on.
pub(super) const WINDOW_FUNCTIONS: &[&str] = &[
    "row_number",
    "prev",
    "next",
    "row_cumsum",
    "row_rank_dense",
    "row_rank_min",
];

/// The hidden column that fixes the row order of window functions.
pub(super) const ROWID: &str = "__quarry_rowid";

/// True when any of `exprs` contains a window function.
pub(super) fn has_window(exprs: &[Expr]) -> bool {
    exprs.iter().any(contains_window)
}

fn contains_window(expr: &Expr) -> bool {
    let mut found = false;
    let _ = expr.apply(|node| {
        if matches!(node, Expr::WindowFunction(_)) {
            found = true;
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// Sets the OVER clause of a window expression: `PARTITION BY partition ORDER BY rowid` (or no
/// ORDER BY, and then the whole partition is the frame).
fn over(expr: Expr, partition_by: Vec<Expr>, ordered: bool) -> Expr {
    let Expr::WindowFunction(mut window) = expr else {
        return expr;
    };
    window.params.partition_by = partition_by;
    if ordered {
        window.params.order_by = vec![column(ROWID).sort(true, false)];
        window.params.window_frame = WindowFrame::new(Some(true));
    } else {
        window.params.order_by = Vec::new();
        window.params.window_frame = WindowFrame::new(None);
    }
    Expr::WindowFunction(window)
}

/// An aggregate used as a window function.
fn aggregate_window(
    udaf: Arc<datafusion::logical_expr::AggregateUDF>,
    args: Vec<Expr>,
    partition_by: Vec<Expr>,
    ordered: bool,
) -> Expr {
    let window = WindowFunction::new(WindowFunctionDefinition::AggregateUDF(udaf), args);
    over(
        Expr::WindowFunction(Box::new(window)),
        partition_by,
        ordered,
    )
}

/// A running count of restarts: the partition a row belongs to under `restart`.
fn restart_group(restart: Option<Expr>) -> Vec<Expr> {
    match restart {
        None => Vec::new(),
        Some(restart) => {
            let flag = when(restart.is_true(), lit(1i64))
                .otherwise(lit(0i64))
                .unwrap_or_else(|_| lit(0i64));
            vec![aggregate_window(sum_udaf(), vec![flag], Vec::new(), true)]
        }
    }
}

/// A running count of changes of `value` within `partition` (1 for the first row).
fn dense_rank(value: Expr, partition: Vec<Expr>) -> Expr {
    let previous = over(lag(value.clone(), Some(1), None), partition.clone(), true);
    let first = over(row_number(), partition.clone(), true).eq(lit(1u64));
    let changed = first.or(binary_expr(previous, Operator::IsDistinctFrom, value));
    let flag = when(changed, lit(1i64))
        .otherwise(lit(0i64))
        .unwrap_or_else(|_| lit(0i64));
    aggregate_window(sum_udaf(), vec![flag], partition, true)
}

impl Planner<'_> {
    /// Plans a KQL window function call, or returns `None` when `name` is not one.
    pub(super) fn plan_window_call(
        &mut self,
        name: &str,
        args: &[Arg],
        schema: &DFSchema,
        span: Span,
    ) -> Option<Result<Expr>> {
        if !WINDOW_FUNCTIONS.contains(&name) || self.lookup(name).is_some() {
            return None;
        }
        Some(self.plan_window_inner(name, args, schema, span))
    }

    fn plan_window_inner(
        &mut self,
        name: &str,
        args: &[Arg],
        schema: &DFSchema,
        span: Span,
    ) -> Result<Expr> {
        let mut planned = Vec::with_capacity(args.len());
        for arg in args {
            planned.push(self.plan_scalar(&arg.value, schema)?);
        }
        let arity = |min: usize, max: usize| -> Result<()> {
            if planned.len() < min || planned.len() > max {
                return Err(EngineError::bind(
                    format!("{name}() takes {min} to {max} arguments"),
                    span,
                ));
            }
            Ok(())
        };
        Ok(match name {
            "row_number" => {
                arity(0, 2)?;
                let start = planned.first().cloned().unwrap_or(lit(1i64));
                let partition = restart_group(planned.get(1).cloned());
                let number = cast(over(row_number(), partition, true), DataType::Int64);
                number + cast(start, DataType::Int64) - lit(1i64)
            }
            "prev" | "next" => {
                arity(1, 3)?;
                let value = planned[0].clone();
                let data_type = value.get_type(schema).unwrap_or(DataType::Null);
                let offset = match planned.get(1) {
                    None => 1,
                    Some(e) => match constant(e).map(|v| v.cast_to(&DataType::Int64)) {
                        Some(Ok(ScalarValue::Int64(Some(n)))) => n,
                        _ => return Err(EngineError::bind("the offset must be a constant", span)),
                    },
                };
                let default = match planned.get(2) {
                    None if data_type == DataType::Utf8 => {
                        Some(ScalarValue::Utf8(Some(String::new())))
                    }
                    None if data_type == DataType::Utf8View => {
                        Some(ScalarValue::Utf8View(Some(String::new())))
                    }
                    None => None,
                    Some(e) if constant(e).is_some() => {
                        let v = constant(e).unwrap_or(ScalarValue::Null);
                        Some(v.cast_to(&data_type).unwrap_or(v))
                    }
                    Some(_) => {
                        return Err(EngineError::unsupported(
                            "a non-constant default for prev()/next()",
                            span,
                        ))
                    }
                };
                let shifted = if name == "prev" {
                    lag(value, Some(offset), default)
                } else {
                    lead(value, Some(offset), default)
                };
                over(shifted, Vec::new(), true)
            }
            "row_cumsum" => {
                arity(1, 2)?;
                let partition = restart_group(planned.get(1).cloned());
                aggregate_window(sum_udaf(), vec![planned[0].clone()], partition, true)
            }
            "row_rank_dense" => {
                arity(1, 2)?;
                let partition = restart_group(planned.get(1).cloned());
                dense_rank(planned[0].clone(), partition)
            }
            _ => {
                // row_rank_min: the row number of the first row of the run of equal values.
                arity(1, 2)?;
                let partition = restart_group(planned.get(1).cloned());
                let number = cast(over(row_number(), partition.clone(), true), DataType::Int64);
                let run = dense_rank(planned[0].clone(), partition.clone());
                let mut by = partition;
                by.push(run);
                aggregate_window(min_udaf(), vec![number], by, false)
            }
        })
    }

    /// Projects `exprs` (which contain window functions) over `input` in its row order.
    pub(super) fn project_windowed(
        &mut self,
        input: Relation,
        exprs: Vec<Expr>,
    ) -> Result<Relation> {
        let keys = sort_keys(&input.plan);
        let numbering = match keys {
            Some(keys) => {
                let Expr::WindowFunction(mut window) = row_number() else {
                    unreachable!("row_number() is a window function")
                };
                window.params.order_by = keys;
                window.params.window_frame = WindowFrame::new(Some(true));
                Expr::WindowFunction(window)
            }
            None => over(row_number(), Vec::new(), false),
        };
        let numbering_name = numbering.schema_name().to_string();
        let mut with_id: Vec<Expr> = column_names(input.schema())
            .iter()
            .map(|n| column(n))
            .collect();
        with_id.push(column(&numbering_name).alias(ROWID));
        let numbered = input.builder().window(vec![numbering])?.build()?;
        let mut builder = LogicalPlanBuilder::from(project_plan(numbered, with_id)?);

        let mut exprs = exprs;
        loop {
            let mut innermost: Vec<Expr> = Vec::new();
            for expr in &exprs {
                expr.apply(|node| {
                    if matches!(node, Expr::WindowFunction(_))
                        && !nested_window(node)
                        && !innermost.contains(node)
                    {
                        innermost.push(node.clone());
                    }
                    Ok(TreeNodeRecursion::Continue)
                })?;
            }
            if innermost.is_empty() {
                break;
            }
            let plan = LogicalPlanBuilder::window_plan(builder.build()?, innermost.clone())?;
            builder = LogicalPlanBuilder::from(plan);
            exprs = exprs
                .into_iter()
                .map(|expr| {
                    expr.transform_down(|node| {
                        if innermost.contains(&node) {
                            let name = node.schema_name().to_string();
                            Ok(Transformed::yes(column(&name)))
                        } else {
                            Ok(Transformed::no(node))
                        }
                    })
                    .map(|t| t.data)
                })
                .collect::<datafusion::common::Result<_>>()?;
        }
        let names: Vec<String> = exprs.iter().map(|e| e.schema_name().to_string()).collect();
        let mut projected = exprs;
        projected.push(column(ROWID));
        let sorted = LogicalPlanBuilder::from(project_plan(builder.build()?, projected)?)
            .sort(vec![column(ROWID).sort(true, false)])?
            .build()?;
        let plan = project_plan(sorted, names.iter().map(|n| column(n)).collect())?;
        Ok(Relation {
            plan,
            ordered: true,
        })
    }
}

/// True when `expr` (a window function) has another window function inside it.
fn nested_window(expr: &Expr) -> bool {
    let mut count = 0;
    let _ = expr.apply(|node| {
        if matches!(node, Expr::WindowFunction(_)) {
            count += 1;
        }
        Ok(TreeNodeRecursion::Continue)
    });
    count > 1
}

/// The sort keys that order `plan`, when its order comes from a sort whose key columns pass
/// unchanged through the projections, filters and limits above it.
fn sort_keys(plan: &LogicalPlan) -> Option<Vec<SortExpr>> {
    let mut node = plan;
    let mut projections = Vec::new();
    let keys = loop {
        match node {
            LogicalPlan::Sort(sort) => break sort.expr.clone(),
            LogicalPlan::Projection(projection) => {
                projections.push(projection);
                node = &projection.input;
            }
            LogicalPlan::Filter(filter) => node = &filter.input,
            LogicalPlan::Limit(limit) => node = &limit.input,
            LogicalPlan::SubqueryAlias(alias) => node = &alias.input,
            LogicalPlan::Window(window) => node = &window.input,
            _ => return None,
        }
    };
    let mut keys_unqualified = Vec::with_capacity(keys.len());
    for key in keys {
        for referenced in key.expr.column_refs() {
            let name = referenced.name.as_str();
            let passes = projections.iter().all(|p| {
                p.expr.iter().any(|e| match e {
                    Expr::Column(c) => c.name == name,
                    Expr::Alias(a) => {
                        a.name == name
                            && matches!(a.expr.as_ref(), Expr::Column(c) if c.name == name)
                    }
                    _ => false,
                })
            });
            if !passes {
                return None;
            }
        }
        let expr = key
            .expr
            .transform_up(|e| match e {
                Expr::Column(c) => Ok(Transformed::yes(column(&c.name))),
                other => Ok(Transformed::no(other)),
            })
            .ok()?
            .data;
        keys_unqualified.push(SortExpr {
            expr,
            asc: key.asc,
            nulls_first: key.nulls_first,
        });
    }
    Some(keys_unqualified)
}

/// The value of a constant expression (a literal, possibly negated or cast).
fn constant(expr: &Expr) -> Option<ScalarValue> {
    match expr {
        Expr::Literal(value, _) => Some(value.clone()),
        Expr::Negative(inner) => constant(inner)?.arithmetic_negate().ok(),
        Expr::Cast(c) => constant(&c.expr)?.cast_to(c.field.data_type()).ok(),
        Expr::TryCast(c) => constant(&c.expr)?.cast_to(c.field.data_type()).ok(),
        Expr::Alias(a) => constant(&a.expr),
        _ => None,
    }
}
