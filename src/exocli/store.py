"""Building the database from the record: in full, or one change at a time.

A full build (first use, after a pull, `exocli rebuild`) parses and validates every study
first; only then is the database rewritten, in one transaction, so bad text leaves the
database as it was. A write (`write_change`) touches only what it changes: the files of
the studies it changes and, when the list moves, the order file; their rows are replaced
and the list renumbered in one transaction; the files are staged beside their targets,
the journal (textio's commit point) is written just before COMMIT, and the renames follow.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exocli.db import database_failure, record_sources, source_digests, tracking_triggers
from exocli.evidence import Claim, Vocabularies
from exocli.fields import NOT_STATED
from exocli.refparse import ParsedReference
from exocli.studies import Study, format_order, format_study, load_record, reference_entry
from exocli.vocab import VOCABS, Vocabulary, load_vocabulary_file
from exocli.workspace import Workspace

if TYPE_CHECKING:
    from exocli.textio import StagedWrite
    from exocli.vocab_edits import VocabPlan

PARALLEL_FILES = 1000  # a write of this many files stages them while it writes the rows
BULK_ROWS = 2000  # a write of more studies and claims than this drops the tracking triggers meanwhile
DATA_TABLES = (
    "claim_terms",
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
    "source_files",
)


@dataclass
class Snapshot:
    """The whole record, validated: the studies in the list's order and the vocabularies."""

    studies: list[Study]
    vocabs: Vocabularies

    @property
    def references(self) -> list[ParsedReference]:
        return [study.reference for study in self.studies]

    @property
    def claims(self) -> list[Claim]:
        return [claim for study in self.studies for claim in study.claims]


def load_vocabularies(ws: Workspace) -> Vocabularies:
    def one(name: str) -> Vocabulary:
        return load_vocabulary_file(name, ws.vocab_path(name))

    return Vocabularies(*(one(name) for name in VOCABS))


def load_snapshot(ws: Workspace) -> Snapshot:
    vocabs = load_vocabularies(ws)
    return Snapshot(load_record(ws, vocabs), vocabs)


@dataclass
class Change:
    """What one write changes: whole studies (None: the study goes) and, maybe, the order."""

    studies: dict[str, Study | None] = field(default_factory=dict)
    before: dict[str, Study | None] = field(default_factory=dict)  # as they were (for a small diff)
    order: list[str | None] | None = None  # the new order, when the list moves
    files: dict[Path, str] = field(default_factory=dict)  # other text written with it (Crossref)

    def texts(self, ws: Workspace) -> dict[Path, str | None]:
        texts: dict[Path, str | None] = dict(self.files)
        for key, study in self.studies.items():
            texts[ws.study_path(key)] = None if study is None else format_study(study)
        if self.order is not None:
            texts[ws.order_path] = format_order(self.order)
        return texts


def _begin_write(ws: Workspace, conn: sqlite3.Connection, discard_external: bool) -> None:
    from exocli.db import conflict_error, external_changes

    conn.execute("BEGIN IMMEDIATE")
    changed_outside = external_changes(conn)
    if changed_outside and not discard_external:
        raise conflict_error(ws, changed_outside)
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('exocli_writing', '1')")


def _finish_write(
    ws: Workspace,
    conn: sqlite3.Connection,
    texts: Mapping[Path, str | None],
    full: bool = False,
    staged: StagedWrite | None = None,
    digests: Mapping[str, str | None] | None = None,
) -> None:
    """Stage the texts (unless `staged` already holds them), record them, COMMIT, then put
    them in place (the caller began)."""
    from exocli.textio import stage

    try:
        if texts and staged is None:
            staged = stage(ws.root, texts)
        record_sources(conn, ws, texts, full, digests=digests, stats=staged.stats if staged else None)
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
    record_sources(
        conn, ws, {path: texts[path] for path in texts if texts[path] is not None}, stats_only=True
    )


