#!/usr/bin/env node
// Parse throughput of Microsoft's KQL parser (npm @kusto/language-service-next) under Node.
//
// Usage: node bench.js QUERIES.json [PASSES=5]
//   QUERIES.json holds an array of {"id": string, "text": string}.
// Parses every query once to warm up, then PASSES more times, and prints one JSON line:
//   {"bytes": UTF-8 bytes of one pass, "seconds": best pass, "mb_per_s": bytes / 1e6 / seconds,
//    "passes": PASSES, "queries": count, "errors": queries with an Error diagnostic}
// Used by crates/quarry-rules/benches/parse_corpus.rs.
'use strict';

const { loadKusto, readQueries } = require('./kusto');

function main() {
  const file = process.argv[2];
  const passes = process.argv[3] === undefined ? 5 : Number(process.argv[3]);
  if (!file || !Number.isInteger(passes) || passes < 1) {
    process.stderr.write('usage: node bench.js QUERIES.json [PASSES]\n');
    process.exit(2);
  }
  const queries = readQueries(file);
  const texts = queries.map((q) => q.text);
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
  const Kusto = loadKusto();
  const parse = (t) => Kusto.Language.KustoCode.Parse(t);

  // Warm-up pass; also counts the queries the parser rejects (outside the timed passes).
  let errors = 0;
  for (const t of texts) {
    const d = parse(t).GetDiagnostics();
    for (let i = 0; i < d.Count; i++) {
      if (d.getItem(i).Severity === 'Error') {
        errors++;
        break;
      }
    }
  }

  let best = Infinity;
  let sink = 0;
  for (let p = 0; p < passes; p++) {
    const start = process.hrtime.bigint();
    for (const t of texts) {
      // Touch the result so the work cannot be optimised away.
      sink += parse(t).Syntax ? 1 : 0;
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (seconds < best) best = seconds;
  }
  if (sink < 0) process.stderr.write('');

  const mbPerS = best > 0 ? bytes / 1e6 / best : 0;
  process.stdout.write(JSON.stringify({
    bytes,
    seconds: best,
    mb_per_s: mbPerS,
    passes,
    queries: texts.length,
    errors,
  }) + '\n');
}

main();
