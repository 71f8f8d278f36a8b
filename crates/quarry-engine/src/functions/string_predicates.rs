//! The string operators (`has`, `contains`, `startswith`, `=~`, `has_any`, …) with Kusto's
//! semantics: term matching for `has*`, case folding unless `_cs`, a null left side never matching.
//!
//! A constant needle over a plain string column is searched for in the column's whole value
//! buffer at once ([`scan_value_buffer`]) instead of row by row: most rows of a hunting table do
//! not hold the needle, and one SIMD-prefiltered pass over the buffer skips them without paying a
//! search call, an ASCII check and a row lookup for each.

use super::strings::{udf_call, Batch, KqlUdf, StrCol};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, StringArray,
};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DFResult, ScalarValue};
use datafusion::logical_expr::Expr;
use quarry_kql::ast::StringPredicate;
use serde_json::Value as Json;
use std::borrow::Cow;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------------
// Case folding and term matching
// ---------------------------------------------------------------------------------------------

fn is_term_char(c: char) -> bool {
    c.is_alphanumeric()
}

/// A needle prepared once: folded to lower case for the case-insensitive operators.
struct Needle {
    text: String,
    first_term: bool,
    last_term: bool,
    /// A prepared searcher (SIMD prefilters, ASCII case folding built in) for a needle used on
    /// many rows; `None` for a needle that changes per row.
    finder: Option<aho_corasick::AhoCorasick>,
}

impl Needle {
    /// A needle searched for in many rows: [`Needle::new`] plus a prepared searcher.
    fn prepared(text: &str, case_sensitive: bool) -> Self {
        let mut needle = Needle::new(text, case_sensitive);
        if !needle.text.is_empty() {
            needle.finder = aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(!case_sensitive)
                .build([needle.text.as_bytes()])
                .ok();
        }
        needle
    }

    /// The first occurrence at or after `from` (`ascii_ci`: ASCII letters match either case).
    #[inline]
    fn find(&self, hay: &[u8], from: usize, ascii_ci: bool) -> Option<usize> {
        match &self.finder {
            Some(finder) if from <= hay.len() => finder
                .find(aho_corasick::Input::new(hay).span(from..hay.len()))
                .map(|m| m.start()),
            Some(_) => None,
            None => find_from(hay, self.text.as_bytes(), from, ascii_ci),
        }
    }

    fn new(text: &str, case_sensitive: bool) -> Self {
        let text = if case_sensitive {
            text.to_string()
        } else if text.is_ascii() {
            text.to_ascii_lowercase()
        } else {
            text.to_lowercase()
        };
        let first_term = text.chars().next().is_some_and(is_term_char);
        let last_term = text.chars().next_back().is_some_and(is_term_char);
        Needle {
            text,
            first_term,
            last_term,
            finder: None,
        }
    }
}

/// The haystack in the form the comparison needs: as is (case-sensitive, or ASCII compared with
/// `eq_ignore_ascii_case`), or folded to lower case (non-ASCII, case-insensitive).
fn fold_haystack(hay: &str, case_sensitive: bool) -> (Cow<'_, str>, bool) {
    if case_sensitive {
        (Cow::Borrowed(hay), false)
    } else if hay.is_ascii() {
        (Cow::Borrowed(hay), true)
    } else {
        (Cow::Owned(hay.to_lowercase()), false)
    }
}

#[inline]
fn eq_at(hay: &[u8], pos: usize, needle: &[u8], ascii_ci: bool) -> bool {
    let Some(window) = hay.get(pos..pos + needle.len()) else {
        return false;
    };
    if ascii_ci {
        window.eq_ignore_ascii_case(needle)
    } else {
        window == needle
    }
}

fn term_before(hay: &str, pos: usize) -> bool {
    let bytes = hay.as_bytes();
    if pos == 0 {
        return false;
    }
    let b = bytes[pos - 1];
    if b.is_ascii() {
        return b.is_ascii_alphanumeric();
    }
    hay[..pos].chars().next_back().is_some_and(is_term_char)
}

fn term_after(hay: &str, end: usize) -> bool {
    let bytes = hay.as_bytes();
    match bytes.get(end) {
        None => false,
        Some(b) if b.is_ascii() => b.is_ascii_alphanumeric(),
        Some(_) => hay[end..].chars().next().is_some_and(is_term_char),
    }
}

