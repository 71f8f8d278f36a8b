//! `summarize Count = count(), Devices = dcount(DeviceName) by SHA256` computed as two group-bys.
//!
//! DataFusion computes `count(DISTINCT x)` with a hash set per group, fed row by row; with many
//! groups (one per file hash, per URL) that is several times slower than grouping by the keys and
//! `x` first and counting the groups, which runs on DataFusion's vectorised group accumulators.
//! DataFusion's own rewrite ([`SingleDistinctToGroupBy`]) does that only when every aggregate is
//! unnamed and is a distinct one or `sum`/`min`/`max`; hunting queries name every aggregate and
//! pair `dcount` with `count()`. [`DistinctToGroupBy`] covers those: all distinct aggregates must
//! be `count(DISTINCT x)` over the same `x`, the others `count`, `sum`, `min` or `max` without a
//! filter, and each keeps its type.
//!
//! [`SingleDistinctToGroupBy`]: datafusion::optimizer::single_distinct_to_groupby::SingleDistinctToGroupBy

use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema};
use datafusion::error::Result;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_aggregate::expr_fn::{count, max, min, sum};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::lit;
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan, Projection};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use std::sync::Arc;

/// `state` with [`DistinctToGroupBy`] run just before DataFusion's own distinct rewrite.
pub(crate) fn with_distinct_to_group_by(state: SessionState) -> SessionState {
    let mut rules = Vec::with_capacity(state.optimizers().len() + 1);
    for rule in state.optimizers() {
        if rule.name() == "single_distinct_aggregation_to_group_by" {
            rules.push(Arc::new(DistinctToGroupBy) as _);
        }
        rules.push(Arc::clone(rule));
    }
    SessionStateBuilder::new_from_existing(state)
        .with_optimizer_rules(rules)
        .build()
}

/// The optimizer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct DistinctToGroupBy;

impl OptimizerRule for DistinctToGroupBy {
    fn name(&self) -> &str {
        "quarry_distinct_to_group_by"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::TopDown)
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Aggregate(aggregate) = &plan else {
            return Ok(Transformed::no(plan));
        };
        match two_level(aggregate)? {
            Some(rewritten) => Ok(Transformed::yes(rewritten)),
            None => Ok(Transformed::no(plan)),
        }
    }
}

/// How one aggregate of the original is computed from the inner group-by.
enum Part {
    /// `count(DISTINCT x)`: the inner groups whose `x` is not null.
    Distinct(Expr),
    /// `count`/`sum`/`min`/`max(e)`: `partial` per inner group, then `combine`d.
    Partial {
        partial: Expr,
        combine: fn(Expr) -> Expr,
    },
}

/// Without keys an empty input still gives one row, whose count must be 0, not the null a sum
/// over no inner groups gives.
fn sum_of_counts(counts: Expr) -> Expr {
    coalesce(vec![sum(counts), lit(0_i64)])
}

/// The aggregate inside an optional alias, when it is one this rewrite handles.
fn classify(expr: &Expr) -> Option<Part> {
    let inner = match expr {
        Expr::Alias(alias) => alias.expr.as_ref(),
        other => other,
    };
    let Expr::AggregateFunction(AggregateFunction { func, params }) = inner else {
        return None;
    };
    if params.filter.is_some() || !params.order_by.is_empty() || params.args.len() != 1 {
        return None;
    }
    let arg = params.args[0].clone();
    if params.distinct {
        return (func.name() == "count").then_some(Part::Distinct(arg));
    }
    let (partial, combine): (Expr, fn(Expr) -> Expr) = match func.name() {
        "count" => (count(arg), sum_of_counts),
        "sum" => (sum(arg), sum),
        "min" => (min(arg), min),
        "max" => (max(arg), max),
        _ => return None,
    };
    Some(Part::Partial { partial, combine })
}

/// The two-level form of `aggregate`, or `None` when it does not qualify.
fn two_level(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    if matches!(aggregate.group_expr.first(), Some(Expr::GroupingSet(_))) {
        return Ok(None);
    }
    let mut parts = Vec::with_capacity(aggregate.aggr_expr.len());
    let mut distinct_arg: Option<Expr> = None;
    for expr in &aggregate.aggr_expr {
        let Some(part) = classify(expr) else {
            return Ok(None);
        };
        if let Part::Distinct(arg) = &part {
            match &distinct_arg {
                Some(seen) if seen != arg => return Ok(None),
                _ => distinct_arg = Some(arg.clone()),
            }
        }
        parts.push(part);
    }
    let Some(distinct_arg) = distinct_arg else {
        return Ok(None);
    };
    if distinct_arg.is_volatile() {
        return Ok(None);
    }

    // Inner: group by the keys and the distinct value, with the partial aggregates.
    let group_names: Vec<String> = (0..aggregate.group_expr.len())
        .map(|i| format!("__quarry_dg{i}"))
        .collect();
    let distinct_name = "__quarry_dx".to_string();
    let mut inner_groups: Vec<Expr> = aggregate
        .group_expr
        .iter()
        .zip(&group_names)
        .map(|(expr, name)| expr.clone().alias(name))
        .collect();
    inner_groups.push(distinct_arg.alias(&distinct_name));
    let mut inner_aggregates = Vec::new();
    let mut outer_aggregates = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        match part {
            Part::Distinct(_) => outer_aggregates.push(count(column(&distinct_name))),
            Part::Partial { partial, combine } => {
                let name = format!("__quarry_dp{i}");
                inner_aggregates.push(partial.alias(&name));
                outer_aggregates.push(combine(column(&name)));
            }
        }
    }
    let inner = Aggregate::try_new(Arc::clone(&aggregate.input), inner_groups, inner_aggregates)?;
    let outer_groups: Vec<Expr> = group_names.iter().map(|n| column(n)).collect();
    let outer = Aggregate::try_new(
        Arc::new(LogicalPlan::Aggregate(inner)),
        outer_groups,
        outer_aggregates,
    )?;

    // Every output keeps its name, qualifier and type; otherwise the rewrite is not used.
    let original: &DFSchema = &aggregate.schema;
    let rewritten = Arc::clone(&outer.schema);
    let mut projection = Vec::with_capacity(original.fields().len());
    for (i, (qualifier, field)) in original.iter().enumerate() {
        let (_, produced) = rewritten.qualified_field(i);
        if produced.data_type() != field.data_type() {
            return Ok(None);
        }
        let source = Expr::Column(Column::from_name(produced.name().clone()));
        projection.push(source.alias_qualified(qualifier.cloned(), field.name()));
    }
    let projection = Projection::try_new(projection, Arc::new(LogicalPlan::Aggregate(outer)))?;
    Ok(Some(LogicalPlan::Projection(projection)))
}

