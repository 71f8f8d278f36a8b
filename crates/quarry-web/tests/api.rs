//! The JSON API and the pages without a browser: the router called in process. Covers the
//! injection test (rule text with markup and scripts is shown escaped), authentication, the
//! security headers, runs with errors located in the query, and downloads.

mod common;

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::{build_workspace, HOSTILE_ID, SEED_ID};
use quarry_web::{router, AppState, RunLimits};
use serde_json::Value;
use std::sync::OnceLock;
use tower::ServiceExt;

struct Fixture {
    _dir: tempfile::TempDir,
    workspace: std::path::PathBuf,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        // The demo starts its own runtime: build it off the test's.
        let root = dir.path().to_path_buf();
        let workspace = std::thread::spawn(move || build_workspace(&root))
            .join()
            .unwrap();
        Fixture {
            _dir: dir,
            workspace,
        }
    })
}

fn app(token: Option<&str>) -> Router {
    let state = AppState::open(
        &fixture().workspace,
        token.map(str::to_string),
        RunLimits::default(),
        Some("127.0.0.1:8080".parse().unwrap()),
    )
    .unwrap();
    router(state)
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), 64 << 20).await.unwrap();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, "127.0.0.1:8080")
        .body(Body::empty())
        .unwrap()
}

fn post_json(path: &str, body: Value) -> Request<Body> {
    Request::post(path)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn hostile_rule_text_is_escaped_everywhere() {
    let app = app(None);
    let pages = [
        format!("/rules/{HOSTILE_ID}"),
        "/?q=Hostile".to_string(),
        "/".to_string(),
        "/?tag=%3Csvg%20onload%3Dwindow.__pwned%3D4%3E".to_string(),
    ];
    for page in &pages {
        let (status, _, body) = send(&app, get(page)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(
            body.contains("Hostile &#60;script&#62;"),
            "{page}: the name is not shown escaped"
        );
        for raw in [
            "<script>window",
            "<img src=x",
            "<svg onload",
            "<b>bold",
            "href=\"javascript:",
        ] {
            assert!(
                !body.contains(raw),
                "{page}: `{raw}` reached the page unescaped"
            );
        }
        // The only scripts are the server's own files.
        let scripts = body.matches("<script").count();
        let own = body.matches("<script src=\"/static/").count();
        assert_eq!(scripts, own, "{page}");
    }
    let (_, _, body) = send(&app, get(&format!("/rules/{HOSTILE_ID}"))).await;
    assert!(body.contains("&#60;b&#62;bold&#60;/b&#62;"));
    // The query, highlighted, is escaped too.
    assert!(body.contains("&lt;script&gt;window.__pwned=5&lt;/script&gt;"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = app(None);
    for path in ["/", "/api/rules", "/static/app.js", "/nope"] {
        let (_, headers, _) = send(&app, get(path)).await;
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
    }
    // A foreign Host (DNS rebinding) is refused on a loopback server.
    let request = Request::get("/api/rules")
        .header(header::HOST, "evil.example:8080")
        .body(Body::empty())
        .unwrap();
    let (status, _, _) = send(&app, request).await;
    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test]
async fn a_token_is_required_by_bearer_or_cookie() {
    let app = app(Some("s3cret"));
    let (status, _, _) = send(&app, get("/api/rules")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, headers, _) = send(&app, get("/")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login");
    let bearer = Request::get("/api/rules")
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, "Bearer s3cret")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, bearer).await.0, StatusCode::OK);
    let wrong = Request::get("/api/rules")
        .header(header::HOST, "localhost")
        .header(header::AUTHORIZATION, "Bearer s3cre")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, wrong).await.0, StatusCode::UNAUTHORIZED);
    // The login form sets the cookie, and the cookie opens the pages.
    let login = Request::post("/login")
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("token=s3cret"))
        .unwrap();
    let (status, headers, _) = send(&app, login).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.starts_with("quarry_token=s3cret;") && cookie.contains("HttpOnly"));
    let with_cookie = Request::get("/")
        .header(header::HOST, "localhost")
        .header(header::COOKIE, "quarry_token=s3cret")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, with_cookie).await.0, StatusCode::OK);
    let bad_login = Request::post("/login")
        .header(header::HOST, "localhost")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("token=nope"))
        .unwrap();
    assert_eq!(send(&app, bad_login).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn binding_beyond_loopback_needs_a_token() {
    let config = quarry_web::ServeConfig {
        workspace: fixture().workspace.clone(),
        bind: "0.0.0.0:0".parse().unwrap(),
        token: None,
        limits: RunLimits::default(),
        sessions: quarry_web::local_sessions(),
    };
    let error = quarry_web::bind(&config).await.unwrap_err();
    assert!(error.to_string().contains("--token"), "{error}");
}

#[tokio::test]
async fn the_feed_filters_searches_and_pages() {
    let app = app(None);
    let (status, _, body) = send(&app, get("/api/rules?table=DeviceFileEvents")).await;
    assert_eq!(status, StatusCode::OK);
    let feed: Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = feed["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&SEED_ID), "{ids:?}");
    assert!(feed["rules"].as_array().unwrap().iter().all(|r| r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "DeviceFileEvents")));
    let (_, _, body) = send(&app, get("/api/rules?per_page=2&page=2")).await;
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["page"], 2);
    assert_eq!(page["rules"].as_array().unwrap().len(), 2);
    let (_, _, body) = send(&app, get("/api/rules/search?q=footprint")).await;
    let hits: Value = serde_json::from_str(&body).unwrap();
    assert!(hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["summary"]["id"] == SEED_ID));
    let (_, _, body) = send(&app, get("/api/rules?params=yes&runnable=yes")).await;
    let runnable: Value = serde_json::from_str(&body).unwrap();
    assert!(runnable["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["runnable"] == true && r["parameters"].as_u64().unwrap() > 0));
    let (_, _, body) = send(&app, get("/api/rules?findings=yes")).await;
    let fired: Value = serde_json::from_str(&body).unwrap();
    assert!(
        fired["total"].as_u64().unwrap() > 0,
        "the demo hunt left findings"
    );
    // The page keeps the filter in its links.
    let (_, _, html) = send(&app, get("/?kind=hunting&per_page=1")).await;
    assert!(
        html.contains("href=\"/?kind=hunting&#38;per_page=1&#38;page=2\""),
        "pager links keep the filter"
    );
    assert_eq!(
        send(&app, get("/api/rules?kind=bogus")).await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn the_seed_rule_runs_with_its_parameters() {
    let app = app(None);
    let (status, _, page) = send(&app, get(&format!("/rules/{SEED_ID}"))).await;
    assert_eq!(status, StatusCode::OK);
    for section in [
        "id=\"provenance\"",
        "id=\"confidence\"",
        "id=\"hypothesis\"",
        "id=\"contradictions\"",
        "id=\"data-sources\"",
        "id=\"raw-yaml\"",
        "data-param=\"url\"",
        "mark class=\"param\"",
    ] {
        assert!(page.contains(section), "the rule page lacks {section}");
    }
    let path = format!("/api/rules/{SEED_ID}/run");
    let (_, _, body) = send(&app, post_json(&path, serde_json::json!({"params": {}}))).await;
    let skipped: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(skipped["status"], "skipped");
    assert!(skipped["message"]
        .as_str()
        .unwrap()
        .contains("missing parameter"));
    let params = serde_json::json!({"params": {"url": "github.com", "ip_address": "203.0.113.77"}});
    let (_, _, body) = send(&app, post_json(&path, params)).await;
    let result: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(result["status"], "ok", "{body}");
    assert!(!result["rows"].as_array().unwrap().is_empty());
    assert!(result["columns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "Timestamp"));
    let (status, headers, csv) = send(
        &app,
        get(&format!(
            "/api/rules/{SEED_ID}/results.csv?url=github.com&ip_address=203.0.113.77"
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("attachment"));
    assert!(csv.starts_with("DeviceName,Timestamp"), "{csv}");
    let (_, _, json) = send(
        &app,
        get(&format!(
            "/api/rules/{SEED_ID}/results.json?url=github.com&ip_address=203.0.113.77"
        )),
    )
    .await;
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["rows"].as_array().unwrap().len(),
        result["rows"].as_array().unwrap().len()
    );
    assert_eq!(
        send(&app, get("/rules/no-such-rule")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn query_errors_point_into_the_query() {
    let app = app(None);
    let (_, _, body) = send(
        &app,
        post_json(
            "/api/query",
            serde_json::json!({"query": "DeviceFileEvents | where Bogus == 1"}),
        ),
    )
    .await;
    let result: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(result["status"], "error");
    let error = &result["errors"][0];
    assert_eq!(
        (error["start"].as_u64(), error["end"].as_u64()),
        (Some(25), Some(30))
    );
    let (_, _, body) = send(&app, post_json("/api/query", serde_json::json!({"query": "DeviceProcessEvents | summarize n = count() by bin(Timestamp, 1h) | render timechart"}))).await;
    let result: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(result["status"], "ok");
    assert_eq!(result["render"]["chart"], "timechart");
    let (_, _, body) = send(
        &app,
        post_json(
            "/api/query",
            serde_json::json!({"query": "print x = 1", "now": "yesterday"}),
        ),
    )
    .await;
    assert!(body.contains("not a date"), "{body}");
}

#[tokio::test]
async fn coverage_hunts_data_and_openapi_answer() {
    let app = app(None);
    for page in [
        "/coverage",
        "/coverage?by=runnable",
        "/coverage?by=fired",
        "/hunts",
        "/hunts/1",
        "/data",
        "/query",
    ] {
        let (status, _, _) = send(&app, get(page)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    let (_, _, body) = send(&app, get("/api/coverage")).await;
    let coverage: Value = serde_json::from_str(&body).unwrap();
    assert!(coverage["techniques_covered"].as_u64().unwrap() > 0);
    let (_, headers, body) = send(&app, get("/api/coverage/navigator")).await;
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("layer"));
    let layer: Value = serde_json::from_str(&body).unwrap();
    assert!(layer["techniques"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    let (_, _, body) = send(&app, get("/api/hunts")).await;
    let runs: Value = serde_json::from_str(&body).unwrap();
    assert!(runs.as_array().unwrap()[0]["fired"].as_u64().unwrap() > 0);
    let (_, _, body) = send(&app, get("/api/tables")).await;
    let tables: Value = serde_json::from_str(&body).unwrap();
    assert!(tables
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["table"] == "DeviceFileEvents" && t["rows"].as_u64().unwrap() > 0));
    let (_, _, body) = send(&app, get("/api/data-sources")).await;
    assert!(body.contains("DeviceFileEvents"));
    let (_, _, body) = send(&app, get("/api/openapi.json")).await;
    let openapi: Value = serde_json::from_str(&body).unwrap();
    for path in [
        "/api/rules",
        "/api/rules/{id}",
        "/api/rules/{id}/run",
        "/api/query",
        "/api/coverage",
        "/api/hunts",
        "/api/tables",
    ] {
        assert!(openapi["paths"][path].is_object(), "openapi lacks {path}");
    }
}
