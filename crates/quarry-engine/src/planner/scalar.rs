//! Scalar expressions: KQL expression trees to DataFusion `Expr`s over an input schema.

use super::{closest, column, operands, Binding, Bound, Planner};
use crate::error::{EngineError, Result};
use crate::functions::{self, dynamic, string_predicates, CallContext, PlannedArg};
use crate::types::{arrow_type, KustoType, DECIMAL_PRECISION, DECIMAL_SCALE};
use crate::values;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::functions::expr_fn::{coalesce, nullif};
use datafusion::logical_expr::expr_fn::{in_subquery, scalar_subquery};
use datafusion::logical_expr::{binary_expr, cast, lit, not, Expr, ExprSchemable, Operator};
use quarry_kql::ast::{
    Arg, BinaryOp, DynamicValue, Expr as KqlExpr, ExprKind, ListOp, Literal, UnaryOp,
};
use quarry_kql::Span;
use std::sync::Arc;

/// The value of `--param name=text` for a parameter declared with type `type_name`.
pub(super) fn parameter_value(text: &str, type_name: &str, span: Span) -> Result<Expr> {
    let literal = Literal::Typed {
        type_name: type_name.to_string(),
        text: text.to_string(),
    };
    let value = match type_name {
        "string" => ScalarValue::Utf8(Some(text.to_string())),
        "dynamic" => ScalarValue::LargeUtf8(Some(
            serde_json::from_str::<serde_json::Value>(text)
                .map(|v| v.to_string())
                .unwrap_or_else(|_| serde_json::Value::String(text.to_string()).to_string()),
        )),
        _ => typed_literal(&literal, span)?,
    };
    Ok(lit(value))
}

/// `datetime(2025, 6, 14)`: the literal's year, month, day and optional hour, minute and
/// second as comma-separated numbers, which Kusto also accepts.
fn datetime_from_parts(text: &str) -> Option<i64> {
    let parts: Vec<u32> = text
        .split(',')
        .map(|p| p.trim().parse().ok())
        .collect::<Option<_>>()?;
    if !(3..=6).contains(&parts.len()) {
        return None;
    }
    let part = |i: usize| parts.get(i).copied().unwrap_or(0);
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(part(0)).ok()?, part(1), part(2))?;
    date.and_hms_opt(part(3), part(4), part(5))?
        .and_utc()
        .timestamp_nanos_opt()
}

/// The constant value of a typed literal such as `datetime(2020-01-01)` or `int(null)`.
fn typed_literal(literal: &Literal, span: Span) -> Result<ScalarValue> {
    let Literal::Typed { type_name, text } = literal else {
        return Err(EngineError::bind("expected a typed literal", span));
    };
    let Some(ty) = KustoType::from_name(type_name) else {
        return Err(EngineError::bind(
            format!("unknown type `{type_name}`"),
            span,
        ));
    };
    let bad = || EngineError::bind(format!("`{text}` is not a valid {type_name}"), span);
    let is_null = text == "null";
    Ok(match ty {
        KustoType::DateTime => ScalarValue::TimestampNanosecond(
            if is_null {
                None
            } else {
                Some(
                    values::parse_datetime(text)
                        .or_else(|| datetime_from_parts(text))
                        .ok_or_else(bad)?,
                )
            },
            None,
        ),
        KustoType::TimeSpan => ScalarValue::DurationNanosecond(if is_null {
            None
        } else {
            Some(values::parse_timespan(text).ok_or_else(bad)?)
        }),
        KustoType::Int => ScalarValue::Int32(if is_null {
            None
        } else {
            Some(
                parse_integer(text)
                    .and_then(|v| i32::try_from(v).ok())
                    .ok_or_else(bad)?,
            )
        }),
        KustoType::Long => ScalarValue::Int64(if is_null {
            None
        } else {
            Some(parse_integer(text).ok_or_else(bad)?)
        }),
        KustoType::Real => ScalarValue::Float64(if is_null {
            None
        } else {
            Some(parse_real(text).ok_or_else(bad)?)
        }),
        KustoType::Decimal => ScalarValue::Decimal128(
            if is_null {
                None
            } else {
                Some(parse_decimal(text).ok_or_else(bad)?)
            },
            DECIMAL_PRECISION,
            DECIMAL_SCALE,
        ),
        KustoType::Bool => ScalarValue::Boolean(match text.to_ascii_lowercase().as_str() {
            "null" => None,
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => return Err(bad()),
        }),
        KustoType::Guid => ScalarValue::FixedSizeBinary(
            16,
            if is_null {
                None
            } else {
                Some(parse_guid(text).ok_or_else(bad)?)
            },
        ),
        KustoType::String => ScalarValue::Utf8(Some(if is_null {
            String::new()
        } else {
            text.to_string()
        })),
        KustoType::Dynamic => ScalarValue::LargeUtf8(None),
    })
}

