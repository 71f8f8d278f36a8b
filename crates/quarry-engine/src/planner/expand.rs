//! `mv-expand`, `mv-apply` and the `evaluate` plugins (`bag_unpack`, `pivot`, …).
//!
//! `mv-expand` turns each expanded value into a `List<LargeUtf8>` of its elements (JSON texts)
//! with a row UDF ([`dynamic::mv_expand_items`]), unnests all the lists at once (DataFusion zips
//! them and pads the shorter ones with nulls, as Kusto does) and projects the columns back into
//! their places, casting the elements when `to typeof(T)` asks for it. A null or a non-array value
//! expands to one row holding it; an empty array to none.
//!
//! `mv-apply` numbers the input rows, expands them, and applies the subquery to the expansion with
//! every operator that looks at more than one row (`summarize`, `top`, `take`, `count`,
//! `distinct`) partitioned by that row number; the input columns the subquery dropped are joined
//! back on it.
//!
//! `bag_unpack` and `pivot` without an output schema take their output columns from the data, as
//! Kusto does: the planner runs a small query (the distinct bag keys, the distinct pivot values)
//! while planning. See [`Planner::collect_now`] for how it runs.

use super::operators::{param, param_text};
use super::scalar::derived_name;
use super::{aggregate_plan, column, column_names, filter_plan, project_plan, Planner, Relation};
use crate::error::{EngineError, Result};
use crate::functions::{self, dynamic, CallContext, PlannedArg};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{Column, ScalarValue, UnnestOptions};
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{
    binary_expr, lit, when, Expr, ExprFunctionExt, LogicalPlan, LogicalPlanBuilder,
    Operator as DfOperator,
};
use quarry_kql::ast::{
    Arg, ColumnDecl, ColumnExpr, ExpandItem, Expr as KqlExpr, ExprKind, Ident, Literal, Operator,
    OperatorKind, OperatorParam,
};
use quarry_kql::Span;
use serde_json::Value;
use std::collections::BTreeMap;

/// The KQL conversion function that casts a `dynamic` element to `type_name`, `None` for
/// `dynamic` itself.
fn conversion_for(type_name: &str) -> Option<Option<&'static str>> {
    Some(match type_name {
        "dynamic" => None,
        "string" => Some("tostring"),
        "int" => Some("toint"),
        "long" => Some("tolong"),
        "real" | "double" => Some("todouble"),
        "decimal" => Some("todecimal"),
        "bool" | "boolean" => Some("tobool"),
        "datetime" | "date" => Some("todatetime"),
        "timespan" | "time" => Some("totimespan"),
        "guid" => Some("toguid"),
        _ => return None,
    })
}

/// A bare column name as a KQL expression.
fn name_expr(name: &str, span: Span) -> KqlExpr {
    KqlExpr::new(
        ExprKind::Name {
            name: Ident {
                name: name.to_string(),
                span,
            },
        },
        span,
    )
}

/// The `evaluate` plugins `Planner::evaluate` runs (the other names it matches are refused
/// on purpose). Keep in step with its `match`: `tests/function_coverage.rs` checks both ways.
pub(super) const PLUGINS: &[&str] = &["bag_unpack", "pivot"];

/// The columns an mv-apply subquery assigns itself: `mv-expand` targets and the names that
/// `extend`, `project` and `project-rename` define.
fn changed_columns(subquery: &[Operator]) -> Vec<String> {
    let mut names = Vec::new();
    for operator in subquery {
        match &operator.kind {
            OperatorKind::MvExpand { items, .. } => {
                for item in items {
                    match (&item.name, &item.expr.kind) {
                        (Some(name), _) => names.push(name.name.clone()),
                        (None, ExprKind::Name { name }) => names.push(name.name.clone()),
                        _ => {}
                    }
                }
            }
            OperatorKind::Extend { columns } | OperatorKind::Project { columns } => {
                names.extend(defined_names(columns))
            }
            _ => {}
        }
    }
    names
}

/// The Kusto type of a JSON value, for `bag_unpack`'s column types.
fn json_type(value: &Value) -> Option<&'static str> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "long",
        Value::Number(_) => "real",
        Value::String(_) => "string",
        Value::Array(_) | Value::Object(_) => "dynamic",
    })
}

