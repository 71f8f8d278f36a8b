//! The demo data generator: determinism, sizes, records that fit the table schemas, the
//! business-hours rhythm, and the demo rule pack finding every planted scenario and nothing in the
//! background activity (run with Quarry's engine over the generated records).

use datafusion::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, LargeStringBuilder,
    StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::record_batch::RecordBatch;
use quarry_engine::{Session, SessionConfig};
use quarry_ingest::demo::{
    generate, placeholder_values, rule_pack, scenarios, DemoConfig, DemoStream,
};
use quarry_ingest::Record;
use quarry_schema::{Catalog, KustoType};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

fn config(events: u64, seed: u64, plant: bool) -> DemoConfig {
    DemoConfig {
        events,
        seed,
        plant,
        ..DemoConfig::default()
    }
}

/// The number of planted records (what a stream of zero events still holds).
fn planted_count() -> u64 {
    generate(&config(0, 1, true)).count() as u64
}

/// The time column of a record: `Timestamp` for Defender tables, else `TimeGenerated`.
fn time_of(record: &Record) -> &str {
    record
        .fields
        .get("Timestamp")
        .or_else(|| record.fields.get("TimeGenerated"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{} record without a time: {:?}", record.table, record))
}

fn nanos(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .timestamp_nanos_opt()
        .unwrap()
}

#[test]
fn the_same_config_gives_the_same_records_and_another_seed_others() {
    let first: Vec<Record> = generate(&config(20_000, 7, true)).collect();
    let second: Vec<Record> = generate(&config(20_000, 7, true)).collect();
    assert_eq!(first, second);
    let other: Vec<Record> = generate(&config(20_000, 8, true)).collect();
    assert_eq!(first.len(), other.len());
    assert_ne!(first, other);
}

#[test]
fn the_stream_holds_exactly_the_requested_number_of_events() {
    let planted = planted_count();
    assert!(planted > 300, "{planted} planted records");
    for events in [0, 1, 100, planted - 1, planted, planted + 1, 5_000, 33_333] {
        let stream = generate(&config(events, 3, true));
        assert_eq!(stream.len() as u64, events.max(planted));
        assert_eq!(
            stream.count() as u64,
            events.max(planted),
            "events = {events}"
        );
    }
    for events in [0, 1, 777, 12_345] {
        assert_eq!(generate(&config(events, 3, false)).count() as u64, events);
    }
}

#[test]
fn records_come_in_time_order_within_the_fourteen_days() {
    let demo = config(30_000, 11, true);
    let start = demo.end_nanos - 14 * 86_400 * 1_000_000_000;
    let mut last = i64::MIN;
    for record in generate(&demo) {
        let time = nanos(time_of(&record));
        assert!(time >= last, "time went backwards at {record:?}");
        assert!(
            time >= start && time < demo.end_nanos,
            "{time} out of range"
        );
        last = time;
    }
}

/// Whether `value` is a JSON value of a column of `ty`.
fn fits(value: &Value, ty: KustoType) -> bool {
    match ty {
        KustoType::String | KustoType::Guid => value.is_string(),
        KustoType::Int => value.as_i64().is_some_and(|v| i32::try_from(v).is_ok()),
        KustoType::Long => value.is_i64(),
        KustoType::Real | KustoType::Decimal => value.is_number(),
        KustoType::Bool => value.is_boolean(),
        KustoType::DateTime => value.as_str().is_some_and(|text| {
            text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok()
        }),
        KustoType::TimeSpan => value.is_string(),
        KustoType::Dynamic => value.is_object() || value.is_array(),
    }
}

#[test]
fn every_field_is_a_column_of_its_table_with_a_fitting_value() {
    let catalog = Catalog::embedded();
    let mut tables = BTreeSet::new();
    for record in generate(&config(40_000, 5, true)) {
        let table = catalog
            .table(&record.table)
            .unwrap_or_else(|| panic!("unknown table {}", record.table));
        for (name, value) in &record.fields {
            let column = table
                .column(name)
                .unwrap_or_else(|| panic!("{} has no column {name}", record.table));
            assert!(
                fits(value, column.ty),
                "{}.{name} is {}, got {value}",
                record.table,
                column.ty
            );
        }
        tables.insert(record.table);
    }
    let expected = [
        "DeviceEvents",
        "DeviceFileEvents",
        "DeviceLogonEvents",
        "DeviceNetworkEvents",
        "DeviceProcessEvents",
        "DeviceRegistryEvents",
        "SecurityEvent",
        "SigninLogs",
    ];
    assert_eq!(tables, expected.iter().map(|t| t.to_string()).collect());
}

#[test]
fn weekday_office_hours_are_busier_than_nights() {
    let mut office = 0u64;
    let mut night = 0u64;
    for record in generate(&config(60_000, 9, false)) {
        let time = nanos(time_of(&record));
        let days = time.div_euclid(86_400_000_000_000);
        let hour = time.rem_euclid(86_400_000_000_000) / 3_600_000_000_000;
        let weekday = (days + 3).rem_euclid(7) < 5;
        if weekday && (10..16).contains(&hour) {
            office += 1;
        } else if (0..5).contains(&hour) {
            night += 1;
        }
    }
    assert!(office > 10 * night, "office hours {office}, nights {night}");
}

#[test]
fn devices_scale_with_the_number_of_events() {
    assert_eq!(config(1_000, 1, true).devices(), 20);
    assert_eq!(config(1_000_000, 1, true).devices(), 500);
    assert_eq!(config(10_000_000, 1, true).devices(), 5_000);
    assert_eq!(config(100_000_000, 1, true).devices(), 5_000);
    let names: BTreeSet<String> = generate(&config(400_000, 1, true))
        .take(100_000)
        .filter_map(|r| {
            r.fields
                .get("DeviceName")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .collect();
    assert!(names.len() > 150, "{} devices seen", names.len());
    assert!(names.iter().all(|n| n.ends_with(".contoso.local")));
}

/// The `query:` block of an Azure-Sentinel YAML rule, dedented.
fn query_of(yaml: &str) -> String {
    let mut lines = yaml
        .lines()
        .skip_while(|l| l.trim_end() != "query: |")
        .skip(1);
    let mut out = String::new();
    for line in lines.by_ref() {
        if !line.is_empty() && !line.starts_with(' ') {
            break;
        }
        out.push_str(line.strip_prefix("  ").unwrap_or(line));
        out.push('\n');
    }
    out
}

/// The value of a top-level `key: value` line of a YAML rule.
fn top_level<'a>(yaml: &'a str, key: &str) -> Option<&'a str> {
    yaml.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
        .map(str::trim)
}

#[test]
fn every_scenario_has_a_rule_and_every_rule_is_complete() {
    let pack = rule_pack();
    let mut ids = BTreeMap::new();
    for (file, yaml) in pack {
        assert!(file.ends_with(".yaml"), "{file}");
        let id = top_level(yaml, "id").unwrap_or_else(|| panic!("{file}: no id"));
        assert_eq!(id.len(), 36, "{file}: id {id} is not a GUID");
        assert!(ids.insert(id, *file).is_none(), "{file}: duplicate id {id}");
        for key in [
            "name",
            "description",
            "requiredDataConnectors",
            "tactics",
            "relevantTechniques",
            "query",
            "version",
        ] {
            assert!(
                yaml.lines().any(|l| l.starts_with(&format!("{key}:"))),
                "{file}: no {key}"
            );
        }
        assert!(!query_of(yaml).trim().is_empty(), "{file}: empty query");
        if top_level(yaml, "kind") == Some("Scheduled") {
            for key in [
                "severity",
                "queryFrequency",
                "queryPeriod",
                "triggerOperator",
                "triggerThreshold",
                "entityMappings",
            ] {
                assert!(
                    yaml.lines().any(|l| l.starts_with(&format!("{key}:"))),
                    "{file}: no {key}"
                );
            }
        }
    }
    let kinds: BTreeSet<bool> = pack
        .iter()
        .map(|(_, y)| top_level(y, "kind").is_some())
        .collect();
    assert_eq!(
        kinds.len(),
        2,
        "the pack mixes detections and hunting queries"
    );
    for scenario in scenarios() {
        let file = ids
            .get(scenario.rule_id)
            .unwrap_or_else(|| panic!("{}: no rule {}", scenario.id, scenario.rule_id));
        let yaml = pack
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, y)| *y)
            .unwrap();
        for technique in scenario.techniques {
            assert!(
                yaml.contains(technique.split('.').next().unwrap()),
                "{}: {technique} not in {file}",
                scenario.id
            );
        }
    }
    for (placeholder, value) in placeholder_values() {
        assert!(
            pack.iter().any(|(_, y)| y.contains(placeholder)),
            "{placeholder} unused"
        );
        assert!(!value.is_empty());
    }
}

