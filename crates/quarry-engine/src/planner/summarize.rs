//! `summarize`: grouping keys, the KQL aggregates, Kusto's default column names, and aggregates
//! inside larger expressions (`sum(x) / count()`).

use super::scalar::derived_name;
use super::{aggregate_plan, column, project_plan, Planner, Relation};
use crate::error::{EngineError, Result};
use crate::functions::{collected, make_set, percentiles};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions::math::expr_fn::isnan;
use datafusion::functions_aggregate::expr_fn::{
    array_agg, avg, count, count_distinct, first_value, max, min, stddev, stddev_pop, sum, var_pop,
    var_sample,
};
use datafusion::functions_aggregate::expr_fn::{bit_and, bit_or, bit_xor, covar_pop, covar_samp};
use datafusion::logical_expr::{cast, lit, when, Expr, ExprFunctionExt, LogicalPlan, SortExpr};
use quarry_kql::ast::{Arg, ColumnExpr, Expr as KqlExpr, ExprKind};
use quarry_kql::Span;

/// Every aggregate function name `summarize` accepts.
pub(crate) const AGGREGATES: &[&str] = &[
    "count",
    "countif",
    "sum",
    "sumif",
    "avg",
    "avgif",
    "min",
    "max",
    "minif",
    "maxif",
    "dcount",
    "dcountif",
    "make_set",
    "makeset",
    "make_set_if",
    "make_list",
    "makelist",
    "make_list_if",
    "take_any",
    "any",
    "arg_max",
    "arg_min",
    "argmax",
    "argmin",
    "stdev",
    "stdevp",
    "variance",
    "variancep",
    "stdevif",
    "stdevpif",
    "varianceif",
    "variancepif",
    "make_list_with_nulls",
    "take_anyif",
    "anyif",
    "percentile",
    "percentiles",
    "make_bag",
    "make_bag_if",
    "covariance",
    "covariancep",
    "covarianceif",
    "covariancepif",
    "binary_all_and",
    "binary_all_or",
    "binary_all_xor",
    "percentilew",
    "percentilesw",
    "percentiles_array",
    "percentilesw_array",
    "tdigest",
    "tdigest_merge",
    "merge_tdigest",
];

/// True for the name of an aggregate function.
pub(crate) fn is_aggregate(name: &str) -> bool {
    AGGREGATES.contains(&name)
}

/// What to do with an aggregate's raw result to give it its KQL type.
enum Finish {
    Keep,
    /// `sum` and the other additive aggregates give 0 over no values, not null.
    ZeroIfNull,
    /// `avg` over no values is NaN.
    NanIfNull,
    /// A sorted list reduced to its nearest-rank percentile.
    Percentile(f64, DataType),
    /// A list of property bags merged into one.
    MergeBags,
    /// DataFusion's unsigned or other integer counts become `long`.
    Long,
    /// A collected list becomes `make_list`'s `dynamic` array of at most this many items.
    List(usize),
    /// More aggregates are computed, and the result combines them with the first.
    Combine(Vec<Expr>, Box<dyn FnOnce(Expr, Vec<Expr>) -> Expr>),
}

/// One aggregate computed by the Aggregate node, under a hidden name.
struct Hidden {
    expr: Expr,
    alias: String,
}

/// The aggregates one `summarize` computes, and the row order its input keeps.
pub(super) struct Aggregation {
    hidden: Vec<Hidden>,
    /// The sort keys of an ordered input (`sort`, `serialize`): `make_list` follows them.
    order: Vec<SortExpr>,
    /// How many original rows each input row stands for, when rows were counted before an
    /// `mv-expand` (see `counted_expand`): `count()` and `countif()` add it up.
    weight: Option<Expr>,
}

impl Aggregation {
    /// The hidden aggregate columns as a schema, so that expressions over them have types
    /// (`gettype(avg(x))`); a column whose type cannot be derived is left out.
    fn schema(&self, input: &DFSchema) -> DFSchema {
        use datafusion::arrow::datatypes::Field;
        use datafusion::logical_expr::ExprSchemable;
        let fields: Vec<Field> = self
            .hidden
            .iter()
            .filter_map(|h| {
                let data_type = h.expr.get_type(input).ok()?;
                Some(Field::new(&h.alias, data_type, true))
            })
            .collect();
        DFSchema::try_from(datafusion::arrow::datatypes::Schema::new(fields))
            .unwrap_or_else(|_| DFSchema::empty())
    }

