//! Hunt runs and their findings, kept in the workspace's catalog database beside the rules: one
//! row per run, one per rule per run, one per distinct finding. A finding is a result row of a
//! rule; the same row from the same rule in a later run is the same finding (seen again), not a
//! new one.

use quarry_rules::catalog::sha256_hex;
use quarry_rules::model::EntityMapping;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hunt_runs (
    id           INTEGER PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    summary_json TEXT
);
CREATE TABLE IF NOT EXISTS hunt_results (
    run_id     INTEGER NOT NULL REFERENCES hunt_runs(id),
    rule_id    TEXT NOT NULL,
    rule_path  TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    detail     TEXT,
    hits       INTEGER NOT NULL,
    new_hits   INTEGER NOT NULL,
    elapsed_ms INTEGER NOT NULL,
    now        TEXT,
    PRIMARY KEY (run_id, rule_path)
);
CREATE TABLE IF NOT EXISTS findings (
    id            INTEGER PRIMARY KEY,
    fingerprint   TEXT NOT NULL UNIQUE,
    rule_id       TEXT NOT NULL,
    rule_path     TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    first_run     INTEGER NOT NULL,
    last_run      INTEGER NOT NULL,
    times_seen    INTEGER NOT NULL,
    event_time    TEXT,
    row_json      TEXT NOT NULL,
    entities_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_by_rule ON findings(rule_path);
";

/// Why findings could not be stored or read.
#[derive(Debug, thiserror::Error)]
#[error("findings in {path}: {source}")]
pub struct FindingsError {
    path: PathBuf,
    source: rusqlite::Error,
}

/// One entity of a finding (`Account` `FullName` = `contoso\alice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Entity {
    /// `Account`, `Host`, `IP`, `URL`, `FileHash`, `Process`, …
    pub entity_type: String,
    /// `FullName`, `HostName`, `Address`, …
    pub identifier: String,
    /// The value from the result row.
    pub value: String,
}

/// One result row of a rule, ready to store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The row, column name → value.
    pub row: Map<String, Value>,
    /// Entities taken from the row.
    pub entities: Vec<Entity>,
    /// The row's event time, when it has a time column.
    pub event_time: Option<String>,
}

/// Columns that name well-known entities, for rules without entity mappings (Defender hunting
/// queries have none): (column, entity type, identifier).
const KNOWN_ENTITY_COLUMNS: &[(&str, &str, &str)] = &[
    ("DeviceName", "Host", "HostName"),
    ("Computer", "Host", "HostName"),
    ("HostName", "Host", "HostName"),
    ("AccountName", "Account", "Name"),
    ("AccountUpn", "Account", "UPNSuffix"),
    ("UserPrincipalName", "Account", "FullName"),
    ("Account", "Account", "FullName"),
    ("TargetUserName", "Account", "Name"),
    ("InitiatingProcessAccountName", "Account", "Name"),
    ("RemoteIP", "IP", "Address"),
    ("IPAddress", "IP", "Address"),
    ("IpAddress", "IP", "Address"),
    ("SourceIP", "IP", "Address"),
    ("DestinationIP", "IP", "Address"),
    ("RemoteUrl", "URL", "Url"),
    ("FileOriginUrl", "URL", "Url"),
    ("SHA256", "FileHash", "Value"),
    ("SHA1", "FileHash", "Value"),
    ("MD5", "FileHash", "Value"),
    ("FileName", "File", "Name"),
    ("ProcessCommandLine", "Process", "CommandLine"),
    ("CommandLine", "Process", "CommandLine"),
];

/// Columns that carry a row's event time, most specific first.
const TIME_COLUMNS: &[&str] = &[
    "TimeGenerated",
    "Timestamp",
    "timestamp",
    "StartTime",
    "StartTimeUtc",
    "FirstSeen",
    "EventTime",
];

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Builds a finding from a result row: entities from the rule's mappings (or from well-known
/// columns when it has none) and the event time.
pub fn finding_of(row: Map<String, Value>, mappings: &[EntityMapping]) -> Finding {
    let mut entities = Vec::new();
    if mappings.is_empty() {
        for (column, entity_type, identifier) in KNOWN_ENTITY_COLUMNS {
            if let Some(value) = row.get(*column).and_then(text_of) {
                entities.push(Entity {
                    entity_type: (*entity_type).to_string(),
                    identifier: (*identifier).to_string(),
                    value,
                });
            }
        }
    } else {
        for mapping in mappings {
            for (identifier, column) in &mapping.fields {
                if let Some(value) = row.get(column).and_then(text_of) {
                    entities.push(Entity {
                        entity_type: mapping.entity_type.clone(),
                        identifier: identifier.clone(),
                        value,
                    });
                }
            }
        }
    }
    let event_time = TIME_COLUMNS
        .iter()
        .find_map(|c| row.get(*c).and_then(text_of));
    Finding {
        row,
        entities,
        event_time,
    }
}

