//! String functions and the string operators (`has`, `contains`, `=~`, …) with Kusto semantics.
//!
//! Also home of the small UDF machinery the Quarry families share ([`KqlUdf`], [`Batch`]): one
//! generic `ScalarUDFImpl` whose behaviour is a kernel function over the evaluated arguments,
//! with scalars broadcast and any argument type turned into Kusto strings where a string is
//! expected.

use super::{check_arity, conversions, CallContext, FamilyResult, PlannedArg};
use crate::error::EngineError;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int64Array, Int64Builder, LargeStringBuilder,
    StringArray, StringBuilder, StringViewArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result as DFResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use regex::{CaptureLocations, Regex};
use serde_json::Value as Json;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

// ---------------------------------------------------------------------------------------------
// Shared UDF machinery
// ---------------------------------------------------------------------------------------------

/// A kernel: computes the output array (one value per row of `batch`) of a call.
pub(super) type Kernel = fn(&Batch, &KqlUdf) -> DFResult<ArrayRef>;

/// A Quarry scalar function: a name, a fixed return type, small integer options and a kernel.
pub(super) struct KqlUdf {
    name: String,
    ret: DataType,
    /// Kernel-specific options (predicate kind, case sensitivity, …).
    pub(super) flags: u32,
    kernel: Kernel,
    signature: Signature,
    /// Whether the kernel is costly enough per row to hash `Utf8` text for running it once per
    /// distinct value of its one varying argument (see [`super::distinct_values`]).
    costly: bool,
    /// The regular expressions this call compiled, kept for its later batches: compiling once
    /// per batch also threw away the lazy DFA states the regex engine had built.
    compiled_regexes: Mutex<Vec<(String, Arc<Regex>)>>,
}

/// How many distinct patterns one call keeps compiled (patterns are nearly always constant).
const KEPT_REGEXES: usize = 8;

impl KqlUdf {
    /// The return type of the call.
    pub(super) fn ret(&self) -> &DataType {
        &self.ret
    }
}

impl std::fmt::Debug for KqlUdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KqlUdf")
            .field("name", &self.name)
            .field("ret", &self.ret)
            .field("flags", &self.flags)
            .finish()
    }
}

impl PartialEq for KqlUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.ret == other.ret && self.flags == other.flags
    }
}

impl Eq for KqlUdf {}

impl Hash for KqlUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.ret.hash(state);
        self.flags.hash(state);
    }
}

impl ScalarUDFImpl for KqlUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DFResult<DataType> {
        Ok(self.ret.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let mut cols = Vec::with_capacity(args.args.len());
        for arg in &args.args {
            cols.push(match arg {
                ColumnarValue::Array(array) => Col {
                    array: Arc::clone(array),
                    scalar: false,
                },
                ColumnarValue::Scalar(value) => Col {
                    array: value.to_array_of_size(1)?,
                    scalar: true,
                },
            });
        }
        if let Some(out) = self.per_distinct_value(&cols, rows)? {
            return Ok(ColumnarValue::Array(out));
        }
        let batch = Batch { cols, rows };
        let out = (self.kernel)(&batch, self)?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

impl KqlUdf {
    /// The kernel run on the distinct values of the one varying argument, when that argument's
    /// values repeat and finding them is cheap enough for this kernel.
    fn per_distinct_value(&self, cols: &[Col], rows: usize) -> DFResult<Option<ArrayRef>> {
        let mut varying = cols.iter().enumerate().filter(|(_, c)| !c.scalar);
        let (Some((position, col)), None) = (varying.next(), varying.next()) else {
            return Ok(None);
        };
        if col.array.len() != rows {
            return Ok(None);
        }
        super::distinct_values::per_distinct_value(&col.array, self.costly, |values| {
            let cols = cols
                .iter()
                .enumerate()
                .map(|(j, c)| Col {
                    array: if j == position {
                        Arc::clone(values)
                    } else {
                        Arc::clone(&c.array)
                    },
                    scalar: c.scalar,
                })
                .collect();
            (self.kernel)(
                &Batch {
                    cols,
                    rows: values.len(),
                },
                self,
            )
        })
    }
}

/// The kernels that cost enough per row (a regular expression, a parse, a hash) to be worth
/// hashing a `Utf8` column's text for running them once per distinct value (a `Utf8View`
/// column's views are cheap to hash, so every kernel runs once per distinct view).
const COSTLY_KERNELS: &[&str] = &[
    "extract",
    "extract_all",
    "replace_regex",
    "replace",
    "split",
    "indexof_regex",
    "countof",
    "translate",
    "base64_encode_tostring",
    "base64_encodestring",
    "base64_decode_tostring",
    "base64_decodestring",
    "base64_decode_toarray",
    "url_decode",
    "url_encode",
    "url_encode_component",
    "parse_url",
    "parseurl",
    "parse_path",
    "parse_command_line",
    "hash_sha256",
    "hash_md5",
    "todatetime",
    "totimespan",
    "totime",
    "todynamic",
    "toobject",
    "parse_json",
    "parsejson",
    "toguid",
    // JSON property access and mv-expand's element lists (json_access.rs) parse JSON text.
    "member",
    "mv_items",
];

/// Builds the call `name(args)` of a Quarry UDF.
pub(super) fn udf_call(
    name: &str,
    ret: DataType,
    flags: u32,
    kernel: Kernel,
    args: Vec<Expr>,
) -> Expr {
    let udf = KqlUdf {
        name: name.to_string(),
        ret,
        flags,
        kernel,
        signature: Signature::variadic_any(Volatility::Immutable),
        costly: COSTLY_KERNELS.contains(&name),
        compiled_regexes: Mutex::new(Vec::new()),
    };
    ScalarUDF::new_from_impl(udf).call(args)
}

/// One evaluated argument: an array, or a scalar as a one-element array.
pub(super) struct Col {
    pub(super) array: ArrayRef,
    pub(super) scalar: bool,
}

impl Col {
    /// The row of this argument that serves output row `i`.
    pub(super) fn index(&self, i: usize) -> usize {
        if self.scalar {
            0
        } else {
            i
        }
    }
}

/// The evaluated arguments of one call and the number of output rows.
pub(super) struct Batch {
    pub(super) cols: Vec<Col>,
    pub(super) rows: usize,
}

impl Batch {
    /// Argument `j` as Kusto strings (any type is converted as `tostring` does; nulls stay null).
    pub(super) fn strs(&self, j: usize) -> DFResult<StrCol> {
        let col = &self.cols[j];
        let array = conversions::to_string_array(&col.array)?;
        StrCol::new(array, col.scalar)
    }

    /// Argument `j` as 64-bit integers (cast; failures are null).
    pub(super) fn ints(&self, j: usize) -> DFResult<IntCol> {
        let col = &self.cols[j];
        let array = conversions::cast_safe(&col.array, &DataType::Int64)?;
        Ok(IntCol {
            array: array
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .clone(),
            scalar: col.scalar,
        })
    }

    /// Whether argument `j` is a scalar.
    pub(super) fn is_scalar(&self, j: usize) -> bool {
        self.cols[j].scalar
    }
}

/// A string argument with scalar broadcast.
pub(super) enum StrCol {
    Utf8(StringArray, bool),
    View(StringViewArray, bool),
}

impl StrCol {
    fn new(array: ArrayRef, scalar: bool) -> DFResult<Self> {
        match array.data_type() {
            DataType::Utf8 => Ok(StrCol::Utf8(array.as_string::<i32>().clone(), scalar)),
            DataType::Utf8View => Ok(StrCol::View(array.as_string_view().clone(), scalar)),
            other => Err(DataFusionError::Internal(format!(
                "expected a string array, got {other}"
            ))),
        }
    }

    /// The value serving output row `i`, `None` when null.
    pub(super) fn get(&self, i: usize) -> Option<&str> {
        match self {
            StrCol::Utf8(array, scalar) => {
                let i = if *scalar { 0 } else { i };
                (!array.is_null(i)).then(|| array.value(i))
            }
            StrCol::View(array, scalar) => {
                let i = if *scalar { 0 } else { i };
                (!array.is_null(i)).then(|| array.value(i))
            }
        }
    }

    /// The value serving output row `i`, `""` when null (a Kusto string is never null).
    pub(super) fn str(&self, i: usize) -> &str {
        self.get(i).unwrap_or("")
    }
}

/// An integer argument with scalar broadcast.
pub(super) struct IntCol {
    array: Int64Array,
    scalar: bool,
}

impl IntCol {
    /// The value serving output row `i`, `None` when null.
    pub(super) fn get(&self, i: usize) -> Option<i64> {
        let i = if self.scalar { 0 } else { i };
        (!self.array.is_null(i)).then(|| self.array.value(i))
    }
}

/// Compiles regular expressions, reusing the last one (patterns are almost always constant) and
/// the ones the call compiled for earlier batches.
pub(super) struct RegexCache<'u> {
    udf: Option<&'u KqlUdf>,
    last: Option<(String, Arc<Regex>, CaptureLocations)>,
    /// Where the text `last` was compiled from lies (valid while the kernel's arrays live).
    last_address: Option<(*const u8, usize)>,
}

impl<'u> RegexCache<'u> {
    /// A cache that shares compiled patterns with the other batches of `udf`'s call.
    pub(super) fn new(udf: &'u KqlUdf) -> Self {
        RegexCache {
            udf: Some(udf),
            last: None,
            last_address: None,
        }
    }

