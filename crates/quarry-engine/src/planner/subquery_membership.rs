//! `x in (T)` outside a filter. The planner writes `in (T)` as DataFusion's IN subquery, which
//! its optimiser turns into a semi (or mark) join, but only where the subquery is a filter's
//! condition or part of one's `and`/`or`/`not`. Rules also test membership in an `extend`, a
//! `case()` or a summarize key (`IPMatch = case(SourceIP in (IPList), "SourceIP", …)`); there
//! the test becomes a lookup in the subquery's distinct values, collected once as a scalar
//! subquery.

use crate::error::Result;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Column;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::array_agg;
use datafusion::functions_nested::expr_fn::array_has;
use datafusion::logical_expr::expr::InSubquery;
use datafusion::logical_expr::expr_fn::scalar_subquery;
use datafusion::logical_expr::{
    lit, not, BinaryExpr, Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, Operator,
};
use std::sync::Arc;

/// `plan` with every IN subquery that DataFusion cannot turn into a join rewritten as a lookup.
pub(super) fn rewrite(plan: LogicalPlan) -> Result<LogicalPlan> {
    let rewritten = plan.transform_up_with_subqueries(|node| {
        let is_filter = matches!(node, LogicalPlan::Filter(_));
        node.map_expressions(|expr| {
            if is_filter {
                rewrite_condition(expr)
            } else {
                rewrite_all(expr)
            }
        })
    })?;
    Ok(rewritten.data)
}

/// A filter's condition: IN subqueries joined by `and`, `or` and `not` stay as they are.
fn rewrite_condition(expr: Expr) -> datafusion::error::Result<Transformed<Expr>> {
    match expr {
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(op, Operator::And | Operator::Or) =>
        {
            let left = rewrite_condition(*left)?;
            let right = rewrite_condition(*right)?;
            let transformed = left.transformed || right.transformed;
            let expr = Expr::BinaryExpr(BinaryExpr::new(
                Box::new(left.data),
                op,
                Box::new(right.data),
            ));
            Ok(Transformed::new_transformed(expr, transformed))
        }
        Expr::Not(inner) => Ok(rewrite_condition(*inner)?.update_data(not)),
        Expr::InSubquery(_) => Ok(Transformed::no(expr)),
        other => rewrite_all(other),
    }
}

/// Every IN subquery in `expr` as a lookup.
fn rewrite_all(expr: Expr) -> datafusion::error::Result<Transformed<Expr>> {
    expr.transform_up(|e| match e {
        Expr::InSubquery(in_subquery) => lookup(in_subquery).map(Transformed::yes),
        other => Ok(Transformed::no(other)),
    })
}

/// `value in (subquery)` as `array_has(<the subquery's distinct values>, value)`; a null value
/// or an empty subquery is not a member.
fn lookup(in_subquery: InSubquery) -> datafusion::error::Result<Expr> {
    let InSubquery {
        expr,
        subquery,
        negated,
    } = in_subquery;
    let values_plan = subquery.subquery.as_ref().clone();
    let (qualifier, field) = values_plan.schema().qualified_field(0);
    let values_column = Expr::Column(Column::new(qualifier.cloned(), field.name()));
    let values = array_agg(values_column).distinct().build()?;
    let collected = LogicalPlanBuilder::from(values_plan)
        .aggregate(Vec::<Expr>::new(), vec![values.alias("in_values")])?
        .build()?;
    let member = coalesce(vec![
        array_has(scalar_subquery(Arc::new(collected)), *expr),
        lit(false),
    ]);
    Ok(if negated { not(member) } else { member })
}
