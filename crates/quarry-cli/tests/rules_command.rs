//! `quarry rules` and `quarry coverage` through the binary, on the Azure-Sentinel corpus: the
//! import summary, idempotence, the seed rule's page, filters, search and the Navigator layer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const SEED: &str = "44b02f8c-d206-4e1a-9859-6aa06b80c346";

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .expect("cannot run quarry")
}

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

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One imported catalog shared by the tests of this file (the import is the slow part).
fn workspace() -> &'static str {
    static WORKSPACE: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &WORKSPACE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let workspace = dir.path().join("ws").to_str().unwrap().to_string();
            let corpus = corpus();
            let output = quarry(&[
                "rules",
                "import",
                corpus.to_str().unwrap(),
                "-w",
                &workspace,
                "--origin",
                "https://github.com/Azure/Azure-Sentinel",
                "--commit",
                "b819f6737ee1d0c3c865225f5750112c8f1096e3",
                "--format",
                "json",
            ]);
            // Exit 1: upstream has a few broken files, which are reported, not fatal.
            assert_eq!(
                output.status.code(),
                Some(1),
                "{}\n{}",
                stdout(&output),
                String::from_utf8_lossy(&output.stderr)
            );
            let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
            let imported: u64 = report["rules_by_kind"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum();
            assert_eq!(imported, 1222);
            assert_eq!(report["changes"]["added"], 1222);
            (dir, workspace)
        })
        .1
}

#[test]
fn importing_again_changes_nothing() {
    let workspace = workspace();
    let corpus = corpus();
    let output = quarry(&[
        "rules",
        "import",
        corpus.to_str().unwrap(),
        "-w",
        workspace,
        "--origin",
        "https://github.com/Azure/Azure-Sentinel",
        "--commit",
        "b819f6737ee1d0c3c865225f5750112c8f1096e3",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let changes = &report["changes"];
    for key in [
        "added",
        "revised",
        "refreshed",
        "removed",
        "restored",
        "functions_changed",
        "functions_removed",
    ] {
        assert_eq!(changes[key], 0, "{key} after a second import: {changes}");
    }
    assert_eq!(changes["unchanged"], 1222);
}

#[test]
fn the_seed_rule_shows_every_section() {
    let output = quarry(&["rules", "show", SEED, "-w", workspace()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    for section in [
        "Network footprint (3)",
        "[KQL]",
        "[table DeviceFileEvents]",
        "Provenance",
        "https://github.com/Azure/Azure-Sentinel/blob/b819f6737ee1d0c3c865225f5750112c8f1096e3/Hunting%20Queries/",
        "Confidence:",
        "Hunt hypothesis (generated)",
        "Description (upstream)",
        "Contradictions (flagged)",
        "Parameters",
        "Query",
        "Required data sources",
        "MicrosoftThreatProtection",
        "False-positive guidance (generated)",
        "References",
        "Rule definition (upstream, verbatim)",
        "id: 44b02f8c-d206-4e1a-9859-6aa06b80c346",
    ] {
        assert!(text.contains(section), "missing `{section}` in:\n{text}");
    }
    let json = quarry(&["rules", "show", SEED, "-w", workspace(), "--format", "json"]);
    let record: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    let placeholders: Vec<&str> = record["analysis"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["placeholder"].as_str().unwrap())
        .collect();
    assert_eq!(placeholders, ["IP ADDRESS GOES HERE", "URL GOES HERE"]);
    let contradictions = record["enrichment"]["contradictions"].as_array().unwrap();
    assert!(
        contradictions
            .iter()
            .any(|c| c["kind"] == "description-vs-query"),
        "the description/query contradiction is not flagged: {contradictions:#?}"
    );
    let yaml = quarry(&["rules", "show", SEED, "-w", workspace(), "--format", "yaml"]);
    assert!(stdout(&yaml).contains("FileOriginUrl"));
}

#[test]
fn filters_search_and_coverage() {
    let workspace = workspace();
    let list = quarry(&[
        "rules",
        "list",
        "-w",
        workspace,
        "--table",
        "DeviceFileEvents",
        "--format",
        "json",
    ]);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
    let rules = listed["rules"].as_array().unwrap();
    assert!(rules.iter().any(|r| r["id"] == SEED));
    assert!(rules.iter().all(|r| r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "DeviceFileEvents")));
    let credential = quarry(&[
        "rules",
        "list",
        "-w",
        workspace,
        "--tactic",
        "CredentialAccess",
        "--kind",
        "analytic",
        "--format",
        "json",
    ]);
    let credential: serde_json::Value = serde_json::from_str(&stdout(&credential)).unwrap();
    assert!(credential["total"].as_u64().unwrap() > 10);
    assert!(credential["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["kind"] == "analytic"));
    let search = quarry(&[
        "rules", "search", "lsass", "-w", workspace, "--format", "json",
    ]);
    let hits: serde_json::Value = serde_json::from_str(&stdout(&search)).unwrap();
    assert!(!hits.as_array().unwrap().is_empty());
    assert!(hits.as_array().unwrap().iter().all(|h| h["snippet"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("lsass")));

    let dir = tempfile::tempdir().unwrap();
    let layer_path = dir.path().join("layer.json");
    let coverage = quarry(&[
        "coverage",
        "-w",
        workspace,
        "--navigator",
        layer_path.to_str().unwrap(),
    ]);
    assert!(coverage.status.success());
    assert!(stdout(&coverage).contains("techniques covered"));
    let layer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&layer_path).unwrap()).unwrap();
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert!(layer["techniques"].as_array().unwrap().len() > 50);
}

#[test]
fn unknown_rules_and_missing_catalogs_are_usage_errors() {
    let output = quarry(&["rules", "show", "no-such-rule", "-w", workspace()]);
    assert_eq!(output.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let output = quarry(&["rules", "list", "-w", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("rules import"));
}
