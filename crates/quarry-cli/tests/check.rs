//! `quarry check` run as a program on the fixtures in `tests/fixtures`.

use std::path::{Path, PathBuf};
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

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

fn json(args: &[&str]) -> (Output, serde_json::Value) {
    let output = quarry(args);
    let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is one JSON document ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (output, value)
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

#[test]
fn a_good_file_parses() {
    let output = quarry(&["check", "tests/fixtures/good.kql"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}{}", stderr(&output));
    assert_eq!(
        out,
        "planned 1 of 1 queries (0 not supported yet, 0 errors)\nparsed 1 of 1 queries\n"
    );

    // --syntax only parses: no planning line.
    let output = quarry(&["check", "tests/fixtures/good.kql", "--syntax"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "parsed 1 of 1 queries\n");
}

#[test]
fn an_unknown_column_is_a_plan_error_with_a_suggestion() {
    let path = "tests/fixtures/plan/unknown-column.kql";
    let output = quarry(&["check", path]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.ends_with(
            "planned 0 of 1 queries (0 not supported yet, 1 errors)\nparsed 1 of 1 queries\n"
        ),
        "{out}"
    );
    assert!(out.contains("did you mean `Account`?"), "{out}");
    assert!(out.contains(&format!("[{path}:4:35]")), "{out}");

    let (_, value) = json(&["check", path, "--format", "json"]);
    let query = &value["files"][0]["queries"][0];
    assert_eq!(query["ok"], false);
    assert_eq!(query["plan"]["status"], "error");
    assert_eq!(query["plan"]["code"], "quarry::unknown-column");
    let diagnostic = &query["diagnostics"][0];
    assert_eq!(diagnostic["code"], "quarry::unknown-column");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["line"], 4);
    assert_eq!(diagnostic["column"], 35);
    assert_eq!(diagnostic["help"], "did you mean `Account`?");
    assert_eq!(value["plan_errors"], 1);

    // With --syntax the query is only parsed, and it parses.
    let (output, value) = json(&["check", path, "--syntax", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(value["files"][0]["queries"][0]["plan"]["status"], "skipped");
    assert_eq!(value["planned"], 0);
}

#[test]
fn an_unknown_table_is_reported_as_such() {
    let (output, value) = json(&[
        "check",
        "tests/fixtures/plan/unknown-table.kql",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let query = &value["files"][0]["queries"][0];
    assert_eq!(query["plan"]["code"], "quarry::unknown-table");
    assert_eq!(
        query["diagnostics"][0]["help"],
        "did you mean `SecurityEvent`?"
    );
}

#[test]
fn run_reports_what_fails_only_when_a_plan_runs() {
    let external = "tests/fixtures/plan/external.kql";
    let planned = quarry(&["check", external]);
    assert_eq!(planned.status.code(), Some(0), "{}", stdout(&planned));
    let (output, value) = json(&["check", "--run", external, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let plan = &value["files"][0]["queries"][0]["plan"];
    assert_eq!(plan["code"], "quarry::run-error");
    let message = plan["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("/nonexistent/quarry-watchlist.csv") && message.contains("cannot read"),
        "{message}"
    );
}

#[test]
fn run_reads_a_network_source_as_an_empty_table() {
    let network = "tests/fixtures/plan/network.kql";
    let output = quarry(&["check", "--run", network]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn unsupported_features_warn_but_do_not_fail() {
    let paths = [
        "tests/fixtures/plan/find.kql",
        "tests/fixtures/plan/template-rule.yaml",
    ];
    let mut args = vec!["check"];
    args.extend(paths);
    let output = quarry(&args);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(
        out.ends_with(
            "planned 0 of 2 queries (2 not supported yet, 0 errors)\nparsed 2 of 2 queries\n"
        ),
        "{out}"
    );
    assert!(out.contains("quarry::not-supported"), "{out}");
    assert!(!out.contains('×'), "no error: {out}");

    args.extend(["--format", "json"]);
    let (_, value) = json(&args);
    assert_eq!(value["unsupported"], 2);
    assert_eq!(value["planned"], 0);
    assert_eq!(value["plan_errors"], 0);
    let find = &value["files"][0]["queries"][0];
    assert_eq!(find["ok"], true);
    assert_eq!(find["plan"]["status"], "unsupported");
    assert_eq!(find["plan"]["feature"], "operator find", "{find:#}");
    let warning = not_supported(find);
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["line"], 2);

    // The placeholder is reported where it is in the YAML file (query line 2 is file line 11).
    let template = &value["files"][1]["queries"][0];
    assert_eq!(template["plan"]["status"], "unsupported");
    assert_eq!(template["plan"]["feature"], "rule template placeholders");
    let warning = not_supported(template);
    assert_eq!(warning["line"], 11);
    assert_eq!(warning["column"], 34);

    let features = value["unsupported_features"].as_array().expect("a list");
    assert_eq!(features.len(), 2, "{features:#?}");
    assert!(features.iter().all(|f| f["count"] == 1), "{features:#?}");
}

/// The `quarry::not-supported` diagnostic of a JSON query.
fn not_supported(query: &serde_json::Value) -> &serde_json::Value {
    query["diagnostics"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["code"] == "quarry::not-supported"))
        .unwrap_or_else(|| panic!("a not-supported diagnostic: {query:#}"))
}

#[test]
fn a_bad_file_fails_with_two_errors_pointing_into_it() {
    let path = "tests/fixtures/bad.kql";
    let output = quarry(&["check", path]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert_eq!(last_line(&out), "parsed 0 of 1 queries");
    assert!(!out.contains('\u{1b}'), "no colour when not on a terminal");

    // Two errors: nothing after `==` (line 2), a trailing comma after `by Account,` (line 3).
    // Where exactly the parser reports them (the end of the line or the next token) is its
    // business; each must be in the JSON and have a `path:line:column` header in the text.
    let (_, value) = json(&["check", path, "--format", "json"]);
    let diagnostics = value["files"][0]["queries"][0]["diagnostics"]
        .as_array()
        .expect("a diagnostics array");
    assert_eq!(diagnostics.len(), 2, "{value:#}");
    for (diagnostic, lines) in diagnostics.iter().zip([2..=3, 3..=4]) {
        let line = diagnostic["line"].as_u64().expect("a line");
        assert!(lines.contains(&line), "{diagnostic:#}");
        assert_eq!(diagnostic["severity"], "error");
        let header = format!("[{path}:{line}:{}]", diagnostic["column"]);
        assert!(out.contains(&header), "{header} in:\n{out}");
    }
}

#[test]
fn a_yaml_rule_diagnostic_points_at_the_file_line() {
    let path = "tests/fixtures/bad-rule.yaml";
    let (output, value) = json(&["check", path, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let diagnostic = &value["files"][0]["queries"][0]["diagnostics"][0];

    // The same diagnostic computed here: parse the query, map its span into the file.
    let file_text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("fixture");
    let rule_query = quarry_rules::sentinel::read_rule_query(&file_text)
        .expect("valid YAML")
        .expect("a query");
    let parsed = quarry_kql::parse(&rule_query.text);
    let first = parsed.diagnostics.first().expect("the query has an error");
    let start = rule_query.file_offset(first.span.start);
    let (line, column) = quarry_kql::line_col(&file_text, start);
    assert_eq!(diagnostic["start"], start, "{diagnostic:#}");
    assert_eq!(diagnostic["line"], line);
    assert_eq!(diagnostic["column"], column);
    assert_eq!(diagnostic["code"], first.code);
    // The query starts on file line 10; the broken `in (` list is on its third line, file line 12,
    // and the parser notices the missing `)` there or at the next line.
    assert!((12..=13).contains(&line), "line {line}: {diagnostic:#}");

    let text = stdout(&quarry(&["check", path]));
    assert!(
        text.contains(&format!("[{path}:{line}:{column}]")),
        "the text header names the file line:\n{text}"
    );
}

#[test]
fn malformed_yaml_is_a_failed_query_with_its_position() {
    let path = "tests/fixtures/malformed.yaml";
    let output = quarry(&["check", path]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert_eq!(last_line(&out), "parsed 0 of 1 queries");
    assert!(out.contains("yaml::invalid"), "{out}");

    let (_, value) = json(&["check", path, "--format", "json"]);
    let diagnostic = &value["files"][0]["queries"][0]["diagnostics"][0];
    assert_eq!(diagnostic["code"], "yaml::invalid");
    assert_eq!(diagnostic["severity"], "error");
    let line = diagnostic["line"].as_u64().expect("a line number");
    assert!((3..=4).contains(&line), "{diagnostic:#}");
    assert!(out.contains(&format!("[{path}:{line}:")), "{out}");
}

#[test]
fn a_folder_is_searched_and_yaml_without_a_query_is_skipped() {
    let output = quarry(&["check", "tests/fixtures"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    // good.kql, bad.kql, bad-rule.yaml, malformed.yaml and the six under plan/; not
    // no-query.yaml, not notes.md.
    assert_eq!(last_line(&out), "parsed 7 of 10 queries");
    assert!(!out.contains("no-query.yaml"), "{out}");
}

#[test]
fn json_document_shape() {
    let (output, value) = json(&[
        "check",
        "tests/fixtures/good.kql",
        "tests/fixtures/bad.kql",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(value["parsed"], 1);
    assert_eq!(value["total"], 2);
    assert_eq!(value["planned"], 1);
    assert_eq!(value["unsupported"], 0);
    assert_eq!(value["plan_errors"], 0);
    assert_eq!(value["unsupported_features"], serde_json::json!([]));
    let files = value["files"].as_array().expect("files");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["path"], "tests/fixtures/good.kql");
    assert_eq!(files[0]["queries"][0]["ok"], true);
    assert_eq!(files[0]["queries"][0]["diagnostics"], serde_json::json!([]));
    assert_eq!(files[1]["path"], "tests/fixtures/bad.kql");
    assert_eq!(
        files[0]["queries"][0]["plan"],
        serde_json::json!({"status": "ok", "code": null, "message": null, "feature": null})
    );
    assert_eq!(files[1]["queries"][0]["ok"], false);
    assert_eq!(files[1]["queries"][0]["plan"]["status"], "skipped");
    let diagnostic = files[1]["queries"][0]["diagnostics"][0]
        .as_object()
        .expect("a diagnostic object");
    let mut keys: Vec<&str> = diagnostic.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = [
        "code",
        "severity",
        "message",
        "line",
        "column",
        "end_line",
        "end_column",
        "start",
        "end",
        "label",
        "help",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert!(diagnostic["code"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(diagnostic["severity"], "error");
    assert!(diagnostic["start"].as_u64() <= diagnostic["end"].as_u64());
    // One document, nothing after it.
    assert_eq!(stdout(&output).lines().count(), 1);
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let output = quarry(&["check", "tests/fixtures/good.kql", "no/such/file.kql"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "", "nothing is checked");
    assert!(
        stderr(&output).contains("no/such/file.kql: no such file or folder"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unsupported_file_is_a_usage_error() {
    let output = quarry(&["check", "tests/fixtures/notes.md"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("notes.md"), "{}", stderr(&output));
}

#[test]
fn clap_usage_errors_exit_2() {
    assert_eq!(quarry(&["check"]).status.code(), Some(2));
    assert_eq!(
        quarry(&["check", "--format", "xml", "x.kql"]).status.code(),
        Some(2)
    );
    assert_eq!(quarry(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn help_has_examples_and_is_honest_about_syntax() {
    let output = quarry(&["check", "--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("--syntax"), "{help}");
    assert!(help.contains("bound and planned"), "{help}");
    assert!(help.contains("it does not fail the check"), "{help}");
    assert!(stdout(&quarry(&["--help"])).contains("Examples:"));
}

/// A rule with a BOM and CRLF line endings, written at run time so that no tool converts them.
#[test]
fn bom_and_crlf_rules_map_to_the_right_line() {
    let dir = scratch_dir("crlf");
    let file = dir.join("rule.yaml");
    let yaml = "\u{feff}id: 1\r\nname: crlf\r\nquery: |\r\n  T\r\n  | where x ==\r\n  | take 1\r\n";
    std::fs::write(&file, yaml).expect("write the rule");
    let path = file.to_str().expect("a UTF-8 path");
    let (output, value) = json(&["check", path, "--format", "json"]);
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert_eq!(output.status.code(), Some(1), "{value:#}");
    let diagnostic = &value["files"][0]["queries"][0]["diagnostics"][0];
    let start = usize::try_from(diagnostic["start"].as_u64().expect("start")).expect("usize");
    let line = line_of(yaml, start);
    assert!((5..=6).contains(&line), "{diagnostic:#}");
    assert_eq!(diagnostic["line"], line);
}

/// A fresh folder under the system temp folder for one test.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quarry-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

#[test]
fn rendered_diagnostics_snapshots() {
    for (name, path) in [
        ("bad_kql", "tests/fixtures/bad.kql"),
        ("bad_rule_yaml", "tests/fixtures/bad-rule.yaml"),
        ("malformed_yaml", "tests/fixtures/malformed.yaml"),
        ("unknown_column", "tests/fixtures/plan/unknown-column.kql"),
        ("template_rule", "tests/fixtures/plan/template-rule.yaml"),
    ] {
        let output = quarry(&["check", path]);
        insta::assert_snapshot!(name, stdout(&output));
    }
}
