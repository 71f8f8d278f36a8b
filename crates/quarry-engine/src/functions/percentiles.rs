//! Percentiles: the finishing step of `percentiles_array`, `percentilew(s)` and
//! `percentilesw_array` over a sorted collected list, the `tdigest` state (`tdigest`,
//! `tdigest_merge`) and the scalar functions that read it (`percentile_tdigest`,
//! `percentiles_array_tdigest`).
//!
//! Kusto estimates percentiles with a t-digest; on the inputs a rule's group sees, the estimate
//! equals the weighted nearest rank: the smallest value whose cumulative weight reaches
//! `p / 100` of the total. Quarry computes that rank exactly, and its `tdigest` keeps every
//! distinct value with its weight.

use super::collected::list_items;
use super::dynamic::scalar_to_json;
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use crate::error::EngineError;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, LargeStringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use serde_json::Value;
use std::sync::Arc;

/// The scalar functions over a `tdigest` state.
pub(super) const NAMES: &[&str] = &[
    "percentile_tdigest",
    "percentiles_array_tdigest",
    "tdigest_merge",
    "merge_tdigest",
];

/// How the percentiles of one group are returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PercentileOutput {
    /// The `index`-th requested percentile, in the values' own type.
    Single(usize),
    /// Every requested percentile, as a `dynamic` array.
    Array,
}

/// The requested percentiles of a collected, sorted list of values, with `weights` collected in
/// the same order (`None`: every value weighs 1).
pub(crate) fn weighted_percentiles(
    sorted_values: Expr,
    weights: Option<Expr>,
    percents: &[f64],
    element: DataType,
    output: PercentileOutput,
) -> Expr {
    let mut args = vec![sorted_values];
    args.extend(weights);
    ScalarUDF::new_from_impl(WeightedPercentiles {
        percents: percents.iter().map(|p| p.to_bits()).collect(),
        element,
        output,
        signature: Signature::variadic_any(Volatility::Immutable),
    })
    .call(args)
}

