//! Reading the catalog: listing with filters and sorting, one rule with every stored field,
//! full-text search, the stored function library, sources and import problems.

use super::{Catalog, CatalogError};
use crate::analysis::QueryAnalysis;
use crate::attack::Attack;
use crate::catalog::ImportProblem;
use crate::enrich::{BindStatus, Enrichment};
use crate::model::{FunctionLibrary, Rule, RuleKind, StoredFunction};
use rusqlite::types::Value;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Up to this many summaries read their facets by rule key rather than by a full scan.
const FACETS_BY_RULE_MAX: usize = 500;

/// How a listing is sorted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RuleSort {
    /// By name (the default).
    #[default]
    Name,
    /// Highest severity first.
    Severity,
    /// Highest confidence first.
    Confidence,
    /// By kind, then name.
    Kind,
    /// By path in the source.
    Path,
}

/// Which rules to list. Text filters match case-insensitively; `technique` also matches its
/// sub-techniques; `tactic` accepts any spelling (`CredentialAccess`, `TA0006`).
#[derive(Debug, Clone, Default)]
pub struct RuleFilter {
    /// Repository URL or path (substring match).
    pub source: Option<String>,
    /// Hunting, analytic or exploration.
    pub kind: Option<RuleKind>,
    /// Severity (`High`).
    pub severity: Option<String>,
    /// A table the rule reads.
    pub table: Option<String>,
    /// An ATT&CK tactic.
    pub tactic: Option<String>,
    /// An ATT&CK technique id.
    pub technique: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// Only rules with (true) or without (false) parameters.
    pub has_parameters: Option<bool>,
    /// Only rules runnable on a workspace holding these tables.
    pub runnable_on: Option<BTreeSet<String>>,
    /// Include rules no longer in their source.
    pub include_removed: bool,
    /// The order.
    pub sort: RuleSort,
}

/// One rule in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSummary {
    /// The catalog's key for the rule.
    #[serde(skip)]
    pub pk: i64,
    /// Upstream id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `hunting`, `analytic` or `exploration`.
    pub kind: String,
    /// Severity (upstream or inferred).
    pub severity: String,
    /// Whether the severity was inferred.
    pub severity_inferred: bool,
    /// Confidence score, 0 to 100.
    pub confidence: u8,
    /// Number of parameters the user must fill.
    pub parameters: usize,
    /// `ok`, `missing-tables`, `unsupported`, `error` or `not-checked`.
    pub bind_status: String,
    /// Tables read.
    pub tables: Vec<String>,
    /// Stored functions called.
    pub functions: Vec<String>,
    /// ATT&CK tactics (shortnames).
    pub tactics: Vec<String>,
    /// ATT&CK techniques.
    pub techniques: Vec<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// The source repository.
    pub source: String,
    /// Path in the source.
    pub path: String,
    /// The current revision number.
    pub revision: i64,
    /// When the rule disappeared from its source, if it did.
    pub removed_at: Option<String>,
}

impl RuleSummary {
    /// Whether the rule can run on a workspace holding `tables`: it binds against the known
    /// schemas and every table it reads is there.
    pub fn runnable_on(&self, tables: &BTreeSet<String>) -> bool {
        self.bind_status == "ok"
            && !self.tables.is_empty()
            && self.tables.iter().all(|t| tables.contains(t))
    }
}

/// One revision of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revision {
    /// 1, 2, …
    pub revision: i64,
    /// SHA-256 of the file.
    pub content_hash: String,
    /// The commit it was read at.
    pub commit: Option<String>,
    /// When it was first read.
    pub retrieved_at: String,
}

/// A source repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceInfo {
    /// URL or local path.
    pub repository: String,
    /// Web address, when known.
    pub web_url: Option<String>,
    /// Commit of the latest import.
    pub commit: Option<String>,
    /// Time of the latest import.
    pub retrieved_at: String,
}

