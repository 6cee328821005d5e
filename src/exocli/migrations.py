"""Schema migrations (append-only, named). Imported only when the database is built."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from exocli.db import MIGRATION_NAMES, MIGRATION_SET, tracking_triggers

migrations = Migrations(MIGRATION_SET)


@migrations(name="001_references")
def _references(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE refs (
            id INTEGER PRIMARY KEY,
            number INTEGER UNIQUE,
            kind TEXT NOT NULL CHECK (kind IN ('article', 'web', 'unparsed')),
            raw TEXT NOT NULL,
            title TEXT,
            journal TEXT,
            year INTEGER,
            volume TEXT,
            issue TEXT,
            pages TEXT,
            doi TEXT COLLATE NOCASE,
            url TEXT,
            et_al INTEGER NOT NULL DEFAULT 0,
            problem TEXT
        );
        CREATE INDEX refs_doi ON refs (doi);
        CREATE TABLE ref_authors (
            ref_id INTEGER NOT NULL REFERENCES refs (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            family TEXT NOT NULL,
            given TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (ref_id, position)
        );
        CREATE INDEX ref_authors_family ON ref_authors (family COLLATE NOCASE);
        """
    )


@migrations(name="002_vocabularies_and_claims")
def _claims(db: Database) -> None:
    # Lists (cargo, effects, pathway parts, engineering) live in link tables: each is
    # indexed on (value, claim_id), so a filter is an index lookup, not a JSON scan.
    db.executescript(
        """
        CREATE TABLE vocab_terms (
            vocab TEXT NOT NULL,
            code TEXT NOT NULL,
            label TEXT NOT NULL,
            parent TEXT,
            stem INTEGER,
            position INTEGER NOT NULL,
            PRIMARY KEY (vocab, code)
        );
        CREATE TABLE vocab_synonyms (
            vocab TEXT NOT NULL,
            code TEXT NOT NULL,
            synonym TEXT NOT NULL,
            PRIMARY KEY (vocab, code, synonym),
            FOREIGN KEY (vocab, code) REFERENCES vocab_terms (vocab, code) ON DELETE CASCADE
        );
        CREATE TABLE claims (
            id INTEGER PRIMARY KEY,
            ref_id INTEGER REFERENCES refs (id),
            section TEXT NOT NULL DEFAULT '',
            source TEXT NOT NULL,
            source_wording TEXT NOT NULL DEFAULT '',
            cargo_type TEXT NOT NULL,
            species TEXT NOT NULL DEFAULT 'not stated',
            model TEXT NOT NULL DEFAULT 'not stated',
            injury TEXT NOT NULL DEFAULT 'not stated',
            route TEXT NOT NULL DEFAULT 'not stated',
            dose TEXT NOT NULL DEFAULT 'not stated',
            outcome TEXT NOT NULL DEFAULT 'not stated',
            note TEXT NOT NULL DEFAULT '',
            added_by TEXT NOT NULL DEFAULT '',
            added_at TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX claims_ref ON claims (ref_id);
        CREATE INDEX claims_source ON claims (source, cargo_type);
        CREATE INDEX claims_cargo_type ON claims (cargo_type);
        CREATE TABLE claim_cargos (
            claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            wording TEXT NOT NULL,
            name TEXT NOT NULL,
            key TEXT NOT NULL,
            family TEXT,
            letter TEXT,
            paralog TEXT,
            arm TEXT,
            PRIMARY KEY (claim_id, position)
        );
        CREATE INDEX claim_cargos_family ON claim_cargos (family, claim_id);
        CREATE INDEX claim_cargos_key ON claim_cargos (key, claim_id);
        CREATE TABLE claim_effects (
            claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
            effect TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (claim_id, effect)
        ) WITHOUT ROWID;
        CREATE INDEX claim_effects_effect ON claim_effects (effect, claim_id);
        CREATE TABLE claim_pathways (
            claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            pathway TEXT NOT NULL,
            PRIMARY KEY (claim_id, position)
        );
        CREATE TABLE claim_pathway_parts (
            claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            part TEXT NOT NULL,
            PRIMARY KEY (claim_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX claim_pathway_parts_key ON claim_pathway_parts (key, claim_id);
        CREATE TABLE claim_engineering (
            claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            term TEXT NOT NULL,
            PRIMARY KEY (claim_id, position)
        );
        """
    )


@migrations(name="003_claims_fts")
def _claims_fts(db: Database) -> None:
    # One document per claim (rowid = claim id): its words plus the cited reference's title.
    db.execute("CREATE VIRTUAL TABLE claims_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')")