/// Whether `hay` satisfies `predicate` against the prepared needle.
fn predicate_matches(
    predicate: StringPredicate,
    case_sensitive: bool,
    hay: &str,
    needle: &Needle,
) -> bool {
    let n = needle.text.as_bytes();
    if n.is_empty() {
        return true;
    }
    let (hay, ascii_ci) = fold_haystack(hay, case_sensitive);
    let h = hay.as_bytes();
    if h.len() < n.len() {
        return false;
    }
    match predicate {
        StringPredicate::StartsWith => eq_at(h, 0, n, ascii_ci),
        StringPredicate::EndsWith => eq_at(h, h.len() - n.len(), n, ascii_ci),
        StringPredicate::Contains => {
            if ascii_ci || needle.finder.is_some() {
                needle.find(h, 0, ascii_ci).is_some()
            } else {
                hay.contains(needle.text.as_str())
            }
        }
        StringPredicate::Has | StringPredicate::HasPrefix | StringPredicate::HasSuffix => {
            let check_start = needle.first_term && !matches!(predicate, StringPredicate::HasSuffix);
            let check_end = needle.last_term && !matches!(predicate, StringPredicate::HasPrefix);
            let mut from = 0;
            while let Some(pos) = needle.find(h, from, ascii_ci) {
                let end = pos + n.len();
                if (!check_start || !term_before(&hay, pos))
                    && (!check_end || !term_after(&hay, end))
                {
                    return true;
                }
                from = pos + 1;
            }
            false
        }
    }
}

/// The first position at or after `from` where `needle` occurs in `hay`.
fn find_from(hay: &[u8], needle: &[u8], from: usize, ascii_ci: bool) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    if hay.len() < needle.len() {
        return None;
    }
    let last = hay.len() - needle.len();
    let first = needle[0];
    let mut pos = from;
    while pos <= last {
        let b = hay[pos];
        let hit = if ascii_ci {
            b.eq_ignore_ascii_case(&first)
        } else {
            b == first
        };
        if hit && eq_at(hay, pos, needle, ascii_ci) {
            return Some(pos);
        }
        pos += 1;
    }
    None
}

/// Unicode case-insensitive equality (as Kusto's `=~`), without allocating.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

const PREDICATES: [StringPredicate; 6] = [
    StringPredicate::Has,
    StringPredicate::HasPrefix,
    StringPredicate::HasSuffix,
    StringPredicate::Contains,
    StringPredicate::StartsWith,
    StringPredicate::EndsWith,
];

fn predicate_code(predicate: StringPredicate) -> u32 {
    PREDICATES.iter().position(|p| *p == predicate).unwrap_or(0) as u32
}

fn predicate_name(predicate: StringPredicate) -> &'static str {
    match predicate {
        StringPredicate::Has => "has",
        StringPredicate::HasPrefix => "hasprefix",
        StringPredicate::HasSuffix => "hassuffix",
        StringPredicate::Contains => "contains",
        StringPredicate::StartsWith => "startswith",
        StringPredicate::EndsWith => "endswith",
    }
}

const FLAG_CS: u32 = 1 << 4;
const FLAG_NEG: u32 = 1 << 5;

/// `left <predicate>[_cs] right` and the `!` forms, with Kusto's semantics: term matching for
/// `has*`, substring for the rest, case-insensitive unless `case_sensitive`; a null left side
/// gives false (true for the negated form).
pub(crate) fn string_predicate(
    predicate: StringPredicate,
    case_sensitive: bool,
    negated: bool,
    left: Expr,
    right: Expr,
) -> Expr {
    let mut flags = predicate_code(predicate);
    if case_sensitive {
        flags |= FLAG_CS;
    }
    if negated {
        flags |= FLAG_NEG;
    }
    let name = format!(
        "{}{}{}",
        if negated { "!" } else { "" },
        predicate_name(predicate),
        if case_sensitive { "_cs" } else { "" }
    );
    udf_call(
        &name,
        DataType::Boolean,
        flags,
        predicate_kernel,
        vec![left, right],
    )
}

fn predicate_kernel(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let predicate = PREDICATES[(udf.flags & 0xf) as usize];
    let case_sensitive = udf.flags & FLAG_CS != 0;
    let negated = udf.flags & FLAG_NEG != 0;
    let hay = batch.strs(0)?;
    let needles = batch.strs(1)?;
    let fixed = batch
        .is_scalar(1)
        .then(|| Needle::prepared(needles.str(0), case_sensitive));
    if let (Some(needle), StrCol::Utf8(array, false)) = (&fixed, &hay) {
        if let Some(result) = scan_predicate(array, predicate, case_sensitive, negated, needle) {
            return Ok(Arc::new(result));
        }
    }
    let mut out = BooleanBuilder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        let value = match hay.get(i) {
            None => negated,
            Some(h) => {
                let matched = match &fixed {
                    Some(needle) => predicate_matches(predicate, case_sensitive, h, needle),
                    None => predicate_matches(
                        predicate,
                        case_sensitive,
                        h,
                        &Needle::new(needles.str(i), case_sensitive),
                    ),
                };
                matched != negated
            }
        };
        out.append_value(value);
    }
    Ok(Arc::new(out.finish()))
}

