//! The conformance harness: cases with the result the real Kusto engine returned, compared with
//! what a [`Session`] returns, following "How a harness should compare" in
//! `shared/conformance/README.md`.
//!
//! [`load_cases`] reads a JSONL file, [`check`] judges one result, and [`run_cases`] runs a set of
//! cases, each in a fresh session on a thread of its own, so that a panic, a hang or a stack-hungry
//! query in one case never stops the run.

use crate::error::EngineError;
use crate::format::{json_rows, kusto_type_name};
use crate::output::QueryOutput;
use crate::session::{Session, SessionConfig};
use crate::types::KustoType;
use crate::values::{parse_datetime, parse_timespan};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One output column of a case: its name and Kusto type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseColumn {
    /// The column name.
    pub name: String,
    /// The Kusto type.
    #[serde(rename = "type")]
    pub ty: KustoType,
}

/// A sort key of an ordered case: a plain output column and its direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderKey {
    /// The output column sorted on.
    pub column: String,
    /// True for a descending key.
    #[serde(default)]
    pub desc: bool,
}

/// One conformance case: a self-contained query and the result Kusto returned for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// `<source>/<stable name>`.
    pub id: String,
    /// Where the expected result was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The KQL text.
    pub query: String,
    /// The expected columns, in order.
    pub columns: Vec<CaseColumn>,
    /// The expected rows, normalised as the README describes.
    pub rows: Vec<Vec<Value>>,
    /// True when the rows must come in this order.
    pub ordered: bool,
    /// The final sort keys of an ordered case, when they are plain output columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_keys: Option<Vec<OrderKey>>,
    /// The expected rows contain ties on `order_keys`.
    #[serde(default)]
    pub order_ties: bool,
    /// int/long and real/decimal were inferred, so they may be swapped.
    #[serde(default)]
    pub types_inferred: bool,
    /// Arrays in dynamic values may be compared as multisets.
    #[serde(default)]
    pub set_semantics: bool,
    /// The query uses sketch-based aggregates (exact on these inputs).
    #[serde(default)]
    pub approx: bool,
    /// Provenance and caveats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Why a cases file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// The file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line is not a valid case.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
}

/// Reads a JSONL file of cases; blank lines are ignored. Errors name the file and the line.
pub fn load_cases(path: impl AsRef<Path>) -> Result<Vec<Case>, ConformanceError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| ConformanceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_cases(&text).map_err(|(line, message)| ConformanceError::Invalid {
        path: path.to_path_buf(),
        line,
        message,
    })
}

/// Parses JSONL text into cases; an error is the 1-based line and what is wrong.
pub fn parse_cases(text: &str) -> Result<Vec<Case>, (usize, String)> {
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(line).map_err(|e| {
            let text = e.to_string();
            let location = format!(" at line {} column {}", e.line(), e.column());
            let message = text.strip_suffix(&location).unwrap_or(&text);
            (
                line_number,
                format!("not a valid case (at column {}): {message}", e.column()),
            )
        })?;
        if let Some(position) = case.rows.iter().position(|r| r.len() != case.columns.len()) {
            return Err((
                line_number,
                format!(
                    "case `{}`: row {} has {} values but there are {} columns",
                    case.id,
                    position + 1,
                    case.rows[position].len(),
                    case.columns.len()
                ),
            ));
        }
        cases.push(case);
    }
    Ok(cases)
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The result matches.
    Passed,
    /// The result differs, or the query failed; `reason` says how, briefly.
    Failed {
        /// The first difference, or the error.
        reason: String,
    },
    /// The expected result cannot be judged (no case needs this today).
    Skipped {
        /// Why.
        reason: String,
    },
}

/// The start of the reason of a result with the right rows in the wrong order.
pub const ORDER_MISMATCH: &str = "order mismatch";

impl Outcome {
    fn failed(reason: impl Into<String>) -> Self {
        Outcome::Failed {
            reason: reason.into(),
        }
    }

    /// True for a failure whose rows were right but in the wrong order.
    pub fn is_order_mismatch(&self) -> bool {
        matches!(self, Outcome::Failed { reason } if reason.starts_with(ORDER_MISMATCH))
    }
}

/// Longest value shown in a failure reason, in characters.
const SHOWN_VALUE: usize = 80;
/// Longest row shown in a failure reason, in characters.
const SHOWN_ROW: usize = 160;
/// Longest error message kept in a failure reason, in characters.
const SHOWN_ERROR: usize = 300;

/// Judges `result` against `case`.
pub fn check(case: &Case, result: Result<QueryOutput, EngineError>) -> Outcome {
    let output = match result {
        Ok(output) => output,
        Err(error) => return Outcome::failed(error_reason(case, &error)),
    };
    if let Err(reason) = check_columns(case, &output) {
        return Outcome::failed(reason);
    }
    let actual = json_rows(&output);
    let comparer = Comparer::new(case);
    match comparer.compare_rows(&case.rows, &actual) {
        Ok(()) => Outcome::Passed,
        Err(reason) => Outcome::failed(reason),
    }
}

