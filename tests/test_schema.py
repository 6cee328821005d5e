"""The database schema the migrations build, written out in full."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from exocli import migrations
from exocli.db import MIGRATION_NAMES, MIGRATION_SET, connect
from exocli.store import rebuild
from exocli.workspace import init_workspace, open_workspace
from helpers import copy_workspace

# Column = (name, declared type, NOT NULL, position in the primary key (0 = not in it)).
# Foreign key = (column, parent table, parent column, ON DELETE).
# Index = name -> (columns, unique); automatic indexes for PRIMARY KEY are left out,
# UNIQUE constraints are listed under "unique".
EXPECTED: dict[str, dict[str, Any]] = {
    # 001_references
    "meta": {
        "columns": [("key", "TEXT", False, 1), ("value", "TEXT", True, 0)],
        "foreign_keys": [],
        "indexes": {},
        "unique": [],
    },
    "refs": {
        "columns": [
            ("id", "INTEGER", False, 1),
            ("number", "INTEGER", False, 0),
            ("kind", "TEXT", True, 0),
            ("raw", "TEXT", True, 0),
            ("title", "TEXT", False, 0),
            ("journal", "TEXT", False, 0),
            ("year", "INTEGER", False, 0),
            ("volume", "TEXT", False, 0),
            ("issue", "TEXT", False, 0),
            ("pages", "TEXT", False, 0),
            ("doi", "TEXT", False, 0),
            ("url", "TEXT", False, 0),
            ("et_al", "INTEGER", True, 0),
            ("problem", "TEXT", False, 0),
            ("citekey", "TEXT", False, 0),  # 006_citation_keys
        ],
        "foreign_keys": [],
        "indexes": {"refs_doi": (("doi",), False), "refs_citekey": (("citekey",), True)},
        "unique": [("number",)],
    },
    "ref_authors": {
        "columns": [
            ("ref_id", "INTEGER", True, 1),
            ("position", "INTEGER", True, 2),
            ("family", "TEXT", True, 0),
            ("given", "TEXT", True, 0),
        ],
        "foreign_keys": [("ref_id", "refs", "id", "CASCADE")],
        "indexes": {"ref_authors_family": (("family",), False)},
        "unique": [],
    },
    # 002_vocabularies_and_claims
    "vocab_terms": {
        "columns": [
            ("vocab", "TEXT", True, 1),
            ("code", "TEXT", True, 2),
            ("label", "TEXT", True, 0),
            ("parent", "TEXT", False, 0),
            ("stem", "INTEGER", False, 0),
            ("position", "INTEGER", True, 0),
            ("ontology_id", "TEXT", False, 0),  # 009_vocab_ontology_ids
        ],
        "foreign_keys": [],
        "indexes": {},
        "unique": [],
    },
    "vocab_synonyms": {
        "columns": [("vocab", "TEXT", True, 1), ("code", "TEXT", True, 2), ("synonym", "TEXT", True, 3)],
        "foreign_keys": [
            ("code", "vocab_terms", "code", "CASCADE"),
            ("vocab", "vocab_terms", "vocab", "CASCADE"),
        ],
        "indexes": {},
        "unique": [],
    },
    "claims": {
        "columns": [
            ("id", "INTEGER", False, 1),
            ("ref_id", "INTEGER", False, 0),
            ("section", "TEXT", True, 0),
            ("source", "TEXT", True, 0),
            ("source_wording", "TEXT", True, 0),
            ("cargo_type", "TEXT", True, 0),
            ("species", "TEXT", True, 0),
            ("model", "TEXT", True, 0),
            ("injury", "TEXT", True, 0),
            ("route", "TEXT", True, 0),
            ("dose", "TEXT", True, 0),
            ("outcome", "TEXT", True, 0),
            ("note", "TEXT", True, 0),
            ("added_by", "TEXT", True, 0),
            ("added_at", "TEXT", True, 0),
            # 011_claim_drafts: status, and where a draft was read
            ("status", "TEXT", True, 0),
            ("manuscript", "TEXT", True, 0),
            ("paragraph", "INTEGER", False, 0),
            ("sentence", "INTEGER", False, 0),
            ("sentence_hash", "TEXT", True, 0),
            ("assignment", "TEXT", True, 0),
            ("from_context", "TEXT", True, 0),
            ("flag", "TEXT", True, 0),
        ],
        "foreign_keys": [("ref_id", "refs", "id", "NO ACTION")],
        "indexes": {
            "claims_ref": (("ref_id",), False),
            "claims_source": (("source", "cargo_type"), False),
            "claims_cargo_type": (("cargo_type",), False),
            "claims_status": (("status",), False),
        },
        "unique": [],
    },
    "claim_cargos": {
        "columns": [
            ("claim_id", "INTEGER", True, 1),
            ("position", "INTEGER", True, 2),
            ("wording", "TEXT", True, 0),
            ("name", "TEXT", True, 0),
            ("key", "TEXT", True, 0),
            ("family", "TEXT", False, 0),
            ("letter", "TEXT", False, 0),
            ("paralog", "TEXT", False, 0),
            ("arm", "TEXT", False, 0),
        ],
        "foreign_keys": [("claim_id", "claims", "id", "CASCADE")],
        "indexes": {
            "claim_cargos_family": (("family", "claim_id"), False),
            "claim_cargos_key": (("key", "claim_id"), False),
        },
        "unique": [],
    },
    "claim_effects": {
        "columns": [
            ("claim_id", "INTEGER", True, 1),
            ("effect", "TEXT", True, 2),
            ("position", "INTEGER", True, 0),
        ],
        "foreign_keys": [("claim_id", "claims", "id", "CASCADE")],
        "indexes": {"claim_effects_effect": (("effect", "claim_id"), False)},
        "unique": [],
    },
    "claim_pathways": {
        "columns": [
            ("claim_id", "INTEGER", True, 1),
            ("position", "INTEGER", True, 2),
            ("pathway", "TEXT", True, 0),
        ],
        "foreign_keys": [("claim_id", "claims", "id", "CASCADE")],
        "indexes": {},
        "unique": [],
    },
    "claim_pathway_parts": {
        "columns": [("claim_id", "INTEGER", True, 1), ("key", "TEXT", True, 2), ("part", "TEXT", True, 0)],
        "foreign_keys": [("claim_id", "claims", "id", "CASCADE")],
        "indexes": {"claim_pathway_parts_key": (("key", "claim_id"), False)},
        "unique": [],
    },
    "claim_engineering": {
        "columns": [
            ("claim_id", "INTEGER", True, 1),
            ("position", "INTEGER", True, 2),
            ("term", "TEXT", True, 0),
        ],
        "foreign_keys": [("claim_id", "claims", "id", "CASCADE")],
        "indexes": {},
        "unique": [],
    },
    # 010_claim_terms (WITHOUT ROWID): a claim's injuries, species and models as codes
    "claim_terms": {
        "columns": [
            ("claim_id", "INTEGER", True, 1),
            ("vocab", "TEXT", True, 2),
            ("code", "TEXT", True, 3),
            ("position", "INTEGER", True, 0),
        ],
        "foreign_keys": [("claim_id", "claims", "id", "CASCADE")],
        "indexes": {"claim_terms_code": (("vocab", "code", "claim_id"), False)},
        "unique": [],
    },
    # 007_claim_facets (WITHOUT ROWID: its primary key is the table)
    "claim_facets": {
        "columns": [
            ("source", "TEXT", True, 1),
            ("effect", "TEXT", True, 2),
            ("family", "TEXT", True, 3),
            ("claim_id", "INTEGER", True, 4),
        ],
        "foreign_keys": [("claim_id", "claims", "id", "CASCADE")],
        "indexes": {"claim_facets_claim": (("claim_id",), False)},
        "unique": [],
    },
    # 004_crossref
    "crossref_works": {
        "columns": [
            ("doi", "TEXT", False, 1),
            ("status", "TEXT", True, 0),
            ("fetched_at", "TEXT", True, 0),
            ("pool", "TEXT", False, 0),
            ("message", "TEXT", False, 0),
        ],
        "foreign_keys": [],
        "indexes": {},
        "unique": [],
    },
    "ref_resolution": {
        "columns": [
            ("ref_id", "INTEGER", False, 1),
            ("doi", "TEXT", False, 0),
            ("method", "TEXT", True, 0),
            ("status", "TEXT", True, 0),
            ("differences", "TEXT", True, 0),
            ("score", "REAL", False, 0),
            ("checked_at", "TEXT", False, 0),
        ],
        "foreign_keys": [("ref_id", "refs", "id", "CASCADE")],
        "indexes": {"ref_resolution_status": (("status",), False)},
        "unique": [],
    },
    "ref_candidates": {
        "columns": [
            ("ref_id", "INTEGER", True, 1),
            ("rank", "INTEGER", True, 2),
            ("doi", "TEXT", False, 0),
            ("title", "TEXT", False, 0),
            ("first_author", "TEXT", False, 0),
            ("year", "INTEGER", False, 0),
            ("journal", "TEXT", False, 0),
            ("score", "REAL", True, 0),
        ],
        "foreign_keys": [("ref_id", "refs", "id", "CASCADE")],
        "indexes": {},
        "unique": [],
    },
    "ref_updates": {
        "columns": [
            ("ref_id", "INTEGER", True, 1),
            ("relation", "TEXT", True, 2),
            ("type", "TEXT", True, 3),
            ("label", "TEXT", True, 0),
            ("source", "TEXT", True, 0),
            ("doi", "TEXT", True, 4),
            ("date", "TEXT", True, 0),
        ],
        "foreign_keys": [("ref_id", "refs", "id", "CASCADE")],
        "indexes": {},
        "unique": [],
    },
    # 008_source_files (WITHOUT ROWID: its primary key is the table)
    "source_files": {
        "columns": [
            ("path", "TEXT", True, 1),
            ("size", "INTEGER", True, 0),
            ("mtime_ns", "INTEGER", True, 0),
            ("sha256", "TEXT", True, 0),
        ],
        "foreign_keys": [],
        "indexes": {},
        "unique": [],
    },
}
# 003_claims_fts: one FTS5 table (and the shadow tables FTS5 keeps for it).
FTS_TABLES = {
    "claims_fts",
    "claims_fts_config",
    "claims_fts_content",
    "claims_fts_data",
    "claims_fts_docsize",
    "claims_fts_idx",
}
MIGRATIONS_TABLE = "_sqlite_migrations"
# 005_external_change_triggers: writes by anything but exocli bump meta.external_changes.
TRACKED_TABLES = (
    "refs",
    "ref_authors",
    "claims",
    "claim_cargos",
    "claim_effects",
    "claim_pathways",
    "claim_pathway_parts",
    "claim_engineering",
)
EXPECTED_TRIGGERS = {
    (f"{table}_external_{action}", table)
    for table in TRACKED_TABLES
    for action in ("insert", "update", "delete")
}


def describe(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """The ordinary tables' structure, in EXPECTED's shape."""
    tables = [
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if row[0] not in FTS_TABLES and row[0] != MIGRATIONS_TABLE and not row[0].startswith("sqlite_")
    ]
    found: dict[str, dict[str, Any]] = {}
    for table in tables:
        columns = [(r[1], r[2], bool(r[3]), r[5]) for r in conn.execute(f"PRAGMA table_info('{table}')")]
        foreign_keys = sorted(
            (r[3], r[2], r[4], r[6]) for r in conn.execute(f"PRAGMA foreign_key_list('{table}')")
        )
        indexes, unique = {}, []
        for row in conn.execute(f"PRAGMA index_list('{table}')"):
            name, is_unique, origin = row[1], bool(row[2]), row[3]
            cols = tuple(c[2] for c in conn.execute(f"PRAGMA index_info('{name}')"))
            if origin == "c":
                indexes[name] = (cols, is_unique)
            elif origin == "u":
                unique.append(cols)
        found[table] = {
            "columns": columns,
            "foreign_keys": foreign_keys,
            "indexes": indexes,
            "unique": sorted(unique),
        }
    return found


def normalised_expected() -> dict[str, dict[str, Any]]:
    return {name: {**spec, "foreign_keys": sorted(spec["foreign_keys"])} for name, spec in EXPECTED.items()}


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(tmp_path / "blank.sqlite")
    migrations.apply(Database(conn))
    yield conn
    conn.close()


def test_blank_database_gets_exactly_the_expected_tables(migrated: sqlite3.Connection) -> None:
    names = {row[0] for row in migrated.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names == set(EXPECTED) | FTS_TABLES | {MIGRATIONS_TABLE}


def test_blank_database_structure(migrated: sqlite3.Connection) -> None:
    found = describe(migrated)
    expected = normalised_expected()
    for table in expected:  # one table at a time, for a readable diff
        assert found[table] == expected[table], table
    assert found == expected


def test_refs_doi_and_author_index_ignore_case(migrated: sqlite3.Connection) -> None:
    sql = migrated.execute("SELECT sql FROM sqlite_master WHERE name = 'refs'").fetchone()[0]
    assert "doi TEXT COLLATE NOCASE" in sql
    collations = [r[4] for r in migrated.execute("PRAGMA index_xinfo('ref_authors_family')") if r[1] >= 0]
    assert collations == ["NOCASE"]


def test_external_change_triggers(migrated: sqlite3.Connection) -> None:
    triggers = {
        (r[0], r[1])
        for r in migrated.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
    }
    assert triggers == EXPECTED_TRIGGERS
    assert migrated.execute("SELECT value FROM meta WHERE key = 'external_changes'").fetchone()[0] == "0"
    migrated.execute("INSERT INTO refs (number, kind, raw) VALUES (1, 'article', 'x')")
    migrated.execute("UPDATE refs SET title = 't' WHERE number = 1")
    assert int(migrated.execute("SELECT value FROM meta WHERE key = 'external_changes'").fetchone()[0]) == 2


def test_exocli_own_rebuild_is_not_an_external_change(tmp_path: Path) -> None:
    ws = open_workspace(copy_workspace(tmp_path / "ws"))
    conn = connect(ws.db_path)
    try:
        rebuild(ws, conn)
        rebuild(ws, conn)
        assert conn.execute("SELECT COUNT(*) FROM refs").fetchone()[0] == 96
        assert int(conn.execute("SELECT value FROM meta WHERE key = 'external_changes'").fetchone()[0]) == 0
    finally:
        conn.close()


def test_citekeys_are_unique_ignoring_case(migrated: sqlite3.Connection) -> None:
    migrated.execute(
        "INSERT INTO refs (number, kind, raw, citekey) VALUES (1, 'article', 'x', 'lin2025harnessing')"
    )
    with pytest.raises(sqlite3.IntegrityError):
        migrated.execute(
            "INSERT INTO refs (number, kind, raw, citekey) VALUES (2, 'article', 'y', 'Lin2025Harnessing')"
        )


def test_fts_table_is_fts5(migrated: sqlite3.Connection) -> None:
    sql = migrated.execute("SELECT sql FROM sqlite_master WHERE name = 'claims_fts'").fetchone()[0]
    assert "USING fts5" in sql
    assert [r[1] for r in migrated.execute("PRAGMA table_info('claims_fts')")] == ["body"]


def test_migrations_are_recorded(migrated: sqlite3.Connection) -> None:
    rows = migrated.execute(
        f"SELECT migration_set, name FROM {MIGRATIONS_TABLE} ORDER BY id"  # fixed name
    ).fetchall()
    assert [tuple(r) for r in rows] == [(MIGRATION_SET, name) for name in MIGRATION_NAMES]
    assert MIGRATION_SET == "exocli"
    assert MIGRATION_NAMES == (
        "001_references",
        "002_vocabularies_and_claims",
        "003_claims_fts",
        "004_crossref",
        "005_external_change_triggers",
        "006_citation_keys",
        "007_claim_facets",
        "008_source_files",
        "009_vocab_ontology_ids",
        "010_claim_terms",
        "011_claim_drafts",
    )
    assert list(MIGRATION_NAMES) == sorted(MIGRATION_NAMES)


def test_applying_migrations_twice_is_a_no_op(migrated: sqlite3.Connection) -> None:
    def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        schema = [
            tuple(r) for r in migrated.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        ]
        applied = [tuple(r) for r in migrated.execute(f"SELECT * FROM {MIGRATIONS_TABLE} ORDER BY id")]
        return schema, applied

    before = snapshot()
    migrations.apply(Database(migrated))
    migrations.apply(Database(migrated))
    assert snapshot() == before


def test_connection_pragmas(tmp_path: Path) -> None:
    conn = connect(tmp_path / "p.sqlite")
    try:
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert conn.isolation_level is None  # autocommit; transactions are explicit
    finally:
        conn.close()


def test_foreign_keys_are_enforced_and_cascade(migrated: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        migrated.execute("INSERT INTO claim_effects (claim_id, effect, position) VALUES (99, 'x', 0)")
    with pytest.raises(sqlite3.IntegrityError):
        migrated.execute("INSERT INTO claims (id, ref_id, source, cargo_type) VALUES (1, 42, 'MSC', 'none')")
    migrated.execute("INSERT INTO refs (id, number, kind, raw) VALUES (1, 1, 'article', 'x')")
    migrated.execute("INSERT INTO ref_authors (ref_id, position, family) VALUES (1, 0, 'Lin')")
    migrated.execute("INSERT INTO claims (id, ref_id, source, cargo_type) VALUES (1, 1, 'MSC', 'none')")
    migrated.execute("INSERT INTO claim_effects (claim_id, effect, position) VALUES (1, 'safety', 0)")
    row = migrated.execute("SELECT species, model, note FROM claims WHERE id = 1").fetchone()
    assert tuple(row) == ("not stated", "not stated", "")
    migrated.execute("DELETE FROM claims WHERE id = 1")
    assert migrated.execute("SELECT COUNT(*) FROM claim_effects").fetchone()[0] == 0
    migrated.execute("DELETE FROM refs WHERE id = 1")
    assert migrated.execute("SELECT COUNT(*) FROM ref_authors").fetchone()[0] == 0


def test_reference_kind_is_checked(migrated: sqlite3.Connection) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        migrated.execute("INSERT INTO refs (number, kind, raw) VALUES (1, 'book', 'x')")
    with pytest.raises(sqlite3.IntegrityError):
        migrated.execute("INSERT INTO refs (number, kind, raw) VALUES (NULL, 'article', NULL)")


def test_rebuild_of_an_empty_workspace_builds_the_same_schema(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "new")
    assert not ws.db_path.exists()
    conn = connect(ws.db_path)
    try:
        snapshot = rebuild(ws, conn)
        assert snapshot.references == [] and snapshot.claims == []
        assert describe(conn) == normalised_expected()
        applied = [r[0] for r in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY id")]
        assert tuple(applied) == MIGRATION_NAMES
        # the text the build came from: every source file, its hash and its stats
        rows = {r[0]: (r[1], r[2], r[3]) for r in conn.execute("SELECT * FROM source_files")}
        vocabs = [
            f"db/vocab/{name}.toml"
            for name in ("cargo-types", "effects", "injuries", "models", "pathways", "sources", "species")
        ]
        assert sorted(rows) == sorted(["exocli.toml", "refs/order.txt", *vocabs])
        for name, (size, mtime_ns, sha256) in rows.items():
            data = (ws.root / name).read_bytes()
            info = os.stat(ws.root / name)
            assert (size, mtime_ns, sha256) == (len(data), info.st_mtime_ns, hashlib.sha256(data).hexdigest())
        meta = {r[0] for r in conn.execute("SELECT key FROM meta")}
        assert not {"stat_fingerprint", "content_fingerprint", "dangling_citations"} & meta
        # the default vocabularies are loaded even with no claims
        assert conn.execute("SELECT COUNT(*) FROM vocab_terms WHERE vocab = 'sources'").fetchone()[0] > 0
        assert conn.execute("SELECT COUNT(*) FROM refs").fetchone()[0] == 0
    finally:
        conn.close()


def test_source_files_replaces_the_fingerprints_in_meta(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.sqlite")
    try:
        db = Database(conn)
        migrations.migrations.apply(db, stop_before="008_source_files")
        for key in ("stat_fingerprint", "content_fingerprint", "dangling_citations"):
            conn.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", (key,))
        migrations.apply(db)
        assert {r[0] for r in conn.execute("SELECT key FROM meta")} == {"external_changes"}
        assert describe(conn)["source_files"] == EXPECTED["source_files"]
        assert conn.execute("SELECT COUNT(*) FROM source_files").fetchone()[0] == 0
    finally:
        conn.close()


def test_rebuild_records_every_source_file(tmp_path: Path) -> None:
    ws = open_workspace(copy_workspace(tmp_path / "ws"))
    conn = connect(ws.db_path)
    try:
        rebuild(ws, conn)
        rows = {r[0]: (r[1], r[2], r[3]) for r in conn.execute("SELECT * FROM source_files")}
        files = sorted(
            str(p.relative_to(ws.root))
            for p in (ws.root / "exocli.toml", *ws.root.glob("refs/*.txt"), *ws.root.glob("*/*/*.toml"))
        )
        assert len(files) == 1 + 1 + 96 + 7  # config, order, one file per study, vocabularies
        assert sorted(rows) == files
        for name, (size, mtime_ns, sha256) in rows.items():
            data = (ws.root / name).read_bytes()
            assert (size, mtime_ns) == (len(data), os.stat(ws.root / name).st_mtime_ns), name
            assert sha256 == hashlib.sha256(data).hexdigest(), name
    finally:
        conn.close()
