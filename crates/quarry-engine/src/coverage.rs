//! KQL function coverage: Kusto's catalogue of built-in functions against what the engine
//! implements.
//!
//! The catalogue is `data/kusto-functions.tsv`, written by `tools/kusto-oracle/functions.js`
//! from Microsoft's Kusto.Language (npm `@kusto/language-service-next`). The implemented names
//! are the lists the engine dispatches on: [`crate::functions::scalar_function_names`] plus the
//! calls the planner handles itself, [`aggregate_function_names`], [`plugin_names`] and
//! [`tabular_function_names`]. [`render_markdown`] gives `docs/kql-functions.md`; regenerate it
//! with [`REGENERATE_COMMAND`] (the test `tests/function_coverage.rs` fails when it is stale).

use std::collections::BTreeSet;
use std::fmt;

pub use crate::planner::{
    aggregate_function_names, planner_scalar_function_names, plugin_names, tabular_function_names,
};

/// Kusto's catalogue, as written by `tools/kusto-oracle/functions.js`.
pub const KUSTO_FUNCTIONS_TSV: &str = include_str!("../data/kusto-functions.tsv");

/// The command that rewrites `docs/kql-functions.md` from the catalogue and the engine.
pub const REGENERATE_COMMAND: &str =
    "cargo run -p quarry-engine --example function_coverage -- --write";

/// The committed coverage table, relative to the workspace root.
pub const MARKDOWN_PATH: &str = "docs/kql-functions.md";

/// Names the engine implements that Kusto's catalogue does not list, with the reason. Anything
/// else implemented but missing from the catalogue is taken for a typo by the coverage test.
///
/// All but `typeof` are rejected by Kusto itself ("does not refer to any known function"): a
/// query using them runs in Quarry but not in Azure Data Explorer or Sentinel.
pub const EXTENSIONS: &[(&str, FunctionKind, &str)] = &[
    (
        "schema_merge",
        FunctionKind::Plugin,
        "a documented Kusto plugin (schema-merge-plugin) that the catalogue does not list",
    ),
    (
        "typeof",
        FunctionKind::Scalar,
        "Kusto's type literal `typeof(T)` (syntax, not a catalogue function), planned as a call",
    ),
    (
        "minuteofhour",
        FunctionKind::Scalar,
        "not Kusto (Kusto rejects it): the minute of a datetime; Kusto writes \
         `datetime_part(\"minute\", d)`",
    ),
    (
        "series_decompose_dynamic",
        FunctionKind::Scalar,
        "not Kusto (Kusto rejects it): `series_decompose` as one bag, like Kusto's \
         `series_fit_line_dynamic`",
    ),
    (
        "series_decompose_anomalies_dynamic",
        FunctionKind::Scalar,
        "not Kusto (Kusto rejects it): `series_decompose_anomalies` as one bag",
    ),
    (
        "stdevpif",
        FunctionKind::Aggregate,
        "not Kusto (Kusto rejects it): `stdevp` with a predicate, like Kusto's `variancepif`",
    ),
];

/// What a function is called as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FunctionKind {
    /// A scalar function: `strlen(s)`.
    Scalar,
    /// An aggregate, in `summarize`: `count()`.
    Aggregate,
    /// An `evaluate` plugin: `evaluate bag_unpack(d)`.
    Plugin,
    /// A function returning a table: `table("T")`.
    Tabular,
}

impl FunctionKind {
    /// Every kind, in table order.
    pub const ALL: [FunctionKind; 4] = [
        FunctionKind::Scalar,
        FunctionKind::Aggregate,
        FunctionKind::Plugin,
        FunctionKind::Tabular,
    ];

    /// The kind's name in the catalogue file.
    pub fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Scalar => "scalar",
            FunctionKind::Aggregate => "aggregate",
            FunctionKind::Plugin => "plugin",
            FunctionKind::Tabular => "tabular",
        }
    }

    /// Parses a catalogue kind name.
    pub fn parse(text: &str) -> Option<FunctionKind> {
        FunctionKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    fn heading(self) -> &'static str {
        match self {
            FunctionKind::Scalar => "Scalar functions",
            FunctionKind::Aggregate => "Aggregates",
            FunctionKind::Plugin => "Plugins (`evaluate`)",
            FunctionKind::Tabular => "Tabular functions",
        }
    }
}

