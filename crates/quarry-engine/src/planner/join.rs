//! `join` and `lookup`, with KQL's kinds (default `innerunique`), `$left.a == $right.b` keys,
//! the right side's clashing columns renamed with a `1` suffix, and never-null strings.

use super::operators::{param, param_text};
use super::{column, column_names, Planner, Relation};
use crate::error::{EngineError, Result};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, JoinType, NullEquality, ScalarValue, TableReference};
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{lit, Expr, LogicalPlanBuilder};
use quarry_kql::ast::{BinaryOp, Expr as KqlExpr, ExprKind, OperatorParam};
use quarry_kql::Span;

/// A join key: the left column and the right column it must equal.
type KeyPair = (String, String);

/// Reads `on` conditions into key pairs.
fn join_keys(on: &[KqlExpr], keys: &mut Vec<KeyPair>) -> Result<()> {
    for condition in on {
        match &condition.kind {
            ExprKind::Name { name } => keys.push((name.name.clone(), name.name.clone())),
            ExprKind::Paren { inner } => join_keys(std::slice::from_ref(inner), keys)?,
            ExprKind::Binary {
                op: BinaryOp::And,
                left,
                right,
            } => {
                join_keys(std::slice::from_ref(left), keys)?;
                join_keys(std::slice::from_ref(right), keys)?;
            }
            ExprKind::Binary {
                op: BinaryOp::Eq,
                left,
                right,
            } => match (side_column(left), side_column(right)) {
                (Some(("$left", l)), Some(("$right", r)))
                | (Some(("$right", r)), Some(("$left", l))) => keys.push((l, r)),
                _ => {
                    return Err(EngineError::unsupported(
                        "join conditions other than equalities of $left and $right columns",
                        condition.span,
                    ))
                }
            },
            _ => {
                return Err(EngineError::unsupported(
                    "this join condition",
                    condition.span,
                ))
            }
        }
    }
    Ok(())
}

/// `$left.Column` → (`$left`, `Column`).
fn side_column(expr: &KqlExpr) -> Option<(&str, String)> {
    let ExprKind::Member { target, name } = &expr.kind else {
        return None;
    };
    let ExprKind::Name { name: side } = &target.kind else {
        return None;
    };
    matches!(side.name.as_str(), "$left" | "$right")
        .then(|| (side.name.as_str(), name.name.clone()))
}

