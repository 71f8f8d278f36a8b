//! `quarry demo`: builds the demo workspace, hunts with the demo rules and prints what fired.

use crate::cli::{DemoArgs, Format};
use crate::commands::{CommandError, Outcome};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quarry_engine::values::format_datetime;
use quarry_hunt::demo::{run_demo, DemoOptions, DemoReport};
use quarry_hunt::RuleStatus;
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
        report.outcomes.len(),
        format_datetime(report.now, true)
    );
    println!();
    let name_width = report
        .outcomes
        .iter()
        .map(|o| o.rule.header.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:<name_width$}  {:<13}  result", "rule", "severity");
    for outcome in &report.outcomes {
        let result = match &outcome.status {
            RuleStatus::Hits(rows) => format!("FIRED: {rows} rows"),
            RuleStatus::NoHits => "no hits".to_string(),
            RuleStatus::Error(message) => format!("error: {message}"),
        };
        let severity = match outcome.rule.header.severity.as_str() {
            "" => "-",
            other => other,
        };
        println!(
            "{:<name_width$}  {severity:<13}  {result}",
            outcome.rule.header.name
        );
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
        "next: quarry tables -w {0}   quarry query -w {0} 'DeviceProcessEvents | take 10'",
        args.workspace.display()
    );
}

/// The JSON summary.
fn print_json(args: &DemoArgs, report: &DemoReport) {
    let rules: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| {
            let (status, rows, error) = match &o.status {
                RuleStatus::Hits(rows) => ("hits", *rows, None),
                RuleStatus::NoHits => ("no_hits", 0, None),
                RuleStatus::Error(message) => ("error", 0, Some(message.clone())),
            };
            json!({
                "id": o.rule.header.id,
                "name": o.rule.header.name,
                "severity": o.rule.header.severity,
                "techniques": o.rule.header.relevant_techniques,
                "status": status,
                "rows": rows,
                "error": error,
                "seconds": o.elapsed.as_secs_f64(),
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
        "rules": rules,
        "scenarios": scenarios,
        "unexplained": unexplained,
    });
    println!("{document:#}");
}
