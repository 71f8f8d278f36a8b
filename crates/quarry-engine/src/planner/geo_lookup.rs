//! The `geo_polygon_lookup` and `geo_line_lookup` plugins: each source row (a longitude and a
//! latitude) is matched with every lookup row whose polygon contains the point, or whose line
//! is within `radius` meters of it. Planned as a nested-loop join whose condition is the geo
//! predicate, so `return_unmatched = true` is the same plan as a left outer join.

use super::{column, column_names, Planner, Relation};
use crate::error::{EngineError, Result};
use crate::functions::{plan_scalar_call, CallContext, PlannedArg};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{JoinType, ScalarValue};
use datafusion::functions::expr_fn::coalesce;
use datafusion::logical_expr::{lit, Expr, LogicalPlanBuilder, Operator};
use quarry_kql::ast::{Arg, Expr as KqlExpr};
use quarry_kql::Span;
use std::collections::BTreeMap;

/// The plugins this file plans (listed with `expand::PLUGINS` by `plugin_names`).
pub(super) const PLUGINS: &[&str] = &["geo_line_lookup", "geo_polygon_lookup"];

/// Which geo lookup plugin is planned.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum GeoLookup {
    /// `geo_polygon_lookup`: the point lies in the lookup polygon.
    Polygon,
    /// `geo_line_lookup`: the point is within a radius of the lookup line.
    Line,
}

