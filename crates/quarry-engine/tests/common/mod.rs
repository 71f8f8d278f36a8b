//! Helpers shared by the engine's integration tests: run a query, get its rows as JSON.

#![allow(dead_code)]

use quarry_engine::format::json_rows;
use quarry_engine::{Session, SessionConfig};
use serde_json::Value;

/// A session with several partitions, so that tests see DataFusion's parallel plans.
pub fn session() -> Session {
    Session::new(SessionConfig {
        target_partitions: Some(4),
        ..SessionConfig::default()
    })
    .expect("a session")
}

/// The result rows, in the order the query gives them.
pub fn rows(query: &str) -> Vec<Vec<Value>> {
    let output = session()
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    json_rows(&output)
}
