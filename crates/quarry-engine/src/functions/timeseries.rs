//! Series (time-series array) functions: `series_fill_*`, element-wise `series_*` arithmetic,
//! comparisons and math, `series_stats`, `series_fit_line`, `series_outliers`,
//! `series_seasonal`, `series_periods_detect`, `series_decompose*`, `series_fir`/`series_iir`,
//! plus `tohex`.
//!
//! A series is a `dynamic` JSON array of numbers (possibly with nulls). Kusto functions that
//! return several values (`series_fit_line`, `series_decompose`, ...) are assigned as tuples in
//! KQL; assigned to a single name Kusto keeps the first value, and so do these plans. The
//! `*_dynamic` variants return all values as a property bag. `series_stats` returns the bag of
//! `series_stats_dynamic` (tuple assignment is not planned yet).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::Expr;
use serde_json::{Map, Number, Value};

use super::dynamic::{row_call, scalar_f64, scalar_i64, scalar_str, scalar_to_json, RowFn};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};

/// One series element: Kusto keeps integers integral where it can.
#[derive(Debug, Clone, Copy, PartialEq)]
enum N {
    I(i64),
    F(f64),
}

impl N {
    fn f(self) -> f64 {
        match self {
            N::I(v) => v as f64,
            N::F(v) => v,
        }
    }
}

type Series = Vec<Option<N>>;

fn json_num(value: &Value) -> Option<N> {
    match value {
        Value::Number(n) => n.as_i64().map(N::I).or_else(|| n.as_f64().map(N::F)),
        Value::Bool(b) => Some(N::I(i64::from(*b))),
        Value::String(s) => match s.as_str() {
            "NaN" => Some(N::F(f64::NAN)),
            "Infinity" => Some(N::F(f64::INFINITY)),
            "-Infinity" => Some(N::F(f64::NEG_INFINITY)),
            _ => None,
        },
        _ => None,
    }
}

/// The series in argument `index`, `None` when it is null or not an array.
fn series(args: &[ScalarValue], index: usize) -> Option<Series> {
    match args.get(index).and_then(scalar_to_json)? {
        Value::Array(items) => Some(items.iter().map(json_num).collect()),
        _ => None,
    }
}

/// A scalar numeric argument.
fn num(args: &[ScalarValue], index: usize) -> Option<N> {
    let value = args.get(index)?;
    if value.is_null() {
        return None;
    }
    match value {
        ScalarValue::Float32(_) | ScalarValue::Float64(_) | ScalarValue::Decimal128(..) => {
            scalar_f64(value).map(N::F)
        }
        ScalarValue::LargeUtf8(_) => json_num(&scalar_to_json(value)?),
        other => scalar_i64(other).map(N::I),
    }
}

fn real_arg(args: &[ScalarValue], index: usize, default: f64) -> f64 {
    num(args, index).map(N::f).unwrap_or(default)
}

fn int_arg(args: &[ScalarValue], index: usize, default: i64) -> i64 {
    match num(args, index) {
        Some(N::I(v)) => v,
        Some(N::F(v)) if v.is_finite() => v as i64,
        _ => default,
    }
}

fn bool_arg(args: &[ScalarValue], index: usize, default: bool) -> bool {
    match args.get(index) {
        Some(ScalarValue::Boolean(Some(b))) => *b,
        Some(v) if !v.is_null() => scalar_i64(v).map(|v| v != 0).unwrap_or(default),
        _ => default,
    }
}

fn str_arg<'a>(args: &'a [ScalarValue], index: usize, default: &'a str) -> &'a str {
    args.get(index).and_then(scalar_str).unwrap_or(default)
}

fn real_json(value: f64) -> Value {
    match Number::from_f64(value) {
        Some(number) => Value::Number(number),
        None if value.is_nan() => Value::String("NaN".into()),
        None if value > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

fn n_json(value: Option<N>) -> Value {
    match value {
        None => Value::Null,
        Some(N::I(v)) => Value::Number(v.into()),
        Some(N::F(v)) => real_json(v),
    }
}

fn dynamic(value: Value) -> ScalarValue {
    ScalarValue::LargeUtf8(serde_json::to_string(&value).ok())
}

fn series_out(values: impl IntoIterator<Item = Option<N>>) -> ScalarValue {
    dynamic(Value::Array(values.into_iter().map(n_json).collect()))
}

fn reals_out(values: &[f64]) -> ScalarValue {
    series_out(values.iter().map(|v| Some(N::F(*v))))
}

fn null_dynamic() -> DfResult<ScalarValue> {
    Ok(ScalarValue::LargeUtf8(None))
}

// ---------------------------------------------------------------------------------------------
// Missing values
// ---------------------------------------------------------------------------------------------

/// The series with elements equal to the placeholder argument (when given) made missing.
fn with_missing(args: &[ScalarValue], placeholder_index: usize) -> Option<Series> {
    let mut items = series(args, 0)?;
    if let Some(placeholder) = num(args, placeholder_index) {
        for item in items.iter_mut() {
            if item.is_some_and(|v| v.f() == placeholder.f()) {
                *item = None;
            }
        }
    }
    Some(items)
}

fn fill_forward_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(mut items) = with_missing(args, 1) else {
        return null_dynamic();
    };
    let mut last = None;
    for item in items.iter_mut() {
        match item {
            Some(v) => last = Some(*v),
            None => *item = last,
        }
    }
    Ok(series_out(items))
}

fn fill_backward_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(mut items) = with_missing(args, 1) else {
        return null_dynamic();
    };
    let mut next = None;
    for item in items.iter_mut().rev() {
        match item {
            Some(v) => next = Some(*v),
            None => *item = next,
        }
    }
    Ok(series_out(items))
}

fn fill_const_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = with_missing(args, 2) else {
        return null_dynamic();
    };
    let constant = num(args, 1).unwrap_or(N::I(0));
    Ok(series_out(items.into_iter().map(|v| v.or(Some(constant)))))
}

