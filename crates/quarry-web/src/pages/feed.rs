//! The feed (`/`): every rule with its badges, filters, full-text search, sorting and paging,
//! the filter kept in the URL; and `/api/rules`, `/api/rules/search` behind it.

use crate::error::WebError;
use crate::pages::render_page;
use crate::state::{AppState, Snapshot};
use crate::views::{query_string, severity_class, source_label};
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::Json;
use quarry_rules::attack::Attack;
use quarry_rules::catalog::{RuleFilter, RuleSort, RuleSummary};
use quarry_rules::model::RuleKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Rules per page unless asked otherwise.
const PER_PAGE: usize = 50;
/// Most rules per page.
const MAX_PER_PAGE: usize = 500;
/// Search results considered before filtering.
const SEARCH_LIMIT: usize = 10_000;

/// The feed's query string: filters, search, sort and page. Empty means "any".
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct FeedParams {
    /// Full-text search.
    pub q: String,
    /// Source repository (substring).
    pub source: String,
    /// `hunting`, `analytic`, `exploration`.
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// A table the rule reads.
    pub table: String,
    /// An ATT&CK tactic (any spelling).
    pub tactic: String,
    /// An ATT&CK technique (sub-techniques included).
    pub technique: String,
    /// A tag.
    pub tag: String,
    /// `yes` / `no`: has parameters.
    pub params: String,
    /// `yes`: runnable on this workspace.
    pub runnable: String,
    /// `yes`: has stored findings.
    pub findings: String,
    /// `name`, `severity`, `confidence`, `kind`, `path`, `relevance`.
    pub sort: String,
    /// 1-based page.
    pub page: String,
    /// Rules per page.
    pub per_page: String,
}

fn opt(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl FeedParams {
    fn filter(&self, snapshot: &Snapshot) -> Result<RuleFilter, WebError> {
        let kind = match opt(&self.kind) {
            None => None,
            Some(k) => Some(
                RuleKind::parse(&k)
                    .ok_or_else(|| WebError::BadRequest(format!("unknown kind `{k}`")))?,
            ),
        };
        Ok(RuleFilter {
            source: opt(&self.source),
            kind,
            severity: opt(&self.severity),
            table: opt(&self.table),
            tactic: opt(&self.tactic),
            technique: opt(&self.technique),
            tag: opt(&self.tag),
            has_parameters: match self.params.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            runnable_on: (self.runnable == "yes").then(|| snapshot.tables.clone()),
            include_removed: false,
            sort: sort_of(&self.sort),
        })
    }

    /// The pairs of the query string, for links that keep the filter.
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("q", self.q.as_str()),
            ("source", &self.source),
            ("kind", &self.kind),
            ("severity", &self.severity),
            ("table", &self.table),
            ("tactic", &self.tactic),
            ("technique", &self.technique),
            ("tag", &self.tag),
            ("params", &self.params),
            ("runnable", &self.runnable),
            ("findings", &self.findings),
            ("sort", &self.sort),
            ("per_page", &self.per_page),
        ]
    }

    /// This query string with `page` set.
    pub fn page_link(&self, page: usize) -> String {
        let page = page.to_string();
        let mut pairs = self.pairs();
        pairs.push(("page", &page));
        format!("/{}", query_string(pairs))
    }

    /// This query string with one key replaced (and the page reset).
    pub fn with(&self, key: &str, value: &str) -> String {
        let pairs: Vec<(&str, &str)> = self
            .pairs()
            .into_iter()
            .map(|(k, v)| if k == key { (k, value) } else { (k, v) })
            .collect();
        format!("/{}", query_string(pairs))
    }

    /// Whether any filter or search is set.
    pub fn any(&self) -> bool {
        self.pairs()
            .iter()
            .any(|(k, v)| *k != "sort" && *k != "per_page" && !v.is_empty())
    }
}

fn sort_of(text: &str) -> RuleSort {
    match text {
        "severity" => RuleSort::Severity,
        "confidence" => RuleSort::Confidence,
        "kind" => RuleSort::Kind,
        "path" => RuleSort::Path,
        _ => RuleSort::Name,
    }
}

/// A value of a facet with its number of rules.
#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    /// The value used in the filter.
    pub value: String,
    /// How it is shown.
    pub label: String,
    /// Rules with it.
    pub count: usize,
}

