//! Values the user must fill in: placeholder strings (`"IP ADDRESS GOES HERE"`, `"<domain>"`,
//! a `let …Param = "…"`), empty lists bound by `let` and used as filters, and `{{Name}}` rule
//! templates.

use super::facts::{Facts, LetInfo, LetKind, LetUse, Role, StringSite};
use super::semantic::{name_from_text, semantic_of};
use super::time_window::TimeTemplate;
use super::{PlaceholderKind, QueryParameter};
use regex::Regex;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

/// The patterns placeholder text follows in the rule corpora, compiled once.
struct Patterns {
    goes_here: Regex,
    angle: Regex,
    instruction: Regex,
    your: Regex,
    caps_placeholder: Regex,
    example_domain: Regex,
    template: Regex,
    comment_instruction: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let compile = |pattern: &str| Regex::new(pattern).expect("a valid built-in pattern");
        Patterns {
            goes_here: compile(r"(?i)\bgoes\s+here\b"),
            angle: compile(r"^<\s*([A-Za-z][A-Za-z0-9 _./-]{0,78}?)\s*>$"),
            instruction: compile(
                r"(?i)^\s*(?:(?:enter|insert|type|put|specify|provide|fill\s+in)\b.*\bhere\b|replace\s+(?:this\s+|me\s+|it\s+)?with\b|replace\s+me\b)",
            ),
            your: compile(r"^YOUR[_ ][A-Z0-9_ ]+$"),
            caps_placeholder: compile(
                r"^[A-Z]+(?:_[A-Z]+)*_(?:NAME|HERE|VALUE|USER|USERNAME|ACCOUNT|DOMAIN|HOST|HOSTNAME|IP|URL|ID|ADDRESS|HASH|PATH)$",
            ),
            example_domain: compile(
                r"(?i)(?:^|[.@/])(?:contoso|fabrikam|example|wingtiptoys|northwindtraders|adventure-works)\.(?:com|net|org)\b",
            ),
            template: compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}"),
            comment_instruction: compile(
                r"(?i)\b(?:enter|change\s+(?:this|to|it)|replace|insert|update\s+(?:this|to|with)|adjust\s+(?:for|to)|set\s+(?:this|to)|put\s+your|fill\s+in|specify)\b",
            ),
        }
    })
}

/// HTML tag names: `'<script>'` in a query is a value searched for, not a placeholder.
const HTML_TAGS: &[&str] = &[
    "a", "abbr", "applet", "audio", "b", "base", "body", "br", "button", "code", "details",
    "dialog", "div", "em", "embed", "form", "frame", "frameset", "h1", "h2", "h3", "head", "html",
    "i", "iframe", "image", "img", "input", "label", "li", "link", "marquee", "math", "meta",
    "noscript", "object", "ol", "option", "p", "pre", "script", "select", "source", "span",
    "strong", "style", "svg", "table", "td", "template", "textarea", "title", "tr", "u", "ul",
    "video", "xml",
];

