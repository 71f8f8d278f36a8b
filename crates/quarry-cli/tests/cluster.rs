//! Quarry on a cluster, end to end (needs `--features distributed`): one scheduler and two
//! executors as `quarry` processes on 127.0.0.1 with free ports.
//!
//! - the conformance cases that read tables give the same answers there as locally;
//! - a hunt over a demo workspace (Parquet read by the executors) finds the same findings;
//! - an executor killed mid-query fails the query within seconds with an error naming it (a
//!   result, if the query finished first, must be the local one);
//! - `quarry serve --cluster` answers the query API, rule runs and downloads as the local
//!   engine does, and shows cluster errors with their explanation;
//! - an unreachable scheduler and a function missing on an executor are named in the error (by
//!   `quarry query` and by `quarry serve` at startup).

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CONFORMANCE: &str = "../../../shared/conformance/dev.jsonl";
/// The least number of table-reading conformance cases that must pass on the cluster as they
/// do locally (the figure measured when the cluster support was written, minus a margin).
const FLOOR_FILE: &str = "tests/cluster_conformance_floor.txt";

fn quarry() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quarry"));
    command.env_remove("QUARRY_CLUSTER").env("NO_COLOR", "1");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("no free port")
}

/// A child process killed when dropped; its stderr goes to a file shown on failures.
struct Node {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Node {
    fn start(name: &str, dir: &Path, args: &[String]) -> Node {
        let log = dir.join(format!("{name}.log"));
        let file = std::fs::File::create(&log).expect("cannot create a log file");
        let child = quarry()
            .args(args)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("cannot start quarry");
        Node {
            name: name.to_string(),
            child,
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_port(port: u16, node: &mut Node) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = node.child.try_wait() {
            panic!("{} exited ({status}):\n{}", node.name, node.log());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{} did not listen on port {port}:\n{}",
        node.name,
        node.log()
    );
}

/// A scheduler and executors on 127.0.0.1.
struct LocalCluster {
    address: String,
    scheduler: Node,
    executors: Vec<Node>,
    /// Each executor's Arrow Flight address, the one the scheduler names it by.
    executor_addresses: Vec<String>,
    _dir: tempfile::TempDir,
}

impl LocalCluster {
    fn start(executors: usize, executor_flags: &[&str]) -> LocalCluster {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let address = format!("127.0.0.1:{port}");
        let mut scheduler = Node::start(
            "scheduler",
            dir.path(),
            &[
                "scheduler".into(),
                "--bind".into(),
                address.clone(),
                "--executor-timeout".into(),
                "6".into(),
            ],
        );
        wait_for_port(port, &mut scheduler);
        let mut nodes = Vec::new();
        let mut executor_addresses = Vec::new();
        for i in 0..executors {
            let (flight, grpc) = (free_port(), free_port());
            let work = dir.path().join(format!("executor{i}"));
            std::fs::create_dir_all(&work).unwrap();
            let mut args: Vec<String> = vec![
                "executor".into(),
                "--scheduler".into(),
                address.clone(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--port".into(),
                flight.to_string(),
                "--grpc-port".into(),
                grpc.to_string(),
                "--concurrent-tasks".into(),
                "2".into(),
                "--heartbeat".into(),
                "1".into(),
                "--work-dir".into(),
                work.display().to_string(),
            ];
            args.extend(executor_flags.iter().map(|f| f.to_string()));
            let mut node = Node::start(&format!("executor{i}"), dir.path(), &args);
            wait_for_port(flight, &mut node);
            nodes.push(node);
            executor_addresses.push(format!("127.0.0.1:{flight}"));
        }
        // Registration happens on the first heartbeat.
        std::thread::sleep(Duration::from_secs(2));
        LocalCluster {
            address,
            scheduler,
            executors: nodes,
            executor_addresses,
            _dir: dir,
        }
    }

    fn logs(&self) -> String {
        let mut text = format!("--- scheduler\n{}", self.scheduler.log());
        for node in &self.executors {
            text.push_str(&format!("--- {}\n{}", node.name, node.log()));
        }
        text
    }
}

/// `quarry serve` over `workspace` on a free port (on `cluster` when given), once it listens.
fn serve(workspace: &Path, log_dir: &Path, cluster: Option<&str>) -> (Node, u16) {
    let port = free_port();
    let mut args: Vec<String> = vec![
        "serve".into(),
        "--bind".into(),
        format!("127.0.0.1:{port}"),
        "--query-timeout".into(),
        "120".into(),
        "--workspace".into(),
        workspace.display().to_string(),
    ];
    let name = match cluster {
        Some(address) => {
            args.extend(["--cluster".to_string(), address.to_string()]);
            "serve-cluster"
        }
        None => "serve-local",
    };
    let mut node = Node::start(name, log_dir, &args);
    wait_for_port(port, &mut node);
    (node, port)
}

/// One HTTP/1.0 request to 127.0.0.1:`port`: the status code and the body.
fn http(port: u16, method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("cannot connect to serve");
    stream
        .set_read_timeout(Some(Duration::from_secs(180)))
        .unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = text(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head}"));
    (status, body.to_string())
}

/// `text` for a URL's query string.
fn url_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A JSON answer of the API.
fn api(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let (status, answer) = http(port, method, path, body);
    assert_eq!(status, 200, "{method} {path}: {answer}");
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{method} {path}: {e}: {answer}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The ids of the cases in `cases` and of those `quarry conformance` failed.
fn conformance_failures(cases: &Path, cluster: Option<&str>) -> (BTreeSet<String>, Duration) {
    let started = Instant::now();
    let mut command = quarry();
    command
        .arg("conformance")
        .arg(cases)
        .args(["--format", "json", "--timeout", "20"]);
    if let Some(address) = cluster {
        command.args(["--cluster", address]);
    }
    let output = command.output().unwrap();
    let stdout = text(&output.stdout);
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no JSON report ({e}): {stdout}\n{}", text(&output.stderr)));
    let failed = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["skips"].as_array().unwrap())
        .map(|case| case["id"].as_str().unwrap().to_string())
        .collect();
    (failed, started.elapsed())
}

#[test]
fn the_conformance_cases_that_read_tables_give_the_same_answers_on_the_cluster() {
    let all = std::fs::read_to_string(CONFORMANCE).expect("the conformance cases are missing");
    // Cases that read a table (a datatable, range, a let-bound tabular expression …): every
    // case but those that only `print`.
    let mut ids = BTreeSet::new();
    let mut subset = String::new();
    for line in all.lines().filter(|l| !l.trim().is_empty()) {
        let case: Value = serde_json::from_str(line).unwrap();
        if case["query"]
            .as_str()
            .unwrap()
            .trim_start()
            .starts_with("print")
        {
            continue;
        }
        ids.insert(case["id"].as_str().unwrap().to_string());
        subset.push_str(line);
        subset.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("tables.jsonl");
    std::fs::write(&cases, subset).unwrap();

    let (local_failed, local_time) = conformance_failures(&cases, None);
    let cluster = LocalCluster::start(2, &[]);
    let (cluster_failed, cluster_time) = conformance_failures(&cases, Some(&cluster.address));
    let local_passed: BTreeSet<&String> = ids.difference(&local_failed).collect();
    let same: Vec<&&String> = local_passed
        .iter()
        .filter(|id| !cluster_failed.contains(**id))
        .collect();
    let lost: Vec<&&String> = local_passed
        .iter()
        .filter(|id| cluster_failed.contains(**id))
        .collect();
    eprintln!(
        "cluster conformance: {} of {} table cases pass locally; {} of them also pass on the \
         cluster ({} lost); local {:.1}s, cluster {:.1}s",
        local_passed.len(),
        ids.len(),
        same.len(),
        lost.len(),
        local_time.as_secs_f64(),
        cluster_time.as_secs_f64()
    );
    for id in lost.iter().take(20) {
        eprintln!("  lost on the cluster: {id}");
    }
    let floor: usize = std::fs::read_to_string(FLOOR_FILE)
        .expect("the floor file is missing")
        .trim()
        .parse()
        .expect("the floor file holds one number");
    assert!(
        local_passed.len() > 500,
        "only {} table cases pass locally",
        local_passed.len()
    );
    assert!(
        same.len() >= floor,
        "only {} table cases give the local answer on the cluster (floor {floor})\n{}",
        same.len(),
        cluster.logs()
    );
}

/// A demo workspace of `events` events with the demo rules imported.
fn demo_workspace(dir: &Path, events: u64) -> PathBuf {
    let workspace = dir.join("demo");
    let output = quarry()
        .args(["demo", "--events", &events.to_string(), "--workspace"])
        .arg(&workspace)
        .output()
        .unwrap();
    assert!(
        workspace.join("manifest.json").is_file() || output.status.code() == Some(1),
        "demo failed: {}",
        text(&output.stderr)
    );
    workspace
}

fn hunt_findings(workspace: &Path, cluster: Option<&str>) -> (Value, Output) {
    let mut command = quarry();
    command
        .args(["hunt", "--format", "json", "--timeout", "60", "--workspace"])
        .arg(workspace);
    if let Some(address) = cluster {
        command.args(["--cluster", address]);
    }
    let output = command.output().unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON hunt report ({e}): {}\n{}",
            text(&output.stdout),
            text(&output.stderr)
        )
    });
    (report, output)
}

/// Per rule: its status label and finding count.
fn rule_outcomes(report: &Value) -> Vec<(String, String, usize)> {
    let mut rules: Vec<(String, String, usize)> = report["rules"]
        .as_array()
        .expect("the hunt report has no rules")
        .iter()
        .map(|rule| {
            (
                rule["rule_id"].as_str().unwrap_or_default().to_string(),
                rule["status"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                rule["findings"].as_array().map_or(0, Vec::len),
            )
        })
        .collect();
    rules.sort();
    rules
}

#[test]
fn a_hunt_finds_the_same_on_the_cluster_and_an_executor_killed_mid_query_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = demo_workspace(dir.path(), 60_000);
    let mut cluster = LocalCluster::start(2, &[]);

    let (local, _) = hunt_findings(&workspace, None);
    let (remote, output) = hunt_findings(&workspace, Some(&cluster.address));
    let local = rule_outcomes(&local);
    let remote = rule_outcomes(&remote);
    assert!(!local.is_empty());
    assert!(
        local.iter().any(|(_, status, _)| status == "hits"),
        "no demo rule fired locally: {local:?}"
    );
    assert_eq!(
        local,
        remote,
        "the hunt differs on the cluster\n{}\n{}",
        text(&output.stderr),
        cluster.logs()
    );

    // A query that keeps both executors busy for a while: a self-join over the workspace.
    let query = "DeviceProcessEvents | project DeviceName, A = ProcessId \
                 | join kind=inner (DeviceProcessEvents | project DeviceName, B = ProcessId) \
                   on DeviceName \
                 | summarize n = count(), s = sum(A % 7 + B % 5) by DeviceName | count";
    let started = Instant::now();
    let local = quarry()
        .args(["query", "--format", "json", "--workspace"])
        .arg(&workspace)
        .arg(query)
        .output()
        .unwrap();
    let local_time = started.elapsed();
    assert!(local.status.success(), "{}", text(&local.stderr));

    let started = Instant::now();
    let client = quarry()
        .args([
            "query",
            "--format",
            "json",
            "--timeout",
            "120",
            "--workspace",
        ])
        .arg(&workspace)
        .args(["--cluster", &cluster.address])
        .arg(query)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    cluster.executors[1].kill();
    let killed_at = started.elapsed();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(client.wait_with_output());
    });
    let bound = Duration::from_secs(60);
    let output = rx
        .recv_timeout(bound)
        .unwrap_or_else(|_| panic!("no answer {bound:?} after killing an executor"))
        .unwrap();
    let elapsed = started.elapsed();
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    eprintln!(
        "executor killed at {:.1}s; client {} after {:.1}s (local run {:.1}s): {}{}",
        killed_at.as_secs_f64(),
        if output.status.success() {
            "got a result"
        } else {
            "failed"
        },
        elapsed.as_secs_f64(),
        local_time.as_secs_f64(),
        stdout.trim(),
        stderr.trim()
    );
    // Executor loss fails the query (Quarry's scheduler does not trust Ballista's recovery);
    // a result is still accepted if the query finished before the loss was noticed, but then
    // it must be exactly the local one.
    if output.status.success() {
        assert_eq!(
            stdout,
            text(&local.stdout),
            "a result after an executor loss must be right\n{}",
            cluster.logs()
        );
    } else {
        let killed = &cluster.executor_addresses[1];
        // The scheduler names the lost executor; a shuffle stream that broke mid-way fails the
        // query before the loss is noticed, and then the error cannot say whose stream it was.
        let names_it = stderr.contains(killed.as_str());
        let broken_stream = stderr.contains("the connection to it broke");
        assert!(
            stderr.contains("error")
                && (names_it || broken_stream)
                && stderr.contains("was lost during the query")
                && stderr.contains("run it again"),
            "the error does not name the lost executor {killed}: {stderr}\n{}",
            cluster.logs()
        );
        // Noticed at the latest when its heartbeats stop for --executor-timeout (6 s).
        assert!(
            elapsed - killed_at < Duration::from_secs(20),
            "the error came {:.1}s after the kill",
            (elapsed - killed_at).as_secs_f64()
        );
    }
}

