//! The Azure-Sentinel repository layout: which files are rules (and of which kind), which are
//! parsers, and which are neither.

use crate::model::RuleKind;
use std::path::Path;

/// What a file in a rule repository is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRole {
    /// A rule of this kind (a YAML file, or an extension-less file in a rule folder).
    Rule(RuleKind),
    /// A KQL parser (ASIM YAML, or a `.kql`/`.txt`/`.csl`/extension-less KQL file).
    Parser,
    /// A function result schema used by the repository's own validation
    /// (`.script/tests/KqlvalidationsTests/CustomFunctions/*.json`).
    FunctionSchema,
}

/// The files of a repository, sorted by path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    /// Rule files: path relative to the root (with `/`), kind.
    pub rules: Vec<(String, RuleKind)>,
    /// Parser files, relative paths.
    pub parsers: Vec<String>,
    /// Function schema files, relative paths.
    pub function_schemas: Vec<String>,
    /// Files inside rule or parser folders that are not read, with the reason.
    pub skipped: Vec<(String, String)>,
}

/// The kind of rules a folder name holds, in every spelling the repository uses
/// (`Hunting Queries`, `HuntingQueries`, `Analytic Rules`, `Analytics Rules`, `Detections`, …).
fn folder_kind(name: &str) -> Option<RuleKind> {
    let key: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match key.as_str() {
        "huntingqueries" | "huntingquery" | "hunting" => Some(RuleKind::Hunting),
        "detections" | "analyticrules" | "analyticsrules" | "analyticrule" | "analytics"
        | "analytic" => Some(RuleKind::Analytic),
        "explorationqueries" | "explorationquery" => Some(RuleKind::Exploration),
        _ => None,
    }
}

fn is_parser_folder(name: &str) -> bool {
    name.eq_ignore_ascii_case("parsers") || name.eq_ignore_ascii_case("parser")
}

/// The role of a file from its path relative to the repository root (`/` separators).
/// `Err(reason)` for files inside rule or parser folders that are not read; `Ok(None)` for files
/// elsewhere.
pub fn classify(relative: &str) -> Result<Option<FileRole>, String> {
    let parts: Vec<&str> = relative.split('/').collect();
    let Some((file_name, folders)) = parts.split_last() else {
        return Ok(None);
    };
    if folders.iter().any(|f| f.starts_with('.'))
        && !relative.starts_with(".script/tests/KqlvalidationsTests/CustomFunctions/")
    {
        return Ok(None);
    }
    let extension = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if relative.starts_with(".script/tests/KqlvalidationsTests/CustomFunctions/") {
        return Ok((extension.as_deref() == Some("json")).then_some(FileRole::FunctionSchema));
    }
    // Rule folders are top level (`Hunting Queries/…`) or one level inside a solution
    // (`Solutions/<name>/Analytic Rules/…`); the nearest such folder decides the kind.
    let in_solution = folders
        .first()
        .is_some_and(|f| f.eq_ignore_ascii_case("solutions"));
    let candidates: &[&str] = if in_solution {
        folders.get(2..).unwrap_or(&[])
    } else {
        folders.get(..1).unwrap_or(&[])
    };
    let rule_kind = if in_solution {
        candidates.first().and_then(|f| folder_kind(f))
    } else {
        candidates.iter().find_map(|f| folder_kind(f))
    };
    if let Some(kind) = rule_kind {
        return match extension.as_deref() {
            Some("yaml" | "yml") | None => Ok(Some(FileRole::Rule(kind))),
            Some(other) => Err(format!("not a rule file (.{other})")),
        };
    }
    let parser_folder = if in_solution {
        folders.get(2).is_some_and(|f| is_parser_folder(f))
    } else {
        folders.first().is_some_and(|f| is_parser_folder(f))
    };
    if parser_folder {
        return match extension.as_deref() {
            Some("yaml" | "yml" | "kql" | "txt" | "csl") => Ok(Some(FileRole::Parser)),
            None if !file_name.eq_ignore_ascii_case("readme") => Ok(Some(FileRole::Parser)),
            None => Err("documentation".to_string()),
            Some("json") => Err("ARM template (the YAML or KQL form of the parser is read)".into()),
            Some("md") => Err("documentation".to_string()),
            Some(other) => Err(format!("not a KQL parser (.{other})")),
        };
    }
    Ok(None)
}

