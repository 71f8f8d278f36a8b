//! Round trip through the pretty-printer on the Azure-Sentinel development corpus.
//!
//! For every corpus `query:` that Quarry parses without errors, `quarry_kql::print` must produce
//! text that parses again without errors into the same tree, spans aside (compared as
//! `serde_json::to_value` of the AST with every object key named `span` removed).
//! Run with `cargo test -p quarry-rules --test round_trip -- --nocapture` to see the counts.

mod corpus_support;

use corpus_support::{
    catching, corpus_root, first_error, load_queries, parse_catching, quiet_panics, Outcome,
};
use serde_json::Value;

/// How many failures are shown with their printed text.
const SHOWN_WITH_TEXT: usize = 3;
/// How many failing files are listed at most.
const LISTED: usize = 50;

/// Removes every object key named `span`, recursively.
fn strip_spans(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("span");
            for v in map.values_mut() {
                strip_spans(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_spans),
        _ => {}
    }
}

fn ast_value(query: &quarry_kql::ast::Query) -> Value {
    let mut value = serde_json::to_value(query).expect("the AST serialises to JSON");
    strip_spans(&mut value);
    value
}

/// Where two JSON trees first differ, as a JSON-pointer-like path with both values (shortened).
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => {
                        if let Some(d) = first_difference(va, vb, &format!("{path}/{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}/{k}: missing after the round trip")),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}/{k}: only after the round trip"))
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                if let Some(d) = first_difference(va, vb, &format!("{path}/{i}")) {
                    return Some(d);
                }
            }
            (x.len() != y.len()).then(|| {
                format!(
                    "{path}: {} elements before, {} after the round trip",
                    x.len(),
                    y.len()
                )
            })
        }
        _ if a == b => None,
        _ => Some(format!(
            "{}: {} before, {} after the round trip",
            if path.is_empty() { "/" } else { path },
            shorten(&a.to_string()),
            shorten(&b.to_string())
        )),
    }
}

fn shorten(s: &str) -> String {
    const MAX: usize = 160;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

struct Failure {
    path: String,
    problem: String,
    printed: Option<String>,
}

#[test]
fn printed_corpus_queries_parse_back_to_the_same_tree() {
    let queries = load_queries();
    quiet_panics();

    let mut parsed_ok = 0;
    let mut failures = Vec::new();
    for q in &queries {
        let Outcome::Ok(parsed) = parse_catching(&q.text) else {
            continue; // only queries Quarry parses without errors take part
        };
        parsed_ok += 1;
        let path = q.id.clone();
        let printed = match catching(|| quarry_kql::print(&parsed.query)) {
            Ok(printed) => printed,
            Err(msg) => {
                failures.push(Failure {
                    path,
                    problem: format!("print panicked: {msg}"),
                    printed: None,
                });
                continue;
            }
        };
        let problem = match parse_catching(&printed) {
            Outcome::Panicked(msg) => Some(format!("re-parsing panicked: {msg}")),
            Outcome::Errors(reparsed) => Some(format!(
                "the printed text does not parse: {}",
                first_error(&printed, &reparsed)
            )),
            Outcome::Ok(reparsed) => {
                let before = ast_value(&parsed.query);
                let after = ast_value(&reparsed.query);
                first_difference(&before, &after, "")
                    .map(|d| format!("a different tree after the round trip: {d}"))
            }
        };
        if let Some(problem) = problem {
            failures.push(Failure {
                path,
                problem,
                printed: Some(printed),
            });
        }
    }
    let _ = std::panic::take_hook();

    println!(
        "{} corpus queries, {parsed_ok} parsed without errors by Quarry, {} of those fail the \
         round trip through quarry_kql::print",
        queries.len(),
        failures.len()
    );
    if !failures.is_empty() {
        println!("(paths are relative to {})", corpus_root().display());
    }
    for (i, f) in failures.iter().take(LISTED).enumerate() {
        println!("  {}: {}", f.path, f.problem);
        if i < SHOWN_WITH_TEXT {
            if let Some(printed) = &f.printed {
                println!("    printed text:");
                for line in printed.lines() {
                    println!("    | {line}");
                }
            }
        }
    }
    if failures.len() > LISTED {
        println!("  … and {} more", failures.len() - LISTED);
    }

    assert!(
        failures.is_empty(),
        "{} of {parsed_ok} corpus queries fail the print/re-parse round trip \
         (first: {}: {})",
        failures.len(),
        failures[0].path,
        failures[0].problem
    );
}