#[test]
fn planted_records_name_the_scenario_hosts_and_accounts() {
    let text: String = generate(&config(0, 1, true))
        .map(|r| serde_json::to_string(&r.fields).unwrap())
        .collect();
    for scenario in scenarios() {
        assert!(
            text.contains(scenario.device),
            "{}: {}",
            scenario.id,
            scenario.device
        );
        assert!(
            text.contains(scenario.account),
            "{}: {}",
            scenario.id,
            scenario.account
        );
        for table in scenario.tables {
            let planted = generate(&config(0, 1, true)).any(|r| r.table == *table);
            assert!(planted, "{}: nothing in {table}", scenario.id);
        }
    }
}

/// Typed Arrow batches of `records` by table, converted 50,000 records of a table at a time.
fn tables_of(records: impl Iterator<Item = Record>) -> BTreeMap<String, Vec<RecordBatch>> {
    let mut pending: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    let mut out: BTreeMap<String, Vec<RecordBatch>> = BTreeMap::new();
    for record in records {
        let rows = pending.entry(record.table.clone()).or_default();
        rows.push(record);
        if rows.len() == 50_000 {
            let rows = std::mem::take(rows);
            let table = rows[0].table.clone();
            out.entry(table).or_default().push(batch_of(&rows));
        }
    }
    for (table, rows) in pending {
        if !rows.is_empty() {
            out.entry(table).or_default().push(batch_of(&rows));
        }
    }
    out
}