    /// Adds `expr` as a hidden aggregate column and returns a reference to it.
    pub(super) fn add(&mut self, expr: Expr) -> Expr {
        let alias = format!("__agg{}", self.hidden.len());
        self.hidden.push(Hidden {
            expr,
            alias: alias.clone(),
        });
        column(&alias)
    }
}

impl Planner<'_> {
    pub(super) fn summarize(
        &mut self,
        input: Relation,
        aggregates: &[ColumnExpr],
        by: &[ColumnExpr],
        span: Span,
    ) -> Result<Relation> {
        self.summarize_weighted(input, aggregates, by, span, None)
    }

    /// [`Planner::summarize`] over rows that each stand for `weight` original rows (`None`: one).
    pub(super) fn summarize_weighted(
        &mut self,
        input: Relation,
        aggregates: &[ColumnExpr],
        by: &[ColumnExpr],
        _span: Span,
        weight: Option<Expr>,
    ) -> Result<Relation> {
        let schema = input.schema().clone();
        let mut unnamed = 0;
        let mut group_exprs = Vec::new();
        let mut output = Vec::new();
        let mut key_names = Vec::new();
        for key in by {
            // `by TimeGenerated, bin(TimeGenerated, 1d)`: Kusto names the second key
            // `TimeGenerated1`.
            let name = unique_name(&Self::column_name(key, &mut unnamed)?, &key_names);
            let expr = self.plan_scalar(&key.expr, &schema)?;
            group_exprs.push(expr.alias(&name));
            output.push((column(&name), name.clone()));
            key_names.push(name);
        }
        let mut aggregation = Aggregation {
            hidden: Vec::new(),
            order: if input.ordered {
                input_order(&input.plan)
            } else {
                Vec::new()
            },
            weight,
        };
        for aggregate in aggregates {
            // arg_max / arg_min expand to several columns.
            if let ExprKind::Call { function, args } = &aggregate.expr.kind {
                if let ExprKind::Name { name } = &function.kind {
                    if matches!(
                        name.name.as_str(),
                        "arg_max" | "arg_min" | "argmax" | "argmin"
                    ) {
                        self.arg_extreme(
                            name.name.contains("max"),
                            args,
                            aggregate,
                            &schema,
                            &key_names,
                            &mut aggregation,
                            &mut output,
                        )?;
                        continue;
                    }
                }
            }
            if let ExprKind::Call { function, args } = &aggregate.expr.kind {
                if let ExprKind::Name { name } = &function.kind {
                    let weighted = name.name == "percentilesw";
                    let percent_args = 2 + weighted as usize;
                    if matches!(name.name.as_str(), "percentiles" | "percentilesw")
                        && (args.len() > percent_args || aggregate.names.len() > 1)
                    {
                        self.percentile_columns(
                            weighted,
                            args,
                            aggregate,
                            &schema,
                            &mut aggregation,
                            &mut output,
                        )?;
                        continue;
                    }
                }
            }
            if let Some(args) = several_take_any_args(aggregate) {
                // `take_any(a, b)`: one value of each, from the same row, named after them.
                let values = args
                    .iter()
                    .map(|arg| self.plan_scalar(&arg.value, &schema))
                    .collect::<Result<Vec<_>>>()?;
                let names = take_any_names(aggregate, args, &mut unnamed)?;
                for (value, name) in values.into_iter().zip(names) {
                    output.push((aggregation.add(first_value(value, Vec::new())), name));
                }
                continue;
            }
            let name = match aggregate.names.as_slice() {
                [name] => name.name.clone(),
                [] => default_aggregate_name(&aggregate.expr).unwrap_or_else(|| {
                    unnamed += 1;
                    format!("Column{unnamed}")
                }),
                _ => {
                    return Err(EngineError::unsupported(
                        "assigning a tuple of columns",
                        aggregate.span,
                    ))
                }
            };
            let value = self.plan_aggregate_expr(&aggregate.expr, &schema, &mut aggregation)?;
            output.push((value, name));
        }
        // Kusto makes clashing names unique with a counter: `countif_`, `countif_1`, `v`, `v1`.
        let mut used: Vec<String> = Vec::new();
        let output: Vec<Expr> = output
            .into_iter()
            .map(|(expr, name)| {
                let unique = unique_name(&name, &used);
                used.push(unique.clone());
                if unique == name && matches!(&expr, Expr::Column(c) if c.name == name) {
                    expr
                } else {
                    expr.alias(unique)
                }
            })
            .collect();
        count_distinct_strings_by_key(&mut aggregation.hidden, &schema);
        let aggregate_exprs: Vec<Expr> = aggregation
            .hidden
            .iter()
            .map(|h| h.expr.clone().alias(&h.alias))
            .collect();
        let aggregated = aggregate_plan(input.plan, group_exprs, aggregate_exprs)?;
        let plan = project_plan(aggregated, output)?;
        Ok(Relation::unordered(plan))
    }

    /// Plans an expression over aggregates: each aggregate call becomes a hidden aggregate column
    /// and the expression is computed over those columns after grouping.
    fn plan_aggregate_expr(
        &mut self,
        expr: &KqlExpr,
        schema: &DFSchema,
        aggregation: &mut Aggregation,
    ) -> Result<Expr> {
        match &expr.kind {
            ExprKind::Call { function, args } => {
                if let ExprKind::Name { name } = &function.kind {
                    if let Some(weighted) =
                        self.weighted_count(&name.name, args, schema, aggregation)?
                    {
                        return Ok(weighted);
                    }
                    if is_aggregate(&name.name) {
                        let (aggregate, finish) = self.plan_aggregate(
                            &name.name,
                            args,
                            schema,
                            &aggregation.order,
                            expr.span,
                        )?;
                        let reference = aggregation.add(aggregate);
                        return Ok(match finish {
                            Finish::Keep => reference,
                            Finish::ZeroIfNull => coalesce(vec![reference, lit(0i64)]),
                            Finish::NanIfNull => {
                                coalesce(vec![cast(reference, DataType::Float64), lit(f64::NAN)])
                            }
                            Finish::Percentile(percent, element) => {
                                percentiles::weighted_percentiles(
                                    reference,
                                    None,
                                    &[percent],
                                    element,
                                    percentiles::PercentileOutput::Single(0),
                                )
                            }
                            Finish::MergeBags => collected::merge_bags(reference),
                            Finish::Long => cast(reference, DataType::Int64),
                            Finish::List(max_size) => collected::finish_list(reference, max_size),
                            Finish::Combine(extra, combine) => {
                                let extra = extra.into_iter().map(|e| aggregation.add(e)).collect();
                                combine(reference, extra)
                            }
                        });
                    }
                }
                // A scalar function over aggregates: plan it with the aggregates substituted.
                let mut rewritten = Vec::new();
                let mut substituted = Vec::new();
                for (index, arg) in args.iter().enumerate() {
                    let planned = self.plan_aggregate_expr(&arg.value, schema, aggregation)?;
                    let name = format!("__arg{index}_{}", aggregation.hidden.len());
                    substituted.push((name.clone(), planned));
                    rewritten.push(Arg {
                        name: arg.name.clone(),
                        value: KqlExpr::new(
                            ExprKind::Name {
                                name: quarry_kql::ast::Ident {
                                    name,
                                    span: arg.value.span,
                                },
                            },
                            arg.value.span,
                        ),
                    });
                }
                self.with_substitutions(
                    substituted,
                    aggregation.schema(schema),
                    |planner, post_schema| {
                        planner.plan_scalar(
                            &KqlExpr::new(
                                ExprKind::Call {
                                    function: function.clone(),
                                    args: rewritten.clone(),
                                },
                                expr.span,
                            ),
                            post_schema,
                        )
                    },
                )
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.plan_aggregate_expr(left, schema, aggregation)?;
                let r = self.plan_aggregate_expr(right, schema, aggregation)?;
                let names = ("__l".to_string(), "__r".to_string());
                let substituted = vec![(names.0.clone(), l), (names.1.clone(), r)];
                let name_expr = |n: &str, span| {
                    Box::new(KqlExpr::new(
                        ExprKind::Name {
                            name: quarry_kql::ast::Ident {
                                name: n.to_string(),
                                span,
                            },
                        },
                        span,
                    ))
                };
                let rewritten = KqlExpr::new(
                    ExprKind::Binary {
                        op: *op,
                        left: name_expr(&names.0, left.span),
                        right: name_expr(&names.1, right.span),
                    },
                    expr.span,
                );
                self.with_substitutions(
                    substituted,
                    aggregation.schema(schema),
                    |planner, post_schema| planner.plan_scalar(&rewritten, post_schema),
                )
            }
            ExprKind::Paren { inner } => self.plan_aggregate_expr(inner, schema, aggregation),
            ExprKind::Literal { .. } => self.plan_constant(expr),
            _ => Err(EngineError::bind(
                "a summarize column must be an aggregate such as count() or sum(x)",
                expr.span,
            )),
        }
    }

    /// `count()` or `countif(p)` over rows that stand for `aggregation.weight` rows each: the
    /// sum of the weights (of the rows where `p` holds); `None` for other functions or when
    /// rows are not weighted.
    fn weighted_count(
        &mut self,
        name: &str,
        args: &[Arg],
        schema: &DFSchema,
        aggregation: &mut Aggregation,
    ) -> Result<Option<Expr>> {
        let Some(weight) = aggregation.weight.clone() else {
            return Ok(None);
        };
        let total = match (name, args) {
            ("count", [] | [_]) => sum(weight),
            ("countif", [predicate]) => {
                let predicate = self.plan_scalar(&predicate.value, schema)?;
                sum(weight).filter(predicate).build()?
            }
            // Other arities are reported by `plan_aggregate`.
            _ => return Ok(None),
        };
        Ok(Some(coalesce(vec![aggregation.add(total), lit(0i64)])))
    }

    /// A constant number such as a percentile's `50`.
    fn constant_real(&mut self, expr: &KqlExpr) -> Result<f64> {
        let planned = self.plan_constant(expr)?;
        match super::sources::constant_value(&planned).map(|v| v.cast_to(&DataType::Float64)) {
            Some(Ok(ScalarValue::Float64(Some(value)))) => Ok(value),
            _ => Err(EngineError::bind("expected a constant number", expr.span)),
        }
    }

    /// The optional `max_size` argument of `make_list`/`make_set` at `index`.
    fn max_size_arg(&mut self, args: &[Arg], index: usize) -> Result<usize> {
        let Some(arg) = args.get(index) else {
            return Ok(make_set::MAX_COLLECTED);
        };
        let size = self.constant_real(&arg.value)?;
        if size < 1.0 {
            return Err(EngineError::bind(
                "max_size must be a positive number",
                arg.value.span,
            ));
        }
        Ok((size as usize).min(make_set::MAX_COLLECTED))
    }

    /// Runs `plan` with `substitutions` bound as scalar names, so that already planned
    /// expressions can be combined through the ordinary scalar planner.
    fn with_substitutions(
        &mut self,
        substitutions: Vec<(String, Expr)>,
        aggregated: DFSchema,
        plan: impl FnOnce(&mut Self, &DFSchema) -> Result<Expr>,
    ) -> Result<Expr> {
        let scope = substitutions
            .into_iter()
            .map(|(name, expr)| (name, super::Binding::Scalar(expr)))
            .collect();
        self.scopes.push(scope);
        let result = plan(self, &aggregated);
        self.scopes.pop();
        result
    }

    fn plan_aggregate(
        &mut self,
        name: &str,
        args: &[Arg],
        schema: &DFSchema,
        order: &[SortExpr],
        span: Span,
    ) -> Result<(Expr, Finish)> {
        let mut planned = Vec::new();
        for arg in args {
            if matches!(arg.value.kind, ExprKind::Star) {
                planned.push(lit(1));
            } else {
                planned.push(self.plan_scalar(&arg.value, schema)?);
            }
        }
        let arity = |min: usize, max: usize| -> Result<()> {
            if (min..=max).contains(&planned.len()) {
                Ok(())
            } else {
                Err(EngineError::bind(
                    format!(
                        "{name}() takes {min} to {max} argument(s), not {}",
                        planned.len()
                    ),
                    span,
                ))
            }
        };
        let first = || planned[0].clone();
        let predicate = |i: usize| planned[i].clone();
        Ok(match name {
            // `count(x)` counts rows, nulls included, as Kusto does.
            "count" => {
                arity(0, 1)?;
                (count(lit(1)), Finish::Keep)
            }
            "percentile" | "percentiles" => {
                arity(2, 2)?;
                let percent = self.constant_real(&args[1].value)?;
                let element = self
                    .type_of(&planned[0], schema)
                    .unwrap_or(DataType::Float64);
                let value = first();
                (
                    collected_by_value(&value, value.clone())?,
                    Finish::Percentile(percent, element),
                )
            }
            "percentilew" | "percentilesw" | "percentiles_array" | "percentilesw_array"
            | "tdigest" => {
                let weighted = name.contains('w') && name != "tdigest";
                let first_percent = 1 + weighted as usize;
                if name == "tdigest" {
                    arity(1, 2)?;
                } else {
                    arity(first_percent + 1, usize::MAX)?;
                }
                let mut percents = Vec::new();
                let percent_args = if name == "tdigest" {
                    &[][..]
                } else {
                    &args[first_percent..]
                };
                for arg in percent_args {
                    let planned = self.plan_constant(&arg.value)?;
                    percents.extend(percentiles::constant_percents(&planned).ok_or_else(|| {
                        EngineError::bind("expected a constant percentile", arg.value.span)
                    })?);
                }
                let element = self
                    .type_of(&planned[0], schema)
                    .unwrap_or(DataType::Float64);
                let value = first();
                let values = collected_by_value(&value, value.clone())?;
                let weights = if weighted || (name == "tdigest" && planned.len() == 2) {
                    vec![collected_by_value(&value, predicate(1))?]
                } else {
                    Vec::new()
                };
                let output = if name.ends_with("_array") {
                    percentiles::PercentileOutput::Array
                } else {
                    percentiles::PercentileOutput::Single(0)
                };
                let tdigest = name == "tdigest";
                (
                    values,
                    Finish::Combine(
                        weights,
                        Box::new(move |values, weights| {
                            let weights = weights.into_iter().next();
                            if tdigest {
                                percentiles::digest(values, weights)
                            } else {
                                percentiles::weighted_percentiles(
                                    values, weights, &percents, element, output,
                                )
                            }
                        }),
                    ),
                )
            }
            "tdigest_merge" | "merge_tdigest" => {
                arity(1, 1)?;
                let value = first();
                (
                    array_agg(value.clone())
                        .filter(value.is_not_null())
                        .build()?,
                    Finish::Combine(
                        Vec::new(),
                        Box::new(|states, _| percentiles::merge_digests(vec![states])),
                    ),
                )
            }
            "covariance" | "covariancep" => {
                arity(2, 2)?;
                let (x, y) = (
                    cast(first(), DataType::Float64),
                    cast(predicate(1), DataType::Float64),
                );
                let aggregate = if name == "covariance" {
                    covar_samp(x, y)
                } else {
                    covar_pop(x, y)
                };
                (aggregate, Finish::ZeroIfNull)
            }
            "covarianceif" | "covariancepif" => {
                arity(3, 3)?;
                let (x, y) = (
                    cast(first(), DataType::Float64),
                    cast(predicate(1), DataType::Float64),
                );
                let aggregate = if name == "covarianceif" {
                    covar_samp(x, y)
                } else {
                    covar_pop(x, y)
                };
                (aggregate.filter(predicate(2)).build()?, Finish::ZeroIfNull)
            }
            "binary_all_and" | "binary_all_or" | "binary_all_xor" => {
                arity(1, 1)?;
                let aggregate = match name {
                    "binary_all_and" => bit_and(first()),
                    "binary_all_or" => bit_or(first()),
                    _ => bit_xor(first()),
                };
                (aggregate, Finish::Keep)
            }
            "make_bag" | "make_bag_if" => {
                arity(1, 3)?;
                let value = first();
                let mut condition = value.clone().is_not_null();
                if name == "make_bag_if" && planned.len() >= 2 {
                    condition = condition.and(predicate(1));
                }
                (
                    array_agg(value).filter(condition).build()?,
                    Finish::MergeBags,
                )
            }
            "countif" => {
                arity(1, 1)?;
                (count(lit(1)).filter(first()).build()?, Finish::Keep)
            }
            "sum" => {
                arity(1, 1)?;
                (sum(first()), Finish::ZeroIfNull)
            }
            "sumif" => {
                arity(2, 2)?;
                (
                    sum(first()).filter(predicate(1)).build()?,
                    Finish::ZeroIfNull,
                )
            }
            "avg"
                if planned
                    .first()
                    .and_then(|p| self.type_of(p, schema))
                    .is_some_and(|t| t.is_integer()) =>
            {
                arity(1, 1)?;
                // Kusto sums integers as a wrapping long before dividing.
                let value = first();
                (
                    sum(cast(value.clone(), DataType::Int64)),
                    Finish::Combine(
                        vec![count(value)],
                        Box::new(|total, counted| {
                            coalesce(vec![
                                cast(total, DataType::Float64)
                                    / cast(counted[0].clone(), DataType::Float64),
                                lit(f64::NAN),
                            ])
                        }),
                    ),
                )
            }
            "avg" => {
                arity(1, 1)?;
                (avg(first()), Finish::NanIfNull)
            }
            "avgif" => {
                arity(2, 2)?;
                (
                    avg(first()).filter(predicate(1)).build()?,
                    Finish::NanIfNull,
                )
            }
            "min" | "max"
                if planned.first().and_then(|p| self.type_of(p, schema))
                    == Some(DataType::Float64) =>
            {
                arity(1, 1)?;
                // Kusto's min and max of reals are NaN when any value is NaN. In the total
                // order NaN sorts last, so the maximum is the first value in descending order.
                let value = first();
                let largest = first_value(value.clone(), vec![value.clone().sort(false, false)]);
                if name == "max" {
                    (largest, Finish::Keep)
                } else {
                    let smallest = first_value(value.clone(), vec![value.sort(true, false)]);
                    (
                        smallest,
                        Finish::Combine(
                            vec![largest],
                            Box::new(|smallest, largest| {
                                let largest = largest[0].clone();
                                when(isnan(largest.clone()), largest)
                                    .otherwise(smallest)
                                    .unwrap_or_else(|e| lit(e.to_string()))
                            }),
                        ),
                    )
                }
            }
            "min" => {
                arity(1, 1)?;
                (min(first()), Finish::Keep)
            }
            "max" => {
                arity(1, 1)?;
                (max(first()), Finish::Keep)
            }
            "minif" => {
                arity(2, 2)?;
                (min(first()).filter(predicate(1)).build()?, Finish::Keep)
            }
            "maxif" => {
                arity(2, 2)?;
                (max(first()).filter(predicate(1)).build()?, Finish::Keep)
            }
            "dcount" => {
                arity(1, 2)?;
                (count_distinct(first()), Finish::Long)
            }
            "dcountif" => {
                arity(2, 3)?;
                (
                    count_distinct(first()).filter(predicate(1)).build()?,
                    Finish::Long,
                )
            }
            "make_set" | "makeset" | "make_set_if" => {
                let conditional = name == "make_set_if";
                arity(1 + conditional as usize, 2 + conditional as usize)?;
                let max_size = self.max_size_arg(args, 1 + conditional as usize)?;
                let aggregate = make_set::make_set(first(), max_size);
                let aggregate = if conditional {
                    aggregate.filter(predicate(1)).build()?
                } else {
                    aggregate
                };
                (aggregate, Finish::Keep)
            }
            "make_list" | "makelist" | "make_list_if" | "make_list_with_nulls" => {
                let conditional = name == "make_list_if";
                arity(1 + conditional as usize, 2 + conditional as usize)?;
                let max_size = self.max_size_arg(args, 1 + conditional as usize)?;
                let value = first();
                // A dynamic null is an item of the list; only scalar nulls are skipped.
                let keeps_nulls = name == "make_list_with_nulls"
                    || self.type_of(&value, schema) == Some(DataType::LargeUtf8);
                let mut condition = (!keeps_nulls).then(|| value.clone().is_not_null());
                if conditional {
                    condition = Some(match condition {
                        Some(c) => c.and(predicate(1)),
                        None => predicate(1),
                    });
                }
                let mut aggregate = array_agg(value).order_by(order.to_vec());
                if let Some(condition) = condition {
                    aggregate = aggregate.filter(condition);
                }
                (aggregate.build()?, Finish::List(max_size))
            }
            "take_any" | "any" => {
                arity(1, 1)?;
                (first_value(first(), Vec::new()), Finish::Keep)
            }
            "stdev" => {
                arity(1, 1)?;
                (stddev(first()), Finish::ZeroIfNull)
            }
            "stdevp" => {
                arity(1, 1)?;
                (stddev_pop(first()), Finish::ZeroIfNull)
            }
            "variance" => {
                arity(1, 1)?;
                (var_sample(first()), Finish::ZeroIfNull)
            }
            "variancep" => {
                arity(1, 1)?;
                (var_pop(first()), Finish::ZeroIfNull)
            }
            "stdevif" => {
                arity(2, 2)?;
                (
                    stddev(first()).filter(predicate(1)).build()?,
                    Finish::ZeroIfNull,
                )
            }
            "stdevpif" => {
                arity(2, 2)?;
                (
                    stddev_pop(first()).filter(predicate(1)).build()?,
                    Finish::ZeroIfNull,
                )
            }
            "varianceif" => {
                arity(2, 2)?;
                (
                    var_sample(first()).filter(predicate(1)).build()?,
                    Finish::ZeroIfNull,
                )
            }
            "variancepif" => {
                arity(2, 2)?;
                (
                    var_pop(first()).filter(predicate(1)).build()?,
                    Finish::ZeroIfNull,
                )
            }
            "take_anyif" | "anyif" => {
                arity(2, 2)?;
                (
                    first_value(first(), Vec::new())
                        .filter(predicate(1))
                        .build()?,
                    Finish::Keep,
                )
            }
            _ => {
                return Err(EngineError::unsupported(
                    format!("aggregate {name}() here"),
                    span,
                ))
            }
        })
    }
}