/// A run's answer with its rows sorted (a shuffle does not keep row order).
fn sorted_answer(result: &Value) -> (Value, Value, Value, Vec<String>) {
    let mut rows: Vec<String> = result["rows"]
        .as_array()
        .map(|rows| rows.iter().map(Value::to_string).collect())
        .unwrap_or_default();
    rows.sort();
    (
        result["status"].clone(),
        result["columns"].clone(),
        result["truncated"].clone(),
        rows,
    )
}

#[test]
fn serve_runs_the_pages_queries_on_the_cluster_with_the_local_answers() {
    let dir = tempfile::tempdir().unwrap();
    let workspace = demo_workspace(dir.path(), 20_000);
    let cluster = LocalCluster::start(2, &[]);
    let (mut remote, port) = serve(&workspace, dir.path(), Some(&cluster.address));
    let (_local, local_port) = serve(&workspace, dir.path(), None);
    let context = |what: &str| format!("{what}\n--- serve\n{}\n{}", remote.log(), cluster.logs());

    // The query page's API: the same answer as `quarry query`.
    let query = "DeviceProcessEvents | summarize n = count(), last = max(Timestamp) by DeviceName \
                 | sort by DeviceName asc";
    let local = quarry()
        .args(["query", "--format", "json", "--workspace"])
        .arg(&workspace)
        .arg(query)
        .output()
        .unwrap();
    assert!(local.status.success(), "{}", text(&local.stderr));
    let expected: Value = serde_json::from_slice(&local.stdout).unwrap();
    assert!(expected["rows"].as_array().is_some_and(|r| !r.is_empty()));
    let answer = api(
        port,
        "POST",
        "/api/query",
        Some(&serde_json::json!({ "query": query })),
    );
    assert_eq!(answer["status"], "ok", "{}", context(&answer.to_string()));
    assert_eq!(
        (&answer["columns"], &answer["rows"]),
        (&expected["columns"], &expected["rows"]),
        "{}",
        context("the cluster's answer differs from `quarry query`")
    );
    // The download runs it again and writes what `quarry query --format json` writes.
    let (status, download) = http(
        port,
        "GET",
        &format!("/api/query/results.json?q={}", url_encoded(query)),
        None,
    );
    assert_eq!(status, 200, "{}", context(&download));
    assert_eq!(download, text(&local.stdout));

    // Every rule's Run button: the same outcome as a server running locally.
    let rules = api(local_port, "GET", "/api/rules", None);
    let ids: Vec<String> = rules["rules"]
        .as_array()
        .expect("no rules in the feed")
        .iter()
        .filter_map(|rule| rule["id"].as_str().map(str::to_string))
        .collect();
    assert!(!ids.is_empty());
    let mut hits = 0;
    for id in &ids {
        let path = format!("/api/rules/{id}/run");
        let params = serde_json::json!({ "params": {} });
        let on_cluster = api(port, "POST", &path, Some(&params));
        let here = api(local_port, "POST", &path, Some(&params));
        assert_eq!(
            sorted_answer(&on_cluster),
            sorted_answer(&here),
            "{}",
            context(&format!("rule {id} differs: {on_cluster}\nlocally: {here}"))
        );
        if here["rows"].as_array().is_some_and(|r| !r.is_empty()) {
            hits += 1;
        }
    }
    assert!(hits > 0, "no demo rule returned rows");

    // Errors still point into the query.
    let answer = api(
        port,
        "POST",
        "/api/query",
        Some(&serde_json::json!({ "query": "DeviceProcessEvents | where Bogus == 1" })),
    );
    assert_eq!(answer["status"], "error", "{answer}");
    assert_eq!(answer["errors"][0]["start"], 28, "{answer}");

    remote.kill();
    assert!(
        remote
            .log()
            .contains(&format!("the cluster at {}", cluster.address)),
        "the startup line does not name the cluster: {}",
        remote.log()
    );
}