/// The choices of the filter form, and the feed's sort orders (indices into the snapshot).
pub struct FeedIndex {
    /// Source repositories.
    pub sources: Vec<FacetValue>,
    /// Severities.
    pub severities: Vec<FacetValue>,
    /// Tables.
    pub tables: Vec<FacetValue>,
    /// Tactics, in ATT&CK order.
    pub tactics: Vec<FacetValue>,
    /// Tags, most used first.
    pub tags: Vec<FacetValue>,
    orders: BTreeMap<&'static str, Vec<usize>>,
}

fn count_values<'a>(values: impl Iterator<Item = &'a String>) -> Vec<FacetValue> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(v, count)| FacetValue {
            value: v.to_string(),
            label: v.to_string(),
            count,
        })
        .collect()
}

impl FeedIndex {
    fn build(rules: &[RuleSummary]) -> FeedIndex {
        let mut sources = count_values(rules.iter().map(|r| &r.source));
        for s in &mut sources {
            s.label = source_label(&s.value);
        }
        let mut severities = count_values(rules.iter().map(|r| &r.severity));
        severities.retain(|s| !s.value.is_empty());
        let tables = count_values(rules.iter().flat_map(|r| &r.tables));
        let by_tactic = count_values(rules.iter().flat_map(|r| &r.tactics));
        let attack = Attack::embedded();
        let tactics = attack
            .tactics()
            .iter()
            .filter_map(|t| {
                let count = by_tactic.iter().find(|f| f.value == t.shortname)?.count;
                Some(FacetValue {
                    value: t.shortname.clone(),
                    label: t.name.clone(),
                    count,
                })
            })
            .collect();
        let mut tags = count_values(rules.iter().flat_map(|r| &r.tags));
        tags.sort_by(|a, b| b.count.cmp(&a.count).then(a.value.cmp(&b.value)));
        tags.truncate(200);
        let position: BTreeMap<i64, usize> =
            rules.iter().enumerate().map(|(i, r)| (r.pk, i)).collect();
        let mut orders = BTreeMap::new();
        for (name, sort) in [
            ("severity", RuleSort::Severity),
            ("confidence", RuleSort::Confidence),
            ("kind", RuleSort::Kind),
            ("path", RuleSort::Path),
        ] {
            let mut sorted = rules.to_vec();
            sort.apply(&mut sorted);
            orders.insert(name, sorted.iter().map(|r| position[&r.pk]).collect());
        }
        FeedIndex {
            sources,
            severities,
            tables,
            tactics,
            tags,
            orders,
        }
    }

    /// The index of `snapshot`, built once.
    pub fn of(snapshot: &Snapshot) -> Arc<FeedIndex> {
        Arc::clone(
            snapshot
                .feed_index
                .get_or_init(|| Arc::new(FeedIndex::build(&snapshot.rules))),
        )
    }
}

/// A rule in the feed: its catalog summary plus what this workspace says about it.
#[derive(Debug, Clone, Serialize)]
pub struct FeedRow {
    /// The catalog's listing fields.
    #[serde(flatten)]
    pub s: RuleSummary,
    /// The source repository's short name.
    pub source_label: String,
    /// Can run on this workspace.
    pub runnable: bool,
    /// Has stored findings.
    pub has_findings: bool,
    /// The matching fragment, for searches.
    pub snippet: Option<String>,
}

impl FeedRow {
    fn of(summary: &RuleSummary, snapshot: &Snapshot, snippet: Option<String>) -> FeedRow {
        FeedRow {
            source_label: source_label(&summary.source),
            runnable: summary.runnable_on(&snapshot.tables),
            has_findings: snapshot.has_findings(&summary.path),
            snippet,
            s: summary.clone(),
        }
    }

    /// CSS class of the severity badge.
    pub fn severity_class(&self) -> &'static str {
        severity_class(&self.s.severity)
    }

    /// The rule page's address.
    pub fn href(&self) -> String {
        format!("/rules/{}", crate::views::url_encode(&self.s.id))
    }
}

/// One page of the feed.
#[derive(Debug, Clone, Serialize)]
pub struct FeedPage {
    /// Rules matching.
    pub total: usize,
    /// This page, 1-based.
    pub page: usize,
    /// Pages.
    pub pages: usize,
    /// Rules per page.
    pub per_page: usize,
    /// The rules of this page.
    pub rules: Vec<FeedRow>,
}

