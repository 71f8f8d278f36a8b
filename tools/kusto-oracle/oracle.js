#!/usr/bin/env node
// Microsoft's KQL parser (npm @kusto/language-service-next) as a syntax oracle.
//
// Usage: node oracle.js QUERIES.json
//   QUERIES.json holds an array of {"id": string, "text": string}.
// Writes one JSON line per query to stdout, in input order:
//   {"id": ..., "ok": bool, "diagnostics": [{"message": ..., "start": ..., "length": ...}]}
// `ok` is true when the parser reports no Error-severity diagnostic; only those diagnostics are
// listed. Offsets are UTF-16 code units (JavaScript string indices), not bytes.
// Used by crates/quarry-rules/tests/differential_kusto.rs.
'use strict';

const fs = require('fs');
const { loadKusto, readQueries } = require('./kusto');

function main() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node oracle.js QUERIES.json\n');
    process.exit(2);
  }
  const queries = readQueries(file);
  const Kusto = loadKusto();
  const out = [];
  for (const q of queries) {
    out.push(JSON.stringify(check(Kusto, q)));
  }
  fs.writeSync(1, out.join('\n') + (out.length ? '\n' : ''));
}

function check(Kusto, q) {
  let code;
  try {
    code = Kusto.Language.KustoCode.Parse(q.text);
  } catch (e) {
    return { id: q.id, ok: false, error: String(e && e.stack ? e.stack : e), diagnostics: [] };
  }
  const all = code.GetDiagnostics();
  const diagnostics = [];
  for (let i = 0; i < all.Count; i++) {
    const d = all.getItem(i);
    if (d.Severity !== 'Error') continue;
    diagnostics.push({ message: d.Message, start: d.Start, length: d.Length });
  }
  return { id: q.id, ok: diagnostics.length === 0, diagnostics };
}

main();
