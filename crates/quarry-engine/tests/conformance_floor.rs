//! Runs every case of `shared/conformance/dev.jsonl` and holds the number that pass at or above
//! the floor in `tests/conformance_floor.txt` (raised as the planner lands).

use quarry_engine::conformance::{load_cases, run_cases, session_config};
use quarry_engine::Session;
use std::path::PathBuf;
use std::time::Duration;

const PER_CASE_TIMEOUT: Duration = Duration::from_secs(10);

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn conformance_floor() {
    let cases_path = crate_dir().join("../../../shared/conformance/dev.jsonl");
    assert!(
        cases_path.is_file(),
        "the conformance cases are missing: {} does not exist (the shared folder must sit \
         beside the workspace; this test never skips)",
        cases_path.display()
    );
    let cases = load_cases(&cases_path).unwrap_or_else(|e| panic!("cannot load the cases: {e}"));
    assert!(!cases.is_empty(), "{} holds no cases", cases_path.display());

    let floor_path = crate_dir().join("tests/conformance_floor.txt");
    let floor: usize = std::fs::read_to_string(&floor_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", floor_path.display()))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{} must hold one integer: {e}", floor_path.display()));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let summary = runtime.block_on(run_cases(
        &cases,
        || Session::new(session_config(PER_CASE_TIMEOUT)).expect("a session"),
        PER_CASE_TIMEOUT,
    ));

    let families = summary.failing_families();
    eprintln!("failing families ({}):", families.len());
    for (family, count) in &families {
        eprintln!("  {count:>4}  {family}");
    }
    if summary.order_mismatches() > 0 {
        eprintln!(
            "{} of the failures are order mismatches",
            summary.order_mismatches()
        );
    }
    eprintln!("{summary}");
    assert!(
        summary.passed >= floor,
        "{} cases passed, below the floor of {floor} in {}",
        summary.passed,
        floor_path.display()
    );
}
