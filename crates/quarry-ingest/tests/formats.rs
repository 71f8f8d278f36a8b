//! Each input format on small fixtures written here (and EVTX samples from the `evtx` crate's
//! repository, see tests/fixtures/evtx/README.md): the records land in the right tables with the
//! right types, bad records are rejected with their position, and custom tables get inferred
//! schemas.

use quarry_engine::{Session, SessionConfig};
use quarry_ingest::{ingest_file, FileReport, IngestOptions, Workspace};
use std::path::{Path, PathBuf};

/// Writes `content` to `name` in `dir`.
fn fixture(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// Ingests `path` into the workspace at `root`.
fn ingest(root: &Path, path: &Path, options: IngestOptions) -> FileReport {
    let mut workspace = Workspace::open_for_writing(root).unwrap();
    ingest_file(&mut workspace, path, &options, &mut |_| {}).unwrap()
}

/// Runs `query` over the workspace at `root` and returns the rows as JSON arrays.
fn query(root: &Path, query: &str) -> Vec<Vec<serde_json::Value>> {
    let session = Session::new(SessionConfig::default()).unwrap();
    Workspace::open(root).unwrap().register(&session).unwrap();
    let output = session
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    quarry_engine::format::json_rows(&output)
}

#[test]
fn defender_api_json_and_streaming_records() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let api = fixture(
        dir.path(),
        "api.json",
        r#"{"Schema": [{"Name": "Timestamp", "Type": "DateTime"}, {"Name": "DeviceName", "Type": "String"}, {"Name": "ProcessId", "Type": "Int64"}, {"Name": "FileName", "Type": "String"}, {"Name": "ActionType", "Type": "String"}, {"Name": "ProcessCommandLine", "Type": "String"}],
            "Results": [{"Timestamp": "2024-03-01T10:00:00.1234567Z", "DeviceName": "wks-1", "ProcessId": 42, "FileName": "cmd.exe", "ActionType": "ProcessCreated", "ProcessCommandLine": "cmd /c whoami"}]}"#,
    );
    let report = ingest(&root, &api, IngestOptions::default());
    assert_eq!(report.accepted["DeviceProcessEvents"], 1, "{report:?}");
    let streaming = fixture(
        dir.path(),
        "stream.ndjson",
        concat!(
            r#"{"time": "2024-03-01T11:00:00Z", "category": "AdvancedHunting-DeviceNetworkEvents", "properties": {"DeviceName": "wks-1", "RemoteIP": "203.0.113.9", "RemotePort": 443, "ActionType": "ConnectionSuccess"}}"#,
            "\n",
            r#"{"records": [{"time": "2024-03-01T12:00:00Z", "category": "AdvancedHunting-DeviceNetworkEvents", "properties": {"DeviceName": "wks-2", "RemoteIP": "198.51.100.7", "RemotePort": 80}}]}"#,
            "\n"
        ),
    );
    let report = ingest(&root, &streaming, IngestOptions::default());
    assert_eq!(report.accepted["DeviceNetworkEvents"], 2, "{report:?}");
    let rows = query(
        &root,
        "DeviceNetworkEvents | order by Timestamp asc | project DeviceName, RemotePort, TimeGenerated",
    );
    assert_eq!(rows[0][0], "wks-1");
    assert_eq!(rows[0][1], 443);
    assert_eq!(rows[1][2], "2024-03-01T12:00:00Z");
    let rows = query(&root, "DeviceProcessEvents | project ProcessId, Timestamp");
    assert_eq!(
        rows,
        vec![vec![
            serde_json::json!(42),
            serde_json::json!("2024-03-01T10:00:00.1234567Z")
        ]]
    );

    // The portal's CSV export names no table: the columns and the ActionType decide.
    let portal = fixture(
        dir.path(),
        "portal-export.csv",
        "Timestamp,DeviceId,DeviceName,ActionType,FileName,FolderPath,SHA256,InitiatingProcessFileName\n\
         2024-03-01T13:00:00.0000000Z,abc,wks-3,FileCreated,evil.dll,C:\\Temp\\evil.dll,00ff,rundll32.exe\n\
         2024-03-01T13:01:00.0000000Z,abc,wks-3,ImageLoaded,evil.dll,C:\\Temp\\evil.dll,00ff,rundll32.exe\n",
    );
    let report = ingest(&root, &portal, IngestOptions::default());
    assert_eq!(
        report.accepted.get("DeviceFileEvents"),
        Some(&1),
        "{report:?}"
    );
    assert_eq!(
        report.accepted.get("DeviceImageLoadEvents"),
        Some(&1),
        "{report:?}"
    );
}

