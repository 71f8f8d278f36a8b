//! Static analysis over the real Azure-Sentinel corpus: it never panics, every rule reads a table
//! or a stored function, spans point where they say, spot checks of rules read by hand, golden
//! snapshots, stored functions from real ASIM parsers, and a summary of what the corpus holds.

use quarry_rules::analysis::{analyse, IndicatorKind, PlaceholderKind, QueryAnalysis};
use quarry_rules::model::{FunctionLibrary, FunctionParameter, Provenance, StoredFunction};
use quarry_rules::sentinel::{read_rule_query, rule_files};
use quarry_rules::source::read_parser_file;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The corpus, relative to this crate's folder (tests run with the crate folder as cwd).
const CORPUS: &str = "../../../shared/corpus/azure-sentinel";

/// The rule folders analysed.
const RULE_FOLDERS: &[&str] = &["Hunting Queries", "Detections"];

/// Rules that parse but genuinely read no table: none in this corpus; a rule that shows up in
/// the failure message must be read and either fixed in the analysis or named here.
const READS_NOTHING: &[&str] = &[];

/// The rule of the reference page.
const SEED: &str =
    "Hunting Queries/Microsoft 365 Defender/General queries/Network footprint (3).yaml";

fn corpus_root() -> &'static Path {
    let root = Path::new(CORPUS);
    assert!(
        root.is_dir(),
        "the Azure-Sentinel corpus is missing: expected a folder at {} (from {})",
        root.display(),
        std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
    );
    root
}

/// One rule query of the corpus.
struct CorpusRule {
    /// Path relative to the corpus root, with `/`.
    relative: String,
    /// The KQL.
    query: String,
}

/// Every rule query of the corpus, read once for all tests.
fn corpus_rules() -> &'static [CorpusRule] {
    static RULES: OnceLock<Vec<CorpusRule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let root = corpus_root();
        let mut rules = Vec::new();
        for folder in RULE_FOLDERS {
            let files = rule_files(&root.join(folder));
            assert!(!files.is_empty(), "no rule files under {folder}");
            for path in files {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let Ok(Some(query)) = read_rule_query(&text) else {
                    continue;
                };
                rules.push(CorpusRule {
                    relative: relative(root, &path),
                    query: query.text,
                });
            }
        }
        rules
    })
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn rule(relative: &str) -> &'static CorpusRule {
    corpus_rules()
        .iter()
        .find(|r| r.relative == relative)
        .unwrap_or_else(|| panic!("{relative} is not in the corpus"))
}

fn analysed(relative: &str) -> (&'static str, QueryAnalysis) {
    let rule = rule(relative);
    (&rule.query, analyse(&rule.query, &FunctionLibrary::new()))
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Every parser of the corpus, read the way the importer reads them.
fn full_library() -> FunctionLibrary {
    let root = corpus_root().join("Parsers");
    let mut library = FunctionLibrary::new();
    for entry in walk_files(&root) {
        let name = entry.to_string_lossy().to_ascii_lowercase();
        if !(name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".kql")) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&entry) else {
            continue;
        };
        let rel = relative(corpus_root(), &entry);
        if let Ok(functions) = read_parser_file(&rel, &text, &Provenance::default()) {
            for function in functions {
                library.insert(function);
            }
        }
    }
    library
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Checks that every span of an analysis points at the text it claims; returns what is wrong.
fn span_problems(query: &str, analysis: &QueryAnalysis) -> Vec<String> {
    let mut problems = Vec::new();
    let text = |span: &std::ops::Range<usize>| query.get(span.clone());
    for p in &analysis.parameters {
        if p.spans.is_empty() {
            problems.push(format!("parameter {} has no span", p.name));
        }
        for span in &p.spans {
            let Some(written) = text(span) else {
                problems.push(format!("parameter {} span {span:?} is outside", p.name));
                continue;
            };
            let ok = match p.kind {
                PlaceholderKind::Template => written == p.placeholder,
                PlaceholderKind::EmptyList => written == p.placeholder,
                PlaceholderKind::FillIn => {
                    written.contains(p.placeholder.as_str())
                        || (written.starts_with(['"', '\'']) && written.ends_with(['"', '\'']))
                }
            };
            if !ok {
                problems.push(format!(
                    "parameter {} ({:?}) span {span:?} is {written:?}, not {:?}",
                    p.name, p.kind, p.placeholder
                ));
            }
        }
    }
    for i in &analysis.indicators {
        if text(&i.span) != Some(i.value.as_str()) {
            problems.push(format!("indicator {} span {:?} is off", i.value, i.span));
        }
    }
    if let Some(w) = &analysis.time_window {
        if text(&w.span) != Some(w.text.as_str()) {
            problems.push(format!("time window {} span {:?} is off", w.text, w.span));
        }
    }
    problems
}