/// The failure reason of a query that did not run.
fn error_reason(case: &Case, error: &EngineError) -> String {
    let text = match error {
        EngineError::Syntax(diagnostics) => {
            match diagnostics
                .iter()
                .find(|d| d.is_error())
                .or(diagnostics.first())
            {
                Some(first) => {
                    let (line, column) = quarry_kql::line_col(&case.query, first.span.start);
                    format!("syntax error at {line}:{column}: {}", first.message)
                }
                None => error.to_string(),
            }
        }
        EngineError::Bind { message, .. } => format!("bind error: {message}"),
        other => other.to_string(),
    };
    shorten(
        &text.split_whitespace().collect::<Vec<_>>().join(" "),
        SHOWN_ERROR,
    )
}

/// `text` cut to `max` characters, ending in `…` when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn show_value(value: &Value) -> String {
    shorten(&value.to_string(), SHOWN_VALUE)
}

fn show_row(row: &[Value]) -> String {
    shorten(&Value::Array(row.to_vec()).to_string(), SHOWN_ROW)
}

/// Column count, names and types (with the `types_inferred` relaxation).
fn check_columns(case: &Case, output: &QueryOutput) -> Result<(), String> {
    let fields = output.schema.fields();
    if fields.len() != case.columns.len() {
        let expected: Vec<&str> = case.columns.iter().map(|c| c.name.as_str()).collect();
        let actual: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        return Err(shorten(
            &format!(
                "column count: expected {} ({}), got {} ({})",
                expected.len(),
                expected.join(", "),
                actual.len(),
                actual.join(", ")
            ),
            SHOWN_ROW * 2,
        ));
    }
    for (index, (column, field)) in case.columns.iter().zip(fields.iter()).enumerate() {
        if &column.name != field.name() {
            return Err(format!(
                "column {}: expected name `{}`, got `{}`",
                index + 1,
                column.name,
                field.name()
            ));
        }
    }
    for (column, field) in case.columns.iter().zip(fields.iter()) {
        let name = kusto_type_name(field.data_type());
        let actual = KustoType::from_name(name);
        if !actual.is_some_and(|a| types_match(column.ty, a, case.types_inferred)) {
            return Err(format!(
                "column `{}`: expected type {}, got {name} (Arrow {})",
                column.name,
                column.ty,
                field.data_type()
            ));
        }
    }
    Ok(())
}

/// Equal types, or int≈long and real≈decimal when the expected types were inferred.
fn types_match(expected: KustoType, actual: KustoType, inferred: bool) -> bool {
    use KustoType::{Decimal, Int, Long, Real};
    expected == actual
        || inferred
            && matches!(
                (expected, actual),
                (Int, Long) | (Long, Int) | (Real, Decimal) | (Decimal, Real)
            )
}

/// True when `a` and `b` are equal within the real tolerance (NaN equals NaN).
pub fn reals_equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    if a.is_infinite() || b.is_infinite() {
        return false;
    }
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// A real or decimal cell as f64: a JSON number or a string (`"NaN"`, `"Infinity"`, a decimal).
fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// An integer cell (i64 or u64 range).
fn integer_of(value: &Value) -> Option<i128> {
    match value {
        Value::Number(number) => number
            .as_i64()
            .map(i128::from)
            .or_else(|| number.as_u64().map(i128::from)),
        _ => None,
    }
}

/// A datetime or timespan cell as 100 ns ticks.
fn ticks_of(value: &Value, ty: KustoType) -> Option<i64> {
    let text = value.as_str()?;
    let nanos = if ty == KustoType::DateTime {
        parse_datetime(text)?
    } else {
        parse_timespan(text)?
    };
    Some(nanos.div_euclid(100))
}

/// Compares values and rows of one case.
struct Comparer<'c> {
    case: &'c Case,
    types: Vec<KustoType>,
}

impl<'c> Comparer<'c> {
    fn new(case: &'c Case) -> Self {
        Comparer {
            case,
            types: case.columns.iter().map(|c| c.ty).collect(),
        }
    }

