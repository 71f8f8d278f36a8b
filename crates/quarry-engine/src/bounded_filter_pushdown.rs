//! DataFusion's filter push-down, kept from blowing up. Pushing a filter below a projection
//! replaces each column it reads with the projection's expression for it. Rules that build a
//! value step by step (`extend arr = iff(pak contains '<script', array_concat(arr, …), arr)`
//! fourteen times, then `where array_length(arr) > 0`) name the previous step twice in every
//! step, so the pushed condition doubles in size at each projection: 2^14 copies took the
//! optimiser minutes. A condition whose pushed form would be larger than [`MAX_PUSHED_NODES`]
//! stays where it is; the rest of the filter (a time range, say) is still pushed down. Outer-join
//! elimination substitutes the same way to analyse a filter ([`SkipOversizedFilters`]), and the
//! physical plan has a push-down of its own ([`BoundedPhysicalFilterPushdown`]); both are skipped
//! where they would blow up.

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::utils::{conjunction, split_conjunction_owned};
use datafusion::logical_expr::{Expr, Filter, LogicalPlan};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::push_down_filter::PushDownFilter;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};
use datafusion::physical_expr::expressions::Column as PhysicalColumn;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::filter::FilterExec;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::ExecutionPlan;
use std::collections::HashMap;
use std::sync::Arc;

/// The largest condition (in expression nodes, once pushed below the projections under it) that
/// is pushed down.
const MAX_PUSHED_NODES: f64 = 4096.0;

/// `state` with DataFusion's filter push-down rules (logical and physical) and outer-join
/// elimination replaced by their bounded forms.
pub(crate) fn with_bounded_filter_rules(state: SessionState) -> SessionState {
    let rules = state
        .optimizers()
        .iter()
        .map(|rule| match rule.name() {
            "push_down_filter" => Arc::new(BoundedPushDownFilter::default()) as _,
            "eliminate_outer_join" => Arc::new(SkipOversizedFilters::new(rule.clone())) as _,
            _ => rule.clone(),
        })
        .collect();
    let physical_rules = state
        .physical_optimizers()
        .iter()
        .map(|rule| match rule.name().starts_with("FilterPushdown") {
            true => Arc::new(BoundedPhysicalFilterPushdown::new(rule.clone())) as _,
            false => rule.clone(),
        })
        .collect();
    SessionStateBuilder::new_from_existing(state)
        .with_optimizer_rules(rules)
        .with_physical_optimizer_rules(physical_rules)
        .build()
}

/// [`PushDownFilter`] that leaves conditions in place whose pushed form would be too large.
#[derive(Debug, Default)]
pub struct BoundedPushDownFilter {
    inner: PushDownFilter,
}

impl OptimizerRule for BoundedPushDownFilter {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        self.inner.apply_order()
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Filter(filter) = plan else {
            return self.inner.rewrite(plan, config);
        };
        let sizes = column_sizes(&filter.input);
        let (kept, pushable): (Vec<Expr>, Vec<Expr>) =
            split_conjunction_owned(filter.predicate.clone())
                .into_iter()
                .partition(|condition| pushed_size(condition, &sizes) > MAX_PUSHED_NODES);
        let Some(kept) = conjunction(kept) else {
            // Nothing is too large: DataFusion's rule as it is.
            return self.inner.rewrite(LogicalPlan::Filter(filter), config);
        };
        let Some(pushable) = conjunction(pushable) else {
            return Ok(Transformed::no(LogicalPlan::Filter(filter)));
        };
        let below = Filter::try_new(pushable, filter.input)?;
        let pushed = self.inner.rewrite(LogicalPlan::Filter(below), config)?.data;
        let above = Filter::try_new(kept, Arc::new(pushed))?;
        Ok(Transformed::yes(LogicalPlan::Filter(above)))
    }
}

/// A logical rule that inlines projections into a filter's condition to analyse it (DataFusion's
/// `eliminate_outer_join`), not applied to a filter whose inlined condition would be too large.
#[derive(Debug)]
pub struct SkipOversizedFilters {
    inner: Arc<dyn OptimizerRule + Send + Sync>,
}

impl SkipOversizedFilters {
    /// `inner`, bounded.
    pub fn new(inner: Arc<dyn OptimizerRule + Send + Sync>) -> Self {
        SkipOversizedFilters { inner }
    }
}

impl OptimizerRule for SkipOversizedFilters {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        self.inner.apply_order()
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        if let LogicalPlan::Filter(filter) = &plan {
            if pushed_size(&filter.predicate, &column_sizes(&filter.input)) > MAX_PUSHED_NODES {
                return Ok(Transformed::no(plan));
            }
        }
        self.inner.rewrite(plan, config)
    }
}

/// For each output column of `plan`, the size its expression would have with every column it
/// reads replaced, through the projections (and the nodes filters pass) beneath it.
fn column_sizes(plan: &LogicalPlan) -> HashMap<String, f64> {
    match plan {
        LogicalPlan::Projection(projection) => {
            let below = column_sizes(&projection.input);
            projection
                .expr
                .iter()
                .zip(projection.schema.fields())
                .map(|(expr, field)| (field.name().clone(), pushed_size(expr, &below)))
                .collect()
        }
        LogicalPlan::Filter(filter) => column_sizes(&filter.input),
        LogicalPlan::SubqueryAlias(alias) => column_sizes(&alias.input),
        LogicalPlan::Sort(sort) => column_sizes(&sort.input),
        LogicalPlan::Limit(limit) => column_sizes(&limit.input),
        _ => HashMap::new(),
    }
}