def rebuild(
    ws: Workspace,
    conn: sqlite3.Connection,
    snapshot: Snapshot | None = None,
    texts: Mapping[Path, str | None] | None = None,
    discard_external: bool = False,
    read_only: bool = False,
) -> Snapshot:
    """Migrate, then replace every row with what the record says.

    `texts` are new versions of text files (None: the file goes), written with the rows
    (see `_finish_write`); `snapshot` must already be what they say.
    """
    from exocli.db import MIGRATION_NAMES, applied_migrations

    snapshot = snapshot or load_snapshot(ws)
    try:
        if applied_migrations(conn) != MIGRATION_NAMES:
            # sqlite-utils (and what it imports) only when the schema has to change
            from sqlite_utils import Database

            from exocli import migrations

            migrations.apply(Database(conn))
        _begin_write(ws, conn, discard_external)
        try:
            # exocli's own bulk write: the change-counting triggers would only say "not us"
            # for every row; drop them for this transaction and put them back before COMMIT.
            triggers = tracking_triggers()
            for name, _ in triggers:
                conn.execute(f"DROP TRIGGER IF EXISTS {name}")  # fixed names
            for table in DATA_TABLES:
                conn.execute(f"DELETE FROM {table}")  # fixed names, not user input
            skipped: list[str] = []
            cache = _read_crossref(ws, None, skipped)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('skipped_files', ?)",
                (json.dumps(skipped, ensure_ascii=False),),
            )
            _write_works(conn, cache[0].values())
            _write_vocabularies(conn, snapshot.vocabs)
            ref_ids = _insert_references(conn, snapshot.studies)
            for study in snapshot.studies:
                _write_resolution(ws, conn, ref_ids[study.key], study.reference, cache)
            write_claims(
                conn,
                [(c, ref_ids[s.key], s.reference.title or "") for s in snapshot.studies for c in s.claims],
                snapshot.vocabs.pathways,
            )
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('external_changes', '0')")
            for _, sql in triggers:
                conn.execute(sql)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        _finish_write(ws, conn, {} if read_only else dict(texts or {}), full=True)
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
        snapshot = load_snapshot(ws)  # a record that does not load keeps the last database
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


def write_change(ws: Workspace, conn: sqlite3.Connection, change: Change, pathways: Vocabulary) -> None:
    """Write one change: its files and its rows together, or neither (the caller holds the lock).

    Studies whose reference is unchanged keep their row; of their claims only those that
    differ are replaced. A new order renumbers the references it moves.
    """

    def write_rows() -> None:
        # A big change (an import): the change-counting triggers would cost a lookup per
        # row only to say "exocli"; drop them for this transaction, as a rebuild does.
        bulk = sum(1 + len(s.claims) for s in change.studies.values() if s is not None) > BULK_ROWS
        triggers = tracking_triggers() if bulk else []
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")  # fixed names
        _apply_change(ws, conn, change, pathways)
        for _, sql in triggers:
            conn.execute(sql)

    texts: dict[Path, str | None] = {}
    files: StagedFiles | None = None
    try:
        _begin_write(ws, conn, discard_external=False)
        try:
            if len(change.studies) >= PARALLEL_FILES:
                files = _rows_and_files(ws, change, write_rows)
            if files is None:
                texts = change.texts(ws)
                write_rows()
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if files is None:
            _finish_write(ws, conn, texts)
        else:
            _finish_write(ws, conn, {}, staged=files.staged(ws.root), digests=files.digests)
    except sqlite3.DatabaseError as exc:
        raise database_failure(Path(ws.db_path), exc) from exc


@dataclass
class StagedFiles:
    """Files staged (perhaps by a worker): (temporary, target) of each, those that go, hashes,
    stats, and the staging folders that hold the temporaries."""

    moves: list[tuple[str, str]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    digests: dict[str, str | None] = field(default_factory=dict)
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)

    def staged(self, root: Path) -> StagedWrite:
        from exocli.textio import StagedWrite

        return StagedWrite(root, list(self.moves), list(self.deletes), dict(self.stats), list(self.folders))

    def add_all(self, others: list[StagedFiles]) -> StagedFiles:
        for other in others:
            self.add(other)
        return self

    def add(self, other: StagedFiles) -> StagedFiles:
        self.moves += other.moves
        self.deletes += other.deletes
        self.digests.update(other.digests)
        self.stats.update(other.stats)
        self.folders += other.folders
        return self


# A split write's studies are staged in shares of this many, taken by whichever process is free
SHARE_FILES = 200


