//! `top-nested` and `scan`.

mod common;

use common::rows;
use serde_json::json;

#[test]
fn top_nested_two_levels() {
    let query = r#"datatable(cat:string, sub:string, v:long)
        ["a","x",10, "a","y",20, "a","y",5, "b","x",30, "b","z",5, "c","x",1]
        | top-nested 2 of cat by Tot=sum(v), top-nested 1 of sub by SubTot=sum(v)
        | sort by cat asc"#;
    assert_eq!(
        rows(query),
        vec![
            vec![json!("a"), json!(35), json!("y"), json!(25)],
            vec![json!("b"), json!(35), json!("x"), json!(30)],
        ]
    );
}

#[test]
fn top_nested_default_names_and_asc() {
    let query = r#"datatable(cat:string, v:long)["a",10, "a",5, "b",20, "c",30]
        | top-nested 2 of cat by sum(v) asc | sort by cat asc"#;
    assert_eq!(
        rows(query),
        vec![vec![json!("a"), json!(15)], vec![json!("b"), json!(20)]]
    );
}

#[test]
fn top_nested_with_others() {
    let query = r#"datatable(cat:string, v:long)["a",10, "b",20, "c",30, "d",1]
        | top-nested 2 of cat with others = "rest" by s = sum(v) | sort by s desc"#;
    assert_eq!(
        rows(query),
        vec![
            vec![json!("c"), json!(30)],
            vec![json!("b"), json!(20)],
            vec![json!("rest"), json!(11)],
        ]
    );
}

#[test]
fn scan_cumulative_sum() {
    let query = r#"range x from 1 to 5 step 1
        | scan declare (c:long=0) with (step s1: true => c = x + s1.c;)"#;
    assert_eq!(
        rows(query),
        vec![
            vec![json!(1), json!(1)],
            vec![json!(2), json!(3)],
            vec![json!(3), json!(6)],
            vec![json!(4), json!(10)],
            vec![json!(5), json!(15)],
        ]
    );
}

#[test]
fn scan_sequences_with_match_ids() {
    let query = r#"datatable(t:long, e:string)
        [0,"A", 1,"Start", 2,"B", 3,"D", 4,"Stop", 6,"C", 8,"Start", 11,"E", 12,"Stop"]
        | sort by t asc
        | scan with_match_id=m with (
            step s1: e == "Start";
            step s2: e != "Start" and e != "Stop" and t - s1.t <= 5;
            step s3: e == "Stop" and t - s1.t <= 5;
        )
        | project t, m"#;
    assert_eq!(
        rows(query),
        vec![
            vec![json!(1), json!(0)],
            vec![json!(2), json!(0)],
            vec![json!(3), json!(0)],
            vec![json!(4), json!(0)],
            vec![json!(8), json!(1)],
            vec![json!(11), json!(1)],
            vec![json!(12), json!(1)],
        ]
    );
}

#[test]
fn scan_output_none_ends_a_session() {
    let query = r#"datatable(t:long)[0, 1, 3, 32, 36, 75]
        | sort by t asc
        | scan with_match_id=id declare (start:long) with (
            step in: true => start = iff(isnull(in.start), t, in.start);
            step end output=none: t - in.start > 30;
        )"#;
    assert_eq!(
        rows(query),
        vec![
            vec![json!(0), json!(0), json!(0)],
            vec![json!(1), json!(0), json!(0)],
            vec![json!(3), json!(0), json!(0)],
            vec![json!(32), json!(32), json!(1)],
            vec![json!(36), json!(32), json!(1)],
            vec![json!(75), json!(75), json!(2)],
        ]
    );
}
