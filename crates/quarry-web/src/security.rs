//! Who may talk to the server and what browsers are told: loopback by default, a token for any
//! other address (bearer header or a cookie set by the login form), a Host check against DNS
//! rebinding, and the security headers on every response.

use crate::error::WebError;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Form, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use std::net::SocketAddr;

/// The cookie that carries the token after a login.
pub const TOKEN_COOKIE: &str = "quarry_token";

/// Scripts and styles only from this server (files, never inline), no framing, no plugins.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Refuses a non-loopback address without a token.
pub fn check_bind(address: SocketAddr, token: Option<&str>) -> Result<(), WebError> {
    let has_token = token.is_some_and(|t| !t.trim().is_empty());
    if address.ip().is_loopback() || has_token {
        Ok(())
    } else {
        Err(WebError::TokenRequired(address))
    }
}

/// Wraps `routes` in the authentication, Host check and header layers.
pub fn layers(routes: Router<AppState>, state: AppState) -> Router<AppState> {
    routes
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(middleware::from_fn_with_state(state, check_host))
        .layer(middleware::from_fn(headers))
}

async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    response
}

/// On a loopback server, only loopback host names: a page on another site cannot reach this
/// server through a DNS name that it re-points to 127.0.0.1.
async fn check_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let loopback = state.bound().is_some_and(|a| a.ip().is_loopback());
    if loopback {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let name = host
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(host, |(name, _)| name);
        let allowed = matches!(name, "localhost" | "127.0.0.1" | "[::1]" | "");
        if !allowed {
            return (StatusCode::MISDIRECTED_REQUEST, "unexpected Host header").into_response();
        }
    }
    next.run(request).await
}

/// Compares without an early exit, so the time taken does not tell how much of a guess matched.
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token a request carries: `Authorization: Bearer T`, else the login cookie.
fn presented(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == TOKEN_COOKIE)
        .map(|(_, value)| value.to_string())
}

async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(token) = state.token() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    // The login form and what it needs to look right are open.
    if path == "/login" || path.starts_with("/static/") {
        return next.run(request).await;
    }
    if presented(request.headers()).is_some_and(|p| same(&p, token)) {
        return next.run(request).await;
    }
    if path.starts_with("/api/") || request.method() != Method::GET {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            axum::Json(
                serde_json::json!({"error": "a token is required (Authorization: Bearer …)"}),
            ),
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"quarry\""),
        );
        return response;
    }
    Redirect::to("/login").into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    failed: bool,
    nav: &'static str,
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `/login`: a form that sets the token cookie.
pub fn login_routes() -> Router<AppState> {
    Router::new().route("/login", get(login_form).post(login))
}

async fn login_form() -> Result<Html<String>, WebError> {
    Ok(Html(
        LoginPage {
            failed: false,
            nav: "",
        }
        .render()?,
    ))
}

async fn login(
    State(state): State<AppState>,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let ok = state.token().is_some_and(|t| same(form.token.trim(), t));
    if !ok {
        let page = LoginPage {
            failed: true,
            nav: "",
        }
        .render()?;
        return Ok((StatusCode::UNAUTHORIZED, Html(page)).into_response());
    }
    let cookie = format!(
        "{TOKEN_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        form.token.trim()
    );
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_loopback_needs_a_token() {
        let lan: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let local6: SocketAddr = "[::1]:8080".parse().unwrap();
        assert!(check_bind(lan, None).is_err());
        assert!(check_bind(lan, Some("  ")).is_err());
        assert!(check_bind(lan, Some("s3cret")).is_ok());
        assert!(check_bind(local, None).is_ok());
        assert!(check_bind(local6, None).is_ok());
    }

    #[test]
    fn tokens_come_from_bearer_or_cookie() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; quarry_token=t1"),
        );
        assert_eq!(presented(&h).as_deref(), Some("t1"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t2"));
        assert_eq!(presented(&h).as_deref(), Some("t2"));
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
    }
}
