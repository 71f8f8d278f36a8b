//! Data (`/data`): the workspace's tables with row counts, time ranges and sizes.

use crate::error::WebError;
use crate::pages::render_page;
use crate::state::AppState;
use crate::views::{table_info, TableInfo};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::Json;

fn tables(state: &AppState) -> Result<Vec<TableInfo>, WebError> {
    let snapshot = state.snapshot()?;
    Ok(snapshot
        .workspace
        .as_ref()
        .map(|w| {
            w.manifest()
                .tables
                .iter()
                .map(|(name, entry)| table_info(name, entry))
                .collect()
        })
        .unwrap_or_default())
}

#[derive(Template)]
#[template(path = "data.html")]
struct DataPage {
    nav: &'static str,
    tables: Vec<TableInfo>,
    rows: u64,
    root: String,
}

/// `GET /data`.
pub async fn page(State(state): State<AppState>) -> Response {
    render_page(tables(&state).map(|tables| DataPage {
        nav: "data",
        rows: tables.iter().map(|t| t.rows).sum(),
        root: state.root().display().to_string(),
        tables,
    }))
}

/// `GET /api/tables`.
pub async fn api(State(state): State<AppState>) -> Result<Json<Vec<TableInfo>>, WebError> {
    tables(&state).map(Json)
}
