//! Scalar functions that read the whole row rather than their arguments: `pack_all()`.

use super::{column, Planner};
use crate::error::{EngineError, Result};
use crate::functions::{self, PlannedArg};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{lit, Expr};
use quarry_kql::ast::Arg;
use quarry_kql::Span;

impl Planner<'_> {
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
