//! `quarry hunt` through the binary on a demo workspace: the demo's rules fire on their planted
//! attacks, a second run recognises its findings instead of duplicating them, a rule with an
//! unfilled placeholder is skipped with the parameter's name and runs once it is given, and the
//! JSON, CSV, SARIF and Navigator outputs are well formed.

use std::process::{Command, Output};

const C2_RULE: &str = "615d70fd-6eda-47a3-a90f-89046f7c9c7f";

fn quarry(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .output()
        .expect("cannot run quarry")
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn hunts_store_findings_once_and_report_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    let ws = ws.to_str().unwrap();
    let demo = quarry(&["demo", "--events", "30000", "-w", ws, "--format", "json"]);
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let demo = json(&demo);
    assert!(
        demo["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["found"] == true),
        "{demo:#}"
    );

    // The demo's hunt stored its findings; hunting again finds the same rows, none new.
    // The demo's own values for the C2 rule's placeholders.
    let values = quarry_ingest::demo::placeholder_values();
    let param_options: Vec<String> = values.iter().map(|(p, v)| format!("{p}={v}")).collect();
    let mut args = vec!["hunt", "-w", ws, "--format", "json"];
    for option in &param_options {
        args.extend(["--param", option.as_str()]);
    }
    let again = quarry(&args);
    assert_eq!(
        again.status.code(),
        Some(1),
        "rules fired, so the exit code is 1"
    );
    let again = json(&again);
    let summary = &again["summary"];
    assert!(summary["fired"].as_u64().unwrap() == 9, "{summary:#}");
    assert_eq!(summary["new_findings"], 0, "{summary:#}");
    assert!(summary["rule_events"].as_u64().unwrap() > 0);
    assert!(summary["now_note"]
        .as_str()
        .unwrap()
        .contains("latest event"));

    // Without its parameters the C2 rule is skipped and says which one is missing.
    let skipped = json(&quarry(&["hunt", C2_RULE, "-w", ws, "--format", "json"]));
    let status = &skipped["rules"][0]["status"];
    assert_eq!(status["status"], "skipped", "{status}");
    assert_eq!(status["detail"]["reason"], "missing-parameter");
    let params = dir.path().join("params.yaml");
    let mut file = format!("rules:\n  {C2_RULE}:\n");
    for (placeholder, value) in values {
        file.push_str(&format!("    {placeholder}: {value}\n"));
    }
    std::fs::write(&params, file).unwrap();
    let filled = json(&quarry(&[
        "hunt",
        C2_RULE,
        "-w",
        ws,
        "--format",
        "json",
        "--params",
        params.to_str().unwrap(),
    ]));
    assert_eq!(
        filled["rules"][0]["status"]["status"], "hits",
        "{:#}",
        filled["rules"][0]
    );

    // CSV, SARIF and a Navigator layer of what fired.
    let csv = quarry(&[
        "hunt",
        "-w",
        ws,
        "--format",
        "csv",
        "--params",
        params.to_str().unwrap(),
    ]);
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    assert!(
        csv.starts_with("rule_id,name,path,severity,status"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 10, "{csv}");
    let sarif_path = dir.path().join("hunt.sarif");
    let layer_path = dir.path().join("fired.json");
    let sarif = quarry(&[
        "hunt",
        "-w",
        ws,
        "--format",
        "sarif",
        "-o",
        sarif_path.to_str().unwrap(),
        "--navigator",
        layer_path.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
    ]);
    assert_eq!(sarif.status.code(), Some(1));
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(
            result["partialFingerprints"]["quarryFinding/v1"]
                .as_str()
                .unwrap()
                .len()
                == 64
        );
    }
    let layer: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&layer_path).unwrap()).unwrap();
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert!(layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["techniqueID"] == "T1003"));
}

#[test]
fn bad_hunt_options_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().to_str().unwrap();
    let output = quarry(&["hunt", "-w", ws]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
