//! The client side: a Ballista context with Quarry's codecs, and query sessions on it.

use crate::codec::{QuarryLogicalCodec, QuarryPhysicalCodec};
use crate::loss::lost_executor_reason;
use crate::recipe::{functions_in, remember_plan, Recipe};
use crate::ClusterError;
use ballista::prelude::SessionContextExt;
use ballista_core::extension::SessionConfigExt;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig as DfConfig, SessionContext};
use quarry_engine::{Session, SessionConfig};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long [`Cluster::connect`] waits for the scheduler to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `HOST:PORT` split into its parts.
pub fn parse_address(address: &str) -> Result<(String, u16), ClusterError> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| ClusterError::Address(address.to_string()))?;
    let port: u16 = port
        .parse()
        .map_err(|_| ClusterError::Address(address.to_string()))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || port == 0 {
        return Err(ClusterError::Address(address.to_string()));
    }
    Ok((host.to_string(), port))
}

/// Fails unless something accepts TCP connections at `address` within `timeout`.
fn check_reachable(address: &str, timeout: Duration) -> Result<(), ClusterError> {
    let unreachable = |reason: String| ClusterError::Unreachable {
        address: address.to_string(),
        reason,
    };
    let targets: Vec<SocketAddr> = address
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve the host: {e}")))?
        .collect();
    let mut last = String::from("the host resolves to no address");
    for target in targets {
        match std::net::TcpStream::connect_timeout(&target, timeout) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                last = format!("no answer within {}s", timeout.as_secs())
            }
            Err(e) => last = e.to_string(),
        }
    }
    Err(unreachable(last))
}

/// A connection to a Quarry cluster: a Ballista context whose plans the scheduler runs.
#[derive(Clone)]
pub struct Cluster {
    address: String,
    context: SessionContext,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("address", &self.address)
            .finish()
    }
}

impl Cluster {
    /// Connects to the scheduler at `address` (`HOST:PORT`), failing within
    /// [`CONNECT_TIMEOUT`] when nothing answers there.
    pub async fn connect(address: &str) -> Result<Cluster, ClusterError> {
        let (host, port) = parse_address(address)?;
        let probe = address.to_string();
        tokio::task::spawn_blocking(move || check_reachable(&probe, CONNECT_TIMEOUT))
            .await
            .map_err(|e| ClusterError::Connect {
                address: address.to_string(),
                reason: e.to_string(),
            })??;
        let config = DfConfig::new_with_ballista()
            .with_information_schema(false)
            // Ballista 55's adaptive planner can leave a job waiting forever when an executor
            // is lost mid-stage ("Can't find active stage to update stage outputs"); the static
            // planner reruns the lost stages.
            .with_ballista_adaptive_query_planner(std::env::var_os("QUARRY_AQE").is_some())
            .with_ballista_logical_extension_codec(Arc::new(QuarryLogicalCodec::default()))
            .with_ballista_physical_extension_codec(Arc::new(QuarryPhysicalCodec::default()));
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .build();
        let url = format!("df://{host}:{port}");
        let context = SessionContext::remote_with_state(&url, state)
            .await
            .map_err(|e| ClusterError::Connect {
                address: address.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Cluster {
            address: address.to_string(),
            context,
        })
    }

    /// The scheduler's address.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// A query session whose plans run on the cluster. `workspace` is the workspace folder the
    /// session's tables come from, at the path the scheduler and executors also see it (it is
    /// made absolute here); the executors read its Parquet files directly.
    pub fn session(&self, config: SessionConfig, workspace: Option<&Path>) -> Session {
        let workspace: Option<PathBuf> = workspace.map(absolute);
        let mut session = Session::with_context(config, self.context.clone());
        session.set_plan_observer(Arc::new(move |session, text, now, plan| {
            let recipe = Arc::new(Recipe::of(session, text, now, workspace.clone()));
            remember_plan(plan, Some(&recipe));
            Ok(())
        }));
        session
    }
}

/// A note for the error `error` of query `text` run on a cluster in `session`: when an executor
/// rejected the query's tasks, the usual cause and the KQL functions the query needs.
pub fn explain_failure(session: &Session, text: &str, error: &str) -> Option<String> {
    if let Some(note) = explain_lost_executor(error) {
        return Some(note);
    }
    if !error.contains("rejected by executor") {
        return None;
    }
    let plan = session.logical_plan(text).ok()?;
    let mut names: Vec<String> = functions_in(&plan)
        .into_iter()
        .filter(|f| !f.is_builtin())
        .map(|f| format!("`{}`", f.name()))
        .collect();
    names.sort();
    names.dedup();
    Some(format!(
        "an executor could not prepare this query's tasks; the usual cause is a KQL function \
         missing there (the query needs the KQL functions {}): check that every executor runs \
         `quarry executor` of the client's version; the executor's log names the function",
        names.join(", ")
    ))
}

/// A note for a query failed by an executor's loss, when the scheduler's own message does not
/// already say so.
///
/// Quarry's scheduler fails a job whose executor is removed with a message that names it
/// ([`lost_executor_reason`]); nothing to add then. A task that could not fetch a lost
/// executor's shuffle output fails the job before that, with Ballista's fetch error (the
/// scheduler allows one stage attempt, so no recovery runs): that one is reworded here. A job
/// cancelled by the scheduler (the fallback when no task could be failed in its place) only
/// says "Cancelled".
fn explain_lost_executor(error: &str) -> Option<String> {
    if error.contains("was lost during the query") {
        return None;
    }
    if let Some(executor) = fetch_failed_executor(error) {
        return Some(lost_executor_reason(
            &executor,
            fetch_failed_address(error).as_deref(),
        ));
    }
    if broken_shuffle_stream(error) {
        return Some(
            "an executor was lost during the query: the connection to it broke while another \
             executor was reading its shuffle output (which executor is not in the error; the \
             scheduler's log names it once its heartbeats stop); the query was stopped rather \
             than recomputed (Ballista's stage recovery is not trusted); run it again"
                .to_string(),
        );
    }
    if error.trim_end().ends_with("failed: Cancelled") {
        return Some(
            "the scheduler stopped the query: it was cancelled, or an executor it used was lost \
             (the query is stopped rather than recomputed, as Ballista's stage recovery is not \
             trusted); run it again"
                .to_string(),
        );
    }
    None
}

/// True for a task that failed because a shuffle stream it was reading broke mid-way: the
/// executor serving it went away after the fetch started, and Ballista reports the transport
/// error without saying whose stream it was.
fn broken_shuffle_stream(error: &str) -> bool {
    let lower = error.to_ascii_lowercase();
    lower.contains("ipc")
        && [
            "error reading a body from connection",
            "broken pipe",
            "connection reset",
        ]
        .iter()
        .any(|marker| lower.contains(marker))
}

/// The executor named by Ballista's "Shuffle fetch partition error from Executor <id>, …".
fn fetch_failed_executor(error: &str) -> Option<String> {
    let rest = error.split("fetch partition error from Executor ").nth(1)?;
    let id: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != ',')
        .collect();
    (!id.is_empty()).then_some(id)
}

