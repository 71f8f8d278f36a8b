//! The demo end to end: generated telemetry ingested into a workspace, the demo rule pack run
//! over it with now() pinned to the data, every planted scenario found and nothing firing on
//! the clean part of the data.

use quarry_hunt::demo::{run_demo, DemoOptions};
use quarry_hunt::hunt::HuntStatus;
use quarry_ingest::demo::DemoConfig;

#[test]
fn the_demo_finds_every_planted_scenario_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        workspace: dir.path().join("demo"),
        config: DemoConfig {
            events: 40_000,
            ..DemoConfig::default()
        },
        now: "2026-11-28T00:00:00Z".into(),
    };
    let report = run_demo(&options, &mut |_| {}).unwrap();
    assert_eq!(report.ingest.total_accepted(), 40_000);
    assert_eq!(report.ingest.rejected, 0);
    let errors: Vec<String> = report
        .runs
        .iter()
        .filter(|r| !matches!(r.status, HuntStatus::Hits(_) | HuntStatus::NoHits))
        .map(|r| format!("{}: {:?}", r.name, r.status))
        .collect();
    assert!(errors.is_empty(), "rules failed: {errors:#?}");
    let missed: Vec<&str> = report
        .scenarios
        .iter()
        .filter(|s| !s.found)
        .map(|s| s.scenario.title)
        .collect();
    assert!(missed.is_empty(), "missed scenarios: {missed:?}");
    assert!(
        report.unexplained.is_empty(),
        "rules fired on clean data: {:?}",
        report.unexplained
    );
    assert!(!report.scenarios.is_empty());
}

#[test]
fn the_clean_data_alone_fires_no_rule() {
    let dir = tempfile::tempdir().unwrap();
    let options = DemoOptions {
        workspace: dir.path().join("clean"),
        config: DemoConfig {
            events: 40_000,
            plant: false,
            ..DemoConfig::default()
        },
        now: "2026-11-28T00:00:00Z".into(),
    };
    let report = run_demo(&options, &mut |_| {}).unwrap();
    let fired: Vec<String> = report
        .runs
        .iter()
        .filter(|r| r.status != HuntStatus::NoHits)
        .map(|r| format!("{}: {:?}", r.name, r.status))
        .collect();
    assert!(fired.is_empty(), "{fired:#?}");
}

#[test]
fn a_folder_that_is_not_a_workspace_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let options = DemoOptions {
        workspace: dir.path().to_path_buf(),
        config: DemoConfig::default(),
        now: "2026-11-28T00:00:00Z".into(),
    };
    let error = run_demo(&options, &mut |_| {}).unwrap_err();
    assert!(
        error.to_string().contains("not a Quarry workspace"),
        "{error}"
    );
    assert!(dir.path().join("precious.txt").is_file());
}