/// True for text written to be replaced: `… GOES HERE`, `<domain>`, `Enter the domain here`,
/// `replace with …`, `YOUR_TENANT`, `XXX`, `xx.xx.xx.0`.
pub(crate) fn is_placeholder_text(text: &str) -> bool {
    let p = patterns();
    if p.goes_here.is_match(text) || p.instruction.is_match(text) || p.your.is_match(text) {
        return true;
    }
    if let Some(inner) = p.angle.captures(text).and_then(|c| c.get(1)) {
        let first = inner
            .as_str()
            .split([' ', '/'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        return !HTML_TAGS.contains(&first.as_str());
    }
    if text.len() >= 3 && text.chars().all(|c| c == 'X') {
        return true;
    }
    is_masked_ip(text)
}

/// An IPv4 address with letters for the parts to fill (`xx.xx.xx.0`, `X.X.X.X`, `Y.Y.Y.Y/24`).
fn is_masked_ip(text: &str) -> bool {
    let address = text.split_once('/').map_or(text, |(a, _)| a);
    let parts: Vec<&str> = address.split('.').collect();
    let masked = |part: &str| {
        let mut chars = part.chars();
        let first = chars.next().map(|c| c.to_ascii_lowercase());
        part.len() <= 3
            && matches!(first, Some('x' | 'y' | 'z' | 'n'))
            && part.chars().all(|c| Some(c.to_ascii_lowercase()) == first)
    };
    let numeric =
        |part: &str| (1..=3).contains(&part.len()) && part.chars().all(|c| c.is_ascii_digit());
    parts.len() == 4
        && parts.iter().all(|p| masked(p) || numeric(p))
        && parts.iter().any(|p| masked(p))
}

/// True when a `let` of a single literal says by its name, value or trailing comment that it is
/// meant to be changed (`let ipAddressParam = "…"`, `let U = "john.doe@contoso.com"`,
/// `let T = 'x'; // Enter the username`, `let T = 'FORMER_EMPLOYEE_NAME'`).
fn let_asks_for_a_value(src: &str, binding: &LetInfo, value: &str) -> bool {
    let p = patterns();
    let name = binding.name.as_str();
    if name.ends_with("Param") || name.to_ascii_lowercase().ends_with("_param") {
        return true;
    }
    if p.example_domain.is_match(value) || p.caps_placeholder.is_match(value) {
        return true;
    }
    trailing_comment(src, binding.statement_span.end)
        .is_some_and(|comment| p.comment_instruction.is_match(comment))
}

/// The `// comment` on the same line after a statement ending at `end`.
fn trailing_comment(src: &str, end: usize) -> Option<&str> {
    let rest = src.get(end..)?;
    let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
    let after = line.trim_start_matches(|c: char| c == ';' || c.is_whitespace());
    after.strip_prefix("//")
}

/// What a placeholder's own text says it is, by its shape (an IP address, an e-mail, a URL).
fn shape_semantic(value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.parse::<std::net::IpAddr>().is_ok() || is_masked_ip(value) {
        Some("ip")
    } else if value.starts_with("http://") || value.starts_with("https://") {
        Some("url")
    } else if value.contains('@') && !value.contains(' ') {
        Some("account")
    } else {
        None
    }
}

/// True for the templates that set a rule's time window.
pub(crate) fn is_time_template(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.starts_with("start") || lower.starts_with("end"))
        && (lower.contains("time") || lower.contains("date"))
}

/// A parameter being assembled.
struct Draft {
    name: String,
    placeholder: String,
    kind: PlaceholderKind,
    value_type: String,
    semantic: Option<String>,
    spans: Vec<Range<usize>>,
    columns: Vec<String>,
}

impl Draft {
    fn finish(mut self, fallback_words: &str) -> QueryParameter {
        if self.semantic.is_none() {
            self.semantic = semantic_of(fallback_words)
                .or_else(|| self.columns.iter().find_map(|c| semantic_of(c)))
                .map(str::to_string);
        }
        QueryParameter {
            name: self.name,
            placeholder: self.placeholder,
            kind: self.kind,
            value_type: self.value_type,
            semantic: self.semantic,
            spans: self.spans,
        }
    }
}

/// The `let` a string is the whole value of (`let X = "…"`, `let X = datetime(…)`).
fn direct_binding<'f>(facts: &'f Facts, site: &StringSite) -> Option<&'f LetInfo> {
    let binding = facts.lets.get(site.binding?)?;
    let direct = match binding.kind {
        LetKind::String => binding.value_span == site.span,
        LetKind::DateTime => {
            site.role == Role::DateTime
                && binding.value_span.start <= site.span.start
                && site.span.end <= binding.value_span.end
        }
        _ => false,
    };
    direct.then_some(binding)
}