    /// One cell, compared by the expected column type.
    fn cell_equal(&self, expected: &Value, actual: &Value, ty: KustoType) -> bool {
        match (expected, actual) {
            (Value::Null, Value::Null) => return true,
            (Value::Null, _) | (_, Value::Null) => return false,
            _ => {}
        }
        match ty {
            KustoType::Real | KustoType::Decimal => {
                match (number_of(expected), number_of(actual)) {
                    (Some(a), Some(b)) => reals_equal(a, b),
                    _ => expected == actual,
                }
            }
            KustoType::Int | KustoType::Long => match (integer_of(expected), integer_of(actual)) {
                (Some(a), Some(b)) => a == b,
                _ => expected == actual,
            },
            KustoType::Guid => match (expected.as_str(), actual.as_str()) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => expected == actual,
            },
            KustoType::DateTime | KustoType::TimeSpan => {
                match (ticks_of(expected, ty), ticks_of(actual, ty)) {
                    (Some(a), Some(b)) => a == b,
                    _ => expected == actual,
                }
            }
            KustoType::Dynamic => self.dynamic_equal(expected, actual),
            KustoType::Bool | KustoType::String => expected == actual,
        }
    }

    /// Deep equality of dynamic values: key order ignored, numbers within the real tolerance,
    /// arrays as multisets under `set_semantics`.
    fn dynamic_equal(&self, expected: &Value, actual: &Value) -> bool {
        match (expected, actual) {
            (Value::Number(a), Value::Number(b)) => {
                match (integer_of(expected), integer_of(actual)) {
                    (Some(x), Some(y)) => x == y,
                    _ => match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) => reals_equal(x, y),
                        _ => false,
                    },
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                if a.len() != b.len() {
                    return false;
                }
                if self.case.set_semantics {
                    let (unmatched, _) =
                        greedy_match(a.len(), b.len(), |i, j| self.dynamic_equal(&a[i], &b[j]));
                    unmatched.is_empty()
                } else {
                    a.iter().zip(b).all(|(x, y)| self.dynamic_equal(x, y))
                }
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(key, x)| b.get(key).is_some_and(|y| self.dynamic_equal(x, y)))
            }
            _ => expected == actual,
        }
    }

    /// The first column where two rows differ.
    fn first_difference(&self, expected: &[Value], actual: &[Value]) -> Option<usize> {
        (0..self.types.len().min(expected.len()).min(actual.len()))
            .find(|&c| !self.cell_equal(&expected[c], &actual[c], self.types[c]))
    }

    fn row_equal(&self, expected: &[Value], actual: &[Value]) -> bool {
        expected.len() == actual.len() && self.first_difference(expected, actual).is_none()
    }

    /// The cell difference of two rows as `column `x`: expected 1, got 2`.
    fn describe_difference(&self, expected: &[Value], actual: &[Value]) -> String {
        match self.first_difference(expected, actual) {
            Some(c) => format!(
                "column `{}`: expected {}, got {}",
                self.case.columns[c].name,
                show_value(&expected[c]),
                show_value(&actual[c])
            ),
            None => format!("expected {}, got {}", show_row(expected), show_row(actual)),
        }
    }

    /// A sort key under which equal rows (by this comparer) almost always sort together.
    fn canonical_row(&self, row: &[Value]) -> Vec<String> {
        row.iter()
            .zip(&self.types)
            .map(|(value, ty)| self.canonical_cell(value, *ty))
            .collect()
    }

    fn canonical_cell(&self, value: &Value, ty: KustoType) -> String {
        if value.is_null() {
            return "n".to_string();
        }
        match ty {
            KustoType::Real | KustoType::Decimal => match number_of(value) {
                Some(x) => format!("r{}", canonical_real(x)),
                None => format!("v{value}"),
            },
            KustoType::Int | KustoType::Long => match integer_of(value) {
                Some(x) => format!("i{x}"),
                None => format!("v{value}"),
            },
            KustoType::Guid => format!("v{}", value.to_string().to_ascii_lowercase()),
            KustoType::DateTime | KustoType::TimeSpan => match ticks_of(value, ty) {
                Some(x) => format!("t{x}"),
                None => format!("v{value}"),
            },
            KustoType::Dynamic => format!("d{}", self.canonical_dynamic(value)),
            KustoType::Bool | KustoType::String => format!("v{value}"),
        }
    }

    fn canonical_dynamic(&self, value: &Value) -> String {
        match value {
            Value::Number(number) => match integer_of(value) {
                Some(x) => canonical_real(x as f64),
                None => canonical_real(number.as_f64().unwrap_or(f64::NAN)),
            },
            Value::Array(items) => {
                let mut parts: Vec<String> =
                    items.iter().map(|v| self.canonical_dynamic(v)).collect();
                if self.case.set_semantics {
                    parts.sort();
                }
                format!("[{}]", parts.join(","))
            }
            Value::Object(map) => {
                let sorted: BTreeMap<&String, String> = map
                    .iter()
                    .map(|(k, v)| (k, self.canonical_dynamic(v)))
                    .collect();
                let parts: Vec<String> = sorted
                    .into_iter()
                    .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
            other => other.to_string(),
        }
    }

    /// Pairs equal rows; returns the unmatched expected and actual row indices.
    fn match_rows(
        &self,
        expected: &[Vec<Value>],
        actual: &[Vec<Value>],
    ) -> (Vec<usize>, Vec<usize>) {
        // Sort both sides canonically and pair them in order; whatever is left (values equal
        // within the tolerance but sorted apart, or real differences) is matched greedily.
        let sorted = |rows: &[Vec<Value>]| {
            let mut keyed: Vec<(Vec<String>, usize)> = rows
                .iter()
                .enumerate()
                .map(|(i, row)| (self.canonical_row(row), i))
                .collect();
            keyed.sort();
            keyed
        };
        let (left, right) = (sorted(expected), sorted(actual));
        let mut expected_used = vec![false; expected.len()];
        let mut actual_used = vec![false; actual.len()];
        for ((_, i), (_, j)) in left.iter().zip(&right) {
            if self.row_equal(&expected[*i], &actual[*j]) {
                expected_used[*i] = true;
                actual_used[*j] = true;
            }
        }
        let rest_expected: Vec<usize> =
            (0..expected.len()).filter(|&i| !expected_used[i]).collect();
        let rest_actual: Vec<usize> = (0..actual.len()).filter(|&j| !actual_used[j]).collect();
        let (unmatched_e, unmatched_a) =
            greedy_match(rest_expected.len(), rest_actual.len(), |i, j| {
                self.row_equal(&expected[rest_expected[i]], &actual[rest_actual[j]])
            });
        (
            unmatched_e.into_iter().map(|i| rest_expected[i]).collect(),
            unmatched_a.into_iter().map(|j| rest_actual[j]).collect(),
        )
    }

    /// Compares two row sets as multisets; the error names the first unmatched row.
    fn compare_multiset(
        &self,
        expected: &[Vec<Value>],
        actual: &[Vec<Value>],
    ) -> Result<(), String> {
        let (unmatched_expected, unmatched_actual) = self.match_rows(expected, actual);
        if unmatched_expected.is_empty() && unmatched_actual.is_empty() {
            return Ok(());
        }
        let count = if expected.len() == actual.len() {
            String::new()
        } else {
            format!(
                "row count: expected {}, got {}; ",
                expected.len(),
                actual.len()
            )
        };
        let detail = match (unmatched_expected.first(), unmatched_actual.is_empty()) {
            (Some(&i), false) => {
                // The unmatched actual row closest to the expected one (most equal cells).
                let closest = unmatched_actual
                    .iter()
                    .copied()
                    .max_by_key(|&j| {
                        let equal = (0..self.types.len())
                            .filter(|&c| {
                                self.cell_equal(&expected[i][c], &actual[j][c], self.types[c])
                            })
                            .count();
                        (equal, std::cmp::Reverse(j))
                    })
                    .unwrap_or(unmatched_actual[0]);
                format!(
                    "no match for expected row {} {}; closest actual row {} {} differs in {}",
                    i + 1,
                    show_row(&expected[i]),
                    closest + 1,
                    show_row(&actual[closest]),
                    self.describe_difference(&expected[i], &actual[closest])
                )
            }
            (Some(&i), true) => {
                format!("missing expected row {} {}", i + 1, show_row(&expected[i]))
            }
            (None, _) => {
                let j = unmatched_actual[0];
                format!("unexpected actual row {} {}", j + 1, show_row(&actual[j]))
            }
        };
        Err(format!("{count}{detail}"))
    }

    /// The column indices of the case's order keys, if every key is an output column.
    fn order_key_columns(&self) -> Option<Vec<usize>> {
        let keys = self.case.order_keys.as_ref()?;
        if keys.is_empty() {
            return None;
        }
        keys.iter()
            .map(|key| self.case.columns.iter().position(|c| c.name == key.column))
            .collect()
    }

    /// Rows as the case says: multiset, ordered, or ordered groups of order-key ties.
    fn compare_rows(&self, expected: &[Vec<Value>], actual: &[Vec<Value>]) -> Result<(), String> {
        self.compare_multiset(expected, actual)?;
        if !self.case.ordered {
            return Ok(());
        }
        let Some(keys) = self.order_key_columns() else {
            return match (0..expected.len()).find(|&i| !self.row_equal(&expected[i], &actual[i])) {
                None => Ok(()),
                Some(i) => Err(self.order_mismatch(expected, actual, i)),
            };
        };
        let same_keys = |a: &[Value], b: &[Value]| {
            keys.iter()
                .all(|&c| self.cell_equal(&a[c], &b[c], self.types[c]))
        };
        let mut start = 0;
        while start < expected.len() {
            let mut end = start + 1;
            while end < expected.len() && same_keys(&expected[start], &expected[end]) {
                end += 1;
            }
            if self
                .compare_multiset(&expected[start..end], &actual[start..end])
                .is_err()
            {
                let at = (start..end)
                    .find(|&i| !same_keys(&expected[i], &actual[i]))
                    .or_else(|| (start..end).find(|&i| !self.row_equal(&expected[i], &actual[i])))
                    .unwrap_or(start);
                return Err(self.order_mismatch(expected, actual, at));
            }
            start = end;
        }
        Ok(())
    }

    fn order_mismatch(&self, expected: &[Vec<Value>], actual: &[Vec<Value>], row: usize) -> String {
        format!(
            "{ORDER_MISMATCH}: the rows match as a multiset, but row {} is {}, expected {}",
            row + 1,
            show_row(&actual[row]),
            show_row(&expected[row])
        )
    }
}

