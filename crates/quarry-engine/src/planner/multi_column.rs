//! Aggregates of `summarize` that give several columns: `arg_max`/`arg_min` (the extreme row's
//! columns) and `percentiles`/`percentilesw` with several percentiles.

use super::scalar::derived_name;
use super::summarize::{collected_by_value, Aggregation};
use super::{column, Planner};
use crate::error::{EngineError, Result};
use crate::functions::percentiles;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::functions_aggregate::expr_fn::{first_value, max, min};
use datafusion::logical_expr::Expr;
use quarry_kql::ast::{Arg, ColumnExpr, ExprKind};

impl Planner<'_> {
    /// `arg_max(by, cols…)` / `arg_min`: the row with the extreme `by`, as several columns.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn arg_extreme(
        &mut self,
        maximum: bool,
        args: &[Arg],
        aggregate: &ColumnExpr,
        schema: &DFSchema,
        key_names: &[String],
        aggregation: &mut Aggregation,
        output: &mut Vec<(Expr, String)>,
    ) -> Result<()> {
        let Some((by, rest)) = args.split_first() else {
            return Err(EngineError::bind(
                "arg_max() needs an expression to maximise",
                aggregate.span,
            ));
        };
        let by_expr = self.plan_scalar(&by.value, schema)?;
        let by_name = match aggregate.names.as_slice() {
            [name, ..] => name.name.clone(),
            [] => derived_name(&by.value).unwrap_or_else(|| {
                if maximum {
                    "max_".into()
                } else {
                    "min_".into()
                }
            }),
        };
        let is_real = self.type_of(&by_expr, schema) == Some(DataType::Float64);
        let extreme = if is_real {
            // Kusto's extreme of reals is NaN when any value is NaN (the total order's last).
            first_value(by_expr.clone(), vec![by_expr.clone().sort(!maximum, false)])
        } else if maximum {
            max(by_expr.clone())
        } else {
            min(by_expr.clone())
        };
        let reference = aggregation.add(extreme);
        output.push((reference, by_name.clone()));
        let order = vec![by_expr.sort(!maximum, false)];
        let mut columns: Vec<(String, Expr)> = Vec::new();
        for arg in rest {
            if matches!(arg.value.kind, ExprKind::Star) {
                for field in schema.fields() {
                    let name = field.name();
                    if *name != by_name
                        && !key_names.contains(name)
                        && !columns.iter().any(|(n, _)| n == name)
                    {
                        columns.push((name.clone(), column(name)));
                    }
                }
            } else {
                let name = match &arg.name {
                    Some(name) => name.name.clone(),
                    None => derived_name(&arg.value)
                        .unwrap_or_else(|| format!("Column{}", columns.len() + 1)),
                };
                columns.push((name, self.plan_scalar(&arg.value, schema)?));
            }
        }
        // `(t, a, b) = arg_max(T, A, B)` names the extreme and then each column.
        if aggregate.names.len() > 1 {
            if aggregate.names.len() != columns.len() + 1 {
                return Err(EngineError::bind(
                    format!(
                        "{} names for the {} columns arg_max() gives",
                        aggregate.names.len(),
                        columns.len() + 1
                    ),
                    aggregate.span,
                ));
            }
            for ((name, _), given) in columns.iter_mut().zip(&aggregate.names[1..]) {
                *name = given.name.clone();
            }
        }
        for (name, expr) in columns {
            let reference = aggregation.add(first_value(expr, order.clone()));
            output.push((reference, name));
        }
        Ok(())
    }

    /// `percentiles(x, p1, p2, …)` / `percentilesw(x, w, p1, …)`: one column per percentile,
    /// named `percentile_x_p1`, … unless the aggregate names them.
    pub(super) fn percentile_columns(
        &mut self,
        weighted: bool,
        args: &[Arg],
        aggregate: &ColumnExpr,
        schema: &DFSchema,
        aggregation: &mut Aggregation,
        output: &mut Vec<(Expr, String)>,
    ) -> Result<()> {
        let first_percent = 1 + weighted as usize;
        if args.len() <= first_percent {
            return Err(EngineError::bind(
                "percentiles() needs a value and at least one percentile",
                aggregate.span,
            ));
        }
        let value = self.plan_scalar(&args[0].value, schema)?;
        let weight = if weighted {
            Some(self.plan_scalar(&args[1].value, schema)?)
        } else {
            None
        };
        let mut percents = Vec::new();
        let mut labels = Vec::new();
        for arg in &args[first_percent..] {
            let planned = self.plan_constant(&arg.value)?;
            let requested = percentiles::constant_percents(&planned).ok_or_else(|| {
                EngineError::bind("expected a constant percentile", arg.value.span)
            })?;
            for percent in &requested {
                labels.push(if requested.len() == 1 {
                    quarry_kql::printer::print_expr(&arg.value)
                } else {
                    percent.to_string()
                });
            }
            percents.extend(requested);
        }
        let names: Vec<String> = if aggregate.names.len() == percents.len() {
            aggregate.names.iter().map(|n| n.name.clone()).collect()
        } else if aggregate.names.len() > 1 {
            return Err(EngineError::bind(
                format!(
                    "{} names for {} percentiles",
                    aggregate.names.len(),
                    percents.len()
                ),
                aggregate.span,
            ));
        } else {
            let argument = derived_name(&args[0].value).unwrap_or_default();
            labels
                .iter()
                .map(|label| format!("percentile_{argument}_{}", label.replace('.', "_")))
                .collect()
        };
        let element = self.type_of(&value, schema).unwrap_or(DataType::Float64);
        let values = aggregation.add(collected_by_value(&value, value.clone())?);
        let weights = match weight {
            Some(w) => Some(aggregation.add(collected_by_value(&value, w)?)),
            None => None,
        };
        for (index, name) in names.into_iter().enumerate() {
            let picked = percentiles::weighted_percentiles(
                values.clone(),
                weights.clone(),
                &percents,
                element.clone(),
                percentiles::PercentileOutput::Single(index),
            );
            output.push((picked, name));
        }
        Ok(())
    }
}
