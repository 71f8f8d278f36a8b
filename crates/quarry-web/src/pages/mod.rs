//! The pages and their JSON API, one module per area.

pub mod coverage;
pub mod data;
pub mod feed;
pub mod hunts;
pub mod query;
pub mod rule;
pub mod rule_run;

use crate::error::WebError;
use crate::state::AppState;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

/// Every page and API route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(feed::page))
        .route("/api/rules", get(feed::api))
        .route("/api/rules/search", get(feed::search_api))
        .route("/rules/{id}", get(rule::page))
        .route("/api/rules/{id}", get(rule::api))
        .route("/api/rules/{id}/run", post(rule_run::run))
        .route("/api/rules/{id}/results.csv", get(rule_run::download_csv))
        .route("/api/rules/{id}/results.json", get(rule_run::download_json))
        .route("/coverage", get(coverage::page))
        .route("/api/coverage", get(coverage::api))
        .route("/api/coverage/navigator", get(coverage::navigator))
        .route("/api/data-sources", get(coverage::data_sources_api))
        .route("/hunts", get(hunts::page))
        .route("/hunts/{run}", get(hunts::run_page))
        .route("/api/hunts", get(hunts::api))
        .route("/api/hunts/{run}", get(hunts::run_api))
        .route("/data", get(data::page))
        .route("/api/tables", get(data::api))
        .route("/query", get(query::page))
        .route("/api/query", post(query::run))
        .route("/api/query/results.csv", get(query::download_csv))
        .route("/api/query/results.json", get(query::download_json))
        .fallback(not_found)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: &'static str,
    status: u16,
    message: String,
}

/// A page's error as an HTML page with the status.
pub fn page_error(error: WebError) -> Response {
    let status = error.http_status();
    let page = ErrorPage {
        nav: "",
        status: status.as_u16(),
        message: error.to_string(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, error.to_string()).into_response(),
    }
}

/// Renders a page template, or the error page.
pub fn render_page(result: Result<impl Template, WebError>) -> Response {
    match result.and_then(|page| page.render().map_err(WebError::from)) {
        Ok(html) => Html(html).into_response(),
        Err(error) => page_error(error),
    }
}

async fn not_found(uri: axum::http::Uri) -> Response {
    let error = WebError::NotFound(format!("nothing at {}", uri.path()));
    if uri.path().starts_with("/api/") {
        error.into_response()
    } else {
        page_error(error)
    }
}