/// Every parameter of the query, in the order they first occur, and the first template that
/// sets the time window.
pub(crate) fn find(src: &str, facts: &Facts) -> (Vec<QueryParameter>, Option<TimeTemplate>) {
    let mut uses: HashMap<usize, Vec<&LetUse>> = HashMap::new();
    for u in &facts.let_uses {
        uses.entry(u.id).or_default().push(u);
    }
    let use_columns = |id: Option<usize>| -> Vec<String> {
        id.and_then(|id| uses.get(&id))
            .map(|list| list.iter().filter_map(|u| u.column.clone()).collect())
            .unwrap_or_default()
    };

    let mut drafts: Vec<(Draft, String)> = Vec::new();
    let mut fill_ins: HashMap<String, usize> = HashMap::new();
    let mut templates: HashMap<String, usize> = HashMap::new();
    let mut time_template: Option<TimeTemplate> = None;

    for site in &facts.strings {
        for occurrence in templates_in(src, site.span.clone()) {
            let (name, span) = occurrence;
            let text = src.get(span.clone()).unwrap_or_default().to_string();
            if time_template.is_none() && is_time_template(&name) {
                time_template = Some(TimeTemplate {
                    text: text.clone(),
                    span: span.clone(),
                });
            }
            let index = *templates.entry(name.clone()).or_insert_with(|| {
                drafts.push((template_draft(&name, &text), name.clone()));
                drafts.len() - 1
            });
            let draft = &mut drafts[index].0;
            draft.spans.push(span);
            if site.role == Role::DateTime {
                draft.value_type = "datetime".into();
            }
            draft.columns.extend(site.column.clone());
            draft.columns.extend(use_columns(site.binding));
        }
        if matches!(site.role, Role::Regex | Role::Rewrite | Role::ExternalUri) {
            continue;
        }
        let direct = direct_binding(facts, site);
        let asked = is_placeholder_text(&site.value)
            || direct.is_some_and(|b| let_asks_for_a_value(src, b, &site.value));
        if !asked {
            continue;
        }
        let index = *fill_ins.entry(site.value.clone()).or_insert_with(|| {
            let name = if is_masked_ip(&site.value) {
                "ip".to_string()
            } else {
                name_from_text(&site.value)
            };
            let draft = Draft {
                name,
                placeholder: site.value.clone(),
                kind: PlaceholderKind::FillIn,
                value_type: "string".into(),
                semantic: semantic_of(&site.value)
                    .or_else(|| shape_semantic(&site.value))
                    .map(str::to_string),
                spans: Vec::new(),
                columns: Vec::new(),
            };
            drafts.push((draft, String::new()));
            drafts.len() - 1
        });
        let (draft, fallback) = &mut drafts[index];
        if let Some(binding) = direct {
            if fallback.is_empty() {
                draft.name = binding.name.clone();
                *fallback = binding.name.clone();
            }
        }
        if site.role == Role::DateTime {
            draft.value_type = "datetime".into();
        }
        draft.spans.push(site.span.clone());
        draft.columns.extend(site.column.clone());
        draft.columns.extend(use_columns(site.binding));
    }

    for site in &facts.templates {
        let text = src.get(site.span.clone()).unwrap_or_default().to_string();
        if time_template.is_none() && is_time_template(&site.name) {
            time_template = Some(TimeTemplate {
                text: text.clone(),
                span: site.span.clone(),
            });
        }
        let index = *templates.entry(site.name.clone()).or_insert_with(|| {
            drafts.push((template_draft(&site.name, &text), site.name.clone()));
            drafts.len() - 1
        });
        let draft = &mut drafts[index].0;
        draft.spans.push(site.span.clone());
        if site.role == Role::DateTime {
            draft.value_type = "datetime".into();
        } else if site.numeric && draft.value_type == "string" {
            draft.value_type = "long".into();
        }
        draft.columns.extend(site.column.clone());
    }

    for (id, binding) in facts.lets.iter().enumerate() {
        let filtered = uses.get(&id).is_some_and(|u| u.iter().any(|u| u.in_list));
        if binding.kind != LetKind::EmptyList || !filtered {
            continue;
        }
        drafts.push((
            Draft {
                name: binding.name.clone(),
                placeholder: src
                    .get(binding.value_span.clone())
                    .unwrap_or_default()
                    .to_string(),
                kind: PlaceholderKind::EmptyList,
                value_type: "dynamic".into(),
                semantic: None,
                spans: vec![binding.value_span.clone()],
                columns: use_columns(Some(id)),
            },
            binding.name.clone(),
        ));
    }

    let mut parameters: Vec<QueryParameter> = drafts
        .into_iter()
        .filter(|(draft, _)| !draft.spans.is_empty())
        .map(|(mut draft, fallback)| {
            draft.spans.sort_by_key(|s| s.start);
            draft.spans.dedup();
            draft.finish(&fallback)
        })
        .collect();
    parameters.sort_by_key(|p| p.spans.first().map_or(usize::MAX, |s| s.start));
    unique_names(&mut parameters);
    (parameters, time_template)
}

