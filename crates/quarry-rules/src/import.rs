//! Importing a rule repository: find its rules and parsers, read, analyse, bind and enrich every
//! rule (in parallel), and store the result in the catalog in one transaction.

use crate::analysis::analyse;
use crate::attack::Attack;
use crate::catalog::{
    sha256_hex, Catalog, CatalogError, ImportBatch, ImportChanges, ImportProblem, PreparedRule,
};
use crate::enrich::{enrich, BindStatus, EnrichInput};
use crate::model::{FunctionLibrary, Provenance, RuleKind, StoredFunction};
use crate::parameters::{fill_parameters, neutral_value};
use crate::sentinel::{read_rule, RuleReadError};
use crate::source::{discover, read_function_schema, read_parser_file, RepositorySource};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Checks that a query binds and plans (implemented over the engine by the caller, so that this
/// crate does not execute queries).
pub trait QueryChecker: Sync {
    /// The bind status of `query`.
    fn check(&self, query: &str) -> BindStatus;
}

/// A checker that checks nothing (every rule is `NotChecked`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoChecker;

impl QueryChecker for NoChecker {
    fn check(&self, _query: &str) -> BindStatus {
        BindStatus::NotChecked
    }
}

/// Why an import failed as a whole (a single bad file never fails it).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The repository could not be listed.
    #[error("cannot list {path}: {source}")]
    Walk {
        /// The root folder.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The catalog failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

/// What an import did, for the summary and `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The repository imported.
    pub repository: String,
    /// Its commit, when known.
    pub commit: Option<String>,
    /// When it was read.
    pub retrieved_at: String,
    /// Rule files found.
    pub rule_files: usize,
    /// Rules imported, by kind.
    pub rules_by_kind: BTreeMap<String, usize>,
    /// Rules by bind status (`ok`, `missing-tables`, …).
    pub rules_by_bind_status: BTreeMap<String, usize>,
    /// Parser files found.
    pub parser_files: usize,
    /// Stored functions imported (a parser with an alias counts twice).
    pub functions: usize,
    /// Function names defined by more than one parser file.
    pub function_conflicts: Vec<FunctionConflict>,
    /// Files that gave nothing, with the reason.
    pub problems: Vec<ImportProblem>,
    /// Those problems counted by category.
    pub problems_by_category: BTreeMap<String, usize>,
    /// Files in rule and parser folders that are not read, counted by reason.
    pub skipped_by_reason: BTreeMap<String, usize>,
    /// What changed in the catalog.
    pub changes: ImportChanges,
}

fn problem_of(path: &str, text: &str, error: &RuleReadError) -> ImportProblem {
    let (category, line, column, reason) = match error {
        RuleReadError::Yaml(e) => (
            "invalid YAML",
            Some(e.line),
            Some(e.column),
            e.message.clone(),
        ),
        // Upstream leaves a stub without a query where a rule moved into a solution.
        RuleReadError::NoQuery if is_moved_stub(text) => (
            "moved upstream",
            None,
            None,
            "the file has no `query`: it points to the rule's new location".to_string(),
        ),
        RuleReadError::NoQuery => ("no query", None, None, error.to_string()),
        RuleReadError::NotAMapping => ("not a YAML mapping", None, None, error.to_string()),
        RuleReadError::EmptyQuery => ("empty query", None, None, error.to_string()),
    };
    ImportProblem {
        path: path.to_string(),
        line,
        column,
        category: category.to_string(),
        reason,
    }
}

/// Whether a rule file without a query is a pointer to where the rule moved.
fn is_moved_stub(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("moved to new location")
        || lower.contains("moved to a new location")
        || lower.contains("migrated to new location")
}

fn unreadable(path: &str, error: &std::io::Error) -> ImportProblem {
    let category = if error.kind() == std::io::ErrorKind::InvalidData {
        "not UTF-8"
    } else {
        "unreadable"
    };
    ImportProblem {
        path: path.to_string(),
        line: None,
        column: None,
        category: category.to_string(),
        reason: error.to_string(),
    }
}

/// Reads every parser and function schema of a repository.
fn read_functions(
    source: &RepositorySource,
    parsers: &[String],
    schemas: &[String],
    problems: &mut Vec<ImportProblem>,
    conflicts: &mut Vec<FunctionConflict>,
) -> Vec<StoredFunction> {
    let provenance = |path: &str| Provenance {
        repository: source.repository.clone(),
        path: path.to_string(),
        commit: source.commit.clone(),
        original_url: source.file_url(path),
        retrieved_at: source.retrieved_at.clone(),
        last_modified: None,
    };
    let mut functions = Vec::new();
    for path in parsers {
        let text = match std::fs::read_to_string(source.root.join(path)) {
            Ok(text) => text,
            Err(error) => {
                problems.push(unreadable(path, &error));
                continue;
            }
        };
        match read_parser_file(path, &text, &provenance(path)) {
            Ok(found) => functions.extend(found),
            Err(error) => {
                let (line, column) = match &error {
                    crate::source::ParserReadError::Yaml(e) => (Some(e.line), Some(e.column)),
                    _ => (None, None),
                };
                problems.push(ImportProblem {
                    path: path.clone(),
                    line,
                    column,
                    category: "parser without a query".to_string(),
                    reason: error.to_string(),
                });
            }
        }
    }
    let mut functions = resolve_duplicates(functions, conflicts);
    // Schemas stand in only for functions no parser defines.
    let defined: HashSet<String> = functions.iter().map(|f| f.name.clone()).collect();
    for path in schemas {
        let text = match std::fs::read_to_string(source.root.join(path)) {
            Ok(text) => text,
            Err(error) => {
                problems.push(unreadable(path, &error));
                continue;
            }
        };
        match read_function_schema(&text, &provenance(path)) {
            Ok(function) if !defined.contains(&function.name) => functions.push(function),
            Ok(_) => {}
            Err(error) => problems.push(ImportProblem {
                path: path.clone(),
                line: None,
                column: None,
                category: "invalid function schema".to_string(),
                reason: error.to_string(),
            }),
        }
    }
    functions
}

/// Two parser files that define the same function name; one is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionConflict {
    /// The name.
    pub name: String,
    /// The file whose definition is kept.
    pub kept: String,
    /// The file whose definition is dropped.
    pub dropped: String,
}