#[test]
fn log_analytics_csv_and_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let csv = fixture(
        dir.path(),
        "export.csv",
        "TimeGenerated [UTC],Computer,EventID,Account,LogonType,Type\n\
         \"3/1/2024, 10:00:00.000 AM\",DC01,4625,CONTOSO\\bob,3,SecurityEvent\n\
         2024-03-01T10:05:00Z,DC01,4624,CONTOSO\\bob,10,SecurityEvent\n\
         2024-03-01T10:06:00Z,DC01,not-a-number,CONTOSO\\eve,3,SecurityEvent\n",
    );
    let report = ingest(&root, &csv, IngestOptions::default());
    assert_eq!(report.accepted.get("SecurityEvent"), Some(&1), "{report:?}");
    assert_eq!(report.rejected, 2);
    let rejects = std::fs::read_to_string(report.rejects_file.as_ref().unwrap()).unwrap();
    let lines: Vec<serde_json::Value> = rejects
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["line"], 2);
    assert!(
        lines[0]["reason"]
            .as_str()
            .unwrap()
            .contains("TimeGenerated"),
        "{lines:?}"
    );
    assert_eq!(lines[1]["line"], 4);
    assert!(
        lines[1]["reason"].as_str().unwrap().contains("EventID"),
        "{lines:?}"
    );
    let json_lines = fixture(
        dir.path(),
        "la.json",
        concat!(
            r#"{"TimeGenerated": "2024-03-02T00:00:00Z", "Type": "Syslog", "Computer": "lnx1", "SyslogMessage": "sshd: Failed password"}"#,
            "\n",
            r#"{"TimeGenerated": "2024-03-02T00:00:01Z", "Type": "MyApp_CL", "Message_s": "hello", "Count_d": 3}"#,
            "\n"
        ),
    );
    let report = ingest(&root, &json_lines, IngestOptions::default());
    assert_eq!(report.accepted["Syslog"], 1, "{report:?}");
    assert_eq!(report.accepted["MyApp_CL"], 1);
    assert_eq!(report.inferred_tables, ["MyApp_CL"]);
    let rows = query(
        &root,
        "MyApp_CL | project Count_d, TimeGenerated, gettype(Count_d)",
    );
    assert_eq!(rows[0][0], 3);
    assert_eq!(rows[0][2], "long");
    let workspace = Workspace::open(&root).unwrap();
    assert!(workspace.manifest().tables["MyApp_CL"].inferred);
    assert!(!workspace.manifest().tables["Syslog"].inferred);
}

#[test]
fn windows_event_log_files() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/evtx");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let sysmon = ingest(
        &root,
        &fixtures.join("sysmon.evtx"),
        IngestOptions::default(),
    );
    // The sample's last chunks are overwritten with other data (a dirty file): each unreadable
    // chunk is one reject, and nothing else is rejected.
    let rejects = std::fs::read_to_string(sysmon.rejects_file.as_ref().unwrap()).unwrap();
    assert_eq!(rejects.lines().count() as u64, sysmon.rejected);
    assert!(
        rejects.lines().all(|l| l.contains("unreadable EVTX data")),
        "{rejects}"
    );
    assert!(
        sysmon
            .accepted
            .get("DeviceProcessEvents")
            .copied()
            .unwrap_or(0)
            > 0,
        "{sysmon:?}"
    );
    assert!(
        sysmon
            .accepted
            .get("DeviceNetworkEvents")
            .copied()
            .unwrap_or(0)
            > 0,
        "{sysmon:?}"
    );
    let security = ingest(
        &root,
        &fixtures.join("Security_short_selected.evtx"),
        IngestOptions::default(),
    );
    assert_eq!(security.rejected, 0, "{security:?}");
    assert!(security.accepted["SecurityEvent"] > 0, "{security:?}");
    let rows = query(
        &root,
        "DeviceProcessEvents | where isnotempty(FileName) and isnotempty(FolderPath) | summarize n = count(), devices = dcount(DeviceName)",
    );
    assert_eq!(rows[0][0], sysmon.accepted["DeviceProcessEvents"] as i64);
    let rows = query(
        &root,
        "SecurityEvent | where isnotempty(Activity) and isnotempty(EventData) and isnotnull(TimeGenerated) | count",
    );
    assert_eq!(rows[0][0], security.accepted["SecurityEvent"] as i64);
}