fn parse_integer(text: &str) -> Option<i64> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i64::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i64>().ok()?,
    };
    Some(if negative { -value } else { value })
}

fn parse_real(text: &str) -> Option<f64> {
    match text.trim().to_ascii_lowercase().replace(' ', "").as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// A decimal text as an i128 scaled by 10^18.
pub(crate) fn parse_decimal(text: &str) -> Option<i128> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let scale = DECIMAL_SCALE as usize;
    let fraction: String = fraction
        .chars()
        .chain(std::iter::repeat('0'))
        .take(scale)
        .collect();
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let fraction: i128 = fraction.parse().ok()?;
    let value = whole
        .checked_mul(10i128.pow(scale as u32))?
        .checked_add(fraction)?;
    Some(if negative { -value } else { value })
}

fn parse_guid(text: &str) -> Option<Vec<u8>> {
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 {
        return None;
    }
    (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// The JSON value of a `dynamic(…)` literal.
fn dynamic_json(value: &DynamicValue, span: Span) -> Result<serde_json::Value> {
    use serde_json::Value;
    Ok(match value {
        DynamicValue::Null => Value::Null,
        DynamicValue::Array { items } => Value::Array(
            items
                .iter()
                .map(|item| dynamic_json(item, span))
                .collect::<Result<_>>()?,
        ),
        DynamicValue::Object { entries } => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                map.insert(key.clone(), dynamic_json(value, span)?);
            }
            Value::Object(map)
        }
        DynamicValue::Scalar { literal, negative } => {
            let value = match literal.as_ref() {
                Literal::Bool { value } => Value::Bool(*value),
                Literal::Long { value } => Value::from(if *negative { -value } else { *value }),
                Literal::Real { text } => {
                    let v: f64 = text
                        .parse()
                        .map_err(|_| EngineError::bind("bad real", span))?;
                    serde_json::Number::from_f64(if *negative { -v } else { v })
                        .map(Value::Number)
                        .unwrap_or(Value::Null)
                }
                Literal::String { value, .. } => Value::String(value.clone()),
                Literal::Timespan { text } => {
                    let nanos = values::parse_timespan_literal(text)
                        .ok_or_else(|| EngineError::bind("bad timespan", span))?;
                    Value::String(values::format_timespan(if *negative {
                        -nanos
                    } else {
                        nanos
                    }))
                }
                typed @ Literal::Typed { .. } => match typed_literal(typed, span)? {
                    ScalarValue::TimestampNanosecond(Some(n), _) => {
                        Value::String(values::format_datetime(n, false))
                    }
                    ScalarValue::DurationNanosecond(Some(n)) => {
                        Value::String(values::format_timespan(if *negative { -n } else { n }))
                    }
                    ScalarValue::Int32(Some(v)) => Value::from(if *negative { -v } else { v }),
                    ScalarValue::Int64(Some(v)) => Value::from(if *negative { -v } else { v }),
                    ScalarValue::Float64(Some(v)) => {
                        serde_json::Number::from_f64(if *negative { -v } else { v })
                            .map(Value::Number)
                            .unwrap_or(Value::Null)
                    }
                    ScalarValue::Boolean(Some(b)) => Value::Bool(b),
                    other if other.is_null() => Value::Null,
                    other => Value::String(other.to_string()),
                },
                Literal::Dynamic { value } => dynamic_json(value, span)?,
            };
            value
        }
    })
}

/// The Kusto name a column computed by `expr` gets when none is given, if KQL derives one
/// (`x` for `x`, `d_key` for `d.key`, the first column argument's name for `bin(x, 1h)`).
pub(super) fn derived_name(expr: &KqlExpr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name { name } => Some(name.name.clone()),
        ExprKind::Member { target, name } => {
            derived_name(target).map(|base| format!("{base}_{}", name.name))
        }
        ExprKind::Index { target, index } => match (&index.kind, derived_name(target)) {
            (
                ExprKind::Literal {
                    value: Literal::String { value, .. },
                },
                Some(base),
            ) => Some(format!("{base}_{value}")),
            _ => None,
        },
        ExprKind::Paren { inner } => derived_name(inner),
        ExprKind::Call { function, args } => match &function.kind {
            ExprKind::Name { name }
                if matches!(
                    name.name.as_str(),
                    "bin"
                        | "bin_auto"
                        | "floor"
                        | "bin_at"
                        | "startofday"
                        | "startofweek"
                        | "startofmonth"
                        | "startofyear"
                        | "tostring"
                        | "toint"
                        | "tolong"
                        | "toreal"
                        | "todouble"
                        | "tobool"
                        | "todatetime"
                        | "totimespan"
                        | "toguid"
                        | "todecimal"
                ) =>
            {
                args.first().and_then(|a| derived_name(&a.value))
            }
            _ => None,
        },
        _ => None,
    }
}

