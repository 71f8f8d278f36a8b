//! Stored functions (parsers defined outside the query) and `_GetWatchlist` over CSV files.

mod common;

use quarry_engine::format::json_rows;
use quarry_engine::{
    EngineError, QueryOutput, Session, SessionConfig, StoredFunction, StoredFunctionError,
    StoredParameter,
};
use serde_json::{json, Value};
use std::path::PathBuf;

fn function(name: &str, parameters: &[(&str, &str, Option<&str>)], body: &str) -> StoredFunction {
    StoredFunction {
        name: name.to_string(),
        parameters: parameters
            .iter()
            .map(|(name, ty, default)| StoredParameter {
                name: name.to_string(),
                kusto_type: ty.to_string(),
                default: default.map(str::to_string),
            })
            .collect(),
        body: body.to_string(),
    }
}

/// A session with a small library: `Numbers` (1, 2, 3), `AtLeast(min=2)` over it, a scalar
/// `Double(x)` and `Label(kind:string=lookup)` whose default is an unquoted string, as ASIM YAML
/// files hold them.
fn library_session() -> Session {
    let session = common::session();
    let errors = session.register_functions([
        function("Numbers", &[], "datatable(x:long)[1, 2, 3]"),
        function(
            "AtLeast",
            &[("min", "long", Some("2")), ("max", "long", Some("100"))],
            "let floor = min;\nNumbers | where x >= floor and x <= max",
        ),
        function("Double", &[("v", "long", None)], "v * 2"),
        function(
            "Label",
            &[
                ("kind", "string", Some("lookup")),
                ("all", "string", Some("*")),
            ],
            "print k = kind, a = all",
        ),
        function("Tagged", &[("T", "(*)", None)], "T | extend tagged = true"),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    session
}

fn run(session: &Session, query: &str) -> QueryOutput {
    session
        .run_blocking(query)
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

fn rows(session: &Session, query: &str) -> Vec<Vec<Value>> {
    json_rows(&run(session, query))
}

fn count(session: &Session, query: &str) -> i64 {
    rows(session, query)[0][0].as_i64().unwrap()
}

fn error(session: &Session, query: &str) -> EngineError {
    match session.run_blocking(query) {
        Ok(output) => panic!("{query}: expected an error, got {:?}", json_rows(&output)),
        Err(error) => error,
    }
}

#[test]
fn bare_and_called_with_positional_named_and_default_arguments() {
    let session = library_session();
    assert_eq!(count(&session, "Numbers | count"), 3);
    assert_eq!(count(&session, "Numbers() | count"), 3);
    // Every parameter has a default, so the bare name calls it.
    assert_eq!(count(&session, "AtLeast | count"), 2);
    assert_eq!(count(&session, "AtLeast(3) | count"), 1);
    assert_eq!(count(&session, "AtLeast(max=2) | count"), 1);
    assert_eq!(count(&session, "AtLeast(1, max=2) | count"), 2);
    assert_eq!(count(&session, "AtLeast(max=1, min=1) | count"), 1);
    // A bare stored function is a table wherever a table goes.
    assert_eq!(count(&session, "let t = AtLeast; t | count"), 2);
    assert_eq!(
        count(
            &session,
            "datatable(y:long)[2, 5] | where y in (AtLeast | project x) | count"
        ),
        1
    );
    assert_eq!(
        rows(&session, "AtLeast"),
        vec![vec![json!(2)], vec![json!(3)]]
    );
    // A stored function that returns a value works in scalar places.
    assert_eq!(rows(&session, "print Double(21)"), vec![vec![json!(42)]]);
    assert_eq!(
        rows(
            &session,
            "Numbers | extend y = Double(x) | summarize sum(y)"
        ),
        vec![vec![json!(12)]]
    );
    assert_eq!(
        rows(&session, "Label"),
        vec![vec![json!("lookup"), json!("*")]]
    );
    assert_eq!(
        rows(&session, "Label(all='x')"),
        vec![vec![json!("lookup"), json!("x")]]
    );
    // A tabular parameter, passed or piped with invoke.
    assert_eq!(count(&session, "Tagged(Numbers) | where tagged | count"), 3);
    assert_eq!(count(&session, "Numbers | invoke Tagged() | count"), 3);
}

#[test]
fn argument_mistakes_are_reported_at_the_call_or_warned_about() {
    let session = library_session();
    let query = "print Double()";
    let failure = error(&session, query);
    assert!(failure.to_string().contains("parameter `v`"), "{failure}");
    let query = "AtLeast(limit=3) | count";
    let output = run(&session, query);
    assert_eq!(json_rows(&output), vec![vec![json!(2)]]);
    assert!(output.warnings[0].message.contains("no parameter `limit`"));
    assert_eq!(output.warnings[0].span.unwrap().slice(query), "limit");
    let failure = error(&session, "AtLeast(1, 2, 3)");
    assert!(
        failure.to_string().contains("too many arguments"),
        "{failure}"
    );
}

#[test]
fn stored_functions_call_each_other_and_see_only_their_own_names() {
    let session = library_session();
    session
        .register_function(function(
            "Outer",
            &[("n", "long", Some("3"))],
            "union (AtLeast(n)), (Numbers | where x == 1)",
        ))
        .unwrap();
    assert_eq!(count(&session, "Outer | count"), 2);
    // The caller's `let` of a name the body uses does not leak into the body.
    assert_eq!(
        count(
            &session,
            "let Numbers = datatable(x:long)[7]; let min = 0; AtLeast | count"
        ),
        2
    );
    assert_eq!(count(&session, "let floor = 100; AtLeast | count"), 2);
}

#[test]
fn precedence_query_let_then_stored_function_then_table() {
    let session = library_session();
    // A table of the same name as a stored function is hidden by it.
    session
        .register_batches("Numbers", empty_long_schema(), Vec::new())
        .unwrap();
    assert_eq!(count(&session, "Numbers | count"), 3);
    // The query's own `let` hides the stored function.
    assert_eq!(
        rows(&session, "let Numbers = datatable(x:long)[9]; Numbers"),
        vec![vec![json!(9)]]
    );
    assert_eq!(
        rows(
            &session,
            "let Numbers = () { datatable(x:long)[8] }; Numbers"
        ),
        vec![vec![json!(8)]]
    );
}

fn empty_long_schema() -> datafusion::arrow::datatypes::SchemaRef {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    std::sync::Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]))
}

