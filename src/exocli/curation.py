"""Curation: adding studies, editing and removing claims, importing tables, syncing sides.

Every write holds the workspace lock, reads the studies it changes from their files (the
record), validates the result, then writes those files and their rows together
(store.write_change). Nothing else of the record is read or written.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import sqlite3
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exocli.errors import DataError, NotFoundError, UsageError
from exocli.evidence import Claim, Vocabularies, validate_claim
from exocli.fields import CLAIM_KEYS, LIST_KEYS, MAX_INTEGER, NOT_STATED, RECORD_KEYS, STATUSES
from exocli.records import claim_entry, workspace_lock
from exocli.reference_edits import (
    MetadataFetcher,
    StudyMetadata,
    find_study,
    metadata_from_crossref,
    reference_from_metadata,
    taken_keys,
)
from exocli.refparse import try_normalize_doi
from exocli.render import restore_cell
from exocli.store import (
    Change,
    Snapshot,
    load_snapshot,
    load_vocabularies,
    rebuild,
    write_change,
    write_vocabulary_change,
)
from exocli.studies import Study, format_order, format_study, new_claim_id, new_key, read_order, read_study
from exocli.workspace import Workspace

if TYPE_CHECKING:
    from exocli.vocab_edits import NewTerm

EDITABLE_KEYS = tuple(k for k in CLAIM_KEYS if k not in ("id", "added_by", "added_at"))
# Columns of `query --format csv|json` that are derived, not curated: ignored on import.
DERIVED_COLUMNS = ("study", "year", "doi", "cargo", "ontology_ids", "flags", "location")


def current_user() -> str:
    """Who is curating: EXOCLI_USER, else git's user.name, else the login name."""
    return os.environ.get("EXOCLI_USER") or _login_user()


@functools.cache  # one git lookup per process; EXOCLI_USER is read every time
def _login_user() -> str:
    try:
        name = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=2, check=False
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        name = ""
    return name or os.environ.get("USER", "") or "unknown"


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def claim_signature(claim: Claim) -> tuple[Any, ...]:
    """Two claims with the same signature say the same thing about the same study."""
    fold = _norm  # case and spacing do not make a claim different
    return (
        claim.ref,
        claim.source,
        claim.cargo_type,
        tuple(sorted(c.name.casefold() for c in claim.cargo)),
        tuple(sorted(claim.effects)),
        tuple(sorted(fold(p) for p in claim.pathways)),
        tuple(sorted(fold(e) for e in claim.engineering)),
        tuple(claim.species),
        tuple(claim.model),
        tuple(claim.injury),
        fold(claim.route),
        fold(claim.dose),
        fold(claim.outcome),
    )


def _check_not_duplicate(claim: Claim, others: Sequence[Claim]) -> None:
    """Only claims of one study can say the same thing (the signature holds the study)."""
    signature = claim_signature(claim)
    for other in others:
        if other.id != claim.id and claim_signature(other) == signature:
            raise DataError(
                f"claim {claim.id} would repeat claim {other.id} (same study, source, cargo and findings)"
            )


class _TakenIds:
    """`in` asks the database (a write needs one new id, not every id in memory)."""

    def __init__(self, conn: sqlite3.Connection, also: set[int] | None = None) -> None:
        self.conn, self.also = conn, also or set()

    def __contains__(self, claim_id: object) -> bool:
        if claim_id in self.also:
            return True
        return self.conn.execute("SELECT 1 FROM claims WHERE id = ?", (claim_id,)).fetchone() is not None


def _study_of_claim(conn: sqlite3.Connection, claim_id: int) -> tuple[str, int]:
    row = None
    if 1 <= claim_id <= MAX_INTEGER:
        row = conn.execute(
            "SELECT r.citekey, r.number FROM claims c JOIN refs r ON r.id = c.ref_id WHERE c.id = ?",
            (claim_id,),
        ).fetchone()
    if row is None:
        raise NotFoundError(f"no claim {claim_id} in this workspace")
    return row[0], row[1]


@dataclass
class AddResult:
    claim: Claim
    ref_number: int
    new_reference: bool
    key: str = ""
    warnings: list[str] = field(default_factory=list)
    terms: list[tuple[str, str, str]] = field(default_factory=list)  # (vocabulary, code, file) added


