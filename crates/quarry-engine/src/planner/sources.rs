//! Operators that start a pipeline: `print`, `range`, `datatable`, `union`.

use super::{Planner, Relation};
use crate::error::{EngineError, Result};
use crate::types::{arrow_type, KustoType};
use datafusion::arrow::array::new_empty_array;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder};
use quarry_kql::ast::{ColumnDecl, Expr as KqlExpr, Operator, OperatorKind};
use quarry_kql::Span;
use std::sync::Arc;

/// Most rows `range` materialises.
const MAX_RANGE_ROWS: usize = 100_000_000;

/// The constant value of a planned expression, if it is one (constant arithmetic and calls are
/// folded, as in `range x from 0 to 24 * 10 - 1 step 1`).
pub(super) fn constant_value(expr: &Expr) -> Option<ScalarValue> {
    match expr {
        Expr::Literal(value, _) => Some(value.clone()),
        Expr::Negative(inner) => match constant_value(inner)? {
            ScalarValue::DurationNanosecond(value) => {
                Some(ScalarValue::DurationNanosecond(value.map(|v| -v)))
            }
            other => other.arithmetic_negate().ok(),
        },
        Expr::Alias(alias) => constant_value(&alias.expr),
        Expr::Cast(cast) => constant_value(&cast.expr)?
            .cast_to(cast.field.data_type())
            .ok(),
        other => {
            use datafusion::optimizer::simplify_expressions::{ExprSimplifier, SimplifyContext};
            match ExprSimplifier::new(SimplifyContext::default())
                .simplify(other.clone())
                .ok()?
            {
                Expr::Literal(value, _) => Some(value),
                _ => None,
            }
        }
    }
}

