//! `mv-expand … | summarize …` counts equal input rows once before expanding them (see
//! `planner/counted_expand.rs`). Every query here runs twice: as written, and with a `where`
//! between the two operators, which plans them one by one. Both must give the same columns
//! and rows, over values that repeat, nulls, empty arrays, scalars and property bags.

mod common;

use common::session_with_table;
use datafusion::arrow::array::{Int64Array, LargeStringArray, StringArray};
use quarry_engine::format::json_rows;
use quarry_engine::Session;
use std::sync::Arc;

const ROWS: usize = 5_000;

/// Row `i`'s `Fields` bag: a handful of shapes, so that rows repeat.
fn fields(i: usize) -> Option<String> {
    match i % 9 {
        0 => None,
        1 => Some(r#"{"Tags":[],"Ids":[1]}"#.to_string()),
        2 => Some(r#"{"Tags":"single","Ids":[]}"#.to_string()),
        3 => Some(r#"{"Other":true}"#.to_string()),
        k => Some(format!(
            r#"{{"Tags":["t{k}","t{}","shared"],"Ids":[{k},{}],"Nested":{{"a":{k}}}}}"#,
            k % 3,
            k * 10
        )),
    }
}

fn session_with_events() -> Session {
    session_with_table(
        "E",
        vec![
            (
                "Device",
                Arc::new(StringArray::from_iter_values(
                    (0..ROWS).map(|i| format!("dev{}", i % 13)),
                )),
            ),
            (
                "Fields",
                Arc::new(LargeStringArray::from(
                    (0..ROWS).map(fields).collect::<Vec<_>>(),
                )),
            ),
            (
                "N",
                Arc::new(Int64Array::from_iter_values(
                    (0..ROWS as i64).map(|n| n % 211),
                )),
            ),
        ],
    )
}

/// The column names and the rows (sorted) of `query`.
fn result(session: &Session, query: &str) -> (Vec<String>, Vec<String>) {
    let output = session
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let names = output
        .schema
        .fields()
        .iter()
        .map(|f| format!("{}:{}", f.name(), f.data_type()))
        .collect();
    let mut rows: Vec<String> = json_rows(&output)
        .iter()
        .map(|row| serde_json::Value::Array(row.clone()).to_string())
        .collect();
    rows.sort();
    (names, rows)
}

/// (mv-expand, summarize) pairs whose results must not change when rows are counted first.
const QUERIES: &[(&str, &str)] = &[
    (
        "mv-expand Tag = parse_json(Fields).Tags",
        "summarize Count = count() by Tag = tostring(Tag)",
    ),
    (
        "mv-expand Tag = parse_json(Fields).Tags to typeof(string)",
        "summarize count(), Devices = dcount(Device), Big = countif(N > 100), First = min(N), \
         Sets = make_set(Device) by Tag",
    ),
    ("mv-expand Fields", "summarize count() by tostring(Fields)"),
    (
        "mv-expand kind=array Pair = parse_json(Fields)",
        "summarize count() by tostring(Pair)",
    ),
    (
        "mv-expand Tag = parse_json(Fields).Tags limit 1",
        "summarize count() by Device, tostring(Tag)",
    ),
    (
        "mv-expand Tag = parse_json(Fields).Tags, Id = parse_json(Fields).Ids",
        "summarize count(), countif(N % 2 == 0) by tostring(Tag), tolong(Id)",
    ),
    (
        "mv-expand Tag = parse_json(Fields).Tags",
        "summarize Share = count() * 100 / dcount(Device) by tostring(Tag)",
    ),
    (
        "mv-expand Tag = parse_json(Fields).Tags",
        "summarize count(), dcount(tostring(Tag))",
    ),
    (
        "mv-expand Tag = parse_json(Fields).Tags",
        "summarize Devices = dcountif(Device, N < 50) by bin(N, 100), tostring(Tag)",
    ),
];

#[test]
fn counting_before_expanding_gives_the_same_columns_and_rows() {
    let session = session_with_events();
    for source in ["E", "E | where N < 0"] {
        for (expand, summarize) in QUERIES {
            let counted = format!("{source} | {expand} | {summarize}");
            let one_by_one = format!("{source} | {expand} | where true | {summarize}");
            let expected = result(&session, &one_by_one);
            assert!(
                source != "E" || !expected.1.is_empty(),
                "{one_by_one} gave no rows"
            );
            assert_eq!(result(&session, &counted), expected, "{counted}");
        }
    }
}

#[test]
fn rows_are_counted_before_expanding_only_when_the_aggregates_allow_it() {
    let session = session_with_events();
    let plan = |query: &str| {
        session
            .logical_plan(query)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .display_indent()
            .to_string()
    };
    let counted =
        plan("E | mv-expand Tag = parse_json(Fields).Tags | summarize count() by tostring(Tag)");
    // The count of equal rows happens below the expansion.
    let unnest = counted.find("Unnest").expect("an Unnest node");
    let rows = counted.find("AS __rows").expect("a row count");
    assert!(unnest < rows, "the rows are not counted first:\n{counted}");
    for query in [
        "E | mv-expand Tag = parse_json(Fields).Tags | summarize sum(N) by tostring(Tag)",
        "E | mv-expand Tag = parse_json(Fields).Tags | summarize make_list(Device) by tostring(Tag)",
        "E | mv-expand with_itemindex=I Tag = parse_json(Fields).Tags | summarize count() by I",
        "E | mv-expand Tag = parse_json(Fields).Tags | summarize make_set(pack_all())",
        "E | mv-expand Tag = parse_json(Fields).Tags | summarize tostring(sum(N)) by tostring(Tag)",
    ] {
        let plan = plan(query);
        assert!(!plan.contains("__rows"), "{query} was rewritten:\n{plan}");
    }
}