impl fmt::Display for FunctionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One function of Kusto's catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KustoFunction {
    /// The name.
    pub name: String,
    /// Scalar, aggregate, plugin or tabular.
    pub kind: FunctionKind,
    /// Kusto hides it (internal `__` names and deprecated aliases such as `makeset`).
    pub hidden: bool,
    /// Deprecated in favour of [`KustoFunction::replacement`].
    pub obsolete: bool,
    /// Only valid in a special context (the graph-match functions).
    pub contextual: bool,
    /// Special syntax in Kusto rather than a catalogue symbol (`toscalar`, `materialize`).
    pub keyword: bool,
    /// What to use instead of an obsolete function.
    pub replacement: Option<String>,
}

/// The embedded catalogue's source line (`@kusto/language-service-next` and its version).
pub fn catalogue_source() -> String {
    KUSTO_FUNCTIONS_TSV
        .lines()
        .filter_map(|line| line.strip_prefix('#'))
        .find_map(|line| {
            let at = line.find("@kusto/language-service-next")?;
            Some(line[at..].trim().trim_end_matches('.').to_string())
        })
        .unwrap_or_else(|| "@kusto/language-service-next".to_string())
}

/// Parses a catalogue file: `#` comment lines, a header line, then
/// `name <TAB> kind <TAB> flags <TAB> replacement` lines.
pub fn parse_catalogue(text: &str) -> Result<Vec<KustoFunction>, String> {
    let mut functions = Vec::new();
    let mut header_seen = false;
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !header_seen {
            if line != "name\tkind\tflags\treplacement" {
                return Err(format!(
                    "line {number}: expected the header, found `{line}`"
                ));
            }
            header_seen = true;
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, kind, flags, replacement] = fields.as_slice() else {
            return Err(format!("line {number}: expected 4 tab-separated fields"));
        };
        let kind = FunctionKind::parse(kind)
            .ok_or_else(|| format!("line {number}: unknown kind `{kind}`"))?;
        let flags: Vec<&str> = match *flags {
            "-" => Vec::new(),
            flags => flags.split(',').collect(),
        };
        for flag in &flags {
            if !matches!(*flag, "hidden" | "obsolete" | "contextual" | "keyword") {
                return Err(format!("line {number}: unknown flag `{flag}`"));
            }
        }
        functions.push(KustoFunction {
            name: (*name).to_string(),
            kind,
            hidden: flags.contains(&"hidden"),
            obsolete: flags.contains(&"obsolete"),
            contextual: flags.contains(&"contextual"),
            keyword: flags.contains(&"keyword"),
            replacement: match *replacement {
                "-" => None,
                text => Some(text.to_string()),
            },
        });
    }
    if !header_seen {
        return Err("no header line".to_string());
    }
    Ok(functions)
}

/// Kusto's catalogue ([`KUSTO_FUNCTIONS_TSV`]).
///
/// # Panics
/// When the embedded file is malformed (the coverage test parses it on every run).
pub fn kusto_catalogue() -> Vec<KustoFunction> {
    match parse_catalogue(KUSTO_FUNCTIONS_TSV) {
        Ok(functions) => functions,
        Err(error) => panic!("data/kusto-functions.tsv: {error}"),
    }
}

/// The names of `kind` the engine implements, sorted.
pub fn implemented_names(kind: FunctionKind) -> Vec<&'static str> {
    let names: BTreeSet<&'static str> = match kind {
        FunctionKind::Scalar => crate::functions::scalar_function_names()
            .into_iter()
            .chain(planner_scalar_function_names())
            .collect(),
        FunctionKind::Aggregate => aggregate_function_names().into_iter().collect(),
        FunctionKind::Plugin => plugin_names().into_iter().collect(),
        FunctionKind::Tabular => tabular_function_names().into_iter().collect(),
    };
    names.into_iter().collect()
}

/// One row of the coverage table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRow {
    /// Kusto's entry.
    pub function: KustoFunction,
    /// True when the engine implements it.
    pub implemented: bool,
}

/// Implemented and total counts for one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Documented names (not hidden) the engine implements.
    pub implemented: usize,
    /// Documented names (not hidden).
    pub total: usize,
    /// Hidden names (deprecated aliases, internal names) the engine implements.
    pub hidden_implemented: usize,
    /// Hidden names.
    pub hidden_total: usize,
}

impl Totals {
    /// `implemented / total` as a percentage.
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            100.0 * self.implemented as f64 / self.total as f64
        }
    }
}

