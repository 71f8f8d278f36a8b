//! `mv-expand`, `mv-apply` and the `evaluate` plugins `bag_unpack` and `pivot`.

mod common;

use common::{rows, session};
use quarry_engine::format::json_rows;
use serde_json::{json, Value};

/// The result rows as a multiset (sorted by their JSON text).
fn sorted_rows(query: &str) -> Vec<Vec<Value>> {
    let mut rows = rows(query);
    rows.sort_by_key(|row| serde_json::to_string(row).unwrap());
    rows
}

fn sorted(mut rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    rows.sort_by_key(|row| serde_json::to_string(row).unwrap());
    rows
}

fn column_names(query: &str) -> Vec<String> {
    let output = session()
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    output
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

#[test]
fn mv_expand_arrays_nulls_empty_arrays_and_scalars() {
    let query = r#"datatable(k:long, d:dynamic)
        [1, dynamic([10, 20]), 2, dynamic([]), 3, dynamic(null), 4, dynamic(5), 5, dynamic(["a", null])]
        | mv-expand d"#;
    assert_eq!(column_names(query), vec!["k", "d"]);
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!(1), json!(10)],
            vec![json!(1), json!(20)],
            vec![json!(3), Value::Null],
            vec![json!(4), json!(5)],
            vec![json!(5), json!("a")],
            vec![json!(5), Value::Null],
        ])
    );
}

#[test]
fn mv_expand_keeps_the_column_position() {
    let query = r#"datatable(a:dynamic, b:long)[dynamic([1, 2]), 7] | mv-expand a | extend c = 1"#;
    assert_eq!(column_names(query), vec!["a", "b", "c"]);
}

#[test]
fn mv_expand_property_bags() {
    let bag = r#"datatable(d:dynamic)[dynamic({"x": 1, "y": "two"})]"#;
    assert_eq!(
        sorted_rows(&format!("{bag} | mv-expand d")),
        sorted(vec![vec![json!({"x": 1})], vec![json!({"y": "two"})]])
    );
    assert_eq!(
        sorted_rows(&format!("{bag} | mv-expand bagexpansion=array d")),
        sorted(vec![vec![json!(["x", 1])], vec![json!(["y", "two"])]])
    );
    assert_eq!(
        sorted_rows(&format!("{bag} | mv-expand kind=array d")),
        sorted(vec![vec![json!(["x", 1])], vec![json!(["y", "two"])]])
    );
}

#[test]
fn mv_expand_zips_several_columns() {
    let query = r#"datatable(a:int, b:dynamic, c:dynamic)[1, dynamic(["x", "y"]), dynamic([5, 4, 3])]
        | mv-expand b, c"#;
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!(1), json!("x"), json!(5)],
            vec![json!(1), json!("y"), json!(4)],
            vec![json!(1), Value::Null, json!(3)],
        ])
    );
}

#[test]
fn mv_expand_named_items_typed_with_index_and_limit() {
    let query = r#"print arr = dynamic([10, 20, 30, 40])
        | mv-expand with_itemindex=i v = arr to typeof(long) limit 3
        | project i, v, twice = v * 2"#;
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!(0), json!(10), json!(20)],
            vec![json!(1), json!(20), json!(40)],
            vec![json!(2), json!(30), json!(60)],
        ])
    );
    let names = column_names(
        "print arr = dynamic([1]), k = 1 | mv-expand with_itemindex=i v = arr to typeof(string)",
    );
    assert_eq!(names, vec!["arr", "k", "v", "i"]);
    assert_eq!(
        rows("print d = dynamic([1, 2]) | mv-expand d to typeof(int) | getschema | project ColumnType"),
        vec![vec![json!("int")]]
    );
    assert_eq!(
        rows(
            r#"print s = "a,b" | mv-expand p = split(s, ",") to typeof(string) | summarize make_list(p)"#
        ),
        vec![vec![json!(["a", "b"])]]
    );
}

#[test]
fn mv_expand_deprecated_spelling() {
    assert_eq!(
        rows("print d = dynamic([1, 2, 3]) | mvexpand d | count"),
        vec![vec![json!(3)]]
    );
}

