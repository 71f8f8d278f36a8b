//! `quarry-web`: the `quarry serve` front end — the SOC feed, rule pages with a Run button,
//! ATT&CK coverage, hunts, workspace data and a query page, each with a JSON API behind it.
//!
//! The crate only presents: rules, coverage, hunts and queries come from `quarry-rules`,
//! `quarry-hunt` and `quarry-engine`. Everything shown is escaped (askama templates, the KQL
//! highlighter, DOM text nodes in the scripts); scripts are files under a strict
//! Content-Security-Policy.

mod assets;
mod error;
mod highlight;
mod pages;
mod runner;
mod security;
mod sessions;
mod state;
mod views;

pub use error::WebError;
pub use runner::RunLimits;
pub use security::{check_bind, TOKEN_COOKIE};
pub use sessions::{local_sessions, LocalSessions, SessionFactory, SharedSessionFactory};
pub use state::AppState;

use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How `quarry serve` runs.
#[derive(Clone)]
pub struct ServeConfig {
    /// The workspace folder.
    pub workspace: PathBuf,
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Access token; required when `bind` is not a loopback address.
    pub token: Option<String>,
    /// Limits of query runs started from the pages.
    pub limits: RunLimits,
    /// Makes the sessions those runs use ([`local_sessions`] runs them in this process).
    pub sessions: SharedSessionFactory,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("workspace", &self.workspace)
            .field("bind", &self.bind)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("limits", &self.limits)
            .field("sessions", &self.sessions.location())
            .finish()
    }
}

/// The application: every page, the API and the static assets, behind the security layers.
pub fn router(state: AppState) -> Router {
    let routes = pages::routes()
        .merge(assets::routes())
        .merge(security::login_routes());
    security::layers(routes, state.clone()).with_state(state)
}

/// Binds `config.bind` and returns the listener with the address it got (port 0 picks one).
pub async fn bind(config: &ServeConfig) -> Result<(tokio::net::TcpListener, SocketAddr), WebError> {
    check_bind(config.bind, config.token.as_deref())?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| WebError::Bind {
            address: config.bind,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| WebError::Bind {
        address: config.bind,
        source,
    })?;
    Ok((listener, address))
}

/// Serves on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: &ServeConfig,
) -> Result<(), WebError> {
    let address = listener.local_addr().ok();
    let state = AppState::open_with_sessions(
        &config.workspace,
        config.token.clone(),
        config.limits,
        address,
        std::sync::Arc::clone(&config.sessions),
    )?;
    axum::serve(listener, router(state))
        .await
        .map_err(|source| WebError::Serve(source.to_string()))
}
