//! The command-line grammar: clap definitions only, no behaviour.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

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
  quarry query 'print x = 1 + 1'              run a query and print its result
  quarry conformance dev.jsonl                run conformance cases
  quarry demo                                 build a demo workspace, hunt, summarise
  quarry ingest exports/ Security.evtx        load telemetry into ./quarry-data
  quarry tables                               what the workspace holds
  quarry rules import ~/src/Azure-Sentinel    import a rule repository into the catalog
  quarry rules show <id>                      one rule, every section
  quarry hunt --runnable                      run the rules that can run on the workspace
  quarry coverage --navigator layer.json      ATT&CK coverage, and a Navigator layer

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
    /// Run a KQL query and print its result.
    #[command(long_about = QUERY_ABOUT, after_help = QUERY_EXAMPLES)]
    Query(QueryArgs),
    /// Run conformance cases (queries with the result the real Kusto engine returned).
    #[command(long_about = CONFORMANCE_ABOUT, after_help = CONFORMANCE_EXAMPLES)]
    Conformance(ConformanceArgs),
    /// Load telemetry files into the workspace, typed by the Sentinel / Defender table schemas.
    #[command(long_about = INGEST_ABOUT, after_help = INGEST_EXAMPLES)]
    Ingest(IngestArgs),
    /// List the workspace's tables with row counts, time ranges and sizes.
    #[command(after_help = TABLES_EXAMPLES)]
    Tables(TablesArgs),
    /// Build a demo workspace with planted attacks, run the demo rules over it and summarise.
    #[command(long_about = DEMO_ABOUT, after_help = DEMO_EXAMPLES)]
    Demo(DemoArgs),
    /// Import rule repositories into the catalog and browse it (import, list, show, search).
    #[command(long_about = RULES_ABOUT, after_help = RULES_EXAMPLES)]
    Rules(RulesArgs),
    /// Run catalog rules over the workspace: parameters, pinned time window, findings, reports.
    #[command(long_about = HUNT_ABOUT, after_help = HUNT_EXAMPLES)]
    Hunt(Box<HuntArgs>),
    /// Draw the ATT&CK tactic × technique coverage of the catalog.
    #[command(after_help = COVERAGE_EXAMPLES)]
    Coverage(CoverageArgs),
    /// Serve the feed, rule pages, coverage, hunts and a query page in the browser.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Run a cluster scheduler for `--cluster` queries and hunts (build feature `distributed`).
    #[cfg(feature = "distributed")]
    #[command(
        long_about = crate::commands::cluster::SCHEDULER_ABOUT,
        after_help = crate::commands::cluster::SCHEDULER_EXAMPLES
    )]
    Scheduler(crate::commands::cluster::SchedulerArgs),
    /// Run a cluster executor that registers with a scheduler (build feature `distributed`).
    #[cfg(feature = "distributed")]
    #[command(
        long_about = crate::commands::cluster::EXECUTOR_ABOUT,
        after_help = crate::commands::cluster::EXECUTOR_EXAMPLES
    )]
    Executor(crate::commands::cluster::ExecutorArgs),
}

/// Examples of `quarry serve` (`--help`).
const SERVE_EXAMPLES: &str = "\
Examples:
  quarry serve -w quarry-demo                      http://127.0.0.1:8080 on this machine only
  quarry serve -w ws --bind 0.0.0.0:8080 --token T others sign in with T (or send a bearer header)
  quarry demo --serve                              build the demo workspace, then serve it
  quarry serve -w /mnt/ws --cluster sched:50050    queries from the pages run on that cluster
                                                   (binaries built with --features distributed)";

/// `quarry serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but loopback needs --token.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,

    /// Access token (bearer header or the login form's cookie).
    #[arg(long, env = "QUARRY_TOKEN", value_name = "T")]
    pub token: Option<String>,

    /// Time limit of one query run from a page, in seconds.
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    pub query_timeout: u64,

    /// Memory cap of one query run from a page, in MiB.
    #[arg(long, value_name = "MIB", default_value = "1024")]
    pub query_memory: usize,

    #[command(flatten)]
    pub workspace: WorkspaceArg,

    /// Run every query from the pages and the API on the cluster whose scheduler is at
    /// HOST:PORT (see `quarry scheduler`); the workspace must be at the same path on its nodes.
    #[cfg(feature = "distributed")]
    #[arg(long, value_name = "HOST:PORT", env = "QUARRY_CLUSTER")]
    pub cluster: Option<String>,
}

