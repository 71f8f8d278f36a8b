//! `parse`, `parse-where`, `parse-kv` and `search`.
//!
//! `parse` compiles its pattern into one regular expression (Kusto's documented translation: `*`
//! is `.*?`, a string column `(.*?)` — `(.*)` when it ends the pattern or under `kind=regex` —
//! numbers their number patterns, other types `(.*?)`), evaluated once per row by a UDF that
//! returns a struct of the captured texts; the texts are then converted to the column types.
//! Under `kind=simple` and `kind=regex` a failed conversion fails the whole row; `kind=relaxed`
//! only nulls that column. `parse-kv` works the same way with a key/value scanner.

use super::operators::{param, param_text};
use super::{column, column_names, filter_plan, project_plan, Binding, Planner, Relation};
use crate::error::{EngineError, Result};
use crate::functions::distinct_values::per_distinct_value;
use crate::functions::{self, string_predicates, CallContext, PlannedArg};
use crate::types::KustoType;
use datafusion::arrow::array::{Array, ArrayRef, BooleanBuilder, StringArray, StringBuilder};
use datafusion::arrow::array::{AsArray, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{DFSchema, Result as DFResult, ScalarValue};
use datafusion::functions::expr_fn::regexp_like;
use datafusion::logical_expr::{
    lit, not, when, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use quarry_kql::ast::{
    BinaryOp, ColumnDecl, Expr as KqlExpr, ExprKind, Literal, Operator, OperatorKind,
    OperatorParam, ParsePart, StringPredicate,
};
use quarry_kql::Span;
use regex::Regex;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An extracted column: its name, type and where it is written.
type OutputColumn = (String, KustoType, Span);

/// The name of the struct field telling whether the pattern matched.
const MATCHED: &str = "matched";

/// How a `parse` pattern is matched.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ParseKind {
    Simple,
    Regex,
    Relaxed,
}

/// How `parse-kv` finds its pairs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KvMode {
    /// Explicit delimiters.
    Delimited {
        pair: String,
        kv: String,
        quotes: Vec<(char, char)>,
        escapes: Vec<char>,
        greedy: bool,
    },
    /// No delimiters: any non-alphanumeric character separates.
    Auto {
        quotes: Vec<(char, char)>,
        escapes: Vec<char>,
    },
    /// A regex with two groups: key and value.
    Regex(String),
}

/// What the extraction UDF does with each text.
#[derive(Debug, Clone)]
enum Extractor {
    /// `parse`: one regex with named groups `c0`, `c1`, ….
    Pattern(Regex),
    /// `parse-kv`: the wanted keys, in field order.
    KeyValue {
        mode: KvMode,
        keys: Vec<String>,
        regex: Option<Regex>,
    },
}

/// A UDF: text → struct of the extracted texts (one Utf8 field per column) plus `matched`.
#[derive(Debug)]
struct ExtractUdf {
    name: String,
    /// Identity of the extraction (regex text or kv options), for equality and hashing.
    key: String,
    extractor: Extractor,
    fields: Fields,
    signature: Signature,
}

impl PartialEq for ExtractUdf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.key == other.key && self.fields == other.fields
    }
}

impl Eq for ExtractUdf {}

impl Hash for ExtractUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.key.hash(state);
    }
}

impl ExtractUdf {
    fn new(name: &str, key: String, extractor: Extractor, count: usize) -> Self {
        let mut fields: Vec<Field> = (0..count)
            .map(|i| Field::new(format!("c{i}"), DataType::Utf8, true))
            .collect();
        fields.push(Field::new(MATCHED, DataType::Boolean, true));
        ExtractUdf {
            name: name.to_string(),
            key,
            extractor,
            fields: Fields::from(fields),
            signature: Signature::any(1, Volatility::Immutable),
        }
    }

    fn count(&self) -> usize {
        self.fields.len() - 1
    }

