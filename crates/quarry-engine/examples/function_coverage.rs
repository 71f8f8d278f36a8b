//! The KQL function coverage table: Kusto's catalogue against what the engine implements.
//!
//! ```text
//! cargo run -p quarry-engine --example function_coverage              # the table, to stdout
//! cargo run -p quarry-engine --example function_coverage -- --write   # rewrite docs/kql-functions.md
//! cargo run -p quarry-engine --example function_coverage -- --missing [scalar|aggregate|plugin|tabular]
//! ```

use quarry_engine::coverage::{self, FunctionKind};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => {
            print!("{}", coverage::render_markdown());
            ExitCode::SUCCESS
        }
        ["--write"] => {
            let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../..")
                .join(coverage::MARKDOWN_PATH);
            match std::fs::write(&path, coverage::render_markdown()) {
                Ok(()) => {
                    eprintln!("wrote {}", coverage::MARKDOWN_PATH);
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("cannot write {}: {error}", path.display());
                    ExitCode::FAILURE
                }
            }
        }
        ["--missing", rest @ ..] => {
            let kinds: Vec<FunctionKind> = match rest {
                [] => FunctionKind::ALL.to_vec(),
                [kind] => match FunctionKind::parse(kind) {
                    Some(kind) => vec![kind],
                    None => return usage(),
                },
                _ => return usage(),
            };
            for kind in kinds {
                for name in coverage::missing_names(kind) {
                    println!("{kind}\t{name}");
                }
            }
            ExitCode::SUCCESS
        }
        _ => usage(),
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: function_coverage [--write | --missing [scalar|aggregate|plugin|tabular]]");
    ExitCode::from(2)
}