#[test]
fn parquet_and_forced_table_and_time_pruning() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let mut text = String::new();
    for day in 1..=9 {
        for hour in 0..24 {
            text.push_str(&format!(
                "{{\"Timestamp\": \"2024-05-0{day}T{hour:02}:30:00Z\", \"DeviceName\": \"wks-{hour}\", \"ActionType\": \"LogonSuccess\", \"AccountName\": \"user{day}\"}}\n"
            ));
        }
    }
    let logons = fixture(dir.path(), "logons.ndjson", &text);
    let report = ingest(
        &root,
        &logons,
        IngestOptions {
            table: Some("DeviceLogonEvents".into()),
            ..IngestOptions::default()
        },
    );
    assert_eq!(report.accepted["DeviceLogonEvents"], 216);
    let workspace = Workspace::open(&root).unwrap();
    let entry = &workspace.manifest().tables["DeviceLogonEvents"];
    assert_eq!(entry.files.len(), 9, "one file per day");
    assert!(entry
        .files
        .iter()
        .all(|f| f.path.contains("/date=2024-05-0")));

    // The provider reads only the files a time filter can match.
    let session = Session::new(SessionConfig::default()).unwrap();
    workspace.register(&session).unwrap();
    let rows = session
        .run_blocking("DeviceLogonEvents | where Timestamp between (datetime(2024-05-03) .. datetime(2024-05-03T23:59:59)) | count")
        .unwrap();
    assert_eq!(quarry_engine::format::json_rows(&rows)[0][0], 24);
    let table = quarry_ingest::workspace::provider::WorkspaceTable::new(
        workspace.root(),
        &workspace
            .table_schema("DeviceLogonEvents")
            .unwrap()
            .unwrap(),
        &entry.files,
    );
    use datafusion::logical_expr::{ident, lit};
    use datafusion::scalar::ScalarValue;
    let day3 = quarry_engine::values::parse_datetime("2024-05-03").unwrap();
    let filter = ident("Timestamp").gt_eq(lit(ScalarValue::TimestampNanosecond(Some(day3), None)));
    assert_eq!(table.files_for(&[filter]).len(), 7);

    // A Parquet export of the table ingests into a second workspace with the same rows.
    let exported = entry.files[0].path.clone();
    let copy = dir.path().join("DeviceLogonEvents.parquet");
    std::fs::copy(root.join(exported), &copy).unwrap();
    let other = dir.path().join("ws2");
    let report = ingest(&other, &copy, IngestOptions::default());
    assert_eq!(report.accepted["DeviceLogonEvents"], 24, "{report:?}");
}

#[test]
fn string_columns_a_source_lacks_are_stored_as_nulls_and_read_as_empty_strings() {
    use datafusion::arrow::array::Array;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    // RemoteDeviceName is in no record; RemoteIP in some, so the others get "" for it.
    let mut text = String::new();
    for i in 0..200 {
        let remote = if i % 2 == 0 {
            format!(", \"RemoteIP\": \"10.0.0.{}\"", i % 7)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "{{\"Timestamp\": \"2024-05-01T10:{:02}:00Z\", \"DeviceName\": \"wks-{}\", \"ActionType\": \"LogonSuccess\"{remote}}}\n",
            i % 60,
            i % 5
        ));
    }
    let logons = fixture(dir.path(), "logons.ndjson", &text);
    let options = IngestOptions {
        table: Some("DeviceLogonEvents".into()),
        ..IngestOptions::default()
    };
    assert_eq!(
        ingest(&root, &logons, options).accepted["DeviceLogonEvents"],
        200
    );

    let workspace = Workspace::open(&root).unwrap();
    let file = &workspace.manifest().tables["DeviceLogonEvents"].files[0];
    let reader = ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(root.join(&file.path)).unwrap(),
    )
    .unwrap()
    .build()
    .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let stored_nulls = |name: &str| -> usize {
        batches
            .iter()
            .map(|b| b.column_by_name(name).unwrap().null_count())
            .sum()
    };
    assert_eq!(
        stored_nulls("RemoteDeviceName"),
        200,
        "an absent column is nulls"
    );
    assert_eq!(
        stored_nulls("RemoteIP"),
        0,
        "a partly present column is \"\""
    );

    let rows = query(
        &root,
        r#"DeviceLogonEvents
        | summarize Empty = countif(RemoteDeviceName == "" and isempty(RemoteDeviceName)),
            Null = countif(isnull(RemoteDeviceName)), Length = sum(strlen(RemoteDeviceName)),
            EmptyIp = countif(RemoteIP == ""), Joined = countif(strcat(RemoteDeviceName, "x") == "x")"#,
    );
    assert_eq!(
        rows,
        vec![vec![
            serde_json::json!(200),
            serde_json::json!(0),
            serde_json::json!(0),
            serde_json::json!(100),
            serde_json::json!(200)
        ]]
    );
    let rows = query(
        &root,
        "DeviceLogonEvents | summarize count() by RemoteDeviceName | project RemoteDeviceName",
    );
    assert_eq!(rows, vec![vec![serde_json::json!("")]]);
}