fn fill_linear_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = with_missing(args, 1) else {
        return null_dynamic();
    };
    let fill_edges = bool_arg(args, 2, true);
    let constant = num(args, 3).unwrap_or(N::F(0.0));
    let known: Vec<usize> = (0..items.len()).filter(|&i| items[i].is_some()).collect();
    if known.is_empty() {
        return Ok(series_out(items.iter().map(|_| Some(constant))));
    }
    let integral = items.iter().flatten().all(|v| matches!(v, N::I(_)));
    let mut out = items.clone();
    for pair in known.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let (va, vb) = (
            items[a].unwrap_or(N::F(0.0)).f(),
            items[b].unwrap_or(N::F(0.0)).f(),
        );
        for (i, slot) in out.iter_mut().enumerate().take(b).skip(a + 1) {
            let value = va + (vb - va) * (i - a) as f64 / (b - a) as f64;
            *slot = Some(if integral {
                N::I(value as i64)
            } else {
                N::F(value)
            });
        }
    }
    if fill_edges {
        let (first, last) = (known[0], known[known.len() - 1]);
        for slot in out.iter_mut().take(first) {
            *slot = items[first];
        }
        for slot in out.iter_mut().skip(last + 1) {
            *slot = items[last];
        }
    }
    Ok(series_out(out))
}

// ---------------------------------------------------------------------------------------------
// Element-wise operations
// ---------------------------------------------------------------------------------------------

/// A binary operand: a series or a scalar broadcast over the other series.
enum Operand {
    Series(Series),
    Scalar(Option<N>),
}

impl Operand {
    fn of(args: &[ScalarValue], index: usize) -> Option<Operand> {
        let value = args.get(index)?;
        if let Some(items) = series(args, index) {
            return Some(Operand::Series(items));
        }
        if matches!(value, ScalarValue::LargeUtf8(Some(_))) {
            if let Some(Value::Object(_)) = scalar_to_json(value) {
                return None;
            }
        }
        Some(Operand::Scalar(num(args, index)))
    }

    fn len(&self) -> Option<usize> {
        match self {
            Operand::Series(items) => Some(items.len()),
            Operand::Scalar(_) => None,
        }
    }

    fn get(&self, i: usize) -> Option<N> {
        match self {
            Operand::Series(items) => items.get(i).copied().flatten(),
            Operand::Scalar(v) => *v,
        }
    }
}

fn binary(args: &[ScalarValue], op: impl Fn(N, N) -> Option<Value>) -> DfResult<ScalarValue> {
    let (Some(a), Some(b)) = (Operand::of(args, 0), Operand::of(args, 1)) else {
        return null_dynamic();
    };
    let len = match (a.len(), b.len()) {
        (None, None) => return null_dynamic(),
        (x, y) => x.unwrap_or(0).max(y.unwrap_or(0)),
    };
    let out = (0..len)
        .map(|i| match (a.get(i), b.get(i)) {
            (Some(x), Some(y)) => op(x, y).unwrap_or(Value::Null),
            _ => Value::Null,
        })
        .collect();
    Ok(dynamic(Value::Array(out)))
}

fn int_or_real(
    x: N,
    y: N,
    int: fn(i64, i64) -> Option<i64>,
    real: fn(f64, f64) -> f64,
) -> Option<Value> {
    Some(match (x, y) {
        (N::I(a), N::I(b)) => match int(a, b) {
            Some(v) => Value::Number(v.into()),
            None => real_json(real(a as f64, b as f64)),
        },
        _ => real_json(real(x.f(), y.f())),
    })
}

fn add_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    binary(args, |x, y| {
        int_or_real(x, y, i64::checked_add, |a, b| a + b)
    })
}

fn subtract_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    binary(args, |x, y| {
        int_or_real(x, y, i64::checked_sub, |a, b| a - b)
    })
}

fn multiply_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    binary(args, |x, y| {
        int_or_real(x, y, i64::checked_mul, |a, b| a * b)
    })
}

fn divide_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    binary(args, |x, y| Some(real_json(x.f() / y.f())))
}

fn pow_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    binary(args, |x, y| Some(real_json(x.f().powf(y.f()))))
}

fn compare(args: &[ScalarValue], pred: fn(f64, f64) -> bool) -> DfResult<ScalarValue> {
    binary(args, |x, y| {
        let result = match (x, y) {
            // Exact for integers beyond f64 precision.
            (N::I(a), N::I(b)) => pred(a.cmp(&b) as i64 as f64, 0.0),
            _ => pred(x.f(), y.f()),
        };
        Some(Value::Bool(result))
    })
}

fn greater_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    compare(args, |a, b| a > b)
}
fn greater_equals_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    compare(args, |a, b| a >= b)
}
fn less_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    compare(args, |a, b| a < b)
}
fn less_equals_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    compare(args, |a, b| a <= b)
}
fn equals_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    compare(args, |a, b| a == b)
}
fn not_equals_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    compare(args, |a, b| a != b)
}

/// The unary element-wise function called `name`.
fn unary_op(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "series_acos" => f64::acos,
        "series_asin" => f64::asin,
        "series_atan" => f64::atan,
        "series_cos" => f64::cos,
        "series_sin" => f64::sin,
        "series_tan" => f64::tan,
        "series_exp" => f64::exp,
        "series_log" => f64::ln,
        "series_ceiling" => f64::ceil,
        "series_floor" => f64::floor,
        "series_sign" => |v: f64| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        },
        _ => return None,
    })
}

macro_rules! unary_rows {
    ($($fn_name:ident => $kql:literal),* $(,)?) => {
        $(
            fn $fn_name(args: &[ScalarValue]) -> DfResult<ScalarValue> {
                unary(args, unary_op($kql).unwrap_or(|v| v))
            }
        )*
    };
}

unary_rows! {
    acos_row => "series_acos",
    asin_row => "series_asin",
    atan_row => "series_atan",
    cos_row => "series_cos",
    sin_row => "series_sin",
    tan_row => "series_tan",
    exp_row => "series_exp",
    log_row => "series_log",
    ceiling_row => "series_ceiling",
    floor_row => "series_floor",
    sign_row => "series_sign",
}

