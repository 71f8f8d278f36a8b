//! Quarry's scheduler and executor: Ballista's, started with Quarry's codecs so that they
//! decode the functions and tables of Quarry plans.

use crate::codec::{disable_kql_functions, QuarryLogicalCodec, QuarryPhysicalCodec};
use crate::loss::{FailJobsOnExecutorLoss, SchedulerHandle};
use crate::ClusterError;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service};
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Writes Ballista's log records at or above the level in `QUARRY_LOG` (`error`, `warn`,
/// `info`, `debug`, `trace`; default `warn`) to stderr.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("{} {}: {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Sends Ballista's log to stderr, at the level `QUARRY_LOG` names.
pub fn init_logging() {
    static LOGGER: StderrLogger = StderrLogger;
    let level = std::env::var("QUARRY_LOG")
        .ok()
        .and_then(|text| text.parse::<log::LevelFilter>().ok())
        .unwrap_or(log::LevelFilter::Warn);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

/// How `quarry scheduler` runs.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// The address to listen on.
    pub bind: SocketAddr,
    /// The host name executors and clients reach this scheduler by (default: the bind host).
    pub external_host: Option<String>,
    /// An executor that sends no heartbeat for this long is dropped, and the queries that had
    /// tasks on it fail.
    pub executor_timeout: Duration,
    /// Attempts of one task before its query fails.
    pub task_max_failures: usize,
}

/// Runs a scheduler until the process stops.
pub async fn run_scheduler(options: &SchedulerOptions) -> Result<(), ClusterError> {
    init_logging();
    let timeout = options.executor_timeout.as_secs().max(1);
    let mut config = SchedulerConfig {
        bind_host: options.bind.ip().to_string(),
        bind_port: options.bind.port(),
        external_host: options
            .external_host
            .clone()
            .unwrap_or_else(|| options.bind.ip().to_string()),
        executor_timeout_seconds: timeout,
        expire_dead_executor_interval_seconds: (timeout / 3).max(1),
        no_executors_grace_period_seconds: timeout,
        task_max_failures: options.task_max_failures.max(1),
        // A task that cannot fetch a map output (its executor is gone) fails the job at once:
        // with more attempts Ballista resubmits the map stage, the recovery that sometimes
        // produced wrong results (see `loss.rs`).
        stage_max_failures: 1,
        // Executors poll for tasks: after an executor is lost, the tasks reset on it are
        // picked up again by the others (with push scheduling they can wait forever).
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        ..SchedulerConfig::default()
    };
    config.override_logical_codec = Some(Arc::new(QuarryLogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(QuarryPhysicalCodec::default()));
    let failed = |e: ballista_core::error::BallistaError| ClusterError::Scheduler(e.to_string());
    let memory = BallistaCluster::new_from_config(&config)
        .await
        .map_err(failed)?;
    // Executor loss fails the jobs that used the executor instead of letting Ballista
    // recompute their stages, whose results were sometimes wrong (see `loss.rs`).
    let handle = SchedulerHandle::default();
    let cluster = BallistaCluster::new(
        Arc::new(FailJobsOnExecutorLoss::new(
            memory.cluster_state(),
            handle.clone(),
        )),
        memory.job_state(),
    );
    let config = Arc::new(config);
    config.validate().map_err(failed)?;
    let scheduler = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, config.clone())
        .await
        .map_err(failed)?;
    handle.set(scheduler.clone());
    start_grpc_service(options.bind, scheduler)
        .await
        .map_err(failed)
}

/// How `quarry executor` runs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// The host to listen on.
    pub bind_host: String,
    /// The host name the scheduler and other executors reach this one by (default: the bind
    /// host).
    pub external_host: Option<String>,
    /// The Arrow Flight port (shuffle data).
    pub port: u16,
    /// The gRPC port (tasks from the scheduler).
    pub grpc_port: u16,
    /// Tasks run at the same time (0: the number of cores).
    pub concurrent_tasks: usize,
    /// Folder for shuffle files (default: a temporary folder).
    pub work_dir: Option<PathBuf>,
    /// Interval between heartbeats to the scheduler.
    pub heartbeat: Duration,
    /// Start without the KQL function library (tests the error a client then gets).
    pub without_kql_functions: bool,
}

/// Runs an executor until the process stops.
pub async fn run_executor(options: &ExecutorOptions) -> Result<(), ClusterError> {
    init_logging();
    if options.without_kql_functions {
        disable_kql_functions();
    }
    let mut config = ExecutorProcessConfig {
        scheduler_host: options.scheduler_host.clone(),
        scheduler_port: options.scheduler_port,
        bind_host: options.bind_host.clone(),
        external_host: Some(
            options
                .external_host
                .clone()
                .unwrap_or_else(|| options.bind_host.clone()),
        ),
        port: options.port,
        grpc_port: options.grpc_port,
        work_dir: options
            .work_dir
            .as_ref()
            .map(|dir| dir.to_string_lossy().into_owned()),
        executor_heartbeat_interval_seconds: options.heartbeat.as_secs().max(1),
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        ..ExecutorProcessConfig::default()
    };
    if options.concurrent_tasks > 0 {
        config.vcores = options.concurrent_tasks;
    }
    config.override_logical_codec = Some(Arc::new(QuarryLogicalCodec::default()));
    config.override_physical_codec = Some(Arc::new(QuarryPhysicalCodec::default()));
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| ClusterError::Executor(e.to_string()))
}
