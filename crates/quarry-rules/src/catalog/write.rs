//! Writing an import into the catalog: one transaction per import; a rule whose file changed gets
//! a new revision, one whose derived fields changed is refreshed in place, one no longer in the
//! source is marked removed. Importing the same content twice writes nothing.

use super::{Catalog, CatalogError};
use crate::analysis::QueryAnalysis;
use crate::enrich::{BindStatus, Enrichment};
use crate::model::{Rule, StoredFunction};
use crate::source::RepositorySource;
use rusqlite::{params, OptionalExtension, Transaction};
use std::collections::{BTreeMap, HashSet};

/// A rule read, analysed, bound and enriched, ready to store.
#[derive(Debug, Clone)]
pub struct PreparedRule {
    /// The rule (with its raw text).
    pub rule: Rule,
    /// Its analysis.
    pub analysis: QueryAnalysis,
    /// Whether it binds.
    pub bind: BindStatus,
    /// Its enrichment.
    pub enrichment: Enrichment,
    /// SHA-256 of the raw file.
    pub content_hash: String,
}

/// A file that gave no rule or function.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportProblem {
    /// Path inside the repository.
    pub path: String,
    /// 1-based line, when the problem has a position.
    pub line: Option<usize>,
    /// 1-based column, when the problem has a position.
    pub column: Option<usize>,
    /// A short category for counting (`invalid YAML`, `no query`, `not a mapping`, …).
    pub category: String,
    /// The full reason.
    pub reason: String,
}

/// Everything one import of one source stores.
#[derive(Debug)]
pub struct ImportBatch<'a> {
    /// The source read.
    pub source: &'a RepositorySource,
    /// The rules read.
    pub rules: Vec<PreparedRule>,
    /// Stored functions read, with the path of the file each came from.
    pub functions: Vec<StoredFunction>,
    /// Files that gave nothing, with the reason.
    pub problems: Vec<ImportProblem>,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportChanges {
    /// Rules seen for the first time.
    pub added: usize,
    /// Rules whose file changed (a new revision).
    pub revised: usize,
    /// Rules whose file is the same but whose derived fields changed (refreshed in place).
    pub refreshed: usize,
    /// Rules with nothing changed.
    pub unchanged: usize,
    /// Rules no longer in the source (marked removed).
    pub removed: usize,
    /// Removed rules that are back.
    pub restored: usize,
    /// Stored functions added or changed.
    pub functions_changed: usize,
    /// Stored functions no longer in the source.
    pub functions_removed: usize,
}

impl ImportChanges {
    /// True when the import changed nothing in the rules and functions.
    pub fn is_empty(&self) -> bool {
        self.added
            + self.revised
            + self.refreshed
            + self.removed
            + self.restored
            + self.functions_changed
            + self.functions_removed
            == 0
    }
}

/// The derived fields of a rule as stored (compared to tell whether to refresh).
struct Derived {
    rule_json: String,
    analysis_json: String,
    enrichment_json: String,
    bind_json: String,
}

struct Existing {
    pk: i64,
    content_hash: String,
    revision: i64,
    removed: bool,
}

impl Catalog {
    /// The content hash and first retrieval time of every current rule revision of a source, by
    /// path: lets an import keep the retrieval time of files that did not change.
    pub fn known_revisions(
        &self,
        repository: &str,
    ) -> Result<BTreeMap<String, (String, String)>, CatalogError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT r.path, r.content_hash, v.retrieved_at FROM rules r
                 JOIN sources s ON s.id = r.source_id
                 JOIN rule_revisions v ON v.rule_pk = r.pk AND v.revision = r.revision
                 WHERE s.repository = ?1",
            )
            .map_err(|e| self.sqlite(e))?;
        let rows = statement
            .query_map([repository], |row| {
                Ok((row.get::<_, String>(0)?, (row.get(1)?, row.get(2)?)))
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sqlite(e))
    }

    /// Stores one import in a single transaction.
    pub fn apply_import(&mut self, batch: &ImportBatch<'_>) -> Result<ImportChanges, CatalogError> {
        let path = self.path.clone();
        let sqlite = |source| CatalogError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sqlite)?;
        let changes = write_batch(&tx, batch).map_err(|e| match e {
            WriteError::Sqlite(source) => CatalogError::Sqlite {
                path: path.clone(),
                source,
            },
            WriteError::Json(error) => CatalogError::Corrupt {
                path: path.clone(),
                what: "rule",
                message: error.to_string(),
            },
        })?;
        tx.commit().map_err(sqlite)?;
        Ok(changes)
    }
}