@migrations(name="004_crossref")
def _crossref(db: Database) -> None:
    # Derived from refs/crossref/*.json on every rebuild; the JSON files are the record.
    db.executescript(
        """
        CREATE TABLE crossref_works (
            doi TEXT PRIMARY KEY COLLATE NOCASE,
            status TEXT NOT NULL CHECK (status IN ('ok', 'not_found')),
            fetched_at TEXT NOT NULL,
            pool TEXT,
            message TEXT
        );
        CREATE TABLE ref_resolution (
            ref_id INTEGER PRIMARY KEY REFERENCES refs (id) ON DELETE CASCADE,
            doi TEXT COLLATE NOCASE,
            method TEXT NOT NULL CHECK (method IN ('doi', 'bibliographic')),
            status TEXT NOT NULL
                CHECK (status IN ('ok', 'mismatch', 'not_found', 'ambiguous', 'no_match')),
            differences TEXT NOT NULL DEFAULT '[]',
            score REAL,
            checked_at TEXT
        );
        CREATE INDEX ref_resolution_status ON ref_resolution (status);
        CREATE TABLE ref_candidates (
            ref_id INTEGER NOT NULL REFERENCES refs (id) ON DELETE CASCADE,
            rank INTEGER NOT NULL,
            doi TEXT,
            title TEXT,
            first_author TEXT,
            year INTEGER,
            journal TEXT,
            score REAL NOT NULL,
            PRIMARY KEY (ref_id, rank)
        );
        CREATE TABLE ref_updates (
            ref_id INTEGER NOT NULL REFERENCES refs (id) ON DELETE CASCADE,
            relation TEXT NOT NULL,
            type TEXT NOT NULL,
            label TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            doi TEXT NOT NULL DEFAULT '',
            date TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (ref_id, relation, type, doi)
        );
        """
    )


@migrations(name="005_external_change_triggers")
def _external_changes(db: Database) -> None:
    # exocli marks its own transactions with a meta row; any other writer (a SQL shell,
    # another tool) bumps the counter, so exocli can refuse to overwrite either side.
    db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('external_changes', '0')")
    for _, sql in tracking_triggers():
        db.execute(sql)


@migrations(name="006_citation_keys")
def _citation_keys(db: Database) -> None:
    db.executescript(
        """
        ALTER TABLE refs ADD COLUMN citekey TEXT;
        CREATE UNIQUE INDEX refs_citekey ON refs (citekey COLLATE NOCASE);
        """
    )


@migrations(name="007_claim_facets")
def _claim_facets(db: Database) -> None:
    # One row per (source, effect, cargo family) of a claim: "UCMSC x anti-inflammatory x
    # miR-216a" is then a single index range instead of thousands of candidate checks.
    db.execute(
        """
        CREATE TABLE claim_facets (
            source TEXT NOT NULL,
            effect TEXT NOT NULL,
            family TEXT NOT NULL,
            claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
            PRIMARY KEY (source, effect, family, claim_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX claim_facets_claim ON claim_facets (claim_id)")


@migrations(name="008_source_files")
def _source_files(db: Database) -> None:
    # The text each build came from: size and mtime say "unchanged" cheaply; the hash
    # decides when they moved. A write updates only the rows of the files it wrote.
    db.executescript(
        """
        CREATE TABLE source_files (
            path TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            sha256 TEXT NOT NULL
        ) WITHOUT ROWID;
        DELETE FROM meta WHERE key IN ('stat_fingerprint', 'content_fingerprint', 'dangling_citations');
        """
    )


@migrations(name="009_vocab_ontology_ids")
def _vocab_ontology_ids(db: Database) -> None:
    # A term's identifier in its field's ontology (Cell Ontology, GO, DOID, MeSH, ...), as
    # the vocabulary file gives it; NULL where the file states none.
    db.execute("ALTER TABLE vocab_terms ADD COLUMN ontology_id TEXT")


@migrations(name="010_claim_terms")
def _claim_terms(db: Database) -> None:
    # A claim's study context as vocabulary codes: its injuries, species and models (the
    # claims columns keep them as text for display). Filters look up (vocab, code).
    db.executescript(
        """
        CREATE TABLE claim_terms (
            claim_id INTEGER NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
            vocab TEXT NOT NULL,
            code TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (claim_id, vocab, code)
        ) WITHOUT ROWID;
        CREATE INDEX claim_terms_code ON claim_terms (vocab, code, claim_id);
        """
    )


@migrations(name="011_claim_drafts")
def _claim_drafts(db: Database) -> None:
    # Draft claims from `exocli extract`: the status (query, table and export show curated
    # claims unless asked for drafts) and where each draft was read (fields.DRAFT_KEYS).
    db.executescript(
        """
        ALTER TABLE claims ADD COLUMN status TEXT NOT NULL DEFAULT 'curated';
        ALTER TABLE claims ADD COLUMN manuscript TEXT NOT NULL DEFAULT '';
        ALTER TABLE claims ADD COLUMN paragraph INTEGER;
        ALTER TABLE claims ADD COLUMN sentence INTEGER;
        ALTER TABLE claims ADD COLUMN sentence_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE claims ADD COLUMN assignment TEXT NOT NULL DEFAULT '';
        ALTER TABLE claims ADD COLUMN from_context TEXT NOT NULL DEFAULT '';
        ALTER TABLE claims ADD COLUMN flag TEXT NOT NULL DEFAULT '';
        CREATE INDEX claims_status ON claims (status) WHERE status != 'curated';
        """
    )


def apply(db: Database) -> None:
    registered = tuple(m.name for m in migrations._migrations)
    if registered != MIGRATION_NAMES:  # pragma: no cover - a developer error
        raise RuntimeError(f"db.MIGRATION_NAMES is out of date: {registered}")
    migrations.apply(db)