/// `item` collected over the rows where `value` is present, in ascending order of `value`: the
/// input of the percentile finishing steps.
pub(super) fn collected_by_value(value: &Expr, item: Expr) -> Result<Expr> {
    Ok(array_agg(item)
        .order_by(vec![value.clone().sort(true, false)])
        .filter(value.clone().is_not_null())
        .build()?)
}

/// The sort keys that order `plan`'s rows: those of the `sort` it was made from, when every key
/// column is still there unchanged; empty when the order cannot be traced.
fn input_order(plan: &LogicalPlan) -> Vec<SortExpr> {
    match plan {
        LogicalPlan::Sort(sort) => sort.expr.clone(),
        LogicalPlan::Filter(filter) => input_order(&filter.input),
        LogicalPlan::Limit(limit) => input_order(&limit.input),
        LogicalPlan::SubqueryAlias(alias) => input_order(&alias.input)
            .into_iter()
            .filter_map(|key| match &key.expr {
                Expr::Column(c) => Some(SortExpr {
                    expr: column(&c.name),
                    ..key
                }),
                _ => None,
            })
            .collect(),
        LogicalPlan::Projection(projection) => {
            let inner = input_order(&projection.input);
            let passes_through = |name: &str| {
                projection.expr.iter().any(|e| match e {
                    Expr::Column(c) => c.name == name,
                    _ => false,
                })
            };
            let kept = inner.iter().all(|key| match &key.expr {
                Expr::Column(c) => passes_through(&c.name),
                _ => false,
            });
            if kept {
                inner
            } else {
                Vec::new()
            }
        }
        _ => Vec::new(),
    }
}

