//! False-positive guidance: what benign activity the query's own logic will also return, and
//! what upstream says about it.

use super::indicators::compromise_indicators;
use super::inference::is_threshold;
use super::text::{and_list, describe_predicate, sentences, urls, words, QueryText};
use super::Generated;
use crate::analysis::{IndicatorKind, PlaceholderKind, Predicate, QueryAnalysis};
use crate::model::Rule;

/// Words that mark a description sentence as guidance on false positives.
const UPSTREAM_MARKERS: &[&str] = &[
    "false positive",
    "false-positive",
    "benign",
    "legitimate",
    "noise",
    "noisy",
    "tune",
    "tuning",
    "allowlist",
    "whitelist",
];

/// Operators that match part of a value.
const SUBSTRING_OPERATORS: &[&str] = &[
    "contains",
    "contains_cs",
    "has",
    "has_cs",
    "hasprefix",
    "hassuffix",
    "has_any",
    "has_all",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "matches regex",
];

/// Parts of column names holding free text where a substring can occur by accident.
const FREE_TEXT_COLUMNS: &[&str] = &[
    "url",
    "uri",
    "commandline",
    "path",
    "folder",
    "useragent",
    "subject",
    "query",
    "parameters",
    "message",
    "details",
];

/// Tools that administrators and management software use every day, so a match on the tool
/// alone is weak evidence.
const ADMIN_TOOLS: &[&str] = &[
    "psexec",
    "powershell",
    "pwsh",
    "wmic",
    "net.exe",
    "net1.exe",
    "reg.exe",
    "schtasks",
    "sc.exe",
    "certutil",
    "bitsadmin",
    "rundll32",
    "vssadmin",
    "wevtutil",
    "netsh",
    "nltest",
    "whoami",
    "procdump",
    "msiexec",
    "mstsc",
    "cmd.exe",
    "wscript",
    "cscript",
    "regsvr32",
    "ntdsutil",
    "dsquery",
    "tasklist",
    "ipconfig",
    "systeminfo",
    "teamviewer",
    "anydesk",
];

/// Functions and names that implement rare or first-seen logic.
const RARITY_FUNCTIONS: &[&str] = &["arg_min", "dcount", "dcountif", "make_set", "make_set_if"];
const RARITY_NAMES: &[&str] = &["firstseen", "first_seen", "rare", "prevalence", "newly"];

/// Functions and columns that reason about where an address is.
const GEO_FUNCTIONS: &[&str] = &[
    "geo_info_from_ip_address",
    "ipv4_is_private",
    "ipv4_is_in_range",
    "ipv6_is_match",
];
const GEO_COLUMNS: &[&str] = &[
    "location",
    "locationdetails",
    "country",
    "countryorregion",
    "city",
    "autonomoussystemnumber",
];

/// Look-backs of at least this many seconds (14 days) count as broad: a week is the usual
/// hunting window.
const BROAD_WINDOW_SECONDS: i64 = 14 * 24 * 3600;

fn operator_base(op: &str) -> String {
    op.trim_start_matches('!').to_ascii_lowercase()
}

