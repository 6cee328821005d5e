"""In-process measurements, run by bench/run.py in a child process (one JSON object on stdout).

    python bench/inproc.py build WS          first-use build: exocli.db.open_database(ws)
    python bench/inproc.py queries WS        compile_filters + fetch_claims, stats, vs plain sqlite3
    python bench/inproc.py rawinsert CSV WS  raw executemany of the CSV's rows into a same-schema table
    python bench/inproc.py bibwrite FILE     bibtexparser's own write_string of FILE's entries
    python bench/inproc.py dedupe WS N       triage of N candidates against WS's references

Each runs in its own process so that peak memory (ru_maxrss) is that of one measurement.
"""

from __future__ import annotations

import csv
import json
import resource
import shutil
import sqlite3
import statistics
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

csv.field_size_limit(1 << 30)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(
    fn: Callable[[], Any],
    *,
    min_runs: int = 5,
    budget: float = 1.0,
    max_runs: int = 2000,
    max_time: float = 30.0,
) -> dict[str, Any]:
    """Median of repeated calls after one warm-up: at least min_runs, then until `budget` seconds."""
    fn()
    times: list[float] = []
    started = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        spent = time.perf_counter() - started
        if len(times) >= max_runs or spent > max_time:
            break
        if len(times) >= min_runs and spent >= budget:
            break
    return {"median_s": statistics.median(times), "min_s": min(times), "runs": len(times)}


# --- build ---------------------------------------------------------------------------------------