/// The workspace folder option shared by the commands that use one.
#[derive(Debug, Clone, Args)]
pub struct WorkspaceArg {
    /// The workspace folder.
    #[arg(
        long = "workspace",
        short = 'w',
        env = "QUARRY_WORKSPACE",
        value_name = "DIR",
        default_value = "quarry-data"
    )]
    pub workspace: PathBuf,
}

/// The long description of `quarry ingest` (`--help`).
const INGEST_ABOUT: &str = "\
Load telemetry files into the workspace, typed by the Sentinel / Defender table schemas.

Formats are detected from the content (--format forces one):
  ndjson   JSON lines: Log Analytics / Sentinel exports (`Type` names the table), Defender
           streaming API records (`category: AdvancedHunting-<Table>`, `properties`), flat
           Windows events (Security → SecurityEvent, Sysmon → Device* tables, others → Event),
           or rows already in a table's shape
  json     one document: Defender advanced hunting API (`Schema` + `Results`), Log Analytics
           query API (`tables`), streaming batches (`records`), or an array of rows
  csv      Defender portal exports, Log Analytics exports (`TimeGenerated [UTC]` headers), rows
  evtx     Windows event log files
  parquet  rows already in a table's shape
Rows without a table name go to the known table whose columns they match, else to a custom
table named by --table or the file name, whose schema is inferred from the data.

A malformed record never stops an ingest: it is written with its file, line or record number and
the reason to rejects/<id>.ndjson in the workspace, and counted. Each input is committed
atomically (nothing of it is visible until all of it is), and its content hash is recorded:
ingesting the same file again adds nothing. Folders are read recursively.";

/// Examples of `quarry ingest`.
const INGEST_EXAMPLES: &str = "\
Examples:
  quarry ingest exports/                              every file under a folder
  quarry ingest Security.evtx Sysmon.evtx -w case-42  into workspace case-42
  quarry ingest hunting.csv --table DeviceProcessEvents
  quarry ingest app.ndjson --format ndjson --table MyApp_CL

Exit codes: 0 every file ingested with no rejected record, 1 some record was rejected or some
file could not be read, 2 usage error.";

/// Examples of `quarry tables`.
const TABLES_EXAMPLES: &str = "\
Examples:
  quarry tables
  quarry tables -w case-42 --format json";

/// The long description of `quarry demo`.
const DEMO_ABOUT: &str = "\
Build a demo workspace and hunt in it.

Generates realistic telemetry for a made-up company (devices, users, business-hours activity,
process trees, file, network, registry, logon, sign-in and Security events) with planted attack
scenarios, ingests it into the workspace, runs the bundled demo rules (Azure-Sentinel YAML) over
it with now() pinned to the end of the data, and prints which rules fired and on what. The same
seed always gives the same data.";

/// Examples of `quarry demo`.
const DEMO_EXAMPLES: &str = "\
Examples:
  quarry demo
  quarry demo --events 10000000 -w /tmp/demo-10m
  quarry demo --format json

Exit codes: 0 the demo ran and every planted scenario was found, 1 otherwise.";

/// Arguments of `quarry ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or folders to ingest.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// The input format instead of detecting it: ndjson, json, csv, evtx or parquet.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,

    /// Put every record in table T instead of deciding per record.
    #[arg(long, value_name = "T")]
    pub table: Option<String>,

    /// The summary format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub report: Format,

    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

/// Arguments of `quarry tables`.
#[derive(Debug, Args)]
pub struct TablesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

/// Arguments of `quarry demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many events to generate.
    #[arg(long, value_name = "N", default_value = "200000")]
    pub events: u64,

    /// The random seed.
    #[arg(long, default_value = "42")]
    pub seed: u64,

    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// The workspace folder (made afresh: an existing demo workspace there is replaced).
    #[arg(
        long = "workspace",
        short = 'w',
        value_name = "DIR",
        default_value = "quarry-demo"
    )]
    pub workspace: PathBuf,

    /// Serve the workspace in the browser afterwards (as `quarry serve`).
    #[arg(long)]
    pub serve: bool,

    /// Address for --serve.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
}

