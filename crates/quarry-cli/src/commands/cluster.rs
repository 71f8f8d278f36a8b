//! `quarry scheduler`, `quarry executor` and `--cluster` (cargo feature `distributed`): the
//! arguments and the glue to `quarry-distributed`.

use crate::commands::{CommandError, Outcome};
use clap::Args;
use quarry_distributed::{
    parse_address, run_executor, run_scheduler, Cluster, ExecutorOptions, SchedulerOptions,
};
use quarry_engine::{Session, SessionConfig};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The long description of `quarry scheduler` (`--help`).
pub const SCHEDULER_ABOUT: &str = "\
Run a cluster scheduler (Apache DataFusion Ballista's, with Quarry's codecs). Clients send it
query plans with `quarry query --cluster HOST:PORT` or `quarry hunt --cluster HOST:PORT`; it
splits them into stages and hands their tasks to the executors that registered with it.

Every node must see the workspace folder at the same absolute path (a shared mount): the
executors read its Parquet files directly.";

/// Examples of `quarry scheduler`.
pub const SCHEDULER_EXAMPLES: &str = "\
Examples:
  quarry scheduler --bind 0.0.0.0:50050 --external-host scheduler.internal
  QUARRY_SCHEDULER_BIND=127.0.0.1:50050 quarry scheduler";

/// The long description of `quarry executor` (`--help`).
pub const EXECUTOR_ABOUT: &str = "\
Run a cluster executor: it registers with the scheduler, runs the tasks it is given and serves
the shuffle data other executors ask for. Each executor needs two ports (--port for Arrow
Flight shuffle data, --grpc-port for tasks).";

/// Examples of `quarry executor`.
pub const EXECUTOR_EXAMPLES: &str = "\
Examples:
  quarry executor --scheduler 127.0.0.1:50050
  quarry executor --scheduler 10.0.0.5:50050 --bind 0.0.0.0 --external-host worker-2 \\
      --port 50061 --grpc-port 50062 --concurrent-tasks 8";

/// `quarry scheduler`.
#[derive(Debug, Clone, Args)]
pub struct SchedulerArgs {
    /// The address to listen on.
    #[arg(
        long,
        value_name = "HOST:PORT",
        env = "QUARRY_SCHEDULER_BIND",
        default_value = "127.0.0.1:50050"
    )]
    pub bind: SocketAddr,
    /// The host name executors and clients reach the scheduler by (default: the bind host).
    #[arg(long, value_name = "HOST", env = "QUARRY_SCHEDULER_EXTERNAL_HOST")]
    pub external_host: Option<String>,
    /// Seconds without a heartbeat after which an executor is dropped; the queries that had
    /// tasks on it fail (they are not recomputed on the others).
    #[arg(
        long,
        value_name = "SECS",
        env = "QUARRY_EXECUTOR_TIMEOUT",
        default_value_t = 20
    )]
    pub executor_timeout: u64,
    /// Attempts of one task before the query fails.
    #[arg(
        long,
        value_name = "N",
        env = "QUARRY_TASK_MAX_FAILURES",
        default_value_t = 4
    )]
    pub task_max_failures: usize,
}

/// `quarry executor`.
#[derive(Debug, Clone, Args)]
pub struct ExecutorArgs {
    /// The scheduler to register with.
    #[arg(
        long,
        value_name = "HOST:PORT",
        env = "QUARRY_SCHEDULER",
        default_value = "127.0.0.1:50050"
    )]
    pub scheduler: String,
    /// The host to listen on.
    #[arg(
        long,
        value_name = "HOST",
        env = "QUARRY_EXECUTOR_BIND",
        default_value = "127.0.0.1"
    )]
    pub bind: String,
    /// The host name the scheduler and other executors reach this one by (default: --bind).
    #[arg(long, value_name = "HOST", env = "QUARRY_EXECUTOR_EXTERNAL_HOST")]
    pub external_host: Option<String>,
    /// The Arrow Flight port (shuffle data).
    #[arg(
        long,
        value_name = "PORT",
        env = "QUARRY_EXECUTOR_PORT",
        default_value_t = 50051
    )]
    pub port: u16,
    /// The gRPC port (tasks from the scheduler).
    #[arg(
        long,
        value_name = "PORT",
        env = "QUARRY_EXECUTOR_GRPC_PORT",
        default_value_t = 50052
    )]
    pub grpc_port: u16,
    /// Tasks run at the same time (default: the number of cores).
    #[arg(
        long,
        value_name = "N",
        env = "QUARRY_EXECUTOR_TASKS",
        default_value_t = 0
    )]
    pub concurrent_tasks: usize,
    /// Folder for shuffle files (default: a temporary folder).
    #[arg(long, value_name = "DIR", env = "QUARRY_EXECUTOR_WORK_DIR")]
    pub work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler (keep it well under the scheduler's
    /// --executor-timeout).
    #[arg(long, value_name = "SECS", default_value_t = 3)]
    pub heartbeat: u64,
    /// Start without the KQL function library (only to test the error clients then get).
    #[arg(long, hide = true)]
    pub without_kql_functions: bool,
}