    /// A cache of its own (for a kernel that keeps two patterns apart).
    pub(super) fn private() -> Self {
        RegexCache {
            udf: None,
            last: None,
            last_address: None,
        }
    }

    /// The compiled form of `pattern` (with `prefix`/`suffix` wrapped around it).
    pub(super) fn get(&mut self, pattern: &str) -> DFResult<&Regex> {
        Ok(self.get_with_locations(pattern)?.0)
    }

    /// The compiled form of `pattern` with reusable capture slots, so that a capture per row
    /// allocates nothing.
    pub(super) fn get_with_locations(
        &mut self,
        pattern: &str,
    ) -> DFResult<(&Regex, &mut CaptureLocations)> {
        // A constant pattern is the same slice of the same array on every row: comparing its
        // address skips comparing its text.
        let address = (pattern.as_ptr(), pattern.len());
        let stale = self.last_address != Some(address)
            && self.last.as_ref().is_none_or(|(p, _, _)| p != pattern);
        if stale {
            let regex = self.compiled(pattern)?;
            let locations = regex.capture_locations();
            self.last = Some((pattern.to_string(), regex, locations));
        }
        self.last_address = Some(address);
        let (_, regex, locations) = self.last.as_mut().expect("just set");
        Ok((regex, locations))
    }

    fn compiled(&self, pattern: &str) -> DFResult<Arc<Regex>> {
        let shared = self.udf.map(|udf| {
            udf.compiled_regexes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
        });
        if let Some(kept) = &shared {
            if let Some((_, regex)) = kept.iter().find(|(p, _)| p == pattern) {
                return Ok(Arc::clone(regex));
            }
        }
        let regex = Arc::new(Regex::new(&super::kusto_regex(pattern)).map_err(|e| {
            DataFusionError::Execution(format!("invalid regular expression {pattern:?}: {e}"))
        })?);
        if let Some(mut kept) = shared {
            if kept.len() == KEPT_REGEXES {
                kept.remove(0);
            }
            kept.push((pattern.to_string(), Arc::clone(&regex)));
        }
        Ok(regex)
    }
}

fn finish_strings(mut builder: StringBuilder) -> ArrayRef {
    Arc::new(builder.finish())
}

/// Applies `f` to argument 0 as a string, producing a (never-null) string per row.
fn map_str(batch: &Batch, f: impl Fn(&str) -> String) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        out.append_value(f(input.str(i)));
    }
    Ok(finish_strings(out))
}

// ---------------------------------------------------------------------------------------------
// The functions
// ---------------------------------------------------------------------------------------------

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &[
    "strcat",
    "strcat_delim",
    "strlen",
    "string_size",
    "substring",
    "tolower",
    "toupper",
    "trim",
    "trim_start",
    "trim_end",
    "split",
    "replace_string",
    "replace",
    "replace_regex",
    "extract",
    "extract_all",
    "indexof",
    "indexof_regex",
    "countof",
    "reverse",
    "base64_encode_tostring",
    "base64_encodestring",
    "base64_decode_tostring",
    "base64_decodestring",
    "base64_decode_toarray",
    "url_decode",
    "url_encode",
    "url_encode_component",
    "parse_url",
    "parseurl",
    "parse_path",
    "parse_command_line",
    "hash_sha256",
    "hash_md5",
    "strrep",
    "strcmp",
    "translate",
    "isascii",
];