/// The guidance items, in a fixed order: upstream's notes first, then what the logic implies.
pub(crate) fn false_positives(
    rule: &Rule,
    analysis: &QueryAnalysis,
    query: &QueryText,
) -> Vec<Generated> {
    let mut out = Vec::new();
    upstream_notes(rule, &mut out);
    let placeholders: Vec<&str> = analysis
        .parameters
        .iter()
        .filter(|p| p.kind != PlaceholderKind::Template)
        .map(|p| p.placeholder.as_str())
        .collect();
    let is_placeholder = |v: &String| placeholders.iter().any(|p| p.eq_ignore_ascii_case(v));
    let positive: Vec<&Predicate> = analysis.predicates.iter().filter(|p| !p.negated).collect();

    let substring: Vec<&Predicate> = positive
        .iter()
        .copied()
        .filter(|p| SUBSTRING_OPERATORS.contains(&operator_base(&p.operator).as_str()))
        .filter(|p| {
            let column = p.column.to_ascii_lowercase();
            FREE_TEXT_COLUMNS.iter().any(|c| column.contains(c))
        })
        .filter(|p| !p.values.is_empty() && !p.values.iter().all(is_placeholder))
        .collect();
    if !substring.is_empty() {
        let columns = distinct(substring.iter().map(|p| p.column.as_str()));
        out.push(Generated {
            text: format!(
                "Partial matches on {} also hit benign values that merely include the text (a \
                 path, an argument, an unrelated URL); read the whole value before acting.",
                and_list(&columns, "and")
            ),
            inputs: substring
                .iter()
                .map(|p| format!("filter {}", describe_predicate(p, 3)))
                .collect(),
        });
    }

    let tools = admin_tools(&positive, query);
    if !tools.is_empty() {
        let names: Vec<&str> = tools.iter().map(|(t, _)| *t).collect();
        out.push(Generated {
            text: format!(
                "IT staff, management agents and installers run {} legitimately (deployment, \
                 inventory, remote support); compare hits with change records and known \
                 administrative accounts and hosts.",
                and_list(&names, "and")
            ),
            inputs: tools.into_iter().map(|(_, input)| input).collect(),
        });
    }

    let rarity = rarity_inputs(analysis, query);
    if !rarity.is_empty() {
        out.push(Generated {
            text: "Rare and first-seen activity includes new software, updates, new staff, new \
                   devices and jobs that run monthly; expect hits after deployments and check \
                   them against change records."
                .to_string(),
            inputs: rarity,
        });
    }

    let thresholds: Vec<&Predicate> = positive
        .iter()
        .copied()
        .filter(|p| is_count_threshold(p))
        .collect();
    if !thresholds.is_empty() {
        let shown: Vec<String> = thresholds
            .iter()
            .map(|p| describe_predicate(p, 3))
            .collect();
        out.push(Generated {
            text: format!(
                "Thresholds ({}) are crossed by busy servers, service accounts, scanners and NAT \
                 gateways; tune them to your own baseline.",
                and_list(&shown, "and")
            ),
            inputs: shown.iter().map(|s| format!("threshold {s}")).collect(),
        });
    }

    if let Some(window) = &analysis.time_window {
        if window
            .lookback_seconds
            .is_some_and(|s| s >= BROAD_WINDOW_SECONDS)
        {
            out.push(Generated {
                text: format!(
                    "The query looks back {} ({}): hits may be old activity that was already \
                     handled; narrow the window when triaging.",
                    duration_words(window.lookback_seconds.unwrap_or(0)),
                    window.text
                ),
                inputs: vec![format!("time window {}", window.text)],
            });
        }
    }

    let fill_ins: Vec<&crate::analysis::QueryParameter> = analysis
        .parameters
        .iter()
        .filter(|p| p.kind != PlaceholderKind::Template)
        .collect();
    if !fill_ins.is_empty() {
        let names: Vec<String> = fill_ins
            .iter()
            .map(|p| match &p.semantic {
                Some(s) => format!("{} ({s})", p.name),
                None => p.name.clone(),
            })
            .collect();
        out.push(Generated {
            text: format!(
                "Results depend on the values you supply for {}: a broad value (a shared CDN \
                 address, a common domain, a short substring) matches benign activity, and an \
                 empty one may match nothing or everything.",
                and_list(&names, "and")
            ),
            inputs: fill_ins
                .iter()
                .map(|p| format!("placeholder \"{}\"", p.placeholder))
                .collect(),
        });
    }

    let geo = geo_inputs(analysis);
    if !geo.is_empty() {
        out.push(Generated {
            text: "Unfamiliar locations and external addresses include travel, VPN and proxy \
                   egress, mobile carriers and cloud-hosted services."
                .to_string(),
            inputs: geo,
        });
    }

    let threat_intel = analysis
        .tables
        .iter()
        .any(|t| t.eq_ignore_ascii_case("ThreatIntelligenceIndicator"));
    let is_hash = |k: IndicatorKind| {
        matches!(
            k,
            IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256
        )
    };
    let indicators = compromise_indicators(analysis);
    let network = indicators.iter().filter(|i| !is_hash(i.kind)).count();
    let hashes = indicators.len() - network;
    if threat_intel || network > 0 {
        let mut inputs = Vec::new();
        if threat_intel {
            inputs.push("table ThreatIntelligenceIndicator".to_string());
        }
        if network > 0 {
            inputs.push(format!(
                "{network} literal address, domain or URL indicator(s) in the query"
            ));
        }
        out.push(Generated {
            text: "Indicators go stale: shared hosting, CDN and sinkholed addresses match benign \
                   traffic; check each indicator's source, confidence and age."
                .to_string(),
            inputs,
        });
    }
    if hashes > 0 {
        out.push(Generated {
            text: "Hash lists sometimes include dual-use tools and legitimate installers; check \
                   the file's signer and how widespread it is before acting."
                .to_string(),
            inputs: vec![format!("{hashes} literal hash indicator(s) in the query")],
        });
    }
    for item in &mut out {
        let mut seen = Vec::new();
        item.inputs.retain(|i| {
            let new = !seen.contains(i);
            if new {
                seen.push(i.clone());
            }
            new
        });
    }
    out
}

