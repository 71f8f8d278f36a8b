//! `quarry serve`: the web front end over a workspace (see the `quarry-web` crate).

use crate::cli::ServeArgs;
use crate::commands::{runtime, CommandError, Outcome};
use quarry_web::{RunLimits, ServeConfig, WebError};
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
    serve_workspace(
        &args.workspace.workspace,
        args.bind,
        args.token.clone(),
        limits,
    )
}

/// Serves `workspace` on `bind` until the process is stopped.
pub fn serve_workspace(
    workspace: &Path,
    bind: SocketAddr,
    token: Option<String>,
    limits: RunLimits,
) -> Result<Outcome, CommandError> {
    let config = ServeConfig {
        workspace: workspace.to_path_buf(),
        bind,
        token,
        limits,
    };
    let failed = |e: WebError| match e {
        WebError::TokenRequired(_) => CommandError::Usage(e.to_string()),
        other => CommandError::Failed(other.to_string()),
    };
    runtime()?.block_on(async {
        let (listener, address) = quarry_web::bind(&config).await.map_err(failed)?;
        eprintln!(
            "serving {} at http://{address}/ (Ctrl-C to stop)",
            workspace.display()
        );
        quarry_web::serve(listener, &config).await.map_err(failed)
    })?;
    Ok(Outcome::Ok)
}