/// Everything the catalog holds about one rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRecord {
    /// The listing fields.
    pub summary: RuleSummary,
    /// The rule, raw text included.
    pub rule: Rule,
    /// Its analysis.
    pub analysis: QueryAnalysis,
    /// Its enrichment.
    pub enrichment: Enrichment,
    /// Whether it binds.
    pub bind: BindStatus,
    /// When the catalog first saw it.
    pub first_seen: String,
    /// Every revision, oldest first.
    pub revisions: Vec<Revision>,
    /// Its source.
    pub source: SourceInfo,
    /// Other rules with the same upstream id (paths), when upstream reuses an id.
    pub same_id_elsewhere: Vec<String>,
}

/// A search result.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// The rule.
    pub summary: RuleSummary,
    /// Relevance (lower is better, SQLite's bm25).
    pub rank: f64,
    /// A fragment of the matching text with the match in `[…]`.
    pub snippet: String,
}

/// Turns user text into an FTS5 query: each word quoted (so operators and punctuation are
/// literal), all words required, the last one also as a prefix.
fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.replace('"', "\"\""))
        .filter(|w| !w.is_empty())
        .collect();
    let (last, rest) = words.split_last()?;
    let mut parts: Vec<String> = rest.iter().map(|w| format!("\"{w}\"")).collect();
    parts.push(format!("\"{last}\"*"));
    Some(parts.join(" AND "))
}

