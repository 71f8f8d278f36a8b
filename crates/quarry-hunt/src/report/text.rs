//! The terminal report of a hunt: one line per rule, totals by severity and tactic, the run
//! summary.

use super::HuntSummary;
use crate::hunt::{HuntStatus, RuleRun};
use std::io::Write;

/// A byte count in B, KiB, MiB, GiB or TiB.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Writes the per-rule table (fired rules first), the totals and the run summary.
pub fn write_text(
    runs: &[RuleRun],
    summary: &HuntSummary,
    all: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut order: Vec<&RuleRun> = runs.iter().collect();
    let rank = |r: &RuleRun| match r.status {
        HuntStatus::Hits(_) => 0,
        HuntStatus::Error(_) | HuntStatus::TimedOut(_) => 1,
        HuntStatus::NoHits => 2,
        HuntStatus::Skipped(_) => 3,
    };
    order.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.name.cmp(&b.name)));
    writeln!(
        out,
        "{:<10} {:>6} {:>5}  {:<13} {:<44} detail",
        "status", "hits", "new", "severity", "rule"
    )?;
    let mut hidden = 0;
    for run in order {
        let (hits, detail) = match &run.status {
            HuntStatus::Hits(n) => (n.to_string(), run.techniques.join(" ")),
            HuntStatus::NoHits => ("0".to_string(), String::new()),
            HuntStatus::Skipped(reason) => ("-".to_string(), reason.to_string()),
            HuntStatus::Error(message) => (
                "-".to_string(),
                message.lines().next().unwrap_or("").to_string(),
            ),
            HuntStatus::TimedOut(secs) => ("-".to_string(), format!("stopped after {secs} s")),
        };
        if !all && matches!(run.status, HuntStatus::Skipped(_) | HuntStatus::NoHits) {
            hidden += 1;
            continue;
        }
        writeln!(
            out,
            "{:<10} {:>6} {:>5}  {:<13} {:<44} {}",
            run.status.label(),
            hits,
            if matches!(run.status, HuntStatus::Hits(_)) {
                run.new_findings.to_string()
            } else {
                String::new()
            },
            cut(&run.severity, 13),
            cut(&run.name, 44),
            cut(&detail, 100)
        )?;
    }
    if hidden > 0 {
        writeln!(
            out,
            "({hidden} rules with no hits or skipped not shown; --all shows them)"
        )?;
    }
    writeln!(out)?;
    if !summary.fired_by_severity.is_empty() {
        let parts: Vec<String> = summary
            .fired_by_severity
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        writeln!(out, "fired by severity: {}", parts.join(", "))?;
    }
    if !summary.fired_by_tactic.is_empty() {
        let parts: Vec<String> = summary
            .fired_by_tactic
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        writeln!(out, "fired by tactic:   {}", parts.join(", "))?;
    }
    let skipped: usize = summary.skipped.values().sum();
    let reasons: Vec<String> = summary
        .skipped
        .iter()
        .map(|(r, n)| format!("{n} {r}"))
        .collect();
    writeln!(
        out,
        "rules: {} selected, {} ran, {} fired, {} failed, {} skipped{}",
        summary.rules,
        summary.ran,
        summary.fired,
        summary.failed,
        skipped,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", reasons.join(", "))
        }
    )?;
    writeln!(
        out,
        "hits: {} rows, {} new findings (run {})",
        summary.hits, summary.new_findings, summary.run_id
    )?;
    writeln!(
        out,
        "scanned: {} events in the tables read, {} rule·events, {} from Parquet",
        summary.events,
        summary.rule_events,
        human_bytes(summary.bytes_scanned)
    )?;
    writeln!(
        out,
        "time: {:.2} s wall, {:.0} rule·events/s; peak memory {}",
        summary.wall_ms as f64 / 1000.0,
        summary.rule_events_per_second,
        summary
            .peak_memory_bytes
            .map_or("unknown".to_string(), human_bytes)
    )?;
    if !summary.shared_tables.is_empty() {
        let parts: Vec<String> = summary
            .shared_tables
            .iter()
            .map(|(t, n)| format!("{t} ({n} rules)"))
            .collect();
        writeln!(
            out,
            "shared scans: {} decoded once ({})",
            parts.join(", "),
            human_bytes(summary.shared_bytes as u64)
        )?;
    }
    writeln!(out, "now: {}", summary.now_note)?;
    Ok(())
}
