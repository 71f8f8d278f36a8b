//! The time window of a query: timespan literals and constant timespan arithmetic, and the choice
//! of one window among the lookbacks the walk found (`ago(14d)`, `now() - lookback`, `now(-1d)`).

use super::TimeWindow;
use quarry_kql::ast::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};
use std::ops::Range;

/// A lookback the walk found: an `ago(…)` (or `now() - …`) in a filter, a `let`, a range.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lookback {
    /// How far back, when it is a constant.
    pub seconds: Option<i64>,
    /// The call (or subtraction) as written.
    pub text: String,
    /// Where it is.
    pub span: Range<usize>,
}

/// A `{{StartTimeISO}}`-style template that sets the window from outside.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TimeTemplate {
    /// The placeholder as written.
    pub text: String,
    /// Where it is.
    pub span: Range<usize>,
}

/// Deepest chain of `let` names followed while evaluating (`let a = b; let b = 1d;`); it also
/// stops a name that is bound to itself.
const MAX_EVAL_DEPTH: usize = 32;

/// Seconds per unit, for every unit spelling KQL accepts after a number.
const UNITS: &[(&[&str], f64)] = &[
    (&["d", "day", "days"], 86_400.0),
    (&["h", "hr", "hrs", "hour", "hours"], 3_600.0),
    (&["m", "min", "minute", "minutes"], 60.0),
    (&["s", "sec", "second", "seconds"], 1.0),
    (
        &[
            "ms",
            "milli",
            "millis",
            "millisec",
            "millisecond",
            "milliseconds",
        ],
        1e-3,
    ),
    (
        &["micro", "micros", "microsec", "microsecond", "microseconds"],
        1e-6,
    ),
    (
        &["nano", "nanos", "nanosec", "nanosecond", "nanoseconds"],
        1e-9,
    ),
    (&["tick", "ticks"], 1e-7),
];

/// Seconds in a timespan written as a literal (`14d`, `1.5h`, `100ms`) or as the text of
/// `time(…)`/`timespan(…)` (`1.00:00:00`, `00:30:00`, `2` meaning two days).
pub(crate) fn parse_timespan(text: &str) -> Option<f64> {
    let text = text.trim();
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest.trim_start()),
        None => (1.0, text),
    };
    if body.is_empty() {
        return None;
    }
    let seconds = if body.contains(':') {
        parse_clock(body)?
    } else {
        let split = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (number, unit) = body.split_at(split);
        let number: f64 = number.parse().ok()?;
        if unit.is_empty() {
            // A bare number inside `time(…)` counts days.
            number * 86_400.0
        } else {
            let unit = unit.to_ascii_lowercase();
            let per = UNITS
                .iter()
                .find(|(names, _)| names.contains(&unit.as_str()))?
                .1;
            number * per
        }
    };
    seconds.is_finite().then_some(sign * seconds)
}

/// `[d.]hh:mm[:ss[.fffffff]]`.
fn parse_clock(text: &str) -> Option<f64> {
    let first_colon = text.find(':')?;
    let (days, clock) = match text[..first_colon].find('.') {
        Some(dot) => (text[..dot].parse::<f64>().ok()?, &text[dot + 1..]),
        None => (0.0, text),
    };
    let mut parts = clock.split(':');
    let hours: f64 = parts.next()?.parse().ok()?;
    let minutes: f64 = parts.next()?.parse().ok()?;
    let seconds: f64 = match parts.next() {
        Some(s) => s.parse().ok()?,
        None => 0.0,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(days * 86_400.0 + hours * 3_600.0 + minutes * 60.0 + seconds)
}

#[derive(Debug, Clone, Copy)]
enum Value {
    Seconds(f64),
    Number(f64),
}

/// The constant timespan `expr` evaluates to, in seconds, following `let` names through
/// `lookup`; `None` when it is not a constant timespan.
pub(crate) fn eval_seconds<'a>(
    expr: &'a Expr,
    lookup: &dyn Fn(&str) -> Option<&'a Expr>,
) -> Option<f64> {
    match eval(expr, lookup, 0)? {
        Value::Seconds(s) => Some(s),
        Value::Number(_) => None,
    }
}

