//! Evaluating a per-row function once per distinct value of its one varying argument.
//!
//! Telemetry repeats itself: a column of command lines, URLs or JSON bags holds a few thousand
//! distinct values over millions of rows (Parquet stores such columns dictionary-encoded). A pure
//! function whose only varying argument is such a string column gives equal answers for equal
//! inputs, so it can run on the distinct values alone and have its answers spread back to the
//! rows with `take`.
//!
//! Finding the distinct values of a `Utf8` array means hashing every row's text, which pays only
//! for costly kernels (a regular expression, a parse, a hash). A `Utf8View` array read from a
//! dictionary-encoded page is cheaper: its rows point into the page's dictionary, so equal views
//! are equal values and a 16-byte view is hashed instead of the text; every kernel can use it.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{HashMap, Result};
use std::hash::{BuildHasher, Hash};

/// Below this many rows the bookkeeping is not worth it.
const MIN_ROWS: usize = 64;
/// How many leading rows are looked at to judge whether the values repeat.
const SAMPLE_ROWS: usize = 1024;

/// The distinct values of a string array and, per row, which of them the row holds.
#[derive(Debug, PartialEq)]
pub(crate) struct DistinctValues {
    /// The first row holding each distinct value (the null rows form one value of their own).
    pub(crate) firsts: UInt32Array,
    /// Per row, the index of its value in `firsts`.
    pub(crate) keys: UInt32Array,
}

/// `eval` applied to the distinct values of the string array `array` and spread back to its rows;
/// `None` when `array` is not a string array, is short, or its values barely repeat (then the
/// caller evaluates row by row).
/// `costly` says whether the kernel costs enough to hash text for (views are always worth it).
pub(crate) fn per_distinct_value(
    array: &ArrayRef,
    costly: bool,
    eval: impl FnOnce(&ArrayRef) -> Result<ArrayRef>,
) -> Result<Option<ArrayRef>> {
    if !costly && array.data_type() != &DataType::Utf8View {
        return Ok(None);
    }
    let Some(distinct) = distinct_strings(array.as_ref()) else {
        return Ok(None);
    };
    let values = take(array.as_ref(), &distinct.firsts, None)?;
    let answers = eval(&values)?;
    Ok(Some(take(answers.as_ref(), &distinct.keys, None)?))
}

/// The distinct values of `array` when it is a string array worth deduplicating.
pub(crate) fn distinct_strings(array: &dyn Array) -> Option<DistinctValues> {
    if array.len() < MIN_ROWS || array.len() > u32::MAX as usize {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => {
            let strings = array.as_string::<i32>();
            dedup(array, |i| strings.value(i).as_bytes(), HashMap::new())
        }
        DataType::LargeUtf8 => {
            let strings = array.as_string::<i64>();
            dedup(array, |i| strings.value(i).as_bytes(), HashMap::new())
        }
        DataType::Utf8View => {
            // Equal views are equal values; unequal views may still hold equal values (in two
            // places of the buffers), which only costs evaluating a value twice.
            let views = array.as_string_view().views();
            dedup(array, |i| views[i], ViewTable::with_capacity(4096))
        }
        _ => None,
    }
}

/// Numbers the distinct keys it is given in order of first appearance.
trait KeyIndex<K> {
    /// The number of `key`, which becomes `next` if `key` is new.
    fn number(&mut self, key: K, next: u32) -> u32;
}

impl<K: Hash + Eq, S: BuildHasher> KeyIndex<K> for HashMap<K, u32, S> {
    fn number(&mut self, key: K, next: u32) -> u32 {
        *self.entry(key).or_insert(next)
    }
}

/// Deduplicates the rows of `array` by `value` through the empty `index`.
fn dedup<K>(
    array: &dyn Array,
    value: impl Fn(usize) -> K,
    mut index: impl KeyIndex<K>,
) -> Option<DistinctValues> {
    let rows = array.len();
    let nulls = array.logical_nulls();
    let sample = rows.min(SAMPLE_ROWS);
    let mut firsts: Vec<u32> = Vec::new();
    let mut null_key: Option<u32> = None;
    let mut keys: Vec<u32> = Vec::with_capacity(rows);
    for i in 0..rows {
        if i == sample {
            // The kernels that opt in cost ten to a hundred times a hash per row, so
            // deduplicating pays unless the values are (nearly) all different. A small sample
            // under-counts repeats in a column drawn from a few thousand values, hence the
            // generous bar.
            if firsts.len() * 10 > sample * 9 {
                return None;
            }
        }
        let next = firsts.len() as u32;
        let key = if nulls.as_ref().is_none_or(|n| n.is_valid(i)) {
            index.number(value(i), next)
        } else {
            *null_key.get_or_insert(next)
        };
        if key == next {
            firsts.push(i as u32);
        }
        keys.push(key);
    }
    if rows <= sample && firsts.len() * 10 > sample * 9 {
        return None;
    }
    Some(DistinctValues {
        firsts: UInt32Array::from(firsts),
        keys: UInt32Array::from(keys),
    })
}

/// An open-addressing table from string views to their numbers. A batch's rows take every
/// column's value from one row-group dictionary, so a few thousand views repeat over tens of
/// thousands of rows; comparing one 16-byte key in a flat array beats a general hash map here.
struct ViewTable {
    views: Vec<u128>,
    /// The number of the view in the same slot; `EMPTY` for a free slot.
    numbers: Vec<u32>,
    /// log2 of the slot count.
    bits: u32,
    used: usize,
}

const EMPTY: u32 = u32::MAX;