def add_study(
    ws: Workspace,
    conn: sqlite3.Connection,
    doi_text: str | None,
    fields: Mapping[str, Any],
    metadata: StudyMetadata | None,
    fetch: MetadataFetcher | None,
    ref: str | None = None,
    new_terms: Sequence[NewTerm] = (),
) -> AddResult:
    """Link or create the reference, then add one claim; refuses duplicates.

    `ref` (a number, DOI or key of the list) names a reference already there instead.
    `new_terms` are added to their vocabularies in the same write, so that the claim may use
    them: the terms and the claim are written together, or neither is."""
    warnings: list[str] = []
    doi = None
    if ref is not None and (doi_text is not None or metadata is not None):
        raise UsageError("--ref names a reference already in the list: give it without --doi or --title")
    if doi_text is not None:
        doi = try_normalize_doi(doi_text)
        if doi is None:
            raise UsageError(f"--doi: not a DOI: {doi_text!r}")
    if metadata is None and doi is None and ref is None:
        raise UsageError("give --doi, --ref N, or --title, --author, --year and --journal")
    with workspace_lock(ws):
        if new_terms:
            from exocli.vocab_edits import vocabularies_with

            vocabs, plans = vocabularies_with(ws, new_terms)
        else:
            vocabs, plans = load_vocabularies(ws), []
        if ref is not None:
            from exocli.reference_edits import study_of

            found: tuple[str, int] | None = study_of(conn, ref)
        else:
            found = find_study(conn, doi, metadata)
        files: dict[Path, str] = {}
        if found is None and metadata is None:
            assert doi is not None
            if fetch is None:
                raise UsageError(
                    f"{doi} is not in this workspace; offline, give --title, --author, --year and --journal"
                )
            message, path, stored = fetch(doi)
            files[path] = stored
            if message is None:
                raise DataError(
                    f"{doi} is not in Crossref; give --title, --author, --year and --journal to add it"
                )
            metadata = metadata_from_crossref(message)
            found = find_study(conn, None, metadata)
            if found is not None:
                warnings.append(f"linked to existing reference {found[1]}: same title, first author and year")
        elif found is not None and ref is None:
            warnings.append(f"linked to existing reference {found[1]} ({found[0]})")
        order = None
        if found is not None:
            key, number = found
            current = read_study(ws, key, number, vocabs)
            before: Study | None = current
            study = Study(key, current.reference, list(current.claims))
        else:
            assert metadata is not None
            keys = read_order(ws).keys
            number = len(keys) + 1
            reference = reference_from_metadata(metadata, doi, number, warnings)
            key = new_key(reference, taken_keys(conn))
            before, study = None, Study(key, reference)
            order = [*keys, key]
        entry = {name: value for name, value in fields.items() if value is not None}
        entry["id"] = new_claim_id(_TakenIds(conn))
        entry.setdefault("added_by", current_user())
        entry.setdefault("added_at", date.today().isoformat())
        claim = _validated(entry, vocabs, number)
        _check_not_duplicate(claim, study.claims)
        study.claims.append(claim)
        change = Change(studies={key: study}, before={key: before}, order=order, files=files)
        if plans:
            write_vocabulary_change(ws, conn, plans, change, vocabs.pathways)
        else:
            write_change(ws, conn, change, vocabs.pathways)
    terms = [(new.vocab, new.code, ws.relative(ws.vocab_dir / f"{new.vocab}.toml")) for new in new_terms]
    return AddResult(claim, number, found is None, key, warnings, terms)


def _validated(entry: Mapping[str, Any], vocabs: Vocabularies, number: int | None) -> Claim:
    complete = {key: entry[key] for key in RECORD_KEYS if key in entry}
    for key in LIST_KEYS:
        complete.setdefault(key, [])
    complete["ref"] = number
    return validate_claim(complete, vocabs, None)


@dataclass
class ClaimEdit:
    before: Claim
    after: Claim
    changes: list[tuple[str, str, str]]  # (field, old, new) as text


