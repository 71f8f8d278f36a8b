//! The KQL function coverage table (`docs/kql-functions.md`) against Kusto's catalogue
//! (`data/kusto-functions.tsv`) and the engine.
//!
//! - the committed table must be what the engine and the catalogue give now;
//! - every name the engine says it implements must be in Kusto's catalogue (a typo guard), or a
//!   documented extension;
//! - the name lists must match what the planner does: each catalogue function is planned once
//!   (`print f()`, `summarize f()`, `evaluate f()`) and must be refused as unknown exactly when
//!   the lists say it is not implemented.

use quarry_engine::coverage::{self, FunctionKind, REGENERATE_COMMAND};
use quarry_engine::{EngineError, Session, SessionConfig};
use std::path::PathBuf;

fn workspace_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative)
}

#[test]
fn catalogue_parses_and_covers_every_kind() {
    let catalogue = coverage::parse_catalogue(coverage::KUSTO_FUNCTIONS_TSV)
        .unwrap_or_else(|e| panic!("data/kusto-functions.tsv: {e}"));
    for kind in FunctionKind::ALL {
        assert!(
            catalogue.iter().any(|f| f.kind == kind),
            "the catalogue has no {kind} function"
        );
    }
    assert!(coverage::catalogue_source().contains("@kusto/language-service-next "));
}

#[test]
fn committed_table_is_current() {
    let path = workspace_file(coverage::MARKDOWN_PATH);
    let expected = coverage::render_markdown();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != expected {
        let first_difference = committed
            .lines()
            .zip(expected.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| format!("line {}:\n  committed: {a}\n  current:   {b}", i + 1))
            .unwrap_or_else(|| "the files differ in length".to_string());
        panic!(
            "{} is stale; run `{REGENERATE_COMMAND}` and commit it\n{first_difference}",
            coverage::MARKDOWN_PATH
        );
    }
}

#[test]
fn implemented_names_are_kusto_functions() {
    let unknown = coverage::unknown_implemented_names();
    assert!(
        unknown.is_empty(),
        "the engine implements names that are not in Kusto's catalogue \
         (data/kusto-functions.tsv): {}\nfix the name, or, for a deliberate extension or \
         legacy alias, add it to quarry_engine::coverage::EXTENSIONS with the reason",
        unknown
            .iter()
            .map(|(kind, name)| format!("{name} ({kind})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let catalogue = coverage::kusto_catalogue();
    for (name, kind, _) in coverage::EXTENSIONS {
        assert!(
            coverage::implemented_names(*kind).contains(name),
            "coverage::EXTENSIONS lists {name} ({kind}), which the engine does not implement"
        );
        assert!(
            !catalogue.iter().any(|f| f.name == *name && f.kind == *kind),
            "coverage::EXTENSIONS lists {name} ({kind}), which is in Kusto's catalogue"
        );
    }
}

/// How the planner answers a call of a function.
#[derive(Debug, PartialEq)]
enum Probe {
    /// It does not know the name.
    Unknown,
    /// It planned the call or complained about its arguments: it knows the function.
    Known,
}

fn probe(session: &Session, query: &str, unknown: impl Fn(&EngineError) -> bool) -> Probe {
    match session.plan_only(query) {
        Err(error) if unknown(&error) => Probe::Unknown,
        Err(EngineError::Syntax(diagnostics)) => {
            panic!("{query}: does not parse: {diagnostics:?}")
        }
        _ => Probe::Known,
    }
}

fn unknown_function(name: &str) -> impl Fn(&EngineError) -> bool + '_ {
    move |error| match error {
        EngineError::Bind { message, .. } => *message == format!("unknown function `{name}()`"),
        EngineError::NotSupported { feature, .. } => *feature == format!("function {name}()"),
        _ => false,
    }
}

fn check(kind: FunctionKind, names: &[String], probe_of: impl Fn(&str) -> Probe) {
    let implemented = coverage::implemented_names(kind);
    let mut disagreements = Vec::new();
    for name in names {
        let listed = implemented.contains(&name.as_str());
        let known = probe_of(name) == Probe::Known;
        if listed != known {
            disagreements.push(if listed {
                format!("{name}: listed as implemented, but the planner does not know it")
            } else {
                format!("{name}: planned, but missing from the engine's {kind} name list")
            });
        }
    }
    assert!(
        disagreements.is_empty(),
        "the {kind} name lists disagree with the planner (the lists are \
         functions::scalar_function_names, planner::{{aggregate_function_names, plugin_names, \
         planner_scalar_function_names}}):\n  {}",
        disagreements.join("\n  ")
    );
}

fn catalogue_names(kind: FunctionKind) -> Vec<String> {
    let mut names: Vec<String> = coverage::kusto_catalogue()
        .into_iter()
        .filter(|f| f.kind == kind && !f.contextual)
        .map(|f| f.name)
        .chain(
            coverage::EXTENSIONS
                .iter()
                .filter(|(_, k, _)| *k == kind)
                .map(|(name, _, _)| (*name).to_string()),
        )
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn scalar_list_matches_the_planner() {
    let session = Session::new(SessionConfig::default()).expect("a session");
    check(
        FunctionKind::Scalar,
        &catalogue_names(FunctionKind::Scalar),
        |name| {
            probe(
                &session,
                &format!("print __probe = {name}()"),
                unknown_function(name),
            )
        },
    );
}

#[test]
fn plugin_list_matches_the_planner() {
    let session = Session::new(SessionConfig::default()).expect("a session");
    check(
        FunctionKind::Plugin,
        &catalogue_names(FunctionKind::Plugin),
        |name| {
            let refused = format!("evaluate plugin {name}");
            probe(
                &session,
                &format!("print x = 1 | evaluate {name}()"),
                |error| {
                    matches!(error, EngineError::NotSupported { feature, .. }
                        if *feature == refused || feature.starts_with(&format!("{refused} (")))
                },
            )
        },
    );
}

#[test]
fn every_listed_aggregate_is_planned() {
    let session = Session::new(SessionConfig::default()).expect("a session");
    let mut unplanned = Vec::new();
    for name in coverage::aggregate_function_names() {
        let fallback = format!("aggregate {name}() here");
        let query = format!("print x = 1 | summarize __probe = {name}()");
        let result = probe(&session, &query, |error| {
            unknown_function(name)(error)
                || matches!(error, EngineError::NotSupported { feature, .. } if *feature == fallback)
        });
        if result == Probe::Unknown {
            unplanned.push(name);
        }
    }
    assert!(
        unplanned.is_empty(),
        "aggregate_function_names lists aggregates summarize does not plan: {unplanned:?}"
    );
}
