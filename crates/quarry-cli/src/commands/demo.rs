//! `quarry demo`: builds the demo workspace, hunts with the demo rules and prints what fired.

use crate::cli::{DemoArgs, Format};
use crate::commands::{CommandError, Outcome};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quarry_engine::values::format_datetime;
use quarry_hunt::demo::{run_demo, DemoOptions, DemoReport};
use quarry_hunt::hunt::HuntStatus;
use quarry_ingest::demo::DemoConfig;
use serde_json::json;

/// Runs `quarry demo`.
pub fn run(args: &DemoArgs) -> Result<Outcome, CommandError> {
    let options = DemoOptions {
        workspace: args.workspace.clone(),
        config: DemoConfig {
            events: args.events,
            seed: args.seed,
            ..DemoConfig::default()
        },
        now: crate::commands::rules::now_rfc3339(),
    };
    let bar = ProgressBar::with_draw_target(Some(args.events), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} events ({per_sec}) generating and ingesting",
    ) {
        bar.set_style(style);
    }
    let mut on_progress = |p: quarry_ingest::Progress| bar.set_position(p.records);
    let report = run_demo(&options, &mut on_progress);
    bar.finish_and_clear();
    let report = report.map_err(|e| CommandError::Failed(e.to_string()))?;
    match args.format {
        Format::Json => print_json(args, &report),
        Format::Text => print_text(args, &report),
    }
    if args.serve {
        return super::serve::serve_workspace(&args.workspace, args.bind, None, Default::default());
    }
    Ok(if report.all_found() && report.unexplained.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// The human summary.
fn print_text(args: &DemoArgs, report: &DemoReport) {
    let events = report.ingest.total_accepted();
    println!(
        "demo workspace {}: {events} events in {} tables, generated and ingested in {:.1} s ({:.0} events/s)",
        args.workspace.display(),
        report.ingest.accepted.len(),
        report.ingest_time.as_secs_f64(),
        events as f64 / report.ingest_time.as_secs_f64().max(1e-9),
    );
    println!(
        "hunt: {} rules, now() pinned to the latest event, {}",
        report.runs.len(),
        format_datetime(report.now, true)
    );
    println!();
    let name_width = report
        .runs
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:<name_width$}  {:<13}  result", "rule", "severity");
    for run in &report.runs {
        let result = match &run.status {
            HuntStatus::Hits(rows) => format!("FIRED: {rows} rows"),
            HuntStatus::NoHits => "no hits".to_string(),
            HuntStatus::Skipped(reason) => format!("skipped: {reason}"),
            HuntStatus::Error(message) => format!("error: {message}"),
            HuntStatus::TimedOut(secs) => format!("stopped after {secs} s"),
        };
        let severity = match run.severity.as_str() {
            "" => "-",
            other => other,
        };
        println!("{:<name_width$}  {severity:<13}  {result}", run.name);
    }
    println!();
    for result in &report.scenarios {
        let scenario = result.scenario;
        let place: Vec<&str> = [scenario.device, scenario.account]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        println!(
            "{} {} ({}){}",
            if result.found { "found   " } else { "MISSED  " },
            scenario.title,
            scenario.techniques.join(", "),
            if place.is_empty() {
                String::new()
            } else {
                format!(" on {}", place.join(" / "))
            }
        );
    }
    for (rule, rows) in &report.unexplained {
        println!("unexplained: {rule} returned {rows} rows no planted scenario accounts for");
    }
    let found = report.scenarios.iter().filter(|s| s.found).count();
    println!(
        "found {found} of {} planted scenarios; hunt took {:.2} s",
        report.scenarios.len(),
        report.hunt_time.as_secs_f64()
    );
    println!(
        "next: quarry rules list -w {0}   quarry hunt -w {0}   quarry query -w {0} 'DeviceProcessEvents | take 10'",
        args.workspace.display()
    );
}

/// The JSON summary.
fn print_json(args: &DemoArgs, report: &DemoReport) {
    let rules: Vec<_> = report
        .runs
        .iter()
        .map(|r| {
            let (rows, error) = match &r.status {
                HuntStatus::Hits(rows) => (*rows, None),
                HuntStatus::NoHits => (0, None),
                HuntStatus::Skipped(reason) => (0, Some(reason.to_string())),
                HuntStatus::Error(message) => (0, Some(message.clone())),
                HuntStatus::TimedOut(secs) => (0, Some(format!("stopped after {secs} s"))),
            };
            json!({
                "id": r.rule_id,
                "name": r.name,
                "severity": r.severity,
                "techniques": r.techniques,
                "status": r.status.label(),
                "rows": rows,
                "error": error,
                "seconds": r.elapsed_ms as f64 / 1000.0,
            })
        })
        .collect();
    let scenarios: Vec<_> = report
        .scenarios
        .iter()
        .map(|s| {
            json!({
                "id": s.scenario.id,
                "title": s.scenario.title,
                "techniques": s.scenario.techniques,
                "rule_id": s.scenario.rule_id,
                "found": s.found,
            })
        })
        .collect();
    let unexplained: Vec<_> = report
        .unexplained
        .iter()
        .map(|(rule, rows)| json!({"rule": rule, "rows": rows}))
        .collect();
    let document = json!({
        "workspace": args.workspace.display().to_string(),
        "events": report.ingest.total_accepted(),
        "tables": report.ingest.accepted,
        "now": format_datetime(report.now, true),
        "ingest_seconds": report.ingest_time.as_secs_f64(),
        "hunt_seconds": report.hunt_time.as_secs_f64(),
        "run_id": report.run_id,
        "rules": rules,
        "scenarios": scenarios,
        "unexplained": unexplained,
    });
    println!("{document:#}");
}