/// Lists the rules, parsers and function schemas under `root`, sorted by path.
pub fn discover(root: &Path) -> std::io::Result<Discovered> {
    let mut found = Discovered::default();
    let mut loose = Vec::new();
    let mut walker = walkdir::WalkDir::new(root).sort_by_file_name().into_iter();
    while let Some(entry) = walker.next() {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_dir() {
            if entry.file_name() == ".git" {
                walker.skip_current_dir();
            }
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let relative: String = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        match classify(&relative) {
            Ok(Some(FileRole::Rule(kind))) => found.rules.push((relative, kind)),
            Ok(Some(FileRole::Parser)) => found.parsers.push(relative),
            Ok(Some(FileRole::FunctionSchema)) => found.function_schemas.push(relative),
            Ok(None) if loose_rule_candidate(&relative) => loose.push(relative),
            Ok(None) => {}
            Err(reason) => found.skipped.push((relative, reason)),
        }
    }
    // A plain folder of rules (a team's own, the demo pack) has none of the repository's
    // folders: then every YAML file in it is a rule, its kind read from the file.
    if found.rules.is_empty() {
        for relative in loose {
            let kind = loose_rule_kind(&root.join(&relative));
            found.rules.push((relative, kind));
        }
    }
    Ok(found)
}

fn loose_rule_candidate(relative: &str) -> bool {
    let lower = relative.to_ascii_lowercase();
    !relative.split('/').any(|part| part.starts_with('.'))
        && (lower.ends_with(".yaml") || lower.ends_with(".yml"))
}

/// Analytic when the file has a schedule (`queryFrequency`) or an analytic `kind`, else hunting.
fn loose_rule_kind(path: &Path) -> RuleKind {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let analytic = text.lines().any(|line| {
        line.starts_with("queryFrequency:")
            || line.starts_with("triggerOperator:")
            || line.trim_end() == "kind: Scheduled"
            || line.trim_end() == "kind: NRT"
    });
    if analytic {
        RuleKind::Analytic
    } else {
        RuleKind::Hunting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layout_spelling_is_classified() {
        let cases = [
            (
                "Hunting Queries/SecurityEvent/x.yaml",
                Ok(Some(FileRole::Rule(RuleKind::Hunting))),
            ),
            (
                "Hunting Queries/SecurityEvent/NoExtension",
                Ok(Some(FileRole::Rule(RuleKind::Hunting))),
            ),
            (
                "Detections/SigninLogs/y.yml",
                Ok(Some(FileRole::Rule(RuleKind::Analytic))),
            ),
            (
                "Exploration Queries/A/z.yaml",
                Ok(Some(FileRole::Rule(RuleKind::Exploration))),
            ),
            (
                "Solutions/Okta/Analytic Rules/a.yaml",
                Ok(Some(FileRole::Rule(RuleKind::Analytic))),
            ),
            (
                "Solutions/Okta/Analytics Rules/a.yaml",
                Ok(Some(FileRole::Rule(RuleKind::Analytic))),
            ),
            (
                "Solutions/Okta/AnalyticRules/a.yaml",
                Ok(Some(FileRole::Rule(RuleKind::Analytic))),
            ),
            (
                "Solutions/Okta/Hunting queries/b.yaml",
                Ok(Some(FileRole::Rule(RuleKind::Hunting))),
            ),
            (
                "Solutions/Okta/HuntingQueries/b.yaml",
                Ok(Some(FileRole::Rule(RuleKind::Hunting))),
            ),
            (
                "Solutions/Okta/Parsers/Okta.yaml",
                Ok(Some(FileRole::Parser)),
            ),
            ("Solutions/Okta/Data/Solution_Okta.json", Ok(None)),
            (
                "Parsers/ASimDns/Parsers/ASimDns.yaml",
                Ok(Some(FileRole::Parser)),
            ),
            (
                "Parsers/CiscoUmbrella/Cisco_Umbrella",
                Ok(Some(FileRole::Parser)),
            ),
            (
                "Parsers/AzureFirewall/AzureFirewallNetworkRule.kql",
                Ok(Some(FileRole::Parser)),
            ),
            (
                ".script/tests/KqlvalidationsTests/CustomFunctions/_Im_Dns.json",
                Ok(Some(FileRole::FunctionSchema)),
            ),
            (".github/workflows/x.yaml", Ok(None)),
            ("Workbooks/x.json", Ok(None)),
        ];
        for (path, expected) in cases {
            assert_eq!(classify(path), expected, "{path}");
        }
        assert!(classify("Hunting Queries/readme.md").is_err());
        assert!(classify("Parsers/ASimDns/ARM/FullDeploymentDns.json").is_err());
    }

    #[test]
    fn a_plain_folder_of_rules_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("team/.hidden")).unwrap();
        std::fs::write(dir.path().join("team/a.yaml"), "id: a\nquery: T\n").unwrap();
        std::fs::write(
            dir.path().join("team/b.yml"),
            "id: b\nqueryFrequency: 1h\nquery: T\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("team/.hidden/c.yaml"), "id: c\n").unwrap();
        std::fs::write(dir.path().join("team/notes.md"), "# notes").unwrap();
        let found = discover(dir.path()).unwrap();
        assert_eq!(
            found.rules,
            [
                ("team/a.yaml".to_string(), RuleKind::Hunting),
                ("team/b.yml".to_string(), RuleKind::Analytic)
            ]
        );
    }
}
