//! The pinned time window of a rule in a hunt over exported data: `now()` is the latest event in
//! the tables the rule reads (or `--to`), and `{{StartTimeISO}}`/`{{EndTimeISO}}` span the rule's
//! own look-back (or `--from`).

use quarry_engine::values::parse_timespan;
use quarry_ingest::workspace::manifest::Manifest;
use serde::Serialize;

/// One day in nanoseconds: the look-back of a templated hunting query that declares none
/// (the hunting page's usual default range).
pub const DEFAULT_LOOKBACK_NANOS: i64 = 86_400 * 1_000_000_000;

/// Where a rule's `now` came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "detail")]
pub enum NowSource {
    /// `--to` was given.
    Given,
    /// The latest event of these tables.
    LatestEvent(Vec<String>),
}

/// A rule's time window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleWindow {
    /// What `now()` returns, in nanoseconds since the epoch.
    pub now: i64,
    /// The window's start (`{{StartTimeISO}}`), in nanoseconds.
    pub start: i64,
    /// Where `now` came from.
    pub now_source: NowSource,
}

/// The hunt's window options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WindowOptions {
    /// `--from`, nanoseconds.
    pub from: Option<i64>,
    /// `--to`, nanoseconds.
    pub to: Option<i64>,
}

/// A look-back written as a KQL timespan (`14d`, `1h`) or an ISO 8601 duration (`PT1H`,
/// `P14D`), in nanoseconds.
pub fn parse_lookback(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(nanos) = parse_timespan(text) {
        return Some(nanos);
    }
    let upper = text.to_ascii_uppercase();
    let rest = upper.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total: i64 = 0;
    let mut add = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
            } else {
                let unit = units.iter().find(|(u, _)| *u == c)?.1;
                let value: f64 = number.parse().ok()?;
                total = total.checked_add((value * unit as f64) as i64)?;
                number.clear();
            }
        }
        number.is_empty().then_some(())
    };
    const S: i64 = 1_000_000_000;
    add(date, &[('W', 7 * 86_400 * S), ('D', 86_400 * S)])?;
    add(time, &[('H', 3_600 * S), ('M', 60 * S), ('S', S)])?;
    (total > 0).then_some(total)
}

/// The latest event time of `tables` in the workspace, and the tables that have one.
pub fn latest_event(manifest: &Manifest, tables: &[String]) -> Option<(i64, Vec<String>)> {
    let mut latest: Option<i64> = None;
    let mut with_data = Vec::new();
    for table in tables {
        let Some(entry) = manifest.tables.get(table) else {
            continue;
        };
        let last = ["TimeGenerated", "Timestamp"]
            .iter()
            .filter_map(|c| entry.time_range(c).map(|(_, last)| last))
            .max();
        if let Some(last) = last {
            latest = Some(latest.map_or(last, |l: i64| l.max(last)));
            with_data.push(table.clone());
        }
    }
    latest.map(|l| (l, with_data))
}

/// The window of a rule reading `tables`, looking back `lookback` nanoseconds by default.
pub fn rule_window(
    manifest: &Manifest,
    tables: &[String],
    lookback: Option<i64>,
    options: WindowOptions,
) -> Option<RuleWindow> {
    let (now, now_source) = match options.to {
        Some(to) => (to, NowSource::Given),
        None => {
            let (latest, with_data) = latest_event(manifest, tables)?;
            // `now` just after the last event, so `ago(1h)` includes it and `< now()` keeps it.
            (latest + 1_000_000_000, NowSource::LatestEvent(with_data))
        }
    };
    let start = options
        .from
        .unwrap_or_else(|| now.saturating_sub(lookback.unwrap_or(DEFAULT_LOOKBACK_NANOS)));
    Some(RuleWindow {
        now,
        start,
        now_source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_backs_in_both_notations() {
        const H: i64 = 3_600 * 1_000_000_000;
        assert_eq!(parse_lookback("14d"), Some(14 * 24 * H));
        assert_eq!(parse_lookback("1h"), Some(H));
        assert_eq!(parse_lookback("PT1H"), Some(H));
        assert_eq!(parse_lookback("P14D"), Some(14 * 24 * H));
        assert_eq!(parse_lookback("P1DT12H"), Some(36 * H));
        assert_eq!(parse_lookback("soon"), None);
        assert_eq!(parse_lookback("P"), None);
    }

    #[test]
    fn now_is_the_latest_event_of_the_rule_tables() {
        let manifest: Manifest = serde_json::from_value(serde_json::json!({
            "version": 1,
            "tables": {
                "A": {"columns": [], "inferred": false, "files": [{"path": "a", "date": "2024-01-01", "rows": 1, "bytes": 1,
                      "time_ranges": {"TimeGenerated": [100, 5_000_000_000_i64]}}]},
                "B": {"columns": [], "inferred": false, "files": [{"path": "b", "date": "2024-01-01", "rows": 1, "bytes": 1,
                      "time_ranges": {"Timestamp": [100, 9_000_000_000_i64]}}]}
            },
            "inputs": {}
        }))
        .unwrap();
        let window = rule_window(
            &manifest,
            &["A".into(), "Missing".into()],
            Some(2_000_000_000),
            WindowOptions::default(),
        )
        .unwrap();
        assert_eq!(window.now, 6_000_000_000);
        assert_eq!(window.start, 4_000_000_000);
        assert_eq!(window.now_source, NowSource::LatestEvent(vec!["A".into()]));
        let both = rule_window(
            &manifest,
            &["A".into(), "B".into()],
            None,
            WindowOptions {
                from: Some(1),
                to: None,
            },
        )
        .unwrap();
        assert_eq!((both.now, both.start), (10_000_000_000, 1));
        assert!(rule_window(
            &manifest,
            &["Missing".into()],
            None,
            WindowOptions::default()
        )
        .is_none());
        let given = rule_window(
            &manifest,
            &["Missing".into()],
            None,
            WindowOptions {
                from: None,
                to: Some(7),
            },
        )
        .unwrap();
        assert_eq!(given.now_source, NowSource::Given);
    }
}