/// How strongly a file claims a function name: a file named after the function (its primary
/// name, not an alias another parser also declares) first, then files in a `Parsers` folder
/// (the current layout rather than an older version's folder).
fn claim(function: &StoredFunction) -> (bool, bool) {
    let path = &function.provenance.path;
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    (
        stem == function.name,
        path.contains("/Parsers/") || path.starts_with("Parsers/") && !path.contains("V1/"),
    )
}

/// Keeps one definition per name, recording the others.
fn resolve_duplicates(
    functions: Vec<StoredFunction>,
    conflicts: &mut Vec<FunctionConflict>,
) -> Vec<StoredFunction> {
    let mut kept: BTreeMap<String, StoredFunction> = BTreeMap::new();
    for function in functions {
        match kept.get(&function.name) {
            None => {
                kept.insert(function.name.clone(), function);
            }
            Some(existing) => {
                let (winner, loser) = if claim(&function) > claim(existing) {
                    (function, existing.clone())
                } else {
                    (existing.clone(), function)
                };
                conflicts.push(FunctionConflict {
                    name: winner.name.clone(),
                    kept: winner.provenance.path.clone(),
                    dropped: loser.provenance.path.clone(),
                });
                kept.insert(winner.name.clone(), winner);
            }
        }
    }
    kept.into_values().collect()
}