#[test]
fn recursion_is_an_error_not_a_stack_overflow() {
    let session = library_session();
    session.register_functions([
        function("Ping", &[], "Pong | take 1"),
        function("Pong", &[], "Ping | take 1"),
        function("Self", &[("n", "long", Some("1"))], "Self(n) | take 1"),
    ]);
    for (query, chain) in [
        ("Ping | count", "`Ping` → `Pong` → `Ping`"),
        ("Ping", "`Ping` → `Pong` → `Ping`"),
        ("Self(2)", "`Self` → `Self`"),
    ] {
        let failure = error(&session, query);
        let text = failure.to_string();
        assert!(
            text.contains("calls itself") && text.contains(chain),
            "{query}: {text}"
        );
        let span = failure.span().unwrap();
        assert!(span.end <= query.len(), "{query}: {span:?}");
    }
    // A query-local function that calls itself is caught the same way.
    let failure = error(&session, "let f = () { f() }; f()");
    assert!(failure.to_string().contains("calls itself"), "{failure}");
}

#[test]
fn registration_reports_bodies_that_do_not_parse_and_keeps_the_others() {
    let session = common::session();
    let errors = session.register_functions([
        function("Good", &[], "print x = 1"),
        function("Broken", &[], "let a = 1;\nprint x = (a +"),
        function(
            "BadDefault",
            &[("t", "datetime", Some("datetime(2020-01-01"))],
            "print 1",
        ),
        function("Empty", &[], "let a = 1;"),
    ]);
    let names: Vec<&str> = errors.iter().map(StoredFunctionError::function).collect();
    assert_eq!(names, ["Broken", "BadDefault", "Empty"]);
    match &errors[0] {
        StoredFunctionError::Body { line, span, .. } => {
            assert_eq!(*line, 2);
            assert!(span.start >= "let a = 1;\n".len(), "{span:?}");
        }
        other => panic!("{other:?}"),
    }
    assert!(errors[0].to_string().contains("`Broken`"), "{}", errors[0]);
    assert_eq!(session.stored_function_names(), ["Good"]);
    assert_eq!(count(&session, "Good | count"), 1);
    let failure = error(&session, "Broken");
    assert!(failure.to_string().contains("unknown"), "{failure}");
}