fn unary(args: &[ScalarValue], f: fn(f64) -> f64) -> DfResult<ScalarValue> {
    let Some(items) = series(args, 0) else {
        return null_dynamic();
    };
    Ok(series_out(
        items.into_iter().map(|v| v.map(|v| N::F(f(v.f())))),
    ))
}

fn abs_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = series(args, 0) else {
        return null_dynamic();
    };
    Ok(series_out(items.into_iter().map(|v| {
        v.map(|v| match v {
            N::I(i) => i.checked_abs().map(N::I).unwrap_or(N::F((i as f64).abs())),
            N::F(f) => N::F(f.abs()),
        })
    })))
}

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

fn values(items: &Series) -> Vec<f64> {
    items.iter().flatten().map(|v| v.f()).collect()
}

fn real(value: Option<f64>) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Float64(value))
}

fn sum_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    real(series(args, 0).map(|s| values(&s).iter().sum()))
}

fn product_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    real(series(args, 0).map(|s| values(&s).iter().product()))
}

fn magnitude_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    real(series(args, 0).map(|s| values(&s).iter().map(|v| v * v).sum::<f64>().sqrt()))
}

/// The element pairs of two operands (a scalar broadcast), missing elements as 0.
fn pairs(args: &[ScalarValue]) -> Option<Vec<(f64, f64)>> {
    let (a, b) = (Operand::of(args, 0)?, Operand::of(args, 1)?);
    let len = match (a.len(), b.len()) {
        (None, None) => return None,
        (x, y) => x.unwrap_or(0).max(y.unwrap_or(0)),
    };
    Some(
        (0..len)
            .map(|i| {
                (
                    a.get(i).map(N::f).unwrap_or(0.0),
                    b.get(i).map(N::f).unwrap_or(0.0),
                )
            })
            .collect(),
    )
}

fn dot_product_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    real(pairs(args).map(|p| p.iter().map(|(a, b)| a * b).sum()))
}

fn cosine_similarity_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    real(pairs(args).map(|p| {
        let dot: f64 = p.iter().map(|(a, b)| a * b).sum();
        let ma = num(args, 2)
            .map(N::f)
            .unwrap_or_else(|| p.iter().map(|(a, _)| a * a).sum::<f64>().sqrt());
        let mb = num(args, 3)
            .map(N::f)
            .unwrap_or_else(|| p.iter().map(|(_, b)| b * b).sum::<f64>().sqrt());
        dot / (ma * mb)
    }))
}

fn pearson_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    real(pairs(args).map(|p| {
        let n = p.len() as f64;
        let (ma, mb) = (
            p.iter().map(|x| x.0).sum::<f64>() / n,
            p.iter().map(|x| x.1).sum::<f64>() / n,
        );
        let cov: f64 = p.iter().map(|(a, b)| (a - ma) * (b - mb)).sum();
        let va: f64 = p.iter().map(|(a, _)| (a - ma) * (a - ma)).sum();
        let vb: f64 = p.iter().map(|(_, b)| (b - mb) * (b - mb)).sum();
        cov / (va.sqrt() * vb.sqrt())
    }))
}

/// `series_stats_dynamic`: min, min_idx, max, max_idx, avg, stdev, variance (sample), sum, len.
fn stats_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = series(args, 0) else {
        return null_dynamic();
    };
    let ignore_nonfinite = bool_arg(args, 1, false);
    let mut min: Option<(f64, usize)> = None;
    let mut max: Option<(f64, usize)> = None;
    let mut kept = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(v) = item.map(N::f) else { continue };
        if ignore_nonfinite && !v.is_finite() {
            continue;
        }
        kept.push(v);
        if min.is_none_or(|(m, _)| v < m) {
            min = Some((v, i));
        }
        if max.is_none_or(|(m, _)| v > m) {
            max = Some((v, i));
        }
    }
    let n = kept.len();
    let sum: f64 = kept.iter().sum();
    let avg = sum / n as f64;
    let variance = if n > 1 {
        kept.iter().map(|v| (v - avg) * (v - avg)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let mut bag = Map::new();
    let opt_real = |v: Option<f64>| v.map(real_json).unwrap_or(Value::Null);
    bag.insert("min".into(), opt_real(min.map(|m| m.0)));
    bag.insert(
        "min_idx".into(),
        min.map(|m| Value::from(m.1 as i64)).unwrap_or(Value::Null),
    );
    bag.insert("max".into(), opt_real(max.map(|m| m.0)));
    bag.insert(
        "max_idx".into(),
        max.map(|m| Value::from(m.1 as i64)).unwrap_or(Value::Null),
    );
    let some_if = |v: f64| if n > 0 { Some(v) } else { None };
    bag.insert("avg".into(), opt_real(some_if(avg)));
    bag.insert("stdev".into(), opt_real(some_if(variance.sqrt())));
    bag.insert("variance".into(), opt_real(some_if(variance)));
    bag.insert("sum".into(), real_json(sum));
    bag.insert("len".into(), Value::from(n as i64));
    Ok(dynamic(Value::Object(bag)))
}

/// Least-squares line over `y` at x = 1..n: (slope, interception).
fn line_fit(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    if y.is_empty() {
        return (0.0, 0.0);
    }
    let mx = (n + 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        let dx = (i + 1) as f64 - mx;
        sxy += dx * (v - my);
        sxx += dx * dx;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    (slope, my - slope * mx)
}

struct FitLine {
    rsquare: f64,
    slope: f64,
    variance: f64,
    rvariance: f64,
    interception: f64,
    line: Vec<f64>,
}

fn fit_line(items: &Series) -> FitLine {
    let y: Vec<f64> = items.iter().map(|v| v.map(N::f).unwrap_or(0.0)).collect();
    let (slope, interception) = line_fit(&y);
    let line: Vec<f64> = (0..y.len())
        .map(|i| interception + slope * (i + 1) as f64)
        .collect();
    let n = y.len() as f64;
    let my = y.iter().sum::<f64>() / n;
    let sst: f64 = y.iter().map(|v| (v - my) * (v - my)).sum();
    let ssr: f64 = y.iter().zip(&line).map(|(v, f)| (v - f) * (v - f)).sum();
    let denom = (n - 1.0).max(1.0);
    FitLine {
        rsquare: if sst > 0.0 { 1.0 - ssr / sst } else { 1.0 },
        slope,
        variance: sst / denom,
        rvariance: ssr / denom,
        interception,
        line,
    }
}

/// `series_fit_line(x)` assigned to one name: the first tuple value, `rsquare`.
fn fit_line_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    real(series(args, 0).map(|s| fit_line(&s).rsquare))
}

fn fit_line_dynamic_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = series(args, 0) else {
        return null_dynamic();
    };
    let fit = fit_line(&items);
    let mut bag = Map::new();
    bag.insert("rsquare".into(), real_json(fit.rsquare));
    bag.insert("slope".into(), real_json(fit.slope));
    bag.insert("variance".into(), real_json(fit.variance));
    bag.insert("rvariance".into(), real_json(fit.rvariance));
    bag.insert("interception".into(), real_json(fit.interception));
    bag.insert(
        "line_fit".into(),
        Value::Array(fit.line.iter().map(|v| real_json(*v)).collect()),
    );
    Ok(dynamic(Value::Object(bag)))
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

fn coefficients(args: &[ScalarValue], index: usize) -> Option<Vec<f64>> {
    match args.get(index).and_then(scalar_to_json)? {
        Value::Array(items) => Some(
            items
                .iter()
                .map(|v| json_num(v).map(N::f).unwrap_or(0.0))
                .collect(),
        ),
        other => json_num(&other).map(|v| vec![v.f()]),
    }
}

fn iir_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let (Some(x), Some(b), Some(a)) = (
        series(args, 0),
        coefficients(args, 1),
        coefficients(args, 2),
    ) else {
        return null_dynamic();
    };
    let a0 = a.first().copied().unwrap_or(1.0);
    if a0 == 0.0 {
        return null_dynamic();
    }
    let x: Vec<f64> = x.iter().map(|v| v.map(N::f).unwrap_or(0.0)).collect();
    let mut y = vec![0.0; x.len()];
    for n in 0..x.len() {
        let mut acc = 0.0;
        for (i, bi) in b.iter().enumerate().take(n + 1) {
            acc += bi * x[n - i];
        }
        for (j, aj) in a.iter().enumerate().skip(1).take(n) {
            acc -= aj * y[n - j];
        }
        y[n] = acc / a0;
    }
    Ok(reals_out(&y))
}

