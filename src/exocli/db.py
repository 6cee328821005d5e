"""The SQLite store: connections, and a database that is never older than its text.

Reading commands open the file with plain sqlite3 and check two cheap facts (the
applied migrations, and the size/mtime of every source text file against the table
source_files). A file whose stats moved is hashed; only when its content differs (an edit
outside exocli, a pull) does exocli import sqlite-utils and rebuild (see store.py).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from exocli.errors import ConflictError, DatabaseError, DiskFullError, ExocliError
from exocli.workspace import Workspace

V = TypeVar("V")

MIGRATION_SET = "exocli"
MIGRATION_NAMES = (
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


def source_stats(ws: Workspace) -> dict[str, tuple[int, int]]:
    """{path relative to the workspace: (size, mtime_ns)} of every source file there is."""
    stats: dict[str, tuple[int, int]] = {}
    studies = ws.studies_dir
    for path in ws.source_files(studies=False):
        try:
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            continue
        stats[ws.relative(path)] = (info.st_size, info.st_mtime_ns)
    # Thousands of study files: plain strings, one stat each (this runs on every command).
    prefix = ws.relative(studies) + os.sep
    try:
        with os.scandir(studies) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith(".toml") and name[0] != ".":
                    try:
                        info = entry.stat()
                    except FileNotFoundError:
                        continue
                    stats[prefix + name] = (info.st_size, info.st_mtime_ns)
    except (FileNotFoundError, NotADirectoryError):
        pass
    return stats


def _digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _by_source_name(ws: Workspace, items: Mapping[Path, V] | Mapping[str, V]) -> dict[str, V]:
    """The items whose path is a source file, by that path relative to the workspace."""
    # Study files by plain string tests (an import writes thousands), the rest by is_source.
    studies = str(ws.studies_dir) + os.sep
    relative_studies = ws.relative(ws.studies_dir) + os.sep
    found: dict[str, V] = {}
    for path, value in items.items():
        full = os.fspath(path)
        name = full[len(studies) :]
        if full.startswith(studies) and os.sep not in name and name.endswith(".toml") and name[0] != ".":
            found[relative_studies + name] = value
        elif ws.is_source(Path(path)):
            found[ws.relative(Path(path))] = value
    return found


def source_digests(ws: Workspace, texts: Mapping[Path, str | None]) -> dict[str, str | None]:
    """The source files among `texts`, by path relative to the workspace: the hash of each
    new text, None for a file that goes."""
    return {
        name: None if text is None else _digest(text.encode("utf-8"))
        for name, text in _by_source_name(ws, texts).items()
    }


def record_sources(
    conn: sqlite3.Connection,
    ws: Workspace,
    texts: Mapping[Path, str | None],
    full: bool = False,
    stats_only: bool = False,
    digests: Mapping[str, str | None] | None = None,
    stats: Mapping[str, tuple[int, int]] | None = None,
) -> None:
    """Keep source_files up to date with the text the rows were built from.

    Inside the write's transaction (before the files are in place) each written file gets
    its hash (`digests`, when they are already known: `source_digests(ws, texts)`) and the
    stats of its staged temporary (`stats`, by target path), which the rename into place
    keeps (a killed write is completed from its journal, see textio); `full` records every
    file. Stats not known are left -1: once the files are in place, `stats_only` fills them
    in, and a process killed before that leaves them to the next command, which settles
    them by hashing (see `_up_to_date`).
    """
    if stats_only:
        rows = [row[0] for row in conn.execute("SELECT path FROM source_files WHERE size < 0")]
        updates = []
        root = str(ws.root)
        for name in rows:
            try:
                info = os.stat(os.path.join(root, name))
            except OSError:
                continue
            updates.append((info.st_size, info.st_mtime_ns, name))
        conn.executemany("UPDATE source_files SET size = ?, mtime_ns = ? WHERE path = ?", updates)
        _remember_stats(conn)
        return
    written = source_digests(ws, texts) if digests is None else digests
    names = set(written)
    if full:
        names |= set(source_stats(ws))
    known = _by_source_name(ws, stats or {})
    rows_in: list[tuple[str, int, int, str]] = []
    gone: list[tuple[str]] = []
    for name in sorted(names):
        if name in written:
            digest = written[name]
        else:
            try:
                digest = _digest((ws.root / name).read_bytes())
            except OSError:
                digest = None
        if digest is None:
            gone.append((name,))
        else:
            rows_in.append((name, *known.get(name, (-1, 0)), digest))
    conn.executemany("DELETE FROM source_files WHERE path = ?", gone)
    conn.executemany(
        "INSERT OR REPLACE INTO source_files (path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?)", rows_in
    )


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


def open_database(ws: Workspace) -> sqlite3.Connection:
    """A connection to an up-to-date database, building or rebuilding it when needed.

    A rebuild reads the text under the workspace lock, so it never sees a writer's half-done
    change.
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
            _rebuild_locked(ws, conn, path != ws.db_path)
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
    if _same_sources(ws, conn):
        return True
    changed_outside = external_changes(conn)
    if changed_outside:
        raise conflict_error(ws, changed_outside)
    return False