/// The predicate over every row of `array` through [`scan_value_buffer`], rows it cannot decide
/// going the row-by-row way; `None` when the scan does not apply.
fn scan_predicate(
    array: &StringArray,
    predicate: StringPredicate,
    case_sensitive: bool,
    negated: bool,
    needle: &Needle,
) -> Option<BooleanArray> {
    let scan = scan_value_buffer(array, predicate, case_sensitive, needle)?;
    let values = BooleanBuffer::collect_bool(array.len(), |i| match scan[i] {
        _ if array.is_null(i) => negated,
        RowScan::Matched => !negated,
        RowScan::NoHit => negated,
        RowScan::Recheck => {
            predicate_matches(predicate, case_sensitive, array.value(i), needle) != negated
        }
    });
    Some(BooleanArray::new(values, None))
}

/// `startswith`/`endswith` row by row on bytes: an ASCII needle matching a row's first (last)
/// bytes without case is a match whatever the rest of the row holds; a row that does not match
/// is decided only when it is ASCII (or the comparison keeps case).
fn scan_ends(
    array: &StringArray,
    predicate: StringPredicate,
    case_sensitive: bool,
    needle: &Needle,
) -> Vec<RowScan> {
    let offsets = array.value_offsets();
    let data = array.value_data();
    let n = needle.text.as_bytes();
    let all_ascii = case_sensitive || values_are_ascii(array);
    (0..array.len())
        .map(|i| {
            let row = &data[offsets[i] as usize..offsets[i + 1] as usize];
            let part = match predicate {
                StringPredicate::StartsWith => row.get(..n.len()),
                _ => row.len().checked_sub(n.len()).map(|at| &row[at..]),
            };
            let matched = part.is_some_and(|part| {
                if case_sensitive {
                    part == n
                } else {
                    part.eq_ignore_ascii_case(n)
                }
            });
            if matched {
                RowScan::Matched
            } else if all_ascii || row.is_ascii() {
                RowScan::NoHit
            } else {
                RowScan::Recheck
            }
        })
        .collect()
}

/// Finds a needle in a byte buffer with memchr's SIMD `memmem`. Without case the needle is
/// lower case and the buffer is searched through ASCII-lowercased copies of one window at a time,
/// which keeps the fast two-byte SIMD filter that case-insensitive searchers lack.
struct BufferFinder<'a> {
    data: &'a [u8],
    finder: memchr::memmem::Finder<'static>,
    fold: bool,
    window: Vec<u8>,
    window_start: usize,
    window_end: usize,
}

impl<'a> BufferFinder<'a> {
    /// The folded window's size: large enough to amortise the per-search setup, small enough to
    /// stay in the CPU cache.
    const WINDOW: usize = 1 << 16;

    fn new(data: &'a [u8], needle: &[u8], fold: bool) -> Self {
        BufferFinder {
            data,
            finder: memchr::memmem::Finder::new(needle).into_owned(),
            fold,
            window: Vec::new(),
            window_start: 0,
            window_end: 0,
        }
    }

    /// The first occurrence starting at or after `from`.
    fn find(&mut self, mut from: usize) -> Option<usize> {
        if !self.fold {
            return self.finder.find(self.data.get(from..)?).map(|p| p + from);
        }
        let width = self.finder.needle().len();
        loop {
            if from + width > self.data.len() {
                return None;
            }
            if from < self.window_start || from + width > self.window_end {
                let size = Self::WINDOW.max(width * 4);
                let to = (from + size).min(self.data.len());
                self.window.clear();
                self.window.extend_from_slice(&self.data[from..to]);
                self.window.make_ascii_lowercase();
                self.window_start = from;
                self.window_end = to;
            }
            let window = &self.window[from - self.window_start..];
            if let Some(at) = self.finder.find(window) {
                return Some(from + at);
            }
            if self.window_end == self.data.len() {
                return None;
            }
            from = self.window_end + 1 - width;
        }
    }
}

