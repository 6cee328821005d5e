"""The SQLite store: connections, and a database that is never older than its text.

Reading commands open the file with plain sqlite3 and check two cheap facts (the
applied migrations and the size/mtime of every source text file). Only when one of
them is off does exocli import sqlite-utils and rebuild (see store.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from exocli.errors import ConflictError, DatabaseError, DataError, DiskFullError, ExocliError
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
        raise database_failure(path, exc) from exc
    return conn


def corrupt(path: Path, exc: Exception) -> DatabaseError:
    return DatabaseError(
        f"database {path} cannot be read ({exc}); run `exocli rebuild` to build it again from the text"
    )


def database_failure(path: Path, exc: sqlite3.DatabaseError) -> ExocliError:
    """A full disk or a read-only file is said as such; only real damage asks for a rebuild."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc)
    if code == sqlite3.SQLITE_FULL or "disk is full" in text:
        return DiskFullError(f"disk full: cannot write {path}; nothing was changed")
    if code == sqlite3.SQLITE_READONLY or "readonly database" in text:
        return ExocliError(f"{path} is read-only; nothing was changed")
    if code == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
        return DatabaseError(f"cannot open the database {path} ({text})")
    return corrupt(path, exc)


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


def content_fingerprint(ws: Workspace, overrides: Mapping[Path, str] | None = None) -> str:
    """A hash of every source text; `overrides` are new versions not yet in place."""
    import hashlib

    overrides = overrides or {}
    digest = hashlib.sha256()
    for path in ws.source_files():
        digest.update(ws.relative(path).encode() + b"\0")
        if path in overrides:
            digest.update(overrides[path].encode("utf-8"))
        else:
            try:
                digest.update(path.read_bytes())
            except FileNotFoundError:
                digest.update(b"<missing>")
            except IsADirectoryError:
                digest.update(b"<folder>")
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


def database_path(ws: Workspace) -> Path:
    """The workspace's database, or (for a read-only workspace) a private copy in the cache.

    The database is only a cache of the text, so a workspace on a read-only mount, or one
    the user may read but not write, still answers queries from a copy built elsewhere.
    """
    import os

    folder = ws.db_dir if ws.db_dir.is_dir() else ws.root
    if os.access(folder, os.W_OK) and (not ws.db_path.exists() or os.access(ws.db_path, os.W_OK)):
        return ws.db_path
    import hashlib

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "exocli"
    digest = hashlib.sha256(str(ws.root).encode()).hexdigest()[:16]
    return cache / f"{ws.root.name}-{digest}.sqlite"


def open_database(ws: Workspace, lenient: bool = False) -> sqlite3.Connection:
    """A connection to an up-to-date database, building or rebuilding it when needed.

    A rebuild reads the text under the workspace lock, so it never sees a writer's half-done
    change. `lenient` lets a repair command open a record whose claims cite missing references.
    """
    from exocli.textio import pending

    path = database_path(ws)
    if path.is_dir():
        raise DatabaseError(f"the database path {path} is a folder; move it away, then run the command again")
    if pending(ws.root):
        from exocli.records import workspace_lock

        with workspace_lock(ws):
            pass  # taking the lock completes the interrupted write
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(f"cannot create {path.parent}: {exc.strerror}") from exc
    conn = connect(path)
    try:
        if not _up_to_date(ws, conn):
            _rebuild_locked(ws, conn, path != ws.db_path, lenient)
        if not lenient:
            problems = record_problems(conn)
            if problems:
                raise DataError(
                    problems[0] + ("" if len(problems) == 1 else f" (and {len(problems) - 1} more)")
                )
        return conn
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise database_failure(path, exc) from exc
    except BaseException:
        conn.close()
        raise


def _up_to_date(ws: Workspace, conn: sqlite3.Connection) -> bool:
    if applied_migrations(conn) != MIGRATION_NAMES:
        return False
    stats = stat_fingerprint(ws)
    if _meta(conn, "stat_fingerprint") == stats:
        return True
    if _meta(conn, "content_fingerprint") == content_fingerprint(ws):
        # Same text, new mtimes (a fresh clone or `touch`): remember the new stats.
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('stat_fingerprint', ?)", (stats,))
        return True
    changed_outside = external_changes(conn)
    if changed_outside:
        raise conflict_error(ws, changed_outside)
    return False


def _rebuild_locked(ws: Workspace, conn: sqlite3.Connection, read_only: bool, lenient: bool) -> None:
    from contextlib import nullcontext

    from exocli.records import workspace_lock
    from exocli.store import load_snapshot, rebuild

    # No writer can change a read-only workspace's text, and no lock can be taken there.
    with nullcontext() if read_only else workspace_lock(ws):
        if not read_only and _up_to_date(ws, conn):
            return  # another process has just rebuilt it
        snapshot = load_snapshot(ws, lenient=True)
        if snapshot.dangling and not lenient:
            # The database keeps its last consistent state; only a repair command goes on.
            # The strict load names the file and line of the first dangling claim.
            load_snapshot(ws)
        rebuild(ws, conn, snapshot, read_only=read_only)


def _meta_list(conn: sqlite3.Connection, key: str) -> list[object]:
    """A JSON list kept in `meta` by the last build ([] when absent or unreadable)."""
    import json

    value = _meta(conn, key)
    try:
        data = json.loads(value) if value else []
    except ValueError:
        return []
    return data if isinstance(data, list) else []


def dangling_citations(conn: sqlite3.Connection) -> dict[int, int]:
    """{claim id: missing reference number} as the last build found them (see store.py)."""
    dangling: dict[int, int] = {}
    for pair in _meta_list(conn, "dangling_citations"):
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, int) for x in pair):
            dangling[pair[0]] = pair[1]
    return dangling


def record_problems(conn: sqlite3.Connection) -> list[str]:
    dangling = dangling_citations(conn)
    if not dangling:
        return []
    from exocli.store import dangling_message

    return [dangling_message(claim_id, ref) for claim_id, ref in sorted(dangling.items())]


def skipped_files(conn: sqlite3.Connection) -> list[str]:
    """Stored files the last build could not use (see crossref.read_cache)."""
    return [str(line) for line in _meta_list(conn, "skipped_files")]