#[derive(Default)]
struct Summary {
    rules: usize,
    parse_errors: usize,
    with_parameters: BTreeMap<&'static str, usize>,
    with_indicators: BTreeMap<String, usize>,
    indicators: usize,
    constant_window: usize,
    templated_window: usize,
    variable_window: usize,
    with_predicates: usize,
    predicates: usize,
    with_stored_functions: usize,
}

impl Summary {
    fn add(&mut self, analysis: &QueryAnalysis) {
        self.rules += 1;
        if analysis.diagnostics.iter().any(|d| d.severity == "error") {
            self.parse_errors += 1;
        }
        let mut kinds: Vec<&'static str> = analysis
            .parameters
            .iter()
            .map(|p| match p.kind {
                PlaceholderKind::FillIn => "fill-in",
                PlaceholderKind::EmptyList => "empty-list",
                PlaceholderKind::Template => "template",
            })
            .collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            *self.with_parameters.entry(kind).or_default() += 1;
        }
        let mut kinds: Vec<IndicatorKind> = analysis.indicators.iter().map(|i| i.kind).collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            *self
                .with_indicators
                .entry(format!("{kind:?}").to_lowercase())
                .or_default() += 1;
        }
        self.indicators += analysis.indicators.len();
        match &analysis.time_window {
            Some(w) if w.lookback_seconds.is_some() => self.constant_window += 1,
            Some(w) if w.templated => self.templated_window += 1,
            Some(_) => self.variable_window += 1,
            None => {}
        }
        if !analysis.predicates.is_empty() {
            self.with_predicates += 1;
        }
        self.predicates += analysis.predicates.len();
        if !analysis.stored_functions.is_empty() {
            self.with_stored_functions += 1;
        }
    }

    fn print(&self, elapsed: Duration) {
        println!(
            "analysed {} corpus rules in {elapsed:?} (this build's profile)",
            self.rules
        );
        println!("  with parse errors: {}", self.parse_errors);
        println!("  with parameters, by kind: {:?}", self.with_parameters);
        println!(
            "  with indicators, by kind: {:?} ({} indicators in all)",
            self.with_indicators, self.indicators
        );
        println!(
            "  with a time window: {} constant, {} templated only, {} set by a variable",
            self.constant_window, self.templated_window, self.variable_window
        );
        println!(
            "  with literal filters: {} ({} predicates)",
            self.with_predicates, self.predicates
        );
        println!("  calling stored functions: {}", self.with_stored_functions);
    }
}

#[test]
fn every_corpus_query_analyses_reads_something_and_has_honest_spans() {
    let rules = corpus_rules();
    assert!(rules.len() > 1000, "only {} rule queries read", rules.len());
    let library = FunctionLibrary::new();
    let mut panics = Vec::new();
    let mut reads_nothing = Vec::new();
    let mut bad_spans = Vec::new();
    let mut summary = Summary::default();
    let mut elapsed = Duration::ZERO;
    for rule in rules {
        let start = Instant::now();
        let result = std::panic::catch_unwind(|| analyse(&rule.query, &library));
        elapsed += start.elapsed();
        let analysis = match result {
            Ok(analysis) => analysis,
            Err(_) => {
                panics.push(rule.relative.clone());
                continue;
            }
        };
        summary.add(&analysis);
        let parses = !analysis.diagnostics.iter().any(|d| d.severity == "error");
        if parses
            && analysis.tables.is_empty()
            && analysis.stored_functions.is_empty()
            && !READS_NOTHING.contains(&rule.relative.as_str())
        {
            reads_nothing.push(rule.relative.clone());
        }
        for problem in span_problems(&rule.query, &analysis) {
            bad_spans.push(format!("{}: {problem}", rule.relative));
        }
    }
    summary.print(elapsed);
    assert!(panics.is_empty(), "analysis panicked on: {panics:#?}");
    assert!(
        reads_nothing.is_empty(),
        "these rules parse but read no table or stored function (read them; fix the analysis \
         or add them to READS_NOTHING): {reads_nothing:#?}"
    );
    assert!(bad_spans.is_empty(), "spans that miss: {bad_spans:#?}");
    assert!(
        summary
            .with_parameters
            .get("template")
            .copied()
            .unwrap_or(0)
            > 50
    );
    assert!(summary.with_parameters.get("fill-in").copied().unwrap_or(0) > 10);
    assert!(
        summary
            .with_parameters
            .get("empty-list")
            .copied()
            .unwrap_or(0)
            >= 5
    );
    assert!(summary.constant_window > 300, "{}", summary.constant_window);
}