def edit_claim(
    ws: Workspace, conn: sqlite3.Connection, claim_id: int, changes: Mapping[str, Any]
) -> ClaimEdit:
    """Change fields of one claim; `ref` (a number, DOI or key) moves it to another study."""
    from exocli.reference_edits import check_changes, field_changes, study_of

    check_changes(changes, EDITABLE_KEYS)
    with workspace_lock(ws):
        vocabs = load_vocabularies(ws)
        key, number = _study_of_claim(conn, claim_id)
        before = read_study(ws, key, number, vocabs)
        index = _claim_index(before, claim_id)
        old = before.claims[index]
        target_key, target_number = key, number
        if changes.get("ref") is not None:
            target_key, target_number = study_of(conn, str(changes["ref"]))
        entry = claim_entry(old)
        entry.update({name: value for name, value in changes.items() if name != "ref"})
        try:
            claim = _validated(entry, vocabs, target_number)
        except DataError as exc:
            raise DataError(f"claim {claim_id}: {exc}") from exc
        study = Study(key, before.reference, list(before.claims))
        studies: dict[str, Study | None] = {key: study}
        befores: dict[str, Study | None] = {key: before}
        if target_key == key:
            study.claims[index] = claim
            _check_not_duplicate(claim, study.claims)
        else:
            del study.claims[index]
            target_before = read_study(ws, target_key, target_number, vocabs)
            target = Study(target_key, target_before.reference, [*target_before.claims, claim])
            _check_not_duplicate(claim, target.claims)
            studies[target_key], befores[target_key] = target, target_before
        shown = field_changes(claim_entry(old), claim_entry(claim), CLAIM_KEYS)
        if not shown:
            raise DataError(f"claim {claim_id} already has those values; nothing was changed")
        write_change(ws, conn, Change(studies=studies, before=befores), vocabs.pathways)
    return ClaimEdit(old, claim, shown)


def remove_claim(ws: Workspace, conn: sqlite3.Connection, claim_id: int) -> Claim:
    with workspace_lock(ws):
        vocabs = load_vocabularies(ws)
        key, number = _study_of_claim(conn, claim_id)
        before = read_study(ws, key, number, vocabs)
        study = Study(key, before.reference, list(before.claims))
        removed = study.claims.pop(_claim_index(study, claim_id))
        write_change(ws, conn, Change(studies={key: study}, before={key: before}), vocabs.pathways)
    return removed


def _claim_index(study: Study, claim_id: int) -> int:
    for index, claim in enumerate(study.claims):
        if claim.id == claim_id:
            return index
    raise NotFoundError(f"no claim {claim_id} in this workspace")


def get_claim(ws: Workspace, conn: sqlite3.Connection, claim_id: int) -> tuple[Claim, Study]:
    """One claim as its study file holds it, and the study."""
    key, number = _study_of_claim(conn, claim_id)
    study = read_study(ws, key, number, load_vocabularies(ws))
    return study.claims[_claim_index(study, claim_id)], study


# --- import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    added: list[int]
    updated: list[int]
    unchanged: list[int]


