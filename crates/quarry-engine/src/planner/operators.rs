//! Tabular operators applied to a relation: where, extend, project and its variants, sort, top,
//! take, count, distinct, union, as, invoke, render, getschema.

use super::scalar::derived_name;
use super::{column, column_names, wildcard_match, Binding, Planner, Relation};
use crate::error::{EngineError, Result};
use crate::output::RenderRequest;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::{lit, Expr, LogicalPlanBuilder, SortExpr};
use quarry_kql::ast::{
    ColumnExpr, Expr as KqlExpr, ExprKind, NullsOrder, Operator, OperatorKind, OperatorParam,
    SortKey, SortOrder,
};
use quarry_kql::Span;

/// Unions relations by column name (missing columns become nulls), in order.
pub(super) fn union_relations(relations: Vec<Relation>, span: Span) -> Result<Relation> {
    let mut iter = relations.into_iter();
    let Some(first) = iter.next() else {
        return Err(EngineError::bind("the union has no tables", span));
    };
    let rest: Vec<std::sync::Arc<datafusion::logical_expr::LogicalPlan>> = iter
        .map(|relation| std::sync::Arc::new(relation.plan))
        .collect();
    if rest.is_empty() {
        return Ok(Relation::unordered(first.plan));
    }
    // One n-ary union: folding the legs pairwise re-derived the growing schema and wrapped the
    // accumulated union in a new projection at every leg, quadratic in the number of legs
    // (ASIM parsers union dozens of them).
    let mut inputs = Vec::with_capacity(rest.len() + 1);
    inputs.push(std::sync::Arc::new(first.plan));
    inputs.extend(rest);
    let inputs = rename_type_conflicts(inputs)?;
    let union = datafusion::logical_expr::Union::try_new_by_name(inputs)?;
    Ok(Relation::unordered(
        datafusion::logical_expr::LogicalPlan::Union(union),
    ))
}

/// Kusto keeps a column that has different types in different legs apart: each type becomes its
/// own column, named `<column>_<type>` (with a number added when that name is taken).
fn rename_type_conflicts(
    inputs: Vec<std::sync::Arc<datafusion::logical_expr::LogicalPlan>>,
) -> Result<Vec<std::sync::Arc<datafusion::logical_expr::LogicalPlan>>> {
    use datafusion::arrow::datatypes::DataType;
    use std::collections::HashMap;
    let type_name =
        |data_type: &DataType| crate::types::kusto_type(data_type).map_or("dynamic", |t| t.name());
    let mut types: HashMap<&str, Vec<&'static str>> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for input in &inputs {
        for field in input.schema().fields() {
            if field.data_type() == &DataType::Null {
                continue;
            }
            let seen = types.entry(field.name().as_str()).or_insert_with(|| {
                order.push(field.name().as_str());
                Vec::new()
            });
            let kusto = type_name(field.data_type());
            if !seen.contains(&kusto) {
                seen.push(kusto);
            }
        }
    }
    let conflicted: Vec<&str> = order
        .iter()
        .copied()
        .filter(|name| types[name].len() > 1)
        .collect();
    if conflicted.is_empty() {
        return Ok(inputs);
    }
    let mut taken: std::collections::HashSet<String> = order
        .iter()
        .filter(|name| !conflicted.contains(name))
        .map(|name| name.to_string())
        .collect();
    let mut renamed: HashMap<(String, &'static str), String> = HashMap::new();
    for input in &inputs {
        for field in input.schema().fields() {
            let name = field.name().as_str();
            if !conflicted.contains(&name) || field.data_type() == &DataType::Null {
                continue;
            }
            let kusto = type_name(field.data_type());
            renamed.entry((name.to_string(), kusto)).or_insert_with(|| {
                let base = format!("{name}_{kusto}");
                let mut candidate = base.clone();
                let mut n = 1;
                while taken.contains(&candidate) {
                    candidate = format!("{base}{n}");
                    n += 1;
                }
                taken.insert(candidate.clone());
                candidate
            });
        }
    }
    inputs
        .into_iter()
        .map(|input| {
            let exprs: Vec<Expr> = input
                .schema()
                .iter()
                .map(|(qualifier, field)| {
                    let reference = Expr::Column(datafusion::common::Column::new(
                        qualifier.cloned(),
                        field.name(),
                    ));
                    let key = (field.name().clone(), type_name(field.data_type()));
                    match renamed.get(&key) {
                        Some(new_name) if field.data_type() != &DataType::Null => {
                            reference.alias(new_name)
                        }
                        _ => reference.alias(field.name()),
                    }
                })
                .collect();
            Ok(std::sync::Arc::new(super::project_plan(
                std::sync::Arc::unwrap_or_clone(input),
                exprs,
            )?))
        })
        .collect()
}

