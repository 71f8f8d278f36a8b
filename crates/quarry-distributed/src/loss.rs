//! Executor loss fails the jobs that used the lost executor instead of letting Ballista
//! recompute them.
//!
//! Ballista 55 answers the loss of an executor by resetting the lost tasks and rolling back the
//! stages that read its shuffle output, then running them again on the other executors. That
//! recovery sometimes returned a wrong answer (a self-join counted 33 or 45 groups instead of
//! 30, about one run in four), and a wrong finding is worse than none for a threat hunt. So
//! Quarry's scheduler wraps Ballista's cluster state: when an executor is removed (heartbeat
//! expired, launch failure, shutdown), every running job that had a task on it is failed
//! *before* Ballista's recovery event is posted, with a reason naming the executor.
//!
//! The job is failed the way an executor reports a task that cannot succeed: a non-retryable
//! task failure sent through the scheduler's own task-status entry point. That keeps Ballista's
//! teardown (cancelling the job's other tasks, freeing its shuffle files, recording the failed
//! status the client polls) exactly as for any other failed query. The status update is queued
//! on the scheduler's event loop ahead of the `ExecutorLost` event, which is only posted once
//! `remove_executor` returns, so the failure is applied before the recovery would start.
//!
//! The other recovery path, a task that cannot fetch a lost executor's shuffle output, is
//! turned off by the scheduler's `stage_max_failures = 1` (see `server.rs`).

use async_trait::async_trait;
use ballista_core::error::Result;
use ballista_core::serde::protobuf::failed_task::FailedReason;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpc;
use ballista_core::serde::protobuf::{
    task_status, ExecutionError, ExecutorHeartbeat, FailedTask, TaskStatus, UpdateTaskStatusParams,
};
use ballista_core::serde::scheduler::{ExecutorData, ExecutorMetadata};
use ballista_core::JobId;
use ballista_scheduler::cluster::{BoundTask, ClusterState, ClusterStateEventStream, ExecutorSlot};
use ballista_scheduler::config::TaskDistributionPolicy;
use ballista_scheduler::scheduler_server::SchedulerServer;
use ballista_scheduler::state::execution_graph::ExecutionGraph;
use ballista_scheduler::state::execution_stage::ExecutionStage;
use ballista_scheduler::state::task_manager::JobInfoCache;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

/// The scheduler Quarry runs.
pub(crate) type Scheduler = SchedulerServer<LogicalPlanNode, PhysicalPlanNode>;

/// The scheduler, set once it exists: it is built from the cluster state that needs it, so the
/// state gets this handle first and the scheduler is put in afterwards.
#[derive(Clone, Default)]
pub(crate) struct SchedulerHandle(Arc<OnceLock<Scheduler>>);

impl SchedulerHandle {
    /// Makes `scheduler` the one the cluster state reports failures to (first call wins).
    pub(crate) fn set(&self, scheduler: Scheduler) {
        let _ = self.0.set(scheduler);
    }

    fn get(&self) -> Option<&Scheduler> {
        self.0.get()
    }
}

/// The message a job fails with when `executor` was lost while it ran.
pub fn lost_executor_reason(executor_id: &str, address: Option<&str>) -> String {
    let place = address.map(|a| format!(" at {a}")).unwrap_or_default();
    format!(
        "executor {executor_id}{place} was lost during the query; the query was stopped \
         rather than recomputed (Ballista's stage recovery is not trusted); run it again"
    )
}

/// Ballista's cluster state, with executor removal failing the jobs that used the executor.
pub(crate) struct FailJobsOnExecutorLoss {
    inner: Arc<dyn ClusterState>,
    scheduler: SchedulerHandle,
}

impl FailJobsOnExecutorLoss {
    pub(crate) fn new(inner: Arc<dyn ClusterState>, scheduler: SchedulerHandle) -> Self {
        FailJobsOnExecutorLoss { inner, scheduler }
    }

    /// Fails every running job with a task on `executor_id`.
    async fn fail_jobs_using(&self, scheduler: &Scheduler, executor_id: &str) {
        let address = self
            .inner
            .get_executor_metadata(executor_id)
            .await
            .ok()
            .map(|meta| format!("{}:{}", meta.host, meta.port));
        let reason = lost_executor_reason(executor_id, address.as_deref());
        // The failure is reported in the name of another executor: the scheduler looks the
        // reporting executor up when it handles the update, and by then the lost one is gone.
        // The one heard from last is the least likely to be removed in the meantime (when
        // several executors die together, the others are still registered for a while).
        let reporter = self
            .inner
            .executor_heartbeats()
            .into_values()
            .filter(|beat| beat.executor_id != executor_id)
            .max_by_key(|beat| beat.timestamp)
            .map(|beat| beat.executor_id);
        let jobs = scheduler.state.task_manager.get_running_job_cache();
        for (job_id, info) in jobs.iter() {
            let target = {
                let graph = info.execution_graph.read().await;
                if !used_executor(graph.as_ref(), executor_id) {
                    continue;
                }
                task_to_fail(graph.as_ref(), executor_id)
            };
            log::warn!("job {job_id}: {reason}");
            match (target, &reporter) {
                (Some(target), Some(reporter)) => {
                    let status = failed_status(job_id, target, &reason);
                    let request = tonic::Request::new(UpdateTaskStatusParams {
                        executor_id: reporter.clone(),
                        task_status: vec![status],
                    });
                    if let Err(e) = SchedulerGrpc::update_task_status(scheduler, request).await {
                        log::error!("cannot fail job {job_id} after losing {executor_id}: {e}");
                        cancel(scheduler, job_id).await;
                    }
                }
                // No running task to fail or no executor left to report through: cancelling
                // still stops the job (the client then sees "Cancelled", which it explains).
                _ => cancel(scheduler, job_id).await,
            }
        }
    }
}