/// Whether every value of `array` (its whole value region, nulls' bytes included) is ASCII.
fn values_are_ascii(array: &StringArray) -> bool {
    let offsets = array.value_offsets();
    array.value_data()[offsets[0] as usize..offsets[array.len()] as usize].is_ascii()
}

/// What the buffer scan learned about one row.
#[derive(Clone, Copy, PartialEq, Debug)]
enum RowScan {
    /// The needle occurs (term-bounded where the predicate asks for it).
    Matched,
    /// The needle does not occur.
    NoHit,
    /// The row holds non-ASCII text under a case-insensitive predicate, where Unicode case
    /// folding can decide differently from the ASCII search: the row-by-row path decides.
    Recheck,
}

/// Searches `needle` in the whole value buffer of `array` and maps the hits to rows, for
/// `contains` and the `has*` operators; `None` when the predicate or needle needs the row-by-row
/// path (`startswith`/`endswith`, an empty needle, a non-ASCII needle compared without case).
fn scan_value_buffer(
    array: &StringArray,
    predicate: StringPredicate,
    case_sensitive: bool,
    needle: &Needle,
) -> Option<Vec<RowScan>> {
    if needle.text.is_empty() || (!case_sensitive && !needle.text.is_ascii()) {
        return None;
    }
    let term = match predicate {
        StringPredicate::Contains => None,
        StringPredicate::Has => Some((needle.first_term, needle.last_term)),
        StringPredicate::HasPrefix => Some((needle.first_term, false)),
        StringPredicate::HasSuffix => Some((false, needle.last_term)),
        StringPredicate::StartsWith | StringPredicate::EndsWith => {
            return Some(scan_ends(array, predicate, case_sensitive, needle));
        }
    };
    let offsets = array.value_offsets();
    let data = array.value_data();
    let first = offsets[0] as usize;
    let last = offsets[array.len()] as usize;
    let width = needle.text.len();
    let mut finder = BufferFinder::new(&data[..last], needle.text.as_bytes(), !case_sensitive);
    let mut scan = vec![RowScan::NoHit; array.len()];
    let mut row = 0;
    let mut from = first;
    while from < last {
        let Some(pos) = finder.find(from) else {
            break;
        };
        while offsets[row + 1] as usize <= pos {
            row += 1;
        }
        let row_start = offsets[row] as usize;
        let row_end = offsets[row + 1] as usize;
        if pos + width > row_end {
            from = row_end;
            continue;
        }
        let Some((check_start, check_end)) = term else {
            scan[row] = RowScan::Matched;
            from = row_end;
            continue;
        };
        let text = array.value(row);
        if !case_sensitive && !text.is_ascii() {
            scan[row] = RowScan::Recheck;
            from = row_end;
            continue;
        }
        let at = pos - row_start;
        if (!check_start || !term_before(text, at)) && (!check_end || !term_after(text, at + width))
        {
            scan[row] = RowScan::Matched;
            from = row_end;
        } else {
            from = pos + 1;
        }
    }
    if !case_sensitive && !values_are_ascii(array) {
        for (i, state) in scan.iter_mut().enumerate() {
            if *state == RowScan::NoHit && !array.value(i).is_ascii() {
                *state = RowScan::Recheck;
            }
        }
    }
    Some(scan)
}

/// `left =~ right` (or `!~` when `negated`): equality under Unicode case folding.
pub(crate) fn equals_ignore_case(left: Expr, right: Expr, negated: bool) -> Expr {
    let name = if negated { "!~" } else { "=~" };
    udf_call(
        name,
        DataType::Boolean,
        u32::from(negated),
        equals_ci_kernel,
        vec![left, right],
    )
}

fn equals_ci_kernel(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let negated = udf.flags != 0;
    let a = batch.strs(0)?;
    let b = batch.strs(1)?;
    let mut out = BooleanBuilder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        out.append_value(eq_ignore_case(a.str(i), b.str(i)) != negated);
    }
    Ok(Arc::new(out.finish()))
}

/// `value in~ (needles…)` (or `!in~` when `negated`) for constant string needles: Unicode
/// case-insensitive equality without lowering every row into a new column first.
pub(crate) fn in_ignore_case(value: Expr, needles: Vec<String>, negated: bool) -> Expr {
    let mut args = vec![value];
    args.extend(
        needles
            .into_iter()
            .map(|n| Expr::Literal(ScalarValue::Utf8(Some(n)), None)),
    );
    let name = if negated { "!in~" } else { "in~" };
    udf_call(
        name,
        DataType::Boolean,
        u32::from(negated),
        in_ci_kernel,
        args,
    )
}