/// `in`/`!in` over a list, never null as in Kusto: a null value is in no list, so it is `!in`
/// every list (SQL's `IN` would give null for both).
/// The texts of `items` when there is at least one and each is a non-null string literal.
fn constant_strings(items: &[Expr]) -> Option<Vec<String>> {
    let texts: Option<Vec<String>> = items
        .iter()
        .map(|item| match item {
            Expr::Literal(ScalarValue::Utf8(Some(text)), _) => Some(text.clone()),
            _ => None,
        })
        .collect();
    texts.filter(|texts| !texts.is_empty())
}

fn kusto_in_list(value: Expr, items: Vec<Expr>, negated: bool) -> Expr {
    if negated {
        value.clone().is_null().or(value.in_list(items, true))
    } else {
        value.clone().is_not_null().and(value.in_list(items, false))
    }
}

impl Planner<'_> {
    pub(super) fn call_context(&self, span: Span) -> CallContext {
        CallContext {
            now_nanos: self.now_nanos,
            span,
        }
    }

    /// Plans a scalar expression against `schema`.
    pub(super) fn plan_scalar(&mut self, expr: &KqlExpr, schema: &DFSchema) -> Result<Expr> {
        let span = expr.span;
        Ok(match &expr.kind {
            ExprKind::Literal { value } => self.plan_literal(value, span)?,
            ExprKind::Name { name } => self.plan_name(&name.name, span, schema)?,
            ExprKind::Template { name } => {
                return Err(EngineError::bind_with_help(
                    format!("the template placeholder `{{{{{name}}}}}` has no value"),
                    span,
                    "fill the placeholder before running the query",
                ))
            }
            ExprKind::Paren { inner } => {
                if self.is_tabular(inner) {
                    self.scalar_subquery(inner)?
                } else {
                    self.plan_scalar(inner, schema)?
                }
            }
            ExprKind::Unary { op, operand } => {
                let operand = self.plan_scalar(operand, schema)?;
                match op {
                    UnaryOp::Negate => match self.type_of(&operand, schema) {
                        // DataFusion cannot negate a duration: negate its nanoseconds.
                        Some(DataType::Duration(unit)) => cast(
                            Expr::Negative(Box::new(cast(operand, DataType::Int64))),
                            DataType::Duration(unit),
                        ),
                        // KQL negates an int as a long (-int.MinValue fits).
                        Some(DataType::Int32) => {
                            Expr::Negative(Box::new(cast(operand, DataType::Int64)))
                        }
                        _ => Expr::Negative(Box::new(operand)),
                    },
                    UnaryOp::Plus => operand,
                }
            }
            ExprKind::Binary { op, left, right } if matches!(left.kind, ExprKind::Star) => {
                self.plan_any_column(*op, right, schema, span)?
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.plan_scalar(left, schema)?;
                let r = self.plan_scalar(right, schema)?;
                self.plan_binary(*op, l, r, schema)?
            }
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => {
                let value = self.plan_scalar(expr, schema)?;
                let low = self.plan_scalar(low, schema)?;
                let mut high = self.plan_scalar(high, schema)?;
                // `t between (start .. 1h)`: a timespan as the upper bound is counted from the
                // lower one.
                if matches!(self.type_of(&low, schema), Some(DataType::Timestamp(..)))
                    && matches!(self.type_of(&high, schema), Some(DataType::Duration(_)))
                {
                    high = self.plan_binary(BinaryOp::Add, low.clone(), high, schema)?;
                }
                let (value, low) = self.align_operands(value, low, schema);
                let (value, high) = self.align_operands(value, high, schema);
                if *negated {
                    value.not_between(low, high)
                } else {
                    value.between(low, high)
                }
            }
            ExprKind::List { op, expr, items } => self.plan_list(*op, expr, items, schema)?,
            ExprKind::Member { target, name } => {
                let target = self.plan_scalar(target, schema)?;
                dynamic::member(target, &name.name)
            }
            ExprKind::Index { target, index } => {
                let target = self.plan_scalar(target, schema)?;
                let index = self.plan_scalar(index, schema)?;
                dynamic::index(target, index)
            }
            ExprKind::Call { function, args } => self.plan_call(function, args, schema, span)?,
            ExprKind::Pipeline { .. } | ExprKind::Source { .. } => self.scalar_subquery(expr)?,
            ExprKind::Star => {
                return Err(EngineError::bind("`*` is not a value here", span));
            }
            ExprKind::Pattern { pattern } => {
                return Err(EngineError::bind(
                    format!("`{pattern}` is not a value"),
                    span,
                ));
            }
            ExprKind::Error => return Err(EngineError::bind("unparsed expression", span)),
        })
    }

    fn scalar_subquery(&mut self, expr: &KqlExpr) -> Result<Expr> {
        let relation = self.plan_tabular(expr)?;
        let first = first_column(&relation, expr.span)?;
        let plan = relation
            .builder()
            .project(vec![super::column(&first)])?
            .limit(0, Some(1))?
            .build()?;
        Ok(scalar_subquery(Arc::new(plan)))
    }

    fn plan_literal(&mut self, value: &Literal, span: Span) -> Result<Expr> {
        Ok(lit(match value {
            Literal::Bool { value } => ScalarValue::Boolean(Some(*value)),
            Literal::Long { value } => ScalarValue::Int64(Some(*value)),
            Literal::Real { text } => ScalarValue::Float64(Some(
                parse_real(text).ok_or_else(|| EngineError::bind("bad real literal", span))?,
            )),
            Literal::String { value, .. } => ScalarValue::Utf8(Some(value.clone())),
            Literal::Timespan { text } => ScalarValue::DurationNanosecond(Some(
                values::parse_timespan_literal(text)
                    .ok_or_else(|| EngineError::bind(format!("bad timespan `{text}`"), span))?,
            )),
            typed @ Literal::Typed { .. } => typed_literal(typed, span)?,
            Literal::Dynamic { value } => {
                let json = dynamic_json(value, span)?;
                ScalarValue::LargeUtf8((!json.is_null()).then(|| json.to_string()))
            }
        }))
    }

    fn plan_name(&mut self, name: &str, span: Span, schema: &DFSchema) -> Result<Expr> {
        if schema.fields().iter().any(|f| f.name() == name) {
            return Ok(column(name));
        }
        match self.lookup(name).cloned() {
            Some(Binding::Scalar(expr)) => return Ok(expr),
            Some(Binding::Tabular(_)) => {
                return Err(EngineError::bind(
                    format!("`{name}` is a table; use toscalar() to take a value from it"),
                    span,
                ))
            }
            Some(Binding::Function(function)) => {
                return match self.call_function(name, &function, &[], span, None)? {
                    Bound::Scalar(expr) => Ok(expr),
                    Bound::Tabular(_) => Err(EngineError::bind(
                        format!("`{name}` returns a table, not a value"),
                        span,
                    )),
                };
            }
            None => {}
        }
        let fields: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let message = format!("unknown column or variable `{name}`");
        Err(match closest(name, fields.iter().copied()) {
            Some(best) => {
                EngineError::bind_with_help(message, span, format!("did you mean `{best}`?"))
            }
            None => EngineError::bind(message, span),
        })
    }

    fn plan_binary(&mut self, op: BinaryOp, l: Expr, r: Expr, schema: &DFSchema) -> Result<Expr> {
        let (l, r) = match op {
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Mod => self.align_operands(l, r, schema),
            _ => (l, r),
        };
        let arithmetic = |operator| binary_expr(l.clone(), operator, r.clone());
        // An equality with a null operand is false in KQL, not null; ordering comparisons stay
        // null, so that `not(x > 0)` still drops a null `x`.
        let compare = |operator| {
            coalesce(vec![
                binary_expr(l.clone(), operator, r.clone()),
                lit(false),
            ])
        };
        Ok(match op {
            BinaryOp::Or => l.or(r),
            BinaryOp::And => l.and(r),
            BinaryOp::Eq => compare(Operator::Eq),
            // KQL keeps rows where the left side is null: `x != 5` is true for a null x.
            BinaryOp::NotEq => binary_expr(l, Operator::IsDistinctFrom, r),
            BinaryOp::Lt => binary_expr(l, Operator::Lt, r),
            BinaryOp::Le => binary_expr(l, Operator::LtEq, r),
            BinaryOp::Gt => binary_expr(l, Operator::Gt, r),
            BinaryOp::Ge => binary_expr(l, Operator::GtEq, r),
            BinaryOp::EqCi => string_predicates::equals_ignore_case(l, r, false),
            BinaryOp::NotEqCi => string_predicates::equals_ignore_case(l, r, true),
            BinaryOp::String {
                predicate,
                case_sensitive,
                negated,
            } => string_predicates::string_predicate(predicate, case_sensitive, negated, l, r),
            BinaryOp::MatchesRegex => {
                let r = match r {
                    Expr::Literal(ScalarValue::Utf8(Some(pattern)), meta) => Expr::Literal(
                        ScalarValue::Utf8(Some(functions::kusto_regex(&pattern).into_owned())),
                        meta,
                    ),
                    other => other,
                };
                datafusion::functions::expr_fn::regexp_like(l, r, None)
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
                if is_int32_arithmetic(&self.type_of(&l, schema), &self.type_of(&r, schema)) =>
            {
                // KQL computes int arithmetic in long.
                let l = cast(l, DataType::Int64);
                let r = cast(r, DataType::Int64);
                return self.plan_binary(op, l, r, schema);
            }
            BinaryOp::Add => arithmetic(Operator::Plus),
            BinaryOp::Sub => arithmetic(Operator::Minus),
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                let (lt, rt) = (self.type_of(&l, schema), self.type_of(&r, schema));
                let operator = match op {
                    BinaryOp::Mul => Operator::Multiply,
                    BinaryOp::Div => Operator::Divide,
                    _ => Operator::Modulo,
                };
                timespan_arithmetic(operator, &l, lt.as_ref(), &r, rt.as_ref())
                    .or_else(|| decimal_arithmetic(operator, &l, lt.as_ref(), &r, rt.as_ref()))
                    .unwrap_or_else(|| match (operator, rt.as_ref()) {
                        // Integer division or modulo by zero is null in KQL, not an error.
                        (Operator::Divide, Some(t))
                            if t.is_integer() && lt.as_ref().is_some_and(DataType::is_integer) =>
                        {
                            binary_expr(l.clone(), operator, nullif(r.clone(), lit(0)))
                        }
                        // KQL's `%` is never negative: the remainder is taken into [0, |r|).
                        (Operator::Modulo, Some(t)) if t.is_numeric() => {
                            let divisor = if t.is_integer() {
                                nullif(datafusion::functions::expr_fn::abs(r.clone()), lit(0))
                            } else {
                                datafusion::functions::expr_fn::abs(r.clone())
                            };
                            let remainder =
                                binary_expr(l.clone(), Operator::Modulo, divisor.clone());
                            binary_expr(
                                binary_expr(remainder, Operator::Plus, divisor.clone()),
                                Operator::Modulo,
                                divisor,
                            )
                        }
                        _ => binary_expr(l.clone(), operator, r.clone()),
                    })
            }
        })
    }

    /// `* has "x"` and the other string operators over every column: true when any string or
    /// dynamic column matches (or, for a negated operator, when none does).
    fn plan_any_column(
        &mut self,
        op: BinaryOp,
        right: &KqlExpr,
        schema: &DFSchema,
        span: Span,
    ) -> Result<Expr> {
        let BinaryOp::String {
            predicate,
            case_sensitive,
            negated,
        } = op
        else {
            return Err(EngineError::bind(
                "`*` can only be tested with a string operator such as `has`",
                span,
            ));
        };
        let needle = self.plan_scalar(right, schema)?;
        let tests: Vec<Expr> = schema
            .fields()
            .iter()
            .filter(|f| {
                matches!(
                    f.data_type(),
                    DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8
                )
            })
            .map(|f| {
                string_predicates::string_predicate(
                    predicate,
                    case_sensitive,
                    false,
                    column(f.name()),
                    needle.clone(),
                )
            })
            .collect();
        let any = tests
            .into_iter()
            .reduce(Expr::or)
            .unwrap_or_else(|| lit(false));
        Ok(if negated { not(any) } else { any })
    }

    /// `left` and `right` converted as a comparison of the two converts them.
    fn align_operands(&self, left: Expr, right: Expr, schema: &DFSchema) -> (Expr, Expr) {
        let (lt, rt) = (self.type_of(&left, schema), self.type_of(&right, schema));
        operands::align(left, lt.as_ref(), right, rt.as_ref())
    }

    /// The tested value of `in`, converted as a comparison would convert it when every item has
    /// one type (`ResultType in (50126, 50053)` on a string column reads it as a long).
    fn align_with_items(&self, value: Expr, items: &[Expr], schema: &DFSchema) -> Expr {
        let Some(first) = items.first() else {
            return value;
        };
        let item_type = self.type_of(first, schema);
        if items[1..]
            .iter()
            .any(|item| self.type_of(item, schema) != item_type)
        {
            return value;
        }
        self.align_operands(value, first.clone(), schema).0
    }

    pub(super) fn type_of(&self, expr: &Expr, schema: &DFSchema) -> Option<DataType> {
        expr.get_type(schema).ok()
    }

    fn plan_list(
        &mut self,
        op: ListOp,
        expr: &KqlExpr,
        items: &[KqlExpr],
        schema: &DFSchema,
    ) -> Result<Expr> {
        let value = self.plan_scalar(expr, schema)?;
        // `x in (T | project c)`: a subquery.
        if let [single] = items {
            let case_insensitive = matches!(op, ListOp::InCi | ListOp::NotInCi);
            if self.is_tabular(single)
                && (case_insensitive || matches!(op, ListOp::In | ListOp::NotIn))
            {
                let relation = self.plan_tabular(single)?;
                let first = first_column(&relation, single.span)?;
                let lower = datafusion::functions::expr_fn::lower;
                // The listed column gets a name of its own: when it shares the tested column's
                // name, DataFusion's decorrelation into a semi join finds the name ambiguous.
                let listed_name = self.next_alias("in_list");
                let (tested, listed) = if case_insensitive {
                    (lower(value), lower(column(&first)).alias(&listed_name))
                } else {
                    (value, column(&first).alias(&listed_name))
                };
                let plan = relation.project(vec![listed])?;
                let test = in_subquery(tested, Arc::new(plan));
                let negated = matches!(op, ListOp::NotIn | ListOp::NotInCi);
                return Ok(if negated { not(test) } else { test });
            }
            // `x has_any (T)`: the terms are the distinct values of T's first column.
            if self.is_tabular(single) && matches!(op, ListOp::HasAny | ListOp::HasAll) {
                let relation = self.plan_tabular(single)?;
                let first = first_column(&relation, single.span)?;
                let terms = crate::functions::make_set::make_set(
                    column(&first),
                    crate::functions::make_set::MAX_COLLECTED,
                )
                .alias("terms");
                let plan = super::aggregate_plan(relation.plan, Vec::new(), vec![terms])?;
                let terms = scalar_subquery(Arc::new(plan));
                return Ok(string_predicates::has_any(
                    value,
                    vec![terms],
                    op == ListOp::HasAll,
                ));
            }
        }
        let mut planned = Vec::new();
        for item in items {
            let item_expr = self.plan_scalar(item, schema)?;
            // A constant dynamic array contributes its elements.
            match &item_expr {
                Expr::Literal(ScalarValue::LargeUtf8(Some(json)), _) => {
                    match serde_json::from_str::<serde_json::Value>(json) {
                        Ok(serde_json::Value::Array(elements)) => {
                            planned.extend(elements.iter().map(json_element_literal))
                        }
                        _ => planned.push(item_expr),
                    }
                }
                Expr::Literal(ScalarValue::LargeUtf8(None), _) => {}
                _ => planned.push(item_expr),
            }
        }
        Ok(match op {
            ListOp::In | ListOp::NotIn => {
                let value = self.align_with_items(value, &planned, schema);
                let value_type = self.type_of(&value, schema);
                let items = coerce_items(planned, value_type.as_ref());
                if items.is_empty() {
                    lit(op == ListOp::NotIn)
                } else {
                    kusto_in_list(value, items, op == ListOp::NotIn)
                }
            }
            ListOp::InCi | ListOp::NotInCi
                if matches!(
                    self.type_of(&value, schema),
                    Some(DataType::Utf8 | DataType::Utf8View)
                ) && constant_strings(&planned).is_some() =>
            {
                let needles = constant_strings(&planned).unwrap_or_default();
                string_predicates::in_ignore_case(value, needles, op == ListOp::NotInCi)
            }
            ListOp::InCi | ListOp::NotInCi => {
                let lower = |e: Expr| datafusion::functions::expr_fn::lower(e);
                let items: Vec<Expr> = planned.into_iter().map(lower).collect();
                if items.is_empty() {
                    lit(op == ListOp::NotInCi)
                } else {
                    kusto_in_list(lower(value), items, op == ListOp::NotInCi)
                }
            }
            ListOp::HasAny => string_predicates::has_any(value, planned, false),
            ListOp::HasAll => string_predicates::has_any(value, planned, true),
        })
    }

    fn plan_call(
        &mut self,
        function: &KqlExpr,
        args: &[Arg],
        schema: &DFSchema,
        span: Span,
    ) -> Result<Expr> {
        let ExprKind::Name { name } = &function.kind else {
            return Err(EngineError::unsupported("calls of this form", span));
        };
        let name = name.name.as_str();
        if let Some(window) = self.plan_window_call(name, args, schema, span) {
            return window;
        }
        match name {
            "pack_all" => return self.pack_all(args, schema, span),
            "bin_auto" => return self.bin_auto(args, schema, span),
            "column_names_of" => return self.column_names_of(args, span),
            "row_window_session" => return self.row_window_session(args, schema, span),
            "toscalar" => {
                let [arg] = args else {
                    return Err(EngineError::bind("toscalar() takes one argument", span));
                };
                return if self.is_tabular(&arg.value) {
                    self.scalar_subquery(&arg.value)
                } else {
                    self.plan_scalar(&arg.value, schema)
                };
            }
            "typeof" => {
                // A type as a value: a typed null, so that callers read the type from it.
                let type_name = match args.first().map(|a| &a.value.kind) {
                    Some(ExprKind::Name { name }) => name.name.clone(),
                    _ => return Err(EngineError::bind("typeof() takes a type name", span)),
                };
                let ty = KustoType::from_name(&type_name).ok_or_else(|| {
                    EngineError::bind(format!("unknown type `{type_name}`"), span)
                })?;
                return Ok(lit(ScalarValue::try_from(&arrow_type(ty))?));
            }
            "ingestion_time" => {
                // Quarry's workspace keeps no per-record ingestion time; the record's own time
                // column is the closest it has (exports are ingested moments after the event).
                if !args.is_empty() {
                    return Err(EngineError::bind(
                        "ingestion_time() takes no arguments",
                        span,
                    ));
                }
                let time_column = ["TimeGenerated", "Timestamp"]
                    .into_iter()
                    .find(|name| schema.field_with_unqualified_name(name).is_ok());
                return Ok(match time_column {
                    Some(name) => super::column(name),
                    None => lit(ScalarValue::TimestampNanosecond(None, None)),
                });
            }
            "column_ifexists" | "columnifexists" => {
                let (Some(first), Some(default)) = (args.first(), args.get(1)) else {
                    return Err(EngineError::bind(
                        "column_ifexists() takes a column name and a default",
                        span,
                    ));
                };
                let column_name = match &first.value.kind {
                    ExprKind::Literal {
                        value: Literal::String { value, .. },
                    } => value.clone(),
                    _ => {
                        return Err(EngineError::bind(
                            "column_ifexists() takes a column name string",
                            first.value.span,
                        ))
                    }
                };
                return if schema.fields().iter().any(|f| f.name() == &column_name) {
                    Ok(column(&column_name))
                } else {
                    self.plan_scalar(&default.value, schema)
                };
            }
            _ => {}
        }
        if let Some(Binding::Function(def)) = self.lookup(name).cloned() {
            let saved = self.row_schema.replace(schema.clone());
            let called = self.call_function(name, &def, args, span, None);
            self.row_schema = saved;
            return match called? {
                Bound::Scalar(expr) => Ok(expr),
                Bound::Tabular(_) => Err(EngineError::bind(
                    format!("`{name}()` returns a table, not a value"),
                    span,
                )),
            };
        }
        if super::summarize::is_aggregate(name) {
            return Err(EngineError::bind(
                format!("the aggregate `{name}()` can only be used in summarize, make-series or top-nested"),
                span,
            ));
        }
        let mut planned = Vec::with_capacity(args.len());
        for arg in args {
            let expr = self.plan_scalar(&arg.value, schema)?;
            let data_type = self.type_of(&expr, schema).unwrap_or(DataType::Null);
            planned.push(PlannedArg {
                expr,
                data_type,
                span: arg.value.span,
            });
        }
        let context = self.call_context(span);
        functions::plan_scalar_call(name, &planned, &context).map_err(|error| match error {
            EngineError::NotSupported { .. }
                if !functions::scalar_function_names().contains(&name) =>
            {
                let names = functions::scalar_function_names();
                let message = format!("unknown function `{name}()`");
                match closest(name, names.iter().copied()) {
                    Some(best) => EngineError::bind_with_help(
                        message,
                        span,
                        format!("did you mean `{best}()`?"),
                    ),
                    None => EngineError::NotSupported {
                        feature: format!("function {name}()"),
                        span,
                    },
                }
            }
            other => other,
        })
    }
}