/// The long description of `quarry check` (`--help`).
const CHECK_ABOUT: &str = "\
Report diagnostics for KQL files and Azure-Sentinel YAML rules.

Files ending in .kql, .csl or .txt are read as one KQL query each. Files ending in .yaml or .yml
are Azure-Sentinel rules: their top-level `query:` is checked and diagnostics point into the YAML
file itself; a YAML file without a `query` is skipped, and one that is not valid YAML counts as a
failed query. Folders are searched recursively for files with those extensions.

Every query that parses is then bound and planned (not run) against the embedded schemas of the
Log Analytics / Microsoft Sentinel / Defender XDR tables, each query on its own. Each query ends
one of three ways:
  ok           it parses, binds and plans
  unsupported  valid KQL that Quarry cannot plan yet (an operator, a function, a rule template
               placeholder such as {{StartTimeISO}}, a query parameter without a value): reported
               as a warning naming the feature; it does not fail the check
  error        an unknown table, column or function, a type error, …: an error pointing into the
               file, with a suggestion when there is one
With --syntax, queries are only parsed; nothing is bound or planned.";

/// Examples and exit codes of `quarry check`.
const CHECK_EXAMPLES: &str = "\
Examples:
  quarry check query.kql
  quarry check rules/ --syntax
  quarry check 'Detections/SecurityEvent/rule.yaml' --format json

The last lines of text output are `planned P of M queries (U not supported yet, E errors)` (not
with --syntax) and `parsed N of M queries`. The JSON document has a `plan` object per query
(`status`: ok, unsupported, error or skipped) and the counts `parsed`, `planned`, `unsupported`,
`plan_errors`, `total` and `unsupported_features`.
Exit codes: 0 every query parses and none has a planning error (unsupported features alone do not
fail), 1 some query has errors, 2 usage error (e.g. a missing PATH).";

/// Arguments of `quarry check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Files or folders to check (folders are searched recursively).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Only parse; do not bind names and types or plan the queries.
    #[arg(long)]
    pub syntax: bool,

    /// Also run every query that plans, over the empty tables: finds what fails only at run
    /// time (a file `externaldata` cannot read, a type DataFusion rejects while executing).
    #[arg(long, conflicts_with = "syntax")]
    pub run: bool,

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

/// The long description of `quarry query` (`--help`).
const QUERY_ABOUT: &str = "\
Run a KQL query and print its result.

The query is the KQL argument, or the contents of FILE with -f (`-f -` reads standard input).
Tables come from the workspace (--workspace, default ./quarry-data, when it exists) and from
--table NAME=PATH: a .csv file (with a header row), a .json file (one JSON
object per line, or one JSON array of objects), .ndjson/.jsonl, or a .parquet file. Column
types are taken from the file: strings, longs, reals, bools, timestamps (as datetime),
and nested values (as dynamic).

Syntax and binding errors are shown pointing into the query text; the result goes to stdout
and notes (such as a truncated result) to stderr.";

/// Examples and exit codes of `quarry query`.
const QUERY_EXAMPLES: &str = "\
Examples:
  quarry query 'print now()' --now 2024-01-01T00:00:00Z
  quarry query 'Logons | summarize count() by User' --table Logons=logons.csv
  quarry query -f hunt.kql --param user=alice --format json
  quarry query 'range x from 1 to 1000000 step 1' --max-rows 10 --format csv

Exit codes: 0 the query ran, 1 the query failed (syntax, binding or execution error),
2 usage error (e.g. a missing file or a bad --table).";

/// The long description of `quarry conformance` (`--help`).
const CONFORMANCE_ABOUT: &str = "\
Run conformance cases and report how many pass.

CASES.jsonl holds one case per line: a self-contained KQL query (datatable, print, let) and the
result the real Kusto engine returned for it (see shared/conformance/README.md). Each case runs
in a fresh session and is compared as the README describes: column names and types, values by
type (reals within 1e-9 relative, datetimes and timespans as ticks, dynamic values deeply), rows
in order or as a multiset. A query that errors, panics or times out counts as failed.";

/// Examples and exit codes of `quarry conformance`.
const CONFORMANCE_EXAMPLES: &str = "\
Examples:
  quarry conformance ../shared/conformance/dev.jsonl
  quarry conformance dev.jsonl --filter duckdb-kql/bin- --verbose
  quarry conformance dev.jsonl --format json > report.json