/// The text of an operator parameter value (`kind=inner` → `inner`).
pub(super) fn param_text(param: &OperatorParam) -> String {
    match &param.value.kind {
        ExprKind::Name { name } => name.name.clone(),
        ExprKind::Literal { value } => match value {
            quarry_kql::ast::Literal::String { value, .. } => value.clone(),
            quarry_kql::ast::Literal::Bool { value } => value.to_string(),
            quarry_kql::ast::Literal::Long { value } => value.to_string(),
            quarry_kql::ast::Literal::Real { text }
            | quarry_kql::ast::Literal::Timespan { text } => text.clone(),
            other => format!("{other:?}"),
        },
        _ => quarry_kql::printer::print_expr(&param.value),
    }
}

/// Finds a parameter by name.
pub(super) fn param<'a>(params: &'a [OperatorParam], name: &str) -> Option<&'a OperatorParam> {
    params.iter().find(|p| p.name.name == name)
}

impl Planner<'_> {
    /// Applies one pipeline operator.
    pub(super) fn apply_operator(
        &mut self,
        input: Relation,
        operator: &Operator,
    ) -> Result<Relation> {
        let span = operator.span;
        match &operator.kind {
            OperatorKind::Where { predicate } => {
                let predicate = self.plan_scalar(predicate, input.schema())?;
                let plan = input.filter(predicate)?;
                Ok(Relation {
                    plan,
                    ordered: input.ordered,
                })
            }
            OperatorKind::Extend { columns } => {
                self.extend(input, &super::multi_value::expand_multi_value(columns))
            }
            OperatorKind::Project { columns } => {
                self.project(input, &super::multi_value::expand_multi_value(columns))
            }
            OperatorKind::ProjectAway { columns } => {
                let removed = self.matching_columns(input.schema(), columns)?;
                let kept: Vec<String> = column_names(input.schema())
                    .into_iter()
                    .filter(|name| !removed.contains(name))
                    .collect();
                self.select(input, &kept)
            }
            OperatorKind::ProjectKeep { columns } => {
                let kept = self.matching_columns(input.schema(), columns)?;
                let kept: Vec<String> = column_names(input.schema())
                    .into_iter()
                    .filter(|name| kept.contains(name))
                    .collect();
                self.select(input, &kept)
            }
            OperatorKind::ProjectRename { renames } => {
                let mut exprs = Vec::new();
                let mut renamed = std::collections::HashMap::new();
                for rename in renames {
                    let ExprKind::Name { name } = &rename.source.kind else {
                        return Err(EngineError::bind(
                            "project-rename takes a column name; use extend to compute a column",
                            rename.source.span,
                        ));
                    };
                    if input
                        .schema()
                        .field_with_unqualified_name(&name.name)
                        .is_err()
                    {
                        return Err(EngineError::bind(
                            format!("unknown column `{}`", name.name),
                            name.span,
                        ));
                    }
                    renamed.insert(name.name.clone(), rename.new_name.name.clone());
                }
                for name in column_names(input.schema()) {
                    let new_name = renamed.get(&name).cloned().unwrap_or_else(|| name.clone());
                    // A column that keeps its name but is the target of a rename gives way to
                    // the renamed one (ASIM parsers rename onto the standard `_ResourceId`).
                    if !renamed.contains_key(&name) && renamed.values().any(|n| n == &name) {
                        continue;
                    }
                    exprs.push(column(&name).alias(new_name));
                }
                let plan = input.project(exprs)?;
                Ok(Relation {
                    plan,
                    ordered: input.ordered,
                })
            }
            OperatorKind::ProjectReorder { columns } => {
                let mut first = Vec::new();
                for reorder in columns {
                    let mut matched = self
                        .matching_columns(input.schema(), std::slice::from_ref(&reorder.column))?;
                    match reorder.order.as_ref().map(|o| o.name.as_str()) {
                        Some("asc" | "granny-asc") => matched.sort(),
                        Some("desc" | "granny-desc") => {
                            matched.sort();
                            matched.reverse();
                        }
                        _ => {}
                    }
                    for name in matched {
                        if !first.contains(&name) {
                            first.push(name);
                        }
                    }
                }
                let rest: Vec<String> = column_names(input.schema())
                    .into_iter()
                    .filter(|name| !first.contains(name))
                    .collect();
                first.extend(rest);
                self.select(input, &first)
            }
            OperatorKind::Summarize { aggregates, by, .. } => {
                self.summarize(input, aggregates, by, span)
            }
            OperatorKind::Count { name } => {
                let name = name
                    .as_ref()
                    .map(|n| n.name.clone())
                    .unwrap_or_else(|| "Count".to_string());
                let plan = input
                    .builder()
                    .aggregate(Vec::<Expr>::new(), vec![count(lit(1)).alias(name)])?
                    .build()?;
                Ok(Relation::unordered(plan))
            }
            OperatorKind::Distinct { columns, .. } => {
                let relation = if columns.iter().any(|c| matches!(c.kind, ExprKind::Star)) {
                    input
                } else {
                    let column_exprs: Vec<ColumnExpr> = columns
                        .iter()
                        .map(|expr| ColumnExpr {
                            names: Vec::new(),
                            expr: expr.clone(),
                            span: expr.span,
                        })
                        .collect();
                    self.project(input, &column_exprs)?
                };
                let plan = relation.builder().distinct()?.build()?;
                Ok(Relation::unordered(plan))
            }
            OperatorKind::Take { count } | OperatorKind::Sample { count } => {
                let rows = self.constant_count(count)?;
                let plan = input.builder().limit(0, Some(rows))?.build()?;
                Ok(Relation {
                    plan,
                    ordered: input.ordered,
                })
            }
            OperatorKind::Sort { by, .. } => {
                let sorts = self.sort_exprs(&input, by)?;
                let plan = input.builder().sort(sorts)?.build()?;
                Ok(Relation {
                    plan,
                    ordered: true,
                })
            }
            OperatorKind::Top { count, by } => {
                let rows = self.constant_count(count)?;
                let sorts = self.sort_exprs(&input, by)?;
                let plan = input
                    .builder()
                    .sort_with_limit(sorts, Some(rows))?
                    .limit(0, Some(rows))?
                    .build()?;
                Ok(Relation {
                    plan,
                    ordered: true,
                })
            }
            OperatorKind::Join { params, right, on } => {
                self.join(input, params, right, on, false, span)
            }
            OperatorKind::Lookup { params, right, on } => {
                self.join(input, params, right, on, true, span)
            }
            OperatorKind::Union { params, tables } => self.union(Some(input), params, tables, span),
            OperatorKind::As { name, .. } => {
                self.as_names.push((name.name.clone(), input.plan.clone()));
                self.bind(&name.name, Binding::Tabular(input.clone()));
                Ok(input)
            }
            OperatorKind::Invoke { call } => {
                let ExprKind::Call { function, args } = &call.kind else {
                    return Err(EngineError::bind("invoke takes a function call", call.span));
                };
                let ExprKind::Name { name } = &function.kind else {
                    return Err(EngineError::bind("invoke takes a function name", call.span));
                };
                let Some(Binding::Function(def)) = self.lookup(&name.name).cloned() else {
                    return Err(EngineError::bind(
                        format!("unknown function `{}`", name.name),
                        name.span,
                    ));
                };
                self.call_function(&name.name, &def, args, call.span, Some(input))?
                    .into_tabular(call.span)
            }
            OperatorKind::Render { chart, properties } => {
                self.render = Some(RenderRequest {
                    chart: chart.name.clone(),
                    properties: properties
                        .iter()
                        .map(|p| (p.name.name.clone(), param_text(p)))
                        .collect(),
                });
                Ok(input)
            }
            OperatorKind::GetSchema => self.get_schema(&input),
            OperatorKind::Serialize { columns } => {
                let relation = if columns.is_empty() {
                    input
                } else {
                    self.extend(input, columns)?
                };
                Ok(Relation {
                    plan: relation.plan,
                    ordered: true,
                })
            }
            OperatorKind::Partition { by, body, .. } => self.partition(input, by, body, span),
            OperatorKind::MvExpand { .. }
            | OperatorKind::MvApply { .. }
            | OperatorKind::Evaluate { .. } => self.apply_expand_operator(input, operator),
            OperatorKind::Parse { .. }
            | OperatorKind::ParseKv { .. }
            | OperatorKind::Search { .. } => self.apply_parse_operator(input, operator),
            OperatorKind::MakeSeries { .. }
            | OperatorKind::TopNested { .. }
            | OperatorKind::Scan { .. } => self.apply_series_operator(input, operator),
            other => Err(EngineError::unsupported(
                format!("operator {}", operator_name(other)),
                span,
            )),
        }
    }

    /// A constant row count (`take 10`).
    fn constant_count(&mut self, expr: &KqlExpr) -> Result<usize> {
        let planned = self.plan_constant(expr)?;
        match planned {
            Expr::Literal(ScalarValue::Int64(Some(n)), _) if n >= 0 => Ok(n as usize),
            Expr::Literal(ScalarValue::Int32(Some(n)), _) if n >= 0 => Ok(n as usize),
            _ => Err(EngineError::bind(
                "expected a constant, non-negative row count",
                expr.span,
            )),
        }
    }

    pub(super) fn sort_exprs(
        &mut self,
        input: &Relation,
        keys: &[SortKey],
    ) -> Result<Vec<SortExpr>> {
        keys.iter()
            .map(|key| {
                let expr = self.plan_scalar(&key.expr, input.schema())?;
                let ascending = key.order == Some(SortOrder::Asc);
                // KQL: nulls sort lowest unless told otherwise.
                let nulls_first = match key.nulls {
                    Some(NullsOrder::First) => true,
                    Some(NullsOrder::Last) => false,
                    None => ascending,
                };
                Ok(expr.sort(ascending, nulls_first))
            })
            .collect()
    }

    /// The output name of a column expression: the given name, a derived one, or `ColumnN`.
    pub(super) fn column_name(column: &ColumnExpr, unnamed: &mut usize) -> Result<String> {
        match column.names.as_slice() {
            [name] => Ok(name.name.clone()),
            [] => Ok(derived_name(&column.expr).unwrap_or_else(|| {
                *unnamed += 1;
                format!("Column{unnamed}")
            })),
            _ => Err(EngineError::unsupported(
                "assigning a tuple of columns",
                column.span,
            )),
        }
    }

    fn extend(&mut self, input: Relation, columns: &[ColumnExpr]) -> Result<Relation> {
        let mut relation = input;
        let mut unnamed = 0;
        for column_expr in columns {
            let name = Self::column_name(column_expr, &mut unnamed)?;
            let value = self.plan_scalar(&column_expr.expr, relation.schema())?;
            let mut exprs = Vec::new();
            let mut replaced = false;
            for existing in column_names(relation.schema()) {
                if existing == name {
                    exprs.push(value.clone().alias(&name));
                    replaced = true;
                } else {
                    exprs.push(column(&existing));
                }
            }
            if !replaced {
                exprs.push(value.alias(&name));
            }
            if super::window::has_window(&exprs) {
                relation = self.project_windowed(relation, exprs)?;
                continue;
            }
            let ordered = relation.ordered;
            relation = Relation {
                plan: super::project_plan(relation.plan, exprs)?,
                ordered,
            };
        }
        Ok(relation)
    }

    pub(super) fn project(&mut self, input: Relation, columns: &[ColumnExpr]) -> Result<Relation> {
        let mut exprs: Vec<Expr> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        let mut unnamed = 0;
        for column_expr in columns {
            if matches!(
                column_expr.expr.kind,
                ExprKind::Pattern { .. } | ExprKind::Star
            ) && column_expr.names.is_empty()
            {
                for name in
                    self.matching_columns(input.schema(), std::slice::from_ref(&column_expr.expr))?
                {
                    if !names.contains(&name) {
                        exprs.push(column(&name));
                        names.push(name);
                    }
                }
                continue;
            }
            let name = Self::column_name(column_expr, &mut unnamed)?;
            let value = self.plan_scalar(&column_expr.expr, input.schema())?;
            if let Some(at) = names.iter().position(|n| *n == name) {
                exprs[at] = value.alias(&name);
            } else {
                exprs.push(value.alias(&name));
                names.push(name);
            }
        }
        if super::window::has_window(&exprs) {
            return self.project_windowed(input, exprs);
        }
        let plan = input.project(exprs)?;
        Ok(Relation {
            plan,
            ordered: input.ordered,
        })
    }

    /// Keeps exactly `names`, in that order.
    fn select(&mut self, input: Relation, names: &[String]) -> Result<Relation> {
        let exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
        let plan = input.project(exprs)?;
        Ok(Relation {
            plan,
            ordered: input.ordered,
        })
    }

    /// The input columns named, or matched by the wildcard patterns, in `patterns`.
    fn matching_columns(&self, schema: &DFSchema, patterns: &[KqlExpr]) -> Result<Vec<String>> {
        let all = column_names(schema);
        let mut matched = Vec::new();
        for pattern in patterns {
            match &pattern.kind {
                ExprKind::Name { name } => {
                    if !all.contains(&name.name) {
                        return Err(EngineError::bind(
                            format!("unknown column `{}`", name.name),
                            name.span,
                        ));
                    }
                    matched.push(name.name.clone());
                }
                ExprKind::Pattern { pattern } => {
                    matched.extend(all.iter().filter(|n| wildcard_match(pattern, n)).cloned())
                }
                ExprKind::Star => matched.extend(all.iter().cloned()),
                _ => {
                    return Err(EngineError::bind("expected a column name", pattern.span));
                }
            }
        }
        Ok(matched)
    }

    pub(super) fn union(
        &mut self,
        input: Option<Relation>,
        params: &[OperatorParam],
        tables: &[KqlExpr],
        span: Span,
    ) -> Result<Relation> {
        let fuzzy =
            param(params, "isfuzzy").is_some_and(|p| param_text(p).eq_ignore_ascii_case("true"));
        // The `withsource=` name of each leg: a table's or view's own name, the name `as` gave
        // the leg's value, otherwise `union_arg<position>` as Kusto reports it.
        let mut named: Vec<(String, Relation)> = Vec::new();
        if let Some(input) = input {
            let name = self
                .as_name_of(&input)
                .unwrap_or_else(|| "union_arg0".to_string());
            named.push((name, input));
        }
        // With isfuzzy=true, Kusto drops the legs it cannot resolve (a missing table, a parser
        // whose tables are missing) with a warning, and fails only when none is left.
        let mut first_skipped = None;
        for table in tables {
            let planned = match &table.kind {
                ExprKind::Pattern { pattern } => {
                    for name in self.tables_matching(pattern) {
                        let relation = self.plan_table_name(&quarry_kql::ast::Ident {
                            name: name.clone(),
                            span: table.span,
                        })?;
                        named.push((name, relation));
                    }
                    continue;
                }
                ExprKind::Name { name } => (name.name.clone(), self.plan_tabular(table)),
                _ => (
                    quarry_kql::printer::print_expr(table),
                    self.plan_tabular(table),
                ),
            };
            match planned {
                (source, Ok(relation)) => {
                    let position = named.len();
                    let source = match &table.kind {
                        ExprKind::Name { name } if self.names_a_value(&name.name) => self
                            .as_name_of(&relation)
                            .unwrap_or_else(|| format!("union_arg{position}")),
                        ExprKind::Name { .. } => source,
                        _ => self
                            .as_name_of(&relation)
                            .unwrap_or_else(|| format!("union_arg{position}")),
                    };
                    named.push((source, relation))
                }
                (
                    source,
                    Err(error @ (EngineError::Bind { .. } | EngineError::NotSupported { .. })),
                ) if fuzzy => {
                    let leg = source
                        .split('(')
                        .next()
                        .unwrap_or(&source)
                        .trim()
                        .to_string();
                    self.warn(
                        format!("union isfuzzy=true left out `{leg}`: {error}"),
                        table.span,
                    );
                    first_skipped.get_or_insert(error);
                }
                (_, Err(error)) => return Err(error),
            }
        }
        if named.is_empty() {
            if let Some(error) = first_skipped {
                return Err(error);
            }
        }
        if let Some(source) = param(params, "withsource") {
            let source_column = param_text(source);
            let mut tagged = Vec::new();
            for (name, relation) in named {
                let mut exprs =
                    vec![lit(ScalarValue::Utf8(Some(name.clone()))).alias(&source_column)];
                exprs.extend(column_names(relation.schema()).iter().map(|n| column(n)));
                let plan = relation.project(exprs)?;
                tagged.push((name, Relation::unordered(plan)));
            }
            named = tagged;
        }
        if param(params, "kind").is_some_and(|p| param_text(p) == "inner") {
            let common: Vec<String> = named
                .first()
                .map(|(_, r)| column_names(r.schema()))
                .unwrap_or_default()
                .into_iter()
                .filter(|name| {
                    named
                        .iter()
                        .all(|(_, r)| r.schema().field_with_unqualified_name(name).is_ok())
                })
                .collect();
            let mut narrowed = Vec::new();
            for (name, relation) in named {
                narrowed.push((name, self.select(relation, &common)?));
            }
            named = narrowed;
        }
        union_relations(named.into_iter().map(|(_, r)| r).collect(), span)
    }

    /// The name an `as` operator gave this relation's plan, if any.
    fn as_name_of(&self, relation: &Relation) -> Option<String> {
        self.as_names
            .iter()
            .rev()
            .find(|(_, plan)| *plan == relation.plan)
            .map(|(name, _)| name.clone())
    }

    /// Whether `name` is a `let`-bound tabular value (not a table, view or function).
    fn names_a_value(&self, name: &str) -> bool {
        matches!(self.lookup(name), Some(Binding::Tabular(_)))
    }

    fn get_schema(&mut self, input: &Relation) -> Result<Relation> {
        use datafusion::arrow::array::{Int32Array, StringArray};
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use datafusion::arrow::record_batch::RecordBatch;
        let fields = input.schema().fields();
        let names: Vec<String> = fields.iter().map(|f| f.name().clone()).collect();
        let kusto: Vec<&str> = fields
            .iter()
            .map(|f| {
                crate::types::kusto_type(f.data_type())
                    .map(|t| t.name())
                    .unwrap_or("dynamic")
            })
            .collect();
        let dotnet: Vec<&str> = kusto
            .iter()
            .map(|k| match *k {
                "bool" => "System.SByte",
                "int" => "System.Int32",
                "long" => "System.Int64",
                "real" => "System.Double",
                "decimal" => "System.Data.SqlTypes.SqlDecimal",
                "string" => "System.String",
                "datetime" => "System.DateTime",
                "timespan" => "System.TimeSpan",
                "guid" => "System.Guid",
                _ => "System.Object",
            })
            .collect();
        let schema = std::sync::Arc::new(Schema::new(vec![
            Field::new("ColumnName", DataType::Utf8, false),
            Field::new("ColumnOrdinal", DataType::Int32, false),
            Field::new("DataType", DataType::Utf8, false),
            Field::new("ColumnType", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                std::sync::Arc::new(StringArray::from(names)),
                std::sync::Arc::new(Int32Array::from_iter_values(0..fields.len() as i32)),
                std::sync::Arc::new(StringArray::from(dotnet)),
                std::sync::Arc::new(StringArray::from(kusto)),
            ],
        )?;
        self.relation_from_batches(schema, vec![batch])
    }

    /// An in-memory relation.
    pub(super) fn relation_from_batches(
        &mut self,
        schema: datafusion::arrow::datatypes::SchemaRef,
        batches: Vec<datafusion::arrow::record_batch::RecordBatch>,
    ) -> Result<Relation> {
        let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
        let alias = self.next_alias("values");
        let plan = LogicalPlanBuilder::scan(
            datafusion::common::TableReference::bare(alias),
            datafusion::datasource::provider_as_source(std::sync::Arc::new(table)),
            None,
        )?
        .build()?;
        self.unqualified(Relation::unordered(plan))
    }
}

/// The KQL spelling of an operator, for "not supported" messages.
fn operator_name(kind: &OperatorKind) -> &'static str {
    match kind {
        OperatorKind::TopNested { .. } => "top-nested",
        OperatorKind::TopHitters { .. } => "top-hitters",
        OperatorKind::MvExpand { .. } => "mv-expand",
        OperatorKind::MvApply { .. } => "mv-apply",
        OperatorKind::Parse { filter: false, .. } => "parse",
        OperatorKind::Parse { filter: true, .. } => "parse-where",
        OperatorKind::ParseKv { .. } => "parse-kv",
        OperatorKind::MakeSeries { .. } => "make-series",
        OperatorKind::Evaluate { .. } => "evaluate",
        OperatorKind::Search { .. } => "search",
        OperatorKind::Find { .. } => "find",
        OperatorKind::Fork { .. } => "fork",
        OperatorKind::Facet { .. } => "facet",
        OperatorKind::Partition { .. } => "partition",
        OperatorKind::Scan { .. } => "scan",
        OperatorKind::SampleDistinct { .. } => "sample-distinct",
        OperatorKind::Reduce { .. } => "reduce",
        OperatorKind::Consume { .. } => "consume",
        OperatorKind::Print { .. } => "print",
        OperatorKind::Range { .. } => "range",
        OperatorKind::DataTable { .. } => "datatable",
        OperatorKind::ExternalData { .. } => "externaldata",
        _ => "this operator",
    }
}
