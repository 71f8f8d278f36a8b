//! `quarry hunt`: select catalog rules, run them over the workspace, store the findings, report.

use crate::cli::{HuntArgs, HuntFormat};
use crate::commands::rules::{
    now_rfc3339, open_catalog, parse_kind, workspace_tables, CATALOG_FILE,
};
use crate::commands::{runtime, CommandError, Outcome};
use quarry_engine::session::default_memory_limit;
use quarry_engine::values::{format_datetime, parse_datetime};
use quarry_hunt::findings::FindingsStore;
use quarry_hunt::hunt::{
    run_hunt, store_runs, HuntOptions, HuntStatus, ParameterValues, WindowOptions,
};
use quarry_hunt::report::{sarif, summarise, write_csv, write_text};
use quarry_ingest::Workspace;
use quarry_rules::catalog::{RuleFilter, RuleRecord};
use quarry_rules::coverage::{coverage, navigator_layer};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::time::{Duration, Instant};

fn time_option(name: &str, text: &Option<String>) -> Result<Option<i64>, CommandError> {
    match text {
        None => Ok(None),
        Some(text) => parse_datetime(text).map(Some).ok_or_else(|| {
            CommandError::Usage(format!(
                "{name} {text}: not a date and time (use e.g. 2024-05-01T00:00:00Z)"
            ))
        }),
    }
}