/// `name`, or `name1`, `name2`, … if it is taken.
/// The arguments of `take_any(a, b, …)` with more than one argument.
fn several_take_any_args(aggregate: &ColumnExpr) -> Option<&[Arg]> {
    let ExprKind::Call { function, args } = &aggregate.expr.kind else {
        return None;
    };
    let ExprKind::Name { name } = &function.kind else {
        return None;
    };
    (matches!(name.name.as_str(), "take_any" | "any") && args.len() > 1).then_some(args)
}

/// The columns of `take_any(a, b, …)`: the names given as a tuple, or each argument's own name.
fn take_any_names(
    aggregate: &ColumnExpr,
    args: &[Arg],
    unnamed: &mut usize,
) -> Result<Vec<String>> {
    match aggregate.names.as_slice() {
        [] => Ok(args
            .iter()
            .map(|arg| {
                derived_name(&arg.value).unwrap_or_else(|| {
                    *unnamed += 1;
                    format!("Column{unnamed}")
                })
            })
            .collect()),
        names if names.len() == args.len() => Ok(names.iter().map(|n| n.name.clone()).collect()),
        names => Err(EngineError::bind(
            format!(
                "{} names for the {} values of take_any()",
                names.len(),
                args.len()
            ),
            aggregate.span,
        )),
    }
}