/// A real as text that is the same for values equal within the tolerance, nearly always.
fn canonical_real(x: f64) -> String {
    if x == 0.0 {
        "0".to_string()
    } else if x.is_finite() {
        format!("{x:.8e}")
    } else {
        format!("{x}")
    }
}

/// Greedy pairing of `n` left items with `m` right items under `equal`; returns the unmatched
/// indices of both sides.
fn greedy_match(
    n: usize,
    m: usize,
    equal: impl Fn(usize, usize) -> bool,
) -> (Vec<usize>, Vec<usize>) {
    let mut used = vec![false; m];
    let mut unmatched_left = Vec::new();
    for i in 0..n {
        match (0..m).find(|&j| !used[j] && equal(i, j)) {
            Some(j) => used[j] = true,
            None => unmatched_left.push(i),
        }
    }
    let unmatched_right = (0..m).filter(|&j| !used[j]).collect();
    (unmatched_left, unmatched_right)
}

/// The tally of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cases whose result matched.
    pub passed: usize,
    /// Cases that failed, including errors, panics and timeouts.
    pub failed: usize,
    /// Cases that could not be judged.
    pub skipped: usize,
    /// `(id, reason)` of every failed case, in run order.
    pub failures: Vec<(String, String)>,
    /// `(id, reason)` of every skipped case, in run order.
    pub skips: Vec<(String, String)>,
}