/// The size of `expr` with each column replaced by its size in `sizes` (1 when absent).
fn pushed_size(expr: &Expr, sizes: &HashMap<String, f64>) -> f64 {
    let mut size = 0.0;
    let _ = expr.apply(|node| {
        size += match node {
            Expr::Column(column) => sizes.get(&column.name).copied().unwrap_or(1.0),
            _ => 1.0,
        };
        Ok(TreeNodeRecursion::Continue)
    });
    size
}

/// A physical filter push-down rule (DataFusion's `FilterPushdown`), skipped for plans in which
/// a filter's condition would grow past [`MAX_PUSHED_NODES`] below the projections under it.
#[derive(Debug)]
pub struct BoundedPhysicalFilterPushdown {
    inner: Arc<dyn PhysicalOptimizerRule + Send + Sync>,
}

impl BoundedPhysicalFilterPushdown {
    /// `inner`, bounded.
    pub fn new(inner: Arc<dyn PhysicalOptimizerRule + Send + Sync>) -> Self {
        BoundedPhysicalFilterPushdown { inner }
    }
}

impl PhysicalOptimizerRule for BoundedPhysicalFilterPushdown {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if has_oversized_filter(plan.as_ref()) {
            return Ok(plan);
        }
        self.inner.optimize(plan, config)
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn schema_check(&self) -> bool {
        self.inner.schema_check()
    }
}

/// True when some filter in `plan` would grow past [`MAX_PUSHED_NODES`] if pushed down.
fn has_oversized_filter(plan: &dyn ExecutionPlan) -> bool {
    if let Some(filter) = plan.downcast_ref::<FilterExec>() {
        let sizes = physical_column_sizes(filter.input().as_ref());
        if physical_size(filter.predicate(), &sizes) > MAX_PUSHED_NODES {
            return true;
        }
    }
    plan.children()
        .into_iter()
        .any(|child| has_oversized_filter(child.as_ref()))
}

/// For each output column of `plan` (by index), the size its expression would have once the
/// projections beneath it are substituted in; empty where nothing is known (size 1).
fn physical_column_sizes(plan: &dyn ExecutionPlan) -> Vec<f64> {
    if let Some(projection) = plan.downcast_ref::<ProjectionExec>() {
        let below = physical_column_sizes(projection.input().as_ref());
        return projection
            .expr()
            .iter()
            .map(|projected| physical_size(&projected.expr, &below))
            .collect();
    }
    let passes_columns = plan
        .downcast_ref::<FilterExec>()
        .is_some_and(|f| f.projection().is_none())
        || plan.downcast_ref::<RepartitionExec>().is_some();
    match plan.children().first() {
        Some(child) if passes_columns => physical_column_sizes(child.as_ref()),
        _ => Vec::new(),
    }
}

/// The size of `expr` with each column replaced by its size in `sizes` (1 when unknown).
fn physical_size(expr: &Arc<dyn PhysicalExpr>, sizes: &[f64]) -> f64 {
    let mut size = 0.0;
    let _ = expr.apply(|node| {
        size += match node.downcast_ref::<PhysicalColumn>() {
            Some(column) => sizes.get(column.index()).copied().unwrap_or(1.0),
            None => 1.0,
        };
        Ok(TreeNodeRecursion::Continue)
    });
    size
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{col, lit, when, LogicalPlanBuilder};

    /// `arr` redefined `steps` times from itself, twice per step, then filtered on.
    fn doubling_plan(steps: usize) -> LogicalPlan {
        let mut builder = LogicalPlanBuilder::empty(true)
            .project(vec![lit(1).alias("t"), lit("").alias("arr")])
            .unwrap();
        for step in 0..steps {
            let next = when(col("t").gt(lit(step as i32)), col("arr"))
                .otherwise(col("arr"))
                .unwrap()
                .alias("arr");
            builder = builder.project(vec![col("t"), next]).unwrap();
        }
        builder
            .filter(col("arr").eq(lit("x")).and(col("t").gt(lit(0))))
            .unwrap()
            .build()
            .unwrap()
    }

    #[test]
    fn a_condition_that_would_double_at_every_projection_stays_in_place() {
        let plan = doubling_plan(20);
        let LogicalPlan::Filter(filter) = &plan else {
            panic!("a filter on top")
        };
        let sizes = column_sizes(&filter.input);
        assert!(sizes["arr"] > 1e6, "2^20 copies: {}", sizes["arr"]);
        assert!(sizes["t"] <= 2.0, "a column and its alias: {}", sizes["t"]);
        let config = datafusion::optimizer::OptimizerContext::new();
        let rewritten = BoundedPushDownFilter::default()
            .rewrite(plan, &config)
            .unwrap();
        assert!(rewritten.transformed);
        // The large condition stays on top; the small one went down.
        let LogicalPlan::Filter(top) = &rewritten.data else {
            panic!("a filter on top: {}", rewritten.data.display_indent())
        };
        assert_eq!(top.predicate, col("arr").eq(lit("x")));
        assert!(!matches!(top.input.as_ref(), LogicalPlan::Filter(_)));
    }

    #[test]
    fn a_small_condition_is_pushed_as_datafusion_does() {
        let plan = doubling_plan(2);
        let config = datafusion::optimizer::OptimizerContext::new();
        let rewritten = BoundedPushDownFilter::default()
            .rewrite(plan, &config)
            .unwrap();
        assert!(
            matches!(rewritten.data, LogicalPlan::Projection(_)),
            "{}",
            rewritten.data.display_indent()
        );
    }
}
