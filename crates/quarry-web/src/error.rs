//! Errors of the web front: startup errors for the command line, request errors as responses.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;

/// Why the server could not start or a request could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// A non-loopback address without a token.
    #[error(
        "refusing to listen on {0} without --token: only 127.0.0.1/::1 may be served without one"
    )]
    TokenRequired(SocketAddr),
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("the server stopped: {0}")]
    Serve(String),
    /// The workspace or its catalog could not be read.
    #[error("{0}")]
    Workspace(String),
    /// Nothing at this address (a rule id that is not in the catalog, a run that does not exist).
    #[error("{0}")]
    NotFound(String),
    /// The request asks for something impossible (bad parameter).
    #[error("{0}")]
    BadRequest(String),
    /// A page template failed to render (a defect).
    #[error("rendering failed: {0}")]
    Render(#[from] askama::Error),
}

impl WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Errors answer as JSON: `{"error": "..."}` with the status. Pages turn their own errors into
/// an HTML page (see `pages::page_error`).
impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.to_string() });
        (self.status(), axum::Json(body)).into_response()
    }
}

impl WebError {
    /// The HTTP status of this error, for pages.
    pub(crate) fn http_status(&self) -> StatusCode {
        self.status()
    }
}
