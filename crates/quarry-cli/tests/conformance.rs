//! `quarry conformance` run as a program on the cases in `tests/fixtures/conformance`.

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

/// The counts of a summary line `N passed, M failed, K skipped`, if it is one.
fn summary(line: &str) -> Option<(usize, usize, usize)> {
    let mut parts = line.split(", ");
    let mut count = |word: &str| -> Option<usize> {
        parts
            .next()?
            .strip_suffix(word)?
            .strip_suffix(' ')?
            .parse()
            .ok()
    };
    let counts = (count("passed")?, count("failed")?, count("skipped")?);
    parts.next().is_none().then_some(counts)
}

const TINY: &str = "tests/fixtures/conformance/tiny.jsonl";

#[test]
fn the_last_line_is_the_summary() {
    let output = quarry(&["conformance", TINY]);
    let out = stdout(&output);
    // One case expects a wrong value on purpose, so the run always has a failure.
    assert_eq!(output.status.code(), Some(1), "{out}{}", stderr(&output));
    let last = out.lines().last().unwrap_or("");
    let (passed, failed, skipped) =
        summary(last).unwrap_or_else(|| panic!("not a summary line: `{last}`\n{out}"));
    assert_eq!(passed + failed + skipped, 3, "{out}");
    assert!(failed >= 1, "{out}");
    assert!(out.contains("failing families"), "{out}");
    assert!(out.contains("tiny/wrong-on-purpose"), "{out}");
}

#[test]
fn verbose_prints_every_failure() {
    let output = quarry(&["conformance", TINY, "--verbose"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL tiny/wrong-on-purpose-00: ")),
        "{out}"
    );
    assert!(summary(out.lines().last().unwrap_or("")).is_some(), "{out}");
}

#[test]
fn a_filter_selects_cases() {
    let output = quarry(&["conformance", TINY, "--filter", "wrong-on-purpose"]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{out}");
    assert_eq!(
        out.lines().last(),
        Some("0 passed, 1 failed, 0 skipped"),
        "{out}"
    );

    let output = quarry(&["conformance", TINY, "--filter", "no-such-case"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output), "0 passed, 0 failed, 0 skipped\n");
}

#[test]
fn json_report() {
    let output = quarry(&["conformance", TINY, "--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");
    let total = value["passed"].as_u64().unwrap()
        + value["failed"].as_u64().unwrap()
        + value["skipped"].as_u64().unwrap();
    assert_eq!(total, 3, "{value}");
    let failures = value["failures"].as_array().expect("failures");
    assert!(
        failures
            .iter()
            .any(|f| f["id"] == "tiny/wrong-on-purpose-00"),
        "{value}"
    );
    assert!(summary(stderr(&output).trim_end()).is_some());
}

#[test]
fn a_malformed_line_is_named() {
    let path = "tests/fixtures/conformance/malformed.jsonl";
    let output = quarry(&["conformance", path]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("{path}:2:")), "{err}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let output = quarry(&["conformance", "tests/fixtures/conformance/none.jsonl"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("none.jsonl"));
}