/// Imports `source` into `catalog`. `make_checker` builds the bind checker once the repository's
/// stored functions are known.
pub fn import_repository(
    catalog: &mut Catalog,
    source: &RepositorySource,
    make_checker: &dyn Fn(&FunctionLibrary) -> Box<dyn QueryChecker>,
) -> Result<ImportReport, ImportError> {
    let found = discover(&source.root).map_err(|e| ImportError::Walk {
        path: source.root.display().to_string(),
        source: e,
    })?;
    let mut problems = Vec::new();
    let mut function_conflicts = Vec::new();
    let functions = read_functions(
        source,
        &found.parsers,
        &found.function_schemas,
        &mut problems,
        &mut function_conflicts,
    );
    let mut library = catalog.functions()?;
    for function in &functions {
        library.insert(function.clone());
    }
    let checker = make_checker(&library);
    let known = catalog.known_revisions(&source.repository)?;

    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(found.rules.len().max(1));
    let results: Vec<(usize, Result<PreparedRule, ImportProblem>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some((path, kind)) = found.rules.get(index) else {
                            break;
                        };
                        let result =
                            prepare_rule(source, path, *kind, &library, checker.as_ref(), &known);
                        done.push((index, result));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut results = results;
    results.sort_by_key(|(i, _)| *i);

    let mut rules = Vec::new();
    for (_, result) in results {
        match result {
            Ok(rule) => rules.push(rule),
            Err(problem) => problems.push(problem),
        }
    }
    problems.sort_by(|a, b| a.path.cmp(&b.path));
    let mut rules_by_kind = BTreeMap::new();
    let mut rules_by_bind_status = BTreeMap::new();
    for rule in &rules {
        *rules_by_kind
            .entry(rule.rule.kind.as_str().to_string())
            .or_insert(0) += 1;
        *rules_by_bind_status
            .entry(crate::catalog::bind_label_of(&rule.bind).to_string())
            .or_insert(0) += 1;
    }
    let mut problems_by_category = BTreeMap::new();
    for problem in &problems {
        *problems_by_category
            .entry(problem.category.clone())
            .or_insert(0) += 1;
    }
    let mut skipped_by_reason = BTreeMap::new();
    for (_, reason) in &found.skipped {
        *skipped_by_reason.entry(reason.clone()).or_insert(0) += 1;
    }
    let function_count = functions.len();
    let batch = ImportBatch {
        source,
        rules,
        functions,
        problems: problems.clone(),
    };
    let changes = catalog.apply_import(&batch)?;
    Ok(ImportReport {
        repository: source.repository.clone(),
        commit: source.commit.clone(),
        retrieved_at: source.retrieved_at.clone(),
        rule_files: found.rules.len(),
        rules_by_kind,
        rules_by_bind_status,
        parser_files: found.parsers.len(),
        functions: function_count,
        function_conflicts,
        problems,
        problems_by_category,
        skipped_by_reason,
        changes,
    })
}

/// Reads, analyses, binds and enriches one rule file.
fn prepare_rule(
    source: &RepositorySource,
    path: &str,
    kind: RuleKind,
    library: &FunctionLibrary,
    checker: &dyn QueryChecker,
    known: &BTreeMap<String, (String, String)>,
) -> Result<PreparedRule, ImportProblem> {
    let bytes = std::fs::read(source.root.join(path)).map_err(|e| unreadable(path, &e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        unreadable(
            path,
            &std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        )
    })?;
    let content_hash = sha256_hex(text.as_bytes());
    // A file that did not change keeps the time it was first retrieved, so its derived fields
    // (which may depend on that time) stay the same.
    let retrieved_at = match known.get(path) {
        Some((hash, retrieved)) if *hash == content_hash => retrieved.clone(),
        _ => source.retrieved_at.clone(),
    };
    let provenance = Provenance {
        repository: source.repository.clone(),
        path: path.to_string(),
        commit: source.commit.clone(),
        original_url: source.file_url(path),
        retrieved_at: retrieved_at.clone(),
        last_modified: None,
    };
    let id_fallback = format!("quarry-{}", &sha256_hex(path.as_bytes())[..16]);
    let rule = read_rule(&text, kind, provenance, &id_fallback)
        .map_err(|e| problem_of(path, &text, &e))?;
    let analysis = analyse(&rule.query, library);
    // A rule waiting for input is checked with neutral values in its placeholders.
    let bind = checker.check(&fill_parameters(&rule.query, &analysis, &neutral_value));
    let enrichment = enrich(EnrichInput {
        rule: &rule,
        analysis: &analysis,
        bind: &bind,
        attack: Attack::embedded(),
        now: &retrieved_at,
    });
    Ok(PreparedRule {
        rule,
        analysis,
        bind,
        enrichment,
        content_hash,
    })
}