fn all_exprs(args: &[PlannedArg]) -> Vec<Expr> {
    args.iter().map(|a| a.expr.clone()).collect()
}

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    let (min, max, ret, kernel): (usize, usize, DataType, Kernel) = match name {
        "strcat" => (1, 64, DataType::Utf8, k_strcat),
        "strcat_delim" => (3, 65, DataType::Utf8, k_strcat_delim),
        "strlen" => (1, 1, DataType::Int64, k_strlen),
        "string_size" => (1, 1, DataType::Int64, k_string_size),
        "substring" => (2, 3, DataType::Utf8, k_substring),
        "tolower" => (1, 1, DataType::Utf8, k_tolower),
        "toupper" => (1, 1, DataType::Utf8, k_toupper),
        "trim" => (2, 2, DataType::Utf8, k_trim),
        "trim_start" => (2, 2, DataType::Utf8, k_trim_start),
        "trim_end" => (2, 2, DataType::Utf8, k_trim_end),
        "split" => (2, 3, DataType::LargeUtf8, k_split),
        "replace_string" => (3, 3, DataType::Utf8, k_replace_string),
        "replace_regex" => (3, 3, DataType::Utf8, k_replace_regex),
        "replace" => (3, 3, DataType::Utf8, k_replace_legacy),
        "extract" => (3, 4, DataType::Utf8, k_extract),
        "extract_all" => (2, 3, DataType::LargeUtf8, k_extract_all),
        "indexof" => (2, 5, DataType::Int64, k_indexof),
        "indexof_regex" => (2, 5, DataType::Int64, k_indexof_regex),
        "countof" => (2, 3, DataType::Int64, k_countof),
        "reverse" => (1, 1, DataType::Utf8, k_reverse),
        "base64_encode_tostring" | "base64_encodestring" => (1, 1, DataType::Utf8, k_base64_encode),
        "base64_decode_tostring" | "base64_decodestring" => (1, 1, DataType::Utf8, k_base64_decode),
        "base64_decode_toarray" => (1, 1, DataType::LargeUtf8, k_base64_decode_array),
        "url_decode" => (1, 1, DataType::Utf8, k_url_decode),
        "url_encode" | "url_encode_component" => (1, 1, DataType::Utf8, k_url_encode),
        "parse_url" | "parseurl" => (1, 1, DataType::LargeUtf8, k_parse_url),
        "parse_path" => (1, 1, DataType::LargeUtf8, k_parse_path),
        "parse_command_line" => (2, 2, DataType::LargeUtf8, k_parse_command_line),
        "hash_sha256" => (1, 1, DataType::Utf8, k_sha256),
        "hash_md5" => (1, 1, DataType::Utf8, k_md5),
        "strrep" => (2, 3, DataType::Utf8, k_strrep),
        "strcmp" => (2, 2, DataType::Int64, k_strcmp),
        "translate" => (3, 3, DataType::Utf8, k_translate),
        "isascii" => (1, 1, DataType::Boolean, k_isascii),
        _ => return None,
    };
    if let Err(e) = check_arity(name, args, min, max, ctx) {
        return Some(Err(e));
    }
    if name == "extract" && args.len() == 4 {
        // extract(regex, group, text, typeof(T)): the planner passes the type literal as an
        // argument of type T; the kernel converts the captured text to it.
        let target = args[3].data_type.clone();
        let supported = matches!(
            target,
            DataType::Utf8
                | DataType::Int32
                | DataType::Int64
                | DataType::Float64
                | DataType::Boolean
                | DataType::Decimal128(..)
                | DataType::Timestamp(..)
                | DataType::Duration(_)
                | DataType::LargeUtf8
                | DataType::FixedSizeBinary(16)
        );
        if !supported {
            return Some(Err(EngineError::bind(
                format!("extract(): unsupported result type {target}"),
                ctx.span,
            )));
        }
        let exprs = all_exprs(&args[..3]);
        return Some(Ok(udf_call("extract", target, 0, k_extract_typed, exprs)));
    }
    Some(Ok(udf_call(name, ret, 0, kernel, all_exprs(args))))
}

fn k_strcat(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let cols = (0..batch.cols.len())
        .map(|j| batch.strs(j))
        .collect::<DFResult<Vec<_>>>()?;
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 16);
    let mut buf = String::new();
    for i in 0..batch.rows {
        buf.clear();
        for col in &cols {
            buf.push_str(col.str(i));
        }
        out.append_value(&buf);
    }
    Ok(finish_strings(out))
}

fn k_strcat_delim(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let delim = batch.strs(0)?;
    let cols = (1..batch.cols.len())
        .map(|j| batch.strs(j))
        .collect::<DFResult<Vec<_>>>()?;
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 16);
    let mut buf = String::new();
    for i in 0..batch.rows {
        buf.clear();
        for (k, col) in cols.iter().enumerate() {
            if k > 0 {
                buf.push_str(delim.str(i));
            }
            buf.push_str(col.str(i));
        }
        out.append_value(&buf);
    }
    Ok(finish_strings(out))
}

fn k_strlen(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let mut out = Int64Builder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        let s = input.str(i);
        let n = if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        };
        out.append_value(n as i64);
    }
    Ok(Arc::new(out.finish()))
}

fn k_string_size(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let mut out = Int64Builder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        out.append_value(input.str(i).len() as i64);
    }
    Ok(Arc::new(out.finish()))
}

/// The byte offset of character `n` of `s` (or `s.len()` past the end).
fn char_offset(s: &str, n: usize) -> usize {
    if s.is_ascii() {
        return n.min(s.len());
    }
    s.char_indices().nth(n).map_or(s.len(), |(b, _)| b)
}

fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn k_substring(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let start = batch.ints(1)?;
    let length = if batch.cols.len() > 2 {
        Some(batch.ints(2)?)
    } else {
        None
    };
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        let s = input.str(i);
        let n = char_len(s) as i64;
        let Some(mut from) = start.get(i) else {
            out.append_value("");
            continue;
        };
        if from < 0 {
            from += n;
            // A start before the beginning (counting from the end) selects nothing.
            if from < 0 {
                out.append_value("");
                continue;
            }
        }
        let from = from.min(n);
        let to = match length.as_ref().map(|l| l.get(i)) {
            None => n,
            Some(None) => n,
            Some(Some(len)) if len < 0 => from,
            Some(Some(len)) => from.saturating_add(len).min(n),
        };
        let a = char_offset(s, from as usize);
        let b = char_offset(s, to as usize);
        out.append_value(&s[a..b]);
    }
    Ok(finish_strings(out))
}

fn k_tolower(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| {
        if s.is_ascii() {
            s.to_ascii_lowercase()
        } else {
            s.to_lowercase()
        }
    })
}

fn k_toupper(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| {
        if s.is_ascii() {
            s.to_ascii_uppercase()
        } else {
            s.to_uppercase()
        }
    })
}

fn trim_kernel(batch: &Batch, start: bool, end: bool) -> DFResult<ArrayRef> {
    let patterns = batch.strs(0)?;
    let input = batch.strs(1)?;
    let mut starts = RegexCache::private();
    let mut ends = RegexCache::private();
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        let pattern = patterns.str(i);
        let mut s = input.str(i);
        if pattern.is_empty() {
            out.append_value(s);
            continue;
        }
        if start {
            let re = starts.get(&format!("^(?:{pattern})"))?;
            if let Some(m) = re.find(s) {
                s = &s[m.end()..];
            }
        }
        if end {
            let re = ends.get(&format!("(?:{pattern})$"))?;
            if let Some(m) = re.find(s) {
                s = &s[..m.start()];
            }
        }
        out.append_value(s);
    }
    Ok(finish_strings(out))
}

fn k_trim(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    trim_kernel(batch, true, true)
}

fn k_trim_start(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    trim_kernel(batch, true, false)
}

fn k_trim_end(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    trim_kernel(batch, false, true)
}

fn json_string_array<'a>(items: impl Iterator<Item = &'a str>) -> String {
    Json::Array(items.map(|s| Json::String(s.to_string())).collect()).to_string()
}

fn k_split(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let delims = batch.strs(1)?;
    let index = if batch.cols.len() > 2 {
        Some(batch.ints(2)?)
    } else {
        None
    };
    let mut out = LargeStringBuilder::with_capacity(batch.rows, batch.rows * 16);
    for i in 0..batch.rows {
        let s = input.str(i);
        let delim = delims.str(i);
        let parts: Vec<&str> = if delim.is_empty() {
            vec![s]
        } else {
            s.split(delim).collect()
        };
        match &index {
            None => out.append_value(json_string_array(parts.into_iter())),
            Some(index) => match index.get(i) {
                Some(k) if k >= 0 && (k as usize) < parts.len() => {
                    out.append_value(json_string_array(std::iter::once(parts[k as usize])))
                }
                _ => out.append_null(),
            },
        }
    }
    Ok(Arc::new(out.finish()))
}