impl Summary {
    /// Counts one outcome.
    pub fn record(&mut self, id: &str, outcome: &Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed { reason } => {
                self.failed += 1;
                self.failures.push((id.to_string(), reason.clone()));
            }
            Outcome::Skipped { reason } => {
                self.skipped += 1;
                self.skips.push((id.to_string(), reason.clone()));
            }
        }
    }

    /// Failing families with their failure counts, most failures first (then by name).
    pub fn failing_families(&self) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (id, _) in &self.failures {
            *counts.entry(family(id)).or_default() += 1;
        }
        let mut families: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(f, n)| (f.to_string(), n))
            .collect();
        families.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        families
    }

    /// The number of failures that are order mismatches.
    pub fn order_mismatches(&self) -> usize {
        self.failures
            .iter()
            .filter(|(_, reason)| reason.starts_with(ORDER_MISMATCH))
            .count()
    }
}

/// `N passed, M failed, K skipped`.
impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// The family of a case id: its first two path segments when it has three or more
/// (`kql-to-sql/r2-joins/agent-joins-0007` → `kql-to-sql/r2-joins`), else the id without a
/// trailing `-NN` (`duckdb-kql/bin-function-01` → `duckdb-kql/bin-function`).
pub fn family(id: &str) -> &str {
    let mut slashes = id.match_indices('/').map(|(i, _)| i);
    if let (Some(_), Some(second)) = (slashes.next(), slashes.next()) {
        return &id[..second];
    }
    match id.rsplit_once('-') {
        Some((head, tail))
            if !head.is_empty() && !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) =>
        {
            head
        }
        _ => id,
    }
}

/// A session configuration for conformance runs: the time limit, a fixed `now`
/// (2024-01-01T00:00:00Z; the cases do not depend on it) and no other limits.
pub fn session_config(per_case_timeout: Duration) -> SessionConfig {
    SessionConfig {
        now_nanos: parse_datetime("2024-01-01T00:00:00Z"),
        time_limit: Some(per_case_timeout),
        ..SessionConfig::default()
    }
}

/// Stack of the thread each case runs on; deep queries recurse in the parser and planner.
const CASE_STACK_BYTES: usize = 64 * 1024 * 1024;
/// Extra time beyond the per-case timeout before the runner gives up on a case's thread.
const GRACE: Duration = Duration::from_secs(1);

/// Runs every case in a fresh session from `make_session` (which should set
/// `SessionConfig::time_limit`, e.g. through [`session_config`]) and tallies the outcomes.
///
/// Each case runs on a thread of its own with its own single-threaded tokio runtime: a panic
/// becomes a failure `panic: …`, and a case that gives no answer within `per_case_timeout` (plus
/// one second of grace) fails with `timeout …` while its thread is left behind. Must be awaited
/// inside a tokio runtime with the time driver enabled.
pub async fn run_cases(
    cases: &[Case],
    make_session: impl Fn() -> Session,
    per_case_timeout: Duration,
) -> Summary {
    run_cases_with(cases, make_session, per_case_timeout, |_, _| {}).await
}

/// [`run_cases`], calling `on_case` after each case (for progress and verbose output).
pub async fn run_cases_with(
    cases: &[Case],
    make_session: impl Fn() -> Session,
    per_case_timeout: Duration,
    mut on_case: impl FnMut(&Case, &Outcome),
) -> Summary {
    let mut summary = Summary::default();
    for case in cases {
        let outcome = run_case(case, &make_session, per_case_timeout).await;
        summary.record(&case.id, &outcome);
        on_case(case, &outcome);
    }
    summary
}

