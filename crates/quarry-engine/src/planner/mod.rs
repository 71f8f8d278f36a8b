//! The planner: a parsed KQL query to a DataFusion `LogicalPlan`, built programmatically.
//!
//! One [`Planner`] lives for one query. It keeps the `let` scopes, plans tabular expressions into
//! [`Relation`]s (a plan plus whether KQL fixes its row order) and scalar expressions into
//! DataFusion `Expr`s against the schema of the relation they apply to.

mod calls;
mod counted_expand;
mod expand;
mod geo_lookup;
mod join;
mod multi_column;
mod multi_value;
mod operands;
mod operators;
mod parse;
mod plugins;
mod row_functions;
mod scalar;
mod scan;
mod series;
mod session_window;
mod sources;
mod subquery_membership;
mod summarize;
mod top_nested;
mod window;

use crate::error::{EngineError, Result};
use crate::output::{QueryWarning, RenderRequest};
use crate::session::Session;
use calls::{ActiveCall, Callable};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::{Column, DFSchema, TableReference};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use quarry_kql::ast::{
    Arg, Expr as KqlExpr, ExprKind, FunctionDef, Ident, LetValue, ParameterType, Query, Statement,
};
use quarry_kql::Span;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// A planned query and what KQL says about its result.
pub(crate) struct Planned {
    pub plan: LogicalPlan,
    pub schema: SchemaRef,
    pub ordered: bool,
    pub render: Option<RenderRequest>,
    pub warnings: Vec<QueryWarning>,
}

/// A tabular value: its plan and whether KQL's semantics fix its row order.
#[derive(Clone)]
pub(crate) struct Relation {
    pub plan: LogicalPlan,
    pub ordered: bool,
}

impl Relation {
    fn unordered(plan: LogicalPlan) -> Self {
        Relation {
            plan,
            ordered: false,
        }
    }

    fn schema(&self) -> &DFSchema {
        self.plan.schema()
    }

    fn builder(&self) -> LogicalPlanBuilder {
        LogicalPlanBuilder::from(self.plan.clone())
    }

    /// A projection of `exprs` over this relation (see [`project_plan`]).
    fn project(&self, exprs: Vec<Expr>) -> datafusion::error::Result<LogicalPlan> {
        project_plan(self.plan.clone(), exprs)
    }

    /// A filter of this relation (see [`filter_plan`]).
    fn filter(&self, predicate: Expr) -> datafusion::error::Result<LogicalPlan> {
        filter_plan(self.plan.clone(), predicate)
    }
}

/// A projection of `exprs` over `input`. The builder's `project` normalises every column against
/// the whole input plan (a walk of the plan per column), and DataFusion's own schema derivation
/// finds each column by a linear scan of the input's fields; both made wide tables with many
/// `extend`s, and parser unions of dozens of legs, quadratic to plan. The planner's expressions
/// name columns of the input directly, so the output schema is derived here with one name index
/// per projection, and only what that cannot resolve goes through DataFusion's slower paths.
fn project_plan(input: LogicalPlan, exprs: Vec<Expr>) -> datafusion::error::Result<LogicalPlan> {
    use datafusion::logical_expr::Projection;
    let (input, exprs) = fold_repeated_projection(input, exprs)?;
    let input = std::sync::Arc::new(input);
    if let Some(schema) = projection_schema(input.schema(), &exprs) {
        // The schema has one field per expression, the only thing this constructor checks.
        return Projection::try_new_with_schema(exprs, input, std::sync::Arc::new(schema))
            .map(LogicalPlan::Projection);
    }
    match Projection::try_new(exprs.clone(), std::sync::Arc::clone(&input)) {
        Ok(projection) => Ok(LogicalPlan::Projection(projection)),
        Err(_) => LogicalPlanBuilder::from(input).project(exprs)?.build(),
    }
}

