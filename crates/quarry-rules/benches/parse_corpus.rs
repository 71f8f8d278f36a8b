//! Parse throughput on the Azure-Sentinel corpus: Quarry's parser against Microsoft's
//! (`Kusto.Language`, npm `@kusto/language-service-next`, under Node), measured in the same run.
//!
//! `cargo bench -p quarry-rules --bench parse_corpus` (or `bench/parse-vs-kusto`). Both sides
//! parse every corpus `query:` once to warm up, then 5 timed passes on one thread; the best pass
//! counts. Needs Node.js 20+ and `npm ci --prefix tools/kusto-oracle`.

#[path = "../tests/corpus_support/mod.rs"]
mod corpus_support;

use std::hint::black_box;
use std::time::Instant;

const PASSES: usize = 5;

fn main() {
    let queries = corpus_support::load_queries();
    let texts: Vec<&str> = queries.iter().map(|q| q.text.as_str()).collect();
    let bytes: usize = texts.iter().map(|t| t.len()).sum();

    // Warm-up pass, which also counts the queries Quarry rejects.
    let rejected = texts
        .iter()
        .filter(|t| !quarry_kql::parse(t).is_ok())
        .count();

    let mut best = f64::INFINITY;
    for _ in 0..PASSES {
        let start = Instant::now();
        for t in &texts {
            black_box(quarry_kql::parse(black_box(t)));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    let quarry_mb_s = bytes as f64 / 1e6 / best;

    let file = corpus_support::write_queries_json("kusto-bench", &queries);
    let passes = PASSES.to_string();
    let stdout = corpus_support::run_node("bench.js", &[file.as_os_str(), passes.as_ref()]);
    let _ = std::fs::remove_file(&file);
    let line = stdout
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_else(|| panic!("bench.js printed nothing"));
    let kusto: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("bench.js printed a line that is not JSON ({e}): {line}"));
    let kusto_bytes = kusto["bytes"].as_u64().unwrap_or(0) as usize;
    let kusto_seconds = kusto["seconds"].as_f64().unwrap_or(f64::NAN);
    let kusto_mb_s = kusto["mb_per_s"].as_f64().unwrap_or(f64::NAN);
    let kusto_rejected = kusto["errors"].as_u64().unwrap_or(0);
    assert_eq!(
        kusto_bytes, bytes,
        "bench.js measured a different number of UTF-8 bytes than Rust"
    );

    println!();
    println!(
        "KQL parse throughput: {} Azure-Sentinel corpus queries, {bytes} bytes, \
         best of {PASSES} passes after one warm-up, one thread",
        texts.len()
    );
    println!();
    println!(
        "| {:<34} | {:>10} | {:>9} | {:>8} |",
        "parser", "seconds", "MB/s", "rejected"
    );
    println!("|{:-<36}|{:->12}|{:->11}|{:->10}|", "", "", "", "");
    println!(
        "| {:<34} | {:>10.4} | {:>9.2} | {:>8} |",
        "Quarry quarry-kql (Rust)", best, quarry_mb_s, rejected
    );
    println!(
        "| {:<34} | {:>10.4} | {:>9.2} | {:>8} |",
        "Kusto.Language (Microsoft, Node)", kusto_seconds, kusto_mb_s, kusto_rejected
    );
    println!();
    println!(
        "ratio quarry/kusto: {:.1}x (bytes: {bytes}, Quarry: {quarry_mb_s:.2} MB/s, \
         Kusto: {kusto_mb_s:.2} MB/s)",
        quarry_mb_s / kusto_mb_s
    );
}