    /// `parse-kv`: the values of the wanted keys in each text (a key not found is null).
    fn extract_key_values(
        &self,
        texts: &StringArray,
        builders: &mut [StringBuilder],
        matched: &mut BooleanBuilder,
    ) {
        let Extractor::KeyValue { mode, keys, regex } = &self.extractor else {
            return;
        };
        for i in 0..texts.len() {
            let text = if texts.is_null(i) { "" } else { texts.value(i) };
            let pairs = match (mode, regex) {
                (KvMode::Regex(_), Some(regex)) => regex
                    .captures_iter(text)
                    .filter_map(|c| {
                        Some((
                            c.get(1)?.as_str().trim().to_string(),
                            c.get(2)
                                .map(|m| m.as_str())
                                .unwrap_or("")
                                .trim()
                                .to_string(),
                        ))
                    })
                    .collect(),
                (
                    KvMode::Delimited {
                        pair,
                        kv,
                        quotes,
                        escapes,
                        greedy,
                    },
                    _,
                ) => scan_delimited(text, pair, kv, quotes, escapes, *greedy),
                (KvMode::Auto { quotes, escapes }, _) => scan_auto(text, keys, quotes, escapes),
                _ => Vec::new(),
            };
            let mut values: Vec<Option<String>> = vec![None; keys.len()];
            for (key, value) in pairs {
                if let Some(at) = keys.iter().position(|k| *k == key) {
                    if values[at].is_none() {
                        values[at] = Some(value);
                    }
                }
            }
            matched.append_value(true);
            for (builder, value) in builders.iter_mut().zip(values) {
                builder.append_option(value);
            }
        }
    }
}

/// `parse`: runs `regex` over each text, appending the texts of groups `c0`, `c1`, … (null when
/// the row does not match). Capture slots are reused and the group numbers looked up once, so a
/// row costs one regex search and no allocation.
fn capture_rows(
    regex: &Regex,
    texts: &StringArray,
    builders: &mut [StringBuilder],
    matched: &mut BooleanBuilder,
) {
    let groups: Vec<Option<usize>> = (0..builders.len())
        .map(|i| {
            let name = format!("c{i}");
            regex.capture_names().position(|n| n == Some(name.as_str()))
        })
        .collect();
    let mut locations = regex.capture_locations();
    for i in 0..texts.len() {
        let text = if texts.is_null(i) { "" } else { texts.value(i) };
        let found = regex.captures_read(&mut locations, text).is_some();
        matched.append_value(found);
        for (builder, group) in builders.iter_mut().zip(&groups) {
            let span = group.filter(|_| found).and_then(|g| locations.get(g));
            builder.append_option(span.map(|(start, end)| &text[start..end]));
        }
    }
}

