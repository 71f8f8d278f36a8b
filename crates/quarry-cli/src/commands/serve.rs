//! `quarry serve`: the web front end over a workspace (see the `quarry-web` crate).

use crate::cli::ServeArgs;
use crate::commands::{runtime, CommandError, Outcome};
use quarry_web::{RunLimits, ServeConfig, SharedSessionFactory, WebError};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// Runs `quarry serve`.
pub fn run(args: &ServeArgs) -> Result<Outcome, CommandError> {
    let limits = RunLimits {
        time_limit: Duration::from_secs(args.query_timeout.max(1)),
        memory_limit: args.query_memory.max(16) << 20,
        ..RunLimits::default()
    };
    #[cfg(feature = "distributed")]
    let cluster = args.cluster.as_deref();
    #[cfg(not(feature = "distributed"))]
    let cluster = None;
    serve_on(
        &args.workspace.workspace,
        args.bind,
        args.token.clone(),
        limits,
        cluster,
    )
}

/// Serves `workspace` on `bind` until the process is stopped; queries run in this process.
pub fn serve_workspace(
    workspace: &Path,
    bind: SocketAddr,
    token: Option<String>,
    limits: RunLimits,
) -> Result<Outcome, CommandError> {
    serve_on(workspace, bind, token, limits, None)
}

/// Serves `workspace` on `bind`; with `cluster` (`HOST:PORT`, feature `distributed`) every
/// query from the pages runs on that cluster, which must answer at startup.
fn serve_on(
    workspace: &Path,
    bind: SocketAddr,
    token: Option<String>,
    limits: RunLimits,
    cluster: Option<&str>,
) -> Result<Outcome, CommandError> {
    let failed = |e: WebError| match e {
        WebError::TokenRequired(_) => CommandError::Usage(e.to_string()),
        other => CommandError::Failed(other.to_string()),
    };
    runtime()?.block_on(async {
        let (sessions, workspace) = sessions(cluster, workspace).await?;
        let config = ServeConfig {
            workspace,
            bind,
            token,
            limits,
            sessions,
        };
        let (listener, address) = quarry_web::bind(&config).await.map_err(failed)?;
        let location = config
            .sessions
            .location()
            .map_or_else(String::new, |l| format!("; queries run on {l}"));
        eprintln!(
            "serving {} at http://{address}/{location} (Ctrl-C to stop)",
            config.workspace.display()
        );
        quarry_web::serve(listener, &config).await.map_err(failed)
    })?;
    Ok(Outcome::Ok)
}

/// The session factory of the server and the workspace path to serve: on a cluster the
/// workspace path is made absolute, as the executors read its files at the same path.
#[cfg(feature = "distributed")]
async fn sessions(
    cluster: Option<&str>,
    workspace: &Path,
) -> Result<(SharedSessionFactory, std::path::PathBuf), CommandError> {
    match cluster {
        None => Ok((quarry_web::local_sessions(), workspace.to_path_buf())),
        Some(address) => {
            let cluster = quarry_distributed::Cluster::connect(address)
                .await
                .map_err(|e| CommandError::Failed(e.to_string()))?;
            Ok((
                std::sync::Arc::new(crate::commands::cluster::ClusterSessions::new(cluster)),
                quarry_distributed::client::absolute(workspace),
            ))
        }
    }
}

/// The session factory of the server (this process: the binary has no cluster support).
#[cfg(not(feature = "distributed"))]
async fn sessions(
    _cluster: Option<&str>,
    workspace: &Path,
) -> Result<(SharedSessionFactory, std::path::PathBuf), CommandError> {
    Ok((quarry_web::local_sessions(), workspace.to_path_buf()))
}
