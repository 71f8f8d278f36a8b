//! `quarry rules show ID`: every section of a rule's feed page, in the terminal, or as JSON/YAML.

use crate::cli::{RulesShowArgs, ShowFormat};
use crate::commands::rules::open_catalog;
use crate::commands::{CommandError, Outcome};
use quarry_engine::values::format_datetime;
use quarry_ingest::Workspace;
use quarry_rules::attack::{Attack, ATTACK_COPYRIGHT};
use quarry_rules::catalog::RuleRecord;
use quarry_rules::enrich::BindStatus;
use serde::Serialize;
use std::fmt::Write as _;

/// A data source with its presence in the workspace (added here: it depends on the workspace).
#[derive(Debug, Serialize)]
struct Presence {
    table: String,
    connectors: Vec<String>,
    declared: bool,
    read: bool,
    in_workspace: bool,
    rows: Option<u64>,
    first: Option<String>,
    last: Option<String>,
}

#[derive(Serialize)]
struct ShowDocument<'a> {
    #[serde(flatten)]
    record: &'a RuleRecord,
    data_sources_in_workspace: Vec<Presence>,
}

/// Runs `quarry rules show`.
pub fn run(args: &RulesShowArgs) -> Result<Outcome, CommandError> {
    let catalog = open_catalog(&args.workspace.workspace)?;
    let records = catalog
        .rule(&args.id)
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    if records.is_empty() {
        return Err(CommandError::Usage(format!(
            "no rule with id `{}` in the catalog (try `quarry rules search`)",
            args.id
        )));
    }
    let workspace = Workspace::open(&args.workspace.workspace).ok();
    let mut out = String::new();
    for record in &records {
        let presence = presence(record, workspace.as_ref());
        match args.format {
            ShowFormat::Json => {
                let document = ShowDocument {
                    record,
                    data_sources_in_workspace: presence,
                };
                out.push_str(
                    &serde_json::to_string_pretty(&document)
                        .map_err(|e| CommandError::Failed(e.to_string()))?,
                );
                out.push('\n');
            }
            ShowFormat::Yaml => {
                let document = ShowDocument {
                    record,
                    data_sources_in_workspace: presence,
                };
                out.push_str(
                    &serde_saphyr::to_string(&document)
                        .map_err(|e| CommandError::Failed(e.to_string()))?,
                );
            }
            ShowFormat::Text => render(&mut out, record, &presence),
        }
    }
    super::emit(&out)?;
    Ok(Outcome::Ok)
}

fn presence(record: &RuleRecord, workspace: Option<&Workspace>) -> Vec<Presence> {
    record
        .enrichment
        .data_sources
        .iter()
        .map(|source| {
            let entry = workspace.and_then(|w| w.manifest().tables.get(&source.table));
            let range = entry.and_then(|e| {
                e.time_range("TimeGenerated")
                    .or_else(|| e.time_range("Timestamp"))
            });
            Presence {
                table: source.table.clone(),
                connectors: source.connectors.clone(),
                declared: source.declared,
                read: source.read,
                in_workspace: entry.is_some(),
                rows: entry.map(|e| e.rows()),
                first: range.map(|(first, _)| format_datetime(first, true)),
                last: range.map(|(_, last)| format_datetime(last, true)),
            }
        })
        .collect()
}

fn heading(out: &mut String, title: &str) {
    let _ = writeln!(out, "\n{title}\n{}", "─".repeat(title.chars().count()));
}

