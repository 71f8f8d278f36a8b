//! `top-nested`: hierarchical aggregation.
//!
//! Every level's value is computed into a hidden key column first. Level `i` then summarizes its
//! aggregate by the effective keys of the levels above and its own key, numbers the groups within
//! their parent group by the aggregate (`row_number`), and keeps the first `N`. The rows of the
//! input that fall into a kept group keep their key; with `with others = V` the other rows get
//! the key `V` (so they aggregate into one "others" group per parent), without it they are
//! dropped. Each level's aggregate is summarized over the rows that survive down to that level,
//! and the levels are joined on their common keys.

use super::{column, column_names, Planner, Relation};
use crate::error::{EngineError, Result};
use datafusion::common::{Column, NullEquality, TableReference};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{
    cast, lit, when, Expr, ExprSchemable, JoinType, LogicalPlanBuilder, WindowFrame,
};
use quarry_kql::ast::{ColumnExpr, Ident, SortOrder, TopNestedLevel};
use quarry_kql::Span;

/// The hidden column holding level `i`'s raw value.
fn raw_key(i: usize) -> String {
    format!("__tn_raw{i}")
}

/// The hidden column holding level `i`'s effective value (the raw value or the "others" value).
fn key(i: usize) -> String {
    format!("__tn_key{i}")
}

const RANK: &str = "__tn_rank";
const AGG: &str = "__tn_agg";
const MATCHED: &str = "__tn_matched";

