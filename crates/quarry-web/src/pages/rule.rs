//! The rule page (`/rules/{id}`): every section of a SOC feed's rule page — badges, provenance,
//! confidence, hypothesis, the highlighted KQL with its diagnostics, the raw YAML, data sources
//! and their presence here, references, false positives, contradictions — plus the parameters
//! form and the Run panel; and `/api/rules/{id}`.

use crate::error::WebError;
use crate::highlight::{highlight, Highlighted, Mark};
use crate::pages::render_page;
use crate::state::{AppState, Snapshot};
use crate::views::{severity_class, source_label, url_encode};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use quarry_hunt::findings::StoredFinding;
use quarry_rules::analysis::PlaceholderKind;
use quarry_rules::attack::{Attack, ATTACK_COPYRIGHT};
use quarry_rules::catalog::RuleRecord;
use quarry_rules::enrich::BindStatus;
use serde::Serialize;

/// Findings listed on the page.
const FINDINGS_SHOWN: usize = 50;

/// A data source of the rule with its presence in the workspace.
#[derive(Debug, Clone, Serialize)]
pub struct Presence {
    /// The table.
    pub table: String,
    /// Connectors that provide it.
    pub connectors: Vec<String>,
    /// Declared by the rule.
    pub declared: bool,
    /// Read by the query.
    pub read: bool,
    /// In this workspace.
    pub in_workspace: bool,
    /// Rows here.
    pub rows: Option<u64>,
    /// First event here.
    pub first: Option<String>,
    /// Last event here.
    pub last: Option<String>,
}

/// The presence of each of the rule's data sources in the workspace.
pub fn presence(record: &RuleRecord, snapshot: &Snapshot) -> Vec<Presence> {
    record
        .enrichment
        .data_sources
        .iter()
        .map(|source| {
            let entry = snapshot
                .workspace
                .as_ref()
                .and_then(|w| w.manifest().tables.get(&source.table));
            let info = entry.map(|e| crate::views::table_info(&source.table, e));
            Presence {
                table: source.table.clone(),
                connectors: source.connectors.clone(),
                declared: source.declared,
                read: source.read,
                in_workspace: entry.is_some(),
                rows: info.as_ref().map(|i| i.rows),
                first: info.as_ref().and_then(|i| i.first.clone()),
                last: info.and_then(|i| i.last),
            }
        })
        .collect()
}

/// A field of the parameters form.
pub struct ParamField {
    /// The parameter's name (the form field).
    pub name: String,
    /// Its placeholder in the query.
    pub placeholder: String,
    /// Kusto type.
    pub value_type: String,
    /// `ip`, `url`, … when known.
    pub semantic: String,
    /// What kind of placeholder it is, for people.
    pub kind: &'static str,
    /// Whether the rule cannot run without it.
    pub required: bool,
    /// Occurrences in the query.
    pub occurrences: usize,
}

/// An ATT&CK entry with its name and why it is there.
pub struct AttackItem {
    /// `T1071.001`, `command-and-control`.
    pub id: String,
    /// Its ATT&CK name.
    pub name: String,
    /// Inferred by Quarry.
    pub inferred: bool,
    /// The evidence or note.
    pub reason: String,
}

#[derive(Template)]
#[template(path = "rule.html")]
struct RulePage {
    nav: &'static str,
    r: RuleRecord,
    api: String,
    source: String,
    severity_class: &'static str,
    query_html: Highlighted,
    bind_text: String,
    bind_ok: bool,
    tactics: Vec<AttackItem>,
    techniques: Vec<AttackItem>,
    fields: Vec<ParamField>,
    presence: Vec<Presence>,
    runnable: bool,
    findings: Vec<StoredFinding>,
    findings_total: usize,
    lookback: String,
    attribution: &'static str,
    others: usize,
}

/// The rule with this upstream id (the first when upstream reuses the id).
pub fn find_rule(state: &AppState, id: &str) -> Result<RuleRecord, WebError> {
    let mut records = state.with_catalog(|c| c.rule(id))?;
    if records.is_empty() {
        return Err(WebError::NotFound(format!(
            "no rule with id `{id}` in the catalog"
        )));
    }
    Ok(records.swap_remove(0))
}

fn bind_text(bind: &BindStatus) -> (String, bool) {
    match bind {
        BindStatus::Ok => ("binds and plans over the table schemas".into(), true),
        BindStatus::MissingTables(t) => (
            format!("reads tables no schema describes: {}", t.join(", ")),
            false,
        ),
        BindStatus::Unsupported(f) => (
            format!("uses a feature Quarry does not run yet: {f}"),
            false,
        ),
        BindStatus::Error(m) => (format!("does not bind: {m}"), false),
        BindStatus::NotChecked => ("not checked against the schemas".into(), false),
    }
}