#[test]
fn the_seed_rule_network_footprint_3() {
    let (query, analysis) = analysed(SEED);
    assert_eq!(analysis.tables, strings(&["DeviceFileEvents"]));
    assert!(analysis.stored_functions.is_empty());
    assert_eq!(analysis.parameters.len(), 2, "{:#?}", analysis.parameters);
    let ip = &analysis.parameters[0];
    assert_eq!(ip.placeholder, "IP ADDRESS GOES HERE");
    assert_eq!(ip.name, "ip_address");
    assert_eq!(ip.kind, PlaceholderKind::FillIn);
    assert_eq!(ip.value_type, "string");
    assert_eq!(ip.semantic.as_deref(), Some("ip"));
    assert_eq!(ip.spans.len(), 1);
    assert_eq!(&query[ip.spans[0].clone()], "\"IP ADDRESS GOES HERE\"");
    let url = &analysis.parameters[1];
    assert_eq!(url.placeholder, "URL GOES HERE");
    assert_eq!(url.name, "url");
    assert_eq!(url.semantic.as_deref(), Some("url"));
    assert_eq!(url.spans.len(), 2);
    for span in &url.spans {
        assert_eq!(&query[span.clone()], "\"URL GOES HERE\"");
    }
    let filtered: Vec<(&str, &str, &[String])> = analysis
        .predicates
        .iter()
        .map(|p| (p.column.as_str(), p.operator.as_str(), p.values.as_slice()))
        .collect();
    assert_eq!(
        filtered,
        vec![
            (
                "FileOriginUrl",
                "==",
                &strings(&["IP ADDRESS GOES HERE"])[..]
            ),
            (
                "FileOriginUrl",
                "contains",
                &strings(&["URL GOES HERE"])[..]
            ),
            (
                "FileOriginReferrerUrl",
                "contains",
                &strings(&["URL GOES HERE"])[..]
            ),
        ]
    );
    assert_eq!(analysis.operators, strings(&["project", "where"]));
    assert!(analysis.columns.contains(&"SHA1".to_string()));
    assert_eq!(analysis.time_window, None);
    assert!(analysis.indicators.is_empty());
}

#[test]
fn a_templated_rule_with_empty_allow_lists() {
    // Read by hand: `let starttime = todatetime('{{StartTimeISO}}')`, the lookback computed from
    // the two templates, two `dynamic([])` allow lists filtered with `!in`.
    let (_, analysis) =
        analysed("Hunting Queries/AzureDevOpsAuditing/ADOInternalUpstreamPacakgeFeedAdded.yaml");
    assert_eq!(analysis.tables, strings(&["AzureDevOpsAuditing"]));
    let window = analysis.time_window.clone().expect("a window");
    assert!(window.templated);
    assert_eq!(window.lookback_seconds, None);
    assert_eq!(window.text, "{{StartTimeISO}}");
    let parameters: Vec<(&str, PlaceholderKind, &str)> = analysis
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.kind, p.value_type.as_str()))
        .collect();
    assert_eq!(
        parameters,
        vec![
            ("StartTimeISO", PlaceholderKind::Template, "datetime"),
            ("EndTimeISO", PlaceholderKind::Template, "datetime"),
            ("allowed_sources", PlaceholderKind::EmptyList, "dynamic"),
            ("allowed_locations", PlaceholderKind::EmptyList, "dynamic"),
        ]
    );
    assert!(analysis
        .predicates
        .iter()
        .any(|p| p.column == "SourceLocation"
            && p.operator == "!in"
            && p.negated
            && p.values.is_empty()));
    assert!(analysis
        .predicates
        .iter()
        .any(|p| p.column == "OperationName" && p.operator == "matches regex"));
}

