//! The command-line grammar: clap definitions only, no behaviour.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Quarry: a local-first KQL threat-hunting workbench.
#[derive(Debug, Parser)]
#[command(
    name = "quarry",
    version,
    about = "Quarry: a local-first KQL threat-hunting workbench",
    propagate_version = true,
    after_help = "\
Examples:
  quarry check query.kql                      check one KQL file
  quarry check 'Hunting Queries' Detections   check every rule under two folders

Exit codes: 0 ok, 1 findings or failures, 2 usage error.
Colour is used only on a terminal, and never when NO_COLOR is set."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report syntax diagnostics for KQL files and Azure-Sentinel YAML rules.
    #[command(long_about = CHECK_ABOUT, after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
}

/// The long description of `quarry check` (`--help`).
const CHECK_ABOUT: &str = "\
Report diagnostics for KQL files and Azure-Sentinel YAML rules.

Files ending in .kql, .csl or .txt are read as one KQL query each. Files ending in .yaml or .yml
are Azure-Sentinel rules: their top-level `query:` is checked and diagnostics point into the YAML
file itself; a YAML file without a `query` is skipped, and one that is not valid YAML counts as a
failed query. Folders are searched recursively for files with those extensions.

Today only the parser exists, so `check` reports syntax diagnostics with or without --syntax.
Once the binder exists, `check` without --syntax will also report unknown tables, columns and
functions and type errors; --syntax will keep to parsing.";

/// Examples and exit codes of `quarry check`.
const CHECK_EXAMPLES: &str = "\
Examples:
  quarry check query.kql
  quarry check rules/ --syntax
  quarry check 'Detections/SecurityEvent/rule.yaml' --format json

The last line of text output is `parsed N of M queries`.
Exit codes: 0 every query parses, 1 some query has errors, 2 usage error (e.g. a missing PATH).";

/// Arguments of `quarry check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders to check (folders are searched recursively).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Only parse; do not bind names and types (today `check` only parses either way).
    #[arg(long)]
    pub syntax: bool,

    /// Output format: human-readable diagnostics or one JSON document.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How `check` prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Rendered diagnostics, then `parsed N of M queries`.
    Text,
    /// One JSON document with every file, query and diagnostic.
    Json,
}
