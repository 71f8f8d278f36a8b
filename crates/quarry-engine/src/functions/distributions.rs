//! Beta distribution functions: `beta_cdf`, `beta_inv` and `beta_pdf`.
//!
//! The cumulative distribution is the regularised incomplete beta function I_x(α, β), evaluated
//! with its continued fraction (modified Lentz), on the side of the symmetry
//! I_x(α, β) = 1 − I_{1−x}(β, α) where the fraction converges quickly. `beta_inv` inverts it by
//! bisection, which is exact to the last bit because the function is monotone in x.
//!
//! Out-of-range arguments follow the real engine: `beta_cdf` and `beta_pdf` give NaN for x
//! outside [0, 1]; `beta_pdf` and `beta_inv` give NaN for α ≤ 0 or β ≤ 0; `beta_inv` gives null
//! for a probability outside [0, 1]; `beta_cdf` applies no check of its own to α and β (Kusto
//! returns 1 for `beta_cdf(0.1, -1, 20)`, which the formula gives). Null arguments give null.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::Expr;

use super::dynamic::{row_call, scalar_f64, RowFn};
use super::misc::ln_gamma;
use super::{check_arity, CallContext, FamilyResult, PlannedArg};

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &["beta_cdf", "beta_inv", "beta_pdf"];

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    let f: RowFn = match name {
        "beta_cdf" => beta_cdf_row,
        "beta_inv" => beta_inv_row,
        "beta_pdf" => beta_pdf_row,
        _ => return None,
    };
    Some(check_arity(name, args, 3, 3, ctx).map(|()| {
        let exprs: Vec<Expr> = args.iter().map(|a| a.expr.clone()).collect();
        row_call(name, DataType::Float64, f, exprs)
    }))
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    const EPSILON: f64 = 1e-16;
    const MAX_TERMS: usize = 500;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut fraction = d;
    for m in 1..=MAX_TERMS {
        let m = m as f64;
        let m2 = 2.0 * m;
        // Even step.
        let even = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        fraction *= d * c;
        // Odd step.
        let odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let delta = d * c;
        fraction *= delta;
        if (delta - 1.0).abs() < EPSILON {
            break;
        }
    }
    fraction
}

/// The regularised incomplete beta function I_x(a, b), for x in [0, 1].
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) {
        return f64::NAN;
    }
    regularized_incomplete_beta(x, a, b)
}

fn beta_pdf(x: f64, a: f64, b: f64) -> f64 {
    if !(0.0..=1.0).contains(&x) || a <= 0.0 || b <= 0.0 {
        return f64::NAN;
    }
    let ln_beta = ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    x.powf(a - 1.0) * (1.0 - x).powf(b - 1.0) * (-ln_beta).exp()
}

/// The x with I_x(a, b) = p; `None` (null) for p outside [0, 1].
fn beta_inv(p: f64, a: f64, b: f64) -> Option<f64> {
    if !(0.0..=1.0).contains(&p) {
        return None;
    }
    if a <= 0.0 || b <= 0.0 || a.is_nan() || b.is_nan() {
        return Some(f64::NAN);
    }
    let (mut low, mut high) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if mid <= low || mid >= high {
            break;
        }
        if regularized_incomplete_beta(mid, a, b) < p {
            low = mid;
        } else {
            high = mid;
        }
    }
    Some(0.5 * (low + high))
}

/// The three real arguments of a row; `None` when any is null.
fn three(args: &[ScalarValue]) -> Option<(f64, f64, f64)> {
    Some((
        scalar_f64(args.first()?)?,
        scalar_f64(args.get(1)?)?,
        scalar_f64(args.get(2)?)?,
    ))
}

fn beta_cdf_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Float64(
        three(args).map(|(x, a, b)| beta_cdf(x, a, b)),
    ))
}

fn beta_pdf_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Float64(
        three(args).map(|(x, a, b)| beta_pdf(x, a, b)),
    ))
}

fn beta_inv_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    Ok(ScalarValue::Float64(
        three(args).and_then(|(p, a, b)| beta_inv(p, a, b)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= 1e-9 * actual.abs().max(expected.abs())
    }

    #[test]
    fn cdf_values() {
        let cases = [
            (0.9, 10.0, 20.0, 0.999_999_999_999_959_3),
            (0.1, -1.0, 20.0, 1.0),
            (0.5, 1.0, 1.0, 0.5),
            (0.5, 2.0, 2.0, 0.5),
            (0.25, 1.0, 2.0, 0.4375),
            (0.0, 3.0, 4.0, 0.0),
            (1.0, 3.0, 4.0, 1.0),
        ];
        for (x, a, b, expected) in cases {
            let actual = beta_cdf(x, a, b);
            assert!(
                close(actual, expected),
                "I_{x}({a},{b}) = {actual}, not {expected}"
            );
        }
        assert!(beta_cdf(1.5, 10.0, 20.0).is_nan());
        assert!(beta_cdf(-10.0, 10.0, 20.0).is_nan());
    }

    #[test]
    fn pdf_values() {
        let cases = [
            (0.5, 10.0, 20.0, 0.746_176_019_310_951),
            (0.3, 1.0, 1.0, 1.0),
            (0.25, 2.0, 2.0, 1.125),
        ];
        for (x, a, b, expected) in cases {
            let actual = beta_pdf(x, a, b);
            assert!(
                close(actual, expected),
                "pdf({x},{a},{b}) = {actual}, not {expected}"
            );
        }
        assert!(beta_pdf(1.5, 10.0, 20.0).is_nan());
        assert!(beta_pdf(-10.0, 10.0, 20.0).is_nan());
        assert!(beta_pdf(0.1, -1.0, 20.0).is_nan());
    }

    #[test]
    fn inverse_values() {
        let actual = beta_inv(0.1, 10.0, 20.0).unwrap_or(f64::NAN);
        assert!(close(actual, 0.226_415_022_388_748_97), "{actual}");
        let actual = beta_inv(0.4375, 1.0, 2.0).unwrap_or(f64::NAN);
        assert!(close(actual, 0.25), "{actual}");
        assert_eq!(beta_inv(1.5, 10.0, 20.0), None);
        assert!(beta_inv(0.1, -1.0, 20.0).is_some_and(f64::is_nan));
    }

    #[test]
    fn null_arguments_give_null() {
        let args = [
            ScalarValue::Float64(Some(0.5)),
            ScalarValue::Float64(None),
            ScalarValue::Float64(Some(2.0)),
        ];
        for f in [beta_cdf_row, beta_pdf_row, beta_inv_row] {
            assert_eq!(f(&args).ok(), Some(ScalarValue::Float64(None)));
        }
    }
}