/// Filters, searches, sorts and pages the catalog.
pub fn feed(state: &AppState, params: &FeedParams) -> Result<(FeedPage, Arc<Snapshot>), WebError> {
    let snapshot = state.snapshot()?;
    let filter = params.filter(&snapshot)?;
    let findings_only = params.findings == "yes";
    let keep =
        |s: &RuleSummary| filter.matches(s) && (!findings_only || snapshot.has_findings(&s.path));
    let per_page = params
        .per_page
        .parse::<usize>()
        .unwrap_or(PER_PAGE)
        .clamp(1, MAX_PER_PAGE);
    let page = params.page.parse::<usize>().unwrap_or(1).max(1);
    let skip = (page - 1) * per_page;
    let (total, rules) = match opt(&params.q) {
        Some(text) => {
            let mut hits = state.with_catalog(|c| c.search(&text, SEARCH_LIMIT))?;
            hits.retain(|h| keep(&h.summary));
            // Relevance order unless the user picked a sort.
            if !params.sort.is_empty() && params.sort != "relevance" {
                let mut summaries: Vec<_> = hits.iter().map(|h| h.summary.clone()).collect();
                filter.sort.apply(&mut summaries);
                let order: BTreeMap<i64, usize> = summaries
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.pk, i))
                    .collect();
                hits.sort_by_key(|h| order.get(&h.summary.pk).copied());
            }
            let total = hits.len();
            let rows = hits
                .iter()
                .skip(skip)
                .take(per_page)
                .map(|h| FeedRow::of(&h.summary, &snapshot, Some(h.snippet.clone())))
                .collect();
            (total, rows)
        }
        None => {
            let index = FeedIndex::of(&snapshot);
            let name_order: Vec<usize>;
            let order: &[usize] = match index.orders.get(params.sort.as_str()) {
                Some(order) => order,
                None => {
                    name_order = (0..snapshot.rules.len()).collect();
                    &name_order
                }
            };
            let mut total = 0;
            let mut rows = Vec::new();
            for &i in order {
                let summary = &snapshot.rules[i];
                if !keep(summary) {
                    continue;
                }
                if total >= skip && rows.len() < per_page {
                    rows.push(FeedRow::of(summary, &snapshot, None));
                }
                total += 1;
            }
            (total, rows)
        }
    };
    let pages = total.div_ceil(per_page).max(1);
    Ok((
        FeedPage {
            total,
            page,
            pages,
            per_page,
            rules,
        },
        snapshot,
    ))
}

#[derive(Template)]
#[template(path = "feed.html")]
struct FeedTemplate {
    nav: &'static str,
    params: FeedParams,
    feed: FeedPage,
    index: Arc<FeedIndex>,
    catalog_total: usize,
    workspace_tables: usize,
    page_links: Vec<(String, String, bool)>,
}

/// Page numbers to show: first, last, and a window around the current one.
fn page_links(params: &FeedParams, feed: &FeedPage) -> Vec<(String, String, bool)> {
    let mut links = Vec::new();
    let mut last = 0;
    for p in 1..=feed.pages {
        let near = p.abs_diff(feed.page) <= 2;
        if p == 1 || p == feed.pages || near {
            if last != 0 && p != last + 1 {
                links.push(("…".to_string(), String::new(), false));
            }
            links.push((p.to_string(), params.page_link(p), p == feed.page));
            last = p;
        }
    }
    links
}

/// `GET /`.
pub async fn page(State(state): State<AppState>, Query(params): Query<FeedParams>) -> Response {
    render_page(feed(&state, &params).map(|(feed, snapshot)| FeedTemplate {
        nav: "feed",
        page_links: page_links(&params, &feed),
        index: FeedIndex::of(&snapshot),
        catalog_total: snapshot.rules.len(),
        workspace_tables: snapshot.tables.len(),
        params,
        feed,
    }))
}

/// `GET /api/rules`: the feed as JSON, with the same parameters.
pub async fn api(
    State(state): State<AppState>,
    Query(params): Query<FeedParams>,
) -> Result<Json<FeedPage>, WebError> {
    feed(&state, &params).map(|(page, _)| Json(page))
}

/// Query of `/api/rules/search`.
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    /// The text.
    #[serde(default)]
    q: String,
    /// Most results.
    limit: Option<usize>,
}

/// `GET /api/rules/search?q=…&limit=…`: full-text search, best first.
pub async fn search_api(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<serde_json::Value>, WebError> {
    let limit = params.limit.unwrap_or(20).clamp(1, 1000);
    let hits = state.with_catalog(|c| c.search(&params.q, limit))?;
    Ok(Json(
        serde_json::json!({ "query": params.q, "count": hits.len(), "hits": hits }),
    ))
}