fn k_replace_string(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let lookup = batch.strs(1)?;
    let rewrite = batch.strs(2)?;
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        let s = input.str(i);
        let l = lookup.str(i);
        if l.is_empty() {
            out.append_value(s);
        } else {
            out.append_value(s.replace(l, rewrite.str(i)));
        }
    }
    Ok(finish_strings(out))
}

/// Converts a Kusto/.NET rewrite pattern (`\1`, `$1`, `${name}`) to the `regex` crate's syntax.
fn convert_rewrite(rewrite: &str) -> String {
    let mut out = String::with_capacity(rewrite.len() + 8);
    let chars: Vec<char> = rewrite.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if (c == '\\' || c == '$') && i + 1 < chars.len() && chars[i + 1].is_ascii_digit() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            out.push_str("${");
            out.extend(&chars[i + 1..j]);
            out.push('}');
            i = j;
        } else if c == '$' && i + 1 < chars.len() && chars[i + 1] == '{' {
            out.push('$');
            i += 1;
        } else if c == '$' {
            out.push_str("$$");
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn replace_regex_impl(
    batch: &Batch,
    udf: &KqlUdf,
    text: usize,
    regex: usize,
    rewrite: usize,
) -> DFResult<ArrayRef> {
    let input = batch.strs(text)?;
    let patterns = batch.strs(regex)?;
    let rewrites = batch.strs(rewrite)?;
    let mut cache = RegexCache::new(udf);
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        let re = cache.get(patterns.str(i))?;
        let replacement = convert_rewrite(rewrites.str(i));
        out.append_value(re.replace_all(input.str(i), replacement.as_str()));
    }
    Ok(finish_strings(out))
}

fn k_replace_regex(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    replace_regex_impl(batch, udf, 0, 1, 2)
}

/// Legacy `replace(regex, rewrite, text)`.
fn k_replace_legacy(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    replace_regex_impl(batch, udf, 2, 0, 1)
}

/// The captured text of `extract(regex, group, text)` at row `i`, `None` when nothing matched.
fn extract_at<'a>(
    cache: &mut RegexCache,
    patterns: &StrCol,
    groups: &IntCol,
    input: &'a StrCol,
    i: usize,
) -> DFResult<Option<&'a str>> {
    let (re, locations) = cache.get_with_locations(patterns.str(i))?;
    let Some(group) = groups.get(i) else {
        return Ok(None);
    };
    if group < 0 {
        return Ok(None);
    }
    let text = input.str(i);
    if re.captures_read(locations, text).is_none() {
        return Ok(None);
    }
    Ok(locations
        .get(group as usize)
        .map(|(start, end)| &text[start..end]))
}

fn k_extract(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let patterns = batch.strs(0)?;
    let groups = batch.ints(1)?;
    let input = batch.strs(2)?;
    let mut cache = RegexCache::new(udf);
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        out.append_value(extract_at(&mut cache, &patterns, &groups, &input, i)?.unwrap_or(""));
    }
    Ok(finish_strings(out))
}

fn k_extract_typed(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let patterns = batch.strs(0)?;
    let groups = batch.ints(1)?;
    let input = batch.strs(2)?;
    let mut cache = RegexCache::new(udf);
    let mut texts = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        match extract_at(&mut cache, &patterns, &groups, &input, i)? {
            Some(s) => texts.append_value(s),
            None => texts.append_null(),
        }
    }
    let texts: ArrayRef = Arc::new(texts.finish());
    let converted = conversions::convert_array(&texts, &udf.ret)?;
    if udf.ret == DataType::Utf8 {
        // A string result is never null.
        let strs = converted.as_string::<i32>();
        let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
        for i in 0..batch.rows {
            out.append_value(if strs.is_null(i) { "" } else { strs.value(i) });
        }
        return Ok(finish_strings(out));
    }
    Ok(converted)
}