fn template_draft(name: &str, text: &str) -> Draft {
    let time = is_time_template(name);
    Draft {
        name: name.to_string(),
        placeholder: text.to_string(),
        kind: PlaceholderKind::Template,
        value_type: if time { "datetime" } else { "string" }.into(),
        semantic: if time {
            Some("time".into())
        } else {
            semantic_of(name).map(str::to_string)
        },
        spans: Vec::new(),
        columns: Vec::new(),
    }
}

/// `{{Name}}` templates inside a string literal's text: names and absolute spans.
fn templates_in(src: &str, span: Range<usize>) -> Vec<(String, Range<usize>)> {
    let Some(text) = src.get(span.clone()) else {
        return Vec::new();
    };
    if !text.contains("{{") {
        return Vec::new();
    }
    patterns()
        .template
        .captures_iter(text)
        .filter_map(|c| {
            let whole = c.get(0)?;
            let name = c.get(1)?.as_str().to_string();
            Some((name, span.start + whole.start()..span.start + whole.end()))
        })
        .collect()
}

/// Gives parameters that would share a name a numbered suffix (`url`, `url_2`).
fn unique_names(parameters: &mut [QueryParameter]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for parameter in parameters.iter_mut() {
        let count = seen.entry(parameter.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            parameter.name = format!("{}_{}", parameter.name, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyse;
    use crate::model::FunctionLibrary;

    fn parameters(query: &str) -> Vec<QueryParameter> {
        analyse(query, &FunctionLibrary::new()).parameters
    }

    fn spans_text<'q>(query: &'q str, p: &QueryParameter) -> Vec<&'q str> {
        p.spans.iter().map(|s| &query[s.clone()]).collect()
    }

    #[test]
    fn placeholder_texts_from_the_corpus_and_their_false_friends() {
        for yes in [
            "IP ADDRESS GOES HERE",
            "url goes here",
            "<domain>",
            "<replace this with full computer name>",
            "<project_X>",
            "Enter the domain here",
            "replace with your tenant",
            "YOUR_TENANT_ID",
            "XXX",
            "xx.xx.xx.0",
            "X.X.X.X",
            "Y.Y.Y.Y/24",
        ] {
            assert!(is_placeholder_text(yes), "{yes}");
        }
        for no in [
            "<script>",
            "</script>",
            "<iframe src=x>",
            "a <b> c",
            "xxx",
            ".xxx",
            "10.0.0.1",
            "a.b.c.d",
            "x.x.x",
            "xxxx.1.1.1",
            "Enter-PSSession",
            "Your order has shipped",
            "STATUS_OBJECT_NAME_NOT_FOUND",
            "<",
            "<>",
        ] {
            assert!(!is_placeholder_text(no), "{no}");
        }
    }

    #[test]
    fn one_parameter_per_placeholder_with_every_span() {
        let query = "DeviceFileEvents\n| where FileOriginUrl == \"IP ADDRESS GOES HERE\" or FileOriginUrl contains \"URL GOES HERE\" or FileOriginReferrerUrl contains \"URL GOES HERE\"";
        let got = parameters(query);
        assert_eq!(got.len(), 2, "{got:#?}");
        assert_eq!(got[0].name, "ip_address");
        assert_eq!(got[0].placeholder, "IP ADDRESS GOES HERE");
        assert_eq!(got[0].semantic.as_deref(), Some("ip"));
        assert_eq!(got[0].kind, PlaceholderKind::FillIn);
        assert_eq!(got[0].value_type, "string");
        assert_eq!(spans_text(query, &got[0]), vec!["\"IP ADDRESS GOES HERE\""]);
        assert_eq!(got[1].name, "url");
        assert_eq!(got[1].semantic.as_deref(), Some("url"));
        assert_eq!(
            spans_text(query, &got[1]),
            vec!["\"URL GOES HERE\"", "\"URL GOES HERE\""]
        );
    }

    #[test]
    fn let_names_name_their_placeholders_and_columns_tell_semantics() {
        let query = "let IP = \"IP ADDRESS GOES HERE\";\nlet Who = '<someone>';\nT | where RemoteIP == IP and AccountName =~ Who";
        let got = parameters(query);
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["IP", "Who"]);
        assert_eq!(
            got[1].semantic.as_deref(),
            Some("account"),
            "from the column"
        );
        assert_eq!(spans_text(query, &got[1]), vec!["'<someone>'"]);
    }

    #[test]
    fn lets_that_ask_for_a_value() {
        let query = "let ipAddressParam = \"192.168.1.5\";\n\
                     let pivotTimeParam = datetime(2018-07-15 19:51:00);\n\
                     let TermAccount = 'departing.employee'; //Enter the departing employee's username\n\
                     let Former = 'FORMER_EMPLOYEE_NAME';\n\
                     let UserToAnalyze=\"john.doe@contoso.com\";\n\
                     let IPAddress = \"172.16.40.8\";  // internal IP address to search\n\
                     let Plain = 'x';\n\
                     T | where A == ipAddressParam";
        let got = parameters(query);
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "ipAddressParam",
                "pivotTimeParam",
                "TermAccount",
                "Former",
                "UserToAnalyze"
            ]
        );
        assert_eq!(got[0].semantic.as_deref(), Some("ip"));
        assert_eq!(got[1].value_type, "datetime");
        assert_eq!(spans_text(query, &got[1]), vec!["2018-07-15 19:51:00"]);
        assert_eq!(got[2].semantic.as_deref(), Some("account"));
        assert_eq!(got[4].semantic.as_deref(), Some("account"));
    }

    #[test]
    fn templates_in_strings_and_as_expressions() {
        let query = "let starttime = todatetime('{{StartTimeISO}}');\nlet endtime = todatetime(\"{{ EndTimeISO }}\");\nT | where TimeGenerated between (starttime .. endtime) and SrcIp == '{{SrcIpAddr}}' and Count > {{threshold}} and B == '{{SrcIpAddr}}'";
        let got = parameters(query);
        let summary: Vec<(&str, &str, &str, Option<&str>, usize)> = got
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.placeholder.as_str(),
                    p.value_type.as_str(),
                    p.semantic.as_deref(),
                    p.spans.len(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "StartTimeISO",
                    "{{StartTimeISO}}",
                    "datetime",
                    Some("time"),
                    1
                ),
                (
                    "EndTimeISO",
                    "{{ EndTimeISO }}",
                    "datetime",
                    Some("time"),
                    1
                ),
                ("SrcIpAddr", "{{SrcIpAddr}}", "string", Some("ip"), 2),
                ("threshold", "{{threshold}}", "long", None, 1),
            ]
        );
        assert!(got.iter().all(|p| p.kind == PlaceholderKind::Template));
        assert_eq!(spans_text(query, &got[0]), vec!["{{StartTimeISO}}"]);
    }

    #[test]
    fn empty_lists_used_as_filters() {
        let query = "let allowed_users = dynamic([]);\nlet unused = dynamic([]);\nlet tz = datatable(z:string)[];\nlet later = dynamic([]);\nT | where AADEmail !in (allowed_users) and Zone in (tz) | extend x = later, y = pack_array(later)";
        let got = parameters(query);
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["allowed_users", "tz"]);
        assert!(got.iter().all(|p| p.kind == PlaceholderKind::EmptyList));
        assert_eq!(got[0].value_type, "dynamic");
        assert_eq!(got[0].semantic.as_deref(), Some("account"));
        assert_eq!(spans_text(query, &got[0]), vec!["dynamic([])"]);
        assert_eq!(spans_text(query, &got[1]), vec!["datatable(z:string)[]"]);
    }

    #[test]
    fn replacements_regexes_and_html_are_not_placeholders() {
        let got = parameters(
            "T | extend F = replace(@'[0-9a-f]{8}', '<guid>', F) | where C contains '<script>' and D matches regex '<name>'",
        );
        assert_eq!(got, vec![]);
    }

    #[test]
    fn masked_addresses_in_a_list_are_ip_parameters() {
        let query = "let expectedIPs = dynamic(['X.X.X.X', 'Y.Y.Y.Y']);\nW3CIISLog | where cIP !in (expectedIPs)";
        let got = parameters(query);
        let summary: Vec<(&str, &str, Option<&str>)> = got
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.placeholder.as_str(),
                    p.semantic.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("ip", "X.X.X.X", Some("ip")),
                ("ip_2", "Y.Y.Y.Y", Some("ip"))
            ]
        );
        assert_eq!(spans_text(query, &got[1]), vec!["'Y.Y.Y.Y'"]);
    }

    #[test]
    fn names_stay_unique() {
        let got = parameters("T | where A == '<url>' and B == 'URL GOES HERE'");
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, vec!["url", "url_2"]);
    }
}