#[test]
fn an_unreachable_scheduler_is_named_within_seconds() {
    let address = format!("127.0.0.1:{}", free_port());
    let started = Instant::now();
    let output = quarry()
        .args(["query", "--cluster", &address, "print x = 1"])
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&address), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");

    // `quarry serve` fails at startup, before listening.
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = quarry()
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--cluster",
            &address,
            "-w",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&address), "{stderr}");
    assert!(stderr.contains("unreachable"), "{stderr}");
    assert!(!stderr.contains("serving"), "{stderr}");
}

#[test]
fn a_function_missing_on_the_executors_is_named() {
    let cluster = LocalCluster::start(1, &["--without-kql-functions"]);
    let started = Instant::now();
    let output = quarry()
        .args(["query", "--timeout", "60", "--cluster", &cluster.address])
        .arg("datatable(s: string) ['alpha beta', 'gamma'] | where s has 'beta'")
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(70));
    let stderr = text(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stderr}\n{}",
        cluster.logs()
    );
    assert!(
        stderr.contains("KQL function") && stderr.contains("`has`") && stderr.contains("missing"),
        "the error does not name the function: {stderr}"
    );

    // The web pages name the function too (the executor's own error here; when Ballista only
    // says the task was rejected, the page adds the client's note as `quarry query` does).
    let dir = tempfile::tempdir().unwrap();
    let (server, port) = serve(dir.path(), dir.path(), Some(&cluster.address));
    let answer = api(
        port,
        "POST",
        "/api/query",
        Some(&serde_json::json!({
            "query": "datatable(s: string) ['alpha beta', 'gamma'] | where s has 'beta'"
        })),
    );
    let message = answer["message"].as_str().unwrap_or_default();
    assert_eq!(answer["status"], "error", "{answer}\n{}", server.log());
    assert!(
        message.contains("KQL function")
            && message.contains("`has`")
            && message.contains("missing"),
        "the page's error does not name the function: {message}"
    );
}