#[test]
fn errors_inside_a_body_point_at_the_call_and_name_the_place() {
    let session = common::session();
    session.register_functions([
        function("Inner", &[], "print x = 1\n| project nope"),
        function("Middle", &[], "let y = 2;\nInner"),
    ]);
    let query = "print 0 | union Middle";
    let failure = error(&session, query);
    let text = failure.to_string();
    assert!(text.contains("nope"), "{text}");
    assert!(
        text.contains("in stored function `Inner` at line 2")
            && text.contains("called from `Middle` at line 2"),
        "{text}"
    );
    assert_eq!(failure.span().unwrap().slice(query), "Middle");
}

#[test]
fn union_isfuzzy_leaves_out_missing_tables_and_functions() {
    let session = library_session();
    session
        .register_function(function("NeedsMissing", &[], "NoSuchTable | take 1"))
        .unwrap();
    let query =
        "union isfuzzy=true Numbers, NoSuchTable, NoSuchFunction(1), NeedsMissing, (AtLeast(3))";
    let output = run(&session, query);
    assert_eq!(output.row_count(), 4);
    let warned: Vec<&str> = output
        .warnings
        .iter()
        .map(|w| w.span.unwrap().slice(query))
        .collect();
    assert_eq!(warned, ["NoSuchTable", "NoSuchFunction(1)", "NeedsMissing"]);
    assert!(output.warnings[0]
        .message
        .contains("left out `NoSuchTable`"));
    assert_eq!(
        session.plan_with_warnings(query).unwrap().len(),
        output.warnings.len()
    );
    // Piped, and spelled `True`.
    assert_eq!(
        count(&session, "Numbers | union isfuzzy=True NoSuchTable | count"),
        3
    );
    // Without isfuzzy a missing leg is an error, and so is a union with no leg left.
    let failure = error(&session, "union Numbers, NoSuchTable");
    assert!(failure.to_string().contains("NoSuchTable"), "{failure}");
    let failure = error(&session, "union isfuzzy=true NoSuchTable, NeedsMissing");
    assert!(failure.to_string().contains("NoSuchTable"), "{failure}");
}

/// A fresh folder under the system temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "quarry-engine-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn watchlist_session(dir: Option<PathBuf>, strict: bool) -> Session {
    Session::new(SessionConfig {
        target_partitions: Some(2),
        watchlist_dir: dir,
        strict_watchlists: strict,
        ..SessionConfig::default()
    })
    .unwrap()
}