/// Description sentences that talk about false positives, benign activity or tuning.
fn upstream_notes(rule: &Rule, out: &mut Vec<Generated>) {
    for (i, sentence) in sentences(&rule.description).into_iter().enumerate() {
        let lower = without_links(&sentence).to_lowercase();
        // At the start of a word: "tune" in "tuned", not in "fortune".
        let marker = UPSTREAM_MARKERS
            .iter()
            .find(|m| words(&lower).any(|(at, _)| lower[at..].starts_with(*m)));
        if let Some(marker) = marker {
            out.push(Generated {
                text: sentence,
                inputs: vec![format!(
                    "description sentence {} (mentions \"{marker}\")",
                    i + 1
                )],
            });
        }
    }
}

/// The sentence without its links, whose paths say nothing about false positives.
fn without_links(sentence: &str) -> String {
    let mut text = sentence.to_string();
    for url in urls(sentence) {
        text = text.replace(&url, " ");
    }
    text
}

/// Parts of column names that are not counts of activity: ports, times, sizes, ratios, scores.
const NOT_COUNTS: &[&str] = &[
    "port", "time", "delta", "duration", "length", "bytes", "ratio", "slope", "percent", "score",
    "size", "second", "minute", "hour", "match", "weight", "priority",
];

/// A lower bound on a count of activity (`FailedLogons > 5`), the kind busy but benign hosts
/// and accounts cross; `> 0` and `> 1` only say "any" or "more than one".
fn is_count_threshold(p: &Predicate) -> bool {
    let column = p.column.to_ascii_lowercase();
    is_threshold(p)
        && matches!(p.operator.as_str(), ">" | ">=")
        && p.values
            .iter()
            .all(|v| v.trim().parse::<f64>().is_ok_and(|n| n >= 2.0))
        && !NOT_COUNTS.iter().any(|n| column.contains(n))
}

