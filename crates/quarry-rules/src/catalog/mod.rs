//! The catalog: rules, their revisions and derived fields, stored functions and import problems,
//! in the workspace's SQLite database, with FTS5 search over name, description, query and tags.

mod filter;
mod read;
mod write;

pub use read::{Revision, RuleFilter, RuleRecord, RuleSort, RuleSummary, SearchHit, SourceInfo};
pub use write::{
    bind_label as bind_label_of, ImportBatch, ImportChanges, ImportProblem, PreparedRule,
};

use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The catalog's file name inside a workspace.
pub const CATALOG_FILE: &str = "catalog.sqlite";

/// SHA-256 of bytes, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The schema, applied when the database is created.
const SCHEMA: &str = include_str!("schema.sql");

/// The schema version stored in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// Why the catalog could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// SQLite failed.
    #[error("catalog {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A stored JSON field does not match this version of Quarry.
    #[error("catalog {path}: stored {what} cannot be read ({message}); re-import the rules")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// Which field.
        what: &'static str,
        /// The decoding error.
        message: String,
    },
    /// The database was written by a newer Quarry.
    #[error(
        "catalog {path} has schema version {found}; this Quarry reads version {SCHEMA_VERSION}"
    )]
    Version {
        /// The database file.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
}

/// The rule catalog of one workspace.
pub struct Catalog {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").field("path", &self.path).finish()
    }
}

impl Catalog {
    /// Opens the catalog database at `path`, creating it (and its tables) when missing.
    pub fn open(path: &Path) -> Result<Catalog, CatalogError> {
        let sqlite = |source| CatalogError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(sqlite)?;
        // Readers and an importer may overlap (the web page while `rules import` runs).
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sqlite)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sqlite)?;
        if version > SCHEMA_VERSION {
            return Err(CatalogError::Version {
                path: path.to_path_buf(),
                found: version,
            });
        }
        if version < SCHEMA_VERSION {
            conn.execute_batch(SCHEMA).map_err(sqlite)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(sqlite)?;
        }
        Ok(Catalog {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sqlite(&self, source: rusqlite::Error) -> CatalogError {
        CatalogError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn corrupt(&self, what: &'static str, error: serde_json::Error) -> CatalogError {
        CatalogError::Corrupt {
            path: self.path.clone(),
            what,
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
