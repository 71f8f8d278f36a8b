//! What every request shares: the workspace, a small pool of catalog connections, and a cached
//! snapshot of the catalog's listing (5,000 summaries are read once per change of the catalog,
//! not once per request).

use crate::error::WebError;
use crate::runner::RunLimits;
use crate::sessions::{local_sessions, SharedSessionFactory};
use quarry_hunt::findings::FindingsStore;
use quarry_hunt::functions::CompiledLibrary;
use quarry_ingest::workspace::MANIFEST_FILE;
use quarry_ingest::Workspace;
use quarry_rules::catalog::{Catalog, RuleFilter, RuleSummary, CATALOG_FILE};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;
use tokio::sync::Semaphore;

/// Connections kept open for reuse; more are opened under load and dropped after.
const POOL_SIZE: usize = 4;

/// The shared state of the server.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    token: Option<String>,
    limits: RunLimits,
    bound: Option<SocketAddr>,
    pool: Mutex<Vec<Catalog>>,
    snapshot: Mutex<Arc<Snapshot>>,
    run_slots: Arc<Semaphore>,
    sessions: SharedSessionFactory,
}

/// Files whose change means the snapshot is stale: (size, modified) of each.
type Stamp = Vec<Option<(u64, SystemTime)>>;

/// The catalog listing and the workspace as of one state of their files.
pub struct Snapshot {
    stamp: Stamp,
    /// Every current rule (not removed), sorted by name.
    pub rules: Vec<RuleSummary>,
    /// Paths of rules with stored findings.
    pub with_findings: BTreeSet<String>,
    /// The workspace, when the folder is one.
    pub workspace: Option<Workspace>,
    /// The workspace's tables (empty without a workspace).
    pub tables: BTreeSet<String>,
    functions: OnceLock<Arc<CompiledLibrary>>,
    /// Facets and sort orders of the feed, built on first use.
    pub(crate) feed_index: OnceLock<Arc<crate::pages::feed::FeedIndex>>,
}

impl Snapshot {
    /// Whether the rule at `path` has stored findings.
    pub fn has_findings(&self, path: &str) -> bool {
        self.with_findings.contains(path)
    }

    /// Upstream ids of rules with findings (for the coverage matrix).
    pub fn fired_ids(&self) -> BTreeSet<String> {
        self.rules
            .iter()
            .filter(|r| self.with_findings.contains(&r.path))
            .map(|r| r.id.clone())
            .collect()
    }
}

impl AppState {
    /// Opens the workspace at `root` (a folder without a catalog gets an empty one); queries
    /// run in this process.
    pub fn open(
        root: &Path,
        token: Option<String>,
        limits: RunLimits,
        bound: Option<SocketAddr>,
    ) -> Result<AppState, WebError> {
        AppState::open_with_sessions(root, token, limits, bound, local_sessions())
    }