fn column(name: &str) -> Expr {
    Expr::Column(Column::from_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;
    use datafusion::common::tree_node::TreeNode;
    use datafusion::datasource::MemTable;
    use datafusion::functions_aggregate::expr_fn::count_distinct;
    use datafusion::logical_expr::{col, lit, ExprFunctionExt};
    use datafusion::prelude::SessionContext;

    fn context() -> SessionContext {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("x", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let keys = ["a", "a", "a", "b", "b", "c"];
        let xs = [Some("p"), Some("p"), Some("q"), None, Some("r"), None];
        let ns = [Some(1), Some(2), Some(3), Some(4), None, Some(6)];
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(keys.to_vec())),
                Arc::new(StringArray::from(xs.to_vec())),
                Arc::new(Int64Array::from(ns.to_vec())),
            ],
        )
        .unwrap();
        let ctx = SessionContext::new();
        let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
        ctx.register_table("t", Arc::new(table)).unwrap();
        ctx
    }

    /// Runs `aggregates` by `k` with and without the rewrite; returns both results as text and
    /// whether the rewrite applied.
    async fn both_ways(aggregates: Vec<Expr>) -> (String, String, bool) {
        let ctx = context();
        let plan = ctx
            .table("t")
            .await
            .unwrap()
            .aggregate(vec![col("k").alias("k")], aggregates)
            .unwrap()
            .sort(vec![col("k").sort(true, true)])
            .unwrap()
            .into_unoptimized_plan();
        run_both_ways(&ctx, plan).await
    }

    /// Runs `plan` in `ctx` with and without the rewrite: both results as text, and whether the
    /// rewrite applied.
    async fn run_both_ways(ctx: &SessionContext, plan: LogicalPlan) -> (String, String, bool) {
        let rewritten = plan
            .clone()
            .transform_down(|node| {
                DistinctToGroupBy.rewrite(node, &datafusion::optimizer::OptimizerContext::new())
            })
            .unwrap();
        let run = |plan: LogicalPlan| async move {
            let batches = ctx.execute_logical_plan(plan).await.unwrap();
            let batches = batches.collect().await.unwrap();
            datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string()
        };
        (
            run(plan).await,
            run(rewritten.data).await,
            rewritten.transformed,
        )
    }

    #[tokio::test]
    async fn named_dcount_with_count_sum_min_max_gives_the_same_rows() {
        let (plain, rewritten, applied) = both_ways(vec![
            count(lit(1)).alias("Count"),
            count_distinct(col("x")).alias("Distinct"),
            sum(col("n")).alias("Total"),
            min(col("n")).alias("Low"),
            max(col("x")).alias("High"),
            count(col("n")).alias("Known"),
        ])
        .await;
        assert!(applied, "the rewrite should apply");
        assert_eq!(plain, rewritten);
        assert!(rewritten.contains("| a | 3     | 2        | 6     | 1   | q    | 3     |"));
    }

    #[tokio::test]
    async fn declines_two_distinct_columns_and_filters() {
        let (plain, rewritten, applied) = both_ways(vec![
            count_distinct(col("x")).alias("X"),
            count_distinct(col("n")).alias("N"),
        ])
        .await;
        assert!(!applied);
        assert_eq!(plain, rewritten);
        let filtered = count_distinct(col("x"))
            .filter(col("n").gt(lit(1)))
            .build()
            .unwrap();
        let (_, _, applied) = both_ways(vec![filtered.alias("X")]).await;
        assert!(!applied);
    }

    #[tokio::test]
    async fn without_keys_over_no_rows_counts_zero() {
        let ctx = context();
        let plan = ctx
            .table("t")
            .await
            .unwrap()
            .filter(col("n").gt(lit(100)))
            .unwrap()
            .aggregate(
                vec![],
                vec![
                    count(lit(1)).alias("Count"),
                    count_distinct(col("x")).alias("Distinct"),
                ],
            )
            .unwrap()
            .into_unoptimized_plan();
        let (_, text, applied) = run_both_ways(&ctx, plan).await;
        assert!(applied);
        assert!(text.contains("| 0     | 0        |"), "{text}");
    }
}