The text output lists the failing families (case ids up to their number) with their counts;
--verbose also prints `FAIL id: reason` for every failure. The last line is
`N passed, M failed, K skipped`.
Exit codes: 0 no case failed, 1 some case failed, 2 usage error (e.g. a malformed cases file).";

/// Arguments of `quarry query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The KQL query text.
    #[arg(
        value_name = "KQL",
        required_unless_present = "file",
        conflicts_with = "file"
    )]
    pub query: Option<String>,

    /// Read the query from FILE (`-` for standard input).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// The instant now() and ago() see, e.g. 2024-01-01T00:00:00Z (default: the wall clock).
    #[arg(long, value_name = "TS", value_parser = parse_now)]
    pub now: Option<i64>,

    /// A query parameter, as text (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,

    /// Make a file readable as a table: NAME=PATH with PATH a .csv, .json, .ndjson, .jsonl or
    /// .parquet file (repeatable).
    #[arg(long = "table", value_name = "NAME=PATH", value_parser = parse_key_value)]
    pub tables: Vec<(String, String)>,

    /// Return at most N rows (a note on stderr says when rows were dropped).
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,

    /// Stop the query after SECS seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,

    /// Print the plans instead of running the query: the logical plan built from the KQL,
    /// DataFusion's optimised plan and the physical plan.
    #[arg(long)]
    pub explain: bool,
    /// Let `externaldata` download sources at network addresses (refused by default).
    #[arg(long)]
    pub allow_network: bool,

    /// Read the tables of this workspace (when it exists; the default is ./quarry-data).
    #[command(flatten)]
    pub workspace: WorkspaceArg,

    /// Run on the cluster whose scheduler is at HOST:PORT (see `quarry scheduler`).
    #[cfg(feature = "distributed")]
    #[arg(long, value_name = "HOST:PORT", env = "QUARRY_CLUSTER")]
    pub cluster: Option<String>,
}

/// How `query` prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    /// Aligned columns with a header.
    Table,
    /// One JSON document: `{"columns": [{"name", "type"}], "rows": [[...]]}`.
    Json,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per row, keyed by column name.
    Ndjson,
}

/// Arguments of `quarry conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// The cases file (JSON Lines).
    #[arg(value_name = "CASES.jsonl")]
    pub cases: PathBuf,

    /// Print `FAIL id: reason` for every failing case, and every failing family.
    #[arg(short, long)]
    pub verbose: bool,

    /// Run only the cases whose id contains SUBSTRING.
    #[arg(long, value_name = "SUBSTRING")]
    pub filter: Option<String>,

    /// Time limit of one case, in seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,

    /// Output format: text, or one JSON document with every failure.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Run the cases on the cluster whose scheduler is at HOST:PORT (see `quarry scheduler`).
    #[cfg(feature = "distributed")]
    #[arg(long, value_name = "HOST:PORT", env = "QUARRY_CLUSTER")]
    pub cluster: Option<String>,
}

/// `NAME=VALUE` with a non-empty name.
fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, got `{text}`")),
    }
}

/// A positive number of seconds (fractions allowed).
fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds.is_finite() => Ok(Duration::from_secs_f64(seconds)),
        _ => Err(format!(
            "expected a positive number of seconds, got `{text}`"
        )),
    }
}

/// A datetime as Kusto reads it, in nanoseconds since the Unix epoch.
fn parse_now(text: &str) -> Result<i64, String> {
    quarry_engine::values::parse_datetime(text)
        .ok_or_else(|| format!("not a datetime: `{text}` (try 2024-01-01T00:00:00Z)"))
}

/// The long description of `quarry rules` (`--help`).
const RULES_ABOUT: &str = "\
Import rule repositories into the workspace's catalog and browse it.

`import` reads an Azure-Sentinel checkout (or clones a git URL into the workspace): hunting
queries, analytic rules and exploration queries in every folder spelling, and parsers (ASIM and
others) as stored functions. Every rule is analysed (tables, columns, parameters, indicators,
time window), checked against the table schemas, and enriched (hypothesis, confidence, data
sources, false-positive guidance, references, contradictions). A file that cannot be read is
listed with its path, line, column and reason; it never stops the import. Re-importing is
idempotent; a changed file gets a new revision; a file no longer there is marked removed.";

