"""Building the database from the workspace's text (references, vocabularies, claims).

Everything is parsed and validated first; only then is the database rewritten, in one
transaction, so bad text leaves the database as it was.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from exocli.citekeys import assign_keys, format_keys, identities, read_keys
from exocli.db import content_fingerprint, database_failure, stat_fingerprint, tracking_triggers
from exocli.errors import DataError
from exocli.evidence import Claim, Vocabularies, load_claims
from exocli.refparse import ParsedReference, parse_reference_list
from exocli.vocab import Vocabulary, load_vocabulary_file
from exocli.workspace import Workspace

DATA_TABLES = (
    "claim_facets",
    "ref_updates",
    "ref_candidates",
    "ref_resolution",
    "crossref_works",
    "claims_fts",
    "claim_engineering",
    "claim_pathway_parts",
    "claim_pathways",
    "claim_effects",
    "claim_cargos",
    "claims",
    "vocab_synonyms",
    "vocab_terms",
    "ref_authors",
    "refs",
)


@dataclass
class Snapshot:
    references: list[ParsedReference]
    reference_problems: list[str]
    vocabs: Vocabularies
    claims: list[Claim]
    keys: dict[str, str] = field(default_factory=dict)  # identity -> citation key
    # What makes the record inconsistent: {claim id: missing reference number}. Only a
    # lenient load keeps going past these, so that the record can be repaired.
    dangling: dict[int, int] = field(default_factory=dict)

    @property
    def record_problems(self) -> list[str]:
        return [dangling_message(claim_id, ref) for claim_id, ref in sorted(self.dangling.items())]


def load_vocabularies(ws: Workspace) -> Vocabularies:
    def one(name: str) -> Vocabulary:
        return load_vocabulary_file(name, ws.vocab_path(name))

    return Vocabularies(one("sources"), one("effects"), one("cargo-types"), one("pathways"))


def read_references(ws: Workspace, text: str | None = None) -> tuple[list[ParsedReference], list[str]]:
    path = ws.references_path
    if text is None:
        if not path.exists():
            return [], []
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: cannot be read ({exc})") from exc
    if not text.strip():
        return [], []
    try:
        parsed = parse_reference_list(text, ws.relative(path))
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    return parsed.references, parsed.problems


def load_snapshot(ws: Workspace, references_text: str | None = None, lenient: bool = False) -> Snapshot:
    """The whole record, validated. `lenient` lets claims cite missing references (for repairs)."""
    references, problems = read_references(ws, references_text)
    vocabs = load_vocabularies(ws)
    numbers = {ref.number for ref in references if ref.number is not None}
    claims = load_claims(ws.claims_path, vocabs, None if lenient else numbers)
    return Snapshot(references, problems, vocabs, claims, read_keys(ws), dangling_citations(claims, numbers))


def dangling_citations(claims: list[Claim], numbers: set[int]) -> dict[int, int]:
    """{claim id: the reference number it cites} for claims citing a reference the list lacks."""
    return {c.id: c.ref for c in claims if c.ref is not None and c.ref not in numbers}


def dangling_message(claim_id: int, ref: int) -> str:
    """What is wrong with a dangling claim, and the three ways to repair it."""
    return (
        f"claim {claim_id} cites reference {ref}, which is not in the reference list; put the"
        f" reference back (`exocli refs import`), re-cite the claim (`exocli claims edit {claim_id}"
        f" --ref N`) or remove it (`exocli claims remove {claim_id}`)"
    )


def rebuild(
    ws: Workspace,
    conn: sqlite3.Connection,
    snapshot: Snapshot | None = None,
    texts: dict[Path, str] | None = None,
    discard_external: bool = False,
    read_only: bool = False,
) -> Snapshot:
    """Migrate, then replace every row with what the text says: text and database together.

    `texts` are new versions of text files. They are staged beside their targets while the
    rows are written, the journal (textio's commit point) is written just before COMMIT,
    and the renames follow it: a failure anywhere before that changes nothing, a kill after
    the journal is completed by the next command, and the database follows the text.
    """
    from exocli.db import MIGRATION_NAMES, applied_migrations, conflict_error, external_changes
    from exocli.textio import stage

    snapshot = snapshot or load_snapshot(ws)
    numbers = {ref.number for ref in snapshot.references if ref.number is not None}
    snapshot.dangling = dangling_citations(snapshot.claims, numbers)
    texts = dict(texts or {})
    # Keys are made once: new references get one now, and it is written down with them.
    keys = assign_keys(snapshot.references, snapshot.keys)
    if not read_only and (keys != read_keys(ws) or (keys and not ws.citekeys_path.exists())):
        texts[ws.citekeys_path] = format_keys(keys, snapshot.references)
    snapshot.keys = keys
    staged = None
    try:
        if applied_migrations(conn) != MIGRATION_NAMES:
            # sqlite-utils (and what it imports) only when the schema has to change
            from sqlite_utils import Database

            from exocli import migrations

            migrations.apply(Database(conn))
        conn.execute("BEGIN IMMEDIATE")
        try:
            changed_outside = external_changes(conn)
            if changed_outside and not discard_external:
                raise conflict_error(ws, changed_outside)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('exocli_writing', '1')")
            # exocli's own bulk write: the change-counting triggers would only say "not us"
            # for every row; drop them for this transaction and put them back before COMMIT.
            triggers = tracking_triggers()
            for name, _ in triggers:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")  # fixed names
            for table in DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")  # fixed names, not user input
            _write_references(conn, snapshot.references, keys)
            _write_crossref(ws, conn, snapshot.references)
            _write_vocabularies(conn, snapshot.vocabs)
            _write_claims(conn, snapshot.claims, snapshot.vocabs.pathways)
            if texts:
                staged = stage(ws.root, texts)
            conn.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [
                    # the stat fingerprint is taken once the files are in place (below)
                    ("stat_fingerprint", ""),
                    ("content_fingerprint", content_fingerprint(ws, texts)),
                    ("external_changes", "0"),
                    ("dangling_citations", json.dumps(sorted(snapshot.dangling.items()))),
                ],
            )
            for _, sql in triggers:
                conn.execute(sql)
            conn.execute("DELETE FROM meta WHERE key = 'exocli_writing'")
            if staged is not None:
                staged.commit()
            conn.execute("COMMIT")
        except BaseException:
            if staged is not None:
                staged.discard()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if staged is not None:
            staged.apply()
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('stat_fingerprint', ?)",
            (stat_fingerprint(ws),),
        )
    except sqlite3.DatabaseError as exc:
        raise database_failure(Path(ws.db_path), exc) from exc
    return snapshot


def rebuild_database(ws: Workspace) -> Snapshot:
    """`exocli rebuild`: a new database from the text alone, under the workspace lock."""
    from contextlib import nullcontext

    from exocli.db import connect, database_path
    from exocli.errors import DatabaseError
    from exocli.records import workspace_lock

    path = database_path(ws)
    if path.is_dir():
        raise DatabaseError(f"the database path {path} is a folder; move it away, then rebuild")
    read_only = path != ws.db_path
    with nullcontext() if read_only else workspace_lock(ws):
        snapshot = load_snapshot(ws)  # strict: an inconsistent record keeps the last database
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        except OSError as exc:
            raise DatabaseError(f"cannot replace the database {path}: {exc.strerror}") from exc
        conn = connect(path)
        try:
            rebuild(ws, conn, snapshot, read_only=read_only)
        finally:
            conn.close()
    return snapshot


def _write_references(
    conn: sqlite3.Connection, references: list[ParsedReference], keys: dict[str, str]
) -> None:
    idents = identities(references)
    for ref in references:
        cursor = conn.execute(
            "INSERT INTO refs (number, kind, raw, title, journal, year, volume, issue, pages, doi,"
            " url, et_al, problem, citekey) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ref.number,
                ref.kind,
                ref.raw,
                ref.title,
                ref.journal,
                ref.year,
                ref.volume,
                ref.issue,
                ref.pages,
                ref.doi,
                ref.url,
                int(ref.et_al),
                ref.problem,
                keys.get(idents[ref.number]),
            ),
        )
        conn.executemany(
            "INSERT INTO ref_authors (ref_id, position, family, given) VALUES (?, ?, ?, ?)",
            [(cursor.lastrowid, i, a.family, a.given) for i, a in enumerate(ref.authors)],
        )


def _write_vocabularies(conn: sqlite3.Connection, vocabs: Vocabularies) -> None:
    for name in ("sources", "effects", "cargo-types", "pathways"):
        vocab = vocabs.by_name(name)
        for position, term in enumerate(vocab.terms.values()):
            conn.execute(
                "INSERT INTO vocab_terms (vocab, code, label, parent, stem, position)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    name,
                    term.code,
                    term.label,
                    term.parent,
                    None if term.stem is None else int(term.stem),
                    position,
                ),
            )
            conn.executemany(
                "INSERT OR IGNORE INTO vocab_synonyms (vocab, code, synonym) VALUES (?, ?, ?)",
                [(name, term.code, synonym) for synonym in term.synonyms],
            )


def _write_claims(conn: sqlite3.Connection, claims: list[Claim], pathways: Vocabulary) -> None:
    ref_ids = {row[0]: row[1] for row in conn.execute("SELECT number, id FROM refs")}
    write_claims(conn, claims, ref_ids, pathways)


def write_claims(
    conn: sqlite3.Connection, claims: list[Claim], ref_ids: dict[int, int], pathways: Vocabulary
) -> None:
    """Insert claims and their link rows (the caller owns the transaction)."""
    claim_rows, cargo_rows, effect_rows, pathway_rows, part_rows, engineering_rows = ([], [], [], [], [], [])
    facet_rows: list[tuple[str, str, str, int]] = []
    for c in claims:
        claim_rows.append(
            (
                c.id,
                ref_ids.get(c.ref) if c.ref is not None else None,
                c.section,
                c.source,
                c.source_wording,
                c.cargo_type,
                c.species,
                c.model,
                c.injury,
                c.route,
                c.dose,
                c.outcome,
                c.note,
                c.added_by,
                c.added_at,
            )
        )
        cargo_rows += [
            (c.id, i, g.wording, g.name, g.key, g.family, g.letter, g.paralog, g.arm)
            for i, g in enumerate(c.cargo)
        ]
        effect_rows += [(c.id, e, i) for i, e in enumerate(c.effects)]
        pathway_rows += [(c.id, i, p) for i, p in enumerate(c.pathways)]
        part_rows += [(c.id, p.key, p.part) for p in c.pathway_parts(pathways)]
        engineering_rows += [(c.id, i, t) for i, t in enumerate(c.engineering)]
        families = {g.family or g.key for g in c.cargo}
        facet_rows += [(c.source, e, f, c.id) for e in c.effects for f in families]
    conn.executemany(
        "INSERT INTO claims (id, ref_id, section, source, source_wording, cargo_type, species,"
        " model, injury, route, dose, outcome, note, added_by, added_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        claim_rows,
    )
    conn.executemany(
        "INSERT INTO claim_cargos (claim_id, position, wording, name, key, family, letter,"
        " paralog, arm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        cargo_rows,
    )
    conn.executemany("INSERT INTO claim_effects (claim_id, effect, position) VALUES (?, ?, ?)", effect_rows)
    conn.executemany(
        "INSERT INTO claim_pathways (claim_id, position, pathway) VALUES (?, ?, ?)", pathway_rows
    )
    conn.executemany("INSERT INTO claim_pathway_parts (claim_id, key, part) VALUES (?, ?, ?)", part_rows)
    conn.executemany(
        "INSERT INTO claim_engineering (claim_id, position, term) VALUES (?, ?, ?)",
        engineering_rows,
    )
    conn.executemany(
        "INSERT OR IGNORE INTO claim_facets (source, effect, family, claim_id) VALUES (?, ?, ?, ?)",
        facet_rows,
    )
    titles = {ref_id: title or "" for ref_id, title in conn.execute("SELECT id, title FROM refs")}
    conn.executemany(
        "INSERT INTO claims_fts (rowid, body) VALUES (?, ?)",
        [(c.id, claim_document(c, titles.get(ref_ids.get(c.ref or -1, -1), ""))) for c in claims],
    )


def claim_document(claim: Claim, title: str) -> str:
    """The words full-text search sees for one claim."""
    return " ".join(
        [
            claim.section,
            claim.source,
            claim.source_wording,
            claim.cargo_type,
            *(g.wording for g in claim.cargo),
            *(g.name for g in claim.cargo),
            *claim.engineering,
            *claim.pathways,
            *claim.effects,
            claim.species,
            claim.model,
            claim.injury,
            claim.route,
            claim.dose,
            claim.outcome,
            claim.note,
            title,
        ]
    )


def _write_crossref(ws: Workspace, conn: sqlite3.Connection, references: list[ParsedReference]) -> None:
    """Stored Crossref answers, and each reference's verdict computed from them."""
    import json

    from exocli.crossref import read_cache, search_path
    from exocli.refparse import doi_key
    from exocli.verify import record_first_author, record_titles, record_year, update_flags, verify

    skipped: list[str] = []
    works, searches = read_cache(ws, skipped)
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('skipped_files', ?)",
        (json.dumps(skipped, ensure_ascii=False),),
    )
    conn.executemany(
        "INSERT INTO crossref_works (doi, status, fetched_at, pool, message) VALUES (?, ?, ?, ?, ?)",
        [
            (
                w["doi"],
                w.get("status", "ok"),
                w.get("fetched_at", ""),
                w.get("pool"),
                json.dumps(w["message"], ensure_ascii=False) if w.get("message") else None,
            )
            for w in works.values()
        ],
    )
    ids = dict(conn.execute("SELECT number, id FROM refs").fetchall())
    for ref in references:
        ref_id = ids[ref.number]
        method, doi, score = "doi", ref.doi, None
        if not ref.doi:
            search = searches.get(search_path(ws, ref.raw).name)
            if search is None:
                continue
            candidates = search.get("candidates") or []
            conn.executemany(
                "INSERT INTO ref_candidates (ref_id, rank, doi, title, first_author, year, journal, score)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        ref_id,
                        rank,
                        c.get("doi"),
                        next(iter(record_titles(c.get("message") or {})), None),
                        record_first_author(c.get("message") or {}),
                        record_year(c.get("message") or {}),
                        ((c.get("message") or {}).get("container-title") or [None])[0],
                        c.get("score", 0.0),
                    )
                    for rank, c in enumerate(candidates, 1)
                ],
            )
            method, doi = "bibliographic", search.get("accepted")
            if doi is None:
                status = "ambiguous" if candidates else "no_match"
                conn.execute(
                    "INSERT INTO ref_resolution (ref_id, doi, method, status, checked_at) VALUES (?, NULL, ?, ?, ?)",
                    (ref_id, method, status, search.get("searched_at")),
                )
                continue
            score = next((c.get("score") for c in candidates if c.get("doi") == doi), None)
        work = works.get(doi_key(doi)) if doi else None
        if work is None:
            continue
        if work.get("status") == "not_found" or not work.get("message"):
            status, differences = "not_found", []
        else:
            verdict = verify(ref, work["message"])
            status, differences = verdict.status, verdict.differences
            conn.executemany(
                "INSERT OR IGNORE INTO ref_updates (ref_id, relation, type, label, source, doi, date)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (ref_id, f["relation"], f["type"], f["label"], f["source"], f["doi"], f["date"])
                    for f in update_flags(work["message"])
                ],
            )
        conn.execute(
            "INSERT INTO ref_resolution (ref_id, doi, method, status, differences, score, checked_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                ref_id,
                doi,
                method,
                status,
                json.dumps(differences, ensure_ascii=False),
                score,
                work.get("fetched_at"),
            ),
        )