/// True when integer arithmetic involves an `int`, which KQL widens to `long`.
fn is_int32_arithmetic(l: &Option<DataType>, r: &Option<DataType>) -> bool {
    let integer = |t: &Option<DataType>| t.as_ref().is_some_and(|t| t.is_integer());
    let int32 = |t: &Option<DataType>| {
        matches!(t, Some(DataType::Int32 | DataType::Int16 | DataType::Int8))
    };
    integer(l) && integer(r) && (int32(l) || int32(r))
}

/// `timespan * number`, `number * timespan`, `timespan / number` and `timespan / timespan`,
/// computed on nanoseconds since DataFusion has no such arithmetic on durations.
fn timespan_arithmetic(
    operator: Operator,
    l: &Expr,
    lt: Option<&DataType>,
    r: &Expr,
    rt: Option<&DataType>,
) -> Option<Expr> {
    let duration = |t: Option<&DataType>| matches!(t, Some(DataType::Duration(_)));
    let number = |t: Option<&DataType>| t.is_some_and(|t| t.is_numeric());
    let nanos = |e: &Expr| cast(cast(e.clone(), DataType::Int64), DataType::Float64);
    let real = |e: &Expr| cast(e.clone(), DataType::Float64);
    let to_duration = |e: Expr| {
        cast(
            cast(
                datafusion::functions::expr_fn::round(vec![e]),
                DataType::Int64,
            ),
            DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond),
        )
    };
    match operator {
        Operator::Multiply if duration(lt) && number(rt) => Some(to_duration(binary_expr(
            nanos(l),
            Operator::Multiply,
            real(r),
        ))),
        Operator::Multiply if number(lt) && duration(rt) => Some(to_duration(binary_expr(
            real(l),
            Operator::Multiply,
            nanos(r),
        ))),
        Operator::Divide if duration(lt) && duration(rt) => Some(binary_expr(
            nanos(l),
            Operator::Divide,
            nullif(nanos(r), lit(0.0)),
        )),
        Operator::Divide if duration(lt) && number(rt) => Some(to_duration(binary_expr(
            nanos(l),
            Operator::Divide,
            nullif(real(r), lit(0.0)),
        ))),
        Operator::Modulo if duration(lt) && duration(rt) => Some(cast(
            binary_expr(
                cast(l.clone(), DataType::Int64),
                Operator::Modulo,
                nullif(cast(r.clone(), DataType::Int64), lit(0i64)),
            ),
            DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Nanosecond),
        )),
        _ => None,
    }
}