fn eval<'a>(
    expr: &'a Expr,
    lookup: &dyn Fn(&str) -> Option<&'a Expr>,
    depth: usize,
) -> Option<Value> {
    if depth > MAX_EVAL_DEPTH {
        return None;
    }
    let next = |e: &'a Expr| eval(e, lookup, depth + 1);
    match &expr.kind {
        ExprKind::Literal { value } => match value {
            Literal::Timespan { text } => parse_timespan(text).map(Value::Seconds),
            Literal::Typed { type_name, text }
                if type_name.eq_ignore_ascii_case("time")
                    || type_name.eq_ignore_ascii_case("timespan") =>
            {
                parse_timespan(text).map(Value::Seconds)
            }
            Literal::Long { value } => Some(Value::Number(*value as f64)),
            Literal::Real { text } => text.parse().ok().map(Value::Number),
            _ => None,
        },
        ExprKind::Paren { inner } => next(inner),
        ExprKind::Unary { op, operand } => match (op, next(operand)?) {
            (UnaryOp::Plus, v) => Some(v),
            (UnaryOp::Negate, Value::Seconds(s)) => Some(Value::Seconds(-s)),
            (UnaryOp::Negate, Value::Number(n)) => Some(Value::Number(-n)),
        },
        ExprKind::Binary { op, left, right } => {
            let (l, r) = (next(left)?, next(right)?);
            let value = match (op, l, r) {
                (BinaryOp::Add, Value::Seconds(a), Value::Seconds(b)) => Value::Seconds(a + b),
                (BinaryOp::Sub, Value::Seconds(a), Value::Seconds(b)) => Value::Seconds(a - b),
                (BinaryOp::Add, Value::Number(a), Value::Number(b)) => Value::Number(a + b),
                (BinaryOp::Sub, Value::Number(a), Value::Number(b)) => Value::Number(a - b),
                (BinaryOp::Mul, Value::Seconds(a), Value::Number(b))
                | (BinaryOp::Mul, Value::Number(b), Value::Seconds(a)) => Value::Seconds(a * b),
                (BinaryOp::Mul, Value::Number(a), Value::Number(b)) => Value::Number(a * b),
                (BinaryOp::Div, Value::Seconds(a), Value::Number(b)) if b != 0.0 => {
                    Value::Seconds(a / b)
                }
                (BinaryOp::Div, Value::Number(a), Value::Number(b)) if b != 0.0 => {
                    Value::Number(a / b)
                }
                _ => return None,
            };
            Some(value)
        }
        ExprKind::Name { name } => next(lookup(&name.name)?),
        ExprKind::Call { function, args } => {
            let ExprKind::Name { name } = &function.kind else {
                return None;
            };
            let [arg] = args.as_slice() else {
                return None;
            };
            match name.name.as_str() {
                "totimespan" | "timespan" | "time" => match &arg.value.kind {
                    ExprKind::Literal {
                        value: Literal::String { value, .. },
                    } => parse_timespan(value).map(Value::Seconds),
                    _ => next(&arg.value),
                },
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whole seconds of a lookback, when it is a positive, representable duration.
pub(crate) fn whole_seconds(seconds: f64) -> Option<i64> {
    (seconds.is_finite() && seconds > 0.0 && seconds < 1e15).then(|| seconds.round() as i64)
}

/// The query's window: the largest constant lookback; else the `{{StartTimeISO}}` templates;
/// else the first lookback that is not a constant (`ago(lookback)` with `lookback` a parameter).
pub(crate) fn choose(
    lookbacks: &[Lookback],
    template: Option<&TimeTemplate>,
) -> Option<TimeWindow> {
    let templated = template.is_some();
    let mut best: Option<&Lookback> = None;
    for lookback in lookbacks {
        if let Some(seconds) = lookback.seconds {
            if best.and_then(|b| b.seconds).is_none_or(|b| seconds > b) {
                best = Some(lookback);
            }
        }
    }
    if let Some(best) = best {
        return Some(TimeWindow {
            lookback_seconds: best.seconds,
            templated,
            text: best.text.clone(),
            span: best.span.clone(),
        });
    }
    if let Some(template) = template {
        return Some(TimeWindow {
            lookback_seconds: None,
            templated,
            text: template.text.clone(),
            span: template.span.clone(),
        });
    }
    lookbacks.first().map(|l| TimeWindow {
        lookback_seconds: None,
        templated: false,
        text: l.text.clone(),
        span: l.span.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timespan_literals_in_every_unit() {
        let cases = [
            ("1d", 86_400.0),
            ("14d", 1_209_600.0),
            ("12h", 43_200.0),
            ("30m", 1_800.0),
            ("10s", 10.0),
            ("100ms", 0.1),
            ("1.5d", 129_600.0),
            ("2days", 172_800.0),
            ("5min", 300.0),
            ("10tick", 1e-6),
            ("1.00:00:00", 86_400.0),
            ("00:30:00", 1_800.0),
            ("10:00", 36_000.0),
            ("0.12:34:56.5", 45_296.5),
            ("2", 172_800.0),
            ("-1d", -86_400.0),
            ("1H", 3_600.0),
        ];
        for (text, expected) in cases {
            let got = parse_timespan(text).unwrap_or(f64::NAN);
            assert!((got - expected).abs() < 1e-9, "{text}: {got} != {expected}");
        }
        for bad in ["", "d", "1x", "1:2:3:4", "abc", "-"] {
            assert_eq!(parse_timespan(bad), None, "{bad}");
        }
    }

    fn first_let_value_and_eval(query: &str) -> Option<f64> {
        let parsed = quarry_kql::parse(query);
        let statements = &parsed.query.statements;
        let lookup = |name: &str| {
            statements.iter().find_map(|s| match s {
                quarry_kql::ast::Statement::Let {
                    name: n,
                    value: quarry_kql::ast::LetValue::Expr { expr },
                    ..
                } if n.name == name => Some(expr),
                _ => None,
            })
        };
        let quarry_kql::ast::Statement::Query(expr) = statements.last()? else {
            return None;
        };
        eval_seconds(expr, &lookup)
    }

    #[test]
    fn constant_arithmetic_through_lets() {
        assert_eq!(
            first_let_value_and_eval("let a = 1d; let b = 12h; print a + b"),
            None,
            "a print is not a timespan expression"
        );
        let eval = |q: &str| first_let_value_and_eval(q);
        assert_eq!(eval("let a = 1d; let b = 12h; a + b"), Some(129_600.0));
        assert_eq!(eval("let a = 1d; a * 2"), Some(172_800.0));
        assert_eq!(eval("let a = 2d; a / 2"), Some(86_400.0));
        assert_eq!(eval("time(1.00:00:00)"), Some(86_400.0));
        assert_eq!(eval("timespan(2h)"), Some(7_200.0));
        assert_eq!(eval("totimespan('1.00:00:00')"), Some(86_400.0));
        assert_eq!(eval("-(1d)"), Some(-86_400.0));
        assert_eq!(eval("let a = a; a"), None, "a self-reference stops");
        assert_eq!(eval("let a = now(); a"), None);
        assert_eq!(eval("let a = 1d; a / 0"), None);
        assert_eq!(eval("5"), None, "a number is not a timespan");
    }

    fn lookback(seconds: Option<i64>, text: &str, start: usize) -> Lookback {
        Lookback {
            seconds,
            text: text.into(),
            span: start..start + text.len(),
        }
    }

    #[test]
    fn the_largest_constant_wins_then_templates_then_variables() {
        let template = TimeTemplate {
            text: "{{StartTimeISO}}".into(),
            span: 3..19,
        };
        let lookbacks = vec![
            lookback(None, "ago(x)", 0),
            lookback(Some(3_600), "ago(1h)", 10),
            lookback(Some(1_209_600), "ago(14d)", 20),
            lookback(Some(86_400), "ago(1d)", 30),
        ];
        let window = choose(&lookbacks, Some(&template)).unwrap();
        assert_eq!(window.lookback_seconds, Some(1_209_600));
        assert_eq!(window.text, "ago(14d)");
        assert_eq!(window.span, 20..28);
        assert!(window.templated);
        let window = choose(&lookbacks[..1], Some(&template)).unwrap();
        assert_eq!((window.lookback_seconds, window.templated), (None, true));
        assert_eq!(window.text, "{{StartTimeISO}}");
        let window = choose(&lookbacks[..1], None).unwrap();
        assert_eq!((window.lookback_seconds, window.templated), (None, false));
        assert_eq!(window.text, "ago(x)");
        assert_eq!(choose(&[], None), None);
    }

    #[test]
    fn whole_seconds_rejects_what_is_not_a_lookback() {
        assert_eq!(whole_seconds(0.1), Some(0));
        assert_eq!(whole_seconds(1.6), Some(2));
        assert_eq!(whole_seconds(-5.0), None);
        assert_eq!(whole_seconds(0.0), None);
        assert_eq!(whole_seconds(f64::INFINITY), None);
    }
}