impl ExtractUdf {
    /// The extraction struct of each row of `array`.
    fn extract_rows(&self, array: &ArrayRef) -> DFResult<ArrayRef> {
        let array = datafusion::arrow::compute::cast(array, &DataType::Utf8)?;
        let texts: &StringArray = array.as_string::<i32>();
        let mut builders: Vec<StringBuilder> =
            (0..self.count()).map(|_| StringBuilder::new()).collect();
        let mut matched = BooleanBuilder::with_capacity(texts.len());
        if let Extractor::Pattern(regex) = &self.extractor {
            capture_rows(regex, texts, &mut builders, &mut matched);
        } else {
            self.extract_key_values(texts, &mut builders, &mut matched);
        }
        let mut arrays: Vec<ArrayRef> = builders
            .into_iter()
            .map(|mut b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        arrays.push(Arc::new(matched.finish()));
        Ok(Arc::new(StructArray::try_new(
            self.fields.clone(),
            arrays,
            None,
        )?))
    }
}

impl ScalarUDFImpl for ExtractUdf {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DFResult<DataType> {
        Ok(DataType::Struct(self.fields.clone()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DFResult<ColumnarValue> {
        let scalar = args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let rows = if scalar { 1 } else { args.number_rows };
        let array = match &args.args[0] {
            ColumnarValue::Array(array) => Arc::clone(array),
            ColumnarValue::Scalar(value) => value.to_array_of_size(rows)?,
        };
        let out = match per_distinct_value(&array, true, |values| self.extract_rows(values))? {
            Some(out) => out,
            None => self.extract_rows(&array)?,
        };
        if scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}

/// Reads one field of the extraction struct. (A UDF rather than `get_field`, which DataFusion's
/// optimizer pushes below the projection that computes the struct.)
#[derive(Debug, PartialEq, Eq, Hash)]
struct FieldUdf {
    name: String,
    index: usize,
    ret: DataType,
    signature: Signature,
}

impl ScalarUDFImpl for FieldUdf {
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
        Ok(match &args.args[0] {
            ColumnarValue::Array(array) => {
                ColumnarValue::Array(Arc::clone(array.as_struct().column(self.index)))
            }
            ColumnarValue::Scalar(value) => {
                let array = value.to_array_of_size(1)?;
                let field = Arc::clone(array.as_struct().column(self.index));
                ColumnarValue::Scalar(ScalarValue::try_from_array(&field, 0)?)
            }
        })
    }
}

/// Field `index` (of type `ret`) of the extraction struct `expr`.
fn struct_field(expr: Expr, index: usize, ret: DataType) -> Expr {
    ScalarUDF::new_from_impl(FieldUdf {
        name: format!("kql_parse_field_{index}"),
        index,
        ret,
        signature: Signature::any(1, Volatility::Immutable),
    })
    .call(vec![expr])
}

/// Parses `text` with explicit pair and key/value delimiters.
fn scan_delimited(
    text: &str,
    pair: &str,
    kv: &str,
    quotes: &[(char, char)],
    escapes: &[char],
    greedy: bool,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut pos = 0;
    let len = text.len();
    let skip_ws = |mut p: usize| {
        while p < len {
            let c = text[p..].chars().next().unwrap_or(' ');
            // A whitespace pair delimiter still separates.
            if c.is_whitespace() && (pair.trim().is_empty() || !pair.starts_with(c)) {
                p += c.len_utf8();
            } else {
                break;
            }
        }
        p
    };
    while pos < len {
        pos = skip_ws(pos);
        if pos >= len {
            break;
        }
        if !pair.is_empty() && text[pos..].starts_with(pair) {
            pos += pair.len();
            continue;
        }
        let start = pos;
        // The key.
        let key = if let Some((value, end)) = read_quoted(text, pos, quotes, escapes) {
            pos = end;
            value
        } else {
            let end = find_first(text, pos, &[kv, pair]).unwrap_or(len);
            let key = text[pos..end].trim().to_string();
            pos = end;
            key
        };
        pos = skip_ws(pos);
        if !kv.is_empty() && text[pos..].starts_with(kv) {
            pos += kv.len();
            pos = skip_ws(pos);
            let value = if let Some((value, end)) = read_quoted(text, pos, quotes, escapes) {
                pos = find_first(text, end, &[pair]).unwrap_or(len);
                value
            } else {
                let end = if greedy {
                    greedy_end(text, pos, pair, kv)
                } else {
                    find_first(text, pos, &[pair]).unwrap_or(len)
                };
                let value = text[pos..end].trim().to_string();
                pos = end;
                value
            };
            out.push((key, value));
        } else if pos == start {
            // No progress: step over one character.
            pos += text[pos..].chars().next().map(char::len_utf8).unwrap_or(1);
        }
    }
    out
}

/// The end of a greedy value starting at `pos`: the next pair delimiter followed by `key kv`.
fn greedy_end(text: &str, pos: usize, pair: &str, kv: &str) -> usize {
    let mut search = pos;
    while let Some(at) = find_first(text, search, &[pair]) {
        let rest = &text[at + pair.len()..];
        let key_end = find_first(rest, 0, &[kv, pair]);
        if let Some(k) = key_end {
            if rest[k..].starts_with(kv) && !rest[..k].trim().is_empty() {
                return at;
            }
        }
        search = at + pair.len().max(1);
    }
    text.len()
}

/// The first position at or after `from` where one of `needles` occurs.
fn find_first(text: &str, from: usize, needles: &[&str]) -> Option<usize> {
    needles
        .iter()
        .filter(|n| !n.is_empty())
        .filter_map(|n| text[from..].find(n).map(|at| at + from))
        .min()
}

/// A quoted token at `pos`: its unescaped text and the position after the closing quote.
fn read_quoted(
    text: &str,
    pos: usize,
    quotes: &[(char, char)],
    escapes: &[char],
) -> Option<(String, usize)> {
    let first = text[pos..].chars().next()?;
    let (_, close) = quotes.iter().find(|(open, _)| *open == first)?;
    let mut value = String::new();
    let mut chars = text[pos + first.len_utf8()..].char_indices();
    let base = pos + first.len_utf8();
    while let Some((i, c)) = chars.next() {
        if escapes.contains(&c) {
            if let Some((_, next)) = chars.next() {
                value.push(next);
            }
            continue;
        }
        if c == *close {
            return Some((value, base + i + c.len_utf8()));
        }
        value.push(c);
    }
    Some((value, text.len()))
}

/// Parses `text` without delimiters: a wanted key, then non-alphanumeric separators, then the
/// value (quoted, or a run of value characters).
fn scan_auto(
    text: &str,
    keys: &[String],
    quotes: &[(char, char)],
    escapes: &[char],
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for key in keys {
        if key.is_empty() {
            continue;
        }
        let mut from = 0;
        while let Some(found) = text[from..].find(key.as_str()) {
            let at = from + found;
            from = at + key.len();
            let before_ok = text[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let rest = &text[at + key.len()..];
            let sep_len: usize = rest
                .chars()
                .take_while(|c| !c.is_alphanumeric() && !quotes.iter().any(|(open, _)| open == c))
                .map(char::len_utf8)
                .sum();
            if !before_ok || sep_len == 0 || rest[..sep_len].trim().is_empty() {
                continue;
            }
            let value_pos = at + key.len() + sep_len;
            let value = match read_quoted(text, value_pos, quotes, escapes) {
                Some((value, _)) => value,
                None => text[value_pos..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
                    .collect(),
            };
            out.push((key.clone(), value));
            break;
        }
    }
    out
}

/// The number pattern of a typed `parse` column, if the type has one.
fn number_pattern(ty: KustoType) -> Option<&'static str> {
    match ty {
        KustoType::Int | KustoType::Long => Some(r"[-+]?\d+"),
        KustoType::Real | KustoType::Decimal => {
            Some(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
        }
        _ => None,
    }
}

/// The conversion function of a Kusto type (`None` for string).
fn conversion_function(ty: KustoType) -> Option<&'static str> {
    Some(match ty {
        KustoType::String => return None,
        KustoType::Bool => "tobool",
        KustoType::Int => "toint",
        KustoType::Long => "tolong",
        KustoType::Real => "toreal",
        KustoType::Decimal => "todecimal",
        KustoType::DateTime => "todatetime",
        KustoType::TimeSpan => "totimespan",
        KustoType::Guid => "toguid",
        KustoType::Dynamic => "todynamic",
    })
}

/// Builds the regex of a `parse` pattern; returns it with the columns in capture order.
fn compile_pattern(
    kind: ParseKind,
    flags: &str,
    pattern: &[ParsePart],
) -> Result<(String, Vec<OutputColumn>)> {
    let mut regex = String::new();
    let mut columns = Vec::new();
    if kind == ParseKind::Regex {
        let flags: String = flags
            .chars()
            .filter(|c| matches!(c, 'i' | 'm' | 's' | 'U'))
            .collect();
        if !flags.is_empty() {
            regex.push_str(&format!("(?{flags})"));
        }
    } else {
        regex.push_str("(?s)");
    }
    // A leading `*` (`\A.*?`) only asks for the leftmost match, which an unanchored search
    // finds anyway, and a trailing `*` (`.*?\z`) can never fail: leaving them out lets the regex
    // engine skip to the first literal with its SIMD prefilter and stop at the last one. Under
    // `kind=regex` with the `U` flag `.*?` is greedy, so the pattern is kept whole there.
    let lazy_wildcards = !(kind == ParseKind::Regex && flags.contains('U'));
    let open_start = lazy_wildcards && matches!(pattern.first(), Some(ParsePart::Wildcard { .. }));
    let open_end = lazy_wildcards
        && pattern.len() > 1
        && matches!(pattern.last(), Some(ParsePart::Wildcard { .. }));
    let body_parts = &pattern[usize::from(open_start)..pattern.len() - usize::from(open_end)];
    if !open_start {
        regex.push_str(r"\A");
    }
    for (index, part) in body_parts.iter().enumerate() {
        let last = index + 1 == body_parts.len() && !open_end;
        match part {
            ParsePart::Text { value, .. } => {
                if kind == ParseKind::Regex {
                    regex.push_str(&format!("(?:{value})"));
                } else {
                    regex.push_str(&regex::escape(value));
                }
            }
            ParsePart::Wildcard { .. } => regex.push_str(".*?"),
            ParsePart::Column { name, ty } => {
                let ty = match ty {
                    None => KustoType::String,
                    Some(t) => KustoType::from_name(&t.name).ok_or_else(|| {
                        EngineError::bind(format!("unknown type `{}`", t.name), t.span)
                    })?,
                };
                let group = format!("c{}", columns.len());
                let body = match (kind, ty) {
                    (ParseKind::Relaxed, KustoType::String)
                    | (ParseKind::Simple, KustoType::String) => {
                        if last {
                            ".*"
                        } else {
                            ".*?"
                        }
                    }
                    (ParseKind::Regex, KustoType::String) => ".*",
                    (ParseKind::Relaxed, other) => {
                        let any = if last { ".*" } else { ".*?" };
                        match number_pattern(other) {
                            Some(number) => {
                                regex.push_str(&format!("(?P<{group}>{number}|{any})"));
                                columns.push((name.name.clone(), ty, name.span));
                                continue;
                            }
                            None => any,
                        }
                    }
                    (_, other) => number_pattern(other).unwrap_or(if last { ".*" } else { ".*?" }),
                };
                regex.push_str(&format!("(?P<{group}>{body})"));
                columns.push((name.name.clone(), ty, name.span));
            }
        }
    }
    if !open_end {
        regex.push_str(r"\z");
    }
    Ok((regex, columns))
}

/// Parses `"a,b"`-style quote option values into open/close pairs.
fn quote_pairs(options: &[OperatorParam], name: &str) -> Vec<(char, char)> {
    options
        .iter()
        .filter(|p| p.name.name == name)
        .filter_map(|p| {
            let text = param_text(p);
            let mut chars = text.chars();
            let open = chars.next()?;
            let close = chars.next().unwrap_or(open);
            Some((open, close))
        })
        .collect()
}

impl Planner<'_> {
    pub(super) fn apply_parse_operator(
        &mut self,
        input: Relation,
        operator: &Operator,
    ) -> Result<Relation> {
        match &operator.kind {
            OperatorKind::Parse {
                filter,
                params,
                source,
                pattern,
            } => self.parse(input, *filter, params, source, pattern, operator.span),
            OperatorKind::ParseKv {
                source,
                columns,
                options,
            } => self.parse_kv(input, source, columns, options, operator.span),
            OperatorKind::Search {
                params,
                tables,
                predicate,
            } => {
                if !tables.is_empty() {
                    return Err(EngineError::unsupported(
                        "search in (…) after a pipe",
                        operator.span,
                    ));
                }
                let case_sensitive = search_case_sensitive(params);
                self.search_relation(input, "search_arg0", predicate, case_sensitive)
            }
            _ => Err(EngineError::unsupported("this operator", operator.span)),
        }
    }

    /// `search` as the first operator of a query.
    pub(super) fn search_source(&mut self, operator: &Operator) -> Result<Relation> {
        let OperatorKind::Search {
            params,
            tables,
            predicate,
        } = &operator.kind
        else {
            return Err(EngineError::bind("expected search", operator.span));
        };
        let case_sensitive = search_case_sensitive(params);
        let mut named: Vec<(String, Relation)> = Vec::new();
        if tables.is_empty() {
            let mut names = self.session.table_names();
            // Views defined with `let` are searched too.
            let mut views: Vec<String> = Vec::new();
            for scope in &self.scopes {
                for (name, binding) in scope {
                    let is_view = match binding {
                        Binding::Tabular(_) => false,
                        Binding::Function(f) => {
                            f.parameters.is_empty() && self.function_is_tabular(f)
                        }
                        Binding::Scalar(_) => false,
                    };
                    if is_view && !views.contains(name) {
                        views.push(name.clone());
                    }
                }
            }
            views.sort();
            names.extend(views);
            for name in names {
                let relation = self.plan_table_name(&quarry_kql::ast::Ident {
                    name: name.clone(),
                    span: operator.span,
                })?;
                named.push((name, relation));
            }
        } else {
            for table in tables {
                match &table.kind {
                    ExprKind::Pattern { pattern } => {
                        for name in self.tables_matching(pattern) {
                            let relation = self.plan_table_name(&quarry_kql::ast::Ident {
                                name: name.clone(),
                                span: table.span,
                            })?;
                            named.push((name, relation));
                        }
                    }
                    ExprKind::Name { name } => {
                        named.push((name.name.clone(), self.plan_tabular(table)?))
                    }
                    _ => {
                        let text = quarry_kql::printer::print_expr(table);
                        named.push((text, self.plan_tabular(table)?));
                    }
                }
            }
        }
        let mut results = Vec::new();
        let mut first_error = None;
        for (name, relation) in named {
            match self.search_relation(relation, &name, predicate, case_sensitive) {
                Ok(relation) => results.push(relation),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        if results.is_empty() {
            return Err(first_error.unwrap_or_else(|| {
                EngineError::bind("search found no tables to search", operator.span)
            }));
        }
        super::operators::union_relations(results, operator.span)
    }

    /// Filters `input` by a search predicate and adds the `$table` column.
    fn search_relation(
        &mut self,
        input: Relation,
        table: &str,
        predicate: &KqlExpr,
        case_sensitive: bool,
    ) -> Result<Relation> {
        let condition = self.search_predicate(predicate, input.schema(), case_sensitive)?;
        let filtered = input.filter(condition)?;
        let mut exprs = vec![lit(ScalarValue::Utf8(Some(table.to_string()))).alias("$table")];
        exprs.extend(
            column_names(filtered.schema())
                .iter()
                .filter(|n| n.as_str() != "$table")
                .map(|n| column(n)),
        );
        let plan = project_plan(filtered, exprs)?;
        Ok(Relation {
            plan,
            ordered: input.ordered,
        })
    }

    /// Plans a search predicate: bare string terms search every column.
    fn search_predicate(
        &mut self,
        expr: &KqlExpr,
        schema: &DFSchema,
        case_sensitive: bool,
    ) -> Result<Expr> {
        match &expr.kind {
            ExprKind::Literal {
                value: Literal::String { value, .. },
            } => Ok(any_column_term(schema, value, case_sensitive)),
            ExprKind::Literal { .. } => Ok(lit(false)),
            ExprKind::Paren { inner } => self.search_predicate(inner, schema, case_sensitive),
            ExprKind::Binary {
                op: op @ (BinaryOp::And | BinaryOp::Or),
                left,
                right,
            } => {
                let l = self.search_predicate(left, schema, case_sensitive)?;
                let r = self.search_predicate(right, schema, case_sensitive)?;
                Ok(if *op == BinaryOp::And {
                    l.and(r)
                } else {
                    l.or(r)
                })
            }
            ExprKind::Binary {
                op:
                    BinaryOp::String {
                        predicate,
                        case_sensitive: cs,
                        negated,
                    },
                left,
                right,
            } => {
                let needle = match &right.kind {
                    ExprKind::Literal {
                        value: Literal::String { value, .. },
                    } => Some(value.clone()),
                    _ => None,
                };
                let cs = *cs || case_sensitive;
                match (&left.kind, needle) {
                    (ExprKind::Star, Some(needle)) => {
                        let any = if *predicate == StringPredicate::Has {
                            any_column_term(schema, &needle, cs)
                        } else {
                            any_column(schema, |c| {
                                string_predicates::string_predicate(
                                    *predicate,
                                    cs,
                                    false,
                                    c,
                                    lit(needle.clone()),
                                )
                            })
                        };
                        Ok(if *negated { not(any) } else { any })
                    }
                    (_, Some(needle)) if *predicate == StringPredicate::Has => {
                        let target = self.plan_scalar(left, schema)?;
                        let test = term_test(target, &needle, cs);
                        Ok(if *negated { not(test) } else { test })
                    }
                    _ => self.plan_scalar(expr, schema),
                }
            }
            ExprKind::Call { function, args } => match (&function.kind, args.as_slice()) {
                (ExprKind::Name { name }, [arg]) if name.name == "not" => Ok(not(
                    self.search_predicate(&arg.value, schema, case_sensitive)?
                )),
                _ => self.plan_scalar(expr, schema),
            },
            _ => self.plan_scalar(expr, schema),
        }
    }

    fn call_ctx(&self, span: Span) -> CallContext {
        CallContext {
            now_nanos: self.now_nanos,
            span,
        }
    }

    /// The text of a parsed expression as a Utf8 expression.
    fn text_expr(&mut self, source: &KqlExpr, schema: &DFSchema) -> Result<Expr> {
        let expr = self.plan_scalar(source, schema)?;
        let data_type = self.type_of(&expr, schema).unwrap_or(DataType::Null);
        if data_type == DataType::Utf8 {
            return Ok(expr);
        }
        let ctx = self.call_ctx(source.span);
        functions::plan_scalar_call(
            "tostring",
            &[PlannedArg {
                expr,
                data_type,
                span: source.span,
            }],
            &ctx,
        )
    }

    /// Converts an extracted text (Utf8, null when absent) to `ty`.
    fn convert_text(&self, text: Expr, ty: KustoType, span: Span) -> Result<Expr> {
        match conversion_function(ty) {
            None => Ok(text),
            Some(function) => functions::plan_scalar_call(
                function,
                &[PlannedArg {
                    expr: text,
                    data_type: DataType::Utf8,
                    span,
                }],
                &self.call_ctx(span),
            ),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn parse(
        &mut self,
        input: Relation,
        filter: bool,
        params: &[OperatorParam],
        source: &KqlExpr,
        pattern: &[ParsePart],
        span: Span,
    ) -> Result<Relation> {
        let kind = match param(params, "kind").map(param_text).as_deref() {
            None | Some("simple") => ParseKind::Simple,
            Some("regex") => ParseKind::Regex,
            Some("relaxed") => ParseKind::Relaxed,
            Some(other) => {
                return Err(EngineError::bind(
                    format!("unknown parse kind `{other}`"),
                    span,
                ))
            }
        };
        let flags = param(params, "flags").map(param_text).unwrap_or_default();
        let (regex_text, columns) = compile_pattern(kind, &flags, pattern)?;
        let regex_text = crate::functions::kusto_regex(&regex_text).into_owned();
        let regex = Regex::new(&regex_text).map_err(|e| {
            EngineError::bind(format!("the parse pattern is not a valid regex: {e}"), span)
        })?;
        let text = self.text_expr(source, input.schema())?;
        let udf = ExtractUdf::new(
            "kql_parse",
            regex_text,
            Extractor::Pattern(regex),
            columns.len(),
        );
        let strict = kind != ParseKind::Relaxed;
        self.apply_extraction(input, text, udf, columns, strict, filter)
    }

    fn parse_kv(
        &mut self,
        input: Relation,
        source: &KqlExpr,
        columns: &[ColumnDecl],
        options: &[OperatorParam],
        span: Span,
    ) -> Result<Relation> {
        let quotes = quote_pairs(options, "quote");
        let escapes: Vec<char> = options
            .iter()
            .filter(|p| p.name.name == "escape")
            .filter_map(|p| param_text(p).chars().next())
            .collect();
        let (mode, regex) = if let Some(regex) = param(options, "regex") {
            let text = crate::functions::kusto_regex(&param_text(regex)).into_owned();
            let compiled = Regex::new(&text).map_err(|e| {
                EngineError::bind(format!("the parse-kv regex is not valid: {e}"), span)
            })?;
            (KvMode::Regex(text), Some(compiled))
        } else if param(options, "pair_delimiter").is_some()
            || param(options, "kv_delimiter").is_some()
        {
            (
                KvMode::Delimited {
                    pair: param(options, "pair_delimiter")
                        .map(param_text)
                        .unwrap_or_else(|| " ".to_string()),
                    kv: param(options, "kv_delimiter")
                        .map(param_text)
                        .unwrap_or_else(|| "=".to_string()),
                    quotes,
                    escapes,
                    greedy: param(options, "greedy").is_some_and(|p| param_text(p) == "true"),
                },
                None,
            )
        } else {
            (KvMode::Auto { quotes, escapes }, None)
        };
        let mut decls = Vec::new();
        for column in columns {
            let ty = KustoType::from_name(&column.ty.name).ok_or_else(|| {
                EngineError::bind(format!("unknown type `{}`", column.ty.name), column.ty.span)
            })?;
            decls.push((column.name.name.clone(), ty, column.name.span));
        }
        let keys: Vec<String> = decls.iter().map(|(n, _, _)| n.clone()).collect();
        let text = self.text_expr(source, input.schema())?;
        let udf = ExtractUdf::new(
            "kql_parse_kv",
            format!("{mode:?}|{keys:?}"),
            Extractor::KeyValue { mode, keys, regex },
            decls.len(),
        );
        self.apply_extraction(input, text, udf, decls, false, false)
    }

    /// Evaluates the extraction UDF, converts its fields and adds (or replaces) the columns.
    fn apply_extraction(
        &mut self,
        input: Relation,
        text: Expr,
        udf: ExtractUdf,
        columns: Vec<OutputColumn>,
        strict: bool,
        filter: bool,
    ) -> Result<Relation> {
        let ordered = input.ordered;
        let names = column_names(input.schema());
        let struct_name = self.next_alias("parse");
        let call = ScalarUDF::new_from_impl(udf).call(vec![text]);
        // Stage 1: the struct of captured texts.
        let mut exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
        exprs.push(call.alias(&struct_name));
        let stage1 = input.project(exprs)?;
        // Stage 2: the converted values and the match flag.
        let mut exprs: Vec<Expr> = names.iter().map(|n| column(n)).collect();
        let matched_name = format!("{struct_name}_ok");
        let mut value_names = Vec::new();
        let mut ok = struct_field(column(&struct_name), columns.len(), DataType::Boolean);
        for (index, (_, ty, span)) in columns.iter().enumerate() {
            let field = struct_field(column(&struct_name), index, DataType::Utf8);
            let converted = self.convert_text(field.clone(), *ty, *span)?;
            if strict && *ty != KustoType::String {
                ok = ok.and(field.clone().is_null().or(converted.clone().is_not_null()));
            }
            let value_name = format!("{struct_name}_{index}");
            exprs.push(converted.alias(&value_name));
            value_names.push(value_name);
        }
        exprs.push(ok.alias(&matched_name));
        let mut stage2 = project_plan(stage1, exprs)?;
        if filter {
            stage2 = filter_plan(stage2, column(&matched_name).is_true())?;
        }
        // Stage 3: the output columns.
        let mut outputs: Vec<(String, Expr)> =
            names.iter().map(|n| (n.clone(), column(n))).collect();
        for ((name, ty, _), value_name) in columns.iter().zip(&value_names) {
            let value = column(value_name);
            let expr = if *ty == KustoType::String {
                when(column(&matched_name).is_true(), value).otherwise(lit(""))?
            } else {
                when(column(&matched_name).is_true(), value).end()?
            };
            let expr = if *ty == KustoType::String {
                datafusion::functions::expr_fn::coalesce(vec![expr, lit("")])
            } else {
                expr
            };
            match outputs.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = expr,
                None => outputs.push((name.clone(), expr)),
            }
        }
        let exprs: Vec<Expr> = outputs.into_iter().map(|(n, e)| e.alias(n)).collect();
        let plan = project_plan(stage2, exprs)?;
        Ok(Relation { plan, ordered })
    }
}

fn search_case_sensitive(params: &[OperatorParam]) -> bool {
    param(params, "kind").is_some_and(|p| param_text(p) == "case_sensitive")
}

/// `pred(column)` for any column of `schema`, or'ed together.
fn any_column(schema: &DFSchema, mut pred: impl FnMut(Expr) -> Expr) -> Expr {
    schema
        .fields()
        .iter()
        .filter(|f| f.name() != "$table")
        .map(|f| pred(column(f.name())))
        .reduce(|a, b| a.or(b))
        .unwrap_or_else(|| lit(false))
}

/// A search term (`"x"`, `"x*"`, `"*x"`, `"*x*"`, `"a*b"`) over any column.
fn any_column_term(schema: &DFSchema, term: &str, case_sensitive: bool) -> Expr {
    if term.chars().all(|c| c == '*') && !term.is_empty() {
        return lit(true);
    }
    any_column(schema, |c| term_test(c, term, case_sensitive))
}

/// One search term against one expression.
fn term_test(target: Expr, term: &str, cs: bool) -> Expr {
    let starts = term.starts_with('*');
    let ends = term.ends_with('*') && term.len() > 1;
    let core = term.trim_matches('*');
    if core.contains('*') {
        // A wildcard inside the term: a regex over the text.
        let parts: Vec<String> = core.split('*').map(regex::escape).collect();
        let mut pattern = String::new();
        if !cs {
            pattern.push_str("(?i)");
        }
        if !starts {
            pattern.push_str(r"(?:^|[^\p{L}\p{N}])");
        }
        pattern.push_str(&parts.join(".*?"));
        if !ends {
            pattern.push_str(r"(?:$|[^\p{L}\p{N}])");
        }
        let text = datafusion::logical_expr::cast(target, DataType::Utf8);
        return datafusion::functions::expr_fn::coalesce(vec![
            regexp_like(text, lit(pattern), None),
            lit(false),
        ]);
    }
    let predicate = match (starts, ends) {
        (false, false) => StringPredicate::Has,
        (false, true) => StringPredicate::HasPrefix,
        (true, false) => StringPredicate::HasSuffix,
        (true, true) => StringPredicate::Contains,
    };
    string_predicates::string_predicate(predicate, cs, false, target, lit(core.to_string()))
}