impl Planner<'_> {
    /// Plans `input | evaluate geo_polygon_lookup(...)` / `geo_line_lookup(...)`.
    pub(super) fn geo_lookup(
        &mut self,
        input: Relation,
        args: &[Arg],
        kind: GeoLookup,
        span: Span,
    ) -> Result<Relation> {
        let plugin = match kind {
            GeoLookup::Polygon => "geo_polygon_lookup",
            GeoLookup::Line => "geo_line_lookup",
        };
        let mut positional: Vec<&KqlExpr> = Vec::new();
        let mut named: BTreeMap<String, &KqlExpr> = BTreeMap::new();
        for arg in args {
            match &arg.name {
                Some(name) => {
                    named.insert(name.name.to_lowercase(), &arg.value);
                }
                None => positional.push(&arg.value),
            }
        }
        // Positional order after the four leading arguments: [radius,] return_unmatched,
        // lookup_area_radius, return_lookup_key.
        let first_option = if kind == GeoLookup::Line { 5 } else { 4 };
        let option = |index: usize, key: &str| -> Option<&KqlExpr> {
            named
                .get(key)
                .copied()
                .or_else(|| positional.get(index).copied())
        };
        let usage = || {
            EngineError::bind(
                format!(
                    "{plugin}() takes the lookup table, its {} column, the source longitude \
                     and latitude{}",
                    if kind == GeoLookup::Line {
                        "line"
                    } else {
                        "polygon"
                    },
                    if kind == GeoLookup::Line {
                        " and a radius"
                    } else {
                        ""
                    }
                ),
                span,
            )
        };
        let (Some(table), Some(key), Some(lng), Some(lat)) = (
            option(0, "lookuptable"),
            option(1, "lookupkey"),
            option(2, "sourcelongitude"),
            option(3, "sourcelatitude"),
        ) else {
            return Err(usage());
        };
        let return_unmatched = match option(first_option, "return_unmatched") {
            Some(expr) => self.constant_bool(expr, plugin)?,
            None => false,
        };
        let return_key = match option(first_option + 2, "return_lookup_key") {
            Some(expr) => self.constant_bool(expr, plugin)?,
            None => false,
        };
        let lookup = self.plan_tabular(table)?;
        let key_name = match &key.kind {
            quarry_kql::ast::ExprKind::Name { name } => name.name.clone(),
            _ => return Err(usage()),
        };
        let lookup_names = column_names(lookup.schema());
        if !lookup_names.contains(&key_name) {
            return Err(EngineError::bind(
                format!("the lookup table has no column `{key_name}`"),
                key.span,
            ));
        }
        // The lookup side's columns get private names so the join condition and the output
        // can name both sides' columns unqualified.
        let private: Vec<String> = lookup_names
            .iter()
            .map(|_| self.next_alias("geo_lookup"))
            .collect();
        let renamed = lookup.project(
            lookup_names
                .iter()
                .zip(&private)
                .map(|(name, alias)| column(name).alias(alias))
                .collect(),
        )?;
        let key_column = &private[lookup_names
            .iter()
            .position(|n| *n == key_name)
            .unwrap_or(0)];

        let source_schema = input.schema().clone();
        let lng = self.plan_scalar(lng, &source_schema)?;
        let lat = self.plan_scalar(lat, &source_schema)?;
        let lng_type = self
            .type_of(&lng, &source_schema)
            .unwrap_or(DataType::Float64);
        let lat_type = self
            .type_of(&lat, &source_schema)
            .unwrap_or(DataType::Float64);
        let key_type = renamed
            .schema()
            .field_with_unqualified_name(key_column)
            .map(|f| f.data_type().clone())
            .unwrap_or(DataType::LargeUtf8);
        let ctx = CallContext {
            now_nanos: self.now_nanos,
            span,
        };
        let arg = |expr: Expr, data_type: DataType| PlannedArg {
            expr,
            data_type,
            span,
        };
        let condition = match kind {
            GeoLookup::Polygon => plan_scalar_call(
                "geo_point_in_polygon",
                &[
                    arg(lng, lng_type),
                    arg(lat, lat_type),
                    arg(column(key_column), key_type),
                ],
                &ctx,
            )?,
            GeoLookup::Line => {
                let Some(radius) = option(4, "radius") else {
                    return Err(usage());
                };
                let radius = self.plan_constant(radius)?;
                let distance = plan_scalar_call(
                    "geo_distance_point_to_line",
                    &[
                        arg(lng, lng_type),
                        arg(lat, lat_type),
                        arg(column(key_column), key_type),
                    ],
                    &ctx,
                )?;
                Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(
                    Box::new(distance),
                    Operator::LtEq,
                    Box::new(datafusion::logical_expr::cast(radius, DataType::Float64)),
                ))
            }
        };
        let join_type = if return_unmatched {
            JoinType::Left
        } else {
            JoinType::Inner
        };
        let joined = LogicalPlanBuilder::from(input.plan)
            .join_on(renamed, join_type, vec![condition])?
            .build()?;

        let joined_schema = joined.schema().clone();
        let mut exprs: Vec<Expr> = Vec::new();
        let mut used: Vec<String> = column_names(&source_schema);
        for name in &used {
            exprs.push(column(name));
        }
        for (name, alias) in lookup_names.iter().zip(&private) {
            if *name == key_name && !return_key {
                continue;
            }
            let mut output = name.clone();
            let mut n = 0;
            while used.contains(&output) {
                n += 1;
                output = format!("{name}{n}");
            }
            let is_string = joined_schema
                .field_with_unqualified_name(alias)
                .map(|f| matches!(f.data_type(), DataType::Utf8 | DataType::Utf8View))
                .unwrap_or(false);
            let value = if return_unmatched && is_string {
                // A KQL string is never null: an unmatched row reads as "".
                coalesce(vec![
                    column(alias),
                    lit(ScalarValue::Utf8(Some(String::new()))),
                ])
            } else {
                column(alias)
            };
            exprs.push(value.alias(&output));
            used.push(output);
        }
        let plan = super::project_plan(joined, exprs)?;
        Ok(Relation::unordered(plan))
    }

    /// A constant boolean plugin option.
    fn constant_bool(&mut self, expr: &KqlExpr, plugin: &str) -> Result<bool> {
        match self.plan_constant(expr)? {
            Expr::Literal(ScalarValue::Boolean(Some(value)), _) => Ok(value),
            _ => Err(EngineError::bind(
                format!("{plugin}() takes a constant bool here"),
                expr.span,
            )),
        }
    }
}

/// Plans the geo lookup plugin `name` (the `evaluate` dispatcher's single entry point).
pub(super) fn plan_plugin(
    planner: &mut Planner<'_>,
    name: &str,
    input: Relation,
    args: &[Arg],
    span: Span,
) -> Result<Relation> {
    let kind = if name == "geo_line_lookup" {
        GeoLookup::Line
    } else {
        GeoLookup::Polygon
    };
    planner.geo_lookup(input, args, kind, span)
}
