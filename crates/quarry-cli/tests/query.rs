//! `quarry query` run as a program: usage errors, query errors and table files.

use std::process::{Command, Output};

/// Runs the built `quarry` in this crate's folder (so fixture paths are short and stable).
fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the quarry binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

/// Asserts exit code 2 with `needle` on stderr.
fn usage_error(args: &[&str], needle: &str) {
    let output = quarry(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: `{needle}` not in:\n{err}");
    assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
}

#[test]
fn usage_errors_exit_with_2() {
    usage_error(&["query"], "KQL");
    usage_error(&["query", "print 1", "-f", "q.kql"], "cannot be used with");
    usage_error(
        &["query", "-f", "tests/fixtures/none.kql"],
        "none.kql: no such file",
    );
    usage_error(
        &["query", "print 1", "--param", "novalue"],
        "expected NAME=VALUE",
    );
    usage_error(
        &["query", "print 1", "--now", "yesterday-ish"],
        "not a datetime",
    );
    usage_error(&["query", "print 1", "--format", "xml"], "xml");
    usage_error(
        &["query", "print 1", "--timeout", "0"],
        "positive number of seconds",
    );
    usage_error(&["query", "print 1", "--max-rows", "many"], "--max-rows");
    usage_error(&["query", "T", "--table", "T"], "expected NAME=VALUE");
    usage_error(
        &["query", "T", "--table", "T=tests/fixtures/none.csv"],
        "none.csv: no such file",
    );
    usage_error(
        &["query", "T", "--table", "T=tests/fixtures/notes.md"],
        "not a file `query` reads",
    );
}

#[test]
fn a_syntax_error_points_into_the_query() {
    let output = quarry(&["query", "print 1 |"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("<query>"), "{err}");
    assert!(err.contains("kql::"), "{err}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_syntax_error_in_a_file_names_the_file() {
    let output = quarry(&["query", "-f", "tests/fixtures/bad.kql"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains("tests/fixtures/bad.kql"), "{err}");
}

#[test]
fn a_csv_table_loads() {
    // Loading the table is not a usage error; whether the query runs depends on the planner.
    let output = quarry(&[
        "query",
        "Logons | take 1",
        "--table",
        "Logons=tests/fixtures/logons.csv",
        "--format",
        "json",
    ]);
    let err = stderr(&output);
    match output.status.code() {
        Some(0) => {
            let value: serde_json::Value =
                serde_json::from_slice(&output.stdout).expect("one JSON document");
            assert_eq!(value["columns"][0]["name"], "User", "{value}");
            assert_eq!(value["columns"][2]["type"], "datetime", "{value}");
        }
        Some(1) => assert!(
            err.contains("error") || err.contains("not supported"),
            "{err}"
        ),
        other => panic!("exit code {other:?}: {err}"),
    }
}

#[test]
fn help_has_examples() {
    let output = quarry(&["query", "--help"]);
    let out = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(out.contains("Examples:"), "{out}");
    assert!(out.contains("--table"), "{out}");
}

#[test]
fn explain_prints_the_three_plans_and_runs_nothing() {
    let output = quarry(&[
        "query",
        "--explain",
        "range x from 1 to 10 step 1 | where x > 5 | summarize count()",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let out = String::from_utf8(output.stdout).expect("stdout is UTF-8");
    let logical = out.find("== logical plan (from KQL) ==").expect(&out);
    let optimised = out.find("== optimised logical plan ==").expect(&out);
    let physical = out.find("== physical plan ==").expect(&out);
    assert!(logical < optimised && optimised < physical, "{out}");
    assert!(out.contains("Aggregate"), "{out}");
    assert!(out[physical..].contains("AggregateExec"), "{out}");
    assert!(!out.contains("Count\n"), "no result table: {out}");
}