/// Above this many needles a row is lowered once and looked up in a hash set.
const LINEAR_NEEDLES: usize = 8;

fn in_ci_kernel(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let negated = udf.flags != 0;
    let hay = batch.strs(0)?;
    let mut needles = Vec::with_capacity(batch.cols.len() - 1);
    for j in 1..batch.cols.len() {
        needles.push(batch.strs(j)?.str(0).to_lowercase());
    }
    let set: Option<std::collections::HashSet<&str>> =
        (needles.len() > LINEAR_NEEDLES).then(|| needles.iter().map(String::as_str).collect());
    // Rows of a column that is ASCII throughout compare bytes without case, needing no ASCII
    // check of their own.
    let all_ascii = match &hay {
        StrCol::Utf8(array, _) => values_are_ascii(array),
        StrCol::View(..) => false,
    };
    let mut lowered = String::new();
    let mut matches = |text: &str| match &set {
        Some(set) => {
            lowered.clear();
            if text.is_ascii() {
                lowered.push_str(text);
                lowered.make_ascii_lowercase();
            } else {
                lowered.extend(text.chars().flat_map(char::to_lowercase));
            }
            set.contains(lowered.as_str())
        }
        None if all_ascii || text.is_ascii() => needles
            .iter()
            .any(|n| n.len() == text.len() && n.as_bytes().eq_ignore_ascii_case(text.as_bytes())),
        None => {
            let text = text.to_lowercase();
            needles.contains(&text)
        }
    };
    let values = BooleanBuffer::collect_bool(batch.rows, |i| match hay.get(i) {
        None => negated,
        Some(text) => matches(text) != negated,
    });
    Ok(Arc::new(BooleanArray::new(values, None)))
}

/// `expr has_any (needles…)` / `has_all` (when `all`). A needle may be a dynamic array, whose
/// elements are needles.
pub(crate) fn has_any(expr: Expr, needles: Vec<Expr>, all: bool) -> Expr {
    let mut args = vec![expr];
    args.extend(needles);
    let name = if all { "has_all" } else { "has_any" };
    udf_call(
        name,
        DataType::Boolean,
        u32::from(all),
        has_any_kernel,
        args,
    )
}

/// The needles of `has_any` at row `i`.
fn collect_needles(batch: &Batch, strs: &[Option<StrCol>], i: usize, out: &mut Vec<Needle>) {
    out.clear();
    for (j, col) in batch.cols.iter().enumerate().skip(1) {
        if matches!(col.array.data_type(), DataType::LargeUtf8) {
            let array = col.array.as_string::<i64>();
            let k = col.index(i);
            if array.is_null(k) {
                continue;
            }
            let text = array.value(k);
            match serde_json::from_str::<Json>(text) {
                Ok(Json::Array(items)) => {
                    for item in items {
                        match item {
                            Json::String(s) => out.push(Needle::new(&s, false)),
                            Json::Null => {}
                            other => out.push(Needle::new(&other.to_string(), false)),
                        }
                    }
                }
                Ok(Json::String(s)) => out.push(Needle::new(&s, false)),
                Ok(Json::Null) => {}
                _ => out.push(Needle::new(text, false)),
            }
        } else if let Some(Some(strs)) = strs.get(j) {
            if let Some(s) = strs.get(i) {
                out.push(Needle::new(s, false));
            }
        }
    }
}