def _stats_digest(stats: Mapping[str, tuple[int, int]]) -> str:
    """Every (name, size, mtime) folded into one number, in any order, at a few ms per 5,000.

    Each file's term is weighted by a checksum of its name: a changed, added, removed,
    renamed or swapped file changes the total (anything else goes to the per-file check).
    """
    from zlib import crc32

    total = sum(
        (crc32(name.encode()) + 1) * (mtime * 1_000_003 + size) for name, (size, mtime) in stats.items()
    )
    return f"{len(stats)}:{total:x}"


def _remember_stats(conn: sqlite3.Connection) -> None:
    """One digest of every recorded stat: the common case (nothing moved) compares just that."""
    rows = conn.execute("SELECT path, size, mtime_ns FROM source_files").fetchall()
    if any(row[1] < 0 for row in rows):
        conn.execute("DELETE FROM meta WHERE key = 'source_stats'")
        return
    digest = _stats_digest({row[0]: (row[1], row[2]) for row in rows})
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('source_stats', ?)", (digest,))


def _same_sources(ws: Workspace, conn: sqlite3.Connection) -> bool:
    current = source_stats(ws)
    if _meta(conn, "source_stats") == _stats_digest(current):
        return True
    stored = {row[0]: (row[1], row[2], row[3]) for row in conn.execute("SELECT * FROM source_files")}
    if stored.keys() != current.keys():
        return False
    moved = [name for name, stats in current.items() if stored[name][:2] != stats]
    for name in moved:
        try:
            if _digest((ws.root / name).read_bytes()) != stored[name][2]:
                return False
        except OSError:
            return False
    if moved:
        # Same text, new stats (a fresh clone, `touch`, a finished write): remember them.
        conn.executemany(
            "UPDATE source_files SET size = ?, mtime_ns = ? WHERE path = ?",
            [(*current[name], name) for name in moved],
        )
    _remember_stats(conn)
    return True


def _rebuild_locked(ws: Workspace, conn: sqlite3.Connection, read_only: bool) -> None:
    from contextlib import nullcontext

    from exocli.records import workspace_lock
    from exocli.store import rebuild

    # No writer can change a read-only workspace's text, and no lock can be taken there.
    with nullcontext() if read_only else workspace_lock(ws):
        if not read_only and _up_to_date(ws, conn):
            return  # another process has just rebuilt it
        rebuild(ws, conn, read_only=read_only)


def _meta_list(conn: sqlite3.Connection, key: str) -> list[object]:
    """A JSON list kept in `meta` by the last build ([] when absent or unreadable)."""
    import json

    value = _meta(conn, key)
    try:
        data = json.loads(value) if value else []
    except ValueError:
        return []
    return data if isinstance(data, list) else []


def skipped_files(conn: sqlite3.Connection) -> list[str]:
    """Stored files the last build could not use (see crossref.read_cache)."""
    return [str(line) for line in _meta_list(conn, "skipped_files")]
