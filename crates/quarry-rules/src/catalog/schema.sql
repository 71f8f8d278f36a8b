-- The rule catalog (version 1). One row per rule file per source; every content change of a
-- file is a new revision; derived fields (analysis, enrichment, bind status) are stored with the
-- revision and denormalised into `rules` and `rule_facets` for filtering.
CREATE TABLE IF NOT EXISTS sources (
    id           INTEGER PRIMARY KEY,
    repository   TEXT NOT NULL UNIQUE,
    web_url      TEXT,
    commit_id    TEXT,
    retrieved_at TEXT NOT NULL,
    root         TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS rules (
    pk              INTEGER PRIMARY KEY,
    source_id       INTEGER NOT NULL REFERENCES sources(id),
    path            TEXT NOT NULL,
    rule_id         TEXT NOT NULL,
    revision        INTEGER NOT NULL,
    content_hash    TEXT NOT NULL,
    first_seen      TEXT NOT NULL,
    removed_at      TEXT,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    severity        TEXT NOT NULL,
    severity_inferred INTEGER NOT NULL,
    confidence      INTEGER NOT NULL,
    parameters      INTEGER NOT NULL,
    bind_status     TEXT NOT NULL,
    UNIQUE (source_id, path)
);
CREATE INDEX IF NOT EXISTS rules_by_rule_id ON rules(rule_id);

CREATE TABLE IF NOT EXISTS rule_revisions (
    rule_pk         INTEGER NOT NULL REFERENCES rules(pk),
    revision        INTEGER NOT NULL,
    content_hash    TEXT NOT NULL,
    commit_id       TEXT,
    retrieved_at    TEXT NOT NULL,
    raw             TEXT NOT NULL,
    rule_json       TEXT NOT NULL,
    analysis_json   TEXT NOT NULL,
    enrichment_json TEXT NOT NULL,
    bind_json       TEXT NOT NULL,
    PRIMARY KEY (rule_pk, revision)
);

-- facet: table, function, tactic, technique, tag, connector
CREATE TABLE IF NOT EXISTS rule_facets (
    rule_pk  INTEGER NOT NULL REFERENCES rules(pk),
    facet    TEXT NOT NULL,
    value    TEXT NOT NULL COLLATE NOCASE,
    inferred INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS rule_facets_by_value ON rule_facets(facet, value);
CREATE INDEX IF NOT EXISTS rule_facets_by_rule ON rule_facets(rule_pk);

CREATE TABLE IF NOT EXISTS functions (
    source_id     INTEGER NOT NULL REFERENCES sources(id),
    name          TEXT NOT NULL,
    path          TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    function_json TEXT NOT NULL,
    removed_at    TEXT,
    PRIMARY KEY (source_id, name)
);

-- The files of a source's latest import that gave no rule or function, with the reason.
CREATE TABLE IF NOT EXISTS import_problems (
    source_id INTEGER NOT NULL REFERENCES sources(id),
    path      TEXT NOT NULL,
    line      INTEGER,
    col       INTEGER,
    category  TEXT NOT NULL,
    reason    TEXT NOT NULL
);

CREATE VIRTUAL TABLE IF NOT EXISTS rule_search USING fts5(
    name, description, query, tags,
    tokenize = 'unicode61 remove_diacritics 2'
);