fn fir_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let (Some(x), Some(mut filter)) = (series(args, 0), coefficients(args, 1)) else {
        return null_dynamic();
    };
    if bool_arg(args, 2, true) {
        let total: f64 = filter.iter().sum();
        if filter.iter().any(|v| *v < 0.0) || total == 0.0 {
            return null_dynamic();
        }
        filter.iter_mut().for_each(|v| *v /= total);
    }
    let shift = if bool_arg(args, 3, false) {
        (filter.len() as i64 - 1) / 2
    } else {
        0
    };
    let x: Vec<f64> = x.iter().map(|v| v.map(N::f).unwrap_or(0.0)).collect();
    let len = x.len() as i64;
    let y: Vec<f64> = (0..len)
        .map(|i| {
            filter
                .iter()
                .enumerate()
                .map(|(j, f)| {
                    let k = i + shift - j as i64;
                    if (0..len).contains(&k) {
                        f * x[k as usize]
                    } else {
                        0.0
                    }
                })
                .sum()
        })
        .collect();
    Ok(reals_out(&y))
}

// ---------------------------------------------------------------------------------------------
// Seasonality, outliers and decomposition
// ---------------------------------------------------------------------------------------------

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

/// The seasonal component: per phase, the median of the first `train` points in that phase.
fn seasonal(x: &[f64], period: usize, train: usize) -> Vec<f64> {
    if period < 2 {
        return vec![0.0; x.len()];
    }
    let medians: Vec<f64> = (0..period)
        .map(|phase| {
            let mut same: Vec<f64> = (phase..train.min(x.len()))
                .step_by(period)
                .map(|i| x[i])
                .collect();
            median(&mut same)
        })
        .collect();
    (0..x.len()).map(|i| medians[i % period]).collect()
}

/// Candidate periods in `[min, max]` with scores in [0, 1], best first: the autocorrelation at
/// each lag that is a local peak of the autocorrelation function. (Kusto's exact scoring is not
/// documented; this is an approximation.)
fn detect_periods(x: &[f64], min: usize, max: usize) -> Vec<(usize, f64)> {
    let n = x.len();
    let max = max.min(n / 2);
    if n < 4 || min > max {
        return Vec::new();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    let y: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let denom: f64 = y.iter().map(|v| v * v).sum::<f64>() / n as f64;
    if denom <= 0.0 {
        return Vec::new();
    }
    let acf = |lag: usize| -> f64 {
        if lag == 0 || lag >= n {
            return if lag == 0 { 1.0 } else { 0.0 };
        }
        let s: f64 = (0..n - lag).map(|i| y[i] * y[i + lag]).sum();
        s / (n - lag) as f64 / denom
    };
    let mut found: Vec<(usize, f64)> = (min.max(4)..=max)
        .filter_map(|p| {
            let r = acf(p);
            // A peak over two lags either side, so that the echoes of a short period (every
            // second lag of a day/night alternation) are not taken for periods.
            let peak = (p - 2..=p + 2).all(|q| q == p || r >= acf(q));
            (peak && r > 0.0).then_some((p, r.min(1.0)))
        })
        .collect();
    found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // A multiple of a better period is that period again, not a period of its own.
    let mut kept: Vec<(usize, f64)> = Vec::new();
    for candidate in found {
        if !kept.iter().any(|(p, _)| candidate.0 % p == 0) {
            kept.push(candidate);
        }
    }
    kept
}

fn periods_detect_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = series(args, 0) else {
        return null_dynamic();
    };
    let x: Vec<f64> = items.iter().map(|v| v.map(N::f).unwrap_or(0.0)).collect();
    let min = real_arg(args, 1, 4.0).max(4.0).ceil() as usize;
    let max = real_arg(args, 2, x.len() as f64 / 2.0).floor().max(0.0) as usize;
    let count = int_arg(args, 3, 1).max(1) as usize;
    let found = detect_periods(&x, min, max);
    // Kusto pads the result to `num_periods` with zeros.
    let periods: Vec<f64> = (0..count)
        .map(|i| found.get(i).map(|p| p.0 as f64).unwrap_or(0.0))
        .collect();
    Ok(reals_out(&periods))
}