/// Renames `input`'s manifest key to `key`, as an older Quarry would have recorded it.
fn record_as(root: &Path, input: &Path, key: &str) {
    let mut workspace = Workspace::open_for_writing(root).unwrap();
    let mut manifest = workspace.manifest().clone();
    let recorded = manifest
        .inputs
        .iter()
        .find(|(_, entry)| Path::new(&entry.path) == input)
        .map(|(key, _)| key.clone())
        .expect("the input is in the manifest");
    let entry = manifest.inputs.remove(&recorded).unwrap();
    manifest.inputs.insert(key.to_string(), entry);
    workspace.commit(manifest).unwrap();
}

#[test]
fn inputs_are_recognised_by_their_blake3_key_and_by_an_older_sha256_key() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let lines: String = (0..50)
        .map(|i| {
            format!(
                "{{\"Timestamp\": \"2024-05-01T00:{i:02}:00Z\", \"DeviceName\": \"wks-{i}\"}}\n"
            )
        })
        .collect();
    let events = fixture(dir.path(), "events.ndjson", &lines);
    let options = || IngestOptions {
        table: Some("DeviceProcessEvents".into()),
        ..IngestOptions::default()
    };
    assert_eq!(
        ingest(&root, &events, options()).accepted["DeviceProcessEvents"],
        50
    );
    let key = quarry_ingest::content_hash::hash_file(&events).unwrap();
    assert!(key.starts_with("blake3:"));
    assert!(Workspace::open(&root)
        .unwrap()
        .manifest()
        .inputs
        .contains_key(&key));
    assert!(ingest(&root, &events, options()).already_ingested);

    // An older workspace recorded the SHA-256 of a text file's content.
    let content_sha256 = format!("{:x}", Sha256::digest(lines.as_bytes()));
    record_as(&root, &events, &content_sha256);
    assert!(ingest(&root, &events, options()).already_ingested);

    // And of that hex text for a Parquet file.
    let manifest = Workspace::open(&root).unwrap().manifest().clone();
    let written = root.join(&manifest.tables["DeviceProcessEvents"].files[0].path);
    let parquet = dir.path().join("export.parquet");
    std::fs::copy(&written, &parquet).unwrap();
    assert_eq!(
        ingest(&root, &parquet, options()).accepted["DeviceProcessEvents"],
        50
    );
    let bytes = std::fs::read(&parquet).unwrap();
    let parquet_sha256 = format!("{:x}", Sha256::digest(bytes));
    record_as(
        &root,
        &parquet,
        &format!("{:x}", Sha256::digest(parquet_sha256.as_bytes())),
    );
    assert!(ingest(&root, &parquet, options()).already_ingested);
    assert_eq!(
        query(&root, "DeviceProcessEvents | count"),
        vec![vec![serde_json::json!(100)]]
    );
}

#[test]
fn a_custom_table_is_typed_by_every_record_of_the_input_not_just_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let mut text = String::new();
    for i in 0..5_000 {
        text.push_str(&format!(
            "{{\"TimeGenerated\": \"2024-03-02T00:00:00Z\", \"Seq\": {i}, \"Code\": {}}}\n",
            i % 7
        ));
    }
    // The last record alone makes `Code` a string and brings a column no other record has.
    text.push_str(
        r#"{"TimeGenerated": "2024-03-02T00:00:00Z", "Seq": 5000, "Code": "n/a", "Late": true}"#,
    );
    text.push('\n');
    let path = fixture(dir.path(), "app.ndjson", &text);
    let report = ingest(
        &root,
        &path,
        IngestOptions {
            table: Some("App_CL".into()),
            ..IngestOptions::default()
        },
    );
    assert_eq!(report.accepted["App_CL"], 5_001);
    assert_eq!(report.rejected, 0);
    assert_eq!(
        query(
            &root,
            "App_CL | summarize Rows = count(), Sum = sum(Seq), Codes = dcount(Code), \
             Late = countif(Late) by CodeType = gettype(Code), SeqType = gettype(Seq)"
        ),
        vec![vec![
            serde_json::json!("string"),
            serde_json::json!("long"),
            serde_json::json!(5_001),
            serde_json::json!((0..=5_000).sum::<i64>()),
            serde_json::json!(8),
            serde_json::json!(1),
        ]]
    );
    let staged = root.join("tmp");
    let leftovers: Vec<_> = std::fs::read_dir(&staged)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "staging left behind: {leftovers:?}");
}