/// DataFusion 55's projection merging drops a projection whose expressions equal its input
/// projection's, which is wrong when they compute something: `extend x = x + 1 | extend x = x + 1`
/// would add 1 once. Such a pair is folded here instead, by substituting the inner expressions.
fn fold_repeated_projection(
    input: LogicalPlan,
    exprs: Vec<Expr>,
) -> datafusion::error::Result<(LogicalPlan, Vec<Expr>)> {
    use datafusion::common::tree_node::{Transformed, TreeNode};
    let LogicalPlan::Projection(inner) = &input else {
        return Ok((input, exprs));
    };
    let computes = |e: &Expr| !matches!(e.clone().unalias(), Expr::Column(_));
    if inner.expr != exprs || !exprs.iter().any(computes) {
        return Ok((input, exprs));
    }
    let folded = exprs
        .into_iter()
        .map(|expr| {
            let (outer_name, value) = match expr {
                Expr::Alias(alias) => (Some(alias.name), *alias.expr),
                other => (None, other),
            };
            let substituted = value
                .transform_up(|e| match &e {
                    Expr::Column(c) => match inner.schema.index_of_column(c) {
                        Ok(at) => Ok(Transformed::yes(inner.expr[at].clone().unalias())),
                        Err(_) => Ok(Transformed::no(e)),
                    },
                    _ => Ok(Transformed::no(e)),
                })?
                .data;
            Ok(match outer_name {
                Some(name) => substituted.alias(name),
                None => substituted,
            })
        })
        .collect::<datafusion::error::Result<Vec<Expr>>>()?;
    Ok(((*inner.input).clone(), folded))
}

/// The output schema of projecting `exprs` over `input`, as DataFusion derives it (a column keeps
/// its field; an alias renames it; anything else asks the expression), or `None` when a column
/// name is ambiguous or missing and DataFusion's own derivation must decide.
fn projection_schema(input: &DFSchema, exprs: &[Expr]) -> Option<DFSchema> {
    type Field = std::sync::Arc<datafusion::arrow::datatypes::Field>;
    // Bare names resolve when they are unique; qualified ones by (qualifier, name), which is
    // what a join's two sides need.
    let mut by_name: datafusion::common::HashMap<&str, Option<&Field>> =
        datafusion::common::HashMap::with_capacity_and_hasher(
            input.fields().len(),
            Default::default(),
        );
    let mut by_qualified: datafusion::common::HashMap<(&str, &str), (&TableReference, &Field)> =
        datafusion::common::HashMap::with_capacity_and_hasher(
            input.fields().len(),
            Default::default(),
        );
    for (qualifier, field) in input.iter() {
        by_name
            .entry(field.name().as_str())
            .and_modify(|slot| *slot = None)
            .or_insert(Some(field));
        if let Some(qualifier) = qualifier {
            by_qualified.insert(
                (qualifier.table(), field.name().as_str()),
                (qualifier, field),
            );
        }
    }
    let resolve = |expr: &Expr| match expr {
        Expr::Column(c) => match &c.relation {
            None => by_name.get(c.name.as_str()).copied().flatten(),
            Some(relation) => by_qualified
                .get(&(relation.table(), c.name.as_str()))
                .filter(|(qualifier, _)| qualifier.resolved_eq(relation))
                .map(|(_, field)| *field),
        },
        _ => None,
    };
    let mut fields = Vec::with_capacity(exprs.len());
    for expr in exprs {
        let field = match expr {
            Expr::Column(c) => (c.relation.clone(), std::sync::Arc::clone(resolve(expr)?)),
            Expr::Alias(alias)
                if alias.metadata.is_none() && matches!(*alias.expr, Expr::Column(_)) =>
            {
                let field = resolve(&alias.expr)?;
                (
                    alias.relation.clone(),
                    std::sync::Arc::new(field.as_ref().clone().with_name(alias.name.clone())),
                )
            }
            _ => {
                use datafusion::logical_expr::ExprSchemable;
                expr.to_field(input).ok()?
            }
        };
        fields.push(field);
    }
    DFSchema::new_with_metadata(fields, input.metadata().clone()).ok()
}

/// A filter of `input`, built directly for the same reason as [`project_plan`].
fn filter_plan(input: LogicalPlan, predicate: Expr) -> datafusion::error::Result<LogicalPlan> {
    let predicate = without_false_default(predicate);
    let input = std::sync::Arc::new(input);
    match datafusion::logical_expr::Filter::try_new(
        predicate.clone(),
        std::sync::Arc::clone(&input),
    ) {
        Ok(filter) => Ok(LogicalPlan::Filter(filter)),
        Err(_) => LogicalPlanBuilder::from(input).filter(predicate)?.build(),
    }
}

