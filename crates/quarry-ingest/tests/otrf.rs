//! Ingest of the recorded attacks in `../shared/telemetry/otrf`: every file ingests with no
//! rejected record, the row counts equal the source's event counts (from its `index.json`), the
//! UTC time ranges match, and KQL over the ingested tables finds the recorded attacks.

use quarry_engine::{Session, SessionConfig};
use quarry_ingest::{ingest_file, IngestOptions, Workspace};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The OTRF folder beside the repository.
fn otrf() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/telemetry/otrf");
    assert!(
        path.join("index.json").is_file(),
        "the OTRF datasets are missing: expected {}",
        path.display()
    );
    path
}

/// One dataset's files with their expected event counts and UTC ranges.
#[derive(Debug)]
struct Expected {
    dataset: String,
    file: PathBuf,
    events: u64,
    utc_first: Option<i64>,
    utc_last: Option<i64>,
}

fn expected_files() -> Vec<Expected> {
    let root = otrf();
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("index.json")).unwrap()).unwrap();
    let mut files = Vec::new();
    for dataset in index["datasets"].as_array().unwrap() {
        let name = dataset["name"].as_str().unwrap();
        for file in dataset["files"].as_array().unwrap() {
            let time = |key: &str| {
                file[key]
                    .as_str()
                    .and_then(quarry_engine::values::parse_datetime)
            };
            files.push(Expected {
                dataset: name.to_string(),
                file: root.join(name).join(file["file"].as_str().unwrap()),
                events: file["events"].as_u64().unwrap(),
                utc_first: time("utc_first"),
                utc_last: time("utc_last"),
            });
        }
    }
    assert_eq!(files.len(), 27, "index.json should list 27 files");
    files
}

/// Each dataset ingested into a workspace of its own (built once for all tests).
struct Ingested {
    _dir: tempfile::TempDir,
    workspaces: BTreeMap<String, PathBuf>,
    reports: Vec<(Expected, quarry_ingest::FileReport)>,
}

fn ingested() -> &'static Ingested {
    static INGESTED: OnceLock<Ingested> = OnceLock::new();
    INGESTED.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let mut workspaces = BTreeMap::new();
        let mut reports = Vec::new();
        for expected in expected_files() {
            let root = dir.path().join(&expected.dataset);
            let mut workspace = Workspace::open_for_writing(&root).unwrap();
            let report = ingest_file(
                &mut workspace,
                &expected.file,
                &IngestOptions::default(),
                &mut |_| {},
            )
            .unwrap_or_else(|e| panic!("{}: {e}", expected.file.display()));
            workspaces.insert(expected.dataset.clone(), root);
            reports.push((expected, report));
        }
        Ingested {
            _dir: dir,
            workspaces,
            reports,
        }
    })
}