fn seasonal_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = series(args, 0) else {
        return null_dynamic();
    };
    let x: Vec<f64> = items.iter().map(|v| v.map(N::f).unwrap_or(0.0)).collect();
    let period = match int_arg(args, 1, -1) {
        -1 => auto_period(&x, 0.6),
        p => p.max(0) as usize,
    };
    Ok(reals_out(&seasonal(&x, period, x.len())))
}

fn auto_period(x: &[f64], threshold: f64) -> usize {
    detect_periods(x, 4, x.len() / 2)
        .first()
        .filter(|(_, score)| *score >= threshold)
        .map(|(p, _)| *p)
        .unwrap_or(0)
}

/// Outlier scores by Tukey's test: 0 inside the [low, high] percentile range, otherwise the
/// distance past it in units of the (normal-equivalent) inter-quantile range.
fn outlier_scores(x: &[Option<f64>], kind: &str, low_pct: f64, high_pct: f64) -> Vec<f64> {
    let (low_pct, high_pct) = if kind == "tukey" {
        (25.0, 75.0)
    } else {
        (low_pct.clamp(2.0, 98.0), high_pct.clamp(2.0, 98.0))
    };
    let mut sorted: Vec<f64> = x
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return vec![0.0; x.len()];
    }
    let pct = |p: f64| {
        let rank = p / 100.0 * (sorted.len() - 1) as f64;
        let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
        sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
    };
    let (q_low, q_high) = (pct(low_pct), pct(high_pct));
    // Scale the range to the 25th-75th range it would be for normally distributed data.
    let z = |p: f64| inverse_normal(p / 100.0);
    let scale = (z(75.0) - z(25.0)) / (z(high_pct) - z(low_pct));
    let iqr = (q_high - q_low) * scale;
    x.iter()
        .map(|v| match v {
            Some(v) if *v > q_high => (v - q_high) / iqr,
            Some(v) if *v < q_low => (v - q_low) / iqr,
            _ => 0.0,
        })
        .map(|s| if s.is_nan() { 0.0 } else { s })
        .collect()
}

/// The standard normal quantile (Acklam's rational approximation).
fn inverse_normal(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

fn outliers_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = series(args, 0) else {
        return null_dynamic();
    };
    let kind = str_arg(args, 1, "ctukey").to_ascii_lowercase();
    let ignore = num(args, 2).map(N::f);
    let x: Vec<Option<f64>> = items
        .iter()
        .map(|v| v.map(N::f).filter(|v| Some(*v) != ignore))
        .collect();
    let scores = outlier_scores(&x, &kind, real_arg(args, 3, 10.0), real_arg(args, 4, 90.0));
    Ok(reals_out(&scores))
}

/// The components of `series_decompose`.
struct Decomposition {
    baseline: Vec<f64>,
    seasonal: Vec<f64>,
    trend: Vec<f64>,
    residual: Vec<f64>,
}

fn decompose(
    x: &[f64],
    seasonality: i64,
    trend: &str,
    test_points: i64,
    threshold: f64,
) -> Decomposition {
    let n = x.len();
    let train = n.saturating_sub(test_points.max(0) as usize);
    let period = match seasonality {
        s if s < 0 => auto_period(&x[..train], threshold),
        s => s as usize,
    };
    let seasonal = seasonal(x, period, train);
    let deseasoned: Vec<f64> = x.iter().zip(&seasonal).map(|(v, s)| v - s).collect();
    let trend: Vec<f64> = match trend {
        "none" => vec![0.0; n],
        "linefit" => {
            let (slope, interception) = line_fit(&deseasoned[..train]);
            (0..n)
                .map(|i| interception + slope * (i + 1) as f64)
                .collect()
        }
        _ => {
            let avg = if train > 0 {
                deseasoned[..train].iter().sum::<f64>() / train as f64
            } else {
                0.0
            };
            vec![avg; n]
        }
    };
    let baseline: Vec<f64> = seasonal.iter().zip(&trend).map(|(s, t)| s + t).collect();
    let residual: Vec<f64> = x.iter().zip(&baseline).map(|(v, b)| v - b).collect();
    Decomposition {
        baseline,
        seasonal,
        trend,
        residual,
    }
}

fn plain(items: &Series) -> Vec<f64> {
    items.iter().map(|v| v.map(N::f).unwrap_or(0.0)).collect()
}

fn decompose_args(args: &[ScalarValue], first: usize, trend_default: &str) -> (i64, String, i64) {
    (
        int_arg(args, first, -1),
        str_arg(args, first + 1, trend_default).to_ascii_lowercase(),
        int_arg(args, first + 2, 0),
    )
}

fn decompose_parts(args: &[ScalarValue]) -> Option<Decomposition> {
    let x = plain(&series(args, 0)?);
    let (seasonality, trend, test_points) = decompose_args(args, 1, "avg");
    Some(decompose(
        &x,
        seasonality,
        &trend,
        test_points,
        real_arg(args, 4, 0.6),
    ))
}

/// `series_decompose` assigned to one name: its first value, the baseline.
fn decompose_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    match decompose_parts(args) {
        Some(d) => Ok(reals_out(&d.baseline)),
        None => null_dynamic(),
    }
}

fn reals_json(values: &[f64]) -> Value {
    Value::Array(values.iter().map(|v| real_json(*v)).collect())
}

fn decompose_dynamic_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(d) = decompose_parts(args) else {
        return null_dynamic();
    };
    let mut bag = Map::new();
    bag.insert("baseline".into(), reals_json(&d.baseline));
    bag.insert("seasonal".into(), reals_json(&d.seasonal));
    bag.insert("trend".into(), reals_json(&d.trend));
    bag.insert("residual".into(), reals_json(&d.residual));
    Ok(dynamic(Value::Object(bag)))
}

