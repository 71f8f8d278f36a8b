//! Coverage (`/coverage`): the ATT&CK matrix of the catalog coloured by rules, rules runnable
//! here, or rules that fired; the Navigator layer; and the data sources the catalog needs versus
//! the tables the workspace has.

use crate::error::WebError;
use crate::pages::render_page;
use crate::state::{AppState, Snapshot};
use crate::views::query_string;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use quarry_rules::coverage::{coverage, navigator_layer, Coverage, CoverageCell};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the matrix is coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ColourBy {
    /// Number of rules.
    #[default]
    Rules,
    /// Rules runnable on this workspace.
    Runnable,
    /// Rules with findings.
    Fired,
}

impl ColourBy {
    fn value(self, cell: &CoverageCell) -> usize {
        match self {
            ColourBy::Rules => cell.rules,
            ColourBy::Runnable => cell.runnable,
            ColourBy::Fired => cell.fired,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ColourBy::Rules => "rules",
            ColourBy::Runnable => "runnable",
            ColourBy::Fired => "fired",
        }
    }
}

/// Query of the coverage page and API.
#[derive(Debug, Default, Deserialize)]
pub struct CoverageParams {
    /// Colouring.
    #[serde(default)]
    by: ColourBy,
}

/// The matrix of the whole catalog on this workspace.
fn matrix(snapshot: &Snapshot) -> Coverage {
    coverage(
        &snapshot.rules,
        Some(&snapshot.tables),
        &snapshot.fired_ids(),
    )
}

/// A cell as drawn.
pub struct CellView {
    /// Technique id.
    pub technique: String,
    /// Its name.
    pub name: String,
    /// Rules, runnable, fired.
    pub rules: usize,
    /// Runnable here.
    pub runnable: usize,
    /// Fired.
    pub fired: usize,
    /// Heat level 0–5 for the colouring.
    pub heat: usize,
    /// The filtered feed.
    pub href: String,
}

/// A tactic column as drawn.
pub struct ColumnView {
    /// Tactic name.
    pub name: String,
    /// Tactic id.
    pub id: String,
    /// Techniques covered / in the tactic.
    pub covered: usize,
    /// Techniques of the tactic.
    pub techniques: usize,
    /// The cells.
    pub cells: Vec<CellView>,
}

/// A table the catalog needs or the workspace has.
#[derive(Debug, Clone, Serialize)]
pub struct DataSourceRow {
    /// The table.
    pub table: String,
    /// Rules that read it.
    pub rules: usize,
    /// Whether the workspace has it.
    pub in_workspace: bool,
    /// Rows in the workspace.
    pub rows: u64,
}

/// Tables the catalog's rules read, most needed first, then workspace tables no rule reads.
pub fn data_sources(snapshot: &Snapshot) -> Vec<DataSourceRow> {
    let mut needed: BTreeMap<&str, usize> = BTreeMap::new();
    for rule in &snapshot.rules {
        for table in &rule.tables {
            *needed.entry(table.as_str()).or_default() += 1;
        }
    }
    let rows_of = |table: &str| {
        snapshot
            .workspace
            .as_ref()
            .and_then(|w| w.manifest().tables.get(table))
            .map_or(0, |e| e.rows())
    };
    let mut out: Vec<DataSourceRow> = needed
        .iter()
        .map(|(table, rules)| DataSourceRow {
            table: table.to_string(),
            rules: *rules,
            in_workspace: snapshot.tables.contains(*table),
            rows: rows_of(table),
        })
        .collect();
    out.sort_by(|a, b| b.rules.cmp(&a.rules).then(a.table.cmp(&b.table)));
    for table in &snapshot.tables {
        if !needed.contains_key(table.as_str()) {
            out.push(DataSourceRow {
                table: table.clone(),
                rules: 0,
                in_workspace: true,
                rows: rows_of(table),
            });
        }
    }
    out
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    nav: &'static str,
    by: &'static str,
    m: Coverage,
    columns: Vec<ColumnView>,
    sources: Vec<DataSourceRow>,
    needed_present: usize,
    needed: usize,
}

fn page_of(state: &AppState, by: ColourBy) -> Result<CoveragePage, WebError> {
    let snapshot = state.snapshot()?;
    let m = matrix(&snapshot);
    let max = m
        .columns
        .iter()
        .flat_map(|c| c.covered.iter().map(|cell| by.value(cell)))
        .max()
        .unwrap_or(0)
        .max(1);
    let columns = m
        .columns
        .iter()
        .map(|column| ColumnView {
            name: column.name.clone(),
            id: column.tactic_id.clone(),
            covered: column.covered.len(),
            techniques: column.techniques,
            cells: column
                .covered
                .iter()
                .map(|cell| {
                    let value = by.value(cell);
                    let extra = match by {
                        ColourBy::Rules => ("", ""),
                        ColourBy::Runnable => ("runnable", "yes"),
                        ColourBy::Fired => ("findings", "yes"),
                    };
                    CellView {
                        technique: cell.technique.clone(),
                        name: cell.name.clone(),
                        rules: cell.rules,
                        runnable: cell.runnable,
                        fired: cell.fired,
                        heat: if value == 0 {
                            0
                        } else {
                            1 + (value * 4).div_ceil(max).min(4)
                        },
                        href: format!(
                            "/{}",
                            query_string([
                                ("technique", cell.technique.as_str()),
                                ("tactic", column.shortname.as_str()),
                                extra
                            ])
                        ),
                    }
                })
                .collect(),
        })
        .collect();
    let sources = data_sources(&snapshot);
    let needed = sources.iter().filter(|s| s.rules > 0).count();
    let needed_present = sources
        .iter()
        .filter(|s| s.rules > 0 && s.in_workspace)
        .count();
    Ok(CoveragePage {
        nav: "coverage",
        by: by.as_str(),
        m,
        columns,
        sources,
        needed_present,
        needed,
    })
}

/// `GET /coverage?by=rules|runnable|fired`.
pub async fn page(State(state): State<AppState>, Query(params): Query<CoverageParams>) -> Response {
    render_page(page_of(&state, params.by))
}

/// `GET /api/coverage`: the matrix as JSON.
pub async fn api(State(state): State<AppState>) -> Result<Json<Coverage>, WebError> {
    Ok(Json(matrix(&*state.snapshot()?)))
}

/// `GET /api/coverage/navigator`: an ATT&CK Navigator layer (4.5) to download.
pub async fn navigator(State(state): State<AppState>) -> Result<Response, WebError> {
    let layer = navigator_layer(&matrix(&*state.snapshot()?), "Quarry rule coverage");
    let body = serde_json::to_vec_pretty(&layer).map_err(|e| WebError::Workspace(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"quarry-coverage-layer.json\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /api/data-sources`: tables needed versus present.
pub async fn data_sources_api(
    State(state): State<AppState>,
) -> Result<Json<Vec<DataSourceRow>>, WebError> {
    Ok(Json(data_sources(&*state.snapshot()?)))
}
