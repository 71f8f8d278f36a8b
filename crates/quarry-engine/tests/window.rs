//! Window functions over serialized rows (`row_number`, `prev`, `next`, `row_cumsum`,
//! `row_rank_dense`, `row_rank_min`) and `make-series`.

mod common;

use common::rows;
use serde_json::{json, Value};

#[test]
fn row_number_follows_the_sort_order() {
    assert_eq!(
        rows("datatable(x:long)[5, 3, 1, 4, 2] | sort by x asc | extend rn = row_number() | project rn, x"),
        vec![
            vec![json!(1), json!(1)],
            vec![json!(2), json!(2)],
            vec![json!(3), json!(3)],
            vec![json!(4), json!(4)],
            vec![json!(5), json!(5)],
        ]
    );
}

#[test]
fn row_number_with_start_and_restart() {
    let query = r#"datatable (Airport:string, Airline:string, Departures:long)
        ["TLV", "LH", 1, "TLV", "LY", 100, "SEA", "LH", 1, "SEA", "BA", 2, "SEA", "LY", 0]
        | sort by Airport asc, Departures desc
        | extend Rank = row_number(1, prev(Airport) != Airport)
        | project Airline, Rank"#;
    assert_eq!(
        rows(query),
        vec![
            vec![json!("BA"), json!(1)],
            vec![json!("LH"), json!(2)],
            vec![json!("LY"), json!(3)],
            vec![json!("LY"), json!(1)],
            vec![json!("LH"), json!(2)],
        ]
    );
    assert_eq!(
        rows("range a from 1 to 3 step 1 | sort by a desc | extend rn = row_number(7)"),
        vec![
            vec![json!(3), json!(7)],
            vec![json!(2), json!(8)],
            vec![json!(1), json!(9)],
        ]
    );
}

#[test]
fn prev_and_next_with_offsets_and_defaults() {
    let query = "datatable(x:long)[1, 2, 3] | sort by x asc \
                 | serialize p = prev(x), n = next(x, 2, -1), s = prev(tostring(x))";
    assert_eq!(
        rows(query),
        vec![
            vec![json!(1), Value::Null, json!(3), json!("")],
            vec![json!(2), json!(1), json!(-1), json!("1")],
            vec![json!(3), json!(2), json!(-1), json!("2")],
        ]
    );
}

#[test]
fn serialize_keeps_the_input_order() {
    assert_eq!(
        rows("datatable(x:long)[30, 10, 20] | serialize rn = row_number(), p = prev(x)"),
        vec![
            vec![json!(30), json!(1), Value::Null],
            vec![json!(10), json!(2), json!(30)],
            vec![json!(20), json!(3), json!(10)],
        ]
    );
}

#[test]
fn row_cumsum_restarts() {
    let query = r#"datatable (name:string, month:int, salary:long)
        ["Alice", 1, 1000, "Bob", 1, 1000, "Alice", 2, 2000, "Bob", 2, 1950]
        | order by name asc, month asc
        | extend total = row_cumsum(salary, name != prev(name))
        | project total"#;
    assert_eq!(
        rows(query),
        vec![
            vec![json!(1000)],
            vec![json!(3000)],
            vec![json!(1000)],
            vec![json!(2950)],
        ]
    );
}

#[test]
fn row_ranks() {
    let query = "datatable(v:long)[2, 3, 3, 3, 100] | sort by v asc \
                 | extend d = row_rank_dense(v), m = row_rank_min(v) | project d, m";
    assert_eq!(
        rows(query),
        vec![
            vec![json!(1), json!(1)],
            vec![json!(2), json!(2)],
            vec![json!(2), json!(2)],
            vec![json!(2), json!(2)],
            vec![json!(3), json!(5)],
        ]
    );
}

#[test]
fn make_series_fills_empty_bins() {
    let query = "datatable(t:datetime, v:long, g:string)[datetime(2020-01-01),10,'a', \
                 datetime(2020-01-02),20,'b', datetime(2020-01-03),30,'a'] \
                 | make-series s = sum(v) default = 0 on t from datetime(2020-01-01) \
                 to datetime(2020-01-04) step 1d by g | sort by g asc";
    let axis = json!([
        "2020-01-01T00:00:00.0000000Z",
        "2020-01-02T00:00:00.0000000Z",
        "2020-01-03T00:00:00.0000000Z"
    ]);
    assert_eq!(
        rows(query),
        vec![
            vec![json!("a"), json!([10, 0, 30]), axis.clone()],
            vec![json!("b"), json!([0, 20, 0]), axis],
        ]
    );
    assert_eq!(
        rows(
            "datatable(x:long)[1, 2, 3, 4, 5] | make-series total = sum(x) on x from 1 to 5 step 1"
        ),
        vec![vec![json!([1, 2, 3, 4]), json!([1, 2, 3, 4])]]
    );
}