impl Catalog {
    /// Rules matching `filter`, sorted.
    pub fn list(&self, filter: &RuleFilter) -> Result<Vec<RuleSummary>, CatalogError> {
        let mut conditions = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if !filter.include_removed {
            conditions.push("r.removed_at IS NULL".to_string());
        }
        if let Some(source) = &filter.source {
            values.push(Value::Text(format!("%{source}%")));
            conditions.push(format!("s.repository LIKE ?{}", values.len()));
        }
        if let Some(kind) = filter.kind {
            values.push(Value::Text(kind.as_str().into()));
            conditions.push(format!("r.kind = ?{}", values.len()));
        }
        if let Some(severity) = &filter.severity {
            values.push(Value::Text(severity.clone()));
            conditions.push(format!("r.severity = ?{} COLLATE NOCASE", values.len()));
        }
        if let Some(has) = filter.has_parameters {
            conditions.push(
                if has {
                    "r.parameters > 0"
                } else {
                    "r.parameters = 0"
                }
                .into(),
            );
        }
        let mut facet = |name: &str, value: String, prefix: bool| {
            values.push(Value::Text(value));
            let n = values.len();
            let matcher = if prefix {
                format!("(f.value = ?{n} OR f.value LIKE ?{n} || '.%')")
            } else {
                format!("f.value = ?{n}")
            };
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM rule_facets f WHERE f.rule_pk = r.pk AND f.facet = '{name}' AND {matcher})"
            ));
        };
        if let Some(table) = &filter.table {
            facet("table", table.clone(), false);
        }
        if let Some(tactic) = &filter.tactic {
            let shortname = Attack::embedded()
                .tactic(tactic)
                .map_or_else(|| tactic.clone(), |t| t.shortname.clone());
            facet("tactic", shortname, false);
        }
        if let Some(technique) = &filter.technique {
            facet("technique", technique.trim().to_ascii_uppercase(), true);
        }
        if let Some(tag) = &filter.tag {
            facet("tag", tag.clone(), false);
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let mut summaries = self.summaries(&where_clause, &values)?;
        if let Some(tables) = &filter.runnable_on {
            summaries.retain(|s| s.runnable_on(tables));
        }
        filter.sort.apply(&mut summaries);
        Ok(summaries)
    }

    fn summaries(
        &self,
        where_clause: &str,
        values: &[Value],
    ) -> Result<Vec<RuleSummary>, CatalogError> {
        let sql = format!(
            "SELECT r.pk, r.rule_id, r.name, r.kind, r.severity, r.severity_inferred, r.confidence,
                    r.parameters, r.bind_status, s.repository, r.path, r.revision, r.removed_at
             FROM rules r JOIN sources s ON s.id = r.source_id {where_clause}"
        );
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.sqlite(e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(values.iter()), |row| {
                Ok(RuleSummary {
                    pk: row.get(0)?,
                    id: row.get(1)?,
                    name: row.get(2)?,
                    kind: row.get(3)?,
                    severity: row.get(4)?,
                    severity_inferred: row.get(5)?,
                    confidence: u8::try_from(row.get::<_, i64>(6)?).unwrap_or(0),
                    parameters: usize::try_from(row.get::<_, i64>(7)?).unwrap_or(0),
                    bind_status: row.get(8)?,
                    source: row.get(9)?,
                    path: row.get(10)?,
                    revision: row.get(11)?,
                    removed_at: row.get(12)?,
                    tables: Vec::new(),
                    functions: Vec::new(),
                    tactics: Vec::new(),
                    techniques: Vec::new(),
                    tags: Vec::new(),
                })
            })
            .map_err(|e| self.sqlite(e))?;
        let mut summaries: Vec<RuleSummary> =
            rows.collect::<Result<_, _>>().map_err(|e| self.sqlite(e))?;
        self.attach_facets(&mut summaries)?;
        Ok(summaries)
    }

    /// Fills the list fields of summaries from `rule_facets`, in one query.
    fn attach_facets(&self, summaries: &mut [RuleSummary]) -> Result<(), CatalogError> {
        if summaries.is_empty() {
            return Ok(());
        }
        let index: BTreeMap<i64, usize> = summaries
            .iter()
            .enumerate()
            .map(|(i, s)| (s.pk, i))
            .collect();
        // A few rules read their own facets through the index; many read the table once.
        let sql = if summaries.len() <= FACETS_BY_RULE_MAX {
            let pks: Vec<String> = index.keys().map(i64::to_string).collect();
            format!(
                "SELECT rule_pk, facet, value FROM rule_facets WHERE rule_pk IN ({}) ORDER BY rule_pk, rowid",
                pks.join(",")
            )
        } else {
            "SELECT rule_pk, facet, value FROM rule_facets ORDER BY rule_pk, rowid".to_string()
        };
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.sqlite(e))?;
        let mut rows = statement.query([]).map_err(|e| self.sqlite(e))?;
        while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
            let pk: i64 = row.get(0).map_err(|e| self.sqlite(e))?;
            let Some(&i) = index.get(&pk) else { continue };
            let facet: String = row.get(1).map_err(|e| self.sqlite(e))?;
            let value: String = row.get(2).map_err(|e| self.sqlite(e))?;
            let summary = &mut summaries[i];
            match facet.as_str() {
                "table" => summary.tables.push(value),
                "function" => summary.functions.push(value),
                "tactic" => summary.tactics.push(value),
                "technique" => summary.techniques.push(value),
                "tag" => summary.tags.push(value),
                _ => {}
            }
        }
        Ok(())
    }

    /// The rules with this upstream id (or catalog path), current revision first by path.
    /// Upstream sometimes reuses an id; every rule with it is returned.
    pub fn rule(&self, id: &str) -> Result<Vec<RuleRecord>, CatalogError> {
        let summaries = self.summaries(
            "WHERE r.rule_id = ?1 COLLATE NOCASE OR r.path = ?1 ORDER BY r.removed_at IS NOT NULL, r.path",
            &[Value::Text(id.trim().to_string())],
        )?;
        let mut records = Vec::new();
        for summary in &summaries {
            records.push(self.record(summary.clone(), &summaries)?);
        }
        Ok(records)
    }

    fn record(
        &self,
        summary: RuleSummary,
        siblings: &[RuleSummary],
    ) -> Result<RuleRecord, CatalogError> {
        let (raw, rule_json, analysis_json, enrichment_json, bind_json, first_seen): (
            String,
            String,
            String,
            String,
            String,
            String,
        ) = self
            .conn
            .query_row(
                "SELECT v.raw, v.rule_json, v.analysis_json, v.enrichment_json, v.bind_json, r.first_seen
                 FROM rules r JOIN rule_revisions v ON v.rule_pk = r.pk AND v.revision = r.revision
                 WHERE r.pk = ?1",
                [summary.pk],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)),
            )
            .map_err(|e| self.sqlite(e))?;
        let mut rule: Rule =
            serde_json::from_str(&rule_json).map_err(|e| self.corrupt("rule", e))?;
        rule.raw = raw;
        let analysis =
            serde_json::from_str(&analysis_json).map_err(|e| self.corrupt("analysis", e))?;
        let enrichment =
            serde_json::from_str(&enrichment_json).map_err(|e| self.corrupt("enrichment", e))?;
        let bind = serde_json::from_str(&bind_json).map_err(|e| self.corrupt("bind status", e))?;
        let mut statement = self
            .conn
            .prepare(
                "SELECT revision, content_hash, commit_id, retrieved_at FROM rule_revisions
                 WHERE rule_pk = ?1 ORDER BY revision",
            )
            .map_err(|e| self.sqlite(e))?;
        let revisions = statement
            .query_map([summary.pk], |row| {
                Ok(Revision {
                    revision: row.get(0)?,
                    content_hash: row.get(1)?,
                    commit: row.get(2)?,
                    retrieved_at: row.get(3)?,
                })
            })
            .map_err(|e| self.sqlite(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.sqlite(e))?;
        let source = self
            .conn
            .query_row(
                "SELECT repository, web_url, commit_id, retrieved_at FROM sources WHERE repository = ?1",
                [&summary.source],
                |row| {
                    Ok(SourceInfo {
                        repository: row.get(0)?,
                        web_url: row.get(1)?,
                        commit: row.get(2)?,
                        retrieved_at: row.get(3)?,
                    })
                },
            )
            .map_err(|e| self.sqlite(e))?;
        let same_id_elsewhere = siblings
            .iter()
            .filter(|s| s.pk != summary.pk && s.id == summary.id)
            .map(|s| s.path.clone())
            .collect();
        Ok(RuleRecord {
            summary,
            rule,
            analysis,
            enrichment,
            bind,
            first_seen,
            revisions,
            source,
            same_id_elsewhere,
        })
    }

    /// Full-text search over name, description, query and tags of current rules, best first.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<SearchHit>, CatalogError> {
        let Some(query) = fts_query(text) else {
            return Ok(Vec::new());
        };
        // Ranks first, then snippets for the kept hits only: SQLite computes every selected
        // column of every match before sorting, and a snippet costs far more than a rank.
        let mut statement = self
            .conn
            .prepare(
                "SELECT rowid, bm25(rule_search, 10.0, 4.0, 1.0, 3.0)
                 FROM rule_search WHERE rule_search MATCH ?1 ORDER BY 2 LIMIT ?2",
            )
            .map_err(|e| self.sqlite(e))?;
        let ranked: Vec<(i64, f64)> = statement
            .query_map(
                rusqlite::params![query, (limit as i64).saturating_mul(2)],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| self.sqlite(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.sqlite(e))?;
        let mut snippets: BTreeMap<i64, String> = BTreeMap::new();
        if !ranked.is_empty() {
            let rowids: Vec<String> = ranked.iter().map(|(rowid, _)| rowid.to_string()).collect();
            let mut statement = self
                .conn
                .prepare(&format!(
                    "SELECT rowid, snippet(rule_search, -1, '[', ']', '…', 12)
                     FROM rule_search WHERE rule_search MATCH ?1 AND rowid IN ({})",
                    rowids.join(",")
                ))
                .map_err(|e| self.sqlite(e))?;
            let rows = statement
                .query_map(rusqlite::params![query], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(|e| self.sqlite(e))?;
            for row in rows {
                let (rowid, snippet) = row.map_err(|e| self.sqlite(e))?;
                snippets.insert(rowid, snippet);
            }
        }
        let hits: Vec<(i64, f64, String)> = ranked
            .into_iter()
            .map(|(rowid, rank)| (rowid, rank, snippets.remove(&rowid).unwrap_or_default()))
            .collect();
        // Only the hits' summaries: loading the whole catalog per search made a search of a
        // 5,000-rule catalog take about a second.
        let pks: Vec<String> = hits.iter().map(|(pk, _, _)| pk.to_string()).collect();
        let summaries = if pks.is_empty() {
            Vec::new()
        } else {
            self.summaries(
                &format!("WHERE r.removed_at IS NULL AND r.pk IN ({})", pks.join(",")),
                &[],
            )?
        };
        let by_pk: BTreeMap<i64, &RuleSummary> = summaries.iter().map(|s| (s.pk, s)).collect();
        Ok(hits
            .into_iter()
            .filter_map(|(pk, rank, snippet)| {
                Some(SearchHit {
                    summary: (*by_pk.get(&pk)?).clone(),
                    rank,
                    snippet: snippet.split_whitespace().collect::<Vec<_>>().join(" "),
                })
            })
            .take(limit)
            .collect())
    }

    /// Every current stored function, for the engine and for analysis.
    pub fn functions(&self) -> Result<FunctionLibrary, CatalogError> {
        let mut statement = self
            .conn
            .prepare("SELECT function_json FROM functions WHERE removed_at IS NULL ORDER BY source_id, name")
            .map_err(|e| self.sqlite(e))?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|e| self.sqlite(e))?;
        let mut library = FunctionLibrary::new();
        for json in rows {
            let json = json.map_err(|e| self.sqlite(e))?;
            let function: StoredFunction =
                serde_json::from_str(&json).map_err(|e| self.corrupt("function", e))?;
            library.insert(function);
        }
        Ok(library)
    }

    /// The sources imported.
    pub fn sources(&self) -> Result<Vec<SourceInfo>, CatalogError> {
        let mut statement = self
            .conn
            .prepare("SELECT repository, web_url, commit_id, retrieved_at FROM sources ORDER BY repository")
            .map_err(|e| self.sqlite(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok(SourceInfo {
                    repository: row.get(0)?,
                    web_url: row.get(1)?,
                    commit: row.get(2)?,
                    retrieved_at: row.get(3)?,
                })
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sqlite(e))
    }

    /// The problems of the latest import of every source.
    pub fn problems(&self) -> Result<Vec<ImportProblem>, CatalogError> {
        let mut statement = self
            .conn
            .prepare("SELECT path, line, col, category, reason FROM import_problems ORDER BY path")
            .map_err(|e| self.sqlite(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok(ImportProblem {
                    path: row.get(0)?,
                    line: row
                        .get::<_, Option<i64>>(1)?
                        .and_then(|l| usize::try_from(l).ok()),
                    column: row
                        .get::<_, Option<i64>>(2)?
                        .and_then(|c| usize::try_from(c).ok()),
                    category: row.get(3)?,
                    reason: row.get(4)?,
                })
            })
            .map_err(|e| self.sqlite(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sqlite(e))
    }

    /// A dump of every table's content, in a stable order; two equal dumps mean two equal
    /// catalogs (used to show that re-importing changes nothing).
    pub fn content_digest(&self) -> Result<String, CatalogError> {
        let mut out = String::new();
        for (table, order) in [
            ("rules", "pk"),
            ("rule_revisions", "rule_pk, revision"),
            ("rule_facets", "rule_pk, facet, value"),
            ("functions", "source_id, name"),
            ("import_problems", "source_id, path, reason"),
            ("rule_search", "rowid"),
        ] {
            let mut statement = self
                .conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
                .map_err(|e| self.sqlite(e))?;
            let columns = statement.column_count();
            let mut rows = statement.query([]).map_err(|e| self.sqlite(e))?;
            while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
                out.push_str(table);
                for i in 0..columns {
                    let value: Value = row.get(i).map_err(|e| self.sqlite(e))?;
                    out.push('\t');
                    out.push_str(&format!("{value:?}"));
                }
                out.push('\n');
            }
        }
        Ok(super::sha256_hex(out.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_text_becomes_a_safe_fts_query() {
        assert_eq!(
            fts_query("lsass dump").as_deref(),
            Some("\"lsass\" AND \"dump\"*")
        );
        assert_eq!(
            fts_query("a\"b OR").as_deref(),
            Some("\"a\"\"b\" AND \"OR\"*")
        );
        assert_eq!(fts_query("   "), None);
    }
}
