//! `quarry ingest` killed with SIGKILL part-way: the workspace still opens, holds only whole
//! inputs (no partial data), and a rerun ends with exactly the right row counts.

use quarry_engine::{Session, SessionConfig};
use quarry_ingest::Workspace;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 3;
const ROWS_PER_FILE: usize = 40_000;

/// Writes the input files: DeviceProcessEvents rows spread over four days.
fn write_inputs(dir: &Path) -> Vec<PathBuf> {
    (0..FILES)
        .map(|file| {
            let path = dir.join(format!("part{file}.ndjson"));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            for row in 0..ROWS_PER_FILE {
                let day = 1 + row % 4;
                let second = row % 86_400;
                writeln!(
                    out,
                    r#"{{"Timestamp": "2024-06-0{day}T{:02}:{:02}:{:02}Z", "DeviceName": "wks-{}", "ActionType": "ProcessCreated", "FileName": "proc{file}.exe", "ProcessCommandLine": "proc{file}.exe --row {row}", "ProcessId": {row}}}"#,
                    second / 3600,
                    second / 60 % 60,
                    second % 60,
                    row % 50,
                )
                .unwrap();
            }
            path
        })
        .collect()
}

/// Starts `quarry ingest` of `inputs` into `workspace`.
fn start_ingest(workspace: &Path, inputs: &[PathBuf]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_quarry"))
        .arg("ingest")
        .args(inputs)
        .arg("--table")
        .arg("DeviceProcessEvents")
        .arg("--workspace")
        .arg(workspace)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start quarry")
}

/// Rows of DeviceProcessEvents per FileName, through the query engine.
fn rows_per_file(workspace: &Path) -> Vec<(String, i64)> {
    let session = Session::new(SessionConfig::default()).unwrap();
    session.register_empty_schemas(quarry_schema::Catalog::embedded());
    Workspace::open(workspace)
        .unwrap()
        .register(&session)
        .unwrap();
    let output = session
        .run_blocking(
            "DeviceProcessEvents | summarize n = count() by FileName | order by FileName asc",
        )
        .unwrap();
    quarry_engine::format::json_rows(&output)
        .into_iter()
        .map(|row| {
            (
                row[0].as_str().unwrap().to_string(),
                row[1].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Waits until `ready` holds (or the child exits, or 120 s pass), then kills the child.
fn kill_when(child: &mut std::process::Child, ready: impl Fn() -> bool) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if ready() {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the ingest neither reached the kill point nor finished in 120 s");
}

#[test]
fn a_killed_ingest_leaves_only_whole_inputs_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path());
    let kill_points = [KillPoint::WhileStaging, KillPoint::AfterFirstCommit];
    let mut killed_somewhere = 0;
    for point in kill_points {
        let name = format!("{point:?}");
        let workspace = dir.path().join(&name);
        let mut child = start_ingest(&workspace, &inputs);
        if kill_when(&mut child, || point.reached(&workspace)) {
            killed_somewhere += 1;
        }

        // The workspace opens, and every input it lists is whole.
        let opened = Workspace::open(&workspace)
            .unwrap_or_else(|e| panic!("{name}: the workspace does not open: {e}"));
        {
            for input in opened.manifest().inputs.values() {
                assert_eq!(
                    input.tables.get("DeviceProcessEvents"),
                    Some(&(ROWS_PER_FILE as u64)),
                    "{name}: {input:?}"
                );
            }
            let committed = opened.manifest().inputs.len() as i64;
            let rows: i64 = rows_per_file(&workspace).iter().map(|(_, n)| n).sum();
            assert_eq!(
                rows,
                committed * ROWS_PER_FILE as i64,
                "{name}: partial data visible"
            );
        }

        // A rerun completes the job with exact counts, and leaves no stray files.
        let status = start_ingest(&workspace, &inputs).wait().unwrap();
        assert!(status.success(), "{name}: the rerun failed: {status}");
        let counts = rows_per_file(&workspace);
        let expected: Vec<(String, i64)> = (0..FILES)
            .map(|f| (format!("proc{f}.exe"), ROWS_PER_FILE as i64))
            .collect();
        assert_eq!(counts, expected, "{name}");
        let opened = Workspace::open(&workspace).unwrap();
        let listed: usize = opened
            .manifest()
            .tables
            .values()
            .map(|t| t.files.len())
            .sum();
        let on_disk = walk(&workspace.join("tables"));
        assert_eq!(
            on_disk, listed,
            "{name}: files on disk that the manifest does not list"
        );
        assert!(!workspace.join("tmp").exists() || walk(&workspace.join("tmp")) == 0);
    }
    assert!(
        killed_somewhere > 0,
        "the ingest always finished before it could be killed"
    );
}

/// When the ingest is killed.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// As soon as the first input is being staged.
    WhileStaging,
    /// As soon as the first input is committed.
    AfterFirstCommit,
}

impl KillPoint {
    /// Whether the ingest writing to `workspace` has reached this point.
    fn reached(self, workspace: &Path) -> bool {
        match self {
            KillPoint::WhileStaging => std::fs::read_dir(workspace.join("tmp"))
                .map(|mut d| d.next().is_some())
                .unwrap_or(false),
            KillPoint::AfterFirstCommit => Workspace::open(workspace)
                .map(|w| !w.manifest().inputs.is_empty())
                .unwrap_or(false),
        }
    }
}

/// Files below `dir`.
fn walk(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| {
            let path = e.path();
            if path.is_dir() {
                walk(&path)
            } else {
                1
            }
        })
        .sum()
}
