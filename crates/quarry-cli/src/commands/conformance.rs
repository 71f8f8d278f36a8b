//! `quarry conformance`: runs conformance cases through the engine's harness and reports.

use crate::cli::{ConformanceArgs, Format};
use crate::commands::{runtime, CommandError, Outcome};
use quarry_engine::conformance::{
    load_cases, run_cases_with, session_config, Case, Outcome as CaseOutcome, Summary,
};
use quarry_engine::Session;
use serde::Serialize;
use std::io::{self, IsTerminal, Write};

/// Failing families listed without --verbose.
const FAMILIES_SHOWN: usize = 25;

/// Runs `quarry conformance`.
pub fn run(args: &ConformanceArgs) -> Result<Outcome, CommandError> {
    let mut cases = load_cases(&args.cases).map_err(|e| CommandError::Usage(e.to_string()))?;
    if let Some(filter) = &args.filter {
        cases.retain(|case| case.id.contains(filter.as_str()));
        if cases.is_empty() {
            eprintln!("note: no case id contains `{filter}`");
        }
    }
    let timeout = args.timeout;
    let total = cases.len();
    let progress = args.format == Format::Text && !args.verbose && io::stderr().is_terminal();
    let verbose = args.verbose && args.format == Format::Text;
    let mut done = 0usize;
    let mut write_error: Option<io::Error> = None;
    let on_case = |case: &Case, outcome: &CaseOutcome| {
        done += 1;
        if verbose {
            if let CaseOutcome::Failed { reason } = outcome {
                let mut out = io::stdout().lock();
                if let Err(e) = writeln!(out, "FAIL {}: {reason}", case.id) {
                    write_error.get_or_insert(e);
                }
            }
        }
        if progress && (done.is_multiple_of(10) || done == total) {
            eprint!("\r{done}/{total} cases");
        }
    };
    let runtime = runtime()?;
    #[cfg(feature = "distributed")]
    let cluster = crate::commands::cluster::connect(&runtime, args.cluster.as_deref())?;
    let make_session = || {
        #[cfg(feature = "distributed")]
        if let Some(cluster) = &cluster {
            return cluster.session(session_config(timeout), None);
        }
        Session::new(session_config(timeout))
            .unwrap_or_else(|e| panic!("cannot create a session: {e}"))
    };
    let summary = runtime.block_on(run_cases_with(&cases, make_session, timeout, on_case));
    runtime.shutdown_background();
    if progress {
        eprint!("\r{}\r", " ".repeat(format!("{total}/{total} cases").len()));
    }
    if let Some(error) = write_error {
        return Err(error.into());
    }
    match args.format {
        Format::Text => write_text(&summary, args.verbose)?,
        Format::Json => {
            write_json(&summary)?;
            eprintln!("{summary}");
        }
    }
    Ok(if summary.failed == 0 {
        Outcome::Ok
    } else {
        Outcome::Findings
    })
}

/// Failing families, then the summary line.
fn write_text(summary: &Summary, verbose: bool) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let families = summary.failing_families();
    if !families.is_empty() {
        writeln!(out, "failing families ({}):", families.len())?;
        let shown = if verbose {
            families.len()
        } else {
            FAMILIES_SHOWN
        };
        let width = families.first().map_or(1, |f| f.1.to_string().len());
        for (family, count) in families.iter().take(shown) {
            writeln!(out, "  {count:>width$}  {family}")?;
        }
        if families.len() > shown {
            writeln!(
                out,
                "  … and {} more families (--verbose lists them all)",
                families.len() - shown
            )?;
        }
        let order = summary.order_mismatches();
        if order > 0 {
            writeln!(out, "{order} of the failures are order mismatches")?;
        }
    }
    writeln!(out, "{summary}")?;
    out.flush()
}

/// The JSON document of `--format json`.
#[derive(Serialize)]
struct JsonReport<'a> {
    passed: usize,
    failed: usize,
    skipped: usize,
    failures: Vec<JsonCase<'a>>,
    skips: Vec<JsonCase<'a>>,
    families: Vec<JsonFamily>,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    id: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct JsonFamily {
    family: String,
    failed: usize,
}

fn json_cases(list: &[(String, String)]) -> Vec<JsonCase<'_>> {
    list.iter()
        .map(|(id, reason)| JsonCase { id, reason })
        .collect()
}

/// One JSON document on one line.
fn write_json(summary: &Summary) -> io::Result<()> {
    let report = JsonReport {
        passed: summary.passed,
        failed: summary.failed,
        skipped: summary.skipped,
        failures: json_cases(&summary.failures),
        skips: json_cases(&summary.skips),
        families: summary
            .failing_families()
            .into_iter()
            .map(|(family, failed)| JsonFamily { family, failed })
            .collect(),
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    serde_json::to_writer(&mut out, &report).map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()
}