/// One batch of records of the same table, with every column of the table's schema.
fn batch_of(rows: &[Record]) -> RecordBatch {
    let table = Catalog::embedded().table(&rows[0].table).unwrap();
    let schema = quarry_engine::schemas::arrow_schema(table);
    let columns: Vec<ArrayRef> = table
        .columns()
        .iter()
        .map(|column| column_of(rows, &column.name, column.ty))
        .collect();
    RecordBatch::try_new(schema, columns).unwrap()
}

/// One column of `rows` on the Arrow type of `ty` (missing strings are `""`, others null).
fn column_of(rows: &[Record], name: &str, ty: KustoType) -> ArrayRef {
    let values = rows.iter().map(|r| r.fields.get(name));
    match ty {
        KustoType::Bool => {
            let mut b = BooleanBuilder::new();
            values.for_each(|v| b.append_option(v.and_then(Value::as_bool)));
            Arc::new(b.finish())
        }
        KustoType::Int => {
            let mut b = Int32Builder::new();
            values.for_each(|v| b.append_option(v.and_then(Value::as_i64).map(|x| x as i32)));
            Arc::new(b.finish())
        }
        KustoType::Long => {
            let mut b = Int64Builder::new();
            values.for_each(|v| b.append_option(v.and_then(Value::as_i64)));
            Arc::new(b.finish())
        }
        KustoType::Real => {
            let mut b = Float64Builder::new();
            values.for_each(|v| b.append_option(v.and_then(Value::as_f64)));
            Arc::new(b.finish())
        }
        KustoType::DateTime => {
            let mut b = TimestampNanosecondBuilder::new();
            values.for_each(|v| b.append_option(v.and_then(Value::as_str).map(nanos)));
            Arc::new(b.finish())
        }
        KustoType::Dynamic => {
            let mut b = LargeStringBuilder::new();
            values.for_each(|v| b.append_option(v.map(|v| v.to_string())));
            Arc::new(b.finish())
        }
        KustoType::String => {
            let mut b = StringBuilder::new();
            values.for_each(|v| b.append_value(v.and_then(Value::as_str).unwrap_or("")));
            Arc::new(b.finish())
        }
        other => panic!("the demo does not fill {other} columns ({name})"),
    }
}

