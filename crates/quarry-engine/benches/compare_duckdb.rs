//! Quarry side of `bench/compare-duckdb`: runs hunting-shaped KQL queries over the Parquet files
//! in `$QUARRY_BENCH_DATA` and prints one JSON line per query.

use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use quarry_engine::format::json_rows;
use quarry_engine::{Session, SessionConfig};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

// The `quarry` binary runs on mimalloc; the bench measures the engine as users get it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let dir = match std::env::var("QUARRY_BENCH_DATA") {
        Ok(dir) => dir,
        Err(_) => {
            eprintln!("compare_duckdb: QUARRY_BENCH_DATA is not set; nothing to do");
            return;
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(run(&dir));
}

async fn register(session: &Session, dir: &str, table: &str) {
    let path = format!("{dir}/{table}.parquet");
    let url = ListingTableUrl::parse(&path).expect("table url");
    // Strings as views, as workspace tables read them (`quarry_engine::schemas::scan_schema`).
    let format = ParquetFormat::default().with_force_view_types(true);
    let options = ListingOptions::new(Arc::new(format)).with_file_extension(".parquet");
    let state = session.context().state();
    let inferred = options
        .infer_schema(&state, &url)
        .await
        .expect("infer schema");
    let schema = inferred;
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(schema.clone());
    let provider = ListingTable::try_new(config).expect("listing table");
    for field in schema.fields() {
        eprintln!("{table}.{}: {}", field.name(), field.data_type());
    }
    session.register_table(table, Arc::new(provider));
}

const TABLES: [&str; 3] = [
    "DeviceProcessEvents",
    "DeviceNetworkEvents",
    "DeviceFileEvents",
];

const QUERIES: &[(&str, &str)] = &[
    (
        "encoded_powershell",
        r#"DeviceProcessEvents
        | where FileName in~ ("powershell.exe", "pwsh.exe") and ProcessCommandLine has "encodedcommand"
        | summarize Count = count() by DeviceName
        | sort by Count desc, DeviceName asc
        | take 10"#,
    ),
    (
        "credential_dumping",
        r#"DeviceProcessEvents
        | where ProcessCommandLine contains "mimikatz" or InitiatingProcessCommandLine contains "SEKURLSA"
        | summarize Count = count() by AccountName"#,
    ),
    (
        "lolbin_network",
        r#"DeviceNetworkEvents
        | where InitiatingProcessFileName in~ ("powershell.exe", "rundll32.exe", "regsvr32.exe", "mshta.exe") and RemotePort in (443, 80, 8080)
        | summarize Connections = count(), Devices = dcount(DeviceName) by InitiatingProcessFileName, RemotePort"#,
    ),
    (
        "hourly_network",
        r#"DeviceNetworkEvents
        | summarize Count = count() by bin(Timestamp, 1h)"#,
    ),
    (
        "distinct_per_account",
        r#"DeviceProcessEvents
        | summarize Devices = dcount(DeviceName), Hashes = dcount(SHA256) by AccountName"#,
    ),
    (
        "latest_per_device",
        r#"DeviceProcessEvents
        | summarize arg_max(Timestamp, *) by DeviceName
        | project DeviceName, Timestamp, FileName, ProcessCommandLine, ProcessId"#,
    ),
    (
        "process_network_join",
        r#"DeviceProcessEvents
        | where FileName in~ ("powershell.exe", "cmd.exe")
        | project DeviceName, ProcessId, ProcTime = Timestamp
        | join kind=inner (DeviceNetworkEvents
        | where RemotePort == 443
        | project DeviceName, InitiatingProcessId, NetTime = Timestamp) on DeviceName, $left.ProcessId == $right.InitiatingProcessId
        | where NetTime between (ProcTime .. (ProcTime + 1d))
        | summarize Count = count() by DeviceName
        | sort by Count desc, DeviceName asc
        | take 10"#,
    ),
    (
        "file_tags_mv_expand",
        r#"DeviceFileEvents
        | mv-expand Tag = parse_json(AdditionalFields).Tags
        | summarize Count = count() by Tag = tostring(Tag)"#,
    ),
    (
        "parse_computer_name",
        r#"DeviceProcessEvents
        | where ProcessCommandLine has "ComputerName"
        | parse ProcessCommandLine with * "-ComputerName " Target " " *
        | summarize Count = count() by Target"#,
    ),
    (
        "extract_download_host",
        r#"DeviceProcessEvents
        | extend Host = extract(@"https?://([a-z0-9.-]+)", 1, ProcessCommandLine)
        | where isnotempty(Host)
        | summarize Count = count(), Devices = dcount(DeviceName) by Host"#,
    ),
    (
        "top_file_sizes",
        r#"DeviceFileEvents
        | where ActionType == "FileCreated"
        | top 10 by FileSize desc
        | project DeviceName, FileName, FolderPath, FileSize, Timestamp"#,
    ),
    (
        "suspicious_urls",
        r#"DeviceNetworkEvents
        | where RemoteUrl endswith "pastebin.com" or RemoteUrl startswith "raw."
        | summarize Count = count(), Devices = dcount(DeviceName) by RemoteUrl"#,
    ),
    (
        "singleton_hashes",
        r#"DeviceFileEvents
        | summarize Devices = dcount(DeviceName) by SHA256
        | where Devices == 1
        | count"#,
    ),
    (
        "hourly_series_by_process",
        r#"DeviceNetworkEvents
        | make-series Connections = count() default = 0 on Timestamp from datetime(2026-01-01) to datetime(2026-01-08) step 1h by InitiatingProcessFileName
        | project InitiatingProcessFileName, Connections"#,
    ),
    (
        "child_parent_network_joins",
        r#"let children = DeviceProcessEvents
        | where FileName in~ ("powershell.exe", "cmd.exe", "rundll32.exe")
        | project DeviceName, ProcessId, InitiatingProcessId, FileName;
        let parents = DeviceProcessEvents
        | summarize ParentCount = count() by DeviceName, ProcessId;
        let net = DeviceNetworkEvents
        | where RemotePort in (443, 8080)
        | summarize Connections = count() by DeviceName, InitiatingProcessId;
        children
        | join kind=inner parents on DeviceName, $left.InitiatingProcessId == $right.ProcessId
        | join kind=inner net on DeviceName, $left.ProcessId == $right.InitiatingProcessId
        | summarize Processes = count(), Connections = sum(Connections), Parents = sum(ParentCount) by FileName"#,
    ),
    (
        "daily_encoded_ratio",
        r#"DeviceProcessEvents
        | summarize Total = count(), Encoded = countif(ProcessCommandLine has "encodedcommand") by Day = bin(Timestamp, 1d)"#,
    ),
];