/// Admin tools the query looks for: in positive filters when the analysis found filters, else in
/// any string of the query. Each with the input that showed it.
fn admin_tools(positive: &[&Predicate], query: &QueryText) -> Vec<(&'static str, String)> {
    let mut found: Vec<(&'static str, String)> = Vec::new();
    for tool in ADMIN_TOOLS {
        let input = if positive.is_empty() {
            query
                .string_contains(tool)
                .then(|| format!("string \"{tool}\" in the query"))
        } else {
            positive
                .iter()
                .find(|p| p.values.iter().any(|v| v.to_lowercase().contains(tool)))
                .map(|p| format!("filter {}", describe_predicate(p, 3)))
        };
        if let Some(input) = input {
            // `pwsh` adds nothing once `powershell` is listed.
            if *tool == "pwsh" && found.iter().any(|(t, _)| *t == "powershell") {
                continue;
            }
            found.push((tool, input));
        }
    }
    found
}

fn rarity_inputs(analysis: &QueryAnalysis, query: &QueryText) -> Vec<String> {
    let mut inputs: Vec<String> = analysis
        .functions
        .iter()
        .filter(|f| RARITY_FUNCTIONS.contains(&f.to_ascii_lowercase().as_str()))
        .map(|f| format!("function {f}"))
        .collect();
    for p in &analysis.predicates {
        // A count below a small whole number ("seen on fewer than 3 devices"), not a ratio.
        let small = p
            .values
            .iter()
            .all(|v| v.trim().parse::<u32>().is_ok_and(|n| (1..=5).contains(&n)));
        if is_threshold(p) && matches!(p.operator.as_str(), "<" | "<=") && small {
            inputs.push(format!("rarity threshold {}", describe_predicate(p, 3)));
        }
    }
    for name in RARITY_NAMES {
        if let Some(id) = query.identifiers.iter().find(|i| i.contains(name)) {
            inputs.push(format!("name {id}"));
        }
    }
    // dcount and make_set alone are common bookkeeping; they show rarity logic only together with
    // a small threshold or a telling name.
    let strong = inputs
        .iter()
        .any(|i| !i.starts_with("function ") || i.contains("arg_min"));
    if strong {
        inputs
    } else {
        Vec::new()
    }
}

fn geo_inputs(analysis: &QueryAnalysis) -> Vec<String> {
    let mut inputs: Vec<String> = analysis
        .functions
        .iter()
        .filter(|f| GEO_FUNCTIONS.contains(&f.to_ascii_lowercase().as_str()))
        .map(|f| format!("function {f}"))
        .collect();
    inputs.extend(
        analysis
            .columns
            .iter()
            .filter(|c| GEO_COLUMNS.contains(&c.to_ascii_lowercase().as_str()))
            .map(|c| format!("column {c}")),
    );
    inputs
}

/// `1209600` → `14 days`.
pub(crate) fn duration_words(seconds: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    for (size, unit) in UNITS {
        if seconds >= size && seconds % size == 0 {
            let n = seconds / size;
            return format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        }
    }
    format!("{seconds} seconds")
}

fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{QueryParameter, TimeWindow};
    use crate::enrich::test_support::{predicate, rule};
    use crate::model::RuleKind;

    fn texts(items: &[Generated]) -> Vec<&str> {
        items.iter().map(|g| g.text.as_str()).collect()
    }

    #[test]
    fn markers_count_at_word_starts_and_not_in_links() {
        let mut r = rule(RuleKind::Hunting);
        r.description =
            "A fortune teller. See https://x.example/benign-page. Tuned for noise.".into();
        let items = false_positives(&r, &QueryAnalysis::default(), &QueryText::read("T"));
        assert_eq!(texts(&items), ["Tuned for noise."]);
    }

    #[test]
    fn only_counts_of_activity_are_thresholds_to_tune() {
        let r = rule(RuleKind::Hunting);
        let analysis = QueryAnalysis {
            predicates: vec![
                predicate("anomalies", ">", &["0"], false),
                predicate("LocalPort", ">=", &["49152"], false),
                predicate("FailedLogons", ">=", &["5"], false),
            ],
            ..QueryAnalysis::default()
        };
        let items = false_positives(&r, &analysis, &QueryText::read("T"));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].inputs, ["threshold FailedLogons >= 5"]);
    }

    #[test]
    fn upstream_sentences_about_false_positives_are_kept() {
        let mut r = rule(RuleKind::Hunting);
        r.description = "Finds odd logons. Backup software is a known benign source. Ends.".into();
        let items = false_positives(&r, &QueryAnalysis::default(), &QueryText::read("T"));
        assert_eq!(texts(&items), ["Backup software is a known benign source."]);
        assert_eq!(
            items[0].inputs,
            ["description sentence 2 (mentions \"benign\")"]
        );
    }

    #[test]
    fn substring_matches_admin_tools_and_thresholds_each_get_an_item() {
        let r = rule(RuleKind::Hunting);
        let analysis = QueryAnalysis {
            predicates: vec![
                predicate("ProcessCommandLine", "contains", &["psexec"], false),
                predicate("FileName", "=~", &["net.exe"], true),
                predicate("count_", ">", &["10"], false),
            ],
            ..QueryAnalysis::default()
        };
        let items = false_positives(&r, &analysis, &QueryText::read("T"));
        assert_eq!(items.len(), 3, "{items:#?}");
        assert!(items[0]
            .text
            .starts_with("Partial matches on ProcessCommandLine"));
        assert_eq!(
            items[0].inputs,
            ["filter ProcessCommandLine contains \"psexec\""]
        );
        // The negated net.exe filter is an exclusion, not a match.
        assert!(
            items[1].text.contains("run psexec legitimately"),
            "{}",
            items[1].text
        );
        assert!(items[2].text.contains("(count_ > 10)"), "{}", items[2].text);
    }

    #[test]
    fn placeholders_windows_rarity_geo_and_indicators() {
        let r = rule(RuleKind::Hunting);
        let analysis = QueryAnalysis {
            functions: vec!["arg_min".into(), "geo_info_from_ip_address".into()],
            time_window: Some(TimeWindow {
                lookback_seconds: Some(14 * 86_400),
                templated: false,
                text: "ago(14d)".into(),
                span: 0..1,
            }),
            parameters: vec![QueryParameter {
                name: "ip_address".into(),
                placeholder: "IP ADDRESS GOES HERE".into(),
                kind: PlaceholderKind::FillIn,
                value_type: "string".into(),
                semantic: Some("ip".into()),
                spans: vec![],
            }],
            predicates: vec![predicate(
                "FileOriginUrl",
                "contains",
                &["IP ADDRESS GOES HERE"],
                false,
            )],
            tables: vec!["ThreatIntelligenceIndicator".into()],
            ..QueryAnalysis::default()
        };
        let items = false_positives(&r, &analysis, &QueryText::read("T"));
        let t = texts(&items);
        assert_eq!(t.len(), 5, "{t:#?}");
        assert!(t[0].starts_with("Rare and first-seen"));
        assert!(t[1].contains("14 days (ago(14d))"));
        assert!(t[2].contains("ip_address (ip)"));
        assert!(t[3].starts_with("Unfamiliar locations"));
        assert!(t[4].starts_with("Indicators go stale"));
    }

    #[test]
    fn dcount_alone_is_not_rarity_logic_and_strings_stand_in_for_missing_filters() {
        let r = rule(RuleKind::Hunting);
        let analysis = QueryAnalysis {
            functions: vec!["dcount".into()],
            ..QueryAnalysis::default()
        };
        let q = QueryText::read(r#"T | where X has "wmic.exe""#);
        let items = false_positives(&r, &analysis, &q);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].inputs, ["string \"wmic\" in the query"]);
        assert_eq!(duration_words(3600), "1 hour");
        assert_eq!(duration_words(90), "90 seconds");
    }
}