/// Runs `quarry hunt`.
pub fn run(args: &HuntArgs) -> Result<Outcome, CommandError> {
    let runtime = runtime()?;
    #[cfg(feature = "distributed")]
    let (cluster, root) = crate::commands::cluster::connect_with_workspace(
        &runtime,
        args.cluster.as_deref(),
        &args.workspace.workspace,
    )?;
    #[cfg(feature = "distributed")]
    let root = &root;
    #[cfg(not(feature = "distributed"))]
    let root = &args.workspace.workspace;
    let workspace = Workspace::open(root).map_err(|e| CommandError::Usage(e.to_string()))?;
    let catalog = open_catalog(root)?;
    let mut values = ParameterValues::default();
    values
        .add_options(&args.params)
        .map_err(|e| CommandError::Usage(e.to_string()))?;
    if let Some(file) = &args.params_file {
        values
            .add_file(file)
            .map_err(|e| CommandError::Usage(e.to_string()))?;
    }
    let window = WindowOptions {
        from: time_option("--from", &args.from)?,
        to: time_option("--to", &args.to)?,
    };
    let records = select(&catalog, args, root)?;
    let functions = catalog
        .functions()
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    let options = HuntOptions {
        values,
        window,
        concurrency: args
            .concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        time_limit: Some(Duration::from_secs(args.timeout.max(1))),
        memory_limit: default_memory_limit(),
        max_findings_per_rule: args.max_findings,
        functions,
        shared_scans: !args.no_shared_scans,
        network_access: crate::commands::query::network_access(args.allow_network),
    };
    let mut store = FindingsStore::open(&root.join(CATALOG_FILE))
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    let started_at = now_rfc3339();
    let run_id = store
        .start_run(&started_at)
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    let started = Instant::now();
    #[cfg(feature = "distributed")]
    let (mut runs, shared) = match &cluster {
        Some(cluster) => {
            // Shared scans would ship whole tables inside every plan; the executors read the
            // Parquet files instead.
            let options = HuntOptions {
                shared_scans: false,
                ..options.clone()
            };
            let make_session = |config| Ok(cluster.session(config, Some(root)));
            runtime.block_on(quarry_hunt::hunt::run_hunt_with(
                &workspace,
                &records,
                &options,
                &make_session,
            ))
        }
        None => runtime.block_on(run_hunt(&workspace, &records, &options)),
    };
    #[cfg(not(feature = "distributed"))]
    let (mut runs, shared) = runtime.block_on(run_hunt(&workspace, &records, &options));
    let wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    store_runs(&mut store, run_id, &mut runs).map_err(|e| CommandError::Failed(e.to_string()))?;
    let table_rows: BTreeMap<String, u64> = workspace
        .manifest()
        .tables
        .iter()
        .map(|(name, entry)| (name.clone(), entry.rows()))
        .collect();
    let now_note = match window.to {
        Some(to) => format!("pinned by --to to {}", format_datetime(to, true)),
        None => {
            let latest = runs
                .iter()
                .filter_map(|r| r.window.as_ref().map(|w| w.now))
                .max();
            format!(
                "each rule's now() is the latest event in the tables it reads (latest: {}); its window starts {}",
                latest.map_or("no data".to_string(), |n| format_datetime(n, true)),
                if window.from.is_some() { "at --from".to_string() } else { "one look-back earlier (its queryPeriod or ago(), else 1 day)".to_string() }
            )
        }
    };
    let mut summary = summarise(run_id, &runs, wall_ms, &table_rows, now_note);
    summary.shared_tables = shared.shared.clone();
    summary.shared_bytes = shared.bytes;
    let finished_at = now_rfc3339();
    store
        .finish_run(
            run_id,
            &finished_at,
            &serde_json::to_value(&summary).unwrap_or_default(),
        )
        .map_err(|e| CommandError::Failed(e.to_string()))?;

    if let Some(path) = &args.navigator {
        let fired: BTreeSet<String> = runs
            .iter()
            .filter(|r| matches!(r.status, HuntStatus::Hits(_)))
            .map(|r| r.rule_id.clone())
            .collect();
        let summaries: Vec<_> = records
            .iter()
            .filter(|r| fired.contains(&r.rule.id))
            .map(|r| r.summary.clone())
            .collect();
        let matrix = coverage(&summaries, workspace_tables(root).as_ref(), &fired);
        let layer = navigator_layer(
            &matrix,
            &format!("Quarry hunt {run_id}: techniques that fired"),
        );
        std::fs::write(
            path,
            serde_json::to_string_pretty(&layer).unwrap_or_default(),
        )
        .map_err(|e| CommandError::Failed(format!("cannot write {}: {e}", path.display())))?;
    }
    let mut buffer: Vec<u8> = Vec::new();
    match args.format {
        HuntFormat::Text => write_text(&runs, &summary, args.all, &mut buffer)?,
        HuntFormat::Csv => write_csv(&runs, &mut buffer)?,
        HuntFormat::Json => {
            let document = json!({"summary": summary, "rules": runs});
            buffer.extend(
                serde_json::to_string_pretty(&document)
                    .unwrap_or_default()
                    .into_bytes(),
            );
            buffer.push(b'\n');
        }
        HuntFormat::Sarif => {
            buffer.extend(
                serde_json::to_string_pretty(&sarif(&runs, &started_at, &finished_at))
                    .unwrap_or_default()
                    .into_bytes(),
            );
            buffer.push(b'\n');
        }
    }
    match &args.output {
        Some(path) => std::fs::write(path, &buffer)
            .map_err(|e| CommandError::Failed(format!("cannot write {}: {e}", path.display())))?,
        None => std::io::stdout().lock().write_all(&buffer)?,
    }
    Ok(if summary.fired > 0 || summary.failed > 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

/// The rules a hunt runs: by id, else by the filters.
fn select(
    catalog: &quarry_rules::catalog::Catalog,
    args: &HuntArgs,
    root: &std::path::Path,
) -> Result<Vec<RuleRecord>, CommandError> {
    let failed = |e: quarry_rules::catalog::CatalogError| CommandError::Failed(e.to_string());
    if !args.ids.is_empty() {
        let mut records = Vec::new();
        for id in &args.ids {
            let found = catalog.rule(id).map_err(failed)?;
            if found.is_empty() {
                return Err(CommandError::Usage(format!(
                    "no rule with id `{id}` in the catalog"
                )));
            }
            records.extend(found.into_iter().filter(|r| r.summary.removed_at.is_none()));
        }
        return Ok(records);
    }
    let kind = parse_kind(args.kind.as_deref())?;
    let filter = RuleFilter {
        source: args.source.clone(),
        kind,
        severity: args.severity.clone(),
        table: args.table.clone(),
        tactic: args.tactic.clone(),
        technique: args.technique.clone(),
        tag: args.tag.clone(),
        runnable_on: args
            .runnable
            .then(|| workspace_tables(root).unwrap_or_default()),
        ..RuleFilter::default()
    };
    let summaries = catalog.list(&filter).map_err(failed)?;
    let mut records = Vec::with_capacity(summaries.len());
    for summary in summaries {
        records.extend(
            catalog
                .rule(&summary.path)
                .map_err(failed)?
                .into_iter()
                .filter(|r| r.summary.pk == summary.pk),
        );
    }
    Ok(records)
}