impl Planner<'_> {
    pub(super) fn top_nested(
        &mut self,
        input: Relation,
        levels: &[TopNestedLevel],
        span: Span,
    ) -> Result<Relation> {
        if levels.is_empty() {
            return Err(EngineError::bind(
                "top-nested needs at least one level",
                span,
            ));
        }
        // Names of the output columns.
        let mut unnamed = 0;
        let mut value_names = Vec::new();
        let mut aggregate_names = Vec::new();
        for level in levels {
            let name = Self::column_name(&level.of, &mut unnamed)?;
            let aggregate = match level.by.names.as_slice() {
                [name] => name.name.clone(),
                [] => format!("aggregated_{name}"),
                _ => {
                    return Err(EngineError::unsupported(
                        "assigning a tuple of columns",
                        level.by.span,
                    ))
                }
            };
            value_names.push(name);
            aggregate_names.push(aggregate);
        }

        // The input with every level's raw value computed.
        let schema = input.schema().clone();
        let mut exprs: Vec<Expr> = column_names(&schema).iter().map(|n| column(n)).collect();
        for (i, level) in levels.iter().enumerate() {
            let value = self.plan_scalar(&level.of.expr, &schema)?;
            exprs.push(value.alias(raw_key(i)));
        }
        let mut rows = Relation::unordered(input.project(exprs)?);

        let mut level_tables: Vec<Relation> = Vec::new();
        for (i, level) in levels.iter().enumerate() {
            // Summarize the aggregate by the parent keys and this level's raw value.
            let mut keys: Vec<ColumnExpr> =
                (0..i).map(|j| name_expr(&key(j), level.of.span)).collect();
            keys.push(name_expr(&raw_key(i), level.of.span));
            let aggregate = ColumnExpr {
                names: vec![Ident {
                    name: AGG.to_string(),
                    span: level.by.span,
                }],
                expr: level.by.expr.clone(),
                span: level.by.span,
            };
            let summarized = self.summarize(rows.clone(), &[aggregate], &keys, level.by.span)?;
            if summarized.schema().fields().len() != i + 2 {
                return Err(EngineError::unsupported(
                    "top-nested aggregates that expand to several columns",
                    level.by.span,
                ));
            }

            // Keep the first N groups of each parent group.
            let top = match &level.count {
                None => summarized,
                Some(count) => {
                    let count = self.plan_constant(count)?;
                    let descending = !matches!(level.order, Some(SortOrder::Asc));
                    let Expr::WindowFunction(mut window) = row_number() else {
                        unreachable!("row_number() is a window function")
                    };
                    window.params.partition_by = (0..i).map(|j| column(&key(j))).collect();
                    window.params.order_by = vec![column(AGG).sort(!descending, !descending)];
                    window.params.window_frame = WindowFrame::new(Some(true));
                    let numbered = Expr::WindowFunction(window);
                    let numbered_name = numbered.schema_name().to_string();
                    let mut projected: Vec<Expr> = column_names(summarized.schema())
                        .iter()
                        .map(|n| column(n))
                        .collect();
                    projected.push(
                        cast(
                            column(&numbered_name),
                            datafusion::arrow::datatypes::DataType::Int64,
                        )
                        .alias(RANK),
                    );
                    let count = cast(count, datafusion::arrow::datatypes::DataType::Int64);
                    let plan = summarized
                        .builder()
                        .window(vec![numbered])?
                        .project(projected)?
                        .filter(column(RANK).lt_eq(count))?
                        .build()?;
                    Relation::unordered(plan)
                }
            };

            // The rows that fall into the kept groups, with this level's effective key.
            rows = self.top_nested_rows(rows, top, i, level, span)?;

            // This level's aggregate over the surviving rows.
            let mut keys: Vec<ColumnExpr> =
                (0..=i).map(|j| name_expr(&key(j), level.of.span)).collect();
            let aggregate = ColumnExpr {
                names: vec![Ident {
                    name: format!("__tn_agg{i}"),
                    span: level.by.span,
                }],
                expr: level.by.expr.clone(),
                span: level.by.span,
            };
            let table = self.summarize(rows.clone(), &[aggregate], &keys, level.by.span)?;
            keys.clear();
            level_tables.push(table);
        }

        // Join the levels on their common keys, deepest first.
        let mut tables = level_tables.into_iter().rev();
        let mut result = tables.next().expect("at least one level");
        let mut depth = levels.len() - 1;
        for table in tables {
            // `table` has keys 0..depth-1 and its aggregate; `result` has keys 0..depth.
            let left_alias = self.next_alias("tn_l");
            let right_alias = self.next_alias("tn_r");
            let left_names = column_names(result.schema());
            let right_names = column_names(table.schema());
            let left = result.builder().alias(left_alias.as_str())?.build()?;
            let right = table.builder().alias(right_alias.as_str())?.build()?;
            let qualified =
                |alias: &str, name: &str| Column::new(Some(TableReference::bare(alias)), name);
            let left_keys: Vec<Column> = (0..depth)
                .map(|j| qualified(&left_alias, &key(j)))
                .collect();
            let right_keys: Vec<Column> = (0..depth)
                .map(|j| qualified(&right_alias, &key(j)))
                .collect();
            let mut exprs: Vec<Expr> = Vec::new();
            for name in &right_names {
                exprs.push(Expr::Column(qualified(&right_alias, name)).alias(name));
            }
            for name in &left_names {
                if !right_names.contains(name) {
                    exprs.push(Expr::Column(qualified(&left_alias, name)).alias(name));
                }
            }
            let plan = LogicalPlanBuilder::from(left)
                .join_detailed(
                    right,
                    JoinType::Inner,
                    (left_keys, right_keys),
                    None,
                    NullEquality::NullEqualsNull,
                )?
                .project(exprs)?
                .build()?;
            result = Relation::unordered(plan);
            depth -= 1;
        }

        // Name the output columns: value and aggregate per level.
        let mut output = Vec::new();
        let mut used: Vec<String> = Vec::new();
        for i in 0..levels.len() {
            for (source, name) in [
                (key(i), &value_names[i]),
                (format!("__tn_agg{i}"), &aggregate_names[i]),
            ] {
                let name = super::summarize::unique_name(name, &used);
                output.push(column(&source).alias(&name));
                used.push(name);
            }
        }
        let plan = result.project(output)?;
        Ok(Relation::unordered(plan))
    }

    /// The rows of `rows` whose parent keys and raw level value form a group of `top`, with the
    /// level's effective key column added; with `others`, the remaining rows too, keyed `others`.
    fn top_nested_rows(
        &mut self,
        rows: Relation,
        top: Relation,
        i: usize,
        level: &TopNestedLevel,
        span: Span,
    ) -> Result<Relation> {
        let _ = span;
        let row_names = column_names(rows.schema());
        let key_names: Vec<String> = (0..i).map(key).chain([raw_key(i)]).collect();
        let left_alias = self.next_alias("tn_rows");
        let right_alias = self.next_alias("tn_top");
        let qualified =
            |alias: &str, name: &str| Column::new(Some(TableReference::bare(alias)), name);
        let mut top_exprs: Vec<Expr> = key_names.iter().map(|n| column(n)).collect();
        top_exprs.push(lit(true).alias(MATCHED));
        let top_plan = top
            .builder()
            .project(top_exprs)?
            .alias(right_alias.as_str())?
            .build()?;
        let left = rows.builder().alias(left_alias.as_str())?.build()?;
        let left_keys: Vec<Column> = key_names
            .iter()
            .map(|n| qualified(&left_alias, n))
            .collect();
        let right_keys: Vec<Column> = key_names
            .iter()
            .map(|n| qualified(&right_alias, n))
            .collect();
        let raw = Expr::Column(qualified(&left_alias, &raw_key(i)));
        let mut exprs: Vec<Expr> = row_names
            .iter()
            .map(|n| Expr::Column(qualified(&left_alias, n)).alias(n))
            .collect();
        let plan = match &level.others {
            None => {
                exprs.push(raw.alias(key(i)));
                LogicalPlanBuilder::from(left)
                    .join_detailed(
                        top_plan,
                        JoinType::LeftSemi,
                        (left_keys, right_keys),
                        None,
                        NullEquality::NullEqualsNull,
                    )?
                    .project(exprs)?
                    .build()?
            }
            Some(others) => {
                let others = self.plan_constant(others)?;
                let joined = LogicalPlanBuilder::from(left).join_detailed(
                    top_plan,
                    JoinType::Left,
                    (left_keys, right_keys),
                    None,
                    NullEquality::NullEqualsNull,
                )?;
                let raw_type = raw.get_type(joined.schema())?;
                let others = if others.get_type(joined.schema())? == raw_type {
                    others
                } else {
                    cast(others, raw_type)
                };
                let matched = Expr::Column(qualified(&right_alias, MATCHED));
                let effective = when(matched.is_true(), raw).otherwise(others)?;
                exprs.push(effective.alias(key(i)));
                joined.project(exprs)?.build()?
            }
        };
        Ok(Relation::unordered(plan))
    }
}

/// `name` as a column expression naming itself.
fn name_expr(name: &str, span: Span) -> ColumnExpr {
    let ident = Ident {
        name: name.to_string(),
        span,
    };
    ColumnExpr {
        names: vec![ident.clone()],
        expr: quarry_kql::ast::Expr {
            kind: quarry_kql::ast::ExprKind::Name { name: ident },
            span,
        },
        span,
    }
}