impl ViewTable {
    fn with_capacity(slots: usize) -> Self {
        let bits = slots.next_power_of_two().trailing_zeros().max(4);
        ViewTable {
            views: vec![0; 1 << bits],
            numbers: vec![EMPTY; 1 << bits],
            bits,
            used: 0,
        }
    }

    #[inline]
    fn slot_of(&self, view: u128) -> usize {
        // Length, prefix, buffer and offset all vary between views: fold them and keep the top
        // bits of one multiply (Fibonacci hashing).
        let folded = (view as u64) ^ ((view >> 64) as u64).rotate_left(29);
        (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - self.bits)) as usize
    }

    #[cold]
    fn grow(&mut self) {
        let old = std::mem::replace(self, ViewTable::with_capacity(1 << (self.bits + 1)));
        for (view, number) in old.views.into_iter().zip(old.numbers) {
            if number != EMPTY {
                self.number(view, number);
            }
        }
    }
}

impl KeyIndex<u128> for ViewTable {
    #[inline]
    fn number(&mut self, view: u128, next: u32) -> u32 {
        let mask = (1usize << self.bits) - 1;
        let mut slot = self.slot_of(view);
        loop {
            let number = self.numbers[slot];
            if number == EMPTY {
                self.views[slot] = view;
                self.numbers[slot] = next;
                self.used += 1;
                if self.used * 2 > self.numbers.len() {
                    self.grow();
                }
                return next;
            }
            if self.views[slot] == view {
                return number;
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, LargeStringArray, StringArray, StringViewArray};
    use std::sync::Arc;

    fn repeated(rows: usize) -> Vec<Option<&'static str>> {
        let pool = [Some("alpha"), None, Some("beta"), Some(""), Some("alpha ")];
        (0..rows)
            .map(|i| pool[(i * 7 + i / 3) % pool.len()])
            .collect()
    }

    #[test]
    fn keys_name_each_rows_value_and_nulls_are_one_value() {
        let values = repeated(500);
        let array = StringArray::from(values.clone());
        let distinct = distinct_strings(&array).expect("values repeat");
        assert_eq!(distinct.firsts.len(), 5);
        assert_eq!(distinct.keys.len(), 500);
        for (row, key) in distinct.keys.values().iter().enumerate() {
            let first = distinct.firsts.value(*key as usize) as usize;
            assert_eq!(values[first], values[row], "row {row}");
        }
    }

    #[test]
    fn every_string_layout_gives_the_same_keys() {
        let values = repeated(300);
        let utf8 = distinct_strings(&StringArray::from(values.clone())).unwrap();
        let large = distinct_strings(&LargeStringArray::from(values.clone())).unwrap();
        assert_eq!(utf8, large);
        // Short values are inlined in their views, so equal values have equal views.
        let view = distinct_strings(&StringViewArray::from(values.clone())).unwrap();
        assert_eq!(utf8, view);
    }

    #[test]
    fn values_that_barely_repeat_or_short_arrays_are_left_alone() {
        let unique: Vec<String> = (0..2000).map(|i| format!("cmd {i}")).collect();
        assert!(distinct_strings(&StringArray::from(unique)).is_none());
        assert!(distinct_strings(&StringArray::from(repeated(MIN_ROWS - 1))).is_none());
        assert!(distinct_strings(&Int64Array::from(vec![1i64; 500])).is_none());
    }

    #[test]
    fn the_view_table_numbers_keys_in_order_across_growth() {
        let mut table = ViewTable::with_capacity(16);
        let keys: Vec<u128> = (0..5000u128)
            .map(|k| k * 0x1_0000_0001 + (k << 90))
            .collect();
        for (n, key) in keys.iter().enumerate() {
            assert_eq!(table.number(*key, n as u32), n as u32);
        }
        for (n, key) in keys.iter().enumerate().rev() {
            assert_eq!(table.number(*key, 99_999), n as u32);
        }
    }

    #[test]
    fn long_views_are_keyed_by_where_they_point() {
        let texts = StringViewArray::from(vec![
            "powershell.exe -nop -w hidden -enc AAAA",
            "cmd.exe /c whoami /all",
        ]);
        let rows: Vec<u32> = (0..300).map(|i| (i % 3 == 0) as u32).collect();
        let repeated = take(&texts, &UInt32Array::from(rows), None).unwrap();
        let distinct = distinct_strings(repeated.as_ref()).expect("views repeat");
        assert_eq!(distinct.firsts.values().to_vec(), vec![0, 1]);
        // The same texts stored once per row are different views: nothing repeats.
        let copies: Vec<String> = (0..300)
            .map(|i| texts.value((i % 3 == 0) as usize).to_string())
            .collect();
        assert!(distinct_strings(&StringViewArray::from(copies)).is_none());
    }

    #[test]
    fn answers_are_spread_back_to_every_row() {
        let values = repeated(400);
        let array: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let mut evaluated_rows = 0;
        let out = per_distinct_value(&array, true, |distinct| {
            evaluated_rows = distinct.len();
            let strings = distinct.as_string::<i32>();
            let lengths: Int64Array = (0..strings.len())
                .map(|i| strings.is_valid(i).then(|| strings.value(i).len() as i64))
                .collect();
            Ok(Arc::new(lengths) as ArrayRef)
        })
        .unwrap()
        .expect("values repeat");
        assert_eq!(evaluated_rows, 5);
        let out = out.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for (row, value) in values.iter().enumerate() {
            assert_eq!(out.is_valid(row), value.is_some(), "row {row}");
            if let Some(v) = value {
                assert_eq!(out.value(row), v.len() as i64, "row {row}");
            }
        }
    }
}