impl Planner<'_> {
    pub(super) fn join(
        &mut self,
        left: Relation,
        params: &[OperatorParam],
        right: &KqlExpr,
        on: &[KqlExpr],
        lookup: bool,
        span: Span,
    ) -> Result<Relation> {
        let kind = param(params, "kind").map(param_text).unwrap_or_else(|| {
            if lookup {
                "leftouter".into()
            } else {
                "innerunique".into()
            }
        });
        let right = self.plan_tabular(right)?;
        let mut keys = Vec::new();
        join_keys(on, &mut keys)?;
        if keys.is_empty() {
            let right_names = column_names(right.schema());
            keys = column_names(left.schema())
                .into_iter()
                .filter(|n| right_names.contains(n))
                .map(|n| (n.clone(), n))
                .collect();
            if keys.is_empty() {
                return Err(EngineError::bind(
                    "the join has no `on` keys and no common columns",
                    span,
                ));
            }
        }
        for (l, r) in &keys {
            if left.schema().field_with_unqualified_name(l).is_err() {
                return Err(EngineError::bind(
                    format!("the left side has no column `{l}`"),
                    span,
                ));
            }
            if right.schema().field_with_unqualified_name(r).is_err() {
                return Err(EngineError::bind(
                    format!("the right side has no column `{r}`"),
                    span,
                ));
            }
        }
        let join_type = match kind.as_str() {
            "inner" | "innerunique" => JoinType::Inner,
            "leftouter" => JoinType::Left,
            "rightouter" => JoinType::Right,
            "fullouter" => JoinType::Full,
            "leftsemi" => JoinType::LeftSemi,
            "rightsemi" => JoinType::RightSemi,
            "leftanti" | "anti" | "leftantisemi" => JoinType::LeftAnti,
            "rightanti" | "rightantisemi" => JoinType::RightAnti,
            other => {
                return Err(EngineError::bind(
                    format!("unknown join kind `{other}`"),
                    span,
                ));
            }
        };
        let left = if kind == "innerunique" {
            // innerunique: one left row per key, chosen arbitrarily, as Kusto does.
            let on_exprs: Vec<Expr> = keys.iter().map(|(l, _)| column(l)).collect();
            let all: Vec<Expr> = column_names(left.schema())
                .iter()
                .map(|n| column(n))
                .collect();
            let plan = left.builder().distinct_on(on_exprs, all, None)?.build()?;
            Relation::unordered(plan)
        } else {
            left
        };
        let left_alias = self.next_alias("left");
        let right_alias = self.next_alias("right");
        let left_names = column_names(left.schema());
        let right_names = column_names(right.schema());
        let left_plan = LogicalPlanBuilder::from(left.plan)
            .alias(left_alias.as_str())?
            .build()?;
        let right_plan = LogicalPlanBuilder::from(right.plan)
            .alias(right_alias.as_str())?
            .build()?;
        let qualified =
            |alias: &str, name: &str| Column::new(Some(TableReference::bare(alias)), name);
        let left_keys: Vec<Column> = keys
            .iter()
            .map(|(l, _)| qualified(&left_alias, l))
            .collect();
        let right_keys: Vec<Column> = keys
            .iter()
            .map(|(_, r)| qualified(&right_alias, r))
            .collect();
        // Kusto's join and lookup match a null key with a null key (unlike SQL's `=`).
        let joined = LogicalPlanBuilder::from(left_plan).join_detailed(
            right_plan,
            join_type,
            (left_keys, right_keys),
            None,
            NullEquality::NullEqualsNull,
        )?;
        let joined_schema = joined.schema().clone();
        let left_nullable = matches!(join_type, JoinType::Right | JoinType::Full);
        let right_nullable = matches!(join_type, JoinType::Left | JoinType::Full);
        let side = |alias: &str, name: &str, nullable: bool| -> Expr {
            let reference = Expr::Column(qualified(alias, name));
            let is_string = joined_schema
                .field_with_qualified_name(&TableReference::bare(alias), name)
                .map(|f| matches!(f.data_type(), DataType::Utf8 | DataType::Utf8View))
                .unwrap_or(false);
            if nullable && is_string {
                // A KQL string is never null: an outer-join miss reads as "".
                coalesce(vec![reference, lit(ScalarValue::Utf8(Some(String::new())))])
            } else {
                reference
            }
        };
        let mut exprs = Vec::new();
        let mut used: Vec<String> = Vec::new();
        let keep_left = !matches!(join_type, JoinType::RightSemi | JoinType::RightAnti);
        let keep_right = !matches!(join_type, JoinType::LeftSemi | JoinType::LeftAnti);
        if keep_left {
            for name in &left_names {
                exprs.push(side(&left_alias, name, left_nullable).alias(name));
                used.push(name.clone());
            }
        }
        if keep_right {
            for name in &right_names {
                if lookup && keys.iter().any(|(_, r)| r == name) {
                    continue;
                }
                let mut output = name.clone();
                if keep_left && used.contains(&output) {
                    output = format!("{name}1");
                    let mut n = 1;
                    while used.contains(&output) {
                        n += 1;
                        output = format!("{name}{n}");
                    }
                }
                exprs.push(side(&right_alias, name, right_nullable).alias(&output));
                used.push(output);
            }
        }
        let plan = super::project_plan(joined.build()?, exprs)?;
        Ok(Relation::unordered(plan))
    }
}
