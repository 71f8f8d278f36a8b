//! What a hunt reports: a run summary (counts, throughput, peak memory), the per-rule table and
//! totals by severity and tactic for the terminal, and machine formats (JSON, CSV, SARIF, an
//! ATT&CK Navigator layer of the techniques that fired).

mod sarif;
mod text;

pub use sarif::sarif;
pub use text::{human_bytes, write_text};

use crate::hunt::{HuntStatus, RuleRun};
use serde::Serialize;
use std::collections::BTreeMap;

/// Totals of a hunt.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HuntSummary {
    /// The run's id in the workspace database.
    pub run_id: i64,
    /// Rules selected.
    pub rules: usize,
    /// Rules that ran (hits, no hits, error, timed out).
    pub ran: usize,
    /// Rules that returned rows.
    pub fired: usize,
    /// Rules skipped, by reason category.
    pub skipped: BTreeMap<String, usize>,
    /// Rules that failed (errors and time-outs).
    pub failed: usize,
    /// Result rows.
    pub hits: usize,
    /// Findings not seen in an earlier run.
    pub new_findings: usize,
    /// Rows of the tables the rules that ran read, summed over rules (rule·events).
    pub rule_events: u64,
    /// Distinct rows in the tables those rules read.
    pub events: u64,
    /// Bytes read from Parquet.
    pub bytes_scanned: u64,
    /// Wall time of the whole hunt, in milliseconds.
    pub wall_ms: u64,
    /// Rule·events per second.
    pub rule_events_per_second: f64,
    /// Peak resident memory of the process, in bytes (Linux `VmHWM`).
    pub peak_memory_bytes: Option<u64>,
    /// Fired rules by severity.
    pub fired_by_severity: BTreeMap<String, usize>,
    /// Fired rules by ATT&CK tactic.
    pub fired_by_tactic: BTreeMap<String, usize>,
    /// How `now()` was pinned.
    pub now_note: String,
    /// Tables decoded once and shared by several rules, with their reader counts.
    pub shared_tables: BTreeMap<String, usize>,
    /// Memory those shared tables took, in bytes.
    pub shared_bytes: usize,
}

/// The process's peak resident memory (`VmHWM` in `/proc/self/status`), where available.
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Computes the totals of a hunt's rule runs. `table_rows` gives each table's row count.
pub fn summarise(
    run_id: i64,
    runs: &[RuleRun],
    wall_ms: u64,
    table_rows: &BTreeMap<String, u64>,
    now_note: String,
) -> HuntSummary {
    let mut summary = HuntSummary {
        run_id,
        rules: runs.len(),
        wall_ms,
        now_note,
        ..HuntSummary::default()
    };
    let mut tables_read = std::collections::BTreeSet::new();
    for run in runs {
        match &run.status {
            HuntStatus::Skipped(reason) => {
                *summary
                    .skipped
                    .entry(reason.category().to_string())
                    .or_insert(0) += 1;
                continue;
            }
            HuntStatus::Error(_) | HuntStatus::TimedOut(_) => summary.failed += 1,
            HuntStatus::Hits(n) => {
                summary.fired += 1;
                summary.hits += n;
                *summary
                    .fired_by_severity
                    .entry(run.severity.clone())
                    .or_insert(0) += 1;
                for tactic in &run.tactics {
                    *summary.fired_by_tactic.entry(tactic.clone()).or_insert(0) += 1;
                }
            }
            HuntStatus::NoHits => {}
        }
        summary.ran += 1;
        summary.new_findings += run.new_findings;
        summary.rule_events += run.events_in_tables;
        summary.bytes_scanned += run.bytes_scanned;
        tables_read.extend(run.tables.iter().cloned());
    }
    summary.events = tables_read.iter().filter_map(|t| table_rows.get(t)).sum();
    summary.rule_events_per_second = if wall_ms == 0 {
        0.0
    } else {
        summary.rule_events as f64 / (wall_ms as f64 / 1000.0)
    };
    summary.peak_memory_bytes = peak_memory_bytes();
    summary
}

/// One CSV line per rule: id, name, severity, status, detail, hits, new, elapsed, tactics,
/// techniques.
pub fn write_csv(runs: &[RuleRun], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "rule_id",
        "name",
        "path",
        "severity",
        "status",
        "detail",
        "hits",
        "new_findings",
        "elapsed_ms",
        "tactics",
        "techniques",
    ])?;
    for run in runs {
        let (hits, detail) = match &run.status {
            HuntStatus::Hits(n) => (*n, String::new()),
            HuntStatus::NoHits => (0, String::new()),
            HuntStatus::Skipped(reason) => (0, reason.to_string()),
            HuntStatus::Error(message) => (0, message.clone()),
            HuntStatus::TimedOut(secs) => (0, format!("stopped after {secs} s")),
        };
        writer.write_record([
            run.rule_id.as_str(),
            run.name.as_str(),
            run.path.as_str(),
            run.severity.as_str(),
            run.status.label(),
            detail.as_str(),
            &hits.to_string(),
            &run.new_findings.to_string(),
            &run.elapsed_ms.to_string(),
            &run.tactics.join(";"),
            &run.techniques.join(";"),
        ])?;
    }
    writer.flush()
}