#[test]
fn every_file_ingests_without_rejects_and_with_the_source_event_count() {
    let mut problems = Vec::new();
    for (expected, report) in &ingested().reports {
        let name = expected.file.file_name().unwrap().to_string_lossy();
        if report.rejected != 0 {
            let rejects = report
                .rejects_file
                .as_ref()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            problems.push(format!(
                "{name}: {} rejected:\n{}",
                report.rejected,
                rejects.lines().take(3).collect::<Vec<_>>().join("\n")
            ));
        }
        if report.total_accepted() != expected.events {
            problems.push(format!(
                "{name}: {} rows, the source has {} events ({:?})",
                report.total_accepted(),
                expected.events,
                report.accepted
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn utc_time_ranges_match_the_source() {
    // The index times nxlog datasets by Logstash's `@timestamp`, stamped 0.1–12 s after the
    // event, and the others by `TimeCreated` plus the file's offset; Quarry takes each event's
    // own time (Sysmon `UtcTime`, else the corrected local time). A wrong clock correction is
    // off by hours, so 15 s tells the two apart.
    const TOLERANCE: i64 = 15_000_000_000;
    let mut problems = Vec::new();
    let mut by_dataset: BTreeMap<&str, (i64, i64, i64, i64)> = BTreeMap::new();
    for (expected, _) in &ingested().reports {
        let (Some(first), Some(last)) = (expected.utc_first, expected.utc_last) else {
            continue;
        };
        let entry = by_dataset
            .entry(&expected.dataset)
            .or_insert((i64::MAX, i64::MIN, 0, 0));
        entry.0 = entry.0.min(first);
        entry.1 = entry.1.max(last);
    }
    for (dataset, (first, last, _, _)) in by_dataset {
        let workspace = Workspace::open(&ingested().workspaces[dataset]).unwrap();
        let ranges: Vec<(i64, i64)> = workspace
            .manifest()
            .tables
            .values()
            .filter_map(|t| t.time_range("TimeGenerated"))
            .collect();
        let low = ranges.iter().map(|r| r.0).min().unwrap();
        let high = ranges.iter().map(|r| r.1).max().unwrap();
        if (low - first).abs() > TOLERANCE || (high - last).abs() > TOLERANCE {
            problems.push(format!(
                "{dataset}: ingested {} .. {}, source {} .. {}",
                quarry_engine::values::format_datetime(low, false),
                quarry_engine::values::format_datetime(high, false),
                quarry_engine::values::format_datetime(first, false),
                quarry_engine::values::format_datetime(last, false),
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Rows `query` returns over the dataset's workspace.
fn count(dataset: &str, query: &str) -> usize {
    let session = Session::new(SessionConfig::default()).unwrap();
    session.register_empty_schemas(quarry_schema::Catalog::embedded());
    Workspace::open(&ingested().workspaces[dataset])
        .unwrap()
        .register(&session)
        .unwrap();
    session
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{dataset}: {query}: {e}"))
        .row_count()
}

#[test]
fn kql_finds_the_recorded_attacks() {
    let cases = [
        (
            "psh_lsass_memory_dump_comsvcs",
            "LSASS opened by rundll32 (Sysmon 10 → DeviceEvents)",
            r#"DeviceEvents | where ActionType == "OpenProcessApiCall" and FileName =~ "lsass.exe" and InitiatingProcessFileName =~ "rundll32.exe""#,
        ),
        (
            "psh_lsass_memory_dump_comsvcs",
            "comsvcs MiniDump command line (Sysmon 1 → DeviceProcessEvents)",
            r#"DeviceProcessEvents | where ProcessCommandLine has "comsvcs.dll" and ProcessCommandLine has "MiniDump""#,
        ),
        (
            "cmd_lsass_memory_dumpert_syscalls",
            "Dumpert opening LSASS",
            r#"DeviceEvents | where ActionType == "OpenProcessApiCall" and FileName =~ "lsass.exe" and InitiatingProcessFileName =~ "Outflank-Dumpert.exe""#,
        ),
        (
            "covenant_sharpsc_create_dcerpc_smb_svcctl",
            "remote service creation (Security 4697)",
            r#"SecurityEvent | where EventID == 4697 and ServiceFileName has "GruntHTTP2.exe" | where Computer startswith "WORKSTATION6""#,
        ),
        (
            "covenant_sharpsc_create_dcerpc_smb_svcctl",
            "remote service creation (System 7045 → Event)",
            r#"Event | where EventLog == "System" and EventID == 7045 and EventData has "GruntHTTP2.exe""#,
        ),
        (
            "empire_persistence_registry_modification_run_keys_elevated_user",
            "Run key persistence (Sysmon 13 → DeviceRegistryEvents)",
            r#"DeviceRegistryEvents | where ActionType == "RegistryValueSet" and RegistryKey endswith @"\CurrentVersion\Run" and RegistryValueName == "Updater" and RegistryKey startswith "HKEY_LOCAL_MACHINE""#,
        ),
        (
            "covenant_dcsync_dcerpc_drsuapi_DsGetNCChanges",
            "DCSync replication rights (Security 4662)",
            r#"SecurityEvent | where EventID == 4662 and Properties has "1131f6aa-9c07-11d1-f79f-00c04fc2dcd2" and SubjectUserName =~ "pgustavo""#,
        ),
        (
            "mimikatz_CVE-2020-1472_Unauthenticated_NetrServerAuthenticate2",
            "Zerologon: DC account changed by ANONYMOUS LOGON (4742)",
            r#"SecurityEvent | where EventID == 4742 and SubjectUserName == "ANONYMOUS LOGON" and TargetUserName =~ "MORDORDC$""#,
        ),
        (
            "covenant_sharpwmi_create_dcerpc_wmi",
            "WMI remote process creation (WmiPrvSE → GruntHTTP2)",
            r#"DeviceProcessEvents | where InitiatingProcessFileName =~ "WmiPrvSE.exe" and FileName =~ "GruntHTTP2.exe""#,
        ),
    ];
    let mut missed = Vec::new();
    for (dataset, what, query) in cases {
        if count(dataset, query) == 0 {
            missed.push(format!("{dataset}: {what}: no rows for {query}"));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n"));
}

#[test]
fn ingesting_the_same_file_again_adds_nothing() {
    let (expected, _) = &ingested().reports[0];
    let root = &ingested().workspaces[&expected.dataset];
    let before = Workspace::open(root).unwrap().manifest().clone();
    let mut workspace = Workspace::open_for_writing(root).unwrap();
    let report = ingest_file(
        &mut workspace,
        &expected.file,
        &IngestOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    assert!(report.already_ingested);
    assert_eq!(report.total_accepted(), 0);
    assert_eq!(Workspace::open(root).unwrap().manifest(), &before);
}