enum WriteError {
    Sqlite(rusqlite::Error),
    Json(serde_json::Error),
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> Self {
        WriteError::Sqlite(e)
    }
}

impl From<serde_json::Error> for WriteError {
    fn from(e: serde_json::Error) -> Self {
        WriteError::Json(e)
    }
}

fn write_batch(tx: &Transaction<'_>, batch: &ImportBatch<'_>) -> Result<ImportChanges, WriteError> {
    let source = batch.source;
    let now = source.retrieved_at.as_str();
    let source_id = upsert_source(tx, source)?;
    let mut changes = ImportChanges::default();

    let mut existing: BTreeMap<String, Existing> = BTreeMap::new();
    {
        let mut statement = tx.prepare(
            "SELECT path, pk, content_hash, revision, removed_at IS NOT NULL FROM rules WHERE source_id = ?1",
        )?;
        let rows = statement.query_map([source_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                Existing {
                    pk: row.get(1)?,
                    content_hash: row.get(2)?,
                    revision: row.get(3)?,
                    removed: row.get(4)?,
                },
            ))
        })?;
        for row in rows {
            let (path, entry) = row?;
            existing.insert(path, entry);
        }
    }

    let mut seen = HashSet::new();
    for prepared in &batch.rules {
        let path = prepared.rule.provenance.path.clone();
        if !seen.insert(path.clone()) {
            continue;
        }
        let derived = derived_of(prepared)?;
        match existing.get(&path) {
            None => {
                let pk = insert_rule(tx, source_id, prepared, now)?;
                insert_revision(tx, pk, 1, prepared, &derived)?;
                index_rule(tx, pk, prepared)?;
                changes.added += 1;
            }
            Some(old) if old.content_hash != prepared.content_hash => {
                let revision = old.revision + 1;
                insert_revision(tx, old.pk, revision, prepared, &derived)?;
                update_rule(tx, old.pk, revision, prepared)?;
                index_rule(tx, old.pk, prepared)?;
                changes.revised += 1;
                if old.removed {
                    changes.restored += 1;
                }
            }
            Some(old) => {
                let stored: Derived = tx.query_row(
                    "SELECT rule_json, analysis_json, enrichment_json, bind_json FROM rule_revisions
                     WHERE rule_pk = ?1 AND revision = ?2",
                    params![old.pk, old.revision],
                    |row| {
                        Ok(Derived {
                            rule_json: row.get(0)?,
                            analysis_json: row.get(1)?,
                            enrichment_json: row.get(2)?,
                            bind_json: row.get(3)?,
                        })
                    },
                )?;
                let same = stored.rule_json == derived.rule_json
                    && stored.analysis_json == derived.analysis_json
                    && stored.enrichment_json == derived.enrichment_json
                    && stored.bind_json == derived.bind_json;
                if !same {
                    tx.execute(
                        "UPDATE rule_revisions SET rule_json = ?3, analysis_json = ?4,
                         enrichment_json = ?5, bind_json = ?6 WHERE rule_pk = ?1 AND revision = ?2",
                        params![
                            old.pk,
                            old.revision,
                            derived.rule_json,
                            derived.analysis_json,
                            derived.enrichment_json,
                            derived.bind_json
                        ],
                    )?;
                    update_rule(tx, old.pk, old.revision, prepared)?;
                    index_rule(tx, old.pk, prepared)?;
                    changes.refreshed += 1;
                }
                if old.removed {
                    tx.execute("UPDATE rules SET removed_at = NULL WHERE pk = ?1", [old.pk])?;
                    changes.restored += 1;
                } else if same {
                    changes.unchanged += 1;
                }
            }
        }
    }
    for (path, old) in &existing {
        if !seen.contains(path) && !old.removed {
            tx.execute(
                "UPDATE rules SET removed_at = ?2 WHERE pk = ?1",
                params![old.pk, now],
            )?;
            changes.removed += 1;
        }
    }

    write_functions(tx, source_id, &batch.functions, now, &mut changes)?;

    tx.execute(
        "DELETE FROM import_problems WHERE source_id = ?1",
        [source_id],
    )?;
    let mut insert_problem = tx.prepare(
        "INSERT INTO import_problems (source_id, path, line, col, category, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for problem in &batch.problems {
        insert_problem.execute(params![
            source_id,
            problem.path,
            problem.line.map(|l| l as i64),
            problem.column.map(|c| c as i64),
            problem.category,
            problem.reason
        ])?;
    }
    Ok(changes)
}