impl Planner<'_> {
    pub(super) fn plan_source(&mut self, operator: &Operator) -> Result<Relation> {
        let span = operator.span;
        match &operator.kind {
            OperatorKind::Print { columns } => {
                let empty = datafusion::common::DFSchema::empty();
                let mut exprs = Vec::new();
                let columns = super::multi_value::expand_multi_value(columns);
                for (index, column) in columns.iter().enumerate() {
                    let name = match column.names.as_slice() {
                        [name] => name.name.clone(),
                        [] => format!("print_{index}"),
                        _ => {
                            return Err(EngineError::unsupported(
                                "assigning a tuple of columns",
                                column.span,
                            ))
                        }
                    };
                    exprs.push(self.plan_scalar(&column.expr, &empty)?.alias(name));
                }
                let plan = LogicalPlanBuilder::empty(true).project(exprs)?.build()?;
                Ok(Relation::unordered(plan))
            }
            OperatorKind::Range {
                name,
                from,
                to,
                step,
            } => self.range(&name.name, from, to, step, span),
            OperatorKind::DataTable { columns, values } => self.datatable(columns, values, span),
            OperatorKind::Union { params, tables } => self.union(None, params, tables, span),
            OperatorKind::ExternalData {
                columns,
                uris,
                properties,
            } => self.external_data(columns, uris, properties, span),
            OperatorKind::Search { .. } => self.search_source(operator),
            OperatorKind::Find { .. } => Err(EngineError::unsupported("operator find", span)),
            OperatorKind::Evaluate { .. } => {
                Err(EngineError::unsupported("operator evaluate", span))
            }
            _ => Err(EngineError::bind(
                "this operator cannot start a query",
                span,
            )),
        }
    }

    fn constant(&mut self, expr: &KqlExpr) -> Result<ScalarValue> {
        let planned = self.plan_constant(expr)?;
        constant_value(&planned)
            .ok_or_else(|| EngineError::bind("expected a constant value", expr.span))
    }

    fn range(
        &mut self,
        name: &str,
        from: &KqlExpr,
        to: &KqlExpr,
        step: &KqlExpr,
        span: Span,
    ) -> Result<Relation> {
        let from = self.constant(from)?;
        let to = self.constant(to)?;
        let step = self.constant(step)?;
        let (data_type, start, end, increment) = match (&from, &to, &step) {
            (
                ScalarValue::TimestampNanosecond(Some(a), _),
                ScalarValue::TimestampNanosecond(Some(b), _),
                ScalarValue::DurationNanosecond(Some(s)),
            ) => (
                arrow_type(KustoType::DateTime),
                *a as f64,
                *b as f64,
                *s as f64,
            ),
            (
                ScalarValue::DurationNanosecond(Some(a)),
                ScalarValue::DurationNanosecond(Some(b)),
                ScalarValue::DurationNanosecond(Some(s)),
            ) => (
                arrow_type(KustoType::TimeSpan),
                *a as f64,
                *b as f64,
                *s as f64,
            ),
            (a, b, s) => {
                let as_f64 = |v: &ScalarValue| {
                    v.cast_to(&DataType::Float64).ok().and_then(|v| match v {
                        ScalarValue::Float64(x) => x,
                        _ => None,
                    })
                };
                let integral = [a, b, s]
                    .iter()
                    .all(|v| matches!(v, ScalarValue::Int64(_) | ScalarValue::Int32(_)));
                let (Some(a), Some(b), Some(s)) = (as_f64(a), as_f64(b), as_f64(s)) else {
                    return Err(EngineError::bind(
                        "range needs numeric, datetime or timespan bounds",
                        span,
                    ));
                };
                let ty = if integral {
                    DataType::Int64
                } else {
                    DataType::Float64
                };
                (ty, a, b, s)
            }
        };
        if increment == 0.0 || (end - start) / increment < 0.0 {
            return self.empty_relation(name, data_type);
        }
        let count = ((end - start) / increment).floor() as usize + 1;
        if count > MAX_RANGE_ROWS {
            return Err(EngineError::bind(
                format!("range would produce {count} rows, more than {MAX_RANGE_ROWS}"),
                span,
            ));
        }
        let values: Vec<ScalarValue> = (0..count)
            .map(|i| {
                let value = start + increment * i as f64;
                match &data_type {
                    DataType::Int64 => ScalarValue::Int64(Some(value as i64)),
                    DataType::Float64 => ScalarValue::Float64(Some(value)),
                    DataType::Timestamp(..) => {
                        ScalarValue::TimestampNanosecond(Some(value as i64), None)
                    }
                    _ => ScalarValue::DurationNanosecond(Some(value as i64)),
                }
            })
            .collect();
        let array = ScalarValue::iter_to_array(values)?;
        let schema = Arc::new(Schema::new(vec![Field::new(name, data_type, true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![array])?;
        self.relation_from_batches(schema, vec![batch])
    }

    fn empty_relation(&mut self, name: &str, data_type: DataType) -> Result<Relation> {
        let schema = Arc::new(Schema::new(vec![Field::new(name, data_type.clone(), true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![new_empty_array(&data_type)])?;
        self.relation_from_batches(schema, vec![batch])
    }

    fn datatable(
        &mut self,
        columns: &[ColumnDecl],
        values: &[KqlExpr],
        span: Span,
    ) -> Result<Relation> {
        if columns.is_empty() {
            return Err(EngineError::bind(
                "datatable needs at least one column",
                span,
            ));
        }
        if !values.len().is_multiple_of(columns.len()) {
            return Err(EngineError::bind(
                format!(
                    "datatable has {} values, which is not a whole number of rows of {} columns",
                    values.len(),
                    columns.len()
                ),
                span,
            ));
        }
        let mut fields = Vec::new();
        let mut types = Vec::new();
        for column in columns {
            let ty = KustoType::from_name(&column.ty.name).ok_or_else(|| {
                EngineError::bind(format!("unknown type `{}`", column.ty.name), column.ty.span)
            })?;
            types.push(ty);
            fields.push(Field::new(&column.name.name, arrow_type(ty), true));
        }
        let mut cells: Vec<Vec<ScalarValue>> = vec![Vec::new(); columns.len()];
        for (index, value) in values.iter().enumerate() {
            let column_index = index % columns.len();
            let ty = types[column_index];
            let scalar = self.constant(value)?;
            cells[column_index].push(coerce_to_kusto(scalar, ty).ok_or_else(|| {
                EngineError::bind(
                    format!(
                        "this value is not a {} (column `{}`)",
                        ty.name(),
                        columns[column_index].name.name
                    ),
                    value.span,
                )
            })?);
        }
        let schema = Arc::new(Schema::new(fields));
        let arrays = cells
            .into_iter()
            .zip(schema.fields())
            .map(|(values, field)| {
                if values.is_empty() {
                    Ok(new_empty_array(field.data_type()))
                } else {
                    ScalarValue::iter_to_array(values)
                }
            })
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        self.relation_from_batches(schema, vec![batch])
    }
}

impl Planner<'_> {
    /// `externaldata (cols) [uris] with (format=…, ignoreFirstRecord=…)`: a table read from the
    /// files when the query runs.
    fn external_data(
        &mut self,
        columns: &[ColumnDecl],
        uris: &[KqlExpr],
        properties: &[quarry_kql::ast::OperatorParam],
        span: Span,
    ) -> Result<Relation> {
        if columns.is_empty() {
            return Err(EngineError::bind(
                "externaldata needs at least one column",
                span,
            ));
        }
        let mut fields = Vec::new();
        for column in columns {
            let ty = KustoType::from_name(&column.ty.name).ok_or_else(|| {
                EngineError::bind(format!("unknown type `{}`", column.ty.name), column.ty.span)
            })?;
            fields.push(Field::new(&column.name.name, arrow_type(ty), true));
        }
        let mut sources = Vec::new();
        for uri in uris {
            match self.constant(uri)? {
                ScalarValue::Utf8(Some(text)) | ScalarValue::LargeUtf8(Some(text)) => {
                    // A storage connection string may carry `;key` or `?sas` credentials.
                    sources.push(
                        text.split([';', '?'])
                            .next()
                            .unwrap_or_default()
                            .to_string(),
                    )
                }
                _ => return Err(EngineError::bind("expected a file path or URI", uri.span)),
            }
        }
        let mut format = crate::external::ExternalFormat::Csv;
        let mut ignore_first_record = false;
        for property in properties {
            let value = match &property.value.kind {
                quarry_kql::ast::ExprKind::Name { name } => name.name.clone(),
                _ => match self.constant(&property.value)? {
                    ScalarValue::Utf8(Some(text)) => text,
                    other => other.to_string(),
                },
            };
            match property.name.name.to_ascii_lowercase().as_str() {
                "format" => {
                    format =
                        crate::external::ExternalFormat::from_name(&value).ok_or_else(|| {
                            EngineError::unsupported(
                                format!("externaldata format `{value}`"),
                                property.value.span,
                            )
                        })?
                }
                "ignorefirstrecord" => ignore_first_record = value.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        let table = crate::external::ExternalTable::new(
            Arc::new(Schema::new(fields)),
            sources,
            format,
            ignore_first_record,
            self.session.config().network_access,
        );
        let alias = self.next_alias("external");
        let plan = LogicalPlanBuilder::scan(
            datafusion::common::TableReference::bare(alias),
            datafusion::datasource::provider_as_source(Arc::new(table)),
            None,
        )?
        .build()?;
        self.unqualified(Relation::unordered(plan))
    }
}

/// Converts a literal to the Kusto type of a datatable column, as Kusto does on load.
pub(super) fn coerce_to_kusto(value: ScalarValue, ty: KustoType) -> Option<ScalarValue> {
    let target = arrow_type(ty);
    if value.data_type() == target {
        return Some(match value {
            ScalarValue::Utf8(None) => ScalarValue::Utf8(Some(String::new())),
            other => other,
        });
    }
    match ty {
        KustoType::String => match value {
            ScalarValue::Utf8(v) => Some(ScalarValue::Utf8(Some(v.unwrap_or_default()))),
            ScalarValue::Null => Some(ScalarValue::Utf8(Some(String::new()))),
            _ => None,
        },
        KustoType::Dynamic => Some(ScalarValue::LargeUtf8(match value {
            ScalarValue::Null => None,
            ScalarValue::Utf8(v) => v.map(|s| serde_json::Value::String(s).to_string()),
            ScalarValue::Int64(v) => v.map(|n| n.to_string()),
            ScalarValue::Int32(v) => v.map(|n| n.to_string()),
            ScalarValue::Float64(v) => v
                .and_then(serde_json::Number::from_f64)
                .map(|n| n.to_string()),
            ScalarValue::Boolean(v) => v.map(|b| b.to_string()),
            ScalarValue::TimestampNanosecond(v, _) => v.map(|n| {
                serde_json::Value::String(crate::values::format_datetime(n, false)).to_string()
            }),
            ScalarValue::DurationNanosecond(v) => {
                v.map(|n| serde_json::Value::String(crate::values::format_timespan(n)).to_string())
            }
            other if other.is_null() => None,
            _ => return None,
        })),
        _ => {
            if value.is_null() {
                return ScalarValue::try_from(&target).ok();
            }
            let numeric_source = matches!(
                value,
                ScalarValue::Int64(_)
                    | ScalarValue::Int32(_)
                    | ScalarValue::Float64(_)
                    | ScalarValue::Decimal128(..)
            );
            let numeric_target = matches!(
                ty,
                KustoType::Int | KustoType::Long | KustoType::Real | KustoType::Decimal
            );
            if numeric_source && numeric_target {
                value.cast_to(&target).ok()
            } else {
                None
            }
        }
    }
}