#[test]
fn get_watchlist_reads_csv_files() {
    let dir = TempDir::new("watchlists");
    std::fs::write(
        dir.0.join("VIPUsers.csv"),
        "User,Title,Tier\r\nalice@contoso.com,\"CEO, acting\",1\r\nbob@contoso.com,CFO,2\r\n",
    )
    .unwrap();
    std::fs::write(dir.0.join("Hosts.csv"), "Owner,HostName\nops,dc01\n").unwrap();
    std::fs::write(
        dir.0.join("Hosts.json"),
        r#"{"itemsSearchKey": "HostName"}"#,
    )
    .unwrap();
    let session = watchlist_session(Some(dir.0.clone()), false);
    let output = run(
        &session,
        "_GetWatchlist('VIPUsers') | order by SearchKey asc",
    );
    let names: Vec<&str> = output
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(
        names,
        [
            "_DTItemId",
            "LastUpdatedTimeUTC",
            "SearchKey",
            "WatchlistItem",
            "User",
            "Title",
            "Tier"
        ]
    );
    let items = json_rows(&output);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0][0], json!("VIPUsers/1"));
    assert!(items[0][1].is_string(), "{:?}", items[0][1]);
    assert_eq!(items[0][2], json!("alice@contoso.com"));
    assert_eq!(items[0][5], json!("CEO, acting"));
    assert_eq!(items[1][6], json!("2"));
    assert!(output.warnings.is_empty(), "{:?}", output.warnings);
    let item = rows(&session, "_GetWatchlist('VIPUsers') | where SearchKey == 'bob@contoso.com' | project Title = tostring(WatchlistItem.Title)");
    assert_eq!(item, vec![vec![json!("CFO")]]);
    // The sidecar chooses the search key; watchlists join like tables.
    assert_eq!(
        rows(
            &session,
            "datatable(Computer:string)['dc01', 'web01'] \
             | join kind=inner (_GetWatchlist('Hosts')) on $left.Computer == $right.SearchKey \
             | project Computer, Owner"
        ),
        vec![vec![json!("dc01"), json!("ops")]]
    );
    // The name may come from a parameter.
    assert_eq!(
        count(
            &session,
            "let wl = (name:string) { _GetWatchlist(name) }; wl('VIPUsers') | count"
        ),
        2
    );
    // ASIM's way of reading an optional column of an optional watchlist.
    assert_eq!(
        rows(
            &session,
            "_GetWatchlist('Hosts') | extend P = column_ifexists('SourceSpecificParser', '') \
             | distinct P"
        ),
        vec![vec![json!("")]]
    );
}

#[test]
fn missing_watchlists_are_empty_with_a_warning_or_an_error_when_strict() {
    let dir = TempDir::new("missing");
    let query = "_GetWatchlist('ASimDisabledParsers') | where SearchKey in ('Any') | count";
    for session in [
        watchlist_session(Some(dir.0.clone()), false),
        watchlist_session(None, false),
    ] {
        let output = run(&session, query);
        assert_eq!(json_rows(&output), vec![vec![json!(0)]]);
        assert_eq!(output.warnings.len(), 1, "{:?}", output.warnings);
        let warning = &output.warnings[0];
        assert!(warning
            .message
            .contains("`ASimDisabledParsers` does not exist"));
        assert_eq!(warning.span.unwrap().slice(query), "'ASimDisabledParsers'");
    }
    let session = watchlist_session(Some(dir.0.clone()), true);
    let failure = error(&session, query);
    let text = failure.to_string();
    assert!(
        text.contains("unknown watchlist `ASimDisabledParsers`"),
        "{text}"
    );
    assert!(text.contains(&dir.0.display().to_string()), "{text}");
    assert_eq!(
        failure.span().unwrap().slice(query),
        "'ASimDisabledParsers'"
    );
    let failure = error(&session, "_GetWatchlist('../etc/passwd')");
    assert!(
        failure.to_string().contains("not a valid watchlist name"),
        "{failure}"
    );
    // A malformed file is an error whatever the mode.
    std::fs::write(dir.0.join("Ragged.csv"), "a,b\n1,2\n3\n").unwrap();
    let lenient = watchlist_session(Some(dir.0.clone()), false);
    let failure = error(&lenient, "_GetWatchlist('Ragged')");
    assert!(failure.to_string().contains("line 3"), "{failure}");
    // Inside a stored function the warning points at the call in the query.
    lenient
        .register_function(function(
            "Disabled",
            &[],
            "_GetWatchlist('ASimDisabledParsers') | project SearchKey",
        ))
        .unwrap();
    let query = "print 1 | union Disabled";
    let output = run(&lenient, query);
    assert_eq!(output.warnings[0].span.unwrap().slice(query), "Disabled");
    assert!(output.warnings[0]
        .message
        .contains("stored function `Disabled`"));
    assert_eq!(rows(&lenient, query).len(), 1);
}
