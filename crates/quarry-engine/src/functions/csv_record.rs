//! `parse_csv(text)`: the fields of one CSV record (commas, double-quoted fields with `""` for a
//! quote) as a dynamic array of strings. Rules use it on lines of threat feeds read as text.

use super::dynamic::{row_call, scalar_str, RowFn};
use super::{check_arity, CallContext, FamilyResult, PlannedArg};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use serde_json::Value;

/// The functions this family implements.
pub(super) const NAMES: &[&str] = &["parse_csv"];

/// Plans `name(args)` if it belongs to this family.
pub(super) fn plan(name: &str, args: &[PlannedArg], ctx: &CallContext) -> FamilyResult {
    if name != "parse_csv" {
        return None;
    }
    Some(check_arity(name, args, 1, 1, ctx).map(|_| {
        let row: RowFn = parse_csv_row;
        row_call(name, DataType::LargeUtf8, row, vec![args[0].expr.clone()])
    }))
}

/// The first record of the text, as a JSON array of strings; a null text gives an empty array.
fn parse_csv_row(args: &[ScalarValue]) -> DfResult<ScalarValue> {
    let text = args.first().and_then(scalar_str).unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let fields: Vec<Value> = match reader.records().next() {
        Some(Ok(record)) => record
            .iter()
            .map(|f| Value::String(f.to_string()))
            .collect(),
        _ => Vec::new(),
    };
    Ok(ScalarValue::LargeUtf8(Some(
        Value::Array(fields).to_string(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> String {
        match parse_csv_row(&[ScalarValue::Utf8(Some(text.to_string()))]).unwrap() {
            ScalarValue::LargeUtf8(Some(json)) => json,
            other => panic!("not dynamic text: {other:?}"),
        }
    }

    #[test]
    fn fields_of_one_record() {
        assert_eq!(parsed("aa,\"b,b,b\",cc"), r#"["aa","b,b,b","cc"]"#);
        assert_eq!(
            parsed("a,\"say \"\"hi\"\"\",,"),
            r#"["a","say \"hi\"","",""]"#
        );
        assert_eq!(parsed("first\nsecond,record"), r#"["first"]"#);
        assert_eq!(parsed(""), "[]");
    }
}