/// `predicate` with `coalesce(c, false)` around its top-level conjuncts removed: a filter drops a
/// null condition anyway, and the bare comparison is one the optimiser can push into the Parquet
/// scan and prune with (the `coalesce` that makes `x == 5` false for a null `x` elsewhere hid it).
fn without_false_default(predicate: Expr) -> Expr {
    use datafusion::logical_expr::utils::{conjunction, split_conjunction_owned};
    let conjuncts = split_conjunction_owned(predicate)
        .into_iter()
        .map(|conjunct| match conjunct {
            Expr::ScalarFunction(call)
                if call.func.name() == "coalesce"
                    && call.args.len() == 2
                    && matches!(
                        call.args[1],
                        Expr::Literal(datafusion::common::ScalarValue::Boolean(Some(false)), _)
                    ) =>
            {
                call.args.into_iter().next().expect("two arguments")
            }
            other => other,
        });
    conjunction(conjuncts).expect("a predicate has at least one conjunct")
}

/// An aggregation of `input`, built directly for the same reason as [`project_plan`].
fn aggregate_plan(
    input: LogicalPlan,
    groups: Vec<Expr>,
    aggregates: Vec<Expr>,
) -> datafusion::error::Result<LogicalPlan> {
    let input = std::sync::Arc::new(input);
    match datafusion::logical_expr::Aggregate::try_new(
        std::sync::Arc::clone(&input),
        groups.clone(),
        aggregates.clone(),
    ) {
        Ok(aggregate) => Ok(LogicalPlan::Aggregate(aggregate)),
        Err(_) => LogicalPlanBuilder::from(input)
            .aggregate(groups, aggregates)?
            .build(),
    }
}

/// What a `let` name (or a function parameter) stands for.
#[derive(Clone)]
enum Binding {
    /// A scalar: a constant, or a scalar subquery.
    Scalar(Expr),
    /// A tabular value.
    Tabular(Relation),
    /// A user-defined function or view: a query's own `let`, or a stored function.
    Function(Callable),
}

/// Turns one query into a plan; lives for one query (it holds the `let` scopes).
pub(crate) struct Planner<'s> {
    session: &'s Session,
    now_nanos: i64,
    scopes: Vec<HashMap<String, Binding>>,
    render: Option<RenderRequest>,
    alias_counter: usize,
    /// The schema of the rows a scalar user-function call is evaluated over, while its
    /// arguments are planned.
    row_schema: Option<DFSchema>,
    /// The session's stored functions, consulted after every `let` scope.
    stored: HashMap<String, Binding>,
    /// The function calls being planned, outermost first: the guard against recursion.
    calls: Vec<ActiveCall>,
    warnings: Vec<QueryWarning>,
    /// The names `let … = view …` gave, which `union` wildcards match like tables.
    views: Vec<String>,
    /// The plans named by `as`, which `union withsource=` reports by that name.
    as_names: Vec<(String, LogicalPlan)>,
}

/// A column reference by exact (case-sensitive) name; never `col()`, which lower-cases.
pub(crate) fn column(name: &str) -> Expr {
    Expr::Column(Column::from_name(name))
}