/// The run store.
pub struct FindingsStore {
    conn: Connection,
    path: PathBuf,
}

/// A stored finding, as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredFinding {
    /// Its id.
    pub id: i64,
    /// The rule's upstream id.
    pub rule_id: String,
    /// The rule's path in its source.
    pub rule_path: String,
    /// First run that found it.
    pub first_run: i64,
    /// Latest run that found it.
    pub last_run: i64,
    /// How many runs found it.
    pub times_seen: i64,
    /// Its event time.
    pub event_time: Option<String>,
    /// The row.
    pub row: Value,
    /// Its entities.
    pub entities: Vec<Entity>,
}

/// A stored hunt run, as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRun {
    /// Its id.
    pub id: i64,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished, if it did.
    pub finished_at: Option<String>,
    /// Its summary as stored (null when none was).
    pub summary: Value,
    /// Rules it ran.
    pub rules: i64,
    /// Rules that returned rows.
    pub fired: i64,
    /// Findings it kept.
    pub hits: i64,
}

/// One rule's result in a stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredResult {
    /// The rule's upstream id.
    pub rule_id: String,
    /// The rule's path in its source.
    pub rule_path: String,
    /// The revision run.
    pub revision: i64,
    /// `hits`, `no-hits`, `skipped`, `error`, `timed-out`.
    pub status: String,
    /// Why it was skipped or failed.
    pub detail: Option<String>,
    /// Findings kept.
    pub hits: i64,
    /// Of those, new ones.
    pub new_hits: i64,
    /// Wall time.
    pub elapsed_ms: i64,
    /// Its pinned `now`.
    pub now: Option<String>,
}