/// Runs and judges one case; never panics.
pub async fn run_case(
    case: &Case,
    make_session: &impl Fn() -> Session,
    per_case_timeout: Duration,
) -> Outcome {
    let session = match std::panic::catch_unwind(AssertUnwindSafe(make_session)) {
        Ok(session) => session,
        Err(payload) => {
            return Outcome::failed(format!(
                "panic while creating the session: {}",
                panic_message(payload.as_ref())
            ))
        }
    };
    let (sender, receiver) = futures::channel::oneshot::channel();
    let owned = case.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("case {}", case.id))
        .stack_size(CASE_STACK_BYTES)
        .spawn(move || {
            let outcome = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => {
                    let result = runtime.block_on(session.run(&owned.query));
                    check(&owned, result)
                }
                Err(error) => Outcome::failed(format!("cannot start a runtime: {error}")),
            };
            let _ = sender.send(outcome);
        });
    let handle = match spawned {
        Ok(handle) => handle,
        Err(error) => return Outcome::failed(format!("cannot start a thread: {error}")),
    };
    match tokio::time::timeout(per_case_timeout + GRACE, receiver).await {
        Ok(Ok(outcome)) => outcome,
        // The sender was dropped without a result: the thread panicked.
        Ok(Err(_)) => match handle.join() {
            Err(payload) => Outcome::failed(format!("panic: {}", panic_message(payload.as_ref()))),
            Ok(()) => Outcome::failed("panic: the case ended without a result"),
        },
        Err(_) => Outcome::failed(format!(
            "timeout: no result after {:?}",
            per_case_timeout + GRACE
        )),
    }
}