#[test]
fn mv_apply_summarize_per_record() {
    let query = r#"datatable(g:string, lst:dynamic)["a", dynamic([1, 2]), "b", dynamic([3, 4, 5])]
        | mv-apply x = lst to typeof(long) on (summarize s = sum(x), n = count())"#;
    assert_eq!(column_names(query), vec!["g", "lst", "s", "n"]);
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!("a"), json!([1, 2]), json!(3), json!(2)],
            vec![json!("b"), json!([3, 4, 5]), json!(12), json!(3)],
        ])
    );
}

#[test]
fn mv_apply_top_and_take_per_record() {
    let query = r#"datatable(r:int, Arr:dynamic)[0, dynamic([5, 1, 3]), 1, dynamic([4, 10, 8, 7])]
        | mv-apply v = Arr to typeof(long) on (top 2 by v | summarize Top2 = make_list(v))
        | project r, Top2 = array_sort_desc(Top2)"#;
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!(0), json!([5, 3])],
            vec![json!(1), json!([10, 8])],
        ])
    );
    let take = r#"datatable(r:int, Arr:dynamic)[0, dynamic([5, 1, 3]), 1, dynamic([4])]
        | mv-apply v = Arr on (take 2) | summarize count() by r"#;
    assert_eq!(
        sorted_rows(take),
        sorted(vec![vec![json!(0), json!(2)], vec![json!(1), json!(1)]])
    );
}

#[test]
fn mv_apply_where_with_item_index() {
    let query = r#"datatable(row:int, Arr:dynamic)[0, dynamic([5, 1, 3]), 1, dynamic([4, 10, 8, 7])]
        | mv-apply with_itemindex=index value = Arr to typeof(long) on (where index >= 2)"#;
    assert_eq!(column_names(query), vec!["row", "Arr", "value", "index"]);
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!(0), json!([5, 1, 3]), json!(3), json!(2)],
            vec![json!(1), json!([4, 10, 8, 7]), json!(8), json!(2)],
            vec![json!(1), json!([4, 10, 8, 7]), json!(7), json!(3)],
        ])
    );
}

#[test]
fn mv_apply_keeps_records_apart_after_an_aggregation() {
    // The input is itself an aggregation, whose row order is not fixed.
    let query = r#"datatable(g:string, v:long)["a", 1, "a", 2, "b", 3, "b", 4, "c", 9]
        | summarize total = sum(v), lst = make_list(v) by g
        | mv-apply x = lst to typeof(long) on (summarize mx = max(x))
        | project g, total, mx"#;
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!("a"), json!(3), json!(2)],
            vec![json!("b"), json!(7), json!(4)],
            vec![json!("c"), json!(9), json!(9)],
        ])
    );
}

#[test]
fn mv_apply_rejects_unsupported_subquery_operators() {
    let error = session()
        .run_blocking("print d = dynamic([1]) | mv-apply d on (join (print x = 1) on x)")
        .err()
        .unwrap_or_else(|| panic!("expected an error"));
    assert!(error.to_string().contains("not supported"), "{error}");
}

#[test]
fn bag_unpack_takes_columns_from_the_data() {
    let query = r#"datatable(d:dynamic)
        [dynamic({"Name": "John", "Age": 20}), dynamic({"Name": "Dave", "Height": 170, "Age": 40})]
        | evaluate bag_unpack(d)"#;
    assert_eq!(column_names(query), vec!["Age", "Height", "Name"]);
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!(20), Value::Null, json!("John")],
            vec![json!(40), json!(170), json!("Dave")],
        ])
    );
}

#[test]
fn bag_unpack_prefix_ignored_properties_and_mixed_types() {
    let query = r#"datatable(k:long, d:dynamic)[1, dynamic({"a": 1, "b": "x", "c": 3}), 2, dynamic({"a": "y"})]
        | evaluate bag_unpack(d, 'p_', ignoredProperties=dynamic(['c']))"#;
    assert_eq!(column_names(query), vec!["k", "p_a", "p_b"]);
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!(1), json!(1), json!("x")],
            vec![json!(2), json!("y"), json!("")],
        ])
    );
}

#[test]
fn bag_unpack_with_an_output_schema() {
    let query = r#"datatable(k:long, d:dynamic)[1, dynamic({"a": 1, "b": "x"})]
        | evaluate bag_unpack(d) : (k:long, a:long)"#;
    assert_eq!(column_names(query), vec!["k", "a"]);
    assert_eq!(rows(query), vec![vec![json!(1), json!(1)]]);
}