#[test]
fn a_join_with_lookbacks_bound_by_let() {
    // Read by hand: `let schedule_lookback = 14d; let join_lookback = 1d;`, ZoomLogs joined to a
    // `let` of ZoomLogs, `JoinedTimeZone !in (tz_whitelist)` with `tz_whitelist = dynamic([])`.
    let (_, analysis) = analysed("Detections/ZoomLogs/JoiningMeetingFromAnotherTimeZone.yaml");
    assert_eq!(analysis.tables, strings(&["ZoomLogs"]));
    assert!(analysis.operators.contains(&"join".to_string()));
    let window = analysis.time_window.clone().expect("a window");
    assert_eq!(window.lookback_seconds, Some(14 * 86_400));
    assert_eq!(window.text, "ago(schedule_lookback)");
    assert!(!window.templated);
    assert_eq!(analysis.parameters.len(), 1);
    assert_eq!(analysis.parameters[0].name, "tz_whitelist");
    assert_eq!(analysis.parameters[0].kind, PlaceholderKind::EmptyList);
    let events: Vec<&str> = analysis
        .predicates
        .iter()
        .filter(|p| p.column == "Event")
        .flat_map(|p| p.values.iter().map(String::as_str))
        .collect();
    assert_eq!(
        events,
        vec!["meeting.created", "meeting.participant_joined"]
    );
    assert!(analysis.columns.contains(&"MeetingId".to_string()));
}

#[test]
fn a_union_with_hash_indicators() {
    // Read by hand: a union of four Device tables, `Timestamp > ago(30d)`, three SHA-1s in `in`.
    let (_, analysis) = analysed(
        "Hunting Queries/Microsoft 365 Defender/Execution/check-for-shadowhammer-activity-implant.yaml",
    );
    assert_eq!(
        analysis.tables,
        strings(&[
            "DeviceFileEvents",
            "DeviceImageLoadEvents",
            "DeviceNetworkEvents",
            "DeviceProcessEvents",
        ])
    );
    assert_eq!(analysis.operators, strings(&["union", "where"]));
    assert_eq!(
        analysis
            .time_window
            .as_ref()
            .and_then(|w| w.lookback_seconds),
        Some(30 * 86_400)
    );
    let hashes: Vec<(IndicatorKind, &str)> = analysis
        .indicators
        .iter()
        .map(|i| (i.kind, i.value.as_str()))
        .collect();
    assert_eq!(
        hashes,
        vec![
            (
                IndicatorKind::Sha1,
                "e01c1047001206c52c87b8197d772db2a1d3b7b4"
            ),
            (
                IndicatorKind::Sha1,
                "e005c58331eb7db04782fdf9089111979ce1406f"
            ),
            (
                IndicatorKind::Sha1,
                "69c08086c164e58a6d0398b0ffdcb957930b4cf2"
            ),
        ]
    );
    assert_eq!(
        analysis.predicates.len(),
        1,
        "`Timestamp > ago(30d)` is no literal filter"
    );
    let predicate = &analysis.predicates[0];
    assert_eq!(predicate.column, "InitiatingProcessSHA1");
    assert_eq!(predicate.operator, "in");
    assert_eq!(predicate.values.len(), 3);
}

#[test]
fn a_union_of_subqueries_with_ip_indicators_in_a_let_list() {
    // Read by hand: 31 IPs in `let IPList = dynamic([...])`, used by `in (IPList)` in both arms
    // of a union over CommonSecurityLog and OfficeActivity; `ExchangeServicesClient/0.0.0.0` is
    // a version; `IOCTerms` is a regex.
    let (_, analysis) = analysed("Detections/MultipleDataSources/Manganese_VPN-IOCs.yaml");
    assert_eq!(
        analysis.tables,
        strings(&["CommonSecurityLog", "OfficeActivity"])
    );
    assert_eq!(analysis.indicators.len(), 31);
    assert!(analysis
        .indicators
        .iter()
        .all(|i| i.kind == IndicatorKind::Ipv4 && i.value != "0.0.0.0"));
    assert_eq!(analysis.indicators[0].value, "45.63.52.41");
    let source = analysis
        .predicates
        .iter()
        .find(|p| p.column == "SourceIP" && p.operator == "in")
        .expect("SourceIP in (IPList)");
    assert_eq!(source.values.len(), 31);
    assert!(analysis.functions.contains(&"has_any_ipv4".to_string()));
}

#[test]
fn a_function_reading_table_of_its_argument() {
    // Read by hand: `aadFunc = (tableName:string){ table(tableName) | … }` called with
    // "SigninLogs" and "AADNonInteractiveUserSignInLogs", the two unioned.
    let (_, analysis) = analysed("Detections/SigninLogs/ExplicitMFADeny.yaml");
    assert_eq!(
        analysis.tables,
        strings(&["AADNonInteractiveUserSignInLogs", "SigninLogs"])
    );
    assert_eq!(analysis.predicates[0].column, "ResultType");
    assert_eq!(analysis.predicates[0].values, strings(&["500121"]));
}

