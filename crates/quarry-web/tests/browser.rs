//! The real server driven by headless Chromium through chromedriver: the feed, a table filter,
//! the seed rule with its parameters filled and run (results and a chart), the hostile rule
//! (nothing executes), coverage and a click on a cell. A PNG of each page goes to
//! `target/screenshots/`. Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them); fails, never skips, without them.

mod common;

use common::{build_workspace, HOSTILE_ID};
use fantoccini::{Client, ClientBuilder, Locator};
use quarry_web::{RunLimits, ServeConfig};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn shot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name} is not a PNG");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
}

async fn wait_url(client: &Client, part: &str) -> String {
    let started = Instant::now();
    loop {
        let url = client.current_url().await.unwrap().to_string();
        if url.contains(part) {
            return url;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{url} never contained {part}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_rule_run_and_coverage_in_chromium() {
    for tool in [CHROMEDRIVER, CHROMIUM] {
        assert!(
            Path::new(tool).is_file(),
            "{tool} is missing: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let workspace = std::thread::spawn(move || build_workspace(&root))
        .join()
        .unwrap();
    let config = ServeConfig {
        workspace,
        bind: "127.0.0.1:0".parse().unwrap(),
        token: None,
        limits: RunLimits::default(),
        sessions: quarry_web::local_sessions(),
    };
    let (listener, address) = quarry_web::bind(&config).await.unwrap();
    let serving = config.clone();
    tokio::spawn(async move { quarry_web::serve(listener, &serving).await });
    let base = format!("http://{address}");

    let port = free_port();
    let _driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,1000"]
        }),
    );
    let started = Instant::now();
    let client = loop {
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(capabilities.clone());
        match builder.connect(&format!("http://127.0.0.1:{port}")).await {
            Ok(client) => break client,
            Err(e) if started.elapsed() < Duration::from_secs(30) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start a Chromium session through chromedriver: {e}"),
        }
    };

    // The feed, then filtered by a table through the form.
    client.goto(&format!("{base}/")).await.unwrap();
    wait_for(&client, "#rule-list").await;
    shot(&client, "feed").await;
    let select = wait_for(&client, "#filter-table").await;
    select.select_by_value("DeviceFileEvents").await.unwrap();
    wait_url(&client, "table=DeviceFileEvents").await;
    let count = wait_for(&client, "#feed-count").await.text().await.unwrap();
    assert!(count.contains(" match"), "{count}");
    shot(&client, "feed-filtered").await;

    // The seed rule: fill its parameters, run, see rows and a chart.
    client
        .find(Locator::LinkText("Network footprint (3)"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, "#rule-name").await;
    wait_for(&client, "#contradictions").await;
    wait_for(&client, "#param-url")
        .await
        .send_keys("github.com")
        .await
        .unwrap();
    wait_for(&client, "#param-ip_address")
        .await
        .send_keys("203.0.113.77")
        .await
        .unwrap();
    wait_for(&client, "#run-button")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&client, "#results-table tbody tr").await;
    wait_for(&client, "#chart-hits svg rect").await;
    let status = wait_for(&client, "#run-status").await.text().await.unwrap();
    assert!(status.contains("rows"), "{status}");
    shot(&client, "rule-run").await;

    // A bad parameter value that breaks the query shows the error in the query.
    client.goto(&format!("{base}/query")).await.unwrap();
    let text = wait_for(&client, "#query-text").await;
    text.clear().await.unwrap();
    text.send_keys(
        "DeviceProcessEvents | summarize n = count() by bin(Timestamp, 1h) | render timechart",
    )
    .await
    .unwrap();
    wait_for(&client, "#run-button")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&client, "#chart-render svg polyline").await;
    shot(&client, "query-chart").await;
    text.clear().await.unwrap();
    text.send_keys("DeviceProcessEvents | where Nope == 1")
        .await
        .unwrap();
    wait_for(&client, "#run-button")
        .await
        .click()
        .await
        .unwrap();
    let mark = wait_for(&client, "#error-query mark.error").await;
    assert_eq!(mark.text().await.unwrap(), "Nope");
    shot(&client, "query-error").await;

    // Rule text with scripts and markup: shown, never run.
    for page in [
        format!("{base}/rules/{HOSTILE_ID}"),
        format!("{base}/?q=Hostile"),
    ] {
        client.goto(&page).await.unwrap();
        wait_for(&client, "main").await;
        let pwned = client
            .execute("return window.__pwned === undefined;", vec![])
            .await
            .unwrap();
        assert_eq!(
            pwned,
            serde_json::Value::Bool(true),
            "a script from rule text ran on {page}"
        );
    }
    let name = wait_for(&client, ".rule-link").await.text().await.unwrap();
    assert!(name.contains("<script>"), "{name}");
    shot(&client, "hostile").await;

    // Coverage: click a cell, land on the filtered feed.
    client.goto(&format!("{base}/coverage")).await.unwrap();
    wait_for(&client, "#matrix .cell").await;
    shot(&client, "coverage").await;
    wait_for(&client, "#matrix .cell")
        .await
        .click()
        .await
        .unwrap();
    wait_url(&client, "technique=").await;
    wait_for(&client, "#rule-list li").await;
    shot(&client, "coverage-cell").await;

    for (page, css) in [
        ("/hunts", "#hunt-runs tbody tr"),
        ("/data", "#tables tbody tr"),
    ] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        wait_for(&client, css).await;
        shot(&client, page.trim_start_matches('/')).await;
    }
    client.close().await.unwrap();
}