/// `decimal * decimal` and `decimal / decimal`: DataFusion widens the scale of the result
/// (18 + 18 digits) until any value overflows, so the product or quotient is taken in reals
/// (the precision Kusto's own decimal results show) and converted back.
fn decimal_arithmetic(
    operator: Operator,
    l: &Expr,
    lt: Option<&DataType>,
    r: &Expr,
    rt: Option<&DataType>,
) -> Option<Expr> {
    let decimal = |t: Option<&DataType>| matches!(t, Some(DataType::Decimal128(..)));
    if !matches!(operator, Operator::Multiply | Operator::Divide) || !(decimal(lt) || decimal(rt)) {
        return None;
    }
    let real = |e: &Expr| cast(e.clone(), DataType::Float64);
    let divisor = if operator == Operator::Divide {
        nullif(real(r), lit(0.0))
    } else {
        real(r)
    };
    Some(cast(
        binary_expr(real(l), operator, divisor),
        crate::types::arrow_type(crate::types::KustoType::Decimal),
    ))
}

/// The name of a subquery's first column, the one `toscalar`, `in (T)` and `has_any (T)` read.
fn first_column(relation: &super::Relation, span: Span) -> Result<String> {
    relation
        .schema()
        .fields()
        .first()
        .map(|f| f.name().clone())
        .ok_or_else(|| EngineError::bind("the subquery has no columns", span))
}

/// A JSON array element as a literal of the matching Arrow type.
fn json_element_literal(value: &serde_json::Value) -> Expr {
    lit(match value {
        serde_json::Value::String(s) => ScalarValue::Utf8(Some(s.clone())),
        serde_json::Value::Bool(b) => ScalarValue::Boolean(Some(*b)),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int64(Some(i)),
            None => ScalarValue::Float64(n.as_f64()),
        },
        serde_json::Value::Null => ScalarValue::Utf8(None),
        other => ScalarValue::LargeUtf8(Some(other.to_string())),
    })
}

/// Casts string list items to the tested value's type where KQL would compare them as such.
fn coerce_items(items: Vec<Expr>, value_type: Option<&DataType>) -> Vec<Expr> {
    match value_type {
        Some(DataType::LargeUtf8) => items
            .into_iter()
            .map(|item| match item {
                Expr::Literal(ScalarValue::Utf8(Some(s)), _) => lit(ScalarValue::LargeUtf8(Some(
                    serde_json::Value::String(s).to_string(),
                ))),
                other => other,
            })
            .collect(),
        _ => items,
    }
}