#[test]
fn golden_analyses_of_representative_rules() {
    for (name, relative) in [
        ("network_footprint_3", SEED),
        (
            "ado_internal_upstream_feed",
            "Hunting Queries/AzureDevOpsAuditing/ADOInternalUpstreamPacakgeFeedAdded.yaml",
        ),
        (
            "joining_meeting_other_time_zone",
            "Detections/ZoomLogs/JoiningMeetingFromAnotherTimeZone.yaml",
        ),
        (
            "map_external_devices",
            "Hunting Queries/Microsoft 365 Defender/Exfiltration/Map external devices.yaml",
        ),
    ] {
        let (_, analysis) = analysed(relative);
        insta::assert_yaml_snapshot!(name, analysis);
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParserYaml {
    parser_name: String,
    parser_query: String,
    #[serde(default)]
    parser_params: Vec<ParserParam>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParserParam {
    name: String,
    #[serde(rename = "Type")]
    kusto_type: String,
}

/// A stored function from an ASIM parser file's `ParserName`, `ParserParams`, `ParserQuery`.
fn asim_parser(file: &str) -> StoredFunction {
    let path = corpus_root()
        .join("Parsers/ASimProcessEvent/Parsers")
        .join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let parser: ParserYaml = serde_saphyr::from_str(text.trim_start_matches('\u{feff}'))
        .unwrap_or_else(|e| panic!("{file} is not a parser: {e}"));
    StoredFunction {
        name: parser.parser_name,
        parameters: parser
            .parser_params
            .into_iter()
            .map(|p| FunctionParameter {
                name: p.name,
                kusto_type: p.kusto_type,
                default: None,
            })
            .collect(),
        body: parser.parser_query,
        description: String::new(),
        provenance: Provenance::default(),
    }
}

#[test]
fn asim_parsers_resolve_to_the_tables_they_read() {
    let mut library = FunctionLibrary::new();
    for file in [
        "imProcessCreate.yaml",
        "vimProcessCreateMicrosoftSysmon.yaml",
        "vimProcessCreateMicrosoftSecurityEvents.yaml",
    ] {
        library.insert(asim_parser(file));
    }
    assert!(library.get("imProcessCreate").is_some());
    let query = "imProcessCreate\n| where TargetProcessName has 'rundll32'\n| summarize count() by DvcHostname";
    let analysis = analyse(query, &library);
    // Sysmon reads Event and WindowsEvent; Security Events reads SecurityEvent. The parsers not
    // loaded and called (Microsoft 365 Defender, Linux Sysmon, …) and `_GetWatchlist` read
    // nothing known; `vimProcessEmpty`, named bare and not loaded, counts as a table.
    assert_eq!(
        analysis.tables,
        strings(&["Event", "SecurityEvent", "WindowsEvent", "vimProcessEmpty"])
    );
    assert_eq!(analysis.stored_functions, strings(&["imProcessCreate"]));
    assert_eq!(analysis.predicates[0].column, "TargetProcessName");
    // A bare name that is not in the library is a table; `vimProcessEmpty` is a parser.
    library.insert(asim_parser("vimProcessEmpty.yaml"));
    assert_eq!(
        analyse(query, &library).tables,
        strings(&["Event", "SecurityEvent", "WindowsEvent"])
    );

    let called = analyse("imProcessCreate(starttime=ago(1d)) | take 10", &library);
    assert_eq!(
        called.tables,
        strings(&["Event", "SecurityEvent", "WindowsEvent"])
    );
    let one = analyse("vimProcessCreateMicrosoftSecurityEvents", &library);
    assert_eq!(one.tables, strings(&["SecurityEvent"]));
    let without = analyse(query, &FunctionLibrary::new());
    assert_eq!(
        without.tables,
        strings(&["imProcessCreate"]),
        "unknown: a table"
    );
}

#[test]
fn the_whole_corpus_with_every_parser_loaded() {
    let library = full_library();
    assert!(library.len() > 100, "only {} parsers read", library.len());
    let start = Instant::now();
    let mut resolved = 0;
    let mut calling = 0;
    for rule in corpus_rules() {
        let analysis = analyse(&rule.query, &library);
        if !analysis.stored_functions.is_empty() {
            calling += 1;
            let loaded = analysis
                .stored_functions
                .iter()
                .any(|f| library.get(f).is_some());
            if loaded && !analysis.tables.is_empty() {
                resolved += 1;
            }
        }
    }
    println!(
        "with {} parsers loaded: {} rules analysed in {:?} (this build's profile); {calling} call \
         stored functions, {resolved} of them resolved to tables",
        library.len(),
        corpus_rules().len(),
        start.elapsed()
    );
    assert!(resolved > 50, "{resolved} rules resolved through parsers");
}
