//! `evaluate` plugins that compute their answer from the whole input at once: `schema_merge`,
//! `ipv4_lookup`/`ipv6_lookup`, `rolling_percentile`, `session_count` and
//! `activity_counts_metrics`.
//!
//! Their output rows depend on every input row (ranges matched against a lookup table, sliding
//! windows over bins, "seen before" state per id), so the planner runs the input while planning
//! ([`Planner::collect_now`]), computes the answer here and hands back an in-memory table. Column
//! values are moved with Arrow's `take` kernel, so every column keeps its exact type.

use super::sources::constant_value;
use super::{column_names, Planner, Relation};
use crate::error::{EngineError, Result};
use datafusion::arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, Int64Array, StringArray, StringViewArray, UInt32Array,
};
use datafusion::arrow::compute::{cast, concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::ScalarValue;
use quarry_kql::ast::{Arg, Expr as KqlExpr, ExprKind};
use quarry_kql::Span;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// The plugins this file implements.
pub(super) const PLUGINS: &[&str] = &[
    "schema_merge",
    "ipv4_lookup",
    "ipv6_lookup",
    "rolling_percentile",
    "session_count",
    "activity_counts_metrics",
];

/// Most bins `session_count` and `activity_counts_metrics` make per group.
const MAX_BINS: i64 = 10_000_000;

/// The name of a column argument (`evaluate p(Column, …)`), checked against the input.
fn column_arg(expr: Option<&&KqlExpr>, names: &[String], what: &str, span: Span) -> Result<String> {
    match expr.map(|e| &e.kind) {
        Some(ExprKind::Name { name }) if names.contains(&name.name) => Ok(name.name.clone()),
        Some(ExprKind::Name { name }) => Err(EngineError::bind(
            format!("unknown column `{}`", name.name),
            name.span,
        )),
        _ => Err(EngineError::bind(
            format!("this plugin takes {what} here"),
            expr.map(|e| e.span).unwrap_or(span),
        )),
    }
}

/// The column `name` of `batch`.
fn batch_column(batch: &RecordBatch, name: &str) -> Result<ArrayRef> {
    batch
        .schema()
        .index_of(name)
        .map(|i| batch.column(i).clone())
        .map_err(|e| EngineError::Execution(e.into()))
}

/// An axis column (datetime, timespan or a number) as i64 (ticks in nanoseconds for times).
fn axis_values(array: &ArrayRef) -> Result<Vec<Option<i64>>> {
    let as_long = cast(array, &DataType::Int64)?;
    let longs = as_long.as_primitive::<Int64Type>();
    Ok((0..longs.len())
        .map(|i| (!longs.is_null(i)).then(|| longs.value(i)))
        .collect())
}

/// Rebuilds an axis column of type `data_type` from i64 values.
/// The first output columns of a bin-based plugin: the axis (named, its values, its type), then
/// each dimension column taken at the row of `group_rows` that stands for the output row's group.
fn axis_and_dimensions(
    (axis_name, axis_values, axis_type): (&str, Vec<i64>, &DataType),
    dims: &[String],
    batch: &RecordBatch,
    group_rows: Vec<u32>,
) -> Result<Vec<(String, ArrayRef)>> {
    let group_indices = UInt32Array::from(group_rows);
    let mut columns = vec![(axis_name.to_string(), axis_array(axis_values, axis_type)?)];
    for dim in dims {
        columns.push((
            dim.clone(),
            take(batch_column(batch, dim)?.as_ref(), &group_indices, None)?,
        ));
    }
    Ok(columns)
}

fn axis_array(values: Vec<i64>, data_type: &DataType) -> Result<ArrayRef> {
    let longs: ArrayRef = Arc::new(Int64Array::from(values));
    Ok(cast(&longs, data_type)?)
}

/// `value` rounded down to a multiple of `size` (Kusto's `bin`).
fn bin_of(value: i64, size: i64) -> i64 {
    if size <= 0 {
        return value;
    }
    value.div_euclid(size) * size
}

/// The starts of the bins from the one holding `start` up to `end` (included or not).
fn bin_starts(start: i64, end: i64, bin: i64, inclusive: bool) -> impl Iterator<Item = i64> {
    let first = bin_of(start, bin);
    (0..)
        .map_while(move |i: i64| first.checked_add(i.checked_mul(bin)?))
        .take_while(move |&at| if inclusive { at <= end } else { at < end })
}

/// Groups the rows of `batch` by the values of `dims`: the group of every row, and each group's
/// first row.
fn group_rows(batch: &RecordBatch, dims: &[String]) -> Result<(Vec<usize>, Vec<u32>)> {
    if dims.is_empty() {
        return Ok((vec![0; batch.num_rows()], vec![0]));
    }
    let arrays = dims
        .iter()
        .map(|d| batch_column(batch, d))
        .collect::<Result<Vec<_>>>()?;
    let converter = RowConverter::new(
        arrays
            .iter()
            .map(|a| SortField::new(a.data_type().clone()))
            .collect(),
    )?;
    let rows = converter.convert_columns(&arrays)?;
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut groups = Vec::with_capacity(batch.num_rows());
    let mut firsts = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let next = seen.len();
        let group = *seen.entry(row.as_ref().to_vec()).or_insert(next);
        if group == firsts.len() {
            firsts.push(index as u32);
        }
        groups.push(group);
    }
    Ok((groups, firsts))
}

