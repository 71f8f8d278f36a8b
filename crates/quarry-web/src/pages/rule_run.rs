//! The Run button of a rule page: `POST /api/rules/{id}/run` runs the rule with the form's
//! parameter values, and `GET /api/rules/{id}/results.csv|json?NAME=VALUE…` downloads the result.

use crate::error::WebError;
use crate::pages::rule::find_rule;
use crate::runner::{prepare_rule, run_raw, run_rule, RunResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The body of a run request.
#[derive(Debug, Default, Deserialize)]
pub struct RunRequest {
    /// Parameter name (or placeholder text) → value.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// `POST /api/rules/{id}/run`.
pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(request): Json<RunRequest>,
) -> Result<Json<RunResult>, WebError> {
    let snapshot = state.snapshot()?;
    let record = find_rule(&state, &id)?;
    Ok(Json(
        run_rule(&state, &snapshot, &record, &request.params).await,
    ))
}

/// The result file of a download.
pub enum Download {
    /// Comma-separated values with a header row.
    Csv,
    /// `{"columns": […], "rows": […]}`.
    Json,
}

/// Runs `text` (pinned at `now`) and answers with the result as a file named `name`.
pub async fn download(
    state: &AppState,
    text: &str,
    now: Option<i64>,
    format: Download,
    name: &str,
) -> Result<Response, WebError> {
    let snapshot = state.snapshot()?;
    let output = run_raw(state, &snapshot, text, now)
        .await
        .map_err(|e| WebError::BadRequest(e.to_string()))?;
    let mut body = Vec::new();
    let (written, mime, extension) = match format {
        Download::Csv => (
            quarry_engine::format::write_csv(&output, &mut body),
            "text/csv; charset=utf-8",
            "csv",
        ),
        Download::Json => (
            quarry_engine::format::write_json(&output, &mut body),
            "application/json",
            "json",
        ),
    };
    written.map_err(|e| WebError::Workspace(e.to_string()))?;
    // Only safe characters in the file name: it goes into a header.
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}

async fn rule_download(
    state: AppState,
    id: String,
    params: BTreeMap<String, String>,
    format: Download,
) -> Result<Response, WebError> {
    let snapshot = state.snapshot()?;
    let record = find_rule(&state, &id)?;
    let prepared = prepare_rule(&record, &snapshot, &params)
        .map_err(|reason| WebError::BadRequest(format!("the rule cannot run: {reason}")))?;
    download(
        &state,
        &prepared.query,
        Some(prepared.window.now),
        format,
        &format!("quarry-{}", record.rule.name),
    )
    .await
}

/// `GET /api/rules/{id}/results.csv`.
pub async fn download_csv(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    rule_download(state, id, params, Download::Csv).await
}

/// `GET /api/rules/{id}/results.json`.
pub async fn download_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response, WebError> {
    rule_download(state, id, params, Download::Json).await
}
