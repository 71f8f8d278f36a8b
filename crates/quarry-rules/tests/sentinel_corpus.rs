//! Reads every YAML file of the Azure-Sentinel corpus and checks the query offset map.

use quarry_rules::sentinel::{read_rule_query, rule_files, QueryStyle};
use std::path::Path;

/// The corpus, relative to this crate's folder (tests run with the crate folder as cwd).
const CORPUS: &str = "../../../shared/corpus/azure-sentinel";

#[test]
fn every_corpus_rule_query_maps_back_into_its_file() {
    let root = Path::new(CORPUS);
    assert!(
        root.is_dir(),
        "the Azure-Sentinel corpus is missing: expected a folder at {} (from {})",
        root.display(),
        std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_default(),
    );
    let files = rule_files(root);
    let mut with_query = 0;
    let mut literal = 0;
    let mut yaml_errors = Vec::new();
    let mut mismatches = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("corpus file is readable");
        let Ok(file_text) = String::from_utf8(bytes) else {
            yaml_errors.push(format!("{}: not UTF-8", path.display()));
            continue;
        };
        let query = match read_rule_query(&file_text) {
            Ok(Some(query)) => query,
            Ok(None) => continue,
            Err(error) => {
                yaml_errors.push(format!("{}: {error}", path.display()));
                continue;
            }
        };
        with_query += 1;
        if query.style() != QueryStyle::Literal {
            continue;
        }
        literal += 1;
        // Stronger than the per-line check below: every byte but the line breaks is exact.
        if let Some(i) = (0..query.text.len()).find(|&i| {
            let byte = query.text.as_bytes()[i];
            byte != b'\n' && file_text.as_bytes().get(query.file_offset(i)) != Some(&byte)
        }) {
            mismatches.push(format!(
                "{}: query byte {i} does not map to the same byte",
                path.display()
            ));
            continue;
        }
        let mut line_start = 0;
        for line in query.text.split('\n') {
            if let Some(lead) = line.find(|c: char| !c.is_whitespace()) {
                let i = line_start + lead;
                let expected = query.text[i..].chars().next();
                let at = query.file_offset(i);
                let found = file_text.get(at..).and_then(|s| s.chars().next());
                if found != expected {
                    mismatches.push(format!(
                        "{}: query offset {i} ({expected:?}) maps to file offset {at} ({found:?})",
                        path.display()
                    ));
                    break;
                }
            }
            line_start += line.len() + 1;
        }
    }
    eprintln!(
        "{} YAML files, {with_query} with a query ({literal} literal blocks), {} unreadable",
        files.len(),
        yaml_errors.len()
    );
    for error in &yaml_errors {
        eprintln!("unreadable: {error}");
    }
    assert!(
        with_query >= 1200,
        "only {with_query} of {} files yield a query",
        files.len()
    );
    assert!(
        mismatches.is_empty(),
        "{} queries map wrongly:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
