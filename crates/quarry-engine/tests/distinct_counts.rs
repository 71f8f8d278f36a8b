//! Several `dcount`s of different string columns in one `summarize` count 64-bit keys of the
//! values (DataFusion's vectorised distinct count of integers) instead of per-group sets of
//! strings. The counts must equal those of each `dcount` alone, which takes the exact
//! group-by path, for `Utf8`, `Utf8View` and `dynamic` columns, with nulls, empty strings and
//! `dcountif` filters.

mod common;

use common::{session_with_table, string_array};
use datafusion::arrow::array::{Int64Array, LargeStringArray};
use datafusion::arrow::datatypes::DataType;
use quarry_engine::format::json_rows;
use quarry_engine::Session;
use std::sync::Arc;

const ROWS: usize = 6_000;

/// Row `i`'s text from a pool of `distinct` values, with nulls and empty strings among them.
fn text(i: usize, distinct: usize, salt: &str) -> Option<String> {
    match (i * 7 + i / 13) % distinct {
        0 => None,
        1 => Some(String::new()),
        k => Some(format!("{salt}-{k}-{}", "x".repeat(k % 20))),
    }
}

fn session_with(string_type: DataType) -> Session {
    let strings = |values: Vec<Option<String>>| string_array(&values, &string_type);
    session_with_table(
        "E",
        vec![
            // Groups with distinct, non-empty names, so that rows sort the same in every query.
            (
                "G",
                strings((0..ROWS).map(|i| Some(format!("g{}", i / 3 % 7))).collect()),
            ),
            (
                "Device",
                strings((0..ROWS).map(|i| text(i, 97, "wks")).collect()),
            ),
            (
                "Hash",
                strings((0..ROWS).map(|i| text(i * 31 + 5, 2_500, "h")).collect()),
            ),
            (
                "Bag",
                Arc::new(LargeStringArray::from(
                    (0..ROWS)
                        .map(|i| text(i, 11, "b").map(|t| format!("{{\"k\":\"{t}\"}}")))
                        .collect::<Vec<_>>(),
                )),
            ),
            (
                "N",
                Arc::new(Int64Array::from_iter_values(
                    (0..ROWS as i64).map(|n| n % 450),
                )),
            ),
        ],
    )
}

fn rows(session: &Session, query: &str) -> Vec<Vec<serde_json::Value>> {
    let output = session
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut rows = json_rows(&output);
    rows.sort_by_key(|row| row[0].to_string());
    rows
}

const AGGREGATES: &[(&str, &str)] = &[
    ("Devices", "dcount(Device)"),
    ("Hashes", "dcount(Hash)"),
    ("Numbers", "dcount(N)"),
    ("Bags", "dcount(Bag)"),
    ("EvenHashes", "dcountif(Hash, N % 2 == 0)"),
    ("Rows", "count()"),
];

#[test]
fn several_distinct_counts_equal_each_one_alone() {
    for string_type in [DataType::Utf8, DataType::Utf8View] {
        let session = session_with(string_type.clone());
        let all = AGGREGATES
            .iter()
            .map(|(name, call)| format!("{name} = {call}"))
            .collect::<Vec<_>>()
            .join(", ");
        let together = format!("E | summarize {all} by G");
        let plan = format!(
            "{}",
            session.logical_plan(&together).unwrap().display_indent()
        );
        assert!(plan.contains("dcount_key"), "{plan}");
        let combined = rows(&session, &together);
        assert_eq!(combined.len(), 7, "{string_type}: groups {combined:?}");
        for (column, (name, call)) in AGGREGATES.iter().enumerate() {
            let alone = format!("E | summarize {name} = {call} by G");
            let plan = format!("{}", session.logical_plan(&alone).unwrap().display_indent());
            assert!(!plan.contains("dcount_key"), "{plan}");
            let expected = rows(&session, &alone);
            let got: Vec<Vec<serde_json::Value>> = combined
                .iter()
                .map(|row| vec![row[0].clone(), row[column + 1].clone()])
                .collect();
            assert_eq!(got, expected, "{string_type}: {call}");
        }
        // The counts are not trivial: many hashes per group, and the filter matters.
        let hashes = combined[3][2].as_i64().unwrap();
        let even = combined[3][5].as_i64().unwrap();
        assert!(hashes > 300 && even < hashes, "{combined:?}");
    }
}
