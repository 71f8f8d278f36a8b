//! Hunts (`/hunts`): past hunt runs and, per run, each rule's outcome and the findings it saw.

use crate::error::WebError;
use crate::pages::render_page;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use quarry_hunt::findings::{StoredFinding, StoredResult, StoredRun};
use serde::Serialize;
use std::collections::BTreeMap;

/// Findings listed on a run's page.
const FINDINGS_SHOWN: usize = 200;

fn runs(state: &AppState) -> Result<Vec<StoredRun>, WebError> {
    state
        .findings()?
        .runs()
        .map_err(|e| WebError::Workspace(e.to_string()))
}

#[derive(Template)]
#[template(path = "hunts.html")]
struct HuntsPage {
    nav: &'static str,
    runs: Vec<StoredRun>,
}

/// `GET /hunts`.
pub async fn page(State(state): State<AppState>) -> Response {
    render_page(runs(&state).map(|runs| HuntsPage { nav: "hunts", runs }))
}

/// `GET /api/hunts`.
pub async fn api(State(state): State<AppState>) -> Result<Json<Vec<StoredRun>>, WebError> {
    runs(&state).map(Json)
}

/// One run with its results and findings.
#[derive(Debug, Serialize)]
pub struct RunDetail {
    /// The run.
    pub run: StoredRun,
    /// Each rule's outcome, with the rule's name when the catalog still has it.
    pub results: Vec<ResultRow>,
    /// Findings the run saw.
    pub findings: Vec<StoredFinding>,
}

/// A rule's outcome in a run.
#[derive(Debug, Serialize)]
pub struct ResultRow {
    /// The stored outcome.
    #[serde(flatten)]
    pub result: StoredResult,
    /// The rule's name.
    pub name: String,
}

fn detail(state: &AppState, run_id: i64) -> Result<RunDetail, WebError> {
    let store = state.findings()?;
    let error = |e: quarry_hunt::findings::FindingsError| WebError::Workspace(e.to_string());
    let run = store
        .runs()
        .map_err(error)?
        .into_iter()
        .find(|r| r.id == run_id)
        .ok_or_else(|| WebError::NotFound(format!("no hunt run {run_id}")))?;
    let snapshot = state.snapshot()?;
    let names: BTreeMap<&str, &str> = snapshot
        .rules
        .iter()
        .map(|r| (r.path.as_str(), r.name.as_str()))
        .collect();
    let results = store
        .results_of_run(run_id)
        .map_err(error)?
        .into_iter()
        .map(|result| ResultRow {
            name: names
                .get(result.rule_path.as_str())
                .map_or_else(|| result.rule_path.clone(), |n| n.to_string()),
            result,
        })
        .collect();
    let findings = store.findings_of_run(run_id).map_err(error)?;
    Ok(RunDetail {
        run,
        results,
        findings,
    })
}

#[derive(Template)]
#[template(path = "hunt_run.html")]
struct RunPage {
    nav: &'static str,
    d: RunDetail,
    shown: Vec<StoredFinding>,
}

impl RunPage {
    /// A finding's row as one line of text.
    fn row_text(&self, finding: &StoredFinding) -> String {
        let text = finding.row.to_string();
        if text.chars().count() > 240 {
            let cut: String = text.chars().take(239).collect();
            format!("{cut}…")
        } else {
            text
        }
    }
}

/// `GET /hunts/{run}`.
pub async fn run_page(State(state): State<AppState>, Path(run): Path<i64>) -> Response {
    render_page(detail(&state, run).map(|d| RunPage {
        nav: "hunts",
        shown: d.findings.iter().take(FINDINGS_SHOWN).cloned().collect(),
        d,
    }))
}

/// `GET /api/hunts/{run}`.
pub async fn run_api(
    State(state): State<AppState>,
    Path(run): Path<i64>,
) -> Result<Json<RunDetail>, WebError> {
    detail(&state, run).map(Json)
}