fn render(out: &mut String, record: &RuleRecord, presence: &[Presence]) {
    let rule = &record.rule;
    let e = &record.enrichment;
    let a = &record.analysis;
    let _ = writeln!(out, "{}", rule.name);
    let _ = writeln!(out, "{}", "═".repeat(rule.name.chars().count()));
    // Badges, as on a feed page.
    let mut badges = vec!["KQL".to_string(), rule.kind.as_str().to_string()];
    badges.push(if e.severity.inferred {
        format!("severity {} (inferred)", e.severity.value)
    } else {
        format!("severity {}", e.severity.value)
    });
    badges.push(format!(
        "source {}",
        source_label(&record.source.repository)
    ));
    badges.extend(a.tables.iter().map(|t| format!("table {t}")));
    badges.extend(a.stored_functions.iter().map(|f| format!("function {f}")));
    badges.extend(rule.tags.iter().map(|t| format!("tag {t}")));
    let _ = writeln!(
        out,
        "{}",
        badges
            .iter()
            .map(|b| format!("[{b}]"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let _ = writeln!(out, "id {}", rule.id);
    if !record.same_id_elsewhere.is_empty() {
        let _ = writeln!(
            out,
            "note: upstream uses this id for other files too: {}",
            record.same_id_elsewhere.join(", ")
        );
    }
    if record.summary.removed_at.is_some() {
        let _ = writeln!(
            out,
            "note: removed from its source at {}",
            record.summary.removed_at.as_deref().unwrap_or("")
        );
    }

    heading(out, "Provenance");
    if let Some(url) = &rule.provenance.original_url {
        let _ = writeln!(out, "original   {url}");
    }
    let _ = writeln!(out, "repository {}", record.source.repository);
    let _ = writeln!(out, "path       {}", rule.provenance.path);
    let _ = writeln!(
        out,
        "commit     {}",
        rule.provenance.commit.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(out, "retrieved  {}", rule.provenance.retrieved_at);
    let _ = writeln!(
        out,
        "revision   {} of {} (first seen {})",
        record.summary.revision,
        record.revisions.len(),
        record.first_seen
    );
    if let Some(version) = &rule.version {
        let _ = writeln!(out, "version    {version}");
    }

    heading(
        out,
        &format!(
            "Confidence: {} ({}/100)",
            e.confidence.level, e.confidence.score
        ),
    );
    for reason in &e.confidence.reasons {
        let _ = writeln!(
            out,
            "  {:+4}  {:<12} {}",
            reason.points, reason.factor, reason.detail
        );
    }

    heading(out, "Hunt hypothesis (generated)");
    let _ = writeln!(out, "{}", e.hypothesis.text);
    if !e.hypothesis.inputs.is_empty() {
        let _ = writeln!(out, "  from: {}", e.hypothesis.inputs.join("; "));
    }

    heading(out, "Description (upstream)");
    let _ = writeln!(
        out,
        "{}",
        if rule.description.is_empty() {
            "(none)"
        } else {
            &rule.description
        }
    );

    if !e.contradictions.is_empty() {
        heading(out, "Contradictions (flagged)");
        for c in &e.contradictions {
            let _ = writeln!(out, "! {}: {}", c.kind, c.message);
            for evidence in &c.evidence {
                let _ = writeln!(out, "    {evidence}");
            }
        }
    }

    heading(out, "ATT&CK");
    let attack = Attack::embedded();
    for tactic in &e.tactics {
        let name = attack
            .tactic(&tactic.value)
            .map_or(tactic.value.clone(), |t| format!("{} {}", t.id, t.name));
        let _ = writeln!(
            out,
            "tactic     {name}{}",
            inferred_note(tactic.inferred, tactic.reason.as_deref())
        );
    }
    for technique in &e.techniques {
        let name = attack
            .technique(&technique.value)
            .map_or(String::new(), |t| format!(" {}", t.name));
        let _ = writeln!(
            out,
            "technique  {}{name}{}",
            technique.value,
            inferred_note(technique.inferred, technique.reason.as_deref())
        );
    }
    if e.tactics.is_empty() && e.techniques.is_empty() {
        let _ = writeln!(out, "(none)");
    }

    heading(out, "Parameters");
    if a.parameters.is_empty() {
        let _ = writeln!(out, "(none: the query runs as it is)");
    }
    for p in &a.parameters {
        let semantic = p
            .semantic
            .as_deref()
            .map(|s| format!(", a {s}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<16} {}{semantic}; placeholder \"{}\" ({:?}, {} occurrence{})",
            p.name,
            p.value_type,
            p.placeholder,
            p.kind,
            p.spans.len(),
            if p.spans.len() == 1 { "" } else { "s" }
        );
    }

    heading(out, "Query");
    for (i, line) in rule.query.trim_end().lines().enumerate() {
        let _ = writeln!(out, "{:>4} │ {line}", i + 1);
    }
    let bind = match &record.bind {
        BindStatus::Ok => "binds and plans over the table schemas".to_string(),
        BindStatus::MissingTables(t) => {
            format!("reads tables no schema describes: {}", t.join(", "))
        }
        BindStatus::Unsupported(f) => format!("uses a feature Quarry does not support yet: {f}"),
        BindStatus::Error(m) => format!("does not bind: {m}"),
        BindStatus::NotChecked => "not checked".to_string(),
    };
    let _ = writeln!(out, "check: {bind}");
    for d in &a.diagnostics {
        let _ = writeln!(
            out,
            "{}: {} (bytes {}..{})",
            d.severity, d.message, d.span.start, d.span.end
        );
    }
    if let Some(window) = &a.time_window {
        let lookback = window
            .lookback_seconds
            .map(|s| format!("{} back", human_duration(s)))
            .unwrap_or_else(|| "set by the caller".into());
        let _ = writeln!(out, "time window: {lookback} ({})", window.text);
    }
    if !a.indicators.is_empty() {
        let list: Vec<String> = a
            .indicators
            .iter()
            .map(|i| format!("{:?} {}", i.kind, i.value).to_lowercase())
            .collect();
        let _ = writeln!(out, "indicators: {}", list.join(", "));
    }

    heading(out, "Required data sources");
    for p in presence {
        let here = if p.in_workspace {
            format!(
                "in this workspace: {} rows, {} … {}",
                p.rows.unwrap_or(0),
                p.first.as_deref().unwrap_or("?"),
                p.last.as_deref().unwrap_or("?")
            )
        } else {
            "not in this workspace".to_string()
        };
        let how = match (p.declared, p.read) {
            (true, true) => "declared and read",
            (true, false) => "declared, not read by the query",
            (false, true) => "read, not declared",
            (false, false) => "",
        };
        let _ = writeln!(
            out,
            "{:<28} via {:<32} {how}; {here}",
            p.table,
            if p.connectors.is_empty() {
                "(no known connector)".to_string()
            } else {
                p.connectors.join(", ")
            }
        );
    }

    heading(out, "False-positive guidance (generated)");
    if e.false_positives.is_empty() {
        let _ = writeln!(out, "(none derived)");
    }
    for fp in &e.false_positives {
        let _ = writeln!(out, "- {}", fp.text);
    }

    heading(out, "References");
    for r in &e.references {
        let _ = writeln!(out, "- {} — {} ({})", r.title, r.url, r.kind);
    }

    if !rule.entity_mappings.is_empty() {
        heading(out, "Entity mappings");
        for m in &rule.entity_mappings {
            let fields: Vec<String> = m.fields.iter().map(|(i, c)| format!("{i} ← {c}")).collect();
            let _ = writeln!(out, "{:<10} {}", m.entity_type, fields.join(", "));
        }
    }
    if rule.query_frequency.is_some() || rule.query_period.is_some() {
        let _ = writeln!(
            out,
            "\nschedule: every {} over {}; trigger {} {}",
            rule.query_frequency.as_deref().unwrap_or("?"),
            rule.query_period.as_deref().unwrap_or("?"),
            rule.trigger_operator.as_deref().unwrap_or("?"),
            rule.trigger_threshold
                .map_or("?".to_string(), |t| t.to_string())
        );
    }

    heading(out, "Rule definition (upstream, verbatim)");
    let _ = writeln!(out, "{}", rule.raw.trim_end());
    let _ = writeln!(out, "\n{ATTACK_COPYRIGHT}");
}

fn inferred_note(inferred: bool, reason: Option<&str>) -> String {
    match (inferred, reason) {
        (true, Some(r)) => format!("  (inferred: {r})"),
        (true, None) => "  (inferred)".to_string(),
        (false, Some(r)) => format!("  ({r})"),
        (false, None) => String::new(),
    }
}

fn source_label(repository: &str) -> String {
    repository
        .trim_end_matches('/')
        .trim_end_matches(".git")
        .rsplit('/')
        .next()
        .unwrap_or(repository)
        .to_string()
}

fn human_duration(seconds: i64) -> String {
    if seconds % 86_400 == 0 {
        format!("{}d", seconds / 86_400)
    } else if seconds % 3_600 == 0 {
        format!("{}h", seconds / 3_600)
    } else if seconds % 60 == 0 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}
