"""The SQLite store: connections, and a database that is never older than its text.

Reading commands open the file with plain sqlite3 and check two cheap facts (the
applied migrations and the size/mtime of every source text file). Only when one of
them is off does exocli import sqlite-utils and rebuild (see store.py).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from exocli.errors import ConflictError, DatabaseError
from exocli.workspace import Workspace

MIGRATION_SET = "exocli"
MIGRATION_NAMES = (
    "001_references",
    "002_vocabularies_and_claims",
    "003_claims_fts",
    "004_crossref",
    "005_external_change_triggers",
    "006_citation_keys",
    "007_claim_facets",
)
BUSY_TIMEOUT_MS = 10_000


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


def tracking_triggers() -> list[tuple[str, str]]:
    """(name, CREATE TRIGGER) for the triggers that count changes made outside exocli."""
    triggers = []
    for table in TRACKED_TABLES:
        for action in ("INSERT", "UPDATE", "DELETE"):
            name = f"{table}_external_{action.lower()}"
            triggers.append(
                (
                    name,
                    f"CREATE TRIGGER {name} AFTER {action} ON {table}"
                    " WHEN NOT EXISTS (SELECT 1 FROM meta WHERE key = 'exocli_writing')"
                    " BEGIN UPDATE meta SET value = CAST(value AS INTEGER) + 1"
                    " WHERE key = 'external_changes'; END",
                )
            )
    return triggers


def connect(path: Path) -> sqlite3.Connection:
    """Autocommit connection (transactions are explicit) with FKs, WAL and a busy timeout."""
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        raise corrupt(path, exc) from exc
    return conn


def corrupt(path: Path, exc: Exception) -> DatabaseError:
    return DatabaseError(
        f"database {path} cannot be read ({exc}); run `exocli rebuild` to build it again from the text"
    )


def stat_fingerprint(ws: Workspace) -> str:
    import json

    entries = []
    for path in ws.source_files():
        try:
            info = path.stat()
            entries.append([ws.relative(path), info.st_size, info.st_mtime_ns])
        except FileNotFoundError:
            entries.append([ws.relative(path), -1, 0])
    return json.dumps(entries, separators=(",", ":"))


def content_fingerprint(ws: Workspace) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in ws.source_files():
        digest.update(ws.relative(path).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except FileNotFoundError:
            digest.update(b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()


def applied_migrations(conn: sqlite3.Connection) -> tuple[str, ...]:
    try:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            (MIGRATION_SET,),
        ).fetchall()
    except sqlite3.OperationalError:
        return ()
    return tuple(row[0] for row in rows)


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def external_changes(conn: sqlite3.Connection) -> int:
    value = _meta(conn, "external_changes")
    return int(value) if value and value.isdigit() else 0


def conflict_error(ws: Workspace, count: int) -> ConflictError:
    return ConflictError(
        f"the database {ws.relative(ws.db_path)} holds {count} changes made outside exocli that the text"
        " lacks; choose which side wins: `exocli sync --keep text` (discard them) or"
        " `exocli sync --keep database` (write them into the text)"
    )


def open_database(ws: Workspace) -> sqlite3.Connection:
    """A connection to an up-to-date database, building or rebuilding it when needed."""
    try:
        ws.db_dir.mkdir(exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create {ws.db_dir}: {exc.strerror}") from exc
    conn = connect(ws.db_path)
    try:
        if applied_migrations(conn) == MIGRATION_NAMES:
            stats = stat_fingerprint(ws)
            if _meta(conn, "stat_fingerprint") == stats:
                return conn
            changed_outside = external_changes(conn)
            if _meta(conn, "content_fingerprint") == content_fingerprint(ws):
                # Same text, new mtimes (a fresh clone or `touch`): remember the new stats.
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('stat_fingerprint', ?)",
                    (stats,),
                )
                return conn
            if changed_outside:
                raise conflict_error(ws, changed_outside)
        from exocli.store import rebuild

        rebuild(ws, conn)
        return conn
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise corrupt(ws.db_path, exc) from exc
    except BaseException:
        conn.close()
        raise