def cmd_build(ws_root: str) -> dict[str, Any]:
    """Time the first-use build (open_database -> store.rebuild), with its load_snapshot share."""
    t_import = time.perf_counter()
    from exocli import store
    from exocli.db import open_database
    from exocli.workspace import open_workspace

    import_s = time.perf_counter() - t_import
    ws = open_workspace(Path(ws_root))
    phases: dict[str, float] = {}
    original = store.load_snapshot

    def timed_snapshot(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            phases["parse_validate_s"] = time.perf_counter() - t0

    store.load_snapshot = timed_snapshot  # type: ignore[assignment]
    t0 = time.perf_counter()
    conn = open_database(ws)
    total = time.perf_counter() - t0
    claims = conn.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    refs = conn.execute("SELECT COUNT(*) FROM refs").fetchone()[0]
    unparsed = conn.execute("SELECT COUNT(*) FROM refs WHERE kind = 'unparsed'").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {
        "build_s": total,
        "parse_validate_s": phases.get("parse_validate_s"),
        "write_s": total - phases.get("parse_validate_s", 0.0),
        "import_modules_s": import_s,
        "claims": claims,
        "refs": refs,
        "unparsed_refs": unparsed,
        "record_mb": sum(path.stat().st_size for path in ws.study_files()) / 1e6,
        "study_files": len(ws.study_files()),
        "db_mb": ws.db_path.stat().st_size / 1e6,
        "peak_rss_mb": peak_rss_mb(),
    }


# --- queries -------------------------------------------------------------------------------------

SELECT_HEAD = (
    "SELECT c.*, r.number AS ref_number, r.year AS ref_year, r.doi AS ref_doi, r.url AS ref_url,"
    " a.family AS first_author FROM claims c LEFT JOIN refs r ON r.id = c.ref_id"
    " LEFT JOIN ref_authors a ON a.ref_id = r.id AND a.position = 0"
)
ORDER_BY_REF = " ORDER BY r.number IS NULL, r.number, c.id"


def descendants(vocab_file: Path, code: str) -> list[str]:
    """A source and every term below it, read from the vocabulary TOML (not through exocli)."""
    with vocab_file.open("rb") as handle:
        terms = tomllib.load(handle)["term"]
    found = [code]
    for current in found:
        found += [t["code"] for t in terms if t.get("parent") == current and t["code"] not in found]
    return found


def query_specs(ws_root: Path) -> list[dict[str, Any]]:
    """The benchmark's filter sets and, for each, a hand-written SQL query returning the same claims."""
    from exocli.query import Filters

    sources = ws_root / "db" / "vocab" / "sources.toml"
    msc = descendants(sources, "MSC")
    ucmsc = descendants(sources, "UCMSC")
    marks = ",".join("?" * len(msc))
    umarks = ",".join("?" * len(ucmsc))
    return [
        {
            "name": "selective",
            "label": "source UCMSC + effect anti-inflammatory + cargo miR-216a-5p (family)",
            "filters": Filters(sources=["UCMSC"], effects=["anti-inflammatory"], cargos=["miR-216a-5p"]),
            # Driven by the most selective index (the cargo family); the rest are key lookups.
            "sql": SELECT_HEAD
            + " WHERE c.id IN (SELECT claim_id FROM claim_cargos WHERE family = ?"
            + " AND (letter IS NULL OR letter = ?) AND (arm IS NULL OR arm = ?))"
            + f" AND c.source IN ({umarks})"
            + " AND EXISTS (SELECT 1 FROM claim_effects e WHERE e.claim_id = c.id AND e.effect = ?)"
            + ORDER_BY_REF,
            "params": ["miR-216", "a", "5p", *ucmsc, "anti-inflammatory"],
        },
        {
            "name": "broad",
            "label": "all MSC (with children) x angiogenesis",
            "filters": Filters(sources=["MSC"], effects=["angiogenesis"]),
            "sql": SELECT_HEAD
            + f" WHERE c.source IN ({marks})"
            + " AND c.id IN (SELECT claim_id FROM claim_effects WHERE effect = ?)"
            + ORDER_BY_REF,
            "params": [*msc, "angiogenesis"],
        },
        {
            "name": "fts",
            "label": "full text: microglia",
            "filters": Filters(text=["microglia"]),
            "sql": SELECT_HEAD
            + " WHERE c.id IN (SELECT rowid FROM claims_fts WHERE claims_fts MATCH ?)"
            + ORDER_BY_REF,
            "params": ['"microglia"'],
        },
    ]


STATS_SQL = (
    "SELECT c.source, e.effect, COUNT(*) FROM claims c"
    " JOIN claim_effects e ON e.claim_id = c.id GROUP BY c.source, e.effect",
    "SELECT source, COUNT(*) FROM claims GROUP BY source",
)


def cmd_queries(ws_root: str, budget: float = 1.0) -> dict[str, Any]:
    from exocli import query as q
    from exocli.db import open_database
    from exocli.stats import source_effect_matrix
    from exocli.workspace import open_workspace

    ws = open_workspace(Path(ws_root))
    conn = open_database(ws)  # built already (by `build`); this only checks it is current
    vocabs = q.Vocabs.load(conn)
    # The hand-written reference runs on an ANALYZEd copy, so exocli's own file stays as it ships.
    analyzed_path = Path(ws_root) / "db" / "bench-analyzed.sqlite"
    analyzed_path.unlink(missing_ok=True)
    ref_conn = sqlite3.connect(analyzed_path)
    conn.backup(ref_conn)
    t0 = time.perf_counter()
    ref_conn.execute("ANALYZE")
    ref_conn.commit()
    analyze_s = time.perf_counter() - t0
    plain = sqlite3.connect(ws.db_path)  # exocli's own SQL, run directly

    out: dict[str, Any] = {"analyze_s": analyze_s, "queries": {}}
    for spec in query_specs(Path(ws_root)):
        filters = spec["filters"]

        def run_exocli(filters: Any = filters) -> list[dict[str, Any]]:
            compiled = q.compile_filters(conn, filters, vocabs)
            return q.fetch_claims(conn, compiled)

        rows = run_exocli()
        exocli_ids = [r["id"] for r in rows]
        # Capture every statement exocli ran (values inlined) and replay them on plain sqlite3.
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        run_exocli()
        conn.set_trace_callback(None)
        statements = [s for s in statements if s.lstrip().upper().startswith("SELECT")]

        def run_same_sql(statements: list[str] = statements) -> None:
            for statement in statements:
                plain.execute(statement).fetchall()

        def run_hand(spec: dict[str, Any] = spec) -> list[tuple[Any, ...]]:
            return ref_conn.execute(spec["sql"], spec["params"]).fetchall()

        hand_ids = [row[0] for row in run_hand()]
        plan = (
            [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + statements[0]).fetchall()]
            if statements
            else []
        )
        hand_plan = [row[-1] for row in ref_conn.execute("EXPLAIN QUERY PLAN " + spec["sql"], spec["params"])]
        out["queries"][spec["name"]] = {
            "label": spec["label"],
            "rows": len(rows),
            "same_rows_as_hand_sql": sorted(exocli_ids) == sorted(hand_ids),
            "exocli": measure(run_exocli, budget=budget),
            "same_sql": measure(run_same_sql, budget=budget),
            "hand_sql_analyzed": measure(run_hand, budget=budget),
            "statements": len(statements),
            "exocli_plan": plan,
            "hand_plan": hand_plan,
        }

    def run_stats() -> Any:
        return source_effect_matrix(conn)

    def run_stats_sql(connection: sqlite3.Connection) -> Callable[[], None]:
        def go() -> None:
            for statement in STATS_SQL:
                connection.execute(statement).fetchall()

        return go

    out["queries"]["stats"] = {
        "label": "stats: source x effect matrix",
        "rows": len(run_stats().rows),
        "same_rows_as_hand_sql": True,
        "exocli": measure(run_stats, budget=budget),
        "same_sql": measure(run_stats_sql(plain), budget=budget),
        "hand_sql_analyzed": measure(run_stats_sql(ref_conn), budget=budget),
        "statements": len(STATS_SQL),
        "exocli_plan": [r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + STATS_SQL[0])],
        "hand_plan": [r[-1] for r in ref_conn.execute("EXPLAIN QUERY PLAN " + STATS_SQL[0])],
    }
    plain.close()
    ref_conn.close()
    conn.close()
    analyzed_path.unlink(missing_ok=True)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


