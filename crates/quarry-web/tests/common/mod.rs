//! A small demo workspace for the web tests: the quarry-hunt demo at a few thousand events, plus
//! the seed rule from the shared Azure-Sentinel corpus and a hostile rule whose text carries
//! markup and scripts.

#![allow(dead_code)]

use quarry_hunt::checker::EngineChecker;
use quarry_hunt::demo::{run_demo, DemoOptions};
use quarry_ingest::demo::DemoConfig;
use quarry_rules::catalog::{Catalog, CATALOG_FILE};
use quarry_rules::import::{import_repository, NoChecker, QueryChecker};
use quarry_rules::model::FunctionLibrary;
use quarry_rules::source::{open_repository, RepositoryOptions};
use std::path::{Path, PathBuf};

/// The seed rule's upstream id ("Network footprint (3)").
pub const SEED_ID: &str = "44b02f8c-d206-4e1a-9859-6aa06b80c346";
/// The hostile rule's id.
pub const HOSTILE_ID: &str = "0badc0de-0000-4000-8000-000000000001";

/// The seed rule's file in the shared corpus.
pub fn seed_file() -> PathBuf {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let file = shared.join(
        "corpus/azure-sentinel/Hunting Queries/Microsoft 365 Defender/General queries/Network footprint (3).yaml",
    );
    assert!(
        file.is_file(),
        "the seed rule is missing: {} (the shared corpus must sit beside the checkout)",
        file.display()
    );
    file
}

const HOSTILE: &str = r#"id: 0badc0de-0000-4000-8000-000000000001
name: "Hostile <script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"
description: |
  <b>bold</b><script>window.__pwned=3</script><a href="javascript:window.__pwned=6">click</a>
  See https://example.com/"><script>window.__pwned=7</script>
severity: High
tags:
  - "<svg onload=window.__pwned=4>"
query: |
  DeviceProcessEvents
  | where ProcessCommandLine has "<script>window.__pwned=5</script>"
  | take 5
"#;

/// Builds the workspace under `dir` and returns its path.
pub fn build_workspace(dir: &Path) -> PathBuf {
    let workspace = dir.join("ws");
    run_demo(
        &DemoOptions {
            workspace: workspace.clone(),
            config: DemoConfig {
                events: 5_000,
                ..DemoConfig::default()
            },
            now: "2026-01-01T00:00:00Z".into(),
        },
        &mut |_| {},
    )
    .expect("the demo workspace builds");
    let rules = dir.join("rules/Hunting Queries");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::copy(seed_file(), rules.join("Network footprint (3).yaml")).unwrap();
    std::fs::write(rules.join("hostile.yaml"), HOSTILE).unwrap();
    let source = open_repository(
        &dir.join("rules").to_string_lossy(),
        &RepositoryOptions {
            origin: Some("https://github.com/Azure/Azure-Sentinel".into()),
            commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
            now: "2026-01-01T00:00:00Z".into(),
            ..RepositoryOptions::default()
        },
    )
    .unwrap();
    let mut catalog = Catalog::open(&workspace.join(CATALOG_FILE)).unwrap();
    let checker = |functions: &FunctionLibrary| -> Box<dyn QueryChecker> {
        match EngineChecker::new(functions) {
            Ok(c) => Box::new(c),
            Err(_) => Box::new(NoChecker),
        }
    };
    let report = import_repository(&mut catalog, &source, &checker).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    workspace
}
