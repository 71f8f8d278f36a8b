//! `quarry coverage`: the catalog's ATT&CK coverage as a tactic × technique matrix in the
//! terminal, and an ATT&CK Navigator layer.

use crate::cli::{CoverageArgs, Format};
use crate::commands::rules::{open_catalog, parse_kind, workspace_tables};
use crate::commands::{CommandError, Outcome};
use quarry_rules::catalog::RuleFilter;
use quarry_rules::coverage::{coverage, navigator_layer, Coverage};
use std::collections::BTreeSet;
use std::io::IsTerminal;

/// Runs `quarry coverage`.
pub fn run(args: &CoverageArgs) -> Result<Outcome, CommandError> {
    let catalog = open_catalog(&args.workspace.workspace)?;
    let kind = parse_kind(args.kind.as_deref())?;
    let rules = catalog
        .list(&RuleFilter {
            kind,
            ..RuleFilter::default()
        })
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    let tables = workspace_tables(&args.workspace.workspace);
    let matrix = coverage(&rules, tables.as_ref(), &BTreeSet::new());
    if let Some(path) = &args.navigator {
        let layer = navigator_layer(&matrix, "Quarry rule coverage");
        let text = serde_json::to_string_pretty(&layer)
            .map_err(|e| CommandError::Failed(e.to_string()))?;
        std::fs::write(path, text)
            .map_err(|e| CommandError::Failed(format!("cannot write {}: {e}", path.display())))?;
        eprintln!("wrote an ATT&CK Navigator layer to {}", path.display());
    }
    let mut out = String::new();
    match args.format {
        Format::Json => say!(
            out,
            "{}",
            serde_json::to_string_pretty(&matrix)
                .map_err(|e| CommandError::Failed(e.to_string()))?
        ),
        Format::Text => out.push_str(&draw(&matrix, colour_enabled())),
    }
    super::emit(&out)?;
    Ok(Outcome::Ok)
}

fn colour_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Width of one matrix cell: `T1059.001` is never shown (sub-techniques roll up), so `T1059 123`.
const CELL: usize = 10;

/// Draws the matrix: one column per tactic, covered techniques below, most rules first. Each
/// cell is `id count`; `+` marks a technique with a rule runnable on the workspace (green when
/// colour is on), no mark means its rules lack data here.
pub fn draw(matrix: &Coverage, colour: bool) -> String {
    let mut out = String::new();
    let header: Vec<String> = matrix.columns.iter().map(|c| abbreviate(&c.name)).collect();
    out.push_str(
        &header
            .iter()
            .map(|h| format!("{h:<CELL$}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    out.push('\n');
    let counts: Vec<String> = matrix
        .columns
        .iter()
        .map(|c| format!("{}/{}", c.covered.len(), c.techniques))
        .collect();
    out.push_str(
        &counts
            .iter()
            .map(|h| format!("{h:<CELL$}"))
            .collect::<Vec<_>>()
            .join(" "),
    );
    out.push('\n');
    out.push_str(&"─".repeat(matrix.columns.len() * (CELL + 1)));
    out.push('\n');
    let depth = matrix
        .columns
        .iter()
        .map(|c| c.covered.len())
        .max()
        .unwrap_or(0);
    for row in 0..depth {
        let mut line = String::new();
        for (i, column) in matrix.columns.iter().enumerate() {
            if i > 0 {
                line.push(' ');
            }
            let Some(cell) = column.covered.get(row) else {
                line.push_str(&" ".repeat(CELL));
                continue;
            };
            let mark = if cell.runnable > 0 { "+" } else { "" };
            let text = format!("{} {}{mark}", cell.technique, cell.rules);
            let padded = format!("{text:<CELL$}");
            if colour {
                let code = if cell.runnable > 0 { "32" } else { "33" };
                line.push_str(&format!("\x1b[{code}m{padded}\x1b[0m"));
            } else {
                line.push_str(&padded);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{} techniques covered by {} of {} rules; {} covered by a rule runnable on this workspace (+). ATT&CK v{}.\n{}\n",
        matrix.techniques_covered,
        matrix.rules_with_techniques,
        matrix.rules,
        matrix.techniques_runnable,
        matrix.attack_version,
        matrix.attribution
    ));
    out
}

/// A tactic name cut to a cell: `Credential Access` → `CredAccess`.
fn abbreviate(name: &str) -> String {
    let compact: String = name.split_whitespace().collect();
    if compact.chars().count() <= CELL {
        return compact;
    }
    let words: Vec<&str> = name.split_whitespace().collect();
    let short: String = words
        .iter()
        .map(|w| {
            w.chars()
                .take(if words.len() > 1 { 5 } else { CELL })
                .collect::<String>()
        })
        .collect();
    short.chars().take(CELL).collect()
}
