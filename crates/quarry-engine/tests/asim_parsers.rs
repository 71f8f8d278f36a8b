//! Real ASIM parsers from the Azure-Sentinel corpus, registered as stored functions over the
//! embedded table schemas (empty tables): the unifying parsers (`imDns`, `_Im_Dns`,
//! `imProcessCreate`) must plan and run, with `_GetWatchlist('ASimDisabledParsers')` missing.

use quarry_engine::{Session, SessionConfig, StoredFunction, StoredParameter};
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParserParam {
    name: String,
    #[serde(rename = "Type")]
    kusto_type: String,
    default: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParserFile {
    parser_name: String,
    equivalent_built_in_parser: Option<String>,
    #[serde(default)]
    parser_params: Vec<ParserParam>,
    parser_query: String,
}

fn corpus_dir() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/azure-sentinel/Parsers");
    assert!(
        dir.is_dir(),
        "the Azure-Sentinel corpus is missing: expected the parsers at {}",
        dir.display()
    );
    dir
}

/// Every parser of `folder` (e.g. `ASimDns`), once under its name and once under its built-in
/// alias.
fn parsers(folder: &str) -> Vec<StoredFunction> {
    let dir = corpus_dir().join(folder).join("Parsers");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no parsers in {}", dir.display());
    let mut functions = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let options = serde_saphyr::options! {
            duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
        };
        let file: ParserFile = serde_saphyr::from_str_with_options(text, options)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let parameters: Vec<StoredParameter> = file
            .parser_params
            .into_iter()
            .map(|p| StoredParameter {
                name: p.name,
                kusto_type: p.kusto_type,
                default: p.default.map(|d| match d {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
            })
            .collect();
        let mut names = vec![file.parser_name];
        names.extend(file.equivalent_built_in_parser);
        for name in names {
            functions.push(StoredFunction {
                name: name.trim().to_string(),
                parameters: parameters.clone(),
                body: file.parser_query.clone(),
            });
        }
    }
    functions
}

fn asim_session() -> Session {
    let session = Session::new(SessionConfig {
        target_partitions: Some(2),
        // A fixed instant keeps `ago()` reproducible.
        now_nanos: Some(1_700_000_000_000_000_000),
        ..SessionConfig::default()
    })
    .unwrap();
    session.register_empty_schemas(quarry_schema::Catalog::embedded());
    let mut errors = session.register_functions(parsers("ASimDns"));
    errors.extend(session.register_functions(parsers("ASimProcessEvent")));
    assert!(errors.is_empty(), "parsers that do not parse: {errors:#?}");
    session
}

#[test]
fn a_parser_runs_once_the_schema_has_its_columns() {
    let session = asim_session();
    let query = "ASimDnsMicrosoftOMS(false) | take 1";
    let error = session.run_blocking(query).unwrap_err().to_string();
    assert!(error.contains("ReportReferenceLink"), "{error}");
    // The embedded `DnsEvents` lacks a column the parser reads; with it the parser runs.
    let table = quarry_schema::Catalog::embedded()
        .table("DnsEvents")
        .unwrap();
    let schema = quarry_engine::schemas::arrow_schema(table);
    let mut fields: Vec<_> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(datafusion::arrow::datatypes::Field::new(
        "ReportReferenceLink",
        datafusion::arrow::datatypes::DataType::Utf8,
        true,
    ));
    let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
    session
        .register_batches("DnsEvents", schema, Vec::new())
        .unwrap();
    let output = session
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    assert_eq!(output.row_count(), 0);
}

#[test]
fn unifying_asim_parsers_run_over_empty_tables() {
    let session = asim_session();
    for query in [
        "imDns | take 10",
        "_Im_Dns(starttime=ago(1d)) | summarize count()",
        "ASimDnsMicrosoftSysmon(false) | take 1",
        "vimDnsMicrosoftSysmon(starttime=ago(1h), srcipaddr='10.0.0.1', domain_has_any=dynamic(['contoso.com'])) | take 1",
        "imProcessCreate | take 10",
        "imProcessCreate | where CommandLine has 'powershell' | summarize count() by DvcHostname",
    ] {
        let output = session
            .run_blocking(query)
            .unwrap_or_else(|e| panic!("{query}: {e}"));
        let expected_rows = usize::from(query.contains("summarize count()") && !query.contains(" by "));
        assert_eq!(output.row_count(), expected_rows, "{query}");
        // The unifying parsers read the disabled-parsers watchlist, which does not exist: it is
        // read as empty, with a warning.
        let unifying = query.starts_with("im") || query.starts_with("_Im_");
        let warned = output
            .warnings
            .iter()
            .any(|w| w.message.contains("ASimDisabledParsers"));
        assert_eq!(warned, unifying, "{query}: {:?}", output.warnings);
    }
}

/// Every parser plans, or fails only for want of something outside this test: a custom table
/// (`*_CL`) or ASIM helper function that is not loaded, or a column the embedded schemas lack.
#[test]
fn every_asim_dns_and_process_parser_plans_or_lacks_only_data() {
    let session = asim_session();
    let mut planned = Vec::new();
    let mut missing = Vec::new();
    let mut failures = Vec::new();
    let mut bodies = std::collections::HashSet::new();
    let mut names = session.stored_function_names();
    // The parser's own name before its built-in alias (`imDns` before `_Im_Dns`).
    names.sort_by_key(|name| (name.starts_with('_'), name.clone()));
    for name in names {
        // A parser registered under two names is planned once (planning over wide tables such
        // as AzureDiagnostics takes seconds in a debug build).
        let function = session.stored_function(&name).unwrap();
        if !bodies.insert(function.body().to_string()) {
            continue;
        }
        match session.plan_with_warnings(&format!("{name} | take 1")) {
            Ok(_) => planned.push(name),
            Err(error) => {
                let text = error.to_string();
                let lacks_data = text.starts_with("unknown table `") && text.contains("_CL`")
                    || text.starts_with("unknown function `_ASIM_")
                    || text.starts_with("unknown column");
                if lacks_data {
                    missing.push(format!("{name}: {text}"));
                } else {
                    failures.push(format!("{name}: {text}"));
                }
            }
        }
    }
    eprintln!(
        "{} parsers plan; {} lack tables, helpers or schema columns:\n{}",
        planned.len(),
        missing.len(),
        missing.join("\n")
    );
    assert!(
        failures.is_empty(),
        "{} parsers fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    for name in ["imDns", "vimDnsEmpty", "imProcessCreate", "vimProcessEmpty"] {
        assert!(planned.iter().any(|p| p == name), "{name} does not plan");
    }
}
