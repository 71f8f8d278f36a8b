//! `parse`, `parse-where`, `parse-kv` and `search` on small datatables.

mod common;

use common::rows;
use serde_json::{json, Value};

#[test]
fn parse_simple_keeps_unmatched_rows() {
    let got = rows(
        r#"datatable(s:string)["name=alice age=30", "garbage"]
        | parse s with "name=" name " age=" age:long | project name, age"#,
    );
    assert_eq!(
        got,
        vec![
            vec![json!("alice"), json!(30)],
            vec![json!(""), Value::Null]
        ]
    );
}

#[test]
fn parse_last_string_column_is_greedy() {
    let got = rows(
        r#"datatable(s:string)["a~~b~~c"] | parse s with l:string "~~" r:string | project l, r"#,
    );
    assert_eq!(got, vec![vec![json!("a"), json!("b~~c")]]);
}

#[test]
fn parse_where_drops_rows_and_failed_conversions() {
    let got = rows(
        r#"datatable(s:string)["x=1", "x=abc", "nothing"]
        | parse-where s with "x=" x:long | project x"#,
    );
    assert_eq!(got, vec![vec![json!(1)]]);
}

#[test]
fn parse_regex_with_flags() {
    let got = rows(
        r#"datatable(s:string)["Name=Bob, Age=3, x"]
        | parse kind=regex flags=Ui s with * "name=" n ',' * | project n"#,
    );
    assert_eq!(got, vec![vec![json!("Bob")]]);
}

#[test]
fn parse_relaxed_nulls_only_bad_columns() {
    let got = rows(
        r#"datatable(s:string)["a=zz, b=5, end"]
        | parse kind=relaxed s with "a=" a:long ", b=" b:long * | project a, b"#,
    );
    assert_eq!(got, vec![vec![Value::Null, json!(5)]]);
}

#[test]
fn parse_replaces_existing_column_in_place() {
    let got = rows(r#"datatable(s:string, v:long)["v=7", 1] | parse s with "v=" v:long"#);
    assert_eq!(got, vec![vec![json!("v=7"), json!(7)]]);
}

#[test]
fn parse_kv_delimited_first_key_wins() {
    let got = rows(
        r#"datatable(s:string)[" a = 1 ; b = x y ; a = 3"]
        | parse-kv s as (a:long, b:string, c:string) with (pair_delimiter=';', kv_delimiter='=')
        | project a, b, c"#,
    );
    assert_eq!(got, vec![vec![json!(1), json!("x y"), json!("")]]);
}

#[test]
fn parse_kv_quotes_and_greedy() {
    let got = rows(
        r#"print str='name=John Doe phone=555 5555 q="a b"'
        | parse-kv str as (name:string, phone:string) with (pair_delimiter=' ', kv_delimiter='=', greedy=true)
        | project name, phone"#,
    );
    assert_eq!(got, vec![vec![json!("John Doe"), json!("555 5555")]]);
    let got = rows(
        r#"print str='k="a b" m=2'
        | parse-kv str as (k:string, m:long) with (pair_delimiter=' ', kv_delimiter='=', quote='"')
        | project k, m"#,
    );
    assert_eq!(got, vec![vec![json!("a b"), json!(2)]]);
}

#[test]
fn search_terms_and_wildcards() {
    let got = rows(
        r#"datatable(h:string, env:string)["web01","prod", "db02","dev", "web03","test"]
        | search "web*" and not("test") | project h"#,
    );
    assert_eq!(got, vec![vec![json!("web01")]]);
    let got = rows(r#"datatable(s:string)["Beta", "beta"] | search kind=case_sensitive "Beta""#);
    assert_eq!(got, vec![vec![json!("search_arg0"), json!("Beta")]]);
}

#[test]
fn search_as_source_adds_table_column() {
    let got = rows(
        r#"let A = view () { range X from 1 to 3 step 1 };
        search X == 2"#,
    );
    assert_eq!(got, vec![vec![json!("A"), json!(2)]]);
}
