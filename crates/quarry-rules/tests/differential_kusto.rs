//! Differential test against Microsoft's own KQL parser.
//!
//! Every `query:` of every rule file in the Azure-Sentinel development corpus is parsed by Quarry
//! and by `Kusto.Language.KustoCode.Parse` (npm `@kusto/language-service-next`, run under Node by
//! `tools/kusto-oracle/oracle.js`, syntax only). The two must agree:
//!
//! - every query Microsoft's parser accepts gets no Quarry error diagnostic;
//! - every query it rejects gets at least one Quarry error.
//!
//! Needs Node.js 20+ and `npm ci --prefix tools/kusto-oracle`. Never skipped: a missing corpus,
//! Node or package fails the test with a message saying what to do.
//! Run with `cargo test -p quarry-rules --test differential_kusto -- --nocapture` to see the
//! counts and every disagreement.

mod corpus_support;

use corpus_support::{
    corpus_root, first_error, load_queries, parse_catching, position, quiet_panics, run_node,
    utf16_to_byte_offset, write_queries_json, Outcome,
};
use std::collections::HashMap;

/// Microsoft's verdict on one query.
struct Verdict {
    ok: bool,
    /// The first error diagnostic (or the exception), as `line:col message`.
    first: String,
}

fn run_oracle(queries: &[corpus_support::CorpusQuery]) -> HashMap<String, Verdict> {
    let file = write_queries_json("kusto-oracle", queries);
    let stdout = run_node("oracle.js", &[file.as_os_str()]);
    let _ = std::fs::remove_file(&file);

    let texts: HashMap<&str, &str> = queries
        .iter()
        .map(|q| (q.id.as_str(), q.text.as_str()))
        .collect();
    let mut verdicts = HashMap::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("oracle.js printed a line that is not JSON ({e}): {line}"));
        let id = v["id"]
            .as_str()
            .unwrap_or_else(|| panic!("oracle.js line without an id: {line}"))
            .to_string();
        if let Some(error) = v["error"].as_str() {
            panic!("Microsoft's parser threw on {id}: {error}");
        }
        let ok = v["ok"]
            .as_bool()
            .unwrap_or_else(|| panic!("oracle.js line without `ok`: {line}"));
        let first = match v["diagnostics"].as_array().and_then(|d| d.first()) {
            Some(d) => {
                let text = texts.get(id.as_str()).copied().unwrap_or("");
                let start = d["start"].as_u64().unwrap_or(0) as usize;
                format!(
                    "{} {}",
                    position(text, utf16_to_byte_offset(text, start)),
                    d["message"].as_str().unwrap_or("?")
                )
            }
            None => String::new(),
        };
        verdicts.insert(id, Verdict { ok, first });
    }
    for q in queries {
        assert!(
            verdicts.contains_key(&q.id),
            "oracle.js printed no verdict for {} ({} lines for {} queries)",
            q.id,
            stdout.lines().count(),
            queries.len()
        );
    }
    verdicts
}

#[test]
fn quarry_agrees_with_microsofts_parser_on_the_corpus() {
    let queries = load_queries();
    let verdicts = run_oracle(&queries);
    quiet_panics();

    let (mut accepted, mut also_accepted) = (0, 0);
    let (mut rejected, mut also_rejected) = (0, 0);
    // Kusto accepts, Quarry reports an error (or panics).
    let mut false_errors = Vec::new();
    // Kusto rejects, Quarry reports no error (or panics).
    let mut missed_errors = Vec::new();

    for q in &queries {
        let verdict = &verdicts[&q.id];
        let outcome = parse_catching(&q.text);
        if verdict.ok {
            accepted += 1;
            match outcome {
                Outcome::Ok(_) => also_accepted += 1,
                Outcome::Errors(parsed) => {
                    false_errors.push(format!("{}: {}", q.id, first_error(&q.text, &parsed)))
                }
                Outcome::Panicked(msg) => {
                    false_errors.push(format!("{}: Quarry's parser panicked: {msg}", q.id))
                }
            }
        } else {
            rejected += 1;
            match outcome {
                Outcome::Errors(_) => also_rejected += 1,
                Outcome::Ok(_) => {
                    missed_errors.push(format!("{}: Kusto says {}", q.id, verdict.first))
                }
                Outcome::Panicked(msg) => missed_errors.push(format!(
                    "{}: Kusto says {}; Quarry's parser panicked: {msg}",
                    q.id, verdict.first
                )),
            }
        }
    }
    // Restore the default hook so that a failing assertion below prints normally.
    let _ = std::panic::take_hook();

    println!(
        "{} corpus queries; accepted by Kusto: {accepted}, also by Quarry: {also_accepted}; \
         rejected by Kusto: {rejected}, also by Quarry: {also_rejected}",
        queries.len()
    );
    if !false_errors.is_empty() || !missed_errors.is_empty() {
        println!("(paths are relative to {})", corpus_root().display());
    }
    if !false_errors.is_empty() {
        println!(
            "\n{} queries accepted by Kusto but rejected by Quarry (first Quarry error):",
            false_errors.len()
        );
        for line in &false_errors {
            println!("  {line}");
        }
    }
    if !missed_errors.is_empty() {
        println!(
            "\n{} queries rejected by Kusto but accepted by Quarry (Kusto's first error):",
            missed_errors.len()
        );
        for line in &missed_errors {
            println!("  {line}");
        }
    }

    assert!(
        false_errors.is_empty() && missed_errors.is_empty(),
        "Quarry disagrees with Microsoft's parser on {} of {} corpus queries \
         (accepted by Kusto: {accepted}, also by Quarry: {also_accepted}; \
         rejected by Kusto: {rejected}, also by Quarry: {also_rejected}); \
         run with --nocapture to see every disagreement",
        false_errors.len() + missed_errors.len(),
        queries.len()
    );
}
