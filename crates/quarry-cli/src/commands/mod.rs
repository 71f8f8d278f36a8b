//! The subcommands: each takes its parsed arguments, does its work and says how it went.

/// Appends a line to a `String` of output (written to stdout in one go, so that a closed pipe is
/// an error the command returns rather than a panic).
macro_rules! say {
    ($out:expr) => {
        $out.push('\n')
    };
    ($out:expr, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

/// Writes collected output to stdout.
pub(crate) fn emit(text: &str) -> Result<(), CommandError> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

pub mod check;
#[cfg(feature = "distributed")]
pub mod cluster;
pub mod conformance;
pub mod coverage;
pub mod demo;
pub mod hunt;
pub mod ingest;
pub mod query;
pub mod rules;
pub mod rules_show;
pub mod serve;
pub mod table_files;
pub mod tables;

use crate::cli::Command;

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was fine (exit code 0).
    Ok,
    /// The command ran but found problems, e.g. queries with errors (exit code 1).
    Findings,
}

/// Why a command could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The command line asked for something impossible, e.g. a PATH that does not exist (exit 2).
    #[error("{0}")]
    Usage(String),
    /// Writing the results failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The command could not do its work for a reason outside the input (exit 1).
    #[error("{0}")]
    Failed(String),
}

/// Runs one subcommand.
pub fn run(command: Command) -> Result<Outcome, CommandError> {
    match command {
        Command::Check(args) => check::run(&args),
        Command::Query(args) => query::run(&args),
        Command::Conformance(args) => conformance::run(&args),
        Command::Ingest(args) => ingest::run(&args),
        Command::Tables(args) => tables::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Rules(args) => rules::run(args),
        Command::Coverage(args) => coverage::run(&args),
        Command::Hunt(args) => hunt::run(&args),
        Command::Serve(args) => serve::run(&args),
        #[cfg(feature = "distributed")]
        Command::Scheduler(args) => cluster::scheduler(&args),
        #[cfg(feature = "distributed")]
        Command::Executor(args) => cluster::executor(&args),
    }
}

/// A tokio runtime for the commands that run queries.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, CommandError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CommandError::Failed(format!("cannot start the query runtime: {e}")))
}
