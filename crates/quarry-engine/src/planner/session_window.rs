//! `row_window_session(Expr, MaxDistanceFromFirst, MaxDistanceBetweenNeighbors [, Restart])`:
//! the value of `Expr` at the start of each row's session, over the serialized rows.
//!
//! A row starts a new session when it is the first row, when `Restart` is true, or when its value
//! lies more than MaxDistanceFromFirst after the session's first value or more than
//! MaxDistanceBetweenNeighbors after the previous row's value. The state depends on the session
//! start, which no composition of DataFusion's window functions carries, so a window function of
//! our own walks the rows in order (ordered by the row id that `project_windowed` adds).

use super::window::ROWID;
use super::{column, Planner};
use crate::error::{EngineError, Result};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{DFSchema, Result as DfResult};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Expr, ExprSchemable, PartitionEvaluator, Signature, Volatility, WindowFrame,
    WindowFunctionDefinition, WindowUDF, WindowUDFImpl,
};
use quarry_kql::ast::Arg;
use quarry_kql::Span;
use std::sync::Arc;

/// The window function: returns the session start of each row, typed like the first argument.
#[derive(Debug, PartialEq, Eq, Hash)]
struct SessionWindow {
    signature: Signature,
    ret: DataType,
}

impl WindowUDFImpl for SessionWindow {
    fn name(&self) -> &str {
        "kql_row_window_session"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn partition_evaluator(
        &self,
        _args: PartitionEvaluatorArgs,
    ) -> DfResult<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(SessionEvaluator {
            ret: self.ret.clone(),
        }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> DfResult<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            self.ret.clone(),
            true,
        )))
    }
}

#[derive(Debug)]
struct SessionEvaluator {
    ret: DataType,
}

/// An array of datetimes, timespans or numbers as i64 (nanoseconds for times).
fn longs(array: &ArrayRef) -> DfResult<Vec<Option<i64>>> {
    let cast = cast(array, &DataType::Int64)?;
    let values = cast.as_primitive::<Int64Type>();
    Ok((0..values.len())
        .map(|i| (!values.is_null(i)).then(|| values.value(i)))
        .collect())
}

impl PartitionEvaluator for SessionEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> DfResult<ArrayRef> {
        let value = longs(&values[0])?;
        let from_first = longs(&values[1])?;
        let between = longs(&values[2])?;
        let restart: Vec<bool> = match values.get(3) {
            Some(array) => {
                let flags = cast(array, &DataType::Boolean)?;
                let flags = flags.as_boolean();
                (0..num_rows)
                    .map(|i| flags.is_valid(i) && flags.value(i))
                    .collect()
            }
            None => vec![false; num_rows],
        };
        let mut out: Vec<Option<i64>> = Vec::with_capacity(num_rows);
        let mut start: Option<i64> = None;
        let mut previous: Option<i64> = None;
        for row in 0..num_rows {
            let Some(v) = value[row] else {
                out.push(None);
                continue;
            };
            let new_session = match (start, previous) {
                (Some(s), Some(p)) => {
                    restart[row]
                        || from_first[row].is_some_and(|d| v.saturating_sub(s) > d)
                        || between[row].is_some_and(|d| v.saturating_sub(p) > d)
                }
                _ => true,
            };
            if new_session {
                start = Some(v);
            }
            previous = Some(v);
            out.push(start);
        }
        let longs: ArrayRef = Arc::new(Int64Array::from(out));
        Ok(cast(&longs, &self.ret)?)
    }
}

impl Planner<'_> {
    /// Plans `row_window_session(…)` as a window over the serialized rows.
    pub(super) fn row_window_session(
        &mut self,
        args: &[Arg],
        schema: &DFSchema,
        span: Span,
    ) -> Result<Expr> {
        if !(3..=4).contains(&args.len()) {
            return Err(EngineError::bind(
                "row_window_session() takes 3 or 4 arguments",
                span,
            ));
        }
        let mut planned = Vec::with_capacity(args.len());
        for arg in args {
            planned.push(self.plan_scalar(&arg.value, schema)?);
        }
        let ret = planned[0].get_type(schema)?;
        if !matches!(
            ret,
            DataType::Timestamp(..) | DataType::Duration(_) | DataType::Int32 | DataType::Int64
        ) {
            return Err(EngineError::bind(
                "row_window_session() takes a datetime, timespan or integer value",
                args[0].value.span,
            ));
        }
        let udwf = WindowUDF::new_from_impl(SessionWindow {
            signature: Signature::variadic_any(Volatility::Immutable),
            ret,
        });
        let mut window =
            WindowFunction::new(WindowFunctionDefinition::WindowUDF(Arc::new(udwf)), planned);
        window.params.order_by = vec![column(ROWID).sort(true, false)];
        window.params.window_frame = WindowFrame::new(Some(true));
        Ok(Expr::WindowFunction(Box::new(window)))
    }
}