impl FindingsStore {
    /// Opens the store in the catalog database at `path` (creating its tables).
    pub fn open(path: &Path) -> Result<FindingsStore, FindingsError> {
        let error = |source| FindingsError {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(error)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(error)?;
        conn.execute_batch(SCHEMA).map_err(error)?;
        Ok(FindingsStore {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn error(&self, source: rusqlite::Error) -> FindingsError {
        FindingsError {
            path: self.path.clone(),
            source,
        }
    }

    /// Starts a run; returns its id.
    pub fn start_run(&self, started_at: &str) -> Result<i64, FindingsError> {
        self.conn
            .execute(
                "INSERT INTO hunt_runs (started_at) VALUES (?1)",
                [started_at],
            )
            .map_err(|e| self.error(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records one rule's result in a run with its findings (one transaction); returns how many
    /// of the findings are new (never seen in an earlier run).
    #[allow(clippy::too_many_arguments)]
    pub fn record_rule(
        &mut self,
        run_id: i64,
        rule_id: &str,
        rule_path: &str,
        revision: i64,
        status: &str,
        detail: Option<&str>,
        elapsed_ms: u64,
        now: Option<&str>,
        findings: &[Finding],
    ) -> Result<usize, FindingsError> {
        let path = self.path.clone();
        let error = |source| FindingsError {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(error)?;
        let mut new = 0;
        for finding in findings {
            let row_json = serde_json::to_string(&finding.row).unwrap_or_default();
            // The rule's upstream id and path with the row: the same row of the same rule is the
            // same finding across runs and revisions.
            let fingerprint = sha256_hex(format!("{rule_path}\n{row_json}").as_bytes());
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM findings WHERE fingerprint = ?1",
                    [&fingerprint],
                    |r| r.get(0),
                )
                .optional()
                .map_err(error)?;
            match existing {
                Some(id) => {
                    tx.execute(
                        "UPDATE findings SET last_run = ?2, revision = ?3,
                             times_seen = times_seen + (last_run <> ?2) WHERE id = ?1",
                        params![id, run_id, revision],
                    )
                    .map_err(error)?;
                }
                None => {
                    tx.execute(
                        "INSERT INTO findings (fingerprint, rule_id, rule_path, revision, first_run,
                             last_run, times_seen, event_time, row_json, entities_json)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5, 1, ?6, ?7, ?8)",
                        params![
                            fingerprint,
                            rule_id,
                            rule_path,
                            revision,
                            run_id,
                            finding.event_time,
                            row_json,
                            serde_json::to_string(&finding.entities).unwrap_or_default()
                        ],
                    )
                    .map_err(error)?;
                    new += 1;
                }
            }
        }
        tx.execute(
            "INSERT OR REPLACE INTO hunt_results (run_id, rule_id, rule_path, revision, status,
                 detail, hits, new_hits, elapsed_ms, now)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                run_id,
                rule_id,
                rule_path,
                revision,
                status,
                detail,
                findings.len() as i64,
                new as i64,
                i64::try_from(elapsed_ms).unwrap_or(i64::MAX),
                now
            ],
        )
        .map_err(error)?;
        tx.commit().map_err(error)?;
        Ok(new)
    }

    /// Closes a run with its summary.
    pub fn finish_run(
        &self,
        run_id: i64,
        finished_at: &str,
        summary: &Value,
    ) -> Result<(), FindingsError> {
        self.conn
            .execute(
                "UPDATE hunt_runs SET finished_at = ?2, summary_json = ?3 WHERE id = ?1",
                params![run_id, finished_at, summary.to_string()],
            )
            .map_err(|e| self.error(e))?;
        Ok(())
    }

    /// The findings of a rule (by path), newest first.
    pub fn findings_of_rule(&self, rule_path: &str) -> Result<Vec<StoredFinding>, FindingsError> {
        self.query_findings("WHERE rule_path = ?1", &[&rule_path])
    }

    /// The findings a run saw (new or again).
    pub fn findings_of_run(&self, run_id: i64) -> Result<Vec<StoredFinding>, FindingsError> {
        self.query_findings(
            "WHERE ?1 BETWEEN first_run AND last_run AND last_run = ?1",
            &[&run_id],
        )
    }

    fn query_findings(
        &self,
        where_clause: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<StoredFinding>, FindingsError> {
        let sql = format!(
            "SELECT id, rule_id, rule_path, first_run, last_run, times_seen, event_time, row_json, entities_json
             FROM findings {where_clause} ORDER BY id DESC"
        );
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.error(e))?;
        let rows = statement
            .query_map(values, |row| {
                let row_json: String = row.get(7)?;
                let entities_json: String = row.get(8)?;
                Ok(StoredFinding {
                    id: row.get(0)?,
                    rule_id: row.get(1)?,
                    rule_path: row.get(2)?,
                    first_run: row.get(3)?,
                    last_run: row.get(4)?,
                    times_seen: row.get(5)?,
                    event_time: row.get(6)?,
                    row: serde_json::from_str(&row_json).unwrap_or(Value::Null),
                    entities: serde_json::from_str(&entities_json).unwrap_or_default(),
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Every hunt run, newest first.
    pub fn runs(&self) -> Result<Vec<StoredRun>, FindingsError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT r.id, r.started_at, r.finished_at, r.summary_json,
                        (SELECT COUNT(*) FROM hunt_results h WHERE h.run_id = r.id),
                        (SELECT COUNT(*) FROM hunt_results h WHERE h.run_id = r.id AND h.status = 'hits'),
                        (SELECT COALESCE(SUM(h.hits), 0) FROM hunt_results h WHERE h.run_id = r.id)
                 FROM hunt_runs r ORDER BY r.id DESC",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| {
                let summary: Option<String> = row.get(3)?;
                Ok(StoredRun {
                    id: row.get(0)?,
                    started_at: row.get(1)?,
                    finished_at: row.get(2)?,
                    summary: summary
                        .and_then(|s| serde_json::from_str(&s).ok())
                        .unwrap_or(Value::Null),
                    rules: row.get(4)?,
                    fired: row.get(5)?,
                    hits: row.get(6)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Each rule's result in run `run_id`, rules with hits first.
    pub fn results_of_run(&self, run_id: i64) -> Result<Vec<StoredResult>, FindingsError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT rule_id, rule_path, revision, status, detail, hits, new_hits, elapsed_ms, now
                 FROM hunt_results WHERE run_id = ?1 ORDER BY hits DESC, rule_path",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([run_id], |row| {
                Ok(StoredResult {
                    rule_id: row.get(0)?,
                    rule_path: row.get(1)?,
                    revision: row.get(2)?,
                    status: row.get(3)?,
                    detail: row.get(4)?,
                    hits: row.get(5)?,
                    new_hits: row.get(6)?,
                    elapsed_ms: row.get(7)?,
                    now: row.get(8)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// Paths of the rules that have findings.
    pub fn rules_with_findings(&self) -> Result<Vec<String>, FindingsError> {
        let mut statement = self
            .conn
            .prepare("SELECT DISTINCT rule_path FROM findings ORDER BY rule_path")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |r| r.get(0))
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn the_same_row_in_a_later_run_is_the_same_finding() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FindingsStore::open(&dir.path().join("catalog.sqlite")).unwrap();
        let mapping = [EntityMapping {
            entity_type: "Host".into(),
            fields: vec![("HostName".into(), "Computer".into())],
        }];
        let a = finding_of(
            row(json!({"Computer": "ws1", "TimeGenerated": "2024-01-01T00:00:00Z", "n": 1})),
            &mapping,
        );
        let b = finding_of(
            row(json!({"Computer": "ws2", "TimeGenerated": "2024-01-02T00:00:00Z", "n": 2})),
            &mapping,
        );
        assert_eq!(
            a.entities,
            [Entity {
                entity_type: "Host".into(),
                identifier: "HostName".into(),
                value: "ws1".into()
            }]
        );
        assert_eq!(a.event_time.as_deref(), Some("2024-01-01T00:00:00Z"));
        let run1 = store.start_run("t1").unwrap();
        let new = store
            .record_rule(
                run1,
                "r",
                "p.yaml",
                1,
                "hits",
                None,
                5,
                None,
                std::slice::from_ref(&a),
            )
            .unwrap();
        assert_eq!(new, 1);
        let run2 = store.start_run("t2").unwrap();
        let new = store
            .record_rule(run2, "r", "p.yaml", 1, "hits", None, 5, None, &[a, b])
            .unwrap();
        assert_eq!(new, 1);
        let findings = store.findings_of_rule("p.yaml").unwrap();
        assert_eq!(findings.len(), 2);
        let seen_twice = findings.iter().find(|f| f.row["n"] == 1).unwrap();
        assert_eq!(
            (
                seen_twice.first_run,
                seen_twice.last_run,
                seen_twice.times_seen
            ),
            (run1, run2, 2)
        );
        assert_eq!(store.findings_of_run(run2).unwrap().len(), 2);
        assert_eq!(store.rules_with_findings().unwrap(), ["p.yaml"]);
        store
            .record_rule(run2, "q", "q.yaml", 1, "skipped", Some("why"), 1, None, &[])
            .unwrap();
        store.finish_run(run2, "t3", &json!({"fired": 1})).unwrap();
        let runs = store.runs().unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [run2, run1]);
        assert_eq!((runs[0].rules, runs[0].fired, runs[0].hits), (2, 1, 2));
        assert_eq!(runs[0].finished_at.as_deref(), Some("t3"));
        assert_eq!(runs[0].summary["fired"], 1);
        assert!(runs[1].finished_at.is_none());
        let results = store.results_of_run(run2).unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(
            (results[0].rule_path.as_str(), results[0].hits),
            ("p.yaml", 2)
        );
        assert_eq!(results[1].detail.as_deref(), Some("why"));
    }

    #[test]
    fn rules_without_mappings_get_entities_from_known_columns() {
        let f = finding_of(
            row(
                json!({"DeviceName": "ws1", "RemoteIP": "10.0.0.1", "Other": "x", "AccountName": ""}),
            ),
            &[],
        );
        let types: Vec<&str> = f.entities.iter().map(|e| e.entity_type.as_str()).collect();
        assert_eq!(types, ["Host", "IP"]);
    }
}
