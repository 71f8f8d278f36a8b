//! Scalar functions that read more than their arguments: `pack_all()` (the whole row) and
//! `bin_auto()` (the query's `set query_bin_auto_size/at` options), and `column_names_of(T)`
//! (a table's schema, known while planning).

use super::{column, column_names, Binding, Planner};
use crate::error::{EngineError, Result};
use crate::functions::{self, PlannedArg};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{lit, Expr};
use quarry_kql::ast::Arg;
use quarry_kql::Span;

/// The `set` options the planner keeps for the query's functions.
pub(super) const QUERY_SETTINGS: &[&str] = &["query_bin_auto_size", "query_bin_auto_at"];

impl Planner<'_> {
    /// `column_names_of(T)`: the names of a table's columns, as a dynamic array.
    pub(super) fn column_names_of(&mut self, args: &[Arg], span: Span) -> Result<Expr> {
        let [arg] = args else {
            return Err(EngineError::bind("column_names_of() takes one table", span));
        };
        if !self.is_tabular(&arg.value) {
            return Err(EngineError::bind(
                "column_names_of() takes a table",
                arg.value.span,
            ));
        }
        let table = self.plan_tabular(&arg.value)?;
        let names = serde_json::Value::from(column_names(table.schema())).to_string();
        Ok(lit(ScalarValue::LargeUtf8(Some(names))))
    }

    /// `bin_auto(value)`: `bin_at(value, query_bin_auto_size, query_bin_auto_at)`, or `bin` when
    /// no fixed point is set.
    pub(super) fn bin_auto(&mut self, args: &[Arg], schema: &DFSchema, span: Span) -> Result<Expr> {
        let [arg] = args else {
            return Err(EngineError::bind("bin_auto() takes one argument", span));
        };
        let setting = |planner: &Self, name: &str| match planner.lookup(&format!("set:{name}")) {
            Some(Binding::Scalar(expr)) => Some(expr.clone()),
            _ => None,
        };
        let Some(size) = setting(self, "query_bin_auto_size") else {
            return Err(EngineError::bind(
                "bin_auto() needs `set query_bin_auto_size = …;` before the query",
                span,
            ));
        };
        let empty = DFSchema::empty();
        let value = self.plan_scalar(&arg.value, schema)?;
        let mut planned = vec![
            PlannedArg {
                data_type: self.type_of(&value, schema).unwrap_or(DataType::Null),
                expr: value,
                span: arg.value.span,
            },
            PlannedArg {
                data_type: self.type_of(&size, &empty).unwrap_or(DataType::Null),
                expr: size,
                span,
            },
        ];
        let function = match setting(self, "query_bin_auto_at") {
            Some(at) => {
                planned.push(PlannedArg {
                    data_type: self.type_of(&at, &empty).unwrap_or(DataType::Null),
                    expr: at,
                    span,
                });
                "bin_at"
            }
            None => "bin",
        };
        functions::plan_scalar_call(function, &planned, &self.call_context(span))
    }

    /// `pack_all([ignore_null_empty])`: a bag of every column of the row, keyed by name.
    pub(super) fn pack_all(&mut self, args: &[Arg], schema: &DFSchema, span: Span) -> Result<Expr> {
        if let Some(arg) = args.first() {
            match self.plan_constant(&arg.value)? {
                Expr::Literal(ScalarValue::Boolean(Some(false)), _) => {}
                Expr::Literal(ScalarValue::Boolean(Some(true)), _) => {
                    return Err(EngineError::unsupported(
                        "pack_all(true) (leaving out null and empty columns)",
                        arg.value.span,
                    ))
                }
                _ => {
                    return Err(EngineError::bind(
                        "pack_all() takes a bool constant",
                        arg.value.span,
                    ))
                }
            }
        }
        let mut planned = Vec::new();
        for field in schema.fields() {
            planned.push(PlannedArg {
                expr: lit(ScalarValue::Utf8(Some(field.name().clone()))),
                data_type: DataType::Utf8,
                span,
            });
            planned.push(PlannedArg {
                expr: column(field.name()),
                data_type: field.data_type().clone(),
                span,
            });
        }
        if planned.is_empty() {
            return Ok(lit(ScalarValue::LargeUtf8(Some("{}".to_string()))));
        }
        functions::plan_scalar_call("bag_pack", &planned, &self.call_context(span))
    }
}