fn k_extract_all(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let (pattern_col, groups_col, text_col) = if batch.cols.len() == 3 {
        (0, Some(1), 2)
    } else {
        (0, None, 1)
    };
    let patterns = batch.strs(pattern_col)?;
    let input = batch.strs(text_col)?;
    let groups_raw = match groups_col {
        Some(j) => Some((
            conversions::cast_safe(&batch.cols[j].array, &DataType::LargeUtf8)?,
            j,
        )),
        None => None,
    };
    let mut cache = RegexCache::new(udf);
    let mut out = LargeStringBuilder::with_capacity(batch.rows, batch.rows * 16);
    for i in 0..batch.rows {
        let re = cache.get(patterns.str(i))?;
        let text = input.str(i);
        let groups: Vec<usize> = match &groups_raw {
            Some((raw, j)) => {
                let raw = raw.as_string::<i64>();
                let k = batch.cols[*j].index(i);
                let parsed = if raw.is_null(k) {
                    None
                } else {
                    serde_json::from_str::<Vec<i64>>(raw.value(k)).ok()
                };
                match parsed {
                    Some(list) if !list.is_empty() => {
                        list.into_iter().map(|g| g.max(0) as usize).collect()
                    }
                    _ => {
                        out.append_null();
                        continue;
                    }
                }
            }
            None if re.captures_len() > 1 => (1..re.captures_len()).collect(),
            None => vec![0],
        };
        let mut matches = Vec::new();
        for caps in re.captures_iter(text) {
            let values: Vec<Json> = groups
                .iter()
                .map(|&g| Json::String(caps.get(g).map_or("", |m| m.as_str()).to_string()))
                .collect();
            if groups.len() == 1 {
                matches.push(values.into_iter().next().unwrap_or(Json::Null));
            } else {
                matches.push(Json::Array(values));
            }
        }
        if matches.is_empty() {
            out.append_null();
        } else {
            out.append_value(Json::Array(matches).to_string());
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `indexof(text, lookup, start, length, occurrence)` in characters.
fn index_of(text: &str, lookup: &str, start: i64, length: i64, occurrence: i64) -> Option<i64> {
    if lookup.is_empty() || occurrence < 0 || length < -1 {
        return None;
    }
    let n = char_len(text) as i64;
    let start = if start < 0 { (n + start).max(0) } else { start };
    let mut pos = start;
    for k in 1..=occurrence.max(1) {
        if pos > n {
            return Some(-1);
        }
        let from_byte = char_offset(text, pos as usize);
        let Some(found) = text[from_byte..].find(lookup) else {
            return Some(-1);
        };
        let at = pos + char_len(&text[from_byte..from_byte + found]) as i64;
        // `length` bounds where a match may begin (Kusto lets the match run past it).
        if length != -1 && at >= start.saturating_add(length) {
            return Some(-1);
        }
        if k == occurrence.max(1) {
            return Some(at);
        }
        pos = at + 1;
    }
    Some(-1)
}

fn optional_ints(batch: &Batch, j: usize) -> DFResult<Option<IntCol>> {
    if batch.cols.len() > j {
        Ok(Some(batch.ints(j)?))
    } else {
        Ok(None)
    }
}

fn k_indexof(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let lookup = batch.strs(1)?;
    let start = optional_ints(batch, 2)?;
    let length = optional_ints(batch, 3)?;
    let occurrence = optional_ints(batch, 4)?;
    let mut out = Int64Builder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        let get = |c: &Option<IntCol>, default: i64| c.as_ref().map_or(Some(default), |c| c.get(i));
        let result = match (get(&start, 0), get(&length, -1), get(&occurrence, 1)) {
            (Some(s), Some(l), Some(o)) => index_of(input.str(i), lookup.str(i), s, l, o),
            _ => None,
        };
        out.append_option(result);
    }
    Ok(Arc::new(out.finish()))
}

fn k_indexof_regex(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let patterns = batch.strs(1)?;
    let start = optional_ints(batch, 2)?;
    let length = optional_ints(batch, 3)?;
    let occurrence = optional_ints(batch, 4)?;
    let mut cache = RegexCache::new(udf);
    let mut out = Int64Builder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        let get = |c: &Option<IntCol>, default: i64| c.as_ref().map_or(Some(default), |c| c.get(i));
        let (Some(start), Some(length), Some(occurrence)) =
            (get(&start, 0), get(&length, -1), get(&occurrence, 1))
        else {
            out.append_null();
            continue;
        };
        if start < 0 || length < -1 || occurrence < 0 {
            out.append_null();
            continue;
        }
        let text = input.str(i);
        let n = char_len(text) as i64;
        if start > n {
            out.append_value(-1);
            continue;
        }
        let limit = if length == -1 {
            n
        } else {
            (start + length).min(n)
        };
        let from_byte = char_offset(text, start as usize);
        let to_byte = char_offset(text, limit as usize);
        let re = cache.get(patterns.str(i))?;
        let found = re
            .find_iter(&text[from_byte..to_byte])
            .nth(occurrence.max(1) as usize - 1);
        out.append_value(found.map_or(-1, |m| char_len(&text[..from_byte + m.start()]) as i64));
    }
    Ok(Arc::new(out.finish()))
}

fn k_countof(batch: &Batch, udf: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let search = batch.strs(1)?;
    let kinds = if batch.cols.len() > 2 {
        Some(batch.strs(2)?)
    } else {
        None
    };
    let mut cache = RegexCache::new(udf);
    let mut out = Int64Builder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        let text = input.str(i);
        let needle = search.str(i);
        let kind = kinds.as_ref().map_or("normal", |k| k.str(i));
        if kind.eq_ignore_ascii_case("regex") {
            let re = cache.get(needle)?;
            out.append_value(re.find_iter(text).filter(|m| !m.is_empty()).count() as i64);
        } else if needle.is_empty() {
            out.append_value(0);
        } else {
            // Normal counting finds overlapping occurrences (countof("aaaa", "aa") is 3).
            let mut count = 0;
            let mut from = 0;
            while let Some(pos) = text[from..].find(needle) {
                count += 1;
                let at = from + pos;
                from = at + text[at..].chars().next().map_or(1, char::len_utf8);
            }
            out.append_value(count);
        }
    }
    Ok(Arc::new(out.finish()))
}

fn k_reverse(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| s.chars().rev().collect())
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(BASE64[(n >> 18) as usize & 63] as char);
        out.push(BASE64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            BASE64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            BASE64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    let mut padding = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn k_base64_encode(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| base64_encode(s.as_bytes()))
}

fn k_base64_decode(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| {
        base64_decode(s)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
    })
}

fn k_base64_decode_array(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let mut out = LargeStringBuilder::with_capacity(batch.rows, batch.rows * 16);
    for i in 0..batch.rows {
        match base64_decode(input.str(i)) {
            Some(bytes) => out
                .append_value(Json::Array(bytes.into_iter().map(Json::from).collect()).to_string()),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if plus_is_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn k_url_decode(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| percent_decode(s, true))
}

fn k_url_encode(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| {
        let mut out = String::with_capacity(s.len() * 3 / 2);
        for &b in s.as_bytes() {
            match b {
                b'a'..=b'z'
                | b'A'..=b'Z'
                | b'0'..=b'9'
                | b'-'
                | b'_'
                | b'.'
                | b'!'
                | b'*'
                | b'('
                | b')' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02x}")),
            }
        }
        out
    })
}

/// `parse_url(url)`: the parts of an absolute URL as a property bag, null when it doesn't parse.
fn parse_url(url: &str) -> Option<Json> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, f),
        None => (rest, ""),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q),
        None => (rest, ""),
    };
    let (authority, path) = match rest.find('/') {
        Some(p) => (&rest[..p], &rest[p..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (u, h),
        None => ("", authority),
    };
    let (username, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, p),
        None => (userinfo, ""),
    };
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(end) => (
                &hostport[..=end],
                hostport[end + 1..].strip_prefix(':').unwrap_or(""),
            ),
            None => (hostport, ""),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (hostport, ""),
        }
    };
    let mut params = serde_json::Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(
            percent_decode(k, true),
            Json::String(percent_decode(v, true)),
        );
    }
    let mut bag = serde_json::Map::new();
    bag.insert("Scheme".into(), Json::String(scheme.into()));
    bag.insert("Host".into(), Json::String(host.into()));
    bag.insert("Port".into(), Json::String(port.into()));
    bag.insert("Path".into(), Json::String(path.into()));
    bag.insert("Username".into(), Json::String(username.into()));
    bag.insert("Password".into(), Json::String(password.into()));
    bag.insert("Query Parameters".into(), Json::Object(params));
    bag.insert("Fragment".into(), Json::String(fragment.into()));
    Some(Json::Object(bag))
}

fn k_parse_url(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let mut out = LargeStringBuilder::with_capacity(batch.rows, batch.rows * 64);
    for i in 0..batch.rows {
        match parse_url(input.str(i)) {
            Some(bag) => out.append_value(bag.to_string()),
            None => out.append_null(),
        }
    }
    Ok(Arc::new(out.finish()))
}

/// `parse_path(path)`: scheme, root, directory, file name, extension and alternate data stream.
fn parse_path(path: &str) -> Json {
    let (scheme, rest) = match path.split_once("://") {
        Some((s, r)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) => (s, r),
        _ => ("", path),
    };
    let is_sep = |c: char| c == '\\' || c == '/';
    // Root: a drive (`C:\`), a UNC share (`\\server\`), or a leading separator.
    let root_len = {
        let b = rest.as_bytes();
        if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
            if b.len() >= 3 && is_sep(b[2] as char) {
                3
            } else {
                2
            }
        } else if rest.starts_with("\\\\") || rest.starts_with("//") {
            2
        } else if rest.starts_with(is_sep) {
            1
        } else {
            0
        }
    };
    let root = &rest[..root_len];
    let after_root = &rest[root_len..];
    let (dir_part, file_part) = match after_root.rfind(is_sep) {
        Some(p) => (&after_root[..p], &after_root[p + 1..]),
        None => ("", after_root),
    };
    let (filename, stream) = match file_part.split_once(':') {
        Some((f, s)) => (f, s),
        None => (file_part, ""),
    };
    let extension = match filename.rfind('.') {
        Some(p) if p + 1 < filename.len() => &filename[p + 1..],
        _ => "",
    };
    let directory_path = format!("{root}{dir_part}");
    let directory_name = dir_part.rsplit(is_sep).next().unwrap_or("");
    let mut bag = serde_json::Map::new();
    bag.insert("Scheme".into(), Json::String(scheme.into()));
    bag.insert("RootPath".into(), Json::String(root.into()));
    bag.insert("DirectoryPath".into(), Json::String(directory_path));
    bag.insert("DirectoryName".into(), Json::String(directory_name.into()));
    bag.insert("Filename".into(), Json::String(filename.into()));
    bag.insert("Extension".into(), Json::String(extension.into()));
    bag.insert(
        "AlternateDataStreamName".into(),
        Json::String(stream.into()),
    );
    Json::Object(bag)
}