/// The `tdigest` state of a collected, sorted list of values and their weights: a `dynamic`
/// array of `[value, weight]` pairs.
pub(crate) fn digest(sorted_values: Expr, weights: Option<Expr>) -> Expr {
    let mut args = vec![sorted_values];
    args.extend(weights);
    ScalarUDF::new_from_impl(Digest {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
    .call(args)
}

/// `tdigest_merge` over a collected list of `tdigest` states, or (as a scalar function) over
/// several state arguments: one state with every pair.
pub(crate) fn merge_digests(states: Vec<Expr>) -> Expr {
    ScalarUDF::new_from_impl(MergeDigests {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
    .call(states)
}

/// Plans `percentile_tdigest(td, p [, typeof(t)])` and `percentiles_array_tdigest(td, p, …)`.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    if !NAMES.contains(&name) {
        return None;
    }
    if matches!(name, "tdigest_merge" | "merge_tdigest") {
        return Some(
            check_arity(name, args, 1, usize::MAX, ctx)
                .map(|_| merge_digests(args.iter().map(|a| a.expr.clone()).collect())),
        );
    }
    Some((|| {
        check_arity(name, args, 2, usize::MAX, ctx)?;
        let mut percents = Vec::new();
        // percentile_tdigest's optional third argument names the result type, which `dynamic`
        // already carries.
        let requested = if name == "percentile_tdigest" {
            &args[1..2]
        } else {
            &args[1..]
        };
        for arg in requested {
            percents
                .extend(constant_percents(&arg.expr).ok_or_else(|| {
                    EngineError::bind("expected a constant percentile", arg.span)
                })?);
        }
        let output = if name == "percentile_tdigest" {
            if percents.len() != 1 {
                return Err(EngineError::bind(
                    "percentile_tdigest() takes one percentile; use percentiles_array_tdigest()",
                    ctx.span,
                ));
            }
            PercentileOutput::Single(0)
        } else {
            PercentileOutput::Array
        };
        Ok(ScalarUDF::new_from_impl(DigestPercentiles {
            percents: percents.iter().map(|p| p.to_bits()).collect(),
            output,
            signature: Signature::any(1, Volatility::Immutable),
        })
        .call(vec![args[0].expr.clone()]))
    })())
}

/// The percentiles a constant argument asks for: a number or a `dynamic` array of numbers.
pub(crate) fn constant_percents(expr: &Expr) -> Option<Vec<f64>> {
    let Expr::Literal(value, _) = expr else {
        return match expr {
            Expr::Cast(cast) => constant_percents(&cast.expr),
            Expr::Alias(alias) => constant_percents(&alias.expr),
            _ => None,
        };
    };
    if let ScalarValue::LargeUtf8(Some(text)) = value {
        let parsed: Value = serde_json::from_str(text).ok()?;
        return match parsed {
            Value::Array(items) => items.iter().map(Value::as_f64).collect(),
            other => Some(vec![other.as_f64()?]),
        };
    }
    match value.cast_to(&DataType::Float64).ok()? {
        ScalarValue::Float64(Some(p)) => Some(vec![p]),
        _ => None,
    }
}

/// The index of the weighted nearest rank of `percent` in `weights` (sorted by value).
fn rank_index(weights: &[f64], percent: f64) -> Option<usize> {
    let total: f64 = weights.iter().sum();
    if weights.is_empty() || total <= 0.0 {
        return None;
    }
    let target = (percent / 100.0) * total;
    let mut cumulative = 0.0;
    for (index, weight) in weights.iter().enumerate() {
        cumulative += weight;
        if cumulative >= target && *weight > 0.0 {
            return Some(index);
        }
    }
    Some(weights.len() - 1)
}

/// Row `row`'s present values and their weights (1 when no weights were collected; a null
/// weight counts as 0).
fn weighted_items(
    values: &ArrayRef,
    weights: Option<&ArrayRef>,
    row: usize,
) -> DfResult<Vec<(ScalarValue, f64)>> {
    let Some(items) = list_items(values, row)? else {
        return Ok(Vec::new());
    };
    let weight_items = match weights {
        Some(w) => list_items(w, row)?,
        None => None,
    };
    let mut pairs = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        if !items.is_valid(i) {
            continue;
        }
        let weight = match &weight_items {
            None => 1.0,
            Some(w) => match ScalarValue::try_from_array(w, i)?.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(Some(v)) => v,
                _ => 0.0,
            },
        };
        pairs.push((ScalarValue::try_from_array(&items, i)?, weight));
    }
    Ok(pairs)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct WeightedPercentiles {
    /// The percentiles' bits, so that the UDF can derive `Eq` and `Hash`.
    percents: Vec<u64>,
    element: DataType,
    output: PercentileOutput,
    signature: Signature,
}

impl ScalarUDFImpl for WeightedPercentiles {
    fn name(&self) -> &str {
        "kql_weighted_percentiles"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(match self.output {
            PercentileOutput::Single(_) => self.element.clone(),
            PercentileOutput::Array => DataType::LargeUtf8,
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let percents: Vec<f64> = self.percents.iter().map(|b| f64::from_bits(*b)).collect();
        let mut singles = Vec::new();
        let mut texts = LargeStringBuilder::new();
        for row in 0..arrays[0].len() {
            let pairs = weighted_items(&arrays[0], arrays.get(1), row)?;
            let weights: Vec<f64> = pairs.iter().map(|(_, w)| *w).collect();
            let pick = |percent: f64| rank_index(&weights, percent).map(|i| &pairs[i].0);
            match self.output {
                PercentileOutput::Single(index) => {
                    let value = match percents.get(index).and_then(|p| pick(*p)) {
                        Some(value) => value.cast_to(&self.element)?,
                        None => ScalarValue::try_from(&self.element)?,
                    };
                    singles.push(value);
                }
                PercentileOutput::Array => {
                    if pairs.is_empty() {
                        texts.append_null();
                        continue;
                    }
                    let items: Vec<Value> = percents
                        .iter()
                        .map(|p| pick(*p).and_then(scalar_to_json).unwrap_or(Value::Null))
                        .collect();
                    texts.append_value(Value::Array(items).to_string());
                }
            }
        }
        Ok(ColumnarValue::Array(match self.output {
            PercentileOutput::Single(_) => ScalarValue::iter_to_array(singles)?,
            PercentileOutput::Array => Arc::new(texts.finish()),
        }))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Digest {
    signature: Signature,
}

impl ScalarUDFImpl for Digest {
    fn name(&self) -> &str {
        "kql_tdigest"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = LargeStringBuilder::new();
        for row in 0..arrays[0].len() {
            let pairs = weighted_items(&arrays[0], arrays.get(1), row)?;
            out.append_value(digest_text(pairs.into_iter().map(|(value, weight)| {
                (scalar_to_json(&value).unwrap_or(Value::Null), weight)
            })));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The JSON text of a `tdigest` state: its `[value, weight]` pairs.
fn digest_text(pairs: impl IntoIterator<Item = (Value, f64)>) -> String {
    let state: Vec<Value> = pairs
        .into_iter()
        .map(|(value, weight)| {
            let weight = serde_json::Number::from_f64(weight).map_or(Value::Null, Value::Number);
            Value::Array(vec![value, weight])
        })
        .collect();
    Value::Array(state).to_string()
}

/// The `[value, weight]` pairs of a `tdigest` state's JSON text.
fn digest_pairs(text: &str) -> Vec<(Value, f64)> {
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| match item {
            Value::Array(pair) if pair.len() == 2 => Some((pair[0].clone(), pair[1].as_f64()?)),
            _ => None,
        })
        .collect()
}

/// Sorts pairs by value: numbers numerically, anything else by its text.
fn sort_pairs(pairs: &mut [(Value, f64)]) {
    pairs.sort_by(|(a, _), (b, _)| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    });
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MergeDigests {
    signature: Signature,
}

impl ScalarUDFImpl for MergeDigests {
    fn name(&self) -> &str {
        "kql_tdigest_merge"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = LargeStringBuilder::new();
        let rows = arrays.first().map_or(0, |a| a.len());
        for row in 0..rows {
            let mut pairs = Vec::new();
            for array in &arrays {
                let states = match array.data_type() {
                    DataType::List(_) | DataType::LargeList(_) => match list_items(array, row)? {
                        Some(items) => items,
                        None => continue,
                    },
                    _ => array.slice(row, 1),
                };
                let states = datafusion::arrow::compute::cast(&states, &DataType::LargeUtf8)?;
                let states = states.as_string::<i64>();
                for i in 0..states.len() {
                    if states.is_valid(i) {
                        pairs.extend(digest_pairs(states.value(i)));
                    }
                }
            }
            sort_pairs(&mut pairs);
            out.append_value(digest_text(pairs));
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct DigestPercentiles {
    percents: Vec<u64>,
    output: PercentileOutput,
    signature: Signature,
}

impl ScalarUDFImpl for DigestPercentiles {
    fn name(&self) -> &str {
        "kql_tdigest_percentiles"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let states = datafusion::arrow::compute::cast(&arrays[0], &DataType::LargeUtf8)?;
        let states = states.as_string::<i64>();
        let mut out = LargeStringBuilder::new();
        for row in 0..states.len() {
            let mut pairs = if states.is_valid(row) {
                digest_pairs(states.value(row))
            } else {
                Vec::new()
            };
            if pairs.is_empty() {
                out.append_null();
                continue;
            }
            sort_pairs(&mut pairs);
            let weights: Vec<f64> = pairs.iter().map(|(_, w)| *w).collect();
            let picked: Vec<Value> = self
                .percents
                .iter()
                .map(|bits| {
                    rank_index(&weights, f64::from_bits(*bits))
                        .map_or(Value::Null, |i| pairs[i].0.clone())
                })
                .collect();
            match self.output {
                PercentileOutput::Single(_) => {
                    let value = picked.into_iter().next().unwrap_or(Value::Null);
                    if value.is_null() {
                        out.append_null();
                    } else {
                        out.append_value(value.to_string());
                    }
                }
                PercentileOutput::Array => out.append_value(Value::Array(picked).to_string()),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::rank_index;

    #[test]
    fn weighted_nearest_rank() {
        let weights = [8.0, 6.0, 3.0, 1.0];
        assert_eq!(rank_index(&weights, 50.0), Some(1));
        assert_eq!(rank_index(&weights, 99.9), Some(3));
        assert_eq!(rank_index(&weights, 0.0), Some(0));
        assert_eq!(rank_index(&[], 50.0), None);
        let unweighted = [1.0; 4];
        assert_eq!(rank_index(&unweighted, 50.0), Some(1));
        assert_eq!(rank_index(&unweighted, 51.0), Some(2));
    }
}