/// Examples of `quarry rules`.
const RULES_EXAMPLES: &str = "\
Examples:
  quarry rules import ~/src/Azure-Sentinel
  quarry rules import https://github.com/Azure/Azure-Sentinel
  quarry rules list --tactic CredentialAccess --table SecurityEvent
  quarry rules list --runnable --sort severity --format json
  quarry rules show 44b02f8c-d206-4e1a-9859-6aa06b80c346
  quarry rules search 'lsass dump'

Exit codes: 0 ok, 1 some files could not be imported or nothing matched, 2 usage error.";

/// Arguments of `quarry rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// What to do with the catalog.
    #[command(subcommand)]
    pub command: RulesCommand,
}

/// The `quarry rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Import a rule repository (a local folder or a git URL).
    Import(RulesImportArgs),
    /// List rules, with filters.
    List(RulesListArgs),
    /// Show every section of one rule.
    Show(RulesShowArgs),
    /// Full-text search over names, descriptions, queries and tags.
    Search(RulesSearchArgs),
}

/// Arguments of `quarry rules import`.
#[derive(Debug, Args)]
pub struct RulesImportArgs {
    /// A local folder, or a git URL (https://, ssh://, git@host:owner/repo).
    pub source: String,
    /// The upstream URL of a folder that is not a git checkout (for links to the original files).
    #[arg(long, value_name = "URL")]
    pub origin: Option<String>,
    /// The commit of a folder that is not a git checkout.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// Skip checking each query against the table schemas (faster; bind status "not-checked").
    #[arg(long)]
    pub no_check: bool,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

/// How `rules list` sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuleSortArg {
    /// By name.
    Name,
    /// Highest severity first.
    Severity,
    /// Highest confidence first.
    Confidence,
    /// By kind.
    Kind,
    /// By path in the source.
    Path,
}

/// Arguments of `quarry rules list`.
#[derive(Debug, Args)]
pub struct RulesListArgs {
    /// Only rules from a source whose URL or path contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub source: Option<String>,
    /// Only hunting, analytic or exploration rules.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only rules of this severity (upstream or inferred).
    #[arg(long)]
    pub severity: Option<String>,
    /// Only rules that read this table.
    #[arg(long)]
    pub table: Option<String>,
    /// Only rules with this ATT&CK tactic (any spelling: CredentialAccess, credential-access, TA0006).
    #[arg(long)]
    pub tactic: Option<String>,
    /// Only rules with this ATT&CK technique (T1003 also matches T1003.001).
    #[arg(long)]
    pub technique: Option<String>,
    /// Only rules with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only rules that have parameters to fill.
    #[arg(long, conflicts_with = "no_parameters")]
    pub has_parameters: bool,
    /// Only rules without parameters.
    #[arg(long)]
    pub no_parameters: bool,
    /// Only rules runnable on this workspace (they bind, and it has every table they read).
    #[arg(long)]
    pub runnable: bool,
    /// Include rules no longer in their source.
    #[arg(long)]
    pub include_removed: bool,
    /// Sort order.
    #[arg(long, value_enum, default_value_t = RuleSortArg::Name)]
    pub sort: RuleSortArg,
    /// Show at most N rules.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

/// How `rules show` prints a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Every section, for reading.
    Text,
    /// One JSON document.
    Json,
    /// One YAML document.
    Yaml,
}

