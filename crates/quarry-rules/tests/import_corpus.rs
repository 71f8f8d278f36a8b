//! Importing the Azure-Sentinel corpus into a catalog: every rule file is imported or reported
//! with a reason, a second import of the same content changes nothing, and a changed, removed
//! or restored file is recorded as such.

use quarry_rules::catalog::{Catalog, RuleFilter};
use quarry_rules::import::{import_repository, NoChecker, QueryChecker};
use quarry_rules::model::FunctionLibrary;
use quarry_rules::source::{open_repository, RepositoryOptions, RepositorySource};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/azure-sentinel");
    assert!(
        corpus.is_dir(),
        "the Azure-Sentinel corpus is missing: expected a folder at {}",
        corpus.display()
    );
    corpus
}

fn no_checker(_: &FunctionLibrary) -> Box<dyn QueryChecker> {
    Box::new(NoChecker)
}

fn source(root: &Path, now: &str) -> RepositorySource {
    open_repository(
        root.to_str().unwrap(),
        &RepositoryOptions {
            origin: Some("https://github.com/Azure/Azure-Sentinel".into()),
            commit: Some("b819f6737ee1d0c3c865225f5750112c8f1096e3".into()),
            now: now.into(),
            ..RepositoryOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn the_corpus_imports_completely_and_a_second_import_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut catalog = Catalog::open(&dir.path().join("catalog.sqlite")).unwrap();
    let first = import_repository(
        &mut catalog,
        &source(&corpus(), "2026-11-28T00:00:00Z"),
        &no_checker,
    )
    .unwrap();
    let imported: usize = first.rules_by_kind.values().sum();
    let rule_file_problems = first
        .problems
        .iter()
        .filter(|p| p.path.starts_with("Hunting Queries/") || p.path.starts_with("Detections/"))
        .count();
    println!(
        "rule files {}, imported {imported} {:?}, problems {:?}",
        first.rule_files, first.rules_by_kind, first.problems_by_category
    );
    println!(
        "not read: {:?}; functions {} from {} parser files",
        first.skipped_by_reason, first.functions, first.parser_files
    );
    // Every rule file is accounted for: imported, or reported with a reason.
    assert_eq!(imported + rule_file_problems, first.rule_files);
    assert!(first
        .problems
        .iter()
        .all(|p| !p.reason.is_empty() && !p.category.is_empty()));
    // The corpus README: 796 hunting queries and 426 detections with a query.
    assert_eq!(first.rules_by_kind.get("hunting"), Some(&796));
    assert_eq!(first.rules_by_kind.get("analytic"), Some(&426));
    // Broken YAML is reported with its position.
    assert!(first
        .problems
        .iter()
        .filter(|p| p.category == "invalid YAML")
        .all(|p| p.line.is_some() && p.column.is_some()));
    assert_eq!(first.changes.added, imported);
    assert!(first.functions > 100, "parsers become stored functions");
    assert!(catalog
        .functions()
        .unwrap()
        .get("imProcessCreate")
        .is_some());

    let digest = catalog.content_digest().unwrap();
    let second = import_repository(
        &mut catalog,
        &source(&corpus(), "2026-11-29T00:00:00Z"),
        &no_checker,
    )
    .unwrap();
    assert!(
        second.changes.is_empty(),
        "second import changed something: {:?}",
        second.changes
    );
    assert_eq!(second.changes.unchanged, imported);
    assert_eq!(
        catalog.content_digest().unwrap(),
        digest,
        "the catalog's content changed"
    );
    let seed = catalog
        .rule("44b02f8c-d206-4e1a-9859-6aa06b80c346")
        .unwrap();
    assert_eq!(seed.len(), 1);
    assert_eq!(
        seed[0].rule.provenance.retrieved_at, "2026-11-28T00:00:00Z",
        "an unchanged rule keeps its first retrieval time"
    );
    assert_eq!(
        seed[0].rule.provenance.original_url.as_deref(),
        Some("https://github.com/Azure/Azure-Sentinel/blob/b819f6737ee1d0c3c865225f5750112c8f1096e3/Hunting%20Queries/Microsoft%20365%20Defender/General%20queries/Network%20footprint%20(3).yaml")
    );
}

#[test]
fn changed_removed_and_restored_files_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let rules = repo.join("Detections/SecurityEvent");
    std::fs::create_dir_all(&rules).unwrap();
    let corpus_rules = corpus().join("Detections/SecurityEvent");
    let mut names: Vec<_> = std::fs::read_dir(&corpus_rules)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    for name in names.iter().take(3) {
        std::fs::copy(corpus_rules.join(name), rules.join(name)).unwrap();
    }
    std::fs::write(rules.join("broken.yaml"), "id: x\nquery: [unclosed\n").unwrap();
    let mut catalog = Catalog::open(&dir.path().join("catalog.sqlite")).unwrap();
    let first = import_repository(&mut catalog, &source(&repo, "t1"), &no_checker).unwrap();
    assert_eq!(first.changes.added, 3);
    let broken = first
        .problems
        .iter()
        .find(|p| p.path.ends_with("broken.yaml"))
        .unwrap();
    assert_eq!(
        (broken.line, broken.category.as_str()),
        (Some(2), "invalid YAML")
    );

    // Change one file, remove another.
    let changed = rules.join(&names[0]);
    let text = std::fs::read_to_string(&changed).unwrap();
    std::fs::write(
        &changed,
        text.replacen("query: |", "query: |\n  // tuned locally", 1),
    )
    .unwrap();
    std::fs::remove_file(rules.join(&names[1])).unwrap();
    let second = import_repository(&mut catalog, &source(&repo, "t2"), &no_checker).unwrap();
    assert_eq!(
        (
            second.changes.revised,
            second.changes.removed,
            second.changes.unchanged
        ),
        (1, 1, 1)
    );
    let revised = catalog
        .list(&RuleFilter::default())
        .unwrap()
        .into_iter()
        .find(|r| r.path.ends_with(names[0].to_str().unwrap()))
        .unwrap();
    assert_eq!(revised.revision, 2);
    assert_eq!(catalog.list(&RuleFilter::default()).unwrap().len(), 2);

    // Put the removed file back: restored, with its old revision.
    std::fs::copy(corpus_rules.join(&names[1]), rules.join(&names[1])).unwrap();
    let third = import_repository(&mut catalog, &source(&repo, "t3"), &no_checker).unwrap();
    assert_eq!((third.changes.restored, third.changes.revised), (1, 0));
    assert_eq!(catalog.list(&RuleFilter::default()).unwrap().len(), 3);
}
