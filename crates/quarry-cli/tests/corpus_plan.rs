//! `quarry check --run` (binding, planning and running over empty tables of the schemas) over the
//! queries of the Azure-Sentinel corpus: prints how many plan and run, which features are not
//! supported yet and which errors are most common, and keeps the number of queries that plan and
//! run from falling below `corpus_plan_floor.txt`.
//!
//! Run with `cargo test -p quarry-cli --test corpus_plan -- --nocapture` to see the report.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The rule folders of the corpus (1,221 queries): detections and hunting queries.
const RULE_FOLDERS: [&str; 2] = ["Detections", "Hunting Queries"];

/// How many entries of each ranking are printed.
const TOP: usize = 15;

fn corpus() -> PathBuf {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/azure-sentinel");
    assert!(
        corpus.is_dir(),
        "the Azure-Sentinel corpus is missing: expected a folder at {}",
        corpus.display()
    );
    corpus
}

fn floor() -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus_plan_floor.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.trim()
        .parse()
        .unwrap_or_else(|e| panic!("{}: not a number ({e}): {text:?}", path.display()))
}

/// An error message with names and numbers taken out, so that alike errors are counted together:
/// column and variable names become `…`; function, table and feature names are kept. Only the
/// first line is kept, cut to 160 characters.
fn normalise(message: &str) -> String {
    let first = message.lines().next().unwrap_or("");
    let keeps_names = !(first.starts_with("unknown column")
        || first.contains("has no column")
        || first.contains("is a table")
        || first.contains("is a scalar"));
    let mut out = String::new();
    let mut in_quote = false;
    for c in first.chars() {
        match c {
            '`' => {
                in_quote = !in_quote;
                out.push('`');
                if in_quote && !keeps_names {
                    out.push('…');
                }
            }
            _ if in_quote && !keeps_names => {}
            _ => out.push(c),
        }
    }
    if out.chars().count() > 160 {
        out = out.chars().take(160).collect::<String>() + "…";
    }
    out
}

fn ranking(counts: HashMap<String, usize>) -> Vec<(String, usize)> {
    let mut ranked: Vec<(String, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
}

#[test]
fn corpus_queries_bind_and_plan() {
    let corpus = corpus();
    let output = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .arg("check")
        .arg("--run")
        .args(RULE_FOLDERS.iter().map(|f| corpus.join(f)))
        .args(["--format", "json"])
        .env("NO_COLOR", "1")
        .output()
        .expect("the quarry binary runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "quarry check ended with {:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is one JSON document");

    let mut planned = 0;
    let mut unsupported = 0;
    let mut errors = 0;
    let mut not_in_schemas = 0;
    let mut not_parsed = 0;
    let mut features: HashMap<String, usize> = HashMap::new();
    let mut messages: HashMap<String, usize> = HashMap::new();
    let mut missing_tables: HashMap<String, usize> = HashMap::new();
    let files = report["files"].as_array().expect("a files array");
    for query in files
        .iter()
        .flat_map(|f| f["queries"].as_array().expect("queries"))
    {
        let plan = &query["plan"];
        let message = plan["message"].as_str().unwrap_or("");
        match plan["status"].as_str().expect("a plan status") {
            "ok" => planned += 1,
            "unsupported" => {
                unsupported += 1;
                let feature = plan["feature"].as_str().expect("a feature");
                *features.entry(feature.to_string()).or_default() += 1;
            }
            "error" if plan["code"] == "quarry::unknown-table" => {
                not_in_schemas += 1;
                *missing_tables.entry(message.to_string()).or_default() += 1;
            }
            "error" => {
                errors += 1;
                *messages.entry(normalise(message)).or_default() += 1;
            }
            "skipped" => not_parsed += 1,
            other => panic!("unknown plan status {other:?}"),
        }
    }
    let total = report["total"].as_u64().expect("a total");
    let with_tables = planned + unsupported + errors;
    eprintln!("corpus: {total} queries under {RULE_FOLDERS:?}");
    eprintln!(
        "  over the {with_tables} queries whose tables are in the schemas: \
         {planned} plan and run, {unsupported} not supported yet, {errors} errors"
    );
    eprintln!("  {not_in_schemas} read a table not in the schemas, {not_parsed} do not parse");
    eprintln!("top unsupported features:");
    for (feature, count) in ranking(features).into_iter().take(TOP) {
        eprintln!("  {count:4}  {feature}");
    }
    eprintln!("top errors:");
    for (message, count) in ranking(messages).into_iter().take(TOP) {
        eprintln!("  {count:4}  {message}");
    }
    eprintln!("top tables not in the schemas:");
    for (message, count) in ranking(missing_tables).into_iter().take(TOP) {
        eprintln!("  {count:4}  {message}");
    }

    assert_eq!(report["planned"], planned, "the JSON count agrees");
    let floor = floor();
    assert!(
        planned >= floor,
        "only {planned} corpus queries plan and run, fewer than the floor of {floor} \
         (tests/corpus_plan_floor.txt)"
    );
}

#[test]
fn normalising_messages() {
    assert_eq!(normalise("unknown column `Foo`"), "unknown column `…`");
    assert_eq!(
        normalise("unknown function `parse_xml()`"),
        "unknown function `parse_xml()`"
    );
    assert_eq!(normalise("first line\nsecond"), "first line");
}
