//! `quarry rules import|list|search` (and `show`, in `rules_show.rs`): the rule catalog in the
//! workspace's `catalog.sqlite`.

use crate::cli::{
    Format, RuleSortArg, RulesArgs, RulesCommand, RulesImportArgs, RulesListArgs, RulesSearchArgs,
};
use crate::commands::{CommandError, Outcome};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use quarry_engine::values::format_datetime;
use quarry_ingest::Workspace;
use quarry_rules::catalog::{Catalog, RuleFilter, RuleSort, RuleSummary};
use quarry_rules::import::{import_repository, ImportReport, NoChecker, QueryChecker};
use quarry_rules::model::{FunctionLibrary, RuleKind};
use quarry_rules::source::{open_repository, RepositoryOptions};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use quarry_rules::catalog::CATALOG_FILE;

/// Runs `quarry rules …`.
pub fn run(args: RulesArgs) -> Result<Outcome, CommandError> {
    match args.command {
        RulesCommand::Import(args) => import(&args),
        RulesCommand::List(args) => list(&args),
        RulesCommand::Show(args) => super::rules_show::run(&args),
        RulesCommand::Search(args) => search(&args),
    }
}

/// The current time as RFC 3339 (UTC, whole seconds).
pub(crate) fn now_rfc3339() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| {
            i64::try_from(d.as_secs()).unwrap_or(0) * 1_000_000_000
        });
    format_datetime(nanos, true)
}

/// Opens the catalog of an existing workspace for reading.
pub(crate) fn open_catalog(workspace: &Path) -> Result<Catalog, CommandError> {
    let path = workspace.join(CATALOG_FILE);
    if !path.is_file() {
        return Err(CommandError::Usage(format!(
            "{} has no rule catalog: run `quarry rules import PATH|GIT-URL -w {}` first",
            workspace.display(),
            workspace.display()
        )));
    }
    Catalog::open(&path).map_err(|e| CommandError::Failed(e.to_string()))
}

/// The tables of the workspace, when it is one (for "runnable" and data-source presence).
pub(crate) fn workspace_tables(workspace: &Path) -> Option<BTreeSet<String>> {
    let workspace = Workspace::open(workspace).ok()?;
    Some(workspace.manifest().tables.keys().cloned().collect())
}

fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn import(args: &RulesImportArgs) -> Result<Outcome, CommandError> {
    let root: &PathBuf = &args.workspace.workspace;
    // Taking the workspace's write lock keeps two imports (or an import and an ingest that
    // creates the workspace) from interleaving.
    let workspace =
        Workspace::open_for_writing(root).map_err(|e| CommandError::Failed(e.to_string()))?;
    let options = RepositoryOptions {
        clone_dir: workspace.root().join("repos"),
        origin: args.origin.clone(),
        commit: args.commit.clone(),
        now: now_rfc3339(),
    };
    let bar = spinner(&format!("reading {}", args.source));
    let source = open_repository(&args.source, &options).map_err(|e| match e {
        quarry_rules::source::RepositoryError::NotAFolder(_) => CommandError::Usage(e.to_string()),
        other => CommandError::Failed(other.to_string()),
    })?;
    let mut catalog = Catalog::open(&workspace.root().join(CATALOG_FILE))
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    bar.set_message(format!("importing {}", source.repository));
    let no_check = args.no_check;
    let make_checker = move |functions: &FunctionLibrary| -> Box<dyn QueryChecker> {
        if no_check {
            return Box::new(NoChecker);
        }
        match quarry_hunt::checker::EngineChecker::new(functions) {
            Ok(checker) => Box::new(checker),
            Err(error) => {
                eprintln!("warning: cannot start the engine to check queries ({error}); bind status is not-checked");
                Box::new(NoChecker)
            }
        }
    };
    let report = import_repository(&mut catalog, &source, &make_checker)
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    bar.finish_and_clear();
    let mut out = String::new();
    match args.format {
        Format::Json => say!(
            out,
            "{}",
            serde_json::to_string_pretty(&report)
                .map_err(|e| CommandError::Failed(e.to_string()))?
        ),
        Format::Text => print_import(&mut out, &report),
    }
    super::emit(&out)?;
    Ok(if report.problems.is_empty() {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

fn print_import(out: &mut String, report: &ImportReport) {
    let commit = report
        .commit
        .as_deref()
        .map(|c| format!(" at {c}"))
        .unwrap_or_default();
    say!(
        out,
        "imported {}{commit} (retrieved {})",
        report.repository,
        report.retrieved_at
    );
    let imported: usize = report.rules_by_kind.values().sum();
    let kinds: Vec<String> = report
        .rules_by_kind
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    say!(
        out,
        "  rules: {imported} of {} rule files ({})",
        report.rule_files,
        kinds.join(", ")
    );
    let binds: Vec<String> = report
        .rules_by_bind_status
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    say!(
        out,
        "  checked against the table schemas: {}",
        binds.join(", ")
    );
    say!(
        out,
        "  stored functions: {} from {} parser files",
        report.functions,
        report.parser_files
    );
    let c = &report.changes;
    say!(out,
        "  changes: {} added, {} revised, {} refreshed, {} unchanged, {} removed, {} restored; functions {} changed, {} removed",
        c.added, c.revised, c.refreshed, c.unchanged, c.removed, c.restored, c.functions_changed, c.functions_removed
    );
    for conflict in &report.function_conflicts {
        say!(
            out,
            "  note: function {} is defined by {} and {}; the first is used",
            conflict.name,
            conflict.kept,
            conflict.dropped
        );
    }
    if !report.skipped_by_reason.is_empty() {
        let skipped: Vec<String> = report
            .skipped_by_reason
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        say!(out, "  not read: {}", skipped.join(", "));
    }
    if !report.problems.is_empty() {
        let counts: Vec<String> = report
            .problems_by_category
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        say!(
            out,
            "  files that gave no rule: {} ({})",
            report.problems.len(),
            counts.join(", ")
        );
        for problem in &report.problems {
            let position = match (problem.line, problem.column) {
                (Some(l), Some(c)) => format!(":{l}:{c}"),
                _ => String::new(),
            };
            say!(out, "    {}{position}: {}", problem.path, problem.reason);
        }
    }
}

/// A `--kind` value.
pub(crate) fn parse_kind(text: Option<&str>) -> Result<Option<RuleKind>, CommandError> {
    text.map(|text| {
        RuleKind::parse(text).ok_or_else(|| {
            CommandError::Usage(format!(
                "unknown kind `{text}`: use hunting, analytic or exploration"
            ))
        })
    })
    .transpose()
}

fn filter_of(args: &RulesListArgs) -> Result<RuleFilter, CommandError> {
    let kind = parse_kind(args.kind.as_deref())?;
    let runnable_on = if args.runnable {
        Some(workspace_tables(&args.workspace.workspace).unwrap_or_default())
    } else {
        None
    };
    Ok(RuleFilter {
        source: args.source.clone(),
        kind,
        severity: args.severity.clone(),
        table: args.table.clone(),
        tactic: args.tactic.clone(),
        technique: args.technique.clone(),
        tag: args.tag.clone(),
        has_parameters: if args.has_parameters {
            Some(true)
        } else if args.no_parameters {
            Some(false)
        } else {
            None
        },
        runnable_on,
        include_removed: args.include_removed,
        sort: match args.sort {
            RuleSortArg::Name => RuleSort::Name,
            RuleSortArg::Severity => RuleSort::Severity,
            RuleSortArg::Confidence => RuleSort::Confidence,
            RuleSortArg::Kind => RuleSort::Kind,
            RuleSortArg::Path => RuleSort::Path,
        },
    })
}

fn list(args: &RulesListArgs) -> Result<Outcome, CommandError> {
    let catalog = open_catalog(&args.workspace.workspace)?;
    let filter = filter_of(args)?;
    let mut rules = catalog
        .list(&filter)
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    let total = rules.len();
    if let Some(limit) = args.limit {
        rules.truncate(limit);
    }
    let mut out = String::new();
    match args.format {
        Format::Json => say!(
            out,
            "{}",
            serde_json::to_string_pretty(&json!({"total": total, "rules": rules}))
                .map_err(|e| CommandError::Failed(e.to_string()))?
        ),
        Format::Text => {
            print_summaries(&mut out, &rules);
            say!(out, "{} of {total} rules", rules.len());
        }
    }
    super::emit(&out)?;
    Ok(if total == 0 {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// One line per rule: id, kind, severity, confidence, tables, name.
fn print_summaries(out: &mut String, rules: &[RuleSummary]) {
    say!(
        out,
        "{:<36}  {:<11}  {:<13}  {:>4}  {:<28}  name",
        "id",
        "kind",
        "severity",
        "conf",
        "tables"
    );
    for rule in rules {
        let severity = if rule.severity_inferred {
            format!("{}*", rule.severity)
        } else {
            rule.severity.clone()
        };
        let mut tables = rule.tables.join(",");
        if tables.is_empty() {
            tables = rule.functions.join(",");
        }
        say!(
            out,
            "{:<36}  {:<11}  {:<13}  {:>4}  {:<28}  {}{}",
            cut(&rule.id, 36),
            rule.kind,
            severity,
            rule.confidence,
            cut(&tables, 28),
            rule.name,
            if rule.parameters > 0 {
                format!("  [{} parameters]", rule.parameters)
            } else {
                String::new()
            }
        );
    }
    if rules.iter().any(|r| r.severity_inferred) {
        say!(out, "(* severity inferred by Quarry)");
    }
}

fn search(args: &RulesSearchArgs) -> Result<Outcome, CommandError> {
    let catalog = open_catalog(&args.workspace.workspace)?;
    let hits = catalog
        .search(&args.text, args.limit)
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    let mut out = String::new();
    match args.format {
        Format::Json => say!(
            out,
            "{}",
            serde_json::to_string_pretty(&hits).map_err(|e| CommandError::Failed(e.to_string()))?
        ),
        Format::Text => {
            for hit in &hits {
                say!(
                    out,
                    "{}  {}  ({}, {})",
                    hit.summary.id,
                    hit.summary.name,
                    hit.summary.kind,
                    hit.summary.severity
                );
                say!(out, "    {}", hit.snippet);
            }
            say!(out, "{} results", hits.len());
        }
    }
    super::emit(&out)?;
    Ok(if hits.is_empty() {
        Outcome::Findings
    } else {
        Outcome::Ok
    })
}