# --- raw insert reference --------------------------------------------------------------------------

CLAIM_TABLE_COLUMNS = (
    "id",
    "ref_id",
    "section",
    "source",
    "source_wording",
    "cargo_type",
    "species",
    "model",
    "injury",
    "route",
    "dose",
    "outcome",
    "note",
    "added_by",
    "added_at",
)


def cmd_rawinsert(csv_path: str, schema_db: str, scratch: str) -> dict[str, Any]:
    """executemany of the CSV's rows into a table with exocli's `claims` schema (DDL and indexes).

    The rows are read and shaped first (not timed); the timed part is BEGIN, executemany, COMMIT
    on a fresh file with exocli's connection settings (WAL, synchronous=NORMAL).
    """
    source = sqlite3.connect(schema_db)
    ddl = [
        row[0]
        for row in source.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'claims' AND type IN ('table', 'index')"
            " AND sql IS NOT NULL ORDER BY type = 'index'"
        )
    ]
    source.close()
    with open(csv_path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [
            tuple(
                (int(r["id"]) if name == "id" else (int(r["ref"]) if r["ref"] else None))
                if name in ("id", "ref_id")
                else r[name]
                for name in CLAIM_TABLE_COLUMNS
            )
            for r in reader
        ]
    path = Path(scratch)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in ddl:
        conn.execute(statement)
    marks = ",".join("?" * len(CLAIM_TABLE_COLUMNS))
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO claims ({','.join(CLAIM_TABLE_COLUMNS)}) VALUES ({marks})", rows)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {"rows": len(rows), "seconds": elapsed, "rows_per_s": len(rows) / elapsed}


# --- bibtexparser reference ------------------------------------------------------------------------


def cmd_bibwrite(bib_path: str) -> dict[str, Any]:
    import bibtexparser

    text = Path(bib_path).read_text(encoding="utf-8")
    library = bibtexparser.parse_string(text)
    entries = len(library.entries)
    result = measure(lambda: bibtexparser.write_string(library), min_runs=3, budget=2.0, max_time=60.0)
    result.update(entries=entries, failed_blocks=len(library.failed_blocks), peak_rss_mb=peak_rss_mb())
    return result


# --- update searches -------------------------------------------------------------------------------


def cmd_dedupe(ws_path: str, n: int) -> dict[str, Any]:
    """`candidates.triage` of n Crossref works against the workspace's references (read from
    its database, as `search run` reads them): 30% cite a reference's DOI, 20% another DOI
    with a reference's title, first author and year (case and punctuation changed), 50% new."""
    from generate import candidate_works

    from exocli.candidates import ReviewIndex, triage
    from exocli.db import open_database
    from exocli.workspace import open_workspace

    ws = open_workspace(Path(ws_path))
    conn = open_database(ws)
    refs = conn.execute(
        "SELECT r.doi, r.title, r.year,"
        " (SELECT family FROM ref_authors a WHERE a.ref_id = r.id ORDER BY position LIMIT 1)"
        " FROM refs r WHERE r.doi IS NOT NULL AND r.title IS NOT NULL ORDER BY r.number"
    ).fetchall()
    items = candidate_works(n, seed=7, cited=refs)
    counts: dict[str, int] = {}

    def run() -> None:
        result = triage(items, ReviewIndex(conn), {}, "bench", "2026-12-01")
        counts.update(new=len(result.new), skipped=sum(len(v) for v in result.skipped.values()))

    timing = measure(run, min_runs=5, budget=2.0)
    timing.update(references=conn.execute("SELECT count(*) FROM refs").fetchone()[0], candidates=n, **counts)
    return timing


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "build":
        result = cmd_build(args[0])
    elif command == "queries":
        result = cmd_queries(args[0], float(args[1]) if len(args) > 1 else 1.0)
    elif command == "rawinsert":
        result = cmd_rawinsert(args[0], args[1], args[2])
    elif command == "bibwrite":
        result = cmd_bibwrite(args[0])
    elif command == "dedupe":
        result = cmd_dedupe(args[0], int(args[1]))
    elif command == "copy":  # used by run.py to copy a workspace without its database
        shutil.copytree(args[0], args[1], ignore=shutil.ignore_patterns("*.sqlite*"))
        result = {}
    else:
        raise SystemExit(f"unknown command {command!r}")
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