fn k_parse_path(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let mut out = LargeStringBuilder::with_capacity(batch.rows, batch.rows * 64);
    for i in 0..batch.rows {
        out.append_value(parse_path(input.str(i)).to_string());
    }
    Ok(Arc::new(out.finish()))
}

/// Windows command-line splitting (as `CommandLineToArgvW`).
fn split_windows_command_line(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= chars.len() {
            break;
        }
        let mut arg = String::new();
        let mut quoted = false;
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                let mut backslashes = 0;
                while i < chars.len() && chars[i] == '\\' {
                    backslashes += 1;
                    i += 1;
                }
                if i < chars.len() && chars[i] == '"' {
                    arg.extend(std::iter::repeat_n('\\', backslashes / 2));
                    if backslashes % 2 == 1 {
                        arg.push('"');
                        i += 1;
                    }
                } else {
                    arg.extend(std::iter::repeat_n('\\', backslashes));
                }
            } else if c == '"' {
                if quoted && i + 1 < chars.len() && chars[i + 1] == '"' {
                    arg.push('"');
                    i += 2;
                } else {
                    quoted = !quoted;
                    i += 1;
                }
            } else if c.is_whitespace() && !quoted {
                break;
            } else {
                arg.push(c);
                i += 1;
            }
        }
        args.push(arg);
    }
    args
}

fn k_parse_command_line(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let kinds = batch.strs(1)?;
    let mut out = LargeStringBuilder::with_capacity(batch.rows, batch.rows * 32);
    for i in 0..batch.rows {
        if !kinds.str(i).eq_ignore_ascii_case("windows") {
            out.append_null();
            continue;
        }
        let args = split_windows_command_line(input.str(i));
        out.append_value(json_string_array(args.iter().map(String::as_str)));
    }
    Ok(Arc::new(out.finish()))
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn k_sha256(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| hex(&sha256(s.as_bytes())))
}

fn k_md5(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    map_str(batch, |s| hex(&md5(s.as_bytes())))
}

/// SHA-256 (FIPS 180-4).
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for t in 0..16 {
            w[t] = u32::from_be_bytes([
                block[4 * t],
                block[4 * t + 1],
                block[4 * t + 2],
                block[4 * t + 3],
            ]);
        }
        for t in 16..64 {
            let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
            let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16]
                .wrapping_add(s0)
                .wrapping_add(w[t - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for t in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[t])
                .wrapping_add(w[t]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (slot, v) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *slot = slot.wrapping_add(v);
        }
    }
    let mut out = [0u8; 32];
    for (i, v) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

/// MD5 (RFC 1321).
fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 64] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5,
        9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10,
        15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];
    let k: Vec<u32> = (0..64)
        .map(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32)
        .collect();
    let mut state: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let mut message = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&bit_len.to_le_bytes());
    for block in message.chunks(64) {
        let m: Vec<u32> = (0..16)
            .map(|t| {
                u32::from_le_bytes([
                    block[4 * t],
                    block[4 * t + 1],
                    block[4 * t + 2],
                    block[4 * t + 3],
                ])
            })
            .collect();
        let [mut a, mut b, mut c, mut d] = state;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(m[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(S[i]));
        }
        for (slot, v) in state.iter_mut().zip([a, b, c, d]) {
            *slot = slot.wrapping_add(v);
        }
    }
    let mut out = [0u8; 16];
    for (i, v) in state.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// The largest string `strrep` builds (Kusto caps results; this keeps a query from exhausting
/// memory).
const MAX_STRREP_BYTES: usize = 1 << 20;

fn k_strrep(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let counts = batch.ints(1)?;
    let delims = if batch.cols.len() > 2 {
        Some(batch.strs(2)?)
    } else {
        None
    };
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        let s = input.str(i);
        let count = counts.get(i).unwrap_or(0).clamp(0, 1024) as usize;
        let delim = delims.as_ref().map_or("", |d| d.str(i));
        let mut buf = String::new();
        for k in 0..count {
            if k > 0 {
                buf.push_str(delim);
            }
            buf.push_str(s);
            if buf.len() > MAX_STRREP_BYTES {
                break;
            }
        }
        out.append_value(&buf);
    }
    Ok(finish_strings(out))
}

fn k_strcmp(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let a = batch.strs(0)?;
    let b = batch.strs(1)?;
    let mut out = Int64Builder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        out.append_value(match a.str(i).cmp(b.str(i)) {
            std::cmp::Ordering::Less => -1,
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => 1,
        });
    }
    Ok(Arc::new(out.finish()))
}

fn k_translate(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let search = batch.strs(0)?;
    let replace = batch.strs(1)?;
    let input = batch.strs(2)?;
    let mut out = StringBuilder::with_capacity(batch.rows, batch.rows * 8);
    for i in 0..batch.rows {
        let from: Vec<char> = search.str(i).chars().collect();
        let to: Vec<char> = replace.str(i).chars().collect();
        let translated: String = input
            .str(i)
            .chars()
            .filter_map(|c| match from.iter().position(|&f| f == c) {
                None => Some(c),
                Some(_) if to.is_empty() => None,
                Some(p) => Some(*to.get(p).unwrap_or(&to[to.len() - 1])),
            })
            .collect();
        out.append_value(translated);
    }
    Ok(finish_strings(out))
}