/// Never-null strings: the empty string where a taken string cell is null (an unmatched row).
fn fill_strings(array: ArrayRef) -> ArrayRef {
    if array.null_count() == 0 {
        return array;
    }
    fn filled<'a, T: FromIterator<Option<&'a str>> + Array + 'static>(
        values: impl Iterator<Item = Option<&'a str>>,
    ) -> ArrayRef {
        Arc::new(values.map(|v| Some(v.unwrap_or(""))).collect::<T>())
    }
    match array.data_type() {
        DataType::Utf8 => filled::<StringArray>(array.as_string::<i32>().iter()),
        DataType::Utf8View => filled::<StringViewArray>(array.as_string_view().iter()),
        _ => array,
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or a single address, as the
/// first address and the prefix length over 128 bits (IPv4 mapped into the low 32 bits).
fn parse_network(text: &str, v6: bool) -> Option<(u128, u32)> {
    let (address, prefix) = match text.trim().split_once('/') {
        Some((a, p)) => (a, Some(p.trim().parse::<u32>().ok()?)),
        None => (text.trim(), None),
    };
    if v6 {
        let ip: Ipv6Addr = address.parse().ok().or_else(|| {
            address
                .parse::<Ipv4Addr>()
                .ok()
                .map(|v4| v4.to_ipv6_mapped())
        })?;
        let prefix = prefix.unwrap_or(128).min(128);
        Some((u128::from(ip), prefix))
    } else {
        let ip: Ipv4Addr = address.parse().ok()?;
        let prefix = prefix.unwrap_or(32).min(32);
        Some((u128::from(u32::from(ip)), prefix + 96))
    }
}

/// True when `address` lies in the network `(base, prefix)` (both over 128 bits).
fn in_network(address: u128, (base, prefix): (u128, u32)) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - prefix)
    };
    address & mask == base & mask
}

/// The nearest-rank percentile's row among `rows` (Kusto's `percentile` on exact input).
fn nearest_rank(values: &ArrayRef, rows: &[u32], percent: f64) -> Result<Option<u32>> {
    let indices = UInt32Array::from(rows.to_vec());
    let picked = take(values.as_ref(), &indices, None)?;
    let order = datafusion::arrow::compute::sort_to_indices(&picked, None, None)?;
    let present: Vec<u32> = order
        .values()
        .iter()
        .copied()
        .filter(|&i| !picked.is_null(i as usize))
        .collect();
    if present.is_empty() {
        return Ok(None);
    }
    let n = present.len() as f64;
    let rank = ((percent / 100.0) * n).ceil().max(1.0).min(n) as usize;
    Ok(Some(rows[present[rank - 1] as usize]))
}

/// The arguments `session_count` and `activity_counts_metrics` share: the id and timeline
/// columns, the analysed period and bin (as i64), the extra scalars after the bin, the dims.
struct ActivityArgs<'a> {
    id: String,
    timeline: String,
    start: i64,
    end: i64,
    bin: i64,
    scalars: Vec<&'a KqlExpr>,
    dims: Vec<String>,
}