/// Stack of the scheduler's and executor's worker threads: planning and (de)serialising deep
/// plans recurses far beyond tokio's default 2 MiB.
const WORKER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// The runtime the scheduler and executor serve on.
fn server_runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(WORKER_STACK_BYTES)
        .build()
        .map_err(|e| CommandError::Failed(format!("cannot start the runtime: {e}")))
}

/// Runs `quarry scheduler` until the process is stopped.
pub fn scheduler(args: &SchedulerArgs) -> Result<Outcome, CommandError> {
    let options = SchedulerOptions {
        bind: args.bind,
        external_host: args.external_host.clone(),
        executor_timeout: Duration::from_secs(args.executor_timeout.max(1)),
        task_max_failures: args.task_max_failures,
    };
    eprintln!("quarry scheduler listening on {}", args.bind);
    server_runtime()?
        .block_on(run_scheduler(&options))
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    Ok(Outcome::Ok)
}

/// Runs `quarry executor` until the process is stopped.
pub fn executor(args: &ExecutorArgs) -> Result<Outcome, CommandError> {
    let (scheduler_host, scheduler_port) =
        parse_address(&args.scheduler).map_err(|e| CommandError::Usage(e.to_string()))?;
    let options = ExecutorOptions {
        scheduler_host,
        scheduler_port,
        bind_host: args.bind.clone(),
        external_host: args.external_host.clone(),
        port: args.port,
        grpc_port: args.grpc_port,
        concurrent_tasks: args.concurrent_tasks,
        work_dir: args.work_dir.clone(),
        heartbeat: Duration::from_secs(args.heartbeat.max(1)),
        without_kql_functions: args.without_kql_functions,
    };
    eprintln!(
        "quarry executor on {}:{} (tasks on port {}), scheduler {}",
        args.bind, args.port, args.grpc_port, args.scheduler
    );
    server_runtime()?
        .block_on(run_executor(&options))
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    Ok(Outcome::Ok)
}

/// Connects to the cluster at `address`, when one is given.
pub fn connect(
    runtime: &tokio::runtime::Runtime,
    address: Option<&str>,
) -> Result<Option<Cluster>, CommandError> {
    match address {
        None => Ok(None),
        Some(address) => runtime
            .block_on(Cluster::connect(address))
            .map(Some)
            .map_err(|e| CommandError::Failed(e.to_string())),
    }
}

/// Connects to `--cluster` when given, and the workspace path to open with it (absolute on a
/// cluster, where other processes read its files).
pub fn connect_with_workspace(
    runtime: &tokio::runtime::Runtime,
    address: Option<&str>,
    workspace: &Path,
) -> Result<(Option<Cluster>, PathBuf), CommandError> {
    let cluster = connect(runtime, address)?;
    let path = match cluster {
        Some(_) => quarry_distributed::client::absolute(workspace),
        None => workspace.to_path_buf(),
    };
    Ok((cluster, path))
}

/// A session on `cluster` reading `workspace`, or a local one without a cluster.
pub fn session(
    cluster: Option<&Cluster>,
    config: SessionConfig,
    workspace: &Path,
) -> Result<Session, CommandError> {
    match cluster {
        Some(cluster) => {
            let manifest = workspace.join(quarry_ingest::workspace::MANIFEST_FILE);
            let workspace = manifest.is_file().then_some(workspace);
            Ok(cluster.session(config, workspace))
        }
        None => Session::new(config)
            .map_err(|e| CommandError::Failed(format!("cannot create the session: {e}"))),
    }
}

/// The sessions of `quarry serve --cluster`: every query run from the pages runs on the
/// cluster, and its failures are explained as `quarry query --cluster` explains them.
#[derive(Debug, Clone)]
pub struct ClusterSessions {
    cluster: Cluster,
}

impl ClusterSessions {
    /// Sessions on `cluster`.
    pub fn new(cluster: Cluster) -> ClusterSessions {
        ClusterSessions { cluster }
    }
}

impl quarry_web::SessionFactory for ClusterSessions {
    fn session(
        &self,
        config: SessionConfig,
        workspace: Option<&Path>,
    ) -> Result<Session, quarry_engine::EngineError> {
        Ok(self.cluster.session(config, workspace))
    }

    fn explain_failure(
        &self,
        session: &Session,
        text: &str,
        error: &quarry_engine::EngineError,
    ) -> Option<String> {
        quarry_distributed::client::explain_failure(session, text, &error.to_string())
    }

    fn location(&self) -> Option<String> {
        Some(format!("the cluster at {}", self.cluster.address()))
    }
}