def read_table(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Columns and rows of a CSV/TSV or JSON file as (row number, values); lists stay lists."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    if not text.strip():
        raise DataError(f"{path}: the file is empty")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from exc
        except RecursionError as exc:
            raise DataError(f"{path}: JSON nested too deeply to be a table of claims") from exc
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise DataError(
                f"{path}: expected a JSON list of claim objects (as `query --format json` writes)"
            )
        columns = list(data[0].keys()) if data else []
        return columns, [(index, item) for index, item in enumerate(data, start=1)]
    if suffix not in (".csv", ".tsv"):
        raise UsageError(f"{path}: import takes .csv, .tsv or .json files")
    reader = csv.DictReader(io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ",")
    rows = []
    try:
        for row in reader:
            if None in row:
                raise DataError(f"{path}:{reader.line_num}: more cells than columns")
            # exocli's CSV quotes formula-like cells for spreadsheets; read them back as they were
            rows.append((reader.line_num, {k: restore_cell(v or "") for k, v in row.items()}))
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: {exc}") from exc
    if reader.fieldnames is None:
        raise DataError(f"{path}: no header row")
    return list(reader.fieldnames), rows


def _columns_check(path: Path, columns: Sequence[str]) -> None:
    known = set(RECORD_KEYS) | set(DERIVED_COLUMNS) | {"cargo_wording"}
    extra = [c for c in columns if c not in known]
    if extra:
        raise DataError(
            f"{path}: unknown column {extra[0]!r} (columns are those of `exocli query --format csv`)"
        )
    missing = [c for c in ("id", "ref", "source", "cargo_type", "effects") if c not in columns]
    if missing:
        raise DataError(f"{path}: missing column {missing[0]!r}")


def _row_entry(row: Mapping[str, Any], is_csv: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key, value in row.items():
        if key in DERIVED_COLUMNS:
            continue
        target = "cargo" if key == "cargo_wording" else key
        if target in LIST_KEYS and is_csv:
            entry[target] = [part.strip() for part in str(value).split(";") if part.strip()]
        elif target in ("id", "ref") and is_csv:
            text = str(value).strip()
            entry[target] = None if text == "" else (int(text) if text.isdigit() else text)
        else:
            entry[target] = value
    if "cargo" not in entry and "cargo" in row:
        cargo = row["cargo"]
        entry["cargo"] = [p.strip() for p in str(cargo).split(";") if p.strip()] if is_csv else cargo
    return entry


def import_claims(ws: Workspace, conn: sqlite3.Connection, path: Path) -> ImportResult:
    """Validate every row, then apply all of them in one write (or none)."""
    columns, rows = read_table(path)
    _columns_check(path, columns)
    if not rows:
        raise DataError(f"{path}: no rows")
    is_csv = path.suffix.lower() != ".json"
    with workspace_lock(ws):
        vocabs = load_vocabularies(ws)
        keys_by_number = dict(
            conn.execute("SELECT number, citekey FROM refs WHERE number IS NOT NULL").fetchall()
        )
        study_of_id = dict(
            conn.execute("SELECT c.id, r.citekey FROM claims c JOIN refs r ON r.id = c.ref_id").fetchall()
        )
        numbers = {key: number for number, key in keys_by_number.items()}
        befores: dict[str, Study] = {}
        studies: dict[str, Study] = {}

        def study(key: str) -> Study:
            if key not in studies:
                befores[key] = read_study(ws, key, numbers[key], vocabs)
                studies[key] = Study(key, befores[key].reference, list(befores[key].claims))
            return studies[key]

        problems: list[str] = []
        result = ImportResult([], [], [])
        first_row: dict[int, int] = {}  # claim id -> the row that gave it first
        new_ids: set[int] = set()
        for line, row in rows:
            if is_csv is False:
                _columns_check(path, list(row.keys()))
            try:
                entry = _row_entry(row, is_csv)
                claim_id = entry.get("id")
                if claim_id is not None and (not isinstance(claim_id, int) or isinstance(claim_id, bool)):
                    raise DataError(f"id: must be a whole number, got {claim_id!r}")
                if claim_id is not None and claim_id in first_row:
                    # two rows for one claim: which one is meant cannot be guessed
                    raise DataError(f"id {claim_id} is also given by row {first_row[claim_id]}")
                ref = entry.get("ref")
                if ref in ("", None):
                    if claim_id is None or claim_id not in study_of_id:
                        raise DataError("ref: a new claim needs the number of the reference it cites")
                    target = study_of_id[claim_id]
                elif not isinstance(ref, int) or isinstance(ref, bool) or ref not in keys_by_number:
                    raise DataError(f"ref: reference {ref} is not in the reference list")
                else:
                    target = keys_by_number[ref]
                if claim_id is None:
                    claim_id = new_claim_id(_TakenIds(conn, new_ids))
                    new_ids.add(claim_id)
                first_row[claim_id] = line
                entry["id"] = claim_id
                home = study_of_id.get(claim_id)
                old = None
                if home is not None:
                    old = study(home).claims[_claim_index(study(home), claim_id)]
                    merged = claim_entry(old)
                    merged.update({k: v for k, v in entry.items() if k in RECORD_KEYS})
                    entry = merged
                else:
                    entry.setdefault("added_by", current_user())
                    entry.setdefault("added_at", date.today().isoformat())
                for key in ("route", "dose", "outcome"):
                    if entry.get(key) in ("", None):
                        entry[key] = NOT_STATED
                claim = _validated(entry, vocabs, numbers[target])
            except DataError as exc:
                problems.append(f"row {line}: {exc}")
                continue
            if old is not None and home is not None:
                if claim_entry(old) == claim_entry(claim):
                    result.unchanged.append(claim.id)
                    continue
                holder = study(home)
                if home == target:
                    holder.claims[_claim_index(holder, claim.id)] = claim
                else:
                    del holder.claims[_claim_index(holder, claim.id)]
                    study(target).claims.append(claim)
                    study_of_id[claim.id] = target
                result.updated.append(claim.id)
            else:
                study(target).claims.append(claim)
                study_of_id[claim.id] = target
                result.added.append(claim.id)
        changed = set(result.added) | set(result.updated)
        for item in studies.values():
            seen: dict[tuple[Any, ...], int] = {}
            for claim in item.claims:
                signature = claim_signature(claim)
                if signature in seen and claim.id in changed:
                    problems.append(f"claim {claim.id}: repeats claim {seen[signature]}")
                seen.setdefault(signature, claim.id)
        if problems:
            listing = "; ".join(problems[:20]) + (
                f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
            )
            bad = "1 bad row" if len(problems) == 1 else f"{len(problems)} bad rows"
            raise DataError(f"{path}: {bad}, nothing imported: {listing}")
        if result.added or result.updated:
            write_change(
                ws,
                conn,
                Change(studies=dict(studies), before=dict(befores)),
                vocabs.pathways,
            )
    return result


# --- database vs text -------------------------------------------------------------------------


def sync(ws: Workspace, conn: sqlite3.Connection, keep: str) -> str:
    """Settle a disagreement: keep the text (rebuild) or keep the database (rewrite the text)."""
    if keep not in ("text", "database"):
        raise UsageError("--keep must be 'text' or 'database'")
    with workspace_lock(ws):
        if keep == "text":
            rebuild(ws, conn, load_snapshot(ws), discard_external=True)
            return "kept the text; the database was rebuilt from it"
        snapshot = _snapshot_from_database(ws, conn)
        texts: dict[Path, str | None] = {ws.study_path(s.key): format_study(s) for s in snapshot.studies}
        for path in ws.study_files():
            texts.setdefault(path, None)  # a study the database no longer has
        order: list[str | None] = []
        for item in snapshot.studies:
            assert item.number is not None
            order += [None] * (item.number - 1 - len(order)) + [item.key]
        texts[ws.order_path] = format_order(order)
        rebuild(ws, conn, snapshot, texts=texts, discard_external=True)
        return "kept the database; the text was rewritten from it"


def _snapshot_from_database(ws: Workspace, conn: sqlite3.Connection) -> Snapshot:
    from exocli import query
    from exocli.references import list_references
    from exocli.refparse import ParsedReference

    vocabs = load_vocabularies(ws)
    studies: dict[int, Study] = {}
    for ref in list_references(conn):
        if ref.number is None or ref.citekey is None:
            continue
        parsed = ParsedReference(
            raw=ref.raw,
            number=ref.number,
            kind=ref.kind,
            authors=list(ref.authors),
            et_al=ref.et_al,
            title=ref.title,
            journal=ref.journal,
            year=ref.year,
            volume=ref.volume,
            issue=ref.issue,
            pages=ref.pages,
            doi=ref.doi,
            url=ref.url,
            problem=ref.problem,
        )
        studies[ref.number] = Study(ref.citekey, parsed)
    compiled = query.compile_filters(conn, query.Filters(), query.Vocabs.load(conn), statuses=STATUSES)
    for row in query.fetch_claims(conn, compiled, sort="ref"):
        entry = {key: row.get(key) for key in RECORD_KEYS}
        entry["cargo"] = row["cargo_wording"]
        holder = studies.get(row["ref"]) if row.get("ref") is not None else None
        if holder is None:
            raise DataError(f"the database's claim {row['id']} cites no reference of its list")
        try:
            holder.claims.append(_validated(entry, vocabs, holder.number))
        except DataError as exc:
            raise DataError(f"the database's claim {row['id']} cannot be written as text: {exc}") from exc
    return Snapshot([studies[n] for n in sorted(studies)], vocabs)


def rekey(ws: Workspace, conn: sqlite3.Connection, ident: str, new_key_text: str) -> tuple[str, str]:
    """Give one reference a new citation key: its study file is renamed, its claims go with it."""
    from exocli.citekeys import check_new_key
    from exocli.reference_edits import study_of

    with workspace_lock(ws):
        old_key, number = study_of(conn, ident)
        check_new_key([k for k in taken_keys(conn) if k != old_key], new_key_text)
        if new_key_text == old_key:
            raise DataError(f"reference {number} is already {old_key}; nothing was changed")
        vocabs = load_vocabularies(ws)
        before = read_study(ws, old_key, number, vocabs)
        order = [new_key_text if k == old_key else k for k in read_order(ws).keys]
        studies: dict[str, Study | None] = {
            old_key: None,
            new_key_text: Study(new_key_text, before.reference, before.claims),
        }
        write_change(ws, conn, Change(studies=studies, order=order), vocabs.pathways)
    return old_key, new_key_text