/// Arguments of `quarry rules show`.
#[derive(Debug, Args)]
pub struct RulesShowArgs {
    /// The rule's upstream id (or its path in the source).
    pub id: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

/// Arguments of `quarry rules search`.
#[derive(Debug, Args)]
pub struct RulesSearchArgs {
    /// Words to find (all must match; the last also as a prefix).
    pub text: String,
    /// Show at most N results.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

/// Examples of `quarry coverage`.
const COVERAGE_EXAMPLES: &str = "\
Examples:
  quarry coverage
  quarry coverage --navigator layer.json     then open layer.json in the ATT&CK Navigator
  quarry coverage --kind analytic --format json";

/// Arguments of `quarry coverage`.
#[derive(Debug, Args)]
pub struct CoverageArgs {
    /// Also write an ATT&CK Navigator layer (format 4.5) to FILE.
    #[arg(long, value_name = "FILE")]
    pub navigator: Option<PathBuf>,
    /// Only rules of this kind.
    #[arg(long)]
    pub kind: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
}

/// The long description of `quarry hunt` (`--help`).
const HUNT_ABOUT: &str = "\
Run catalog rules over the workspace and keep what they find.

Select rules by id, or by the filters of `quarry rules list` (no selection: every rule in the
catalog). Each rule runs with now() pinned to the latest event in the tables it reads (exported
data ends in the past: ago(1d) means the last day of the data), or to --to; {{StartTimeISO}} and
{{EndTimeISO}} span the rule's own look-back (or --from). Placeholders the catalog found
(\"IP ADDRESS GOES HERE\", <domain>, {{SrcIpAddr}}) are filled from --param and --params; a rule
with an unfilled one is skipped and says which. Rules run concurrently within the memory cap,
each with a time limit. Result rows become findings in the workspace database; the same row in a
later run is recognised, not duplicated.";

/// Examples of `quarry hunt`.
const HUNT_EXAMPLES: &str = "\
Examples:
  quarry hunt                                     every rule in the catalog
  quarry hunt --tactic CredentialAccess --runnable
  quarry hunt 44b02f8c-d206-4e1a-9859-6aa06b80c346 --param url=evil.example --param ip=203.0.113.7
  quarry hunt --params params.yaml --format sarif --output hunt.sarif
  quarry hunt --to 2024-05-01T00:00:00Z --from 2024-04-01T00:00:00Z --navigator fired.json

Exit codes: 0 nothing fired, 1 some rule fired (or failed), 2 usage error.";

/// How `hunt` prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    /// A table of rules, totals and the run summary.
    Text,
    /// One JSON document: summary, every rule with its findings.
    Json,
    /// One CSV line per rule.
    Csv,
    /// SARIF 2.1.0.
    Sarif,
}

/// Arguments of `quarry hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Rule ids to run (none: select with the filters, or every rule).
    pub ids: Vec<String>,
    /// Only rules from a source whose URL or path contains TEXT.
    #[arg(long, value_name = "TEXT")]
    pub source: Option<String>,
    /// Only hunting, analytic or exploration rules.
    #[arg(long)]
    pub kind: Option<String>,
    /// Only rules of this severity.
    #[arg(long)]
    pub severity: Option<String>,
    /// Only rules that read this table.
    #[arg(long)]
    pub table: Option<String>,
    /// Only rules with this ATT&CK tactic.
    #[arg(long)]
    pub tactic: Option<String>,
    /// Only rules with this ATT&CK technique.
    #[arg(long)]
    pub technique: Option<String>,
    /// Only rules with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only rules runnable on this workspace.
    #[arg(long)]
    pub runnable: bool,
    /// A parameter value NAME=VALUE (NAME: the parameter's name, its placeholder text, or a
    /// kind such as ip or url); repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// A YAML or JSON file of parameter values (`parameters:` for all rules, `rules: {ID: …}`).
    #[arg(long = "params", value_name = "FILE")]
    pub params_file: Option<PathBuf>,
    /// Start of the window ({{StartTimeISO}}), e.g. 2024-04-01T00:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the window and now(), e.g. 2024-05-01T00:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Rules run at the same time (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Time limit of one rule, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,
    /// Result rows kept per rule.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_findings: usize,
    /// Scan each table separately for every rule instead of decoding tables that several rules
    /// read once and sharing them in memory.
    #[arg(long)]
    pub no_shared_scans: bool,
    /// Let `externaldata` download sources at network addresses (refused by default).
    #[arg(long)]
    pub allow_network: bool,
    /// List every rule in the text report, not only those that fired or failed.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = HuntFormat::Text)]
    pub format: HuntFormat,
    /// Write the output to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write an ATT&CK Navigator layer of the techniques that fired.
    #[arg(long, value_name = "FILE")]
    pub navigator: Option<PathBuf>,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Run the rules on the cluster whose scheduler is at HOST:PORT (see `quarry scheduler`;
    /// shared scans are off there).
    #[cfg(feature = "distributed")]
    #[arg(long, value_name = "HOST:PORT", env = "QUARRY_CLUSTER")]
    pub cluster: Option<String>,
}
