//! Finishing steps for aggregates computed as a collected list (`array_agg`): merging property
//! bags (`make_bag`) and `make_list`'s array. Percentiles are in `percentiles.rs`.

use super::dynamic::scalar_to_json;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, LargeStringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result as DfResult, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::Arc;

/// `make_bag(d)` over a list of JSON objects: one object with every key (the first value of a
/// key wins, as Kusto keeps the first).
pub(crate) fn merge_bags(list: Expr) -> Expr {
    ScalarUDF::new_from_impl(MergeBags {
        signature: Signature::any(1, Volatility::Immutable),
    })
    .call(vec![list])
}

/// `make_list(x, max_size)` over a collected list: a `dynamic` array of at most `max_size`
/// items, in which `dynamic` arrays contribute their elements and nulls stay `null`.
pub(crate) fn finish_list(list: Expr, max_size: usize) -> Expr {
    ScalarUDF::new_from_impl(FinishList {
        max_size,
        signature: Signature::any(1, Volatility::Immutable),
    })
    .call(vec![list])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FinishList {
    max_size: usize,
    signature: Signature,
}

impl ScalarUDFImpl for FinishList {
    fn name(&self) -> &str {
        "kql_make_list"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let lists = &arrays[0];
        let mut out = LargeStringBuilder::new();
        for row in 0..lists.len() {
            let mut list = Vec::new();
            if let Some(items) = list_items(lists, row)? {
                let dynamic = items.data_type() == &DataType::LargeUtf8;
                for i in 0..items.len() {
                    if list.len() >= self.max_size {
                        break;
                    }
                    if !items.is_valid(i) {
                        list.push(serde_json::Value::Null);
                    } else if dynamic {
                        let text = items.as_string::<i64>().value(i);
                        match serde_json::from_str(text) {
                            Ok(serde_json::Value::Array(elements)) => list.extend(elements),
                            Ok(value) => list.push(value),
                            Err(_) => list.push(serde_json::Value::String(text.to_string())),
                        }
                    } else {
                        let value = ScalarValue::try_from_array(&items, i)?;
                        list.push(scalar_to_json(&value).unwrap_or(serde_json::Value::Null));
                    }
                }
                list.truncate(self.max_size);
            }
            out.append_value(serde_json::Value::Array(list).to_string());
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MergeBags {
    signature: Signature,
}

impl ScalarUDFImpl for MergeBags {
    fn name(&self) -> &str {
        "kql_merge_bags"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::LargeUtf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let lists = &arrays[0];
        let mut out = LargeStringBuilder::new();
        for row in 0..lists.len() {
            let mut merged = serde_json::Map::new();
            if let Some(items) = list_items(lists, row)? {
                for i in 0..items.len() {
                    if !items.is_valid(i) {
                        continue;
                    }
                    let text = match items.data_type() {
                        DataType::LargeUtf8 => items.as_string::<i64>().value(i).to_string(),
                        DataType::Utf8 => items.as_string::<i32>().value(i).to_string(),
                        _ => continue,
                    };
                    if let Ok(serde_json::Value::Object(bag)) = serde_json::from_str(&text) {
                        for (key, value) in bag {
                            merged.entry(key).or_insert(value);
                        }
                    }
                }
            }
            out.append_value(serde_json::Value::Object(merged).to_string());
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// The items of list row `row`, or `None` for a null list.
pub(crate) fn list_items(lists: &ArrayRef, row: usize) -> DfResult<Option<ArrayRef>> {
    if lists.is_null(row) {
        return Ok(None);
    }
    match lists.data_type() {
        DataType::List(_) => Ok(Some(lists.as_list::<i32>().value(row))),
        DataType::LargeList(_) => Ok(Some(lists.as_list::<i64>().value(row))),
        other => exec_err!("expected a list, found {other}"),
    }
}