/// Kusto's catalogue, each entry marked implemented or not, sorted by name then kind.
pub fn coverage_rows() -> Vec<CoverageRow> {
    let implemented: Vec<(FunctionKind, Vec<&'static str>)> = FunctionKind::ALL
        .into_iter()
        .map(|kind| (kind, implemented_names(kind)))
        .collect();
    let mut rows: Vec<CoverageRow> = kusto_catalogue()
        .into_iter()
        .map(|function| {
            let implemented = implemented.iter().any(|(kind, names)| {
                *kind == function.kind && names.contains(&function.name.as_str())
            });
            CoverageRow {
                function,
                implemented,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.function.name.as_str(), a.function.kind)
            .cmp(&(b.function.name.as_str(), b.function.kind))
    });
    rows
}

/// The counts of one kind over `rows`.
pub fn totals(rows: &[CoverageRow], kind: FunctionKind) -> Totals {
    let mut totals = Totals::default();
    for row in rows.iter().filter(|r| r.function.kind == kind) {
        if row.function.hidden {
            totals.hidden_total += 1;
            totals.hidden_implemented += usize::from(row.implemented);
        } else {
            totals.total += 1;
            totals.implemented += usize::from(row.implemented);
        }
    }
    totals
}

/// Names the engine implements that are neither in Kusto's catalogue nor [`EXTENSIONS`]: typos,
/// or extensions to document there.
pub fn unknown_implemented_names() -> Vec<(FunctionKind, &'static str)> {
    let catalogue = kusto_catalogue();
    let mut unknown = Vec::new();
    for kind in FunctionKind::ALL {
        for name in implemented_names(kind) {
            let listed = catalogue.iter().any(|f| f.kind == kind && f.name == name);
            let extension = EXTENSIONS.iter().any(|(n, k, _)| *n == name && *k == kind);
            if !listed && !extension {
                unknown.push((kind, name));
            }
        }
    }
    unknown
}

/// The documented (not hidden) catalogue names of `kind` the engine does not implement.
pub fn missing_names(kind: FunctionKind) -> Vec<String> {
    coverage_rows()
        .into_iter()
        .filter(|r| r.function.kind == kind && !r.function.hidden && !r.implemented)
        .map(|r| r.function.name)
        .collect()
}

fn note(function: &KustoFunction) -> String {
    let mut notes = Vec::new();
    if function.obsolete {
        match &function.replacement {
            Some(replacement) => notes.push(format!("obsolete, use {replacement}")),
            None => notes.push("obsolete".to_string()),
        }
    } else if function.hidden {
        notes.push("hidden".to_string());
    }
    if function.contextual {
        notes.push("graph-match only".to_string());
    }
    if function.keyword {
        notes.push("special syntax".to_string());
    }
    notes.join("; ")
}

/// `docs/kql-functions.md`: the totals per kind, then every catalogue function, alphabetical.
pub fn render_markdown() -> String {
    let rows = coverage_rows();
    let mut out = String::new();
    out.push_str("# KQL function coverage\n\n");
    out.push_str(&format!(
        "Every built-in function, aggregate and plugin of Kusto's catalogue (Kusto.Language from \
         npm {}, via `crates/quarry-engine/data/kusto-functions.tsv`) and whether Quarry's \
         engine implements it.\n\n",
        catalogue_source()
    ));
    out.push_str(&format!(
        "Generated; do not edit. Regenerate with `{REGENERATE_COMMAND}` (the test \
         `cargo test -p quarry-engine --test function_coverage` fails while this file is stale). \
         Refresh the catalogue itself with `node tools/kusto-oracle/functions.js`.\n\n"
    ));
    out.push_str("| Kind | Implemented | Total | Coverage | Hidden names implemented |\n");
    out.push_str("|---|---:|---:|---:|---:|\n");
    for kind in FunctionKind::ALL {
        let t = totals(&rows, kind);
        out.push_str(&format!(
            "| {} | {} | {} | {:.1}% | {} of {} |\n",
            kind.heading(),
            t.implemented,
            t.total,
            t.percent(),
            t.hidden_implemented,
            t.hidden_total
        ));
    }
    out.push_str(
        "\nTotals count the names Kusto documents. Hidden names (deprecated aliases such as \
         `makeset`, internal `__` names) are listed below but counted separately. \
         Graph-match functions are valid only inside `graph-match`.\n",
    );
    if !EXTENSIONS.is_empty() {
        out.push_str("\nAlso implemented, outside Kusto's catalogue:\n\n");
        for (name, kind, reason) in EXTENSIONS {
            out.push_str(&format!("- `{name}` ({kind}): {reason}\n"));
        }
    }
    out.push_str("\n| Name | Kind | Implemented | Note |\n|---|---|---|---|\n");
    for row in &rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            row.function.name,
            row.function.kind,
            if row.implemented { "yes" } else { "no" },
            note(&row.function)
        ));
    }
    out
}