fn upsert_source(tx: &Transaction<'_>, source: &RepositorySource) -> Result<i64, WriteError> {
    let root = source.root.to_string_lossy();
    tx.execute(
        "INSERT INTO sources (repository, web_url, commit_id, retrieved_at, root)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (repository) DO UPDATE SET web_url = ?2, commit_id = ?3,
             retrieved_at = ?4, root = ?5",
        params![
            source.repository,
            source.web_url,
            source.commit,
            source.retrieved_at,
            root
        ],
    )?;
    Ok(tx.query_row(
        "SELECT id FROM sources WHERE repository = ?1",
        [&source.repository],
        |row| row.get(0),
    )?)
}

fn derived_of(prepared: &PreparedRule) -> Result<Derived, serde_json::Error> {
    // The raw text is stored once, in its own column.
    let mut rule = prepared.rule.clone();
    rule.raw = String::new();
    Ok(Derived {
        rule_json: serde_json::to_string(&rule)?,
        analysis_json: serde_json::to_string(&prepared.analysis)?,
        enrichment_json: serde_json::to_string(&prepared.enrichment)?,
        bind_json: serde_json::to_string(&prepared.bind)?,
    })
}

/// The short name of a bind status (`ok`, `missing-tables`, …), stored for filtering.
pub fn bind_label(bind: &BindStatus) -> &'static str {
    match bind {
        BindStatus::Ok => "ok",
        BindStatus::MissingTables(_) => "missing-tables",
        BindStatus::Unsupported(_) => "unsupported",
        BindStatus::Error(_) => "error",
        BindStatus::NotChecked => "not-checked",
    }
}

fn insert_rule(
    tx: &Transaction<'_>,
    source_id: i64,
    prepared: &PreparedRule,
    now: &str,
) -> Result<i64, WriteError> {
    let e = &prepared.enrichment;
    tx.execute(
        "INSERT INTO rules (source_id, path, rule_id, revision, content_hash, first_seen, name,
             kind, severity, severity_inferred, confidence, parameters, bind_status)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            source_id,
            prepared.rule.provenance.path,
            prepared.rule.id,
            prepared.content_hash,
            now,
            prepared.rule.name,
            prepared.rule.kind.as_str(),
            e.severity.value,
            e.severity.inferred,
            i64::from(e.confidence.score),
            prepared.analysis.parameters.len() as i64,
            bind_label(&prepared.bind)
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

fn update_rule(
    tx: &Transaction<'_>,
    pk: i64,
    revision: i64,
    prepared: &PreparedRule,
) -> Result<(), WriteError> {
    let e = &prepared.enrichment;
    tx.execute(
        "UPDATE rules SET revision = ?2, content_hash = ?3, rule_id = ?4, name = ?5, kind = ?6,
             severity = ?7, severity_inferred = ?8, confidence = ?9, parameters = ?10,
             bind_status = ?11, removed_at = NULL
         WHERE pk = ?1",
        params![
            pk,
            revision,
            prepared.content_hash,
            prepared.rule.id,
            prepared.rule.name,
            prepared.rule.kind.as_str(),
            e.severity.value,
            e.severity.inferred,
            i64::from(e.confidence.score),
            prepared.analysis.parameters.len() as i64,
            bind_label(&prepared.bind)
        ],
    )?;
    Ok(())
}

fn insert_revision(
    tx: &Transaction<'_>,
    pk: i64,
    revision: i64,
    prepared: &PreparedRule,
    derived: &Derived,
) -> Result<(), WriteError> {
    tx.execute(
        "INSERT INTO rule_revisions (rule_pk, revision, content_hash, commit_id, retrieved_at,
             raw, rule_json, analysis_json, enrichment_json, bind_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            pk,
            revision,
            prepared.content_hash,
            prepared.rule.provenance.commit,
            prepared.rule.provenance.retrieved_at,
            prepared.rule.raw,
            derived.rule_json,
            derived.analysis_json,
            derived.enrichment_json,
            derived.bind_json
        ],
    )?;
    Ok(())
}