/// The message of a panic payload, on one line.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_string()
    };
    shorten(
        &text.split_whitespace().collect::<Vec<_>>().join(" "),
        SHOWN_ERROR,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests::output;
    use datafusion::arrow::array::{
        ArrayRef, Float64Array, Int32Array, Int64Array, LargeStringArray, StringArray,
        TimestampNanosecondArray,
    };
    use serde_json::json;
    use std::sync::Arc;

    /// A case from a JSON object (the fields a test leaves out get their defaults).
    fn case(value: Value) -> Case {
        let mut object = json!({"id": "test/case-00", "query": "print 1", "ordered": false});
        for (key, v) in value.as_object().unwrap() {
            object[key] = v.clone();
        }
        serde_json::from_value(object).unwrap()
    }

    fn longs(values: &[i64]) -> ArrayRef {
        Arc::new(Int64Array::from(values.to_vec()))
    }

    fn strings(values: &[&str]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    fn reason(outcome: Outcome) -> String {
        match outcome {
            Outcome::Failed { reason } => reason,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn loads_cases_and_names_the_bad_line() {
        let good = r#"{"id": "a/b-00", "query": "print 1", "columns": [{"name": "print_0", "type": "long"}], "rows": [[1]], "ordered": false, "types_inferred": false}"#;
        let cases = parse_cases(&format!("{good}\n\n{good}\n")).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].columns[0].ty, KustoType::Long);
        let (line, message) = parse_cases(&format!("{good}\n{{not json\n")).unwrap_err();
        assert_eq!(line, 2);
        assert!(message.contains("not a valid case"), "{message}");
        let ragged = good.replace("[[1]]", "[[1, 2]]");
        let (line, message) = parse_cases(&ragged).unwrap_err();
        assert_eq!(line, 1);
        assert!(message.contains("row 1 has 2 values"), "{message}");
        let dir = std::env::temp_dir().join(format!("quarry-cases-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.jsonl");
        std::fs::write(&path, format!("{good}\n{good}\n[1]\n")).unwrap();
        let error = load_cases(&path).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("{}:3: ", path.display())),
            "{error}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn passes_an_equal_result() {
        let c = case(json!({
            "columns": [{"name": "a", "type": "long"}, {"name": "s", "type": "string"}],
            "rows": [[1, "x"], [2, ""]],
        }));
        let o = output(vec![("a", longs(&[2, 1])), ("s", strings(&["", "x"]))]);
        assert_eq!(check(&c, Ok(o)), Outcome::Passed);
    }

    #[test]
    fn columns_must_match() {
        let c = case(json!({"columns": [{"name": "a", "type": "long"}], "rows": [[1]]}));
        let r = reason(check(&c, Ok(output(vec![("b", longs(&[1]))]))));
        assert_eq!(r, "column 1: expected name `a`, got `b`");
        let r = reason(check(
            &c,
            Ok(output(vec![("a", longs(&[1])), ("b", longs(&[1]))])),
        ));
        assert_eq!(r, "column count: expected 1 (a), got 2 (a, b)");
        let r = reason(check(&c, Ok(output(vec![("a", strings(&["1"]))]))));
        assert_eq!(r, "column `a`: expected type long, got string (Arrow Utf8)");
    }

    #[test]
    fn int_and_long_are_interchangeable_only_when_inferred() {
        let ints: ArrayRef = Arc::new(Int32Array::from(vec![7]));
        let exact = case(json!({"columns": [{"name": "a", "type": "long"}], "rows": [[7]]}));
        let r = reason(check(&exact, Ok(output(vec![("a", ints.clone())]))));
        assert!(r.contains("expected type long, got int"), "{r}");
        let inferred = case(json!({
            "columns": [{"name": "a", "type": "long"}], "rows": [[7]], "types_inferred": true,
        }));
        assert_eq!(
            check(&inferred, Ok(output(vec![("a", ints)]))),
            Outcome::Passed
        );
        let real_vs_decimal = case(json!({
            "columns": [{"name": "r", "type": "decimal"}], "rows": [["0.3333333333333333"]],
            "types_inferred": true,
        }));
        let reals: ArrayRef = Arc::new(Float64Array::from(vec![1.0 / 3.0]));
        assert_eq!(
            check(&real_vs_decimal, Ok(output(vec![("r", reals)]))),
            Outcome::Passed
        );
    }

    #[test]
    fn reals_within_tolerance_and_nan() {
        let c = case(json!({
            "columns": [{"name": "r", "type": "real"}],
            "rows": [[0.3], ["NaN"], ["-Infinity"], [0.0], [null]],
            "ordered": true,
        }));
        let good: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(0.1 + 0.2),
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
            Some(-0.0),
            None,
        ]));
        assert_eq!(check(&c, Ok(output(vec![("r", good)]))), Outcome::Passed);
        let bad: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(0.3000001),
            Some(f64::NAN),
            Some(f64::NEG_INFINITY),
            Some(0.0),
            None,
        ]));
        let r = reason(check(&c, Ok(output(vec![("r", bad)]))));
        assert!(r.contains("no match for expected row 1 [0.3]"), "{r}");
        assert!(r.contains("column `r`: expected 0.3, got 0.3000001"), "{r}");
        assert!(reals_equal(1e20, 1e20 * (1.0 + 1e-12)));
        assert!(!reals_equal(f64::INFINITY, f64::NEG_INFINITY));
        assert!(!reals_equal(f64::NAN, 1.0));
    }

    #[test]
    fn null_is_not_empty() {
        let c = case(json!({"columns": [{"name": "d", "type": "dynamic"}], "rows": [[null]]}));
        let o = output(vec![(
            "d",
            Arc::new(LargeStringArray::from(vec!["\"\""])) as ArrayRef,
        )]);
        let r = reason(check(&c, Ok(o)));
        assert!(r.contains("expected null, got \"\""), "{r}");
    }

    #[test]
    fn datetimes_compare_as_ticks() {
        let c = case(json!({
            "columns": [{"name": "t", "type": "datetime"}, {"name": "s", "type": "timespan"}],
            "rows": [["2020-01-01T00:00:00.5000000Z", "1.00:00:00.5000000"]],
        }));
        let nanos = parse_datetime("2020-01-01T00:00:00.5Z").unwrap();
        let t: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![nanos]));
        let s: ArrayRef = Arc::new(datafusion::arrow::array::DurationNanosecondArray::from(
            vec![crate::values::NANOS_PER_DAY + 500_000_000],
        ));
        assert_eq!(
            check(&c, Ok(output(vec![("t", t), ("s", s.clone())]))),
            Outcome::Passed
        );
        let later: ArrayRef = Arc::new(TimestampNanosecondArray::from(vec![nanos + 100]));
        let r = reason(check(&c, Ok(output(vec![("t", later), ("s", s)]))));
        assert!(r.contains("got \"2020-01-01T00:00:00.5000001Z\""), "{r}");
    }

    #[test]
    fn dynamic_ignores_key_order_and_honours_set_semantics() {
        let dynamic =
            |texts: &[&str]| -> ArrayRef { Arc::new(LargeStringArray::from(texts.to_vec())) };
        let c = case(json!({
            "columns": [{"name": "d", "type": "dynamic"}],
            "rows": [[{"a": 1, "b": [1.5, "x"]}]],
        }));
        let o = output(vec![(
            "d",
            dynamic(&[r#"{"b": [1.5000000000001, "x"], "a": 1}"#]),
        )]);
        assert_eq!(check(&c, Ok(o)), Outcome::Passed);
        let o = output(vec![("d", dynamic(&[r#"{"b": ["x", 1.5], "a": 1}"#]))]);
        assert!(matches!(check(&c, Ok(o)), Outcome::Failed { .. }));

        let sets = case(json!({
            "columns": [{"name": "d", "type": "dynamic"}],
            "rows": [[[1, 2, 2, 3]]],
            "set_semantics": true,
        }));
        let o = output(vec![("d", dynamic(&["[2, 3, 1, 2]"]))]);
        assert_eq!(check(&sets, Ok(o)), Outcome::Passed);
        let o = output(vec![("d", dynamic(&["[2, 3, 1, 3]"]))]);
        assert!(matches!(check(&sets, Ok(o)), Outcome::Failed { .. }));
        let lists = case(json!({
            "columns": [{"name": "d", "type": "dynamic"}],
            "rows": [[[1, 2, 2, 3]]],
        }));
        let o = output(vec![("d", dynamic(&["[2, 3, 1, 2]"]))]);
        assert!(matches!(check(&lists, Ok(o)), Outcome::Failed { .. }));
    }

    #[test]
    fn ordered_versus_multiset() {
        let rows = json!([[1, "a"], [2, "b"], [3, "c"]]);
        let columns = json!([{"name": "n", "type": "long"}, {"name": "s", "type": "string"}]);
        let shuffled = || {
            output(vec![
                ("n", longs(&[2, 1, 3])),
                ("s", strings(&["b", "a", "c"])),
            ])
        };
        let unordered = case(json!({"columns": columns, "rows": rows}));
        assert_eq!(check(&unordered, Ok(shuffled())), Outcome::Passed);
        let ordered = case(json!({"columns": columns, "rows": rows, "ordered": true}));
        let outcome = check(&ordered, Ok(shuffled()));
        assert!(outcome.is_order_mismatch(), "{outcome:?}");
        let r = reason(outcome);
        assert!(r.starts_with("order mismatch: "), "{r}");
        assert!(r.contains("row 1 is [2,\"b\"], expected [1,\"a\"]"), "{r}");

        // Wrong content in an ordered case is a value failure, not an order mismatch.
        let wrong = output(vec![
            ("n", longs(&[1, 2, 4])),
            ("s", strings(&["a", "b", "c"])),
        ]);
        let r = reason(check(&ordered, Ok(wrong)));
        assert!(r.contains("no match for expected row 3 [3,\"c\"]"), "{r}");
        assert!(r.contains("column `n`: expected 3, got 4"), "{r}");

        let short = output(vec![("n", longs(&[1, 2])), ("s", strings(&["a", "b"]))]);
        let r = reason(check(&unordered, Ok(short)));
        assert!(
            r.starts_with("row count: expected 3, got 2; missing expected row 3"),
            "{r}"
        );
    }

    #[test]
    fn order_key_ties_form_groups() {
        let c = case(json!({
            "columns": [{"name": "k", "type": "long"}, {"name": "s", "type": "string"}],
            "rows": [[3, "x"], [3, "y"], [1, "z"]],
            "ordered": true,
            "order_keys": [{"column": "k", "desc": true}],
            "order_ties": true,
        }));
        let tied = output(vec![
            ("k", longs(&[3, 3, 1])),
            ("s", strings(&["y", "x", "z"])),
        ]);
        assert_eq!(check(&c, Ok(tied)), Outcome::Passed);
        let wrong = output(vec![
            ("k", longs(&[1, 3, 3])),
            ("s", strings(&["z", "y", "x"])),
        ]);
        let outcome = check(&c, Ok(wrong));
        assert!(outcome.is_order_mismatch(), "{outcome:?}");
        // Without order keys the tie order matters.
        let mut strict = c.clone();
        strict.order_keys = None;
        let tied = output(vec![
            ("k", longs(&[3, 3, 1])),
            ("s", strings(&["y", "x", "z"])),
        ]);
        assert!(check(&strict, Ok(tied)).is_order_mismatch());
    }

    #[test]
    fn errors_fail_with_their_message() {
        let c = case(json!({"columns": [{"name": "a", "type": "long"}], "rows": [[1]]}));
        let error = EngineError::unsupported("operator make-graph", quarry_kql::Span::new(0, 5));
        assert_eq!(
            reason(check(&c, Err(error))),
            "not supported: operator make-graph"
        );
        let syntax = quarry_kql::parse("print 1 |");
        assert!(!syntax.is_ok());
        let r = reason(check(&c, Err(EngineError::Syntax(syntax.diagnostics))));
        assert!(r.starts_with("syntax error at 1:"), "{r}");
        let bind = EngineError::bind("unknown column `x`", quarry_kql::Span::new(0, 1));
        assert_eq!(
            reason(check(&c, Err(bind))),
            "bind error: unknown column `x`"
        );
    }

    #[test]
    fn families() {
        assert_eq!(
            family("duckdb-kql/bin-function-01"),
            "duckdb-kql/bin-function"
        );
        assert_eq!(
            family("kql-to-sql/r2-nested-pipelines-let-cte/agent-nested-pipelines-let-cte-0025"),
            "kql-to-sql/r2-nested-pipelines-let-cte"
        );
        assert_eq!(family("plain"), "plain");
        let mut summary = Summary::default();
        summary.record("a/x-01", &Outcome::failed("r"));
        summary.record("a/x-02", &Outcome::failed("order mismatch: …"));
        summary.record("a/y-01", &Outcome::failed("r"));
        summary.record("a/z-01", &Outcome::Passed);
        assert_eq!(
            summary.failing_families(),
            vec![("a/x".to_string(), 2), ("a/y".to_string(), 1)]
        );
        assert_eq!(summary.order_mismatches(), 1);
        assert_eq!(summary.to_string(), "1 passed, 3 failed, 0 skipped");
    }

    #[test]
    fn runner_survives_errors_and_counts_everything() {
        let c = case(json!({"columns": [{"name": "a", "type": "long"}], "rows": [[1]]}));
        let cases = vec![c.clone(), c];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let timeout = Duration::from_secs(5);
        let summary = runtime.block_on(run_cases(
            &cases,
            || Session::new(session_config(timeout)).unwrap(),
            timeout,
        ));
        assert_eq!(summary.passed + summary.failed + summary.skipped, 2);
        let panicking = runtime.block_on(run_cases(
            &cases[..1],
            || panic!("no session today"),
            timeout,
        ));
        assert_eq!(panicking.failed, 1);
        assert!(panicking.failures[0].1.contains("no session today"));
    }
}