/// The names of a relation's columns, in order.
pub(crate) fn column_names(schema: &DFSchema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// The closest of `candidates` to `name`, for "did you mean" help.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let name_chars = lower.chars().count();
    candidates
        .into_iter()
        .filter_map(|c| {
            let limit = (name.len().max(c.len()) / 3).max(1);
            // The edit distance is at least the difference in length: most candidates of a
            // wide schema are ruled out without computing it.
            if name_chars.abs_diff(c.chars().count()) > limit {
                return None;
            }
            let candidate = c.to_lowercase();
            if bag_distance(&lower, &candidate).is_some_and(|bound| bound > limit) {
                return None;
            }
            let distance = strsim_distance(&lower, &candidate);
            (distance <= limit).then_some((distance, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// A lower bound of the edit distance of two ASCII strings, from their letter counts alone (an
/// edit changes at most one letter on each side); `None` for non-ASCII text.
fn bag_distance(a: &str, b: &str) -> Option<usize> {
    if !a.is_ascii() || !b.is_ascii() {
        return None;
    }
    let mut counts = [0i32; 128];
    for byte in a.bytes() {
        counts[usize::from(byte)] += 1;
    }
    for byte in b.bytes() {
        counts[usize::from(byte)] -= 1;
    }
    let (surplus, deficit) = counts.iter().fold((0usize, 0usize), |(plus, minus), &n| {
        if n > 0 {
            (plus + n.unsigned_abs() as usize, minus)
        } else {
            (plus, minus + n.unsigned_abs() as usize)
        }
    });
    Some(surplus.max(deficit))
}

fn strsim_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            current[j + 1] = (previous[j] + usize::from(ca != *cb))
                .min(previous[j + 1] + 1)
                .min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

impl<'s> Planner<'s> {
    pub(crate) fn new(session: &'s Session, now_nanos: i64) -> Self {
        Planner {
            session,
            now_nanos,
            scopes: vec![HashMap::new()],
            render: None,
            alias_counter: 0,
            row_schema: None,
            stored: session
                .functions_snapshot()
                .iter()
                .map(|(name, f)| (name.clone(), Binding::Function(Callable::Stored(f.clone()))))
                .collect(),
            calls: Vec::new(),
            warnings: Vec::new(),
            views: Vec::new(),
            as_names: Vec::new(),
        }
    }

    pub(crate) fn plan_query(&mut self, query: &Query) -> Result<Planned> {
        let result = self.plan_statements(&query.statements, query.span)?;
        let relation = match result {
            Some(Bound::Tabular(relation)) => relation,
            Some(Bound::Scalar(expr)) => {
                // A scalar query (`1 + 1`, `toscalar(…)`) prints as one column.
                let plan = LogicalPlanBuilder::empty(true)
                    .project(vec![expr.alias("print_0")])?
                    .build()?;
                Relation::unordered(plan)
            }
            None => {
                return Err(EngineError::bind(
                    "the query has no statement that produces a result",
                    query.span,
                ))
            }
        };
        let plan = subquery_membership::rewrite(relation.plan)?;
        let schema = Arc::new(plan.schema().as_arrow().clone());
        Ok(Planned {
            plan,
            schema,
            ordered: relation.ordered,
            render: self.render.take(),
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    /// Plans statements in the current scope; returns the value of the last query statement.
    fn plan_statements(&mut self, statements: &[Statement], span: Span) -> Result<Option<Bound>> {
        let mut result = None;
        for statement in statements {
            match statement {
                Statement::Let { name, value, .. } => {
                    if matches!(value, LetValue::View { .. }) {
                        self.views.push(name.name.clone());
                    }
                    let binding = self.plan_let(value)?;
                    self.bind(&name.name, binding);
                }
                Statement::DeclareQueryParameters { parameters, .. } => {
                    for parameter in parameters {
                        let value = self.query_parameter(parameter)?;
                        self.bind(&parameter.name.name, Binding::Scalar(value));
                    }
                }
                Statement::Set {
                    name,
                    value: Some(value),
                    ..
                } if row_functions::QUERY_SETTINGS.contains(&name.name.as_str()) => {
                    // Kept under a name no identifier can spell, for bin_auto().
                    let value = self.plan_constant(value)?;
                    self.bind(&format!("set:{}", name.name), Binding::Scalar(value));
                }
                Statement::Set { .. } | Statement::Alias { .. } => {}
                Statement::Query(expr) => {
                    self.render = None;
                    result = Some(self.plan_value(expr)?);
                }
            }
        }
        let _ = span;
        Ok(result)
    }

    fn plan_let(&mut self, value: &LetValue) -> Result<Binding> {
        Ok(match value {
            LetValue::Function { function } | LetValue::View { function } => {
                Binding::Function(Callable::Local(Rc::new(function.clone())))
            }
            LetValue::Expr { expr } => match self.plan_value(expr)? {
                Bound::Tabular(relation) => Binding::Tabular(relation),
                Bound::Scalar(expr) => Binding::Scalar(expr),
            },
        })
    }

    fn query_parameter(&mut self, parameter: &quarry_kql::ast::Parameter) -> Result<Expr> {
        let ParameterType::Scalar { name: type_name } = &parameter.ty else {
            return Err(EngineError::unsupported(
                "tabular query parameters",
                parameter.span,
            ));
        };
        if let Some(text) = self.session.config().parameters.get(&parameter.name.name) {
            return scalar::parameter_value(text, &type_name.name, parameter.span);
        }
        match &parameter.default {
            Some(default) => self.plan_constant(default),
            None => Err(EngineError::bind_with_help(
                format!("query parameter `{}` has no value", parameter.name.name),
                parameter.name.span,
                format!("give it with --param {}=VALUE", parameter.name.name),
            )),
        }
    }

    fn bind(&mut self, name: &str, binding: Binding) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), binding);
        }
    }

    /// What `name` means here: a query-local name first, then a stored function.
    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name))
            .or_else(|| self.stored.get(name))
    }

    fn next_alias(&mut self, prefix: &str) -> String {
        self.alias_counter += 1;
        format!("__{prefix}{}", self.alias_counter)
    }

    /// Plans an expression that may be tabular or scalar.
    fn plan_value(&mut self, expr: &KqlExpr) -> Result<Bound> {
        if self.is_tabular(expr) {
            Ok(Bound::Tabular(self.plan_tabular(expr)?))
        } else {
            Ok(Bound::Scalar(self.plan_constant(expr)?))
        }
    }

    /// A scalar expression outside any table (a `let` value, a parameter default).
    fn plan_constant(&mut self, expr: &KqlExpr) -> Result<Expr> {
        let empty = DFSchema::empty();
        self.plan_scalar(expr, &empty)
    }

    /// True when `expr` denotes a table rather than a scalar.
    fn is_tabular(&self, expr: &KqlExpr) -> bool {
        self.is_tabular_at(expr, 0)
    }

    /// [`Planner::is_tabular`] `depth` function bodies deep; gives up (false) beyond a depth
    /// that only a recursive function reaches, which planning then reports.
    fn is_tabular_at(&self, expr: &KqlExpr, depth: usize) -> bool {
        if depth > calls::MAX_CALL_DEPTH {
            return false;
        }
        match &expr.kind {
            ExprKind::Pipeline { .. } | ExprKind::Source { .. } => true,
            ExprKind::Paren { inner } => self.is_tabular_at(inner, depth),
            ExprKind::Name { name } => match self.lookup(&name.name) {
                Some(Binding::Tabular(_)) => true,
                Some(Binding::Scalar(_)) => false,
                Some(Binding::Function(f)) => self.function_is_tabular_at(f, depth + 1),
                None => self.session.table(&name.name).is_some(),
            },
            ExprKind::Pattern { .. } => true,
            ExprKind::Call { function, .. } => match &function.kind {
                ExprKind::Name { name } => match name.name.as_str() {
                    "materialize" | "table" | "view" => true,
                    other => match self.lookup(other) {
                        Some(Binding::Function(f)) => self.function_is_tabular_at(f, depth + 1),
                        Some(_) => false,
                        None => other == crate::watchlist::WATCHLIST_FUNCTION,
                    },
                },
                _ => false,
            },
            _ => false,
        }
    }

    fn function_is_tabular(&self, function: &FunctionDef) -> bool {
        self.function_is_tabular_at(function, 0)
    }

    fn function_is_tabular_at(&self, function: &FunctionDef, depth: usize) -> bool {
        match function.body.last() {
            Some(Statement::Query(expr)) => self.body_value_is_tabular(function, expr, depth),
            _ => false,
        }
    }

    /// Whether `expr`, an expression in `function`'s body, is tabular: names the body binds
    /// (its `let`s, then its parameters) are looked up there, since they are not in scope yet.
    fn body_value_is_tabular(&self, function: &FunctionDef, expr: &KqlExpr, depth: usize) -> bool {
        if depth > calls::MAX_CALL_DEPTH {
            return false;
        }
        let called = match &expr.kind {
            ExprKind::Paren { inner } => return self.body_value_is_tabular(function, inner, depth),
            ExprKind::Name { name } => &name.name,
            ExprKind::Call {
                function: callee, ..
            } => match &callee.kind {
                ExprKind::Name { name } => &name.name,
                _ => return self.is_tabular_at(expr, depth),
            },
            _ => return self.is_tabular_at(expr, depth),
        };
        let body_let = function
            .body
            .iter()
            .rev()
            .find_map(|statement| match statement {
                Statement::Let { name, value, .. } if &name.name == called => Some(value),
                _ => None,
            });
        match body_let {
            Some(LetValue::Expr { expr: value }) => {
                matches!(expr.kind, ExprKind::Name { .. })
                    && self.body_value_is_tabular(function, value, depth + 1)
            }
            Some(LetValue::Function { function: inner } | LetValue::View { function: inner }) => {
                self.function_is_tabular_at(inner, depth + 1)
            }
            None => match function.parameters.iter().find(|p| &p.name.name == called) {
                Some(parameter) => {
                    matches!(parameter.ty, ParameterType::Tabular { .. })
                        && matches!(expr.kind, ExprKind::Name { .. })
                }
                None => self.is_tabular_at(expr, depth),
            },
        }
    }

    /// Plans a tabular expression.
    fn plan_tabular(&mut self, expr: &KqlExpr) -> Result<Relation> {
        match &expr.kind {
            ExprKind::Pipeline { source, operators } => {
                let mut relation = self.plan_tabular(source)?;
                let mut index = 0;
                while let Some(operator) = operators.get(index) {
                    if let Some(summarize) = operators.get(index + 1) {
                        if let Some(counted) =
                            self.counted_expand(&relation, operator, summarize)?
                        {
                            relation = counted;
                            index += 2;
                            continue;
                        }
                    }
                    relation = self.apply_operator(relation, operator)?;
                    index += 1;
                }
                Ok(relation)
            }
            ExprKind::Source { operator } => self.plan_source(operator),
            ExprKind::Paren { inner } => self.plan_tabular(inner),
            ExprKind::Name { name } => self.plan_table_name(name),
            ExprKind::Pattern { pattern } => {
                let names = self.tables_matching(pattern);
                self.union_of_names(&names, expr.span)
            }
            ExprKind::Call { function, args } => self.plan_tabular_call(function, args, expr.span),
            _ => Err(EngineError::bind(
                "expected a table or a tabular expression here",
                expr.span,
            )),
        }
    }

    /// A table, a tabular `let` or a tabular function without arguments.
    fn plan_table_name(&mut self, name: &Ident) -> Result<Relation> {
        match self.lookup(&name.name).cloned() {
            Some(Binding::Tabular(relation)) => return Ok(relation),
            Some(Binding::Function(function)) => {
                return self
                    .call_function(&name.name, &function, &[], name.span, None)?
                    .into_tabular(name.span)
            }
            Some(Binding::Scalar(_)) => {
                return Err(EngineError::bind(
                    format!("`{}` is a scalar, not a table", name.name),
                    name.span,
                ))
            }
            None => {}
        }
        let Some(provider) = self.session.table(&name.name) else {
            let tables = self.session.table_names();
            let mut candidates: Vec<&str> = tables.iter().map(String::as_str).collect();
            for scope in &self.scopes {
                candidates.extend(scope.keys().map(String::as_str));
            }
            candidates.extend(self.stored.keys().map(String::as_str));
            let message = format!("unknown table `{}`", name.name);
            return Err(match closest(&name.name, candidates) {
                Some(best) => EngineError::bind_with_help(
                    message,
                    name.span,
                    format!("did you mean `{best}`?"),
                ),
                None => EngineError::bind(message, name.span),
            });
        };
        let plan = LogicalPlanBuilder::scan(
            TableReference::bare(name.name.as_str()),
            provider_as_source(provider),
            None,
        )?
        .build()?;
        // Strip the table qualifier so that columns resolve by bare name everywhere.
        let relation = Relation::unordered(plan);
        self.unqualified(relation)
    }

    /// Re-projects a relation so that every column is referenced by its bare name.
    fn unqualified(&mut self, relation: Relation) -> Result<Relation> {
        let exprs: Vec<Expr> = relation
            .schema()
            .iter()
            .map(|(qualifier, field)| {
                Expr::Column(Column::new(qualifier.cloned(), field.name())).alias(field.name())
            })
            .collect();
        let plan = relation.project(exprs)?;
        Ok(Relation {
            plan,
            ordered: relation.ordered,
        })
    }

    /// Session tables, then the query's views, whose names match a `*` pattern.
    fn tables_matching(&self, pattern: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .session
            .table_names()
            .into_iter()
            .filter(|name| wildcard_match(pattern, name))
            .collect();
        for view in &self.views {
            if wildcard_match(pattern, view) && !names.contains(view) {
                names.push(view.clone());
            }
        }
        names
    }

    fn plan_tabular_call(
        &mut self,
        function: &KqlExpr,
        args: &[Arg],
        span: Span,
    ) -> Result<Relation> {
        let ExprKind::Name { name } = &function.kind else {
            return Err(EngineError::unsupported("calls of this form", span));
        };
        match name.name.as_str() {
            "materialize" => {
                let [arg] = args else {
                    return Err(EngineError::bind("materialize() takes one argument", span));
                };
                self.plan_tabular(&arg.value)
            }
            "table" => {
                // The name may be a literal or a constant, such as a function parameter.
                let table_name = match args.first() {
                    Some(arg) => match self.plan_constant(&arg.value)? {
                        Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(name)), _) => name,
                        _ => {
                            return Err(EngineError::bind(
                                "table() takes a table name string",
                                arg.value.span,
                            ))
                        }
                    },
                    None => return Err(EngineError::bind("table() takes a table name string", span)),
                };
                self.plan_table_name(&Ident {
                    name: table_name,
                    span,
                })
            }
            other => match self.lookup(other).cloned() {
                Some(Binding::Function(def)) => self
                    .call_function(other, &def, args, span, None)?
                    .into_tabular(span),
                Some(_) => Err(EngineError::bind(
                    format!("`{other}` is not a tabular function"),
                    name.span,
                )),
                None if other == crate::watchlist::WATCHLIST_FUNCTION => {
                    self.plan_watchlist(args, span)
                }
                None => Err(EngineError::bind_with_help(
                    format!("unknown table or function `{other}`"),
                    name.span,
                    "Azure-Sentinel parsers (such as ASIM `_Im_*` functions) must be loaded before rules that call them",
                )),
            },
        }
    }

    fn union_of_names(&mut self, names: &[String], span: Span) -> Result<Relation> {
        let mut relations = Vec::new();
        for name in names {
            relations.push(self.plan_table_name(&Ident {
                name: name.clone(),
                span,
            })?);
        }
        operators::union_relations(relations, span)
    }
}