async fn run(dir: &str) {
    let session = Session::new(SessionConfig::default()).expect("session");
    for table in TABLES {
        register(&session, dir, table).await;
    }
    let filter: Option<String> = std::env::var("QUARRY_BENCH_ONLY").ok();
    // QUARRY_BENCH_KQL runs one ad-hoc query instead of the list (for trying out a rewrite).
    let adhoc: Option<String> = std::env::var("QUARRY_BENCH_KQL").ok();
    let queries: Vec<(&str, &str)> = match &adhoc {
        Some(kql) => vec![("adhoc", kql.as_str())],
        None => QUERIES.to_vec(),
    };
    for (name, kql) in &queries {
        if let Some(only) = &filter {
            if !only.split(',').any(|n| n == *name) {
                continue;
            }
        }
        // QUARRY_BENCH_EXPLAIN prints each query's plans to stderr before it runs.
        if std::env::var_os("QUARRY_BENCH_EXPLAIN").is_some() {
            match session.explain(kql).await {
                Ok(plans) => eprintln!("== {name}\n{plans}"),
                Err(error) => eprintln!("== {name}: {error}"),
            }
        }
        // QUARRY_BENCH_ANALYZE runs each query once more and prints its plan with metrics.
        if std::env::var_os("QUARRY_BENCH_ANALYZE").is_some() {
            eprintln!("== {name} (analyzed)\n{}", analyze(&session, kql).await);
        }
        let mut best = f64::INFINITY;
        let mut last = None;
        for _ in 0..3 {
            let start = Instant::now();
            let output = match session.run(kql).await {
                Ok(output) => output,
                Err(error) => {
                    println!("{}", json!({"name": name, "error": error.to_string()}));
                    last = None;
                    break;
                }
            };
            best = best.min(start.elapsed().as_secs_f64());
            last = Some(output);
        }
        let Some(output) = last else { continue };
        let mut rows: Vec<Value> = json_rows(&output).into_iter().map(Value::Array).collect();
        rows.sort_by_key(|row| row.to_string());
        rows.truncate(50);
        println!(
            "{}",
            json!({"name": name, "seconds": best, "rows": output.row_count(), "result": rows})
        );
    }
    println!("{}", json!({"peak_rss_kb": peak_rss_kb()}));
}

/// The physical plan of `kql` after running it, with each operator's metrics.
async fn analyze(session: &Session, kql: &str) -> String {
    let outcome = async {
        let plan = session.logical_plan(kql)?;
        let state = session.context().state();
        let physical = state.create_physical_plan(&plan).await?;
        let task = Arc::new(datafusion::execution::TaskContext::from(&state));
        datafusion::physical_plan::collect(physical.clone(), task).await?;
        let shown = datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(
            physical.as_ref(),
        )
        .indent(true)
        .to_string();
        Ok::<_, Box<dyn std::error::Error>>(shown)
    };
    outcome
        .await
        .unwrap_or_else(|error| format!("error: {error}"))
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
