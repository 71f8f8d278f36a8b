//! `quarry demo` through the binary: exit code 0, every scenario found in the JSON summary,
//! and `quarry tables` / `quarry query` work on the workspace it leaves.

use std::process::Command;

fn quarry(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .expect("cannot run quarry")
}

#[test]
fn demo_finds_every_scenario_and_leaves_a_queryable_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("demo");
    let workspace = workspace.to_str().unwrap();
    let output = quarry(&[
        "demo", "--events", "30000", "-w", workspace, "--format", "json",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["events"], 30_000);
    let scenarios = summary["scenarios"].as_array().unwrap();
    assert!(!scenarios.is_empty());
    assert!(scenarios.iter().all(|s| s["found"] == true), "{summary:#}");

    let tables = quarry(&["tables", "-w", workspace, "--format", "json"]);
    assert!(tables.status.success());
    let tables: serde_json::Value = serde_json::from_slice(&tables.stdout).unwrap();
    let rows: u64 = tables["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(rows, 30_000);

    let query = quarry(&[
        "query",
        "-w",
        workspace,
        "DeviceProcessEvents | where ProcessCommandLine has 'MiniDump' | count",
        "--format",
        "csv",
    ]);
    assert!(query.status.success());
    let text = String::from_utf8_lossy(&query.stdout);
    let count: i64 = text.lines().nth(1).unwrap().trim().parse().unwrap();
    assert!(count >= 1, "{text}");
}