impl Planner<'_> {
    /// Runs `input` and returns all its rows as one batch.
    fn collect_relation(&self, input: &Relation) -> Result<RecordBatch> {
        let batches = self.collect_now(input.plan.clone())?;
        let schema: SchemaRef = match batches.first() {
            Some(batch) => batch.schema(),
            None => Arc::new(input.schema().as_arrow().clone()),
        };
        Ok(concat_batches(&schema, &batches)?)
    }

    /// The constant value of a plugin argument.
    fn constant_arg(&mut self, expr: &KqlExpr) -> Result<ScalarValue> {
        let planned = self.plan_constant(expr)?;
        constant_value(&planned)
            .ok_or_else(|| EngineError::bind("this plugin argument must be a constant", expr.span))
    }

    /// A constant axis argument (a datetime, a timespan or a number) as i64.
    fn constant_axis(&mut self, expr: &KqlExpr) -> Result<i64> {
        let value = self.constant_arg(expr)?;
        let values = axis_values(&value.to_array()?)?;
        values.first().copied().flatten().ok_or_else(|| {
            EngineError::bind("expected a datetime, a timespan or a number", expr.span)
        })
    }

    /// A relation holding `columns` (name, array) as one in-memory batch.
    fn relation_of(&mut self, columns: Vec<(String, ArrayRef)>) -> Result<Relation> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(name, array)| Field::new(name, array.data_type().clone(), true))
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, array)| array).collect(),
        )?;
        self.relation_from_batches(schema, vec![batch])
    }

    /// Dispatches the plugins of this file; `None` for any other name.
    pub(super) fn evaluate_computed(
        &mut self,
        name: &str,
        input: Relation,
        args: &[Arg],
        span: Span,
    ) -> Option<Result<Relation>> {
        Some(match name {
            "schema_merge" => self.schema_merge(input, args, span),
            "ipv4_lookup" => self.ip_lookup(input, args, false, span),
            "ipv6_lookup" => self.ip_lookup(input, args, true, span),
            "rolling_percentile" => self.rolling_percentile(input, args, span),
            "session_count" => self.session_count(input, args, span),
            "activity_counts_metrics" => self.activity_counts_metrics(input, args, span),
            _ => return None,
        })
    }

    /// `schema_merge([PreserveOrder])` over `getschema` rows: the union of the columns, each
    /// inserted at its ordinal in the first schema that has it; with PreserveOrder (the default)
    /// a column found later at another ordinal is an error row (ordinal -1).
    fn schema_merge(&mut self, input: Relation, args: &[Arg], span: Span) -> Result<Relation> {
        let preserve = match args.first() {
            Some(arg) => match self.constant_arg(&arg.value)? {
                ScalarValue::Boolean(Some(b)) => b,
                _ => {
                    return Err(EngineError::bind(
                        "schema_merge() takes a bool (PreserveOrder)",
                        arg.value.span,
                    ))
                }
            },
            None => true,
        };
        let batch = self.collect_relation(&input)?;
        let text = |name: &str| -> Result<Vec<String>> {
            let array = cast(&batch_column(&batch, name)?, &DataType::Utf8)?;
            let strings = array.as_string::<i32>();
            Ok((0..strings.len())
                .map(|i| strings.value(i).to_string())
                .collect())
        };
        let names = text("ColumnName")
            .map_err(|_| EngineError::bind("schema_merge() needs getschema rows as input", span))?;
        let data_types = text("DataType")?;
        let column_types = text("ColumnType")?;
        let ordinals = axis_values(&batch_column(&batch, "ColumnOrdinal")?)?;

        // (name, data type, column type, first ordinal, error)
        let mut merged: Vec<(String, String, String, i64, Option<String>)> = Vec::new();
        for row in 0..names.len() {
            let ordinal = ordinals[row].unwrap_or(0);
            match merged.iter_mut().find(|c| c.0 == names[row]) {
                Some(existing) => {
                    if existing.4.is_some() {
                        continue;
                    }
                    if preserve && existing.3 != ordinal {
                        existing.4 = Some("columns are out of order".to_string());
                    } else if existing.2 != column_types[row] {
                        existing.1 = "System.Object".to_string();
                        existing.2 = "dynamic".to_string();
                    }
                }
                None => {
                    let at = usize::try_from(ordinal).unwrap_or(0).min(merged.len());
                    merged.insert(
                        at,
                        (
                            names[row].clone(),
                            data_types[row].clone(),
                            column_types[row].clone(),
                            ordinal,
                            None,
                        ),
                    );
                }
            }
        }
        let mut out_names = Vec::new();
        let mut out_ordinals = Vec::new();
        let mut out_data = Vec::new();
        let mut out_types = Vec::new();
        let mut next = 0i64;
        for (name, data_type, column_type, _, error) in merged {
            out_names.push(name);
            match error {
                Some(message) => {
                    out_ordinals.push(-1);
                    out_data.push(format!("ERROR(unknown CSL type:ERROR({message}))"));
                    out_types.push(format!("ERROR({message})"));
                }
                None => {
                    out_ordinals.push(next);
                    next += 1;
                    out_data.push(data_type);
                    out_types.push(column_type);
                }
            }
        }
        self.relation_of(vec![
            ("ColumnName".into(), Arc::new(StringArray::from(out_names))),
            (
                "ColumnOrdinal".into(),
                Arc::new(Int64Array::from(out_ordinals)),
            ),
            ("DataType".into(), Arc::new(StringArray::from(out_data))),
            ("ColumnType".into(), Arc::new(StringArray::from(out_types))),
        ])
    }

    /// `ipv4_lookup(LookupTable, SourceKey, RangeColumn [, extra keys…] [, return_unmatched])`
    /// and `ipv6_lookup(…)`: each input row joined with the lookup row whose network holds its
    /// address (the most specific one), unmatched rows dropped unless `return_unmatched`.
    fn ip_lookup(
        &mut self,
        input: Relation,
        args: &[Arg],
        v6: bool,
        span: Span,
    ) -> Result<Relation> {
        let plugin = if v6 { "ipv6_lookup" } else { "ipv4_lookup" };
        let mut positional: Vec<&KqlExpr> = Vec::new();
        let mut unmatched_arg: Option<&KqlExpr> = None;
        for arg in args {
            match &arg.name {
                Some(name) if name.name.eq_ignore_ascii_case("return_unmatched") => {
                    unmatched_arg = Some(&arg.value)
                }
                Some(name) => {
                    return Err(EngineError::bind(
                        format!("{plugin}() has no argument `{}`", name.name),
                        name.span,
                    ))
                }
                None => positional.push(&arg.value),
            }
        }
        // A trailing bool positional argument is return_unmatched.
        if unmatched_arg.is_none() && positional.len() > 3 {
            let last = positional[positional.len() - 1];
            if !matches!(last.kind, ExprKind::Name { .. }) {
                unmatched_arg = positional.pop();
            }
        }
        let return_unmatched = match unmatched_arg {
            Some(expr) => match self.constant_arg(expr)? {
                ScalarValue::Boolean(Some(b)) => b,
                _ => {
                    return Err(EngineError::bind(
                        "return_unmatched must be a bool",
                        expr.span,
                    ))
                }
            },
            None => false,
        };
        let Some(table_expr) = positional.first() else {
            return Err(EngineError::bind(
                format!("{plugin}() takes a lookup table first"),
                span,
            ));
        };
        let lookup = self.plan_tabular(table_expr)?;
        let input_names = column_names(input.schema());
        let lookup_names = column_names(lookup.schema());
        let key = column_arg(
            positional.get(1),
            &input_names,
            "the source address column",
            span,
        )?;
        let range = column_arg(
            positional.get(2),
            &lookup_names,
            "the lookup range column",
            span,
        )?;
        let mut extra: Vec<(String, String)> = Vec::new();
        for pair in positional[3.min(positional.len())..].chunks(2) {
            let [source, target] = pair else {
                return Err(EngineError::bind(
                    format!("{plugin}() takes extra keys in pairs (source, lookup)"),
                    pair[0].span,
                ));
            };
            extra.push((
                column_arg(Some(source), &input_names, "an input column", span)?,
                column_arg(Some(target), &lookup_names, "a lookup column", span)?,
            ));
        }

        let left = self.collect_relation(&input)?;
        let right = self.collect_relation(&lookup)?;
        let texts = |batch: &RecordBatch, name: &str| -> Result<Vec<Option<String>>> {
            let array = cast(&batch_column(batch, name)?, &DataType::Utf8)?;
            let strings = array.as_string::<i32>();
            Ok((0..strings.len())
                .map(|i| (!strings.is_null(i)).then(|| strings.value(i).to_string()))
                .collect())
        };
        let addresses = texts(&left, &key)?;
        let networks: Vec<Option<(u128, u32)>> = texts(&right, &range)?
            .into_iter()
            .map(|t| t.and_then(|t| parse_network(&t, v6)))
            .collect();
        let extra_values = extra
            .iter()
            .map(|(l, r)| Ok((texts(&left, l)?, texts(&right, r)?)))
            .collect::<Result<Vec<_>>>()?;

        let mut left_rows: Vec<u32> = Vec::new();
        let mut right_rows: Vec<Option<u32>> = Vec::new();
        for (row, address) in addresses.iter().enumerate() {
            let address = address
                .as_deref()
                .and_then(|a| parse_network(a, v6))
                .map(|(base, _)| base);
            let best = address.and_then(|address| {
                networks
                    .iter()
                    .enumerate()
                    .filter(|(r, network)| {
                        network.is_some_and(|n| in_network(address, n))
                            && extra_values.iter().all(|(l, rv)| l[row] == rv[*r])
                    })
                    .max_by_key(|(_, network)| network.map(|n| n.1))
                    .map(|(r, _)| r as u32)
            });
            if best.is_some() || return_unmatched {
                left_rows.push(row as u32);
                right_rows.push(best);
            }
        }
        let left_indices = UInt32Array::from(left_rows);
        let right_indices = UInt32Array::from(right_rows);
        let mut left_columns = Vec::new();
        for name in &input_names {
            let array = take(batch_column(&left, name)?.as_ref(), &left_indices, None)?;
            left_columns.push((name.clone(), array));
        }
        let mut right_columns = Vec::new();
        for name in &lookup_names {
            if extra.iter().any(|(_, r)| r == name) || input_names.contains(name) {
                continue;
            }
            let source = batch_column(&right, name)?;
            let array = if right.num_rows() == 0 {
                new_null_array(source.data_type(), right_indices.len())
            } else {
                take(source.as_ref(), &right_indices, None)?
            };
            right_columns.push((name.clone(), fill_strings(array)));
        }
        // Kusto puts the lookup columns first when ipv6_lookup keeps unmatched rows.
        let columns = if v6 && return_unmatched {
            right_columns.into_iter().chain(left_columns).collect()
        } else {
            left_columns.into_iter().chain(right_columns).collect()
        };
        self.relation_of(columns)
    }

    /// `rolling_percentile(Value, Percentile, Index, BinSize, BinsToLookBack [, dims…])`: per bin
    /// of Index (and dims), the nearest-rank percentile of Value over that bin and the
    /// BinsToLookBack - 1 bins before it.
    fn rolling_percentile(
        &mut self,
        input: Relation,
        args: &[Arg],
        span: Span,
    ) -> Result<Relation> {
        let args: Vec<&KqlExpr> = args.iter().map(|a| &a.value).collect();
        let names = column_names(input.schema());
        let value = column_arg(args.first(), &names, "the value column", span)?;
        let percent = match args.get(1) {
            Some(expr) => match self.constant_arg(expr)?.cast_to(&DataType::Float64)? {
                ScalarValue::Float64(Some(p)) => p,
                _ => {
                    return Err(EngineError::bind(
                        "the percentile must be a number",
                        expr.span,
                    ))
                }
            },
            None => {
                return Err(EngineError::bind(
                    "rolling_percentile() takes 5 arguments",
                    span,
                ))
            }
        };
        let index = column_arg(args.get(2), &names, "the index column", span)?;
        let (Some(bin_expr), Some(back_expr)) = (args.get(3), args.get(4)) else {
            return Err(EngineError::bind(
                "rolling_percentile() takes 5 arguments",
                span,
            ));
        };
        let bin = self.constant_axis(bin_expr)?;
        let back = self.constant_axis(back_expr)?.max(1);
        let dims = args[5..]
            .iter()
            .map(|d| column_arg(Some(d), &names, "a dimension column", span))
            .collect::<Result<Vec<_>>>()?;

        let batch = self.collect_relation(&input)?;
        let index_array = batch_column(&batch, &index)?;
        let values = batch_column(&batch, &value)?;
        let axis = axis_values(&index_array)?;
        let (groups, firsts) = group_rows(&batch, &dims)?;
        // group → bin → rows
        let mut bins: Vec<BTreeMap<i64, Vec<u32>>> = vec![BTreeMap::new(); firsts.len()];
        for (row, at) in axis.iter().enumerate() {
            if let Some(at) = at {
                bins[groups[row]]
                    .entry(bin_of(*at, bin))
                    .or_default()
                    .push(row as u32);
            }
        }
        let mut out_axis = Vec::new();
        let mut out_group_rows = Vec::new();
        let mut out_value_rows: Vec<Option<u32>> = Vec::new();
        for (group, group_bins) in bins.iter().enumerate() {
            for &start in group_bins.keys() {
                let from = start.saturating_sub(bin.saturating_mul(back - 1));
                let rows: Vec<u32> = group_bins
                    .range(from..=start)
                    .flat_map(|(_, rows)| rows.iter().copied())
                    .collect();
                out_axis.push(start);
                out_group_rows.push(firsts[group]);
                out_value_rows.push(nearest_rank(&values, &rows, percent)?);
            }
        }
        let mut columns = axis_and_dimensions(
            (&index, out_axis, index_array.data_type()),
            &dims,
            &batch,
            out_group_rows,
        )?;
        let percent_text = if percent.fract() == 0.0 {
            format!("{}", percent as i64)
        } else {
            percent.to_string().replace('.', "_")
        };
        columns.push((
            format!("rolling_{back}_percentile_{value}_{percent_text}"),
            take(values.as_ref(), &UInt32Array::from(out_value_rows), None)?,
        ));
        self.relation_of(columns)
    }

    /// The (id, timeline, start, end, bin, dims) arguments shared by `session_count` and
    /// `activity_counts_metrics`, and the extra scalar arguments after `bin`.
    fn activity_args<'a>(
        &mut self,
        input: &Relation,
        args: &'a [Arg],
        extra: usize,
        span: Span,
    ) -> Result<ActivityArgs<'a>> {
        let args: Vec<&KqlExpr> = args.iter().map(|a| &a.value).collect();
        let names = column_names(input.schema());
        let id = column_arg(args.first(), &names, "the id column", span)?;
        let timeline = column_arg(args.get(1), &names, "the timeline column", span)?;
        if args.len() < 5 + extra {
            return Err(EngineError::bind("this plugin needs more arguments", span));
        }
        let start = self.constant_axis(args[2])?;
        let end = self.constant_axis(args[3])?;
        let bin = self.constant_axis(args[4])?;
        if bin <= 0 {
            return Err(EngineError::bind(
                "the bin size must be positive",
                args[4].span,
            ));
        }
        if end.saturating_sub(start) / bin > MAX_BINS {
            return Err(EngineError::bind(
                format!("the period holds more than {MAX_BINS} bins"),
                args[4].span,
            ));
        }
        let scalars = args[5..5 + extra].to_vec();
        let dims = args[5 + extra..]
            .iter()
            .map(|d| column_arg(Some(d), &names, "a dimension column", span))
            .collect::<Result<Vec<_>>>()?;
        Ok(ActivityArgs {
            id,
            timeline,
            start,
            end,
            bin,
            scalars,
            dims,
        })
    }

    /// `session_count(Id, Timeline, Start, End, Bin, LookBackWindow [, dims…])`: per bin, the
    /// sessions that start in it; an id's appearance starts a session unless the same id
    /// appeared less than LookBackWindow before.
    fn session_count(&mut self, input: Relation, args: &[Arg], span: Span) -> Result<Relation> {
        let ActivityArgs {
            id,
            timeline,
            start,
            end,
            bin,
            scalars,
            dims,
        } = self.activity_args(&input, args, 1, span)?;
        let lookback = self.constant_axis(scalars[0])?;
        let batch = self.collect_relation(&input)?;
        let timeline_array = batch_column(&batch, &timeline)?;
        let times = axis_values(&timeline_array)?;
        let mut key_dims = dims.clone();
        key_dims.push(id.clone());
        let (ids, _) = group_rows(&batch, &key_dims)?;
        let (groups, firsts) = group_rows(&batch, &dims)?;
        // (group, id) → sorted distinct times within [start, end]
        let mut appearances: HashMap<(usize, usize), BTreeSet<i64>> = HashMap::new();
        for row in 0..batch.num_rows() {
            if let Some(t) = times[row] {
                if t >= start && t <= end {
                    appearances
                        .entry((groups[row], ids[row]))
                        .or_default()
                        .insert(t);
                }
            }
        }
        let mut counts: Vec<BTreeMap<i64, i64>> = vec![BTreeMap::new(); firsts.len()];
        for ((group, _), times) in &appearances {
            let mut previous: Option<i64> = None;
            for &t in times {
                if previous.is_none_or(|p| t.saturating_sub(p) >= lookback) {
                    *counts[*group].entry(bin_of(t, bin)).or_insert(0) += 1;
                }
                previous = Some(t);
            }
        }
        let mut out_axis = Vec::new();
        let mut out_groups = Vec::new();
        let mut out_counts = Vec::new();
        for (group, group_counts) in counts.iter().enumerate() {
            // End is exclusive here (Kusto's answer for End = 10000, Bin = 100 stops at 9900).
            for at in bin_starts(start, end, bin, false) {
                out_axis.push(at);
                out_groups.push(firsts[group]);
                out_counts.push(group_counts.get(&at).copied().unwrap_or(0));
            }
        }
        let mut columns = axis_and_dimensions(
            (&timeline, out_axis, timeline_array.data_type()),
            &dims,
            &batch,
            out_groups,
        )?;
        columns.push((
            "count_sessions".into(),
            Arc::new(Int64Array::from(out_counts)),
        ));
        self.relation_of(columns)
    }

    /// `activity_counts_metrics(Id, Timeline, Start, End, Window [, dims…])`: per window, the
    /// rows, the distinct ids, the ids never seen in an earlier window, and the distinct ids
    /// seen so far.
    fn activity_counts_metrics(
        &mut self,
        input: Relation,
        args: &[Arg],
        span: Span,
    ) -> Result<Relation> {
        let ActivityArgs {
            id,
            timeline,
            start,
            end,
            bin,
            dims,
            ..
        } = self.activity_args(&input, args, 0, span)?;
        let batch = self.collect_relation(&input)?;
        let timeline_array = batch_column(&batch, &timeline)?;
        let times = axis_values(&timeline_array)?;
        let (ids, _) = group_rows(&batch, std::slice::from_ref(&id))?;
        let (groups, firsts) = group_rows(&batch, &dims)?;
        // group → window → (rows, ids)
        let mut windows: Vec<BTreeMap<i64, (i64, BTreeSet<usize>)>> =
            vec![BTreeMap::new(); firsts.len()];
        for row in 0..batch.num_rows() {
            if let Some(t) = times[row] {
                if t >= start && t <= end {
                    let slot = windows[groups[row]].entry(bin_of(t, bin)).or_default();
                    slot.0 += 1;
                    slot.1.insert(ids[row]);
                }
            }
        }
        let mut out_axis = Vec::new();
        let mut out_groups = Vec::new();
        let (mut count, mut dcount, mut new_dcount, mut total) = (vec![], vec![], vec![], vec![]);
        let empty = (0i64, BTreeSet::new());
        for (group, group_windows) in windows.iter().enumerate() {
            let mut seen: BTreeSet<usize> = BTreeSet::new();
            for at in bin_starts(start, end, bin, true) {
                let (rows, window_ids) = group_windows.get(&at).unwrap_or(&empty);
                let fresh = window_ids.iter().filter(|i| !seen.contains(i)).count() as i64;
                seen.extend(window_ids.iter().copied());
                out_axis.push(at);
                out_groups.push(firsts[group]);
                count.push(*rows);
                dcount.push(window_ids.len() as i64);
                new_dcount.push(fresh);
                total.push(seen.len() as i64);
            }
        }
        let mut columns = axis_and_dimensions(
            (&timeline, out_axis, timeline_array.data_type()),
            &dims,
            &batch,
            out_groups,
        )?;
        for (name, values) in [
            ("count", count),
            ("dcount", dcount),
            ("new_dcount", new_dcount),
            ("aggregated_dcount", total),
        ] {
            columns.push((name.into(), Arc::new(Int64Array::from(values)) as ArrayRef));
        }
        self.relation_of(columns)
    }
}