/// The `host:port` in Ballista's connection error "… executor at http://host:port: …".
fn fetch_failed_address(error: &str) -> Option<String> {
    let rest = error.split("executor at ").nth(1)?;
    let rest = rest
        .strip_prefix("http://")
        .or_else(|| rest.strip_prefix("https://"))
        .unwrap_or(rest);
    let host: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']'))
        .collect();
    let port: String = rest[host.len()..]
        .strip_prefix(':')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!host.is_empty() && !port.is_empty()).then(|| format!("{host}:{port}"))
}

/// `path` made absolute (canonical when it exists).
pub fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|dir| dir.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_need_a_host_and_a_port() {
        assert_eq!(
            parse_address("127.0.0.1:50050").unwrap(),
            ("127.0.0.1".to_string(), 50050)
        );
        assert_eq!(parse_address("[::1]:7").unwrap(), ("::1".to_string(), 7));
        for bad in ["localhost", ":50050", "host:port", "host:0", "host:70000"] {
            assert!(
                matches!(parse_address(bad), Err(ClusterError::Address(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_fetch_failure_from_a_lost_executor_is_explained() {
        let error = "Job 1 failed: Job failed due to stage 3 failed: Stage 3 has failed 1 \
                     times, most recent failure reason: \"Shuffle fetch partition error from \
                     Executor 96da2c27, map_stage 1, map_partition 0, error desc: Error \
                     connecting to Ballista scheduler or executor at http://127.0.0.1:46495: \
                     transport error\"";
        let note = explain_lost_executor(error).unwrap();
        assert!(
            note.starts_with("executor 96da2c27 at 127.0.0.1:46495 was lost during the query"),
            "{note}"
        );
        let without_address = "Shuffle fetch partition error from Executor e1, map_stage 1";
        let note = explain_lost_executor(without_address).unwrap();
        assert!(note.starts_with("executor e1 was lost"), "{note}");
        // The scheduler's own message already says it all.
        let reason = lost_executor_reason("e1", Some("h:1"));
        assert_eq!(
            explain_lost_executor(&format!("Job 1 failed: {reason}")),
            None
        );
        assert!(explain_lost_executor("Job 1 failed: Cancelled").is_some());
        // A shuffle stream that broke mid-way (as seen when an executor was killed).
        let broken = "Job 038H5H9G5W000 failed: Job failed due to stage 3 failed: Task failed \
                      due to runtime execution error: DataFusionError(Shared(External(ArrowError(\
                      IpcError(\"Arrow error: Ipc error: code: 'Unknown error', message: \\\"h2 \
                      protocol error: error reading a body from connection\\\", source: \
                      hyper::Error(Body, Error { kind: Io(Custom { kind: BrokenPipe, error: \
                      \\\"stream closed because of a broken pipe\\\" }) })\")))))";
        let note = explain_lost_executor(broken).unwrap();
        assert!(
            note.starts_with("an executor was lost during the query"),
            "{note}"
        );
        assert!(note.ends_with("run it again"), "{note}");
        assert_eq!(
            explain_lost_executor("Job 1 failed: division by zero"),
            None
        );
    }

    #[tokio::test]
    async fn an_unreachable_scheduler_is_named_within_the_timeout() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let started = std::time::Instant::now();
        let error = Cluster::connect(&address).await.unwrap_err();
        assert!(started.elapsed() < CONNECT_TIMEOUT + Duration::from_secs(2));
        let message = error.to_string();
        assert!(message.contains(&address), "{message}");
        assert!(message.contains("unreachable"), "{message}");
    }
}
