//! The workspace on disk: `tables/<Table>/date=YYYY-MM-DD/*.parquet` plus `manifest.json`, which
//! lists the committed files. Writers hold an exclusive lock, stage files under `tmp/`, move them
//! into place and then replace the manifest atomically; files the manifest does not list are
//! leftovers of an interrupted ingest and are removed when the next writer opens the workspace.

pub mod manifest;
pub mod provider;
pub mod writer;

use manifest::{Manifest, MANIFEST_VERSION};
use quarry_engine::Session;
use quarry_schema::TableSchema;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The manifest's file name in the workspace root.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The folder holding one sub-folder per table.
pub const TABLES_DIR: &str = "tables";
/// The staging folder for files not yet committed.
pub const TMP_DIR: &str = "tmp";
/// The folder holding one rejects file per ingest with rejects.
pub const REJECTS_DIR: &str = "rejects";
/// The lock file writers hold.
const LOCK_FILE: &str = ".lock";

/// What can go wrong with a workspace.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// A file-system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// `manifest.json` is not a manifest this build reads.
    #[error("{path}: not a readable workspace manifest: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Another process is writing to the workspace.
    #[error("{0}: another quarry process is writing to this workspace")]
    Locked(PathBuf),
    /// The folder is not a workspace (no manifest).
    #[error("{0}: not a Quarry workspace (no manifest.json); run `quarry ingest` or `quarry demo` to make one")]
    NotAWorkspace(PathBuf),
    /// Writing Parquet failed.
    #[error("writing {path}: {message}")]
    Parquet {
        /// The file being written.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A stored table schema is invalid.
    #[error("table {table}: {message}")]
    Schema {
        /// The table.
        table: String,
        /// Why.
        message: String,
    },
}

/// A `map_err` helper: an I/O error on `path`.
pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + '_ {
    move |source| WorkspaceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An open workspace: its root and its manifest, and the write lock when opened for writing.
#[derive(Debug)]
pub struct Workspace {
    root: PathBuf,
    manifest: Manifest,
    /// The write lock, held until the workspace is dropped.
    _lock: Option<File>,
}

impl Workspace {
    /// Opens an existing workspace for reading.
    pub fn open(root: &Path) -> Result<Workspace, WorkspaceError> {
        let manifest_path = root.join(MANIFEST_FILE);
        if !manifest_path.is_file() {
            return Err(WorkspaceError::NotAWorkspace(root.to_path_buf()));
        }
        Ok(Workspace {
            root: root.to_path_buf(),
            manifest: read_manifest(&manifest_path)?,
            _lock: None,
        })
    }

    /// Opens (creating if needed) a workspace for writing: takes the exclusive write lock and
    /// removes what an interrupted writer left behind.
    pub fn open_for_writing(root: &Path) -> Result<Workspace, WorkspaceError> {
        fs::create_dir_all(root).map_err(io_error(root))?;
        let lock_path = root.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(WorkspaceError::Locked(root.to_path_buf()))
            }
            Err(fs::TryLockError::Error(source)) => {
                return Err(WorkspaceError::Io {
                    path: lock_path,
                    source,
                })
            }
        }
        let manifest_path = root.join(MANIFEST_FILE);
        let manifest = if manifest_path.is_file() {
            read_manifest(&manifest_path)?
        } else {
            Manifest {
                version: MANIFEST_VERSION,
                ..Manifest::default()
            }
        };
        let workspace = Workspace {
            root: root.to_path_buf(),
            manifest,
            _lock: Some(lock),
        };
        workspace.remove_leftovers()?;
        if !manifest_path.is_file() {
            workspace.write_manifest(&workspace.manifest)?;
        }
        Ok(workspace)
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The committed state.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The stored schema of `table`, if the workspace has it.
    pub fn table_schema(&self, table: &str) -> Result<Option<TableSchema>, WorkspaceError> {
        self.manifest
            .tables
            .get(table)
            .map(|entry| {
                entry
                    .schema(table)
                    .map_err(|message| WorkspaceError::Schema {
                        table: table.to_string(),
                        message,
                    })
            })
            .transpose()
    }

    /// Replaces the manifest with `next`: written to a temporary file, synced, renamed over
    /// the old one, and the folder synced, so a crash leaves either the old or the new one.
    pub fn commit(&mut self, next: Manifest) -> Result<(), WorkspaceError> {
        self.write_manifest(&next)?;
        self.manifest = next;
        Ok(())
    }

    /// Registers every table of the workspace in `session` (replacing tables of the same name),
    /// read from its Parquet files with time-range pruning.
    pub fn register(&self, session: &Session) -> Result<(), WorkspaceError> {
        for (name, entry) in &self.manifest.tables {
            let schema = entry
                .schema(name)
                .map_err(|message| WorkspaceError::Schema {
                    table: name.clone(),
                    message,
                })?;
            let table = provider::WorkspaceTable::new(&self.root, &schema, &entry.files);
            session.register_table(name, Arc::new(table));
        }
        Ok(())
    }

    /// Writes `manifest` atomically.
    fn write_manifest(&self, manifest: &Manifest) -> Result<(), WorkspaceError> {
        let text = serde_json::to_vec_pretty(manifest).map_err(|e| WorkspaceError::Manifest {
            path: self.root.join(MANIFEST_FILE),
            message: e.to_string(),
        })?;
        write_atomically(&self.root.join(MANIFEST_FILE), &text)
    }

    /// Removes the staging folder and any table file the manifest does not list.
    fn remove_leftovers(&self) -> Result<(), WorkspaceError> {
        let tmp = self.root.join(TMP_DIR);
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io_error(&tmp))?;
        }
        let tables = self.root.join(TABLES_DIR);
        if !tables.exists() {
            return Ok(());
        }
        let listed: HashSet<PathBuf> = self
            .manifest
            .tables
            .values()
            .flat_map(|t| t.files.iter().map(|f| self.root.join(&f.path)))
            .collect();
        for path in files_under(&tables)? {
            if !listed.contains(&path) {
                fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
        Ok(())
    }
}

/// Every file below `dir`, recursively.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, WorkspaceError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current).map_err(io_error(&current))? {
            let entry = entry.map_err(io_error(&current))?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Reads and checks a manifest file.
fn read_manifest(path: &Path) -> Result<Manifest, WorkspaceError> {
    let text = fs::read(path).map_err(io_error(path))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| WorkspaceError::Manifest {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if manifest.version != MANIFEST_VERSION {
        return Err(WorkspaceError::Manifest {
            path: path.to_path_buf(),
            message: format!(
                "version {} (this build reads version {MANIFEST_VERSION})",
                manifest.version
            ),
        });
    }
    Ok(manifest)
}

/// Writes `bytes` to `path` through a synced temporary file and a rename, then syncs the folder.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WorkspaceError> {
    let temporary = path.with_extension("tmp");
    {
        let mut file = File::create(&temporary).map_err(io_error(&temporary))?;
        file.write_all(bytes).map_err(io_error(&temporary))?;
        file.sync_all().map_err(io_error(&temporary))?;
    }
    fs::rename(&temporary, path).map_err(io_error(path))?;
    sync_parent(path)
}

/// Syncs the folder holding `path`, so a rename into it is durable.
pub(crate) fn sync_parent(path: &Path) -> Result<(), WorkspaceError> {
    if let Some(parent) = path.parent() {
        let dir = File::open(parent).map_err(io_error(parent))?;
        dir.sync_all().map_err(io_error(parent))?;
    }
    Ok(())
}
