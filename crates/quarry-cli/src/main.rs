//! `quarry`: the command line of the Quarry threat-hunting workbench.
//!
//! This file only parses the arguments, runs the command and turns the outcome into an exit code:
//! 0 ok, 1 findings or failures, 2 usage error.

mod cli;
mod commands;
mod render;

use clap::Parser;
use std::process::ExitCode;

// Ingest and queries allocate many short-lived values on one thread and free them on another;
// mimalloc handles that far better than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // clap prints its own usage errors and exits with code 2.
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(commands::Outcome::Ok) => ExitCode::SUCCESS,
        Ok(commands::Outcome::Findings) => ExitCode::from(1),
        Err(commands::CommandError::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(commands::CommandError::Output(error))
            if error.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            // The reader went away (`quarry check … | head`): nothing more to say.
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}