pub(super) fn unique_name(name: &str, used: &[String]) -> String {
    if !used.iter().any(|u| u == name) {
        return name.to_string();
    }
    (1..)
        .map(|n| format!("{name}{n}"))
        .find(|candidate| !used.contains(candidate))
        .unwrap_or_else(|| name.to_string())
}

/// The value a `count(DISTINCT value)` counts, if `expr` is one.
fn distinct_count_arg(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::AggregateFunction(f) if f.params.distinct && f.func.name() == "count" => {
            f.params.args.first()
        }
        _ => None,
    }
}

/// When one summarize counts the distinct values of two or more different expressions (which
/// [`crate::distinct_to_group_by`] cannot turn into group-bys), the string ones count 64-bit
/// keys of their values instead (see [`crate::functions::misc::distinct_key`]).
fn count_distinct_strings_by_key(hidden: &mut [Hidden], input: &DFSchema) {
    use datafusion::logical_expr::ExprSchemable;
    let mut different: Vec<&Expr> = Vec::new();
    for arg in hidden.iter().filter_map(|h| distinct_count_arg(&h.expr)) {
        if !different.contains(&arg) {
            different.push(arg);
        }
    }
    if different.len() < 2 {
        return;
    }
    for h in hidden.iter_mut() {
        let Some(arg) = distinct_count_arg(&h.expr) else {
            continue;
        };
        let text = matches!(
            arg.get_type(input),
            Ok(DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
        );
        if !text || matches!(arg, Expr::Literal(..)) {
            continue;
        }
        let key = crate::functions::misc::distinct_key(arg.clone());
        if let Expr::AggregateFunction(f) = &mut h.expr {
            f.params.args[0] = key;
        }
    }
}

/// Kusto's default name for an unnamed aggregate column: `count_`, `sum_x`, `set_x`, `dcount_x`, …
fn default_aggregate_name(expr: &KqlExpr) -> Option<String> {
    let ExprKind::Call { function, args } = &expr.kind else {
        return None;
    };
    let ExprKind::Name { name } = &function.kind else {
        return None;
    };
    // A conversion around an aggregate (`tostring(make_set(x))`) keeps the aggregate's name.
    if name.name.starts_with("to") && !is_aggregate(&name.name) {
        if let [only] = args.as_slice() {
            return default_aggregate_name(&only.value);
        }
    }
    let argument = args
        .first()
        .and_then(|a| derived_name(&a.value))
        .unwrap_or_default();
    let prefix = match name.name.as_str() {
        "count" if argument.is_empty() => return Some("count_".to_string()),
        "countif" => "countif",
        "make_set" | "makeset" | "make_set_if" => "set",
        "make_list" | "makelist" | "make_list_if" | "make_list_with_nulls" => "list",
        // take_any keeps its column's name; the deprecated any() prefixes `any_`.
        "take_any" | "take_anyif" if !argument.is_empty() => return Some(argument),
        "any" | "anyif" | "take_any" | "take_anyif" => "any",
        "make_bag" | "make_bag_if" => "bag",
        "covariance" | "covariancep" | "covarianceif" | "covariancepif" => {
            let second = args
                .get(1)
                .and_then(|a| derived_name(&a.value))
                .unwrap_or_default();
            return Some(format!("{}_{argument}_{second}", name.name));
        }
        "percentiles_array" | "percentilesw_array" => {
            return Some(format!("percentiles_{argument}"));
        }
        "tdigest" | "tdigest_merge" | "merge_tdigest" => "tdigest",
        "percentilew" | "percentilesw" => {
            let percent = args
                .get(2)
                .map(|a| quarry_kql::printer::print_expr(&a.value).replace('.', "_"))
                .unwrap_or_default();
            return Some(format!("percentile_{argument}_{percent}"));
        }
        "percentile" | "percentiles" => {
            let percent = args
                .get(1)
                .map(|a| quarry_kql::printer::print_expr(&a.value).replace('.', "_"))
                .unwrap_or_default();
            return Some(format!("percentile_{argument}_{percent}"));
        }
        other if is_aggregate(other) => other,
        _ => return None,
    };
    Some(format!("{prefix}_{argument}"))
}