    /// Opens the workspace at `root`; queries run in the sessions `sessions` makes.
    pub fn open_with_sessions(
        root: &Path,
        token: Option<String>,
        limits: RunLimits,
        bound: Option<SocketAddr>,
        sessions: SharedSessionFactory,
    ) -> Result<AppState, WebError> {
        if !root.is_dir() {
            return Err(WebError::Workspace(format!(
                "{}: no such folder (build one with `quarry demo` or `quarry ingest`)",
                root.display()
            )));
        }
        let state = AppState {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                token,
                limits,
                bound,
                pool: Mutex::new(Vec::new()),
                snapshot: Mutex::new(Arc::new(Snapshot {
                    stamp: Vec::new(),
                    rules: Vec::new(),
                    with_findings: BTreeSet::new(),
                    workspace: None,
                    tables: BTreeSet::new(),
                    functions: OnceLock::new(),
                    feed_index: OnceLock::new(),
                })),
                run_slots: Arc::new(Semaphore::new(limits.concurrent_runs.max(1))),
                sessions,
            }),
        };
        // Fail at startup, not on the first request, when the catalog cannot be read.
        state.snapshot()?;
        Ok(state)
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The access token, if one is required.
    pub fn token(&self) -> Option<&str> {
        self.inner.token.as_deref()
    }

    /// The address the server listens on, when known.
    pub fn bound(&self) -> Option<SocketAddr> {
        self.inner.bound
    }

    /// Limits of query runs.
    pub fn limits(&self) -> RunLimits {
        self.inner.limits
    }

    /// Makes the sessions of query runs.
    pub fn sessions(&self) -> &SharedSessionFactory {
        &self.inner.sessions
    }

    /// Permits for query runs: at most `concurrent_runs` run at once.
    pub fn run_slots(&self) -> Arc<Semaphore> {
        Arc::clone(&self.inner.run_slots)
    }

    fn stamp(&self) -> Stamp {
        let root = &self.inner.root;
        [
            root.join(CATALOG_FILE),
            root.join(format!("{CATALOG_FILE}-wal")),
            root.join(MANIFEST_FILE),
        ]
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)))
        })
        .collect()
    }

    /// The current snapshot, re-read when the catalog or the manifest changed on disk.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>, WebError> {
        let stamp = self.stamp();
        let mut current = self
            .inner
            .snapshot
            .lock()
            .map_err(|_| WebError::Workspace("the snapshot lock is poisoned".into()))?;
        if current.stamp == stamp && !stamp.is_empty() {
            return Ok(Arc::clone(&current));
        }
        let fresh = Arc::new(self.read_snapshot(stamp)?);
        *current = Arc::clone(&fresh);
        Ok(fresh)
    }

    fn read_snapshot(&self, stamp: Stamp) -> Result<Snapshot, WebError> {
        let rules = self.with_catalog(|c| c.list(&RuleFilter::default()))?;
        let with_findings = FindingsStore::open(&self.inner.root.join(CATALOG_FILE))
            .and_then(|store| store.rules_with_findings())
            .map_err(|e| WebError::Workspace(e.to_string()))?
            .into_iter()
            .collect();
        let workspace = Workspace::open(&self.inner.root).ok();
        let tables = workspace
            .as_ref()
            .map(|w| w.manifest().tables.keys().cloned().collect())
            .unwrap_or_default();
        Ok(Snapshot {
            stamp,
            rules,
            with_findings,
            workspace,
            tables,
            functions: OnceLock::new(),
            feed_index: OnceLock::new(),
        })
    }

    /// The catalog's stored functions compiled for the engine (once per snapshot).
    pub fn functions(&self, snapshot: &Snapshot) -> Result<Arc<CompiledLibrary>, WebError> {
        if let Some(done) = snapshot.functions.get() {
            return Ok(Arc::clone(done));
        }
        let library = self.with_catalog(|c| c.functions())?;
        let compiled = Arc::new(CompiledLibrary::compile(&library));
        Ok(Arc::clone(snapshot.functions.get_or_init(|| compiled)))
    }

    /// Runs `f` with a catalog connection from the pool.
    pub fn with_catalog<T>(
        &self,
        f: impl FnOnce(&Catalog) -> Result<T, quarry_rules::catalog::CatalogError>,
    ) -> Result<T, WebError> {
        let pooled = self.inner.pool.lock().ok().and_then(|mut pool| pool.pop());
        let catalog = match pooled {
            Some(catalog) => catalog,
            None => Catalog::open(&self.inner.root.join(CATALOG_FILE))
                .map_err(|e| WebError::Workspace(e.to_string()))?,
        };
        let result = f(&catalog).map_err(|e| WebError::Workspace(e.to_string()));
        if let Ok(mut pool) = self.inner.pool.lock() {
            if pool.len() < POOL_SIZE {
                pool.push(catalog);
            }
        }
        result
    }

    /// The findings store of the workspace.
    pub fn findings(&self) -> Result<FindingsStore, WebError> {
        FindingsStore::open(&self.inner.root.join(CATALOG_FILE))
            .map_err(|e| WebError::Workspace(e.to_string()))
    }
}