def _rows_and_files(ws: Workspace, change: Change, write_rows: Callable[[], None]) -> StagedFiles | None:
    """For a change of thousands of files (an import): a worker formats, stages and hashes
    the studies' files, a share at a time, while the rows are written here; then this process
    takes shares too, until none is left (see exocli.parallel.Shares). Each process stages
    into its own staging folders: two processes creating files in one folder wait on its lock,
    ten times slower than either alone. None, with nothing done, where no worker can be had."""
    from exocli.parallel import Shares, can_fork, parallel_map, worker_count

    if worker_count() < 2 or not can_fork():
        return None
    keys = list(change.studies)
    count = min(Shares.LIMIT, -(-len(keys) // SHARE_FILES))
    bounds = [len(keys) * n // count for n in range(count + 1)]
    shares = Shares(count)
    staged_here: list[StagedFiles] = []
    taken_here: list[int] = []
    parent = os.getpid()

    def share(number: int) -> Change:
        studies = {key: change.studies[key] for key in keys[bounds[number] : bounds[number + 1]]}
        if number == 0:  # the order and the other files go with the first share
            return Change(studies, order=change.order, files=change.files)
        return Change(studies)

    def stage_shares(numbers: Iterable[int], into: list[StagedFiles]) -> StagedFiles:
        """These shares staged, then synced once; each is added to `into` as it is (to be
        discarded on failure). A worker's `taken_here` is its own copy, and is dropped."""
        folders: dict[Path, str] = {}
        done: list[StagedFiles] = []
        for number in numbers:
            taken_here.append(number)
            texts = share(number).texts(ws)
            done.append(_stage_files(ws, texts, own_folder=True, folders=folders, sync=False))
            into.append(done[-1])
        os.sync()  # one sync of every share, not one a share
        return StagedFiles().add_all(done)

    def run(part: str) -> StagedFiles:
        if part == "worker" and os.getpid() != parent:
            mine: list[StagedFiles] = []
            try:
                return stage_shares(shares, mine)
            except BaseException:
                for files in mine:
                    files.staged(ws.root).discard()
                raise
        if part == "worker":  # no worker, or it died: every share not staged here (what it
            # staged before it died is left to the next writer's sweep of stale temporaries)
            return stage_shares([n for n in range(count) if n not in taken_here], staged_here)
        write_rows()
        return stage_shares(shares, staged_here)

    def undo(files: StagedFiles) -> None:
        files.staged(ws.root).discard()  # this write failed: the staged files go too

    try:
        here, there = parallel_map(run, ["here", "worker"], undo=undo)
    except BaseException:
        for files in staged_here:  # the worker failed after this process staged its shares
            files.staged(ws.root).discard()
        raise
    finally:
        shares.close()
    return there.add(here)


def _stage_files(
    ws: Workspace,
    texts: Mapping[Path, str | None],
    own_folder: bool = False,
    folders: dict[Path, str] | None = None,
    sync: bool = True,
) -> StagedFiles:
    """The texts staged (see textio.stage), with their hashes."""
    from exocli.textio import stage

    staged = stage(ws.root, texts, own_folder=own_folder, folders=folders, sync=sync)
    try:
        digests = source_digests(ws, texts)
    except BaseException:
        staged.discard()
        raise
    return StagedFiles(
        [(os.fspath(temp), os.fspath(target)) for temp, target in staged.moves],
        [os.fspath(path) for path in staged.deletes],
        digests,
        staged.stats,
        staged.folders,
    )


def _apply_change(ws: Workspace, conn: sqlite3.Connection, change: Change, pathways: Vocabulary) -> None:
    from exocli.records import claim_entry

    ids = _reference_ids(conn, change.studies)
    before_ids = set(ids)
    # 1. What goes: whole studies, and the claims that changed or left a study.
    new_claims: list[tuple[Claim, str]] = []
    rewritten: dict[str, Study] = {}  # reference row to update
    for key, study in change.studies.items():
        before = change.before.get(key)
        ref_id = ids.get(key)
        if study is None or ref_id is None:
            if ref_id is not None:
                _delete_claims(conn, ref_id=ref_id)
                conn.execute("DELETE FROM refs WHERE id = ?", (ref_id,))
            if study is not None:
                new_claims += [(c, key) for c in study.claims]
            continue
        same_reference = before is not None and reference_entry(before.reference) == reference_entry(
            study.reference
        )
        if not same_reference:
            rewritten[key] = study
            _delete_claims(conn, ref_id=ref_id)
            new_claims += [(c, key) for c in study.claims]
            continue
        assert before is not None
        old = {c.id: claim_entry(c) for c in before.claims}
        changed = [c for c in study.claims if old.get(c.id) != claim_entry(c)]
        kept = {c.id for c in study.claims}
        _delete_claims(
            conn, claim_ids=[i for i in old if i not in kept] + [c.id for c in changed if c.id in old]
        )
        new_claims += [(c, key) for c in changed]
    # 2. The list moves: numbers that change are cleared first (they are unique), then set.
    if change.order is not None:
        wanted = {key: n for n, key in enumerate(change.order, 1) if key is not None}
        current = dict(conn.execute("SELECT citekey, number FROM refs").fetchall())
        moving = [
            (wanted[key], key) for key, number in current.items() if key in wanted and wanted[key] != number
        ]
        conn.executemany("UPDATE refs SET number = NULL WHERE citekey = ?", [(key,) for _, key in moving])
        conn.executemany("UPDATE refs SET number = ? WHERE citekey = ?", moving)
    # 3. New and rewritten references, then the claims.
    cache = _read_crossref(ws, [s.reference for s in change.studies.values() if s is not None], None)
    for path, text in change.files.items():  # answers written with this change (not yet in place)
        if path.parent == ws.crossref_dir and path.name.startswith("work-"):
            from exocli.refparse import doi_key

            stored = json.loads(text)
            cache[0][doi_key(stored["doi"])] = stored
    _write_works(conn, cache[0].values())
    for key, study in rewritten.items():
        _update_reference(conn, ids[key], study)
    ids.update(
        _insert_references(conn, [s for key, s in change.studies.items() if s is not None and key not in ids])
    )
    works, searches = cache
    for key, study in change.studies.items() if works or searches else ():  # no answer, no verdict
        if study is not None and (key in rewritten or key not in before_ids):
            _write_resolution(ws, conn, ids[key], study.reference, cache)
    titles = {key: (s.reference.title or "") for key, s in change.studies.items() if s is not None}
    write_claims(conn, [(c, ids[key], titles[key]) for c, key in new_claims], pathways)


def _reference_ids(conn: sqlite3.Connection, keys: Iterable[str]) -> dict[str, int]:
    """The row ids of the studies with these keys that have a row."""
    keys = list(keys)
    if len(keys) > 50:  # an import: one scan, not a lookup per key
        # Keys are ASCII and compare as the citekey index does (COLLATE NOCASE).
        rows = {key.lower(): ref_id for key, ref_id in conn.execute("SELECT citekey, id FROM refs") if key}
        return {key: rows[key.lower()] for key in keys if key.lower() in rows}
    return {
        key: row[0]
        for key in keys
        if (row := conn.execute("SELECT id FROM refs WHERE citekey = ?", (key,)).fetchone())
    }


def _delete_claims(
    conn: sqlite3.Connection, ref_id: int | None = None, claim_ids: Sequence[int] = ()
) -> None:
    """Claims and their link rows (the link tables cascade; full-text rows do not)."""
    if ref_id is not None:
        conn.execute(
            "DELETE FROM claims_fts WHERE rowid IN (SELECT id FROM claims WHERE ref_id = ?)", (ref_id,)
        )
        conn.execute("DELETE FROM claims WHERE ref_id = ?", (ref_id,))
    if claim_ids:
        conn.executemany("DELETE FROM claims_fts WHERE rowid = ?", [(i,) for i in claim_ids])
        conn.executemany("DELETE FROM claims WHERE id = ?", [(i,) for i in claim_ids])


_REFERENCE_VALUES = (
    "number, kind, raw, title, journal, year, volume, issue, pages, doi, url, et_al, problem, citekey"
)


def _reference_row(study: Study) -> tuple[Any, ...]:
    ref = study.reference
    return (
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
        study.key,
    )


def _insert_references(conn: sqlite3.Connection, studies: Sequence[Study]) -> dict[str, int]:
    """New reference rows and their authors; each study's key -> its row id.

    One statement for all the rows (an import inserts thousands), then their ids by key."""
    if not studies:
        return {}
    conn.executemany(
        f"INSERT INTO refs ({_REFERENCE_VALUES}) VALUES ({', '.join('?' * 14)})",  # fixed columns
        [_reference_row(study) for study in studies],
    )
    ids = _reference_ids(conn, [study.key for study in studies])
    conn.executemany(
        "INSERT INTO ref_authors (ref_id, position, family, given) VALUES (?, ?, ?, ?)",
        [
            (ids[study.key], i, a.family, a.given)
            for study in studies
            for i, a in enumerate(study.reference.authors)
        ],
    )
    return ids


def _update_reference(conn: sqlite3.Connection, ref_id: int, study: Study) -> None:
    columns = ", ".join(f"{name.strip()} = ?" for name in _REFERENCE_VALUES.split(","))
    conn.execute(f"UPDATE refs SET {columns} WHERE id = ?", (*_reference_row(study), ref_id))  # fixed
    for table in ("ref_authors", "ref_resolution", "ref_candidates", "ref_updates"):
        conn.execute(f"DELETE FROM {table} WHERE ref_id = ?", (ref_id,))  # fixed names
    _write_authors(conn, ref_id, study.reference)


def _write_authors(conn: sqlite3.Connection, ref_id: int, ref: ParsedReference) -> None:
    conn.executemany(
        "INSERT INTO ref_authors (ref_id, position, family, given) VALUES (?, ?, ?, ?)",
        [(ref_id, i, a.family, a.given) for i, a in enumerate(ref.authors)],
    )


def _write_vocabularies(conn: sqlite3.Connection, vocabs: Vocabularies) -> None:
    for name in VOCABS:
        _write_vocabulary_rows(conn, name, vocabs.by_name(name))


def write_claims(
    conn: sqlite3.Connection, claims: Sequence[tuple[Claim, int, str]], pathways: Vocabulary
) -> None:
    """Insert claims, each with its reference's row id and title, and their link rows."""
    claim_rows, cargo_rows, effect_rows, pathway_rows, part_rows, engineering_rows = ([], [], [], [], [], [])
    facet_rows: list[tuple[str, str, str, int]] = []
    term_rows: list[tuple[int, str, str, int]] = []
    fts_rows: list[tuple[int, str]] = []
    # In id order: rows then go to the end of each index instead of all over it (twice as fast).
    for c, ref_id, title in sorted(claims, key=lambda row: row[0].id):
        claim_rows.append(
            (
                c.id,
                ref_id,
                c.section,
                c.source,
                c.source_wording,
                c.cargo_type,
                context_text(c.species),
                context_text(c.model),
                context_text(c.injury),
                c.route,
                c.dose,
                c.outcome,
                c.note,
                c.added_by,
                c.added_at,
                c.status,
                c.manuscript,
                c.paragraph,
                c.sentence,
                c.sentence_hash,
                c.assignment,
                "; ".join(c.from_context),
                c.flag,
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
        for vocab_name, codes in (("species", c.species), ("models", c.model), ("injuries", c.injury)):
            term_rows += [(c.id, vocab_name, code, i) for i, code in enumerate(codes)]
        families = {g.family or g.key for g in c.cargo}
        facet_rows += [(c.source, e, f, c.id) for e in c.effects for f in families]
        fts_rows.append((c.id, claim_document(c, title)))
    conn.executemany(
        "INSERT INTO claims (id, ref_id, section, source, source_wording, cargo_type, species,"
        " model, injury, route, dose, outcome, note, added_by, added_at, status, manuscript, paragraph,"
        " sentence, sentence_hash, assignment, from_context, flag)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    conn.executemany(
        "INSERT INTO claim_terms (claim_id, vocab, code, position) VALUES (?, ?, ?, ?)", term_rows
    )
    conn.executemany("INSERT INTO claims_fts (rowid, body) VALUES (?, ?)", fts_rows)


def context_text(codes: Sequence[str]) -> str:
    """A study-context list as the claims table (and every table of claims) shows it."""
    return "; ".join(codes) if codes else NOT_STATED


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
            *claim.species,
            *claim.model,
            *claim.injury,
            claim.route,
            claim.dose,
            claim.outcome,
            claim.note,
            title,
        ]
    )


CrossrefCache = tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]


def _read_crossref(
    ws: Workspace, references: Iterable[ParsedReference] | None, skipped: list[str] | None
) -> CrossrefCache:
    """Stored Crossref answers: all of them, or only those of `references`."""
    if references is not None and not ws.crossref_dir.is_dir():
        return {}, {}  # nothing resolved yet (a new workspace's import): not even crossref's import
    from exocli.crossref import read_cache, search_path, work_path

    if references is None:
        return read_cache(ws, skipped)
    paths: list[Path] = []
    for ref in references:
        paths.append(work_path(ws, ref.doi) if ref.doi else search_path(ws, ref.raw))
    works, searches = read_cache(ws, skipped, paths)
    accepted = [s["accepted"] for s in searches.values() if s.get("accepted")]
    if accepted:
        more, _ = read_cache(ws, skipped, [work_path(ws, doi) for doi in accepted])
        works.update(more)
    return works, searches


def _write_works(conn: sqlite3.Connection, works: Iterable[dict[str, Any]]) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO crossref_works (doi, status, fetched_at, pool, message) VALUES (?, ?, ?, ?, ?)",
        [
            (
                w["doi"],
                w.get("status", "ok"),
                w.get("fetched_at", ""),
                w.get("pool"),
                json.dumps(w["message"], ensure_ascii=False) if w.get("message") else None,
            )
            for w in works
        ],
    )


def _write_resolution(
    ws: Workspace, conn: sqlite3.Connection, ref_id: int, ref: ParsedReference, cache: CrossrefCache
) -> None:
    """One reference's verdict, computed from the stored Crossref answers."""
    from exocli.crossref import search_path
    from exocli.refparse import doi_key
    from exocli.verify import record_first_author, record_titles, record_year, update_flags, verify

    works, searches = cache
    method, doi, score = "doi", ref.doi, None
    if not ref.doi:
        search = searches.get(search_path(ws, ref.raw).name)
        if search is None:
            return
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
            return
        score = next((c.get("score") for c in candidates if c.get("doi") == doi), None)
    work = works.get(doi_key(doi)) if doi else None
    if work is None:
        return
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


def write_vocabulary_change(
    ws: Workspace,
    conn: sqlite3.Connection,
    plans: Sequence[VocabPlan],
    change: Change,
    pathways: Vocabulary,
) -> None:
    """Write vocabularies: each plan's text as the workspace's own file (db/vocab/NAME.toml,
    which takes the place of the bundled file when the workspace had none) and its rows, with
    the studies of `change` (claims that follow the vocabularies, or a claim that uses a new
    term) and their rows: all, or nothing.

    `pathways` is the pathways vocabulary after the change: claims' pathway parts are matched
    against it again (a new synonym can join a part to a term)."""
    import hashlib

    texts = change.texts(ws)
    for plan in plans:
        texts[ws.root / plan.path] = plan.text
    digests = source_digests(ws, texts)
    for plan in plans:
        digests[plan.path] = hashlib.sha256(plan.text.encode("utf-8")).hexdigest()
        replaced = ws.vocab_path(plan.name)  # the file the rows were built from: the bundled one, maybe
        if replaced != ws.root / plan.path:
            digests[ws.relative(replaced)] = None  # no longer a source of this workspace
    try:
        _begin_write(ws, conn, discard_external=False)
        try:
            _apply_change(ws, conn, change, pathways)
            for plan in plans:
                conn.execute("DELETE FROM vocab_synonyms WHERE vocab = ?", (plan.name,))
                conn.execute("DELETE FROM vocab_terms WHERE vocab = ?", (plan.name,))
                _write_vocabulary_rows(conn, plan.name, plan.vocabulary)
            if any(plan.name == "pathways" for plan in plans):
                _refresh_pathway_parts(conn, pathways)
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        _finish_write(ws, conn, texts, digests=digests)
    except sqlite3.DatabaseError as exc:
        raise database_failure(Path(ws.db_path), exc) from exc


def _write_vocabulary_rows(conn: sqlite3.Connection, name: str, vocab: Vocabulary) -> None:
    conn.executemany(
        "INSERT INTO vocab_terms (vocab, code, label, parent, stem, position, ontology_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                name,
                term.code,
                term.label,
                term.parent,
                None if term.stem is None else int(term.stem),
                position,
                term.ontology_id,
            )
            for position, term in enumerate(vocab.terms.values())
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO vocab_synonyms (vocab, code, synonym) VALUES (?, ?, ?)",
        [(name, term.code, synonym) for term in vocab.terms.values() for synonym in term.synonyms],
    )


def _refresh_pathway_parts(conn: sqlite3.Connection, pathways: Vocabulary) -> None:
    """Every claim's pathway parts matched against `pathways` again; only claims whose parts
    change are rewritten."""
    from exocli.evidence import pathway_parts

    axes: dict[int, list[str]] = {}
    for claim_id, pathway in conn.execute(
        "SELECT claim_id, pathway FROM claim_pathways ORDER BY claim_id, position"
    ):
        axes.setdefault(int(claim_id), []).append(str(pathway))
    stored: dict[int, set[tuple[str, str]]] = {}
    for claim_id, key, part in conn.execute("SELECT claim_id, key, part FROM claim_pathway_parts"):
        stored.setdefault(int(claim_id), set()).add((str(key), str(part)))
    for claim_id in sorted(set(axes) | set(stored)):
        parts = [(p.key, p.part) for p in pathway_parts(axes.get(claim_id, []), pathways)]
        if set(parts) != stored.get(claim_id, set()):
            conn.execute("DELETE FROM claim_pathway_parts WHERE claim_id = ?", (claim_id,))
            conn.executemany(
                "INSERT INTO claim_pathway_parts (claim_id, key, part) VALUES (?, ?, ?)",
                [(claim_id, key, part) for key, part in parts],
            )
