//! Where the queries started from the pages run: the server asks a [`SessionFactory`] for each
//! run's session. The default runs them in this process; `quarry serve --cluster` passes one
//! whose sessions run on a cluster, so this crate does not depend on the cluster code.

use quarry_engine::{EngineError, Session, SessionConfig};
use std::path::Path;
use std::sync::Arc;

/// Makes the query sessions of the server's runs.
pub trait SessionFactory: Send + Sync {
    /// A session with `config`. `workspace` is the workspace folder whose tables the run reads
    /// (registered by the caller after this returns), `None` when the folder is not a workspace.
    fn session(
        &self,
        config: SessionConfig,
        workspace: Option<&Path>,
    ) -> Result<Session, EngineError>;

    /// A note shown after the message of `error`, the failure of `text` run in `session`
    /// (for example why a cluster rejected the query); none by default.
    fn explain_failure(
        &self,
        session: &Session,
        text: &str,
        error: &EngineError,
    ) -> Option<String> {
        let _ = (session, text, error);
        None
    }

    /// Where the queries run, for the startup line and the pages: `None` for this process.
    fn location(&self) -> Option<String> {
        None
    }
}

/// Sessions in this process (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalSessions;

impl SessionFactory for LocalSessions {
    fn session(
        &self,
        config: SessionConfig,
        _workspace: Option<&Path>,
    ) -> Result<Session, EngineError> {
        Session::new(config)
    }
}

/// The factory shared by the server's requests.
pub type SharedSessionFactory = Arc<dyn SessionFactory>;

/// The default factory: sessions in this process.
pub fn local_sessions() -> SharedSessionFactory {
    Arc::new(LocalSessions)
}