/// Replaces the facets and the search entry of a rule.
fn index_rule(tx: &Transaction<'_>, pk: i64, prepared: &PreparedRule) -> Result<(), WriteError> {
    tx.execute("DELETE FROM rule_facets WHERE rule_pk = ?1", [pk])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO rule_facets (rule_pk, facet, value, inferred) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let analysis = &prepared.analysis;
    let enrichment = &prepared.enrichment;
    for table in &analysis.tables {
        insert.execute(params![pk, "table", table, false])?;
    }
    for function in &analysis.stored_functions {
        insert.execute(params![pk, "function", function, false])?;
    }
    for tactic in &enrichment.tactics {
        insert.execute(params![pk, "tactic", tactic.value, tactic.inferred])?;
    }
    for technique in &enrichment.techniques {
        insert.execute(params![
            pk,
            "technique",
            technique.value,
            technique.inferred
        ])?;
    }
    for tag in &prepared.rule.tags {
        insert.execute(params![pk, "tag", tag, false])?;
    }
    let mut connectors: Vec<&str> = enrichment
        .data_sources
        .iter()
        .flat_map(|d| d.connectors.iter().map(String::as_str))
        .collect();
    connectors.sort_unstable();
    connectors.dedup();
    for connector in connectors {
        insert.execute(params![pk, "connector", connector, false])?;
    }
    tx.execute("DELETE FROM rule_search WHERE rowid = ?1", [pk])?;
    tx.execute(
        "INSERT INTO rule_search (rowid, name, description, query, tags) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            pk,
            prepared.rule.name,
            prepared.rule.description,
            prepared.rule.query,
            prepared.rule.tags.join(" ")
        ],
    )?;
    Ok(())
}

fn write_functions(
    tx: &Transaction<'_>,
    source_id: i64,
    functions: &[StoredFunction],
    now: &str,
    changes: &mut ImportChanges,
) -> Result<(), WriteError> {
    let mut seen = HashSet::new();
    for function in functions {
        if !seen.insert(function.name.clone()) {
            continue;
        }
        let json = serde_json::to_string(function)?;
        // The retrieval time is not content: a function read again unchanged keeps its first one.
        let mut content = function.clone();
        content.provenance.retrieved_at = String::new();
        let hash = super::sha256_hex(serde_json::to_string(&content)?.as_bytes());
        let stored: Option<(String, bool)> = tx
            .query_row(
                "SELECT content_hash, removed_at IS NOT NULL FROM functions
                 WHERE source_id = ?1 AND name = ?2",
                params![source_id, function.name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        if stored
            .as_ref()
            .is_some_and(|(h, removed)| *h == hash && !removed)
        {
            continue;
        }
        tx.execute(
            "INSERT INTO functions (source_id, name, path, content_hash, function_json)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (source_id, name) DO UPDATE SET path = ?3, content_hash = ?4,
                 function_json = ?5, removed_at = NULL",
            params![
                source_id,
                function.name,
                function.provenance.path,
                hash,
                json
            ],
        )?;
        changes.functions_changed += 1;
    }
    let names: Vec<String> = {
        let mut statement =
            tx.prepare("SELECT name FROM functions WHERE source_id = ?1 AND removed_at IS NULL")?;
        let rows = statement.query_map([source_id], |row| row.get::<_, String>(0))?;
        rows.collect::<Result<_, _>>()?
    };
    for name in names.into_iter().filter(|n| !seen.contains(n)) {
        tx.execute(
            "UPDATE functions SET removed_at = ?3 WHERE source_id = ?1 AND name = ?2",
            params![source_id, name, now],
        )?;
        changes.functions_removed += 1;
    }
    Ok(())
}
