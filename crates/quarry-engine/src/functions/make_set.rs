//! `make_set`: the distinct values of a group as a `dynamic` array, at most `max_size` of them;
//! `dynamic` arrays contribute their elements.
//!
//! In one partition the values keep the order they were first seen, as Kusto returns them on one
//! node. When partial sets from several partitions are merged, the order they arrive in (and so
//! which values a `max_size` keeps) would change from run to run; the merged set is sorted and
//! then cut instead, so that a hunt's findings are the same every time it runs.

use super::dynamic::scalar_to_json;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Expr, Signature, Volatility,
};
use indexmap::IndexSet;
use serde_json::Value;
use std::sync::Arc;

/// Kusto's default and largest `max_size` of `make_set` and `make_list`.
pub(crate) const MAX_COLLECTED: usize = 1_048_576;

/// `make_set(value, max_size)` over `value`.
pub(crate) fn make_set(value: Expr, max_size: usize) -> Expr {
    AggregateUDF::new_from_impl(MakeSet {
        max_size,
        signature: Signature::any(1, Volatility::Immutable),
    })
    .call(vec![value])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MakeSet {
    max_size: usize,
    signature: Signature,
}

impl AggregateUDFImpl for MakeSet {
    fn name(&self) -> &str {
        "kql_make_set"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        let element = args.input_fields[0].data_type().clone();
        Ok(vec![Arc::new(Field::new_list(
            format_state_name(args.name, "make_set"),
            Field::new_list_field(element, true),
            true,
        ))])
    }
    fn accumulator(&self, args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        let input = args.expr_fields[0].data_type().clone();
        Ok(Box::new(MakeSetAccumulator {
            element: input.clone(),
            flatten: input == DataType::LargeUtf8,
            max_size: self.max_size,
            values: IndexSet::new(),
            bytes: 0,
            merged: false,
        }))
    }
    fn default_value(&self, _data_type: &DataType) -> DfResult<ScalarValue> {
        Ok(ScalarValue::LargeUtf8(Some("[]".to_string())))
    }
}

#[derive(Debug)]
struct MakeSetAccumulator {
    /// The input's type, which the partial state keeps (`dynamic` elements as JSON text).
    element: DataType,
    /// The input is `dynamic`: arrays are unpacked into their elements.
    flatten: bool,
    max_size: usize,
    values: IndexSet<ScalarValue>,
    bytes: usize,
    /// Partial sets were merged: the values are sorted and cut to `max_size` at the end.
    merged: bool,
}

impl MakeSetAccumulator {
    fn insert(&mut self, value: ScalarValue) {
        // Merged partial sets are each cut already; the union is cut after sorting.
        if (!self.merged && self.values.len() >= self.max_size) || value.is_null() {
            return;
        }
        let size = value.size();
        if self.values.insert(value) {
            self.bytes += size;
        }
    }

    /// Adds row `row` of `array` (a value, or for `dynamic`, an array's elements).
    fn add(&mut self, array: &ArrayRef, row: usize) -> DfResult<()> {
        if array.is_null(row) {
            return Ok(());
        }
        if self.flatten {
            let text = match array.data_type() {
                DataType::LargeUtf8 => array.as_string::<i64>().value(row),
                _ => array.as_string::<i32>().value(row),
            };
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Array(items)) => {
                    for item in items {
                        self.insert(ScalarValue::LargeUtf8(Some(item.to_string())));
                    }
                }
                Ok(Value::Null) => {}
                _ => self.insert(ScalarValue::LargeUtf8(Some(text.to_string()))),
            }
            return Ok(());
        }
        self.insert(ScalarValue::try_from_array(array, row)?);
        Ok(())
    }
}

impl Accumulator for MakeSetAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let array = &values[0];
        for row in 0..array.len() {
            if self.values.len() >= self.max_size {
                break;
            }
            self.add(array, row)?;
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        self.merged = true;
        let lists = states[0].as_list::<i32>();
        for row in 0..lists.len() {
            if lists.is_null(row) {
                continue;
            }
            let items = lists.value(row);
            for index in 0..items.len() {
                self.insert(ScalarValue::try_from_array(&items, index)?);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        let values: Vec<ScalarValue> = self.values.iter().cloned().collect();
        Ok(vec![ScalarValue::List(ScalarValue::new_list_nullable(
            &values,
            &self.element,
        ))])
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        if self.merged {
            self.values
                .sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            self.values.truncate(self.max_size);
        }
        let items: Vec<Value> = self
            .values
            .iter()
            .map(|value| scalar_to_json(value).unwrap_or(Value::Null))
            .collect();
        Ok(ScalarValue::LargeUtf8(Some(
            Value::Array(items).to_string(),
        )))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self)
            + self.bytes
            + self.values.capacity() * std::mem::size_of::<ScalarValue>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;

    fn accumulator(max_size: usize) -> MakeSetAccumulator {
        MakeSetAccumulator {
            element: DataType::Utf8,
            flatten: false,
            max_size,
            values: IndexSet::new(),
            bytes: 0,
            merged: false,
        }
    }

    fn partial(values: &[&str], max_size: usize) -> ArrayRef {
        let mut partial = accumulator(max_size);
        let input: ArrayRef = Arc::new(StringArray::from(values.to_vec()));
        partial.update_batch(&[input]).unwrap();
        partial.state().unwrap()[0].to_array().unwrap()
    }

    #[test]
    fn one_partition_keeps_first_seen_order_and_max_size() {
        let mut set = accumulator(2);
        let input: ArrayRef = Arc::new(StringArray::from(vec!["b", "a", "b", "c"]));
        set.update_batch(&[input]).unwrap();
        assert_eq!(
            set.evaluate().unwrap(),
            ScalarValue::LargeUtf8(Some(r#"["b","a"]"#.into()))
        );
    }

    #[test]
    fn merged_partitions_give_the_same_set_in_any_order() {
        let (first, second) = (partial(&["z", "b", "y"], 2), partial(&["a", "b", "c"], 2));
        let mut one_way = accumulator(3);
        one_way.merge_batch(std::slice::from_ref(&first)).unwrap();
        one_way.merge_batch(std::slice::from_ref(&second)).unwrap();
        let mut other_way = accumulator(3);
        other_way.merge_batch(&[second]).unwrap();
        other_way.merge_batch(&[first]).unwrap();
        let expected = ScalarValue::LargeUtf8(Some(r#"["a","b","z"]"#.into()));
        assert_eq!(one_way.evaluate().unwrap(), expected);
        assert_eq!(other_way.evaluate().unwrap(), expected);
    }
}
