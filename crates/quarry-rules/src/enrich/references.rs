//! References: links written in the rule, the ATT&CK page of each technique, and the original
//! rule file.

use super::inference::technique_label;
use super::text::{urls, QueryText};
use super::{Inferred, Reference};
use crate::attack::{technique_url, Attack, TechniqueStatus};
use crate::model::Rule;

/// Links in the rule (description, query comments, other fields of the file) that are not data
/// the query matches or loads, then ATT&CK pages, then the original file; each URL once.
pub(crate) fn references(
    rule: &Rule,
    query: &QueryText,
    techniques: &[Inferred],
    attack: &Attack,
) -> Vec<Reference> {
    let mut out: Vec<Reference> = Vec::new();
    let description = urls(&rule.description);
    let comments = urls(&query.comments.join("\n"));
    let source_text = if rule.raw.is_empty() {
        std::borrow::Cow::Owned(format!(
            "{}\n{}",
            rule.description,
            query.comments.join("\n")
        ))
    } else {
        std::borrow::Cow::Borrowed(rule.raw.as_str())
    };
    for url in urls(&source_text) {
        // A URL inside a string of the query is an indicator or an `externaldata` source: what
        // the query works on, not something to read about it.
        if query
            .strings
            .iter()
            .any(|s| s.contains(&url.to_lowercase()))
            && !comments.contains(&url)
        {
            continue;
        }
        let place = if description.contains(&url) {
            "description"
        } else if comments.contains(&url) {
            "query comment"
        } else {
            "rule file"
        };
        push(
            &mut out,
            Reference {
                title: format!("Link in the {place} ({})", host(&url)),
                url,
                kind: "rule".to_string(),
            },
        );
    }
    for technique in techniques {
        let status = attack.resolve(&technique.value);
        let entry = match status {
            TechniqueStatus::Active(t) | TechniqueStatus::Deprecated(t) => Some((t, None)),
            TechniqueStatus::Revoked(t, by) => Some((t, by)),
            TechniqueStatus::Unknown => None,
        };
        let Some((entry, replacement)) = entry else {
            continue;
        };
        let mut title = format!("ATT&CK {}", technique_label(attack, &entry.id));
        if entry.revoked {
            title.push_str(" (revoked)");
        } else if entry.deprecated {
            title.push_str(" (deprecated)");
        }
        push(
            &mut out,
            Reference {
                title,
                url: technique_url(&entry.id),
                kind: "attack".to_string(),
            },
        );
        if let Some(by) = replacement {
            push(
                &mut out,
                Reference {
                    title: format!(
                        "ATT&CK {} (replaces {})",
                        technique_label(attack, &by.id),
                        entry.id
                    ),
                    url: technique_url(&by.id),
                    kind: "attack".to_string(),
                },
            );
        }
    }
    if let Some(url) = rule
        .provenance
        .original_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let path = if rule.provenance.path.is_empty() {
            rule.name.as_str()
        } else {
            rule.provenance.path.as_str()
        };
        push(
            &mut out,
            Reference {
                title: format!("Original rule file: {path}"),
                url: url.to_string(),
                kind: "source".to_string(),
            },
        );
    }
    out
}

/// Adds a reference unless its URL (ignoring a trailing `/` and the scheme's case) is there.
fn push(out: &mut Vec<Reference>, reference: Reference) {
    let key = |u: &str| u.trim_end_matches('/').to_ascii_lowercase();
    let new = key(&reference.url);
    if !out.iter().any(|r| key(&r.url) == new) {
        out.push(reference);
    }
}

/// `https://docs.microsoft.com/en-us/x` → `docs.microsoft.com`.
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::test_support::rule;
    use crate::model::RuleKind;

    fn technique(id: &str) -> Inferred {
        Inferred {
            value: id.into(),
            inferred: false,
            reason: None,
        }
    }

    #[test]
    fn rule_links_attack_pages_and_the_source_in_that_order() {
        let mut r = rule(RuleKind::Analytic);
        r.description = "See https://learn.example/a. Also https://learn.example/a/".into();
        r.query =
            "// ref: https://blog.example/post)\nT | where Url == \"http://evil.example/x\"".into();
        r.raw = format!(
            "description: {}\nquery: |\n  {}\nreference: https://other.example/z\n",
            r.description, r.query
        );
        r.provenance.path = "Detections/x.yaml".into();
        r.provenance.original_url = Some("https://github.com/o/r/blob/c/Detections/x.yaml".into());
        let q = QueryText::read(&r.query);
        let refs = references(
            &r,
            &q,
            &[
                technique("T1003.001"),
                technique("T1002"),
                technique("T9999"),
            ],
            Attack::embedded(),
        );
        let got: Vec<(&str, &str, &str)> = refs
            .iter()
            .map(|r| (r.kind.as_str(), r.url.as_str(), r.title.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "rule",
                    "https://learn.example/a",
                    "Link in the description (learn.example)"
                ),
                (
                    "rule",
                    "https://blog.example/post",
                    "Link in the query comment (blog.example)"
                ),
                (
                    "rule",
                    "https://other.example/z",
                    "Link in the rule file (other.example)"
                ),
                (
                    "attack",
                    "https://attack.mitre.org/techniques/T1003/001/",
                    "ATT&CK T1003.001 OS Credential Dumping: LSASS Memory"
                ),
                (
                    "attack",
                    "https://attack.mitre.org/techniques/T1002/",
                    "ATT&CK T1002 Data Compressed (revoked)"
                ),
                (
                    "attack",
                    "https://attack.mitre.org/techniques/T1560/",
                    "ATT&CK T1560 Archive Collected Data (replaces T1002)"
                ),
                (
                    "source",
                    "https://github.com/o/r/blob/c/Detections/x.yaml",
                    "Original rule file: Detections/x.yaml"
                ),
            ]
        );
    }
}