/// `series_decompose_anomalies(x, threshold, seasonality, trend, test_points, ad_method,
/// seasonality_threshold)`: flags, scores and baseline.
fn anomalies(args: &[ScalarValue]) -> Option<(Vec<i64>, Vec<f64>, Vec<f64>)> {
    let x = plain(&series(args, 0)?);
    let threshold = real_arg(args, 1, 1.5);
    let (seasonality, trend, test_points) = decompose_args(args, 2, "linefit");
    let method = str_arg(args, 5, "ctukey").to_ascii_lowercase();
    let d = decompose(&x, seasonality, &trend, test_points, real_arg(args, 6, 0.6));
    let residual: Vec<Option<f64>> = d.residual.iter().map(|v| Some(*v)).collect();
    let scores = outlier_scores(&residual, &method, 10.0, 90.0);
    let flags = scores
        .iter()
        .map(|s| {
            if *s > threshold {
                1
            } else if *s < -threshold {
                -1
            } else {
                0
            }
        })
        .collect();
    Some((flags, scores, d.baseline))
}

/// `series_decompose_anomalies` assigned to one name: its first value, the anomaly flags.
fn decompose_anomalies_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    match anomalies(args) {
        Some((flags, _, _)) => Ok(series_out(flags.into_iter().map(|f| Some(N::I(f))))),
        None => null_dynamic(),
    }
}

fn decompose_anomalies_dynamic_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some((flags, scores, baseline)) = anomalies(args) else {
        return null_dynamic();
    };
    let mut bag = Map::new();
    bag.insert(
        "ad_flag".into(),
        Value::Array(flags.into_iter().map(Value::from).collect()),
    );
    bag.insert("ad_score".into(), reals_json(&scores));
    bag.insert("baseline".into(), reals_json(&baseline));
    Ok(dynamic(Value::Object(bag)))
}

/// `series_decompose_forecast(x, points, seasonality, trend, seasonality_threshold)`: the
/// baseline, trained without the last `points` points.
fn decompose_forecast_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(items) = series(args, 0) else {
        return null_dynamic();
    };
    let x = plain(&items);
    let d = decompose(
        &x,
        int_arg(args, 2, -1),
        &str_arg(args, 3, "linefit").to_ascii_lowercase(),
        int_arg(args, 1, 0),
        real_arg(args, 4, 0.6),
    );
    Ok(reals_out(&d.baseline))
}

// ---------------------------------------------------------------------------------------------
// tohex
// ---------------------------------------------------------------------------------------------

fn tohex_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let Some(value) = args.first().and_then(scalar_i64) else {
        return Ok(ScalarValue::Utf8(None));
    };
    let width = args.get(1).and_then(scalar_i64).unwrap_or(0).clamp(0, 64) as usize;
    Ok(ScalarValue::Utf8(Some(format!(
        "{:0width$x}",
        value as u64,
        width = width
    ))))
}

// ---------------------------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------------------------