fn has_any_kernel(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let all = udf.flags != 0;
    let hay = batch.strs(0)?;
    let mut strs: Vec<Option<StrCol>> = vec![None];
    for j in 1..batch.cols.len() {
        strs.push(
            if matches!(batch.cols[j].array.data_type(), DataType::LargeUtf8) {
                None
            } else {
                Some(batch.strs(j)?)
            },
        );
    }
    let constant = batch.cols.iter().skip(1).all(|c| c.scalar);
    let mut needles = Vec::new();
    if constant {
        collect_needles(batch, &strs, 0, &mut needles);
        needles = needles
            .iter()
            .map(|needle| Needle::prepared(&needle.text, false))
            .collect();
    }
    let mut out = BooleanBuilder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        if !constant {
            collect_needles(batch, &strs, i, &mut needles);
        }
        let value = match hay.get(i) {
            None => false,
            Some(h) => {
                if all {
                    needles
                        .iter()
                        .all(|n| predicate_matches(StringPredicate::Has, false, h, n))
                } else {
                    needles
                        .iter()
                        .any(|n| predicate_matches(StringPredicate::Has, false, h, n))
                }
            }
        };
        out.append_value(value);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::strings::tests::{eval_on, s_col, strings};
    use datafusion::arrow::array::LargeStringArray;
    use datafusion::common::ScalarValue;
    use datafusion::logical_expr::lit;

    fn bools(array: &ArrayRef) -> Vec<Option<bool>> {
        let array = array.as_any().downcast_ref::<BooleanArray>().unwrap();
        array.iter().collect()
    }

    async fn predicate_rows(
        predicate: StringPredicate,
        cs: bool,
        neg: bool,
        hays: &[Option<&str>],
        needle: &str,
    ) -> Vec<Option<bool>> {
        let expr = string_predicate(predicate, cs, neg, s_col(), lit(needle));
        bools(&eval_on(strings(hays), expr).await)
    }

    #[tokio::test]
    async fn has_is_term_matching() {
        use StringPredicate::*;
        let cases: &[(StringPredicate, bool, &str, &str, bool)] = &[
            (Has, false, "KustoExplorerQueryRun", "Explorer", false),
            (Has, false, "Kusto Explorer QueryRun", "explorer", true),
            (Has, false, "alpha_beta", "alpha", true),
            (Has, false, "alphabeta", "alpha", false),
            (
                Has,
                false,
                "/subscriptions/x/resourcegroups/test.rg1/providers",
                "resourcegroups/test.rg1",
                true,
            ),
            (
                Has,
                false,
                "/subscriptions/x/resourcegroups/test.rg12",
                "resourcegroups/test.rg1",
                false,
            ),
            (
                Has,
                false,
                "xresourcegroups/test.rg1",
                "resourcegroups/test.rg1",
                false,
            ),
            (Has, false, "anything", "", true),
            (Has, false, "", "", true),
            (Has, false, "a b", " ", true),
            (Has, false, "a\tb", " ", false),
            (Has, false, "level=ERROR", "ERR", false),
            (Has, false, "CAFÉ RÉSUMÉ", "café", true),
            (Has, false, "Привет мир", "мир", true),
            (Has, true, "hello world", "hello", true),
            (Has, true, "HELLO", "hello", false),
            (Has, false, "12.34.56", "34", true),
            (Has, false, "123456", "34", false),
            (HasPrefix, false, "Hello World", "wor", true),
            (HasPrefix, false, "HelloWorld", "wor", false),
            (HasSuffix, false, "Hello World", "llo", true),
            (HasSuffix, false, "end.", "end", true),
            (HasSuffix, false, "ending", "end", false),
            (Contains, false, "The QUICK brown", "quick", true),
            (Contains, true, "The QUICK brown", "quick", false),
            (Contains, false, "naïve CAFÉ", "café", true),
            (StartsWith, false, "Alpha", "al", true),
            (StartsWith, false, "xAlpha", "al", false),
            (EndsWith, false, "con-TEST", "test", true),
            (EndsWith, true, "con-TEST", "test", false),
        ];
        for (predicate, cs, hay, needle, expected) in cases {
            let got = predicate_rows(*predicate, *cs, false, &[Some(hay)], needle).await;
            assert_eq!(
                got,
                vec![Some(*expected)],
                "{hay:?} {predicate:?} cs={cs} {needle:?}"
            );
            let got = predicate_rows(*predicate, *cs, true, &[Some(hay)], needle).await;
            assert_eq!(
                got,
                vec![Some(!*expected)],
                "{hay:?} !{predicate:?} cs={cs} {needle:?}"
            );
        }
    }

    #[tokio::test]
    async fn predicates_on_null_and_columns() {
        let got = predicate_rows(StringPredicate::Has, false, false, &[None, Some("a")], "a").await;
        assert_eq!(got, vec![Some(false), Some(true)]);
        let got = predicate_rows(StringPredicate::Has, false, true, &[None, Some("a")], "a").await;
        assert_eq!(got, vec![Some(true), Some(false)]);
        // Column needle, and a non-string left operand.
        let expr = string_predicate(
            StringPredicate::Contains,
            false,
            false,
            lit(12345_i64),
            s_col(),
        );
        let got = bools(&eval_on(strings(&[Some("234"), Some("9")]), expr).await);
        assert_eq!(got, vec![Some(true), Some(false)]);
        // Dynamic left operand: a JSON string is matched on its content.
        let dynamic: ArrayRef = Arc::new(LargeStringArray::from(vec![
            Some("\"hello there\""),
            Some("{\"k\":\"Hello\"}"),
        ]));
        let expr = string_predicate(
            StringPredicate::StartsWith,
            false,
            false,
            s_col(),
            lit("hello"),
        );
        assert_eq!(
            bools(&eval_on(dynamic.clone(), expr).await),
            vec![Some(true), Some(false)]
        );
        let expr = string_predicate(StringPredicate::Has, false, false, s_col(), lit("hello"));
        assert_eq!(
            bools(&eval_on(dynamic, expr).await),
            vec![Some(true), Some(true)]
        );
    }

    #[tokio::test]
    async fn equals_ignore_case_folds_unicode() {
        let hays = strings(&[
            Some("CAFÉ"),
            Some("café"),
            Some("ＦＵＬＬ"),
            Some("FULL"),
            Some(""),
        ]);
        let got = bools(
            &eval_on(
                hays.clone(),
                equals_ignore_case(s_col(), lit("café"), false),
            )
            .await,
        );
        assert_eq!(
            got,
            vec![
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(false)
            ]
        );
        let got = bools(&eval_on(hays, equals_ignore_case(s_col(), lit("full"), true)).await);
        assert_eq!(
            got,
            vec![Some(true), Some(true), Some(true), Some(false), Some(true)]
        );
    }

    #[tokio::test]
    async fn has_any_and_all() {
        let hays = strings(&[Some("alpha beta"), Some("Beta"), Some("gamma"), None]);
        let expr = has_any(s_col(), vec![lit("alpha"), lit("BETA")], false);
        assert_eq!(
            bools(&eval_on(hays.clone(), expr).await),
            vec![Some(true), Some(true), Some(false), Some(false)]
        );
        let expr = has_any(s_col(), vec![lit("alpha"), lit("BETA")], true);
        assert_eq!(
            bools(&eval_on(hays.clone(), expr).await),
            vec![Some(true), Some(false), Some(false), Some(false)]
        );
        let list = Expr::Literal(
            ScalarValue::LargeUtf8(Some("[\"gam\",\"gamma\"]".into())),
            None,
        );
        let expr = has_any(s_col(), vec![list], false);
        assert_eq!(
            bools(&eval_on(hays, expr).await),
            vec![Some(false), Some(false), Some(true), Some(false)]
        );
    }

    /// Every operator the buffer scan serves, over rows built to trip it (hits across row
    /// boundaries, overlapping occurrences, non-ASCII rows, nulls, a sliced array), gives what
    /// the row-by-row path gives.
    #[test]
    fn buffer_scan_agrees_with_row_by_row() {
        let rows: Vec<Option<&str>> = vec![
            Some("ab"),
            Some("a-a"),
            None,
            Some("ba-a-a"),
            Some(""),
            Some("x mimikatz.exe sekurlsa::logonpasswords"),
            Some("MIMIKATZ"),
            Some("mimi"),
            Some("katz mimikat"),
            Some("z"),
            Some("powershell -EncodedCommand SQBFAFgA"),
            Some("encodedcommandX encodedcommand"),
            Some("Straße mimikatz"),
            Some("\u{212A}atz mimi\u{212A}atz"),
            Some("İstanbul -computername host1 "),
            Some("-ComputerName"),
            Some("aa-aa"),
            Some("a"),
        ];
        let full = StringArray::from(rows);
        let sliced = full.slice(3, 12);
        let needles = [
            "a-a",
            "mimikatz",
            "katz",
            "encodedcommand",
            "ComputerName",
            "a",
            "aa",
            "z m",
            "b",
            "tanbul",
        ];
        let predicates = [
            StringPredicate::Contains,
            StringPredicate::Has,
            StringPredicate::HasPrefix,
            StringPredicate::HasSuffix,
            StringPredicate::StartsWith,
            StringPredicate::EndsWith,
        ];
        for array in [&full, &sliced] {
            for predicate in predicates {
                for needle_text in needles {
                    for case_sensitive in [false, true] {
                        for negated in [false, true] {
                            let needle = Needle::prepared(needle_text, case_sensitive);
                            let got =
                                scan_predicate(array, predicate, case_sensitive, negated, &needle)
                                    .expect("the scan applies");
                            for i in 0..array.len() {
                                let want = if array.is_null(i) {
                                    negated
                                } else {
                                    predicate_matches(
                                        predicate,
                                        case_sensitive,
                                        array.value(i),
                                        &Needle::new(needle_text, case_sensitive),
                                    ) != negated
                                };
                                assert_eq!(
                                    got.value(i),
                                    want,
                                    "{predicate:?} cs={case_sensitive} neg={negated} \
                                     {needle_text:?} on {:?}",
                                    array.is_valid(i).then(|| array.value(i))
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn buffer_scan_declines_what_it_cannot_decide() {
        let array = StringArray::from(vec!["Straße"]);
        let non_ascii = Needle::prepared("STRASSE", false);
        assert!(scan_value_buffer(&array, StringPredicate::Contains, false, &non_ascii).is_some());
        let folded = Needle::prepared("ß", false);
        assert!(scan_value_buffer(&array, StringPredicate::Contains, false, &folded).is_none());
        let empty = Needle::prepared("", false);
        assert!(scan_value_buffer(&array, StringPredicate::StartsWith, false, &empty).is_none());
    }

    /// Occurrences straddling the folded windows' edges are found, in either case.
    #[test]
    fn buffer_finder_crosses_windows() {
        let window = BufferFinder::WINDOW;
        let mut data = vec![b'.'; window * 3 + 17];
        let starts = [
            0,
            window - 3,
            window - 8,
            2 * window - 1,
            3 * window + 17 - 8,
        ];
        for (k, &at) in starts.iter().enumerate() {
            let text: &[u8] = if k % 2 == 0 { b"MimiKatz" } else { b"mimikatz" };
            data[at..at + 8].copy_from_slice(text);
        }
        for fold in [true, false] {
            let mut finder = BufferFinder::new(&data, b"mimikatz", fold);
            let mut found = Vec::new();
            let mut from = 0;
            while let Some(at) = finder.find(from) {
                found.push(at);
                from = at + 1;
            }
            let want: Vec<usize> = (0..=data.len() - 8)
                .filter(|&at| {
                    let window = &data[at..at + 8];
                    if fold {
                        window.eq_ignore_ascii_case(b"mimikatz")
                    } else {
                        window == b"mimikatz"
                    }
                })
                .collect();
            assert_eq!(found, want, "fold={fold}");
        }
    }

    /// A column far larger than one window: the scan and the row-by-row path agree row by row.
    #[test]
    fn buffer_scan_agrees_on_a_large_column() {
        let rows: Vec<String> = (0..20_000)
            .map(|i| match i % 7 {
                0 => format!("cmd.exe /c whoami {i}"),
                1 => format!("powershell -EncodedCommand {i}xyz"),
                2 => format!("{i}-computername srv{i} -Force"),
                3 => format!("rundll32 comsvcs.dll MiniDump {i}"),
                4 => format!("encodedcommand{i}"),
                5 => format!("Mimikatz sekurlsa::{i}"),
                _ => String::new(),
            })
            .collect();
        let array = StringArray::from(rows.iter().map(String::as_str).collect::<Vec<_>>());
        for needle_text in [
            "encodedcommand",
            "ComputerName",
            "mimikatz",
            "dll",
            "MiniDump",
        ] {
            for predicate in [StringPredicate::Contains, StringPredicate::Has] {
                for case_sensitive in [false, true] {
                    let needle = Needle::prepared(needle_text, case_sensitive);
                    let got = scan_predicate(&array, predicate, case_sensitive, false, &needle)
                        .expect("the scan applies");
                    let mut matches = 0;
                    for (i, row) in rows.iter().enumerate() {
                        let want = predicate_matches(predicate, case_sensitive, row, &needle);
                        matches += usize::from(want);
                        assert_eq!(got.value(i), want, "{predicate:?} {needle_text} on {row}");
                    }
                    assert!(matches > 0 || case_sensitive, "{needle_text} never matched");
                }
            }
        }
    }

    #[tokio::test]
    async fn in_ignore_case_folds_unicode_and_handles_nulls_and_long_lists() {
        let hays = strings(&[
            Some("PowerShell.EXE"),
            Some("pwsh.exe"),
            Some("cmd.exe"),
            Some("ÄRGER.exe"),
            Some("ärger.EXE"),
            None,
            Some(""),
        ]);
        let short = vec!["powershell.exe".to_string(), "ärger.exe".to_string()];
        let mut long = short.clone();
        long.extend((0..10).map(|i| format!("tool{i}.exe")));
        for needles in [short, long] {
            let got = bools(
                &eval_on(
                    hays.clone(),
                    in_ignore_case(s_col(), needles.clone(), false),
                )
                .await,
            );
            let want = [true, false, false, true, true, false, false];
            assert_eq!(got, want.map(Some).to_vec(), "{} needles", needles.len());
            let got = bools(&eval_on(hays.clone(), in_ignore_case(s_col(), needles, true)).await);
            assert_eq!(got, want.map(|w| Some(!w)).to_vec());
        }
    }
}