async fn cancel(scheduler: &Scheduler, job_id: &JobId) {
    if let Err(e) = scheduler.cancel_job(job_id.clone()).await {
        log::error!("cannot cancel job {job_id}: {e}");
    }
}

/// A task slot of a running stage: (stage id, stage attempt, task id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TaskSlot {
    stage_id: usize,
    attempt: usize,
    task_id: usize,
}

fn on_executor(status: &task_status::Status, executor_id: &str) -> bool {
    match status {
        task_status::Status::Running(running) => running.executor_id == executor_id,
        task_status::Status::Successful(done) => done.executor_id == executor_id,
        task_status::Status::Failed(_) => false,
    }
}

/// Whether a task of the job ran or runs on `executor_id`: its shuffle output (or the task
/// itself) is then lost with it.
fn used_executor(graph: &dyn ExecutionGraph, executor_id: &str) -> bool {
    graph.stages().values().any(|stage| {
        stage.task_infos().is_some_and(|infos| {
            infos
                .iter()
                .any(|info| on_executor(&info.task_status, executor_id))
        })
    })
}

/// A slot of a running stage that the scheduler accepts a status update for, preferring a task
/// still running on the lost executor. Slots reset by Ballista itself (killed, result lost)
/// ignore updates, so they are skipped.
fn task_to_fail(graph: &dyn ExecutionGraph, executor_id: &str) -> Option<TaskSlot> {
    let mut fallback = None;
    for (stage_id, stage) in graph.stages() {
        let ExecutionStage::Running(running) = stage else {
            continue;
        };
        for (task_id, info) in running.task_infos.iter().enumerate() {
            let slot = TaskSlot {
                stage_id: *stage_id,
                attempt: running.stage_attempt_num,
                task_id,
            };
            match &info.task_status {
                task_status::Status::Running(r) if r.executor_id == executor_id => {
                    return Some(slot)
                }
                task_status::Status::Failed(FailedTask {
                    failed_reason:
                        Some(FailedReason::TaskKilled(_)) | Some(FailedReason::ResultLost(_)),
                    ..
                }) => {}
                _ => {
                    fallback.get_or_insert(slot);
                }
            }
        }
    }
    fallback
}

/// A non-retryable failure of `slot`, which fails its stage and so the job with `reason`.
fn failed_status(job_id: &JobId, slot: TaskSlot, reason: &str) -> TaskStatus {
    let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    TaskStatus {
        task_id: to_u32(slot.task_id),
        job_id: job_id.to_string(),
        stage_id: to_u32(slot.stage_id),
        stage_attempt_num: to_u32(slot.attempt),
        status: Some(task_status::Status::Failed(FailedTask {
            error: reason.to_string(),
            retryable: false,
            count_to_failures: false,
            failed_reason: Some(FailedReason::ExecutionError(ExecutionError {})),
        })),
        ..TaskStatus::default()
    }
}

#[async_trait]
impl ClusterState for FailJobsOnExecutorLoss {
    async fn init(&self) -> Result<()> {
        self.inner.init().await
    }

    async fn bind_schedulable_tasks(
        &self,
        distribution: TaskDistributionPolicy,
        active_jobs: Arc<HashMap<JobId, JobInfoCache>>,
        executors: Option<HashSet<String>>,
    ) -> Result<Vec<BoundTask>> {
        self.inner
            .bind_schedulable_tasks(distribution, active_jobs, executors)
            .await
    }

    async fn unbind_tasks(&self, executor_slots: Vec<ExecutorSlot>) -> Result<()> {
        self.inner.unbind_tasks(executor_slots).await
    }

    async fn register_executor(
        &self,
        metadata: ExecutorMetadata,
        spec: ExecutorData,
    ) -> Result<()> {
        self.inner.register_executor(metadata, spec).await
    }

    async fn save_executor_metadata(&self, metadata: ExecutorMetadata) -> Result<()> {
        self.inner.save_executor_metadata(metadata).await
    }

    async fn get_executor_metadata(&self, executor_id: &str) -> Result<ExecutorMetadata> {
        self.inner.get_executor_metadata(executor_id).await
    }

    async fn registered_executor_metadata(&self) -> Vec<ExecutorMetadata> {
        self.inner.registered_executor_metadata().await
    }

    async fn save_executor_heartbeat(&self, heartbeat: ExecutorHeartbeat) -> Result<()> {
        self.inner.save_executor_heartbeat(heartbeat).await
    }

    async fn remove_executor(&self, executor_id: &str) -> Result<()> {
        // Before the removal: the executor's address is still known, and Ballista posts the
        // `ExecutorLost` event that starts its recovery only after this returns.
        if let Some(scheduler) = self.scheduler.get() {
            self.fail_jobs_using(scheduler, executor_id).await;
        }
        self.inner.remove_executor(executor_id).await
    }

    fn executor_heartbeats(&self) -> HashMap<String, ExecutorHeartbeat> {
        self.inner.executor_heartbeats()
    }

    fn get_executor_heartbeat(&self, executor_id: &str) -> Option<ExecutorHeartbeat> {
        self.inner.get_executor_heartbeat(executor_id)
    }

    async fn cluster_state_events(&self) -> Result<ClusterStateEventStream> {
        self.inner.cluster_state_events().await
    }
}