#[test]
fn bag_unpack_runs_inside_a_current_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let session = session();
    let output = runtime
        .block_on(session.run(r#"print d = dynamic({"x": 1, "y": 2}) | evaluate bag_unpack(d)"#))
        .expect("the query runs");
    assert_eq!(json_rows(&output), vec![vec![json!(1), json!(2)]]);
}

#[test]
fn pivot_counts_by_default() {
    let query = r#"datatable(State:string, EventType:string)
        ["AL", "Wind", "AL", "Wind", "AK", "Wind", "AK", "Snow"]
        | evaluate pivot(State)"#;
    assert_eq!(column_names(query), vec!["EventType", "AK", "AL"]);
    assert_eq!(
        sorted_rows(query),
        sorted(vec![
            vec![json!("Snow"), json!(1), json!(0)],
            vec![json!("Wind"), json!(1), json!(2)],
        ])
    );
}

#[test]
fn pivot_with_an_aggregate() {
    let query = r#"datatable(State:string, EventType:string, Deaths:long)
        ["AL", "Wind", 1, "AL", "Wind", 2, "AK", "Wind", 5]
        | evaluate pivot(State, sum(Deaths))"#;
    assert_eq!(column_names(query), vec!["EventType", "AK", "AL"]);
    assert_eq!(rows(query), vec![vec![json!("Wind"), json!(5), json!(3)]]);
}

#[test]
fn external_plugins_are_refused() {
    let error = session()
        .run_blocking(r#"print 1 | evaluate sql_request("Server=x", "select 1")"#)
        .err()
        .unwrap_or_else(|| panic!("expected an error"));
    let text = error.to_string();
    assert!(
        text.contains("sql_request") && text.contains("external SQL server"),
        "{text}"
    );
    let error = session()
        .run_blocking("print x = 1 | evaluate autocluster()")
        .err()
        .unwrap_or_else(|| panic!("expected an error"));
    assert!(
        error.to_string().contains("evaluate plugin autocluster"),
        "{error}"
    );
}

/// `mv-expand parse_json(s).key` (read and expanded in one pass) gives what expanding the
/// property after computing it gives, for arrays, missing keys, JSON nulls, scalars, bags, text
/// that is not JSON and nested paths.
#[test]
fn mv_expand_of_a_parsed_property_matches_the_two_step_form() {
    let data = r#"datatable(k:long, s:string)[
        1, '{"Tags": ["a", "b"], "x": 1}',
        2, '{"x": 1}',
        3, '{"Tags": null}',
        4, '{"Tags": "solo"}',
        5, '{"Tags": {"p": 1, "q": [2]}}',
        6, 'not json',
        7, '{"Tags": [], "y": 2}',
        8, '{"Tags": ["dup"], "Tags": ["last", "one"]}',
        9, '{"Outer": {"Tags": ["deep"]}}']"#;
    for path in [
        "parse_json(s).Tags",
        "parse_json(s)['Tags']",
        "parse_json(s).Outer.Tags",
    ] {
        let fused = sorted_rows(&format!(
            "{data} | mv-expand T = {path} | project k, T = tostring(T)"
        ));
        let two_step = sorted_rows(&format!(
            "{data} | extend P = {path} | mv-expand T = P | project k, T = tostring(T)"
        ));
        assert_eq!(fused, two_step, "{path}");
    }
    assert_eq!(
        sorted_rows(&format!(
            "{data} | mv-expand T = parse_json(s).Tags | project k, T = tostring(T)"
        )),
        sorted(vec![
            vec![json!(1), json!("a")],
            vec![json!(1), json!("b")],
            vec![json!(2), json!("")],
            vec![json!(3), json!("")],
            vec![json!(4), json!("solo")],
            vec![json!(5), json!(r#"{"p":1}"#)],
            vec![json!(5), json!(r#"{"q":[2]}"#)],
            vec![json!(6), json!("")],
            vec![json!(8), json!("last")],
            vec![json!(8), json!("one")],
            vec![json!(9), json!("")],
        ])
    );
}
