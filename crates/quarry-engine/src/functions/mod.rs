//! The KQL function library: scalar functions and aggregates, one file per family.
//!
//! Each family exposes `plan(name, args, ctx)`, which returns `None` when the name is not one of
//! its functions, and otherwise the DataFusion expression computing the call (a built-in
//! DataFusion function where its semantics are exactly KQL's, a Quarry UDF otherwise).

pub(crate) mod collected;
mod compression;
mod conversions;
mod csv_record;
mod datetime;
pub(crate) mod distinct_values;
mod distributions;
pub(crate) mod dynamic;
mod geo;
mod geo_densify;
mod geo_h3;
mod geo_intersection;
mod geo_union;
mod geo_union_array;
mod json_access;
mod logic;
pub(crate) mod make_set;
mod math;
pub(crate) mod misc;
mod network;
pub(crate) mod percentiles;
mod regex_dialect;
pub(crate) mod string_predicates;
pub(crate) mod strings;
mod timeseries;
mod timezones;
mod units;
mod xml;

use crate::error::{EngineError, Result};
use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::Expr;
use quarry_kql::Span;

/// What a function needs to know about the query it is called from.
#[derive(Debug, Clone, Copy)]
pub struct CallContext {
    /// The query's pinned `now()`, in nanoseconds since the Unix epoch.
    pub now_nanos: i64,
    /// Where the call is written, for errors.
    pub span: Span,
}

/// A planned argument: the expression and its Arrow type in the input schema.
#[derive(Debug, Clone)]
pub struct PlannedArg {
    /// The argument expression.
    pub expr: Expr,
    /// Its type.
    pub data_type: DataType,
    /// The argument's text span.
    pub span: Span,
}

/// The result of looking a call up in one family.
pub type FamilyResult = Option<Result<Expr>>;

/// A function family: plans the calls of its own functions, `None` for any other name.
type Family = fn(&str, &[PlannedArg], &CallContext) -> FamilyResult;

/// The families in lookup order, with the names each one implements.
const FAMILIES: &[(Family, &[&str])] = &[
    (strings::plan, strings::NAMES),
    (conversions::plan, conversions::NAMES),
    (logic::plan, logic::NAMES),
    (datetime::plan, datetime::NAMES),
    (math::plan, math::NAMES),
    (dynamic::plan, dynamic::NAMES),
    (network::plan, network::NAMES),
    (misc::plan, misc::NAMES),
    (geo::plan, geo::NAMES),
    (timeseries::plan, timeseries::NAMES),
    (xml::plan, xml::NAMES),
    (units::plan, units::NAMES),
    (distributions::plan, distributions::NAMES),
    (compression::plan, compression::NAMES),
    (percentiles::plan, percentiles::NAMES),
    (timezones::plan, timezones::NAMES),
    (csv_record::plan, csv_record::NAMES),
];

/// Every scalar function name the library knows, for "did you mean" suggestions and the
/// coverage table.
pub fn scalar_function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = FAMILIES
        .iter()
        .flat_map(|(_, names)| names.iter().copied())
        .collect();
    names.sort_unstable();
    names
}

/// Plans a call of the KQL scalar function `name`.
pub fn plan_scalar_call(name: &str, args: &[PlannedArg], ctx: &CallContext) -> Result<Expr> {
    for (family, _) in FAMILIES {
        if let Some(result) = family(name, args, ctx) {
            return result;
        }
    }
    Err(EngineError::unsupported(
        format!("function {name}()"),
        ctx.span,
    ))
}

/// Converts a text array to `target` as Kusto's conversions (`tolong`, `todatetime`, …) read
/// text; a value that does not convert becomes null.
pub(crate) fn convert_text(
    text: &datafusion::arrow::array::ArrayRef,
    target: &DataType,
) -> datafusion::error::Result<datafusion::arrow::array::ArrayRef> {
    conversions::convert_array(text, target)
}

pub(crate) use regex_dialect::kusto_regex;

/// `expr` converted to `target` by Kusto's conversion rules (`tolong`, `tobool`, …).
pub(crate) fn convert_expr(expr: Expr, target: DataType) -> Expr {
    conversions::convert_expr(expr, target)
}

/// Checks the argument count of `name`, with an error naming the expected arity.
pub fn check_arity(
    name: &str,
    args: &[PlannedArg],
    min: usize,
    max: usize,
    ctx: &CallContext,
) -> Result<()> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    let expected = match (min, max) {
        (a, b) if a == b => format!("{a}"),
        (a, usize::MAX) => format!("at least {a}"),
        (a, b) => format!("{a} to {b}"),
    };
    Err(EngineError::bind(
        format!("{name}() takes {expected} argument(s), not {}", args.len()),
        ctx.span,
    ))
}
