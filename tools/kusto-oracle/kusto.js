// Shared by oracle.js and bench.js: loading Microsoft's parser and reading the query file.
'use strict';

const fs = require('fs');

function loadKusto() {
  try {
    // The bridge scripts define the global `Kusto` namespace.
    require('@kusto/language-service-next/bridge.min.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');
  } catch (e) {
    process.stderr.write(
      'cannot load @kusto/language-service-next: ' + e.message +
      '\nrun: npm ci --prefix tools/kusto-oracle\n');
    process.exit(3);
  }
  return global.Kusto;
}

function readQueries(file) {
  const queries = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(queries)) {
    throw new Error(file + ': expected a JSON array of {"id", "text"} objects');
  }
  for (const q of queries) {
    if (!q || typeof q.id !== 'string' || typeof q.text !== 'string') {
      throw new Error(file + ': every element needs string fields "id" and "text"');
    }
  }
  return queries;
}

module.exports = { loadKusto, readQueries };
