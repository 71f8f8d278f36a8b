//! The query page (`/query`): free-form KQL over the workspace, with the same result table,
//! charts and error highlighting as a rule's Run panel.

use crate::error::WebError;
use crate::pages::render_page;
use crate::pages::rule_run::{download, Download};
use crate::runner::{run_text, RunResult};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use quarry_engine::values::parse_datetime;
use serde::Deserialize;

/// A query to run.
#[derive(Debug, Default, Deserialize)]
pub struct QueryRequest {
    /// KQL text.
    #[serde(default, alias = "q")]
    pub query: String,
    /// `now()` for the query (RFC 3339); the wall clock when absent.
    #[serde(default)]
    pub now: Option<String>,
}

fn now_of(request: &QueryRequest) -> Result<Option<i64>, WebError> {
    match request
        .now
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => Ok(None),
        Some(text) => parse_datetime(text)
            .map(Some)
            .ok_or_else(|| WebError::BadRequest(format!("now: `{text}` is not a date and time"))),
    }
}

#[derive(Template)]
#[template(path = "query.html")]
struct QueryPage {
    nav: &'static str,
    query: String,
    tables: Vec<String>,
}

/// `GET /query?q=…` (the text is put in the editor, not run).
pub async fn page(State(state): State<AppState>, Query(request): Query<QueryRequest>) -> Response {
    render_page(state.snapshot().map(|snapshot| QueryPage {
        nav: "query",
        query: if request.query.is_empty() {
            snapshot
                .tables
                .iter()
                .next()
                .map_or_else(String::new, |t| format!("{t}\n| take 100"))
        } else {
            request.query
        },
        tables: snapshot.tables.iter().cloned().collect(),
    }))
}

/// `POST /api/query` with `{"query": "…", "now": "…"}`.
pub async fn run(
    State(state): State<AppState>,
    Json(request): Json<QueryRequest>,
) -> Result<Json<RunResult>, WebError> {
    let now = now_of(&request)?;
    let snapshot = state.snapshot()?;
    Ok(Json(run_text(&state, &snapshot, &request.query, now).await))
}

/// `GET /api/query/results.csv?q=…&now=…`.
pub async fn download_csv(
    State(state): State<AppState>,
    Query(request): Query<QueryRequest>,
) -> Result<Response, WebError> {
    let now = now_of(&request)?;
    download(&state, &request.query, now, Download::Csv, "quarry-query").await
}

/// `GET /api/query/results.json?q=…&now=…`.
pub async fn download_json(
    State(state): State<AppState>,
    Query(request): Query<QueryRequest>,
) -> Result<Response, WebError> {
    let now = now_of(&request)?;
    download(&state, &request.query, now, Download::Json, "quarry-query").await
}