/// The functions of this family.
pub(super) const NAMES: &[&str] = &[
    "series_abs",
    "series_acos",
    "series_add",
    "series_asin",
    "series_atan",
    "series_ceiling",
    "series_cos",
    "series_cosine_similarity",
    "series_decompose",
    "series_decompose_anomalies",
    "series_decompose_anomalies_dynamic",
    "series_decompose_dynamic",
    "series_decompose_forecast",
    "series_divide",
    "series_dot_product",
    "series_equals",
    "series_exp",
    "series_fill_backward",
    "series_fill_const",
    "series_fill_forward",
    "series_fill_linear",
    "series_fir",
    "series_fit_line",
    "series_fit_line_dynamic",
    "series_floor",
    "series_greater",
    "series_greater_equals",
    "series_iir",
    "series_less",
    "series_less_equals",
    "series_log",
    "series_magnitude",
    "series_multiply",
    "series_not_equals",
    "series_outliers",
    "series_pearson_correlation",
    "series_periods_detect",
    "series_pow",
    "series_product",
    "series_seasonal",
    "series_sign",
    "series_sin",
    "series_stats",
    "series_stats_dynamic",
    "series_subtract",
    "series_sum",
    "series_tan",
    "tohex",
];

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    use DataType::{Float64, LargeUtf8, Utf8};
    let (min, max, ret, f): (usize, usize, DataType, RowFn) = match name {
        "series_fill_forward" => (1, 2, LargeUtf8, fill_forward_row),
        "series_fill_backward" => (1, 2, LargeUtf8, fill_backward_row),
        "series_fill_const" => (1, 3, LargeUtf8, fill_const_row),
        "series_fill_linear" => (1, 4, LargeUtf8, fill_linear_row),
        "series_add" => (2, 2, LargeUtf8, add_row),
        "series_subtract" => (2, 2, LargeUtf8, subtract_row),
        "series_multiply" => (2, 2, LargeUtf8, multiply_row),
        "series_divide" => (2, 2, LargeUtf8, divide_row),
        "series_pow" => (2, 2, LargeUtf8, pow_row),
        "series_greater" => (2, 2, LargeUtf8, greater_row),
        "series_greater_equals" => (2, 2, LargeUtf8, greater_equals_row),
        "series_less" => (2, 2, LargeUtf8, less_row),
        "series_less_equals" => (2, 2, LargeUtf8, less_equals_row),
        "series_equals" => (2, 2, LargeUtf8, equals_row),
        "series_not_equals" => (2, 2, LargeUtf8, not_equals_row),
        "series_abs" => (1, 1, LargeUtf8, abs_row),
        "series_acos" => (1, 1, LargeUtf8, acos_row),
        "series_asin" => (1, 1, LargeUtf8, asin_row),
        "series_atan" => (1, 1, LargeUtf8, atan_row),
        "series_cos" => (1, 1, LargeUtf8, cos_row),
        "series_sin" => (1, 1, LargeUtf8, sin_row),
        "series_tan" => (1, 1, LargeUtf8, tan_row),
        "series_exp" => (1, 1, LargeUtf8, exp_row),
        "series_log" => (1, 1, LargeUtf8, log_row),
        "series_ceiling" => (1, 1, LargeUtf8, ceiling_row),
        "series_floor" => (1, 1, LargeUtf8, floor_row),
        "series_sign" => (1, 1, LargeUtf8, sign_row),
        "series_sum" => (1, 1, Float64, sum_row),
        "series_product" => (1, 1, Float64, product_row),
        "series_magnitude" => (1, 1, Float64, magnitude_row),
        "series_dot_product" => (2, 2, Float64, dot_product_row),
        "series_cosine_similarity" => (2, 4, Float64, cosine_similarity_row),
        "series_pearson_correlation" => (2, 2, Float64, pearson_row),
        "series_stats" | "series_stats_dynamic" => (1, 2, LargeUtf8, stats_row),
        "series_fit_line" => (1, 1, Float64, fit_line_row),
        "series_fit_line_dynamic" => (1, 1, LargeUtf8, fit_line_dynamic_row),
        "series_iir" => (3, 3, LargeUtf8, iir_row),
        "series_fir" => (2, 4, LargeUtf8, fir_row),
        "series_seasonal" => (1, 2, LargeUtf8, seasonal_row),
        "series_periods_detect" => (1, 4, LargeUtf8, periods_detect_row),
        "series_outliers" => (1, 5, LargeUtf8, outliers_row),
        "series_decompose" => (1, 5, LargeUtf8, decompose_row),
        "series_decompose_dynamic" => (1, 5, LargeUtf8, decompose_dynamic_row),
        "series_decompose_anomalies" => (1, 7, LargeUtf8, decompose_anomalies_row),
        "series_decompose_anomalies_dynamic" => (1, 7, LargeUtf8, decompose_anomalies_dynamic_row),
        "series_decompose_forecast" => (2, 5, LargeUtf8, decompose_forecast_row),
        "tohex" => (1, 2, Utf8, tohex_row),
        _ => return None,
    };
    Some(check_arity(name, args, min, max, ctx).map(|()| {
        row_call(
            name,
            ret,
            f,
            args.iter().map(|a| a.expr.clone()).collect::<Vec<Expr>>(),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::strings::tests::{arg, ctx, eval_scalar};
    use datafusion::logical_expr::lit;

    fn d(text: &str) -> PlannedArg {
        arg(
            Expr::Literal(ScalarValue::LargeUtf8(Some(text.to_string())), None),
            DataType::LargeUtf8,
        )
    }

    fn n(value: i64) -> PlannedArg {
        arg(lit(value), DataType::Int64)
    }

    fn r(value: f64) -> PlannedArg {
        arg(lit(value), DataType::Float64)
    }

    fn b(value: bool) -> PlannedArg {
        arg(lit(value), DataType::Boolean)
    }

    fn s(value: &str) -> PlannedArg {
        arg(lit(value), DataType::Utf8)
    }

    async fn call(name: &str, args: Vec<PlannedArg>) -> ScalarValue {
        eval_scalar(plan(name, &args, &ctx()).unwrap().unwrap()).await
    }

    async fn text(name: &str, args: Vec<PlannedArg>) -> String {
        match call(name, args).await {
            ScalarValue::LargeUtf8(Some(t)) | ScalarValue::Utf8(Some(t)) => t,
            other => panic!("not text: {other:?}"),
        }
    }

    async fn real_of(name: &str, args: Vec<PlannedArg>) -> f64 {
        match call(name, args).await {
            ScalarValue::Float64(Some(v)) => v,
            other => panic!("not real: {other:?}"),
        }
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn close(actual: &Value, expected: &[f64]) {
        let items = actual.as_array().unwrap();
        assert_eq!(items.len(), expected.len(), "{actual}");
        for (a, e) in items.iter().zip(expected) {
            assert!(
                (a.as_f64().unwrap() - e).abs() < 1e-9,
                "{actual} vs {expected:?}"
            );
        }
    }

    #[tokio::test]
    async fn fills() {
        let arr = "[null,null,36,41,null,null,16,61,33,null,null]";
        assert_eq!(
            text("series_fill_forward", vec![d(arr)]).await,
            "[null,null,36,41,41,41,16,61,33,33,33]"
        );
        assert_eq!(
            text("series_fill_backward", vec![d(arr)]).await,
            "[36,36,36,41,16,16,16,61,33,null,null]"
        );
        assert_eq!(
            text("series_fill_const", vec![d("[1,null,3]"), n(9)]).await,
            "[1,9,3]"
        );
        assert_eq!(
            text("series_fill_forward", vec![d("[1,-1,3]"), n(-1)]).await,
            "[1,1,3]"
        );
        let ints = "[null,111,null,36,41,null,null,16,61,33,null,null]";
        assert_eq!(
            text("series_fill_linear", vec![d(ints)]).await,
            "[111,111,73,36,41,32,24,16,61,33,33,33]"
        );
        assert_eq!(
            text(
                "series_fill_linear",
                vec![
                    d("[null,1.0,null,2.0,null]"),
                    arg(lit(ScalarValue::Float64(None)), DataType::Float64),
                    b(false)
                ]
            )
            .await,
            "[null,1.0,1.5,2.0,null]"
        );
        assert_eq!(
            text("series_fill_linear", vec![d("[null,null]")]).await,
            "[0.0,0.0]"
        );
    }

    #[tokio::test]
    async fn element_wise() {
        assert_eq!(
            text("series_subtract", vec![d("[1,2,4]"), d("[4,2,1]")]).await,
            "[-3,0,3]"
        );
        assert_eq!(
            text("series_divide", vec![d("[1,2,4]"), d("[4,2,1]")]).await,
            "[0.25,1.0,4.0]"
        );
        assert_eq!(
            text("series_add", vec![d("[1,null,3]"), n(1)]).await,
            "[2,null,4]"
        );
        assert_eq!(
            text("series_pow", vec![d("[1,2,3,4]"), d("[1,2,3,0.5]")]).await,
            "[1.0,4.0,27.0,2.0]"
        );
        assert_eq!(
            text("series_greater_equals", vec![d("[1,2,4]"), d("[4,2,1]")]).await,
            "[false,true,true]"
        );
        assert_eq!(
            text("series_not_equals", vec![d("[1,2,4]"), d("[4,2,1]")]).await,
            "[true,false,true]"
        );
        assert_eq!(text("series_abs", vec![d("[-1,2.5]")]).await, "[1,2.5]");
        close(
            &json(&text("series_acos", vec![d("[-1,0,1]")]).await),
            &[std::f64::consts::PI, std::f64::consts::FRAC_PI_2, 0.0],
        );
    }

    #[tokio::test]
    async fn reductions() {
        assert_eq!(real_of("series_sum", vec![d("[1,2,3,4]")]).await, 10.0);
        assert_eq!(real_of("series_product", vec![d("[1,2,3,4]")]).await, 24.0);
        assert_eq!(
            real_of("series_dot_product", vec![d("[1,2,4]"), n(2)]).await,
            14.0
        );
        let cos = real_of(
            "series_cosine_similarity",
            vec![d("[0.1,0.2,0.1,0.2]"), d("[1,2,3,4]")],
        )
        .await;
        assert!((cos - 0.9237604307034012).abs() < 1e-12);
        let p = real_of(
            "series_pearson_correlation",
            vec![d("[0,0,5]"), d("[0,0,5]")],
        )
        .await;
        assert!((p - 1.0).abs() < 1e-12);
    }

    #[tokio::test]
    async fn stats_and_fit_line() {
        let x = "[23,46,23,87,4,8,3,75,2,56,13,75,32,16,29]";
        let stats = json(&text("series_stats_dynamic", vec![d(x)]).await);
        assert_eq!(stats["min"], json("2.0"));
        assert_eq!(stats["min_idx"], json("8"));
        assert_eq!(stats["max_idx"], json("3"));
        assert!((stats["avg"].as_f64().unwrap() - 32.8).abs() < 1e-12);
        assert!((stats["variance"].as_f64().unwrap() - 812.4571428571429).abs() < 1e-9);
        assert_eq!(stats["len"], json("15"));
        assert_eq!(
            text("series_stats", vec![d(x)]).await,
            text("series_stats_dynamic", vec![d(x)]).await
        );

        let rsquare = real_of("series_fit_line", vec![d("[1.0,2.0,4.0,8.0]")]).await;
        assert!((rsquare - 0.92).abs() < 1e-12);
        let fit = json(
            &text(
                "series_fit_line_dynamic",
                vec![d("[2,5,6,8,11,15,17,18,25,26,30,30]")],
            )
            .await,
        );
        assert!((fit["slope"].as_f64().unwrap() - 2.7307692307692313).abs() < 1e-9);
        assert!((fit["interception"].as_f64().unwrap() + 1.6666666666666714).abs() < 1e-9);
        assert!((fit["variance"].as_f64().unwrap() - 98.62878787878786).abs() < 1e-9);
        assert!((fit["rvariance"].as_f64().unwrap() - 1.6864801864801868).abs() < 1e-9);
    }

    #[tokio::test]
    async fn filters_and_seasonal() {
        close(
            &json(&text("series_iir", vec![d("[1,2,3,4]"), d("[1]"), d("[1,-1]")]).await),
            &[1.0, 3.0, 6.0, 10.0],
        );
        close(
            &json(
                &text(
                    "series_fir",
                    vec![d("[5,15,10,20]"), d("[1,-1]"), b(false), b(false)],
                )
                .await,
            ),
            &[5.0, 10.0, -5.0, 10.0],
        );
        close(
            &json(&text("series_fir", vec![d("[1,2,3,4]"), d("[1,1]")]).await),
            &[0.5, 1.5, 2.5, 3.5],
        );
        close(
            &json(
                &text(
                    "series_seasonal",
                    vec![d("[1,3,5,2,4,6,1,3,5,2,4,6]"), n(3)],
                )
                .await,
            ),
            &[1.5, 3.5, 5.5, 1.5, 3.5, 5.5, 1.5, 3.5, 5.5, 1.5, 3.5, 5.5],
        );
    }

    #[tokio::test]
    async fn decomposition_and_anomalies() {
        // A period-4 pattern plus a linear trend, with one spike.
        let mut x: Vec<f64> = (0..40)
            .map(|i| [0.0, 10.0, 0.0, -10.0][i % 4] + i as f64 * 0.5)
            .collect();
        x[21] += 100.0;
        let text_x = serde_json::to_string(&x).unwrap();
        let parts = json(
            &text(
                "series_decompose_dynamic",
                vec![d(&text_x), n(4), s("linefit")],
            )
            .await,
        );
        for key in ["baseline", "seasonal", "trend", "residual"] {
            assert_eq!(parts[key].as_array().unwrap().len(), 40, "{key}");
        }
        let flags = json(&text("series_decompose_anomalies", vec![d(&text_x)]).await);
        let flags: Vec<i64> = flags
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(flags[21], 1, "{flags:?}");
        assert_eq!(flags.iter().filter(|f| **f != 0).count(), 1, "{flags:?}");
        let periods = json(
            &text(
                "series_periods_detect",
                vec![d(&text_x), r(0.0), r(20.0), n(1)],
            )
            .await,
        );
        assert_eq!(periods, json("[4.0]"));
        let scores = json(&text("series_outliers", vec![d("[1,2,3,4,5,6,7,8,9,100]")]).await);
        let scores = scores.as_array().unwrap();
        assert!(scores[9].as_f64().unwrap() > 1.5);
        assert_eq!(scores[4].as_f64().unwrap(), 0.0);
    }

    #[tokio::test]
    async fn tohex_values() {
        assert_eq!(text("tohex", vec![n(256)]).await, "100");
        assert_eq!(text("tohex", vec![n(-546)]).await, "fffffffffffffdde");
        assert_eq!(text("tohex", vec![n(48879), n(8)]).await, "0000beef");
        assert_eq!(
            call(
                "tohex",
                vec![arg(lit(ScalarValue::Int64(None)), DataType::Int64)]
            )
            .await,
            ScalarValue::Utf8(None)
        );
    }
}