/// The value of a planned expression: a table or a scalar.
pub(crate) enum Bound {
    Tabular(Relation),
    Scalar(Expr),
}

impl Bound {
    fn into_tabular(self, span: Span) -> Result<Relation> {
        match self {
            Bound::Tabular(relation) => Ok(relation),
            Bound::Scalar(_) => Err(EngineError::bind("expected a table, found a scalar", span)),
        }
    }
}

/// `*` wildcard matching of names (`Device*`, `*_CL`).
pub(crate) fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// Every aggregate function name the planner accepts in `summarize`, `make-series` and
/// `top-nested`, sorted: the list it dispatches on (for the coverage table).
pub fn aggregate_function_names() -> Vec<&'static str> {
    sorted(summarize::AGGREGATES)
}

/// Every `evaluate` plugin the planner runs, sorted.
pub fn plugin_names() -> Vec<&'static str> {
    let mut names = expand::PLUGINS.to_vec();
    names.extend(plugins::PLUGINS);
    names.extend(geo_lookup::PLUGINS);
    sorted(&names)
}

/// The scalar functions the planner plans itself rather than the function library, sorted: the
/// window functions, and the calls `plan_call` in `scalar.rs` matches by name.
pub fn planner_scalar_function_names() -> Vec<&'static str> {
    let special = [
        "toscalar",
        "typeof",
        "column_ifexists",
        "columnifexists",
        "ingestion_time",
        "pack_all",
        "bin_auto",
        "column_names_of",
        "row_window_session",
    ];
    let mut names: Vec<&'static str> = window::WINDOW_FUNCTIONS.to_vec();
    names.extend(special);
    sorted(&names)
}

/// The functions returning a table that the planner plans (`materialize(…)`, `table("T")`).
pub fn tabular_function_names() -> Vec<&'static str> {
    vec!["materialize", "table"]
}

fn sorted(names: &[&'static str]) -> Vec<&'static str> {
    let mut names = names.to_vec();
    names.sort_unstable();
    names.dedup();
    names
}
