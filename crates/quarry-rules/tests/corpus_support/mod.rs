//! Shared by the corpus tests (`differential_kusto.rs`, `round_trip.rs`) and the benchmark
//! (`benches/parse_corpus.rs`, which includes this file with `#[path]`): loading every `query:` of
//! the Azure-Sentinel development corpus, catching parser panics, and running the Node scripts in
//! `tools/kusto-oracle` (Microsoft's own KQL parser).

#![allow(dead_code)]

use std::cell::RefCell;
use std::ffi::OsStr;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::Command;

/// The corpus, relative to this crate's directory.
pub const CORPUS_DIR: &str = "../../../shared/corpus/azure-sentinel";

/// The Node scripts, relative to this crate's directory.
pub const ORACLE_DIR: &str = "../../tools/kusto-oracle";

/// One rule's query text.
pub struct CorpusQuery {
    /// The rule file's path relative to the corpus root, with `/` separators (also the id given
    /// to the oracle, and what the reports print).
    pub id: String,
    /// The rule file.
    pub path: PathBuf,
    /// The `query:` field.
    pub text: String,
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The corpus root; panics with a clear message when it is missing (the corpus tests never skip).
pub fn corpus_root() -> PathBuf {
    let root = crate_dir().join(CORPUS_DIR);
    let root = std::fs::canonicalize(&root).unwrap_or(root);
    assert!(
        root.is_dir(),
        "the Azure-Sentinel development corpus is missing: expected a folder at {} \
         (`{CORPUS_DIR}` relative to crates/quarry-rules, i.e. `shared/corpus/azure-sentinel` \
         beside the repository checkout)",
        root.display()
    );
    root
}

/// Every `query:` of every rule file under the corpus, in path order. Panics when the corpus is
/// missing, when a rule file cannot be read or is not valid YAML, or when no query is found.
pub fn load_queries() -> Vec<CorpusQuery> {
    let root = corpus_root();
    let mut queries = Vec::new();
    let mut failures = Vec::new();
    for path in quarry_rules::sentinel::rule_files(&root) {
        let id = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let file_text = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    failures.push(format!("{id}: not UTF-8: {e}"));
                    continue;
                }
            },
            Err(e) => {
                failures.push(format!("{id}: cannot read: {e}"));
                continue;
            }
        };
        match quarry_rules::sentinel::read_rule_query(&file_text) {
            Ok(Some(rule)) => queries.push(CorpusQuery {
                id,
                path,
                text: rule.text,
            }),
            Ok(None) => {}
            Err(e) => failures.push(format!("{id}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus rule file(s) could not be read:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
    assert!(
        !queries.is_empty(),
        "no `query:` found in any rule file under {}",
        root.display()
    );
    queries
}

/// What happened when Quarry parsed one text.
pub enum Outcome {
    /// Parsed without errors (warnings allowed).
    Ok(quarry_kql::Parsed),
    /// At least one error diagnostic.
    Errors(quarry_kql::Parsed),
    /// The parser panicked; the panic message and location.
    Panicked(String),
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook with one that records the message (with its location) for
/// [`parse_catching`] instead of printing it, so that a parser bug shows up as one line of the
/// test report rather than hundreds of backtraces. Call once per test binary.
pub fn quiet_panics() {
    panic::set_hook(Box::new(|info| {
        let text = info.to_string();
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
    }));
}

/// Parses `text` with Quarry, turning a panic into [`Outcome::Panicked`].
pub fn parse_catching(text: &str) -> Outcome {
    LAST_PANIC.with(|p| p.borrow_mut().take());
    match panic::catch_unwind(AssertUnwindSafe(|| quarry_kql::parse(text))) {
        Ok(parsed) if parsed.is_ok() => Outcome::Ok(parsed),
        Ok(parsed) => Outcome::Errors(parsed),
        Err(payload) => Outcome::Panicked(panic_message(payload)),
    }
}

/// Runs `f`, turning a panic into `Err(message)`.
pub fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    LAST_PANIC.with(|p| p.borrow_mut().take());
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(panic_message)
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(recorded) = LAST_PANIC.with(|p| p.borrow_mut().take()) {
        return recorded;
    }
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// `line:column` (1-based) of a byte offset.
pub fn position(text: &str, byte_offset: usize) -> String {
    let (line, column) = quarry_kql::line_col(text, byte_offset);
    format!("{line}:{column}")
}

/// The byte offset of a UTF-16 code-unit offset (what the JavaScript parser reports).
pub fn utf16_to_byte_offset(text: &str, utf16_offset: usize) -> usize {
    let mut units = 0;
    for (byte, c) in text.char_indices() {
        if units >= utf16_offset {
            return byte;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// The first error diagnostic of a parse, as `line:col code: message`.
pub fn first_error(text: &str, parsed: &quarry_kql::Parsed) -> String {
    match parsed.diagnostics.iter().find(|d| d.is_error()) {
        Some(d) => format!("{} {}: {}", position(text, d.span.start), d.code, d.message),
        None => "no error".to_string(),
    }
}

/// Writes the queries as a JSON array of `{"id", "text"}` to a file in the temp folder and
/// returns its path. `name` keeps files of different tests apart; the process id keeps
/// concurrent runs apart.
pub fn write_queries_json(name: &str, queries: &[CorpusQuery]) -> PathBuf {
    let array: Vec<serde_json::Value> = queries
        .iter()
        .map(|q| serde_json::json!({ "id": q.id, "text": q.text }))
        .collect();
    let path = std::env::temp_dir().join(format!("quarry-{name}-{}.json", std::process::id()));
    let json = serde_json::to_vec(&array).expect("serialising the queries");
    std::fs::write(&path, json).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

const NPM_HINT: &str = "run `npm ci --prefix tools/kusto-oracle` from the repository root \
                        (needs Node.js 20+ and npm)";

/// Runs `node tools/kusto-oracle/<script> <args>` and returns its stdout. Panics with a message
/// saying how to install what is missing when Node or the npm package is not there.
pub fn run_node(script: &str, args: &[&OsStr]) -> String {
    let dir = crate_dir().join(ORACLE_DIR);
    let script_path = dir.join(script);
    assert!(
        script_path.is_file(),
        "{} is missing (it belongs to the repository)",
        script_path.display()
    );
    let package =
        dir.join("node_modules/@kusto/language-service-next/Kusto.Language.Bridge.min.js");
    assert!(
        package.is_file(),
        "Microsoft's KQL parser (npm @kusto/language-service-next) is not installed: \
         {} is missing; {NPM_HINT}",
        package.display()
    );
    let output = match Command::new("node").arg(&script_path).args(args).output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("`node` was not found on PATH; install Node.js 20+, then {NPM_HINT}")
        }
        Err(e) => panic!("cannot run `node {}`: {e}", script_path.display()),
    };
    assert!(
        output.status.success(),
        "`node {}` failed ({}); if the package is missing or broken, {NPM_HINT}\nstderr:\n{}",
        script_path.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("node printed non-UTF-8 output")
}
