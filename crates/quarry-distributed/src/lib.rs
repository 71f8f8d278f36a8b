//! `quarry-distributed`: Quarry's KQL on an Apache DataFusion Ballista cluster.
//!
//! The same logical plans the local engine runs are sent to a Ballista scheduler, which splits
//! them into stages for its executors. Three things make that work for Quarry:
//!
//! - the scheduler and executors are Quarry's own ([`run_scheduler`], [`run_executor`]), with
//!   codecs ([`codec`]) that carry Quarry's functions, workspace tables and in-memory tables;
//! - Quarry's functions are planned per call site, so each travels with the query that
//!   created it and a node recreates it by planning that query ([`recipe`]);
//! - the workspace's Parquet files are read by the executors at the same path as the client's
//!   (a shared mount), so every node must see the workspace folder at one absolute path.
//!
//! A client connects with `Cluster::connect` and gets query sessions from `Cluster::session`;
//! these are ordinary [`quarry_engine::Session`]s whose plans run remotely.
//!
//! Everything but the error type is behind the cargo feature `cluster`, so that the
//! workspace's default build does not compile Ballista.

#[cfg(feature = "cluster")]
pub mod client;
#[cfg(feature = "cluster")]
pub mod codec;
#[cfg(feature = "cluster")]
pub mod loss;
pub mod recipe;
#[cfg(feature = "cluster")]
pub mod server;

#[cfg(feature = "cluster")]
pub use client::{parse_address, Cluster};
#[cfg(feature = "cluster")]
pub use server::{run_executor, run_scheduler, ExecutorOptions, SchedulerOptions};

use thiserror::Error;

/// What can go wrong starting or reaching a cluster.
#[derive(Debug, Error)]
pub enum ClusterError {
    /// The address is not `HOST:PORT`.
    #[error("invalid cluster address `{0}`: expected HOST:PORT, e.g. 127.0.0.1:50050")]
    Address(String),
    /// Nothing answers at the scheduler's address.
    #[error("the cluster scheduler at {address} is unreachable: {reason}")]
    Unreachable {
        /// The address tried.
        address: String,
        /// Why the connection failed.
        reason: String,
    },
    /// The client context could not be set up.
    #[error("cannot connect to the cluster scheduler at {address}: {reason}")]
    Connect {
        /// The scheduler's address.
        address: String,
        /// What failed.
        reason: String,
    },
    /// The scheduler stopped with an error.
    #[error("the scheduler failed: {0}")]
    Scheduler(String),
    /// The executor stopped with an error.
    #[error("the executor failed: {0}")]
    Executor(String),
}
