//! Static assets embedded in the binary (hand-written CSS and scripts, no build step) and the
//! OpenAPI document of the JSON API.

use crate::state::AppState;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// (file name, content type, content).
const FILES: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/app.js"),
    ),
    (
        "results.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/results.js"),
    ),
    (
        "rule.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/rule.js"),
    ),
    (
        "query.js",
        "text/javascript; charset=utf-8",
        include_str!("../static/query.js"),
    ),
];

/// The OpenAPI 3.1 document of the API.
pub const OPENAPI: &str = include_str!("../static/openapi.json");

/// `/static/{file}` and `/api/openapi.json`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/{file}", get(asset))
        .route("/api/openapi.json", get(openapi))
}

async fn asset(Path(file): Path<String>) -> Response {
    match FILES.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => (
            [
                (header::CONTENT_TYPE, *mime),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}