/// The names columns get from `columns` where KQL derives them.
fn defined_names(columns: &[ColumnExpr]) -> Vec<String> {
    columns
        .iter()
        .filter_map(|c| match c.names.as_slice() {
            [name] => Some(name.name.clone()),
            [] => derived_name(&c.expr),
            _ => None,
        })
        .collect()
}

/// The text of a constant string argument.
fn string_literal(expr: &KqlExpr) -> Option<String> {
    match &expr.kind {
        ExprKind::Literal {
            value: Literal::String { value, .. },
        } => Some(value.clone()),
        ExprKind::Paren { inner } => string_literal(inner),
        _ => None,
    }
}

/// The names of `columns` that appear as identifiers in the text of `expr`.
fn referenced_columns(expr: &KqlExpr, columns: &[String]) -> Vec<String> {
    let text = quarry_kql::printer::print_expr(expr);
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .collect();
    columns
        .iter()
        .filter(|c| words.contains(&c.as_str()))
        .cloned()
        .collect()
}

impl Planner<'_> {
    pub(super) fn apply_expand_operator(
        &mut self,
        input: Relation,
        operator: &Operator,
    ) -> Result<Relation> {
        match &operator.kind {
            OperatorKind::MvExpand {
                params,
                items,
                limit,
            } => Ok(self
                .mv_expand(input, params, items, limit.as_ref(), operator.span)?
                .0),
            OperatorKind::MvApply {
                params,
                items,
                limit,
                subquery,
            } => self.mv_apply(
                input,
                params,
                items,
                limit.as_ref(),
                subquery,
                operator.span,
            ),
            OperatorKind::Evaluate {
                plugin,
                schema,
                schema_open,
                ..
            } => self.evaluate(
                input,
                plugin,
                schema.as_deref(),
                *schema_open,
                operator.span,
            ),
            _ => Err(EngineError::unsupported("this operator", operator.span)),
        }
    }

    fn context_at(&self, span: Span) -> CallContext {
        CallContext {
            now_nanos: self.now_nanos,
            span,
        }
    }

    /// `expr` (a `dynamic`) converted to the Kusto type `type_name`.
    fn convert_dynamic(&self, expr: Expr, type_name: &str, span: Span) -> Result<Expr> {
        let Some(conversion) = conversion_for(type_name) else {
            return Err(EngineError::bind(
                format!("unknown type `{type_name}`"),
                span,
            ));
        };
        match conversion {
            None => Ok(expr),
            Some(function) => functions::plan_scalar_call(
                function,
                &[PlannedArg {
                    expr,
                    data_type: DataType::LargeUtf8,
                    span,
                }],
                &self.context_at(span),
            ),
        }
    }

    /// A constant, non-negative count (`limit 10`).
    fn constant_rows(&mut self, expr: &KqlExpr) -> Result<i64> {
        match self.plan_constant(expr)? {
            Expr::Literal(ScalarValue::Int64(Some(n)), _) if n >= 0 => Ok(n),
            Expr::Literal(ScalarValue::Int32(Some(n)), _) if n >= 0 => Ok(i64::from(n)),
            _ => Err(EngineError::bind(
                "expected a constant, non-negative row count",
                expr.span,
            )),
        }
    }

    // -----------------------------------------------------------------------------------------
    // mv-expand
    // -----------------------------------------------------------------------------------------

    /// Plans `mv-expand`; also returns the names of the expanded columns.
    fn mv_expand(
        &mut self,
        input: Relation,
        params: &[OperatorParam],
        items: &[ExpandItem],
        limit: Option<&KqlExpr>,
        span: Span,
    ) -> Result<(Relation, Vec<String>)> {
        let schema = input.schema().clone();
        let input_names = column_names(&schema);
        let bag_as_array = param(params, "bagexpansion")
            .or_else(|| param(params, "kind"))
            .map(param_text)
            .is_some_and(|kind| kind == "array");
        let index_name = param(params, "with_itemindex").map(param_text);
        let limit = match limit {
            Some(expr) => Some(self.constant_rows(expr)?),
            None => None,
        };
        if items.is_empty() {
            return Err(EngineError::bind(
                "mv-expand needs a column to expand",
                span,
            ));
        }

        // 1. Every input column plus one list of elements per item.
        let mut exprs: Vec<Expr> = input_names.iter().map(|n| column(n)).collect();
        let mut expanded: Vec<(String, String, Option<Ident>)> = Vec::new();
        let mut unnamed = 0;
        for item in items {
            let name = match &item.name {
                Some(name) => name.name.clone(),
                None => derived_name(&item.expr).unwrap_or_else(|| {
                    unnamed += 1;
                    format!("Column{unnamed}")
                }),
            };
            let value = self.plan_scalar(&item.expr, &schema)?;
            let list = self.next_alias("mvlist");
            exprs.push(dynamic::mv_expand_items(value, bag_as_array, limit).alias(&list));
            expanded.push((name, list, item.to_type.clone()));
        }
        let mut lists = project_plan(input.plan.clone(), exprs)?;
        let mut unnest: Vec<Column> = expanded
            .iter()
            .map(|(_, list, _)| Column::from_name(list))
            .collect();

        // 2. The element positions for `with_itemindex`.
        let index_list = if index_name.is_some() {
            let hidden = self.next_alias("mvindex");
            let mut exprs: Vec<Expr> = column_names(lists.schema())
                .iter()
                .map(|n| column(n))
                .collect();
            let list_columns = expanded.iter().map(|(_, list, _)| column(list)).collect();
            exprs.push(dynamic::mv_expand_index(list_columns).alias(&hidden));
            lists = project_plan(lists, exprs)?;
            unnest.push(Column::from_name(&hidden));
            Some(hidden)
        } else {
            None
        };

        // 3. One row per element.
        let unnested = LogicalPlanBuilder::from(lists)
            .unnest_columns_with_options(unnest, UnnestOptions::default())?
            .build()?;

        // 4. The columns back in their places, the new ones at the end.
        let mut output = Vec::new();
        let mut output_names = Vec::new();
        for name in &input_names {
            match expanded.iter().find(|(n, _, _)| n == name) {
                Some((_, list, to_type)) => output.push(
                    self.expanded_value(list, to_type.as_ref(), span)?
                        .alias(name),
                ),
                None => output.push(column(name)),
            }
            output_names.push(name.clone());
        }
        for (name, list, to_type) in &expanded {
            if output_names.contains(name) {
                continue;
            }
            output.push(
                self.expanded_value(list, to_type.as_ref(), span)?
                    .alias(name),
            );
            output_names.push(name.clone());
        }
        if let (Some(name), Some(hidden)) = (&index_name, &index_list) {
            output.push(column(hidden).alias(name));
        }
        let plan = project_plan(unnested, output)?;
        let names = expanded.into_iter().map(|(name, _, _)| name).collect();
        Ok((
            Relation {
                plan,
                ordered: input.ordered,
            },
            names,
        ))
    }

    fn expanded_value(&self, list: &str, to_type: Option<&Ident>, span: Span) -> Result<Expr> {
        match to_type {
            Some(ty) => self.convert_dynamic(column(list), &ty.name, ty.span),
            None => {
                let _ = span;
                Ok(column(list))
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // mv-apply
    // -----------------------------------------------------------------------------------------

    /// Adds a hidden row number column named `name`.
    fn with_row_id(&mut self, input: Relation, name: &str) -> Result<Relation> {
        let names = column_names(input.schema());
        let windowed = input.builder().window(vec![row_number()])?.build()?;
        let window_column = windowed
            .schema()
            .fields()
            .last()
            .map(|f| f.name().clone())
            .unwrap_or_default();
        let mut exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
        exprs.push(column(&window_column).alias(name));
        let plan = project_plan(windowed, exprs)?;
        Ok(Relation {
            plan,
            ordered: input.ordered,
        })
    }

    fn mv_apply(
        &mut self,
        input: Relation,
        params: &[OperatorParam],
        items: &[ExpandItem],
        limit: Option<&KqlExpr>,
        subquery: &[Operator],
        span: Span,
    ) -> Result<Relation> {
        let input_names = column_names(input.schema());
        let row_id = self.next_alias("mvrow");
        let numbered = self.with_row_id(input, &row_id)?;
        let (expanded, expanded_names) =
            self.mv_expand(numbered.clone(), params, items, limit, span)?;
        // The record's other columns ride along through the subquery (as extra grouping keys
        // where it aggregates), so that each result row keeps them; those the subquery changes
        // itself (`mv-expand Col`, `extend Col = …`) cannot, and are joined back afterwards
        // when the subquery's result lacks them.
        let changed = changed_columns(subquery);
        let carried: Vec<String> = input_names
            .iter()
            .filter(|n| !expanded_names.contains(n) && !changed.contains(n))
            .cloned()
            .collect();
        let mut relation = expanded;
        for operator in subquery {
            relation = self.apply_in_subtable(relation, operator, &row_id, &carried)?;
        }
        let present = column_names(relation.schema());
        let rejoin: Vec<String> = input_names
            .iter()
            .filter(|n| changed.contains(n) && !expanded_names.contains(n) && !present.contains(n))
            .cloned()
            .collect();
        if !rejoin.is_empty() {
            relation = self.rejoin_columns(relation, numbered, &row_id, &rejoin)?;
        }
        let result_names = column_names(relation.schema());
        let available = column_names(relation.schema());
        let mut order: Vec<String> = input_names
            .iter()
            .filter(|n| available.contains(n))
            .cloned()
            .collect();
        for name in result_names {
            if name != row_id && !order.contains(&name) {
                order.push(name);
            }
        }
        let exprs: Vec<Expr> = order.iter().map(|n| column(n)).collect();
        let plan = relation.project(exprs)?;
        Ok(Relation {
            plan,
            ordered: relation.ordered,
        })
    }

    /// `relation` with the columns `names` of `numbered` (the numbered mv-apply input) joined
    /// back on the record number.
    fn rejoin_columns(
        &mut self,
        relation: Relation,
        numbered: Relation,
        row_id: &str,
        names: &[String],
    ) -> Result<Relation> {
        let other_id = self.next_alias("mvrow");
        let mut right_exprs = vec![column(row_id).alias(&other_id)];
        right_exprs.extend(names.iter().map(|n| column(n)));
        let right = numbered.project(right_exprs)?;
        let left_names = column_names(relation.schema());
        let joined = LogicalPlanBuilder::from(relation.plan)
            .join(
                right,
                datafusion::common::JoinType::Inner,
                (
                    vec![Column::from_name(row_id)],
                    vec![Column::from_name(&other_id)],
                ),
                None,
            )?
            .build()?;
        let mut exprs: Vec<Expr> = left_names.iter().map(|n| column(n)).collect();
        exprs.extend(names.iter().map(|n| column(n)));
        Ok(Relation::unordered(project_plan(joined, exprs)?))
    }

    /// `partition by Column (subquery)`: the subquery applied to each partition on its own, the
    /// results unioned. Operators that group or project keep the partition column as an extra
    /// key (so each partition stays separate) and it is dropped again afterwards.
    pub(super) fn partition(
        &mut self,
        input: Relation,
        by: &KqlExpr,
        body: &quarry_kql::ast::PartitionBody,
        span: Span,
    ) -> Result<Relation> {
        let quarry_kql::ast::PartitionBody::Subquery { operators } = body else {
            return Err(EngineError::unsupported(
                "partition with a `{ query }` body",
                span,
            ));
        };
        let ExprKind::Name { name } = &by.kind else {
            return Err(EngineError::bind(
                "partition by takes a column name",
                by.span,
            ));
        };
        if input
            .schema()
            .field_with_unqualified_name(&name.name)
            .is_err()
        {
            return Err(EngineError::bind(
                format!("unknown column `{}`", name.name),
                by.span,
            ));
        }
        let key = self.next_alias("partition");
        let keyed = {
            let mut exprs: Vec<Expr> = column_names(input.schema())
                .iter()
                .map(|n| column(n))
                .collect();
            exprs.push(column(&name.name).alias(&key));
            let plan = input.project(exprs)?;
            Relation::unordered(plan)
        };
        let mut relation = keyed;
        for operator in operators {
            relation = self.apply_in_subtable(relation, operator, &key, &[])?;
        }
        let kept: Vec<Expr> = column_names(relation.schema())
            .iter()
            .filter(|n| **n != key)
            .map(|n| column(n))
            .collect();
        let plan = relation.project(kept)?;
        Ok(Relation::unordered(plan))
    }

    /// Applies one operator of an `mv-apply` subquery to the expansions of all records at once,
    /// each record's expansion (`row_id`) on its own.
    fn apply_in_subtable(
        &mut self,
        input: Relation,
        operator: &Operator,
        row_id: &str,
        carried: &[String],
    ) -> Result<Relation> {
        let span = operator.span;
        let present = column_names(input.schema());
        // The row id, then the carried columns still present.
        let mut keys: Vec<String> = vec![row_id.to_string()];
        keys.extend(carried.iter().filter(|c| present.contains(c)).cloned());
        let key_exprs = |defined: &[String]| -> Vec<KqlExpr> {
            keys.iter()
                .filter(|k| !defined.contains(k))
                .map(|k| name_expr(k, span))
                .collect()
        };
        let key_columns = |defined: &[String]| -> Vec<ColumnExpr> {
            key_exprs(defined)
                .into_iter()
                .map(|expr| ColumnExpr {
                    names: Vec::new(),
                    expr,
                    span,
                })
                .collect()
        };
        let mut rewritten = operator.clone();
        match &mut rewritten.kind {
            OperatorKind::Where { .. }
            | OperatorKind::Extend { .. }
            | OperatorKind::ProjectAway { .. }
            | OperatorKind::ProjectRename { .. }
            | OperatorKind::ProjectReorder { .. }
            | OperatorKind::Sort { .. }
            | OperatorKind::Serialize { .. }
            | OperatorKind::Parse { .. }
            | OperatorKind::ParseKv { .. }
            | OperatorKind::MvExpand { .. }
            | OperatorKind::MvApply { .. } => self.apply_operator(input, operator),
            OperatorKind::Project { columns } => {
                let defined = defined_names(columns);
                columns.extend(key_columns(&defined));
                self.apply_operator(input, &rewritten)
            }
            OperatorKind::ProjectKeep { columns } => {
                columns.extend(key_exprs(&[]));
                self.apply_operator(input, &rewritten)
            }
            OperatorKind::Distinct { columns, .. } => {
                if !columns.iter().any(|c| matches!(c.kind, ExprKind::Star)) {
                    let defined: Vec<String> = columns.iter().filter_map(derived_name).collect();
                    columns.extend(key_exprs(&defined));
                }
                self.apply_operator(input, &rewritten)
            }
            OperatorKind::Summarize { aggregates, by, .. } => {
                let mut defined = defined_names(aggregates);
                defined.extend(defined_names(by));
                by.extend(key_columns(&defined));
                self.apply_operator(input, &rewritten)
            }
            OperatorKind::Count { name } => {
                let name = name
                    .as_ref()
                    .map(|n| n.name.clone())
                    .unwrap_or_else(|| "Count".to_string());
                let plan = aggregate_plan(
                    input.plan,
                    keys.iter()
                        .filter(|k| **k != name)
                        .map(|k| column(k))
                        .collect::<Vec<_>>(),
                    vec![datafusion::functions_aggregate::expr_fn::count(lit(1)).alias(name)],
                )?;
                Ok(Relation::unordered(plan))
            }
            OperatorKind::Scan {
                params,
                declarations,
                steps,
            } => self.scan_partitioned(input, params, declarations, steps, Some(row_id), span),
            OperatorKind::Take { count } | OperatorKind::Sample { count } => {
                let rows = self.constant_rows(count)?;
                self.first_rows_per_record(input, row_id, Vec::new(), rows)
            }
            OperatorKind::Top { count, by } => {
                let rows = self.constant_rows(count)?;
                let sorts = self.sort_exprs(&input, by)?;
                self.first_rows_per_record(input, row_id, sorts, rows)
            }
            _ => Err(EngineError::unsupported(
                "this operator inside an mv-apply subquery",
                span,
            )),
        }
    }

    /// The first `rows` rows of each record's expansion, in `sorts` order.
    fn first_rows_per_record(
        &mut self,
        input: Relation,
        row_id: &str,
        sorts: Vec<datafusion::logical_expr::SortExpr>,
        rows: i64,
    ) -> Result<Relation> {
        let names = column_names(input.schema());
        let rank = self.next_alias("mvrank");
        let mut window = row_number().partition_by(vec![column(row_id)]);
        if !sorts.is_empty() {
            window = window.order_by(sorts);
        }
        let window = window.build()?;
        let windowed = input.builder().window(vec![window])?.build()?;
        let window_column = windowed
            .schema()
            .fields()
            .last()
            .map(|f| f.name().clone())
            .unwrap_or_default();
        let mut exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
        exprs.push(column(&window_column).alias(&rank));
        let exprs_out: Vec<Expr> = names.iter().map(|n| column(n)).collect();
        let ranked = project_plan(windowed, exprs)?;
        let kept = filter_plan(
            ranked,
            binary_expr(
                column(&rank),
                DfOperator::LtEq,
                lit(ScalarValue::UInt64(Some(rows as u64))),
            ),
        )?;
        let plan = project_plan(kept, exprs_out)?;
        Ok(Relation::unordered(plan))
    }

    // -----------------------------------------------------------------------------------------
    // evaluate
    // -----------------------------------------------------------------------------------------

    fn evaluate(
        &mut self,
        input: Relation,
        plugin: &KqlExpr,
        schema: Option<&[ColumnDecl]>,
        schema_open: bool,
        span: Span,
    ) -> Result<Relation> {
        let ExprKind::Call { function, args } = &plugin.kind else {
            return Err(EngineError::bind(
                "evaluate takes a plugin call",
                plugin.span,
            ));
        };
        let ExprKind::Name { name } = &function.kind else {
            return Err(EngineError::bind(
                "evaluate takes a plugin call",
                plugin.span,
            ));
        };
        match name.name.as_str() {
            "bag_unpack" => self.bag_unpack(input, args, schema, schema_open, plugin.span),
            "pivot" => self.pivot(input, args, plugin.span),
            "geo_polygon_lookup" | "geo_line_lookup" => {
                super::geo_lookup::plan_plugin(self, name.name.as_str(), input, args, span)
            }
            other if super::plugins::PLUGINS.contains(&other) => self
                .evaluate_computed(other, input, args, plugin.span)
                .unwrap_or_else(|| {
                    Err(EngineError::unsupported(
                        format!("evaluate plugin {other}"),
                        span,
                    ))
                }),
            "sql_request"
            | "postgresql_request"
            | "mysql_request"
            | "cosmosdb_sql_request"
            | "azure_digital_twins_query_request"
            | "http_request"
            | "http_request_post" => Err(EngineError::unsupported(
                format!(
                    "evaluate plugin {} (refused: it would query an external server; \
                         sql_request queries an external SQL server)",
                    name.name
                ),
                span,
            )),
            other => Err(EngineError::unsupported(
                format!("evaluate plugin {other}"),
                span,
            )),
        }
    }

    /// Runs `plan` to completion while planning.
    ///
    /// The planner is synchronous but is called from inside `Session::run`, i.e. on a tokio
    /// worker (or on a current-thread runtime in tests). `futures::executor::block_on` there could
    /// deadlock (DataFusion spawns tokio tasks that the blocked worker would have to drive) and
    /// `block_in_place` panics on a current-thread runtime, so the plan runs on a scoped thread
    /// with a runtime of its own, which works under any caller.
    pub(super) fn collect_now(&self, plan: LogicalPlan) -> Result<Vec<RecordBatch>> {
        let context = self.session.context().clone();
        std::thread::scope(|scope| {
            scope
                .spawn(move || -> Result<Vec<RecordBatch>> {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|e| EngineError::Execution(e.into()))?;
                    runtime.block_on(async move {
                        let frame = context.execute_logical_plan(plan).await?;
                        Ok(frame.collect().await?)
                    })
                })
                .join()
                .unwrap_or_else(|_| {
                    Err(EngineError::Execution(
                        datafusion::error::DataFusionError::Execution(
                            "the schema discovery query panicked".to_string(),
                        ),
                    ))
                })
        })
    }

    /// Splits plugin arguments into positional ones and named ones (lower-cased names).
    fn split_args(args: &[Arg]) -> (Vec<&KqlExpr>, BTreeMap<String, &KqlExpr>) {
        let mut positional = Vec::new();
        let mut named = BTreeMap::new();
        for arg in args {
            match &arg.name {
                Some(name) => {
                    named.insert(name.name.to_lowercase(), &arg.value);
                }
                None => positional.push(&arg.value),
            }
        }
        (positional, named)
    }

    fn bag_unpack(
        &mut self,
        input: Relation,
        args: &[Arg],
        declared: Option<&[ColumnDecl]>,
        schema_open: bool,
        span: Span,
    ) -> Result<Relation> {
        let (positional, named) = Self::split_args(args);
        let source = match positional.first().map(|e| &e.kind) {
            Some(ExprKind::Name { name }) => name.name.clone(),
            _ => {
                return Err(EngineError::bind(
                    "bag_unpack() takes the dynamic column to unpack first",
                    span,
                ))
            }
        };
        let input_names = column_names(input.schema());
        if !input_names.contains(&source) {
            return Err(EngineError::bind(
                format!("unknown column `{source}`"),
                span,
            ));
        }
        let text_arg = |index: usize, key: &str| -> Option<String> {
            named
                .get(key)
                .copied()
                .or_else(|| positional.get(index).copied())
                .and_then(string_literal)
        };
        let prefix = text_arg(1, "outputcolumnprefix").unwrap_or_default();
        let conflict = text_arg(2, "columnsconflict").unwrap_or_else(|| "error".to_string());
        let ignored: Vec<String> = match named
            .get("ignoredproperties")
            .copied()
            .or_else(|| positional.get(3).copied())
        {
            Some(expr) => match self.plan_constant(expr)? {
                Expr::Literal(ScalarValue::LargeUtf8(Some(text)), _) => {
                    match serde_json::from_str::<Value>(&text) {
                        Ok(Value::Array(items)) => items
                            .into_iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect(),
                        _ => Vec::new(),
                    }
                }
                _ => Vec::new(),
            },
            None => Vec::new(),
        };

        // The unpacked columns: (output name, bag key, Kusto type).
        let mut slots: Vec<(String, String, String)> = Vec::new();
        let mut passthrough: Vec<String> = Vec::new();
        match declared {
            Some(decls) => {
                for decl in decls {
                    let name = decl.name.name.clone();
                    if name != source && input_names.contains(&name) {
                        passthrough.push(name);
                        continue;
                    }
                    let key = name
                        .strip_prefix(prefix.as_str())
                        .unwrap_or(&name)
                        .to_string();
                    slots.push((name, key, decl.ty.name.clone()));
                }
            }
            None => {
                let plan = input
                    .builder()
                    .project(vec![dynamic::to_dynamic(column(&source)).alias("d")])?
                    .build()?;
                let mut types: BTreeMap<String, Option<&'static str>> = BTreeMap::new();
                for batch in self.collect_now(plan)? {
                    let array = batch.column(0);
                    let Some(texts) = array.as_string_opt::<i64>() else {
                        continue;
                    };
                    for row in 0..texts.len() {
                        if texts.is_null(row) {
                            continue;
                        }
                        let Ok(Value::Object(map)) =
                            serde_json::from_str::<Value>(texts.value(row))
                        else {
                            continue;
                        };
                        for (key, value) in map {
                            if ignored.contains(&key) {
                                continue;
                            }
                            let seen = types.entry(key).or_insert(None);
                            match (*seen, json_type(&value)) {
                                (_, None) => {}
                                (None, Some(ty)) => *seen = Some(ty),
                                (Some(a), Some(b)) if a != b => *seen = Some("dynamic"),
                                _ => {}
                            }
                        }
                    }
                }
                for (key, ty) in types {
                    slots.push((
                        format!("{prefix}{key}"),
                        key,
                        ty.unwrap_or("dynamic").to_string(),
                    ));
                }
            }
        }

        let mut exprs = Vec::new();
        let mut used: Vec<String> = Vec::new();
        let slot_expr = |planner: &Self, key: &str, ty: &str| -> Result<Expr> {
            planner.convert_dynamic(dynamic::member(column(&source), key), ty, span)
        };
        let keep_input = |name: &String| match declared {
            Some(_) => schema_open || passthrough.contains(name),
            None => true,
        };
        for name in &input_names {
            if *name == source {
                if let Some((out, key, ty)) = slots.iter().find(|(out, _, _)| out == name) {
                    exprs.push(slot_expr(self, key, ty)?.alias(out));
                    used.push(out.clone());
                }
                continue;
            }
            if !keep_input(name) {
                continue;
            }
            match slots.iter().find(|(out, _, _)| out == name) {
                Some((out, key, ty)) => match conflict.as_str() {
                    "replace_source" => exprs.push(slot_expr(self, key, ty)?.alias(out)),
                    "keep_source" => exprs.push(column(name)),
                    _ => {
                        return Err(EngineError::bind(
                            format!(
                                "bag_unpack: the bag property `{key}` collides with the column \
                                 `{name}`"
                            ),
                            span,
                        ))
                    }
                },
                None => exprs.push(column(name)),
            }
            used.push(name.clone());
        }
        for (out, key, ty) in &slots {
            if used.contains(out) {
                continue;
            }
            exprs.push(slot_expr(self, key, ty)?.alias(out));
            used.push(out.clone());
        }
        let plan = input.project(exprs)?;
        Ok(Relation {
            plan,
            ordered: input.ordered,
        })
    }

    /// `pivot(column [, aggregate(expr)] [, key columns…])`.
    fn pivot(&mut self, input: Relation, args: &[Arg], span: Span) -> Result<Relation> {
        let schema = input.schema().clone();
        let input_names = column_names(&schema);
        let mut values = args.iter().map(|a| &a.value);
        let pivot_column = match values.next().map(|e| &e.kind) {
            Some(ExprKind::Name { name }) if input_names.contains(&name.name) => name.name.clone(),
            _ => {
                return Err(EngineError::bind(
                    "pivot() takes a column of the input first",
                    span,
                ))
            }
        };
        let mut aggregate: Option<(String, Option<&KqlExpr>, &KqlExpr)> = None;
        let mut keys: Vec<String> = Vec::new();
        for value in values {
            match &value.kind {
                ExprKind::Name { name } => {
                    if !input_names.contains(&name.name) {
                        return Err(EngineError::bind(
                            format!("unknown column `{}`", name.name),
                            value.span,
                        ));
                    }
                    keys.push(name.name.clone());
                }
                ExprKind::Call { function, args } if aggregate.is_none() && keys.is_empty() => {
                    let ExprKind::Name { name } = &function.kind else {
                        return Err(EngineError::bind("expected an aggregate", value.span));
                    };
                    aggregate = Some((name.name.clone(), args.first().map(|a| &a.value), value));
                }
                _ => {
                    return Err(EngineError::bind(
                        "pivot() takes an aggregate and column names after the pivot column",
                        value.span,
                    ))
                }
            }
        }
        if keys.is_empty() {
            let used = aggregate
                .as_ref()
                .map(|(_, _, call)| referenced_columns(call, &input_names))
                .unwrap_or_default();
            keys = input_names
                .iter()
                .filter(|n| **n != pivot_column && !used.contains(n))
                .cloned()
                .collect();
        }

        // The distinct values of the pivot column become the output columns.
        let as_text = functions::plan_scalar_call(
            "tostring",
            &[PlannedArg {
                expr: column(&pivot_column),
                data_type: schema
                    .field_with_unqualified_name(&pivot_column)
                    .map(|f| f.data_type().clone())
                    .unwrap_or(DataType::Utf8),
                span,
            }],
            &self.context_at(span),
        )?;
        let plan = input
            .builder()
            .project(vec![as_text.clone().alias("v")])?
            .distinct()?
            .build()?;
        let mut pivot_values: Vec<String> = Vec::new();
        for batch in self.collect_now(plan)? {
            let array = datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
            let texts = array.as_string::<i32>();
            for row in 0..texts.len() {
                if !texts.is_null(row) {
                    pivot_values.push(texts.value(row).to_string());
                }
            }
        }
        pivot_values.sort();
        pivot_values.dedup();

        // One hidden column per value: the aggregated expression where the row has that value.
        let (function, argument) = match &aggregate {
            Some((name, arg, _)) => (name.clone(), *arg),
            None => ("count".to_string(), None),
        };
        let argument = match argument {
            Some(arg) => Some(self.plan_scalar(arg, &schema)?),
            None => None,
        };
        let mut exprs: Vec<Expr> = input_names.iter().map(|n| column(n)).collect();
        let mut aggregates = Vec::new();
        for value in &pivot_values {
            let hidden = self.next_alias("pivot");
            let matches = binary_expr(
                as_text.clone(),
                DfOperator::Eq,
                lit(ScalarValue::Utf8(Some(value.clone()))),
            );
            let (hidden_expr, call_name) = match (&argument, function.as_str()) {
                (_, "count") | (None, _) => (matches, "countif".to_string()),
                (Some(arg), other) => (when(matches, arg.clone()).end()?, other.to_string()),
            };
            exprs.push(hidden_expr.alias(&hidden));
            let call = KqlExpr::new(
                ExprKind::Call {
                    function: Box::new(name_expr(&call_name, span)),
                    args: vec![Arg {
                        name: None,
                        value: name_expr(&hidden, span),
                    }],
                },
                span,
            );
            aggregates.push(ColumnExpr {
                names: vec![Ident {
                    name: value.clone(),
                    span,
                }],
                expr: call,
                span,
            });
        }
        let widened = Relation::unordered(input.project(exprs)?);
        let by: Vec<ColumnExpr> = keys
            .iter()
            .map(|k| ColumnExpr {
                names: Vec::new(),
                expr: name_expr(k, span),
                span,
            })
            .collect();
        self.summarize(widened, &aggregates, &by, span)
    }
}