/// Runs every rule of the pack, placeholders filled, over the records of `stream`, and returns
/// each rule file's result rows as JSON text.
fn run_pack(stream: DemoStream, end_nanos: i64) -> BTreeMap<&'static str, Vec<String>> {
    let session = Session::new(SessionConfig {
        now_nanos: Some(end_nanos),
        target_partitions: Some(2),
        ..SessionConfig::default()
    })
    .unwrap();
    session.register_empty_schemas(Catalog::embedded());
    for (name, batches) in tables_of(stream) {
        let schema = batches[0].schema();
        session.register_batches(&name, schema, batches).unwrap();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut results = BTreeMap::new();
    for (file, yaml) in rule_pack() {
        let mut query = query_of(yaml);
        for (placeholder, value) in placeholder_values() {
            query = query.replace(placeholder, value);
        }
        let output = runtime
            .block_on(session.run(&query))
            .unwrap_or_else(|e| panic!("{file}: {e}\n{query}"));
        let rows = quarry_engine::format::json_rows(&output)
            .into_iter()
            .map(|row| Value::Array(row).to_string())
            .collect();
        results.insert(*file, rows);
    }
    results
}

#[test]
fn the_rule_pack_finds_every_scenario_and_nothing_in_the_background() {
    let planted = config(60_000, 21, true);
    let found = run_pack(generate(&planted), planted.end_nanos);
    for scenario in scenarios() {
        let (file, _) = rule_pack()
            .iter()
            .find(|(_, yaml)| top_level(yaml, "id") == Some(scenario.rule_id))
            .unwrap();
        let rows = &found[file];
        println!("{}: {file} returns {} rows", scenario.id, rows.len());
        assert!(!rows.is_empty(), "{}: {file} found nothing", scenario.id);
        let expected = if scenario.device.is_empty() {
            "192.0.2.187"
        } else {
            scenario.device
        };
        assert!(
            rows.iter().any(|row| row.contains(expected)),
            "{}: {file} does not show {expected}: {rows:?}",
            scenario.id
        );
    }
    let clean = config(60_000, 21, false);
    for (file, rows) in run_pack(generate(&clean), clean.end_nanos) {
        assert!(
            rows.is_empty(),
            "{file} fires on background activity: {rows:?}"
        );
    }
}

/// The rule pack over a large clean data set finds nothing either (`QUARRY_DEMO_EVENTS`, default
/// 1,000,000; run in release with `-- --ignored --nocapture at_scale`; `QUARRY_DEMO_PLANT=1`
/// plants the scenarios and prints what each rule finds).
#[test]
#[ignore]
fn the_rule_pack_stays_quiet_on_background_activity_at_scale() {
    let events = std::env::var("QUARRY_DEMO_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let plant = std::env::var("QUARRY_DEMO_PLANT").is_ok_and(|v| v == "1");
    let demo = config(events, 42, plant);
    for (file, rows) in run_pack(generate(&demo), demo.end_nanos) {
        println!("{file}: {} rows", rows.len());
        for row in rows.iter().take(3) {
            println!("  {row}");
        }
        if !plant {
            assert!(rows.is_empty(), "{file} fires on background activity");
        }
    }
}

/// Prints the generation rate (run in release: `cargo test --release -p quarry-ingest --test
/// demo_generator -- --ignored --nocapture throughput`).
#[test]
#[ignore]
fn throughput() {
    let events: u64 = std::env::var("QUARRY_DEMO_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let started = std::time::Instant::now();
    let mut fields = 0usize;
    for record in generate(&config(events, 42, true)) {
        fields += record.fields.len();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{events} events ({fields} fields) in {seconds:.2} s: {:.0} events/s",
        events as f64 / seconds
    );
}

/// Writes the demo data as NDJSON, one file per table, into `QUARRY_DEMO_DIR` (for trying the
/// rules with `quarry query`); `QUARRY_DEMO_EVENTS` and `QUARRY_DEMO_PLANT=0` set the size and
/// leave the scenarios out.
#[test]
#[ignore]
fn dump_ndjson() {
    use std::io::Write;
    let Ok(dir) = std::env::var("QUARRY_DEMO_DIR") else {
        return;
    };
    let events = std::env::var("QUARRY_DEMO_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let plant = std::env::var("QUARRY_DEMO_PLANT").map_or(true, |v| v != "0");
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = BTreeMap::new();
    for record in generate(&config(events, 42, plant)) {
        let file = files.entry(record.table.clone()).or_insert_with(|| {
            let path = std::path::Path::new(&dir).join(format!("{}.ndjson", record.table));
            std::io::BufWriter::new(std::fs::File::create(path).unwrap())
        });
        serde_json::to_writer(&mut *file, &record.fields).unwrap();
        file.write_all(b"\n").unwrap();
    }
}