fn k_isascii(batch: &Batch, _: &KqlUdf) -> DFResult<ArrayRef> {
    let input = batch.strs(0)?;
    let mut out = BooleanBuilder::with_capacity(batch.rows);
    for i in 0..batch.rows {
        out.append_value(input.str(i).is_ascii());
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use datafusion::arrow::array::RecordBatch;
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::logical_expr::{col, lit};
    use datafusion::prelude::SessionContext;
    use quarry_kql::Span;

    /// Evaluates `expr` over a one-column batch `s` of (nullable) strings.
    pub(crate) async fn eval_on(values: ArrayRef, expr: Expr) -> ArrayRef {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "s",
            values.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![values]).unwrap();
        let ctx = SessionContext::new();
        let out = ctx
            .read_batch(batch)
            .unwrap()
            .select(vec![expr.alias("x")])
            .unwrap()
            .collect()
            .await
            .unwrap();
        let arrays: Vec<ArrayRef> = out.iter().map(|b| Arc::clone(b.column(0))).collect();
        let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        datafusion::arrow::compute::concat(&refs).unwrap()
    }

    /// Evaluates an expression that reads no column (one row) and returns its value.
    pub(crate) async fn eval_scalar(expr: Expr) -> ScalarValue {
        let array = eval_on(strings(&[None]), expr).await;
        ScalarValue::try_from_array(&array, 0).unwrap()
    }

    pub(crate) fn strings(values: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(values.to_vec()))
    }

    pub(crate) fn ctx() -> CallContext {
        CallContext {
            now_nanos: 0,
            span: Span::default(),
        }
    }

    pub(crate) fn arg(expr: Expr, data_type: DataType) -> PlannedArg {
        PlannedArg {
            expr,
            data_type,
            span: Span::default(),
        }
    }

    pub(crate) fn s_col() -> Expr {
        col("s")
    }

    pub(crate) fn string_values(array: &ArrayRef) -> Vec<Option<String>> {
        let array = conversions::cast_safe(array, &DataType::Utf8).unwrap();
        let array = array.as_string::<i32>();
        (0..array.len())
            .map(|i| (!array.is_null(i)).then(|| array.value(i).to_string()))
            .collect()
    }

    fn ints(array: &ArrayRef) -> Vec<Option<i64>> {
        let array = array.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        array.iter().collect()
    }

    async fn call(name: &str, input: &[Option<&str>], extra: Vec<(Expr, DataType)>) -> ArrayRef {
        let mut args = vec![arg(s_col(), DataType::Utf8)];
        args.extend(extra.into_iter().map(|(e, t)| arg(e, t)));
        let expr = plan(name, &args, &ctx()).unwrap().unwrap();
        eval_on(strings(input), expr).await
    }

    async fn call_first(
        name: &str,
        first: Vec<(Expr, DataType)>,
        input: &[Option<&str>],
    ) -> ArrayRef {
        let mut args: Vec<PlannedArg> = first.into_iter().map(|(e, t)| arg(e, t)).collect();
        args.push(arg(s_col(), DataType::Utf8));
        let expr = plan(name, &args, &ctx()).unwrap().unwrap();
        eval_on(strings(input), expr).await
    }

    fn l(s: &str) -> (Expr, DataType) {
        (lit(s), DataType::Utf8)
    }

    fn n(v: i64) -> (Expr, DataType) {
        (lit(v), DataType::Int64)
    }

    fn sv(values: &[&str]) -> Vec<Option<String>> {
        values.iter().map(|s| Some(s.to_string())).collect()
    }

    #[tokio::test]
    async fn basic_string_functions() {
        let input = [Some("café"), Some("😀😀"), None, Some("a😀b")];
        assert_eq!(
            ints(&call("strlen", &input, vec![]).await),
            vec![Some(4), Some(2), Some(0), Some(3)]
        );
        assert_eq!(
            ints(&call("string_size", &input, vec![]).await),
            vec![Some(5), Some(8), Some(0), Some(6)]
        );
        assert_eq!(
            string_values(&call("substring", &input, vec![n(0), n(1)]).await),
            sv(&["c", "😀", "", "a"])
        );
        let input = [Some("abcdef"), Some("xy"), Some("")];
        assert_eq!(
            string_values(&call("substring", &input, vec![n(-2)]).await),
            sv(&["ef", "xy", ""])
        );
        assert_eq!(
            string_values(&call("substring", &input, vec![n(100)]).await),
            sv(&["", "", ""])
        );
        assert_eq!(
            string_values(&call("substring", &input, vec![n(-1), n(2)]).await),
            sv(&["f", "y", ""])
        );
        let input = [Some("Ångström"), Some("MiXeD"), None];
        assert_eq!(
            string_values(&call("toupper", &input, vec![]).await),
            sv(&["ÅNGSTRÖM", "MIXED", ""])
        );
        assert_eq!(
            string_values(&call("tolower", &input, vec![]).await),
            sv(&["ångström", "mixed", ""])
        );
        assert_eq!(
            string_values(&call("reverse", &input, vec![]).await),
            sv(&["mörtsgnÅ", "DeXiM", ""])
        );
        let input = [Some("a"), None];
        assert_eq!(
            string_values(
                &call(
                    "strcat",
                    &input,
                    vec![
                        l("-"),
                        (lit(1_i64), DataType::Int64),
                        (lit(true), DataType::Boolean)
                    ]
                )
                .await
            ),
            sv(&["a-1True", "-1True"])
        );

        let args = vec![
            arg(lit("|"), DataType::Utf8),
            arg(s_col(), DataType::Utf8),
            arg(lit("end"), DataType::Utf8),
        ];
        let expr = plan("strcat_delim", &args, &ctx()).unwrap().unwrap();
        assert_eq!(
            string_values(&eval_on(strings(&input), expr).await),
            sv(&["a|end", "|end"])
        );
    }

    #[tokio::test]
    async fn trim_removes_one_regex_match_per_side() {
        let input = [Some("xxabcxx"), Some("abc"), Some("xxx"), Some("")];
        assert_eq!(
            string_values(&call_first("trim", vec![l("x")], &input).await),
            sv(&["xabcx", "abc", "x", ""])
        );
        assert_eq!(
            string_values(&call_first("trim_start", vec![l("x")], &input).await),
            sv(&["xabcxx", "abc", "xx", ""])
        );
        let input = [Some("-  Te st1// $"), Some("    Hello, world!    ")];
        assert_eq!(
            string_values(&call_first("trim", vec![l(r"[^\w]+")], &input).await),
            sv(&["Te st1", "Hello, world"])
        );
        assert_eq!(
            string_values(&call_first("trim_end", vec![l(r"\s+")], &input).await),
            sv(&["-  Te st1// $", "    Hello, world!"])
        );
    }

    #[tokio::test]
    async fn split_and_regex_functions() {
        let input = [Some("a,b,c"), Some(""), Some("a,,b")];
        assert_eq!(
            string_values(&call("split", &input, vec![l(",")]).await),
            sv(&[r#"["a","b","c"]"#, r#"[""]"#, r#"["a","","b"]"#])
        );
        let got = string_values(&call("split", &input, vec![l(","), n(1)]).await);
        assert_eq!(
            got,
            vec![
                Some(r#"["b"]"#.to_string()),
                None,
                Some(r#"[""]"#.to_string())
            ]
        );
        let input = [Some("one two three"), Some("a-b")];
        assert_eq!(
            string_values(&call("replace_regex", &input, vec![l(r"(\w+)"), l(r"[\1]")]).await),
            sv(&["[one] [two] [three]", "[a]-[b]"])
        );
        assert_eq!(
            string_values(&call("replace_string", &input, vec![l(" "), l("_")]).await),
            sv(&["one_two_three", "a-b"])
        );
        let input = [Some("100%done"), Some("%start")];
        assert_eq!(
            string_values(&call_first("extract", vec![l(r"(\d+)%"), n(1)], &input).await),
            sv(&["100", ""])
        );
        let args = vec![
            arg(lit(r"-(\d{2})-"), DataType::Utf8),
            arg(lit(1_i64), DataType::Int64),
            arg(s_col(), DataType::Utf8),
            arg(
                Expr::Literal(ScalarValue::Int32(None), None),
                DataType::Int32,
            ),
        ];
        let expr = plan("extract", &args, &ctx()).unwrap().unwrap();
        let got = eval_on(strings(&[Some("15-12-2024"), Some("nope")]), expr).await;
        assert_eq!(got.data_type(), &DataType::Int32);
        assert_eq!(string_values(&got), vec![Some("12".to_string()), None]);
        let input = [Some("ababab"), Some("aaa"), Some("")];
        assert_eq!(
            string_values(&call_first("extract_all", vec![l(r"(a)(b)?")], &input).await),
            vec![
                Some(r#"[["a","b"],["a","b"],["a","b"]]"#.to_string()),
                Some(r#"[["a",""],["a",""],["a",""]]"#.to_string()),
                None
            ]
        );
        assert_eq!(
            string_values(&call_first("extract_all", vec![l(r"(\d+)")], &[Some("a 12, 3")]).await),
            vec![Some(r#"["12","3"]"#.to_string())]
        );
    }

    #[tokio::test]
    async fn indexof_and_countof() {
        let input = [Some("abcabc"), Some("xyz"), Some("café")];
        assert_eq!(
            ints(&call("indexof", &input, vec![l("c")]).await),
            vec![Some(2), Some(-1), Some(0)]
        );
        assert_eq!(
            ints(&call("indexof", &input, vec![l("a"), n(2)]).await),
            vec![Some(3), Some(-1), Some(-1)]
        );
        assert_eq!(
            ints(&call("indexof", &input, vec![l("")]).await),
            vec![None, None, None]
        );
        assert_eq!(
            ints(&call("indexof", &input, vec![l("é")]).await),
            vec![Some(-1), Some(-1), Some(3)]
        );
        let got = ints(
            &call(
                "indexof",
                &[Some("abcdefgabcdefg")],
                vec![l("cde"), n(1), n(10), n(2)],
            )
            .await,
        );
        assert_eq!(got, vec![Some(9)]);
        let got = ints(&call("indexof", &[Some("abcdefg")], vec![l("cde"), n(-5)]).await);
        assert_eq!(got, vec![Some(2)]);
        let input = [Some("aaaa"), Some("hello world hello")];
        assert_eq!(
            ints(&call("countof", &input, vec![l("aa")]).await),
            vec![Some(3), Some(0)]
        );
        assert_eq!(
            ints(&call("countof", &input, vec![l("aa"), l("regex")]).await),
            vec![Some(2), Some(0)]
        );
        assert_eq!(
            ints(&call("countof", &input, vec![l("l+"), l("regex")]).await),
            vec![Some(0), Some(3)]
        );
    }

    #[tokio::test]
    async fn encodings_and_hashes() {
        assert_eq!(
            string_values(&call("base64_encode_tostring", &[Some("Kusto")], vec![]).await),
            sv(&["S3VzdG8="])
        );
        let input = [Some("S3VzdG8="), Some("U3RyaW5n0KHR0tGA0L7Rh9C60LA=")];
        assert_eq!(
            string_values(&call("base64_decode_tostring", &input, vec![]).await),
            sv(&["Kusto", ""])
        );
        let input = [Some("https%3a%2f%2fwww.bing.com%2f")];
        assert_eq!(
            string_values(&call("url_decode", &input, vec![]).await),
            sv(&["https://www.bing.com/"])
        );
        assert_eq!(
            string_values(&call("url_encode", &[Some("https://www.bing.com/")], vec![]).await),
            sv(&["https%3a%2f%2fwww.bing.com%2f"])
        );
        assert_eq!(
            string_values(&call("hash_sha256", &[Some("World")], vec![]).await),
            sv(&["78ae647dc5544d227130a0682a51e30bc7777fbb6d8a8f17007463a3ecd1d524"])
        );
        assert_eq!(
            string_values(&call("hash_md5", &[Some("World")], vec![]).await),
            sv(&["f5a7924e621e84c9280a9a27e1bcb7f6"])
        );
        let ts = Expr::Literal(
            ScalarValue::TimestampNanosecond(Some(1_577_836_800_000_000_000), None),
            None,
        );
        let expr = plan(
            "hash_sha256",
            &[arg(
                ts,
                DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Nanosecond, None),
            )],
            &ctx(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            string_values(&eval_on(strings(&[Some("")]), expr).await),
            sv(&["ba666752dc1a20eb750b0eb64e780cc4c968bc9fb8813461c1d7e750f302d71d"])
        );
    }

    #[tokio::test]
    async fn urls_paths_and_misc() {
        let got = string_values(
            &call(
                "parse_url",
                &[Some(
                    "scheme://username:password@host:1234/this/is/a/path?k1=v1&k2=v2#fragment",
                )],
                vec![],
            )
            .await,
        );
        let bag: Json = serde_json::from_str(got[0].as_deref().unwrap()).unwrap();
        assert_eq!(bag["Host"], "host");
        assert_eq!(bag["Port"], "1234");
        assert_eq!(bag["Path"], "/this/is/a/path");
        assert_eq!(bag["Query Parameters"]["k2"], "v2");
        assert_eq!(bag["Fragment"], "fragment");
        let got = string_values(
            &call(
                "parse_path",
                &[
                    Some(r"C:\temp\file.txt"),
                    Some("file://C:/temp/file.txt:some.exe"),
                ],
                vec![],
            )
            .await,
        );
        let bag: Json = serde_json::from_str(got[0].as_deref().unwrap()).unwrap();
        assert_eq!(bag["RootPath"], r"C:\");
        assert_eq!(bag["DirectoryPath"], r"C:\temp");
        assert_eq!(bag["DirectoryName"], "temp");
        assert_eq!(bag["Extension"], "txt");
        let bag: Json = serde_json::from_str(got[1].as_deref().unwrap()).unwrap();
        assert_eq!(bag["Scheme"], "file");
        assert_eq!(bag["Filename"], "file.txt");
        assert_eq!(bag["AlternateDataStreamName"], "some.exe");
        let got = string_values(
            &call(
                "parse_command_line",
                &[Some(r#"echo "hello world!""#)],
                vec![l("windows")],
            )
            .await,
        );
        assert_eq!(got, vec![Some(r#"["echo","hello world!"]"#.to_string())]);
        assert_eq!(
            string_values(&call("strrep", &[Some("ab")], vec![n(3), l(".")]).await),
            sv(&["ab.ab.ab"])
        );
        assert_eq!(
            ints(
                &call(
                    "strcmp",
                    &[Some("abc"), Some("ABC"), Some("abc")],
                    vec![l("abc")]
                )
                .await
            ),
            vec![Some(0), Some(-1), Some(0)]
        );
        assert_eq!(
            string_values(
                &call_first("translate", vec![l("abc"), l("x")], &[Some("aabbcd")]).await
            ),
            sv(&["xxxxxd"])
        );
        assert_eq!(
            string_values(&call_first("translate", vec![l("ab"), l("")], &[Some("aabbcd")]).await),
            sv(&["cd"])
        );
        let err = plan("strlen", &[], &ctx()).unwrap();
        assert!(err.is_err());
        assert!(plan("no_such_function", &[], &ctx()).is_none());
    }
}