fn attack_items(items: &[quarry_rules::enrich::Inferred], tactics: bool) -> Vec<AttackItem> {
    let attack = Attack::embedded();
    items
        .iter()
        .map(|item| {
            let (id, name) = if tactics {
                attack
                    .tactic(&item.value)
                    .map_or((item.value.clone(), String::new()), |t| {
                        (t.id.clone(), t.name.clone())
                    })
            } else {
                (
                    item.value.clone(),
                    attack
                        .technique(&item.value)
                        .map_or(String::new(), |t| t.name.clone()),
                )
            };
            AttackItem {
                id,
                name,
                inferred: item.inferred,
                reason: item.reason.clone().unwrap_or_default(),
            }
        })
        .collect()
}

fn page_of(state: &AppState, id: &str) -> Result<RulePage, WebError> {
    let snapshot = state.snapshot()?;
    let record = find_rule(state, id)?;
    let analysis = &record.analysis;
    let mut marks: Vec<Mark> = analysis
        .diagnostics
        .iter()
        .map(|d| Mark {
            start: d.span.start,
            end: d.span.end,
            class: if d.severity == "error" {
                "error"
            } else {
                "warning"
            },
            title: d.message.clone(),
        })
        .collect();
    for p in &analysis.parameters {
        for span in &p.spans {
            marks.push(Mark {
                start: span.start,
                end: span.end,
                class: "param",
                title: format!("parameter {}", p.name),
            });
        }
    }
    let fields = analysis
        .parameters
        .iter()
        .map(|p| ParamField {
            name: p.name.clone(),
            placeholder: p.placeholder.clone(),
            value_type: p.value_type.clone(),
            semantic: p.semantic.clone().unwrap_or_default(),
            kind: match p.kind {
                PlaceholderKind::FillIn => "fill-in",
                PlaceholderKind::EmptyList => "list (comma-separated, may stay empty)",
                PlaceholderKind::Template => "template (the time window fills StartTime/EndTime)",
            },
            required: quarry_hunt::hunt::is_required(p) && p.kind != PlaceholderKind::Template,
            occurrences: p.spans.len(),
        })
        .collect();
    let mut findings = state
        .findings()?
        .findings_of_rule(&record.rule.provenance.path)
        .map_err(|e| WebError::Workspace(e.to_string()))?;
    let findings_total = findings.len();
    findings.truncate(FINDINGS_SHOWN);
    let (bind_text, bind_ok) = bind_text(&record.bind);
    let lookback = analysis
        .time_window
        .as_ref()
        .map(|w| w.text.clone())
        .or_else(|| record.rule.query_period.clone())
        .unwrap_or_default();
    Ok(RulePage {
        nav: "feed",
        api: format!("/api/rules/{}", url_encode(&record.rule.id)),
        source: source_label(&record.source.repository),
        severity_class: severity_class(&record.enrichment.severity.value),
        query_html: highlight(&record.rule.query, &marks),
        bind_text,
        bind_ok,
        tactics: attack_items(&record.enrichment.tactics, true),
        techniques: attack_items(&record.enrichment.techniques, false),
        fields,
        presence: presence(&record, &snapshot),
        runnable: record.summary.runnable_on(&snapshot.tables),
        findings,
        findings_total,
        lookback,
        attribution: ATTACK_COPYRIGHT,
        others: record.same_id_elsewhere.len(),
        r: record,
    })
}

impl RulePage {
    /// A stored finding's row as one line of text.
    fn row_text(&self, finding: &StoredFinding) -> String {
        let text = finding.row.to_string();
        if text.chars().count() > 300 {
            let cut: String = text.chars().take(299).collect();
            format!("{cut}…")
        } else {
            text
        }
    }

    /// A link target from rule text: only http(s) addresses, anything else (`javascript:`,
    /// `data:`) becomes an inert `#`.
    fn link(&self, url: &str) -> String {
        let lower = url.trim().to_ascii_lowercase();
        if lower.starts_with("https://") || lower.starts_with("http://") {
            url.trim().to_string()
        } else {
            "#".to_string()
        }
    }

    /// When the catalog retrieved the rule, for people.
    fn retrieved(&self) -> &str {
        &self.r.rule.provenance.retrieved_at
    }
}

/// `GET /rules/{id}`.
pub async fn page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    render_page(page_of(&state, &id))
}

/// The API's rule document: the catalog record plus the presence of its data sources.
#[derive(Serialize)]
struct RuleDocument {
    #[serde(flatten)]
    record: RuleRecord,
    data_sources_in_workspace: Vec<Presence>,
    runnable: bool,
    findings: usize,
}

/// `GET /api/rules/{id}`.
pub async fn api(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, WebError> {
    let snapshot = state.snapshot()?;
    let record = find_rule(&state, &id)?;
    let findings = state
        .findings()?
        .findings_of_rule(&record.rule.provenance.path)
        .map_err(|e| WebError::Workspace(e.to_string()))?
        .len();
    let document = RuleDocument {
        data_sources_in_workspace: presence(&record, &snapshot),
        runnable: record.summary.runnable_on(&snapshot.tables),
        findings,
        record,
    };
    serde_json::to_value(&document)
        .map(Json)
        .map_err(|e| WebError::Workspace(e.to_string()))
}
