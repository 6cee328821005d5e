"""Curation: adding studies, editing and removing claims, importing tables, syncing sides.

Every write holds the workspace lock, re-reads the text (the record), validates the
whole result, then rewrites text and database together (store.rebuild with `texts`).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from exocli.errors import DataError, NotFoundError, UsageError
from exocli.evidence import Claim, Vocabularies, validate_claim
from exocli.fields import CLAIM_KEYS, LIST_KEYS, NOT_STATED
from exocli.records import claim_entry, claims_header, format_claims, format_references, workspace_lock
from exocli.refparse import ParsedReference, doi_key, parse_reference, try_normalize_doi
from exocli.render import restore_cell
from exocli.store import Snapshot, load_snapshot, rebuild
from exocli.verify import fold
from exocli.workspace import Workspace

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EDITABLE_KEYS = tuple(k for k in CLAIM_KEYS if k not in ("id", "added_by", "added_at"))
# Columns of `query --format csv|json` that are derived, not curated: ignored on import.
DERIVED_COLUMNS = ("study", "year", "doi", "cargo", "flags")


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
        fold(claim.species),
        fold(claim.model),
        fold(claim.injury),
        fold(claim.route),
        fold(claim.dose),
        fold(claim.outcome),
    )


def _check_not_duplicate(claim: Claim, others: Sequence[Claim]) -> None:
    signature = claim_signature(claim)
    for other in others:
        if other.id != claim.id and claim_signature(other) == signature:
            raise DataError(
                f"claim {claim.id} would repeat claim {other.id} (same study, source, cargo and findings)"
            )


def _commit(ws: Workspace, conn: sqlite3.Connection, snapshot: Snapshot, header: str) -> None:
    texts = {
        ws.claims_path: format_claims(snapshot.claims, header),
        ws.references_path: format_references(snapshot.references),
    }
    rebuild(ws, conn, snapshot, texts=texts)


@dataclass
class StudyMetadata:
    title: str
    authors: list[tuple[str, str]]  # (family, given)
    year: int | None
    journal: str | None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None


def metadata_from_crossref(message: Mapping[str, Any]) -> StudyMetadata:
    from exocli.verify import record_titles, record_year

    title = re.sub(r"<[^>]+>", "", (record_titles(message) or [""])[0]).strip()
    authors = [
        (str(a.get("family") or a.get("name") or "").strip(), str(a.get("given") or "").strip())
        for a in message.get("author") or []
        if a.get("family") or a.get("name")
    ]
    journals = message.get("short-container-title") or message.get("container-title") or []
    return StudyMetadata(
        title=title,
        authors=authors,
        year=record_year(message),
        journal=str(journals[0]) if journals else None,
        volume=message.get("volume"),
        issue=message.get("issue"),
        pages=message.get("page"),
    )


def _initials(given: str) -> str:
    """'George A' -> 'GA'; 'Yu-Lin' -> 'Y-L'; 'J.H.' -> 'JH'."""
    parts = [p for p in re.split(r"[\s.]+", given) if p]
    out = ""
    for part in parts:
        pieces = [p for p in part.split("-") if p]
        if len(pieces) > 1 and not out:
            return pieces[0][0].upper() + "-" + "".join(p[0].upper() for p in pieces[1:])[:2]
        out += "".join(p[0].upper() for p in pieces if p[0].isalpha())
    return out[:4]


def vancouver(meta: StudyMetadata, doi: str | None) -> str:
    """A Vancouver / NLM reference string that exocli's parser reads back field for field."""
    names = []
    for family, given in meta.authors[:6]:
        family = re.sub(r"[.,;:()\[\]0-9]", "", family).strip()
        initials = _initials(given)
        if family:
            names.append(f"{family} {initials}" if initials else f"{family} X")
    authors = ", ".join(names) + (", et al" if len(meta.authors) > 6 else "")
    title = meta.title.strip().rstrip(".")
    journal = re.sub(r"\.", "", meta.journal or "Unknown journal").strip()
    text = f"{authors}. {title}. {journal}. {meta.year or ''}"
    if meta.volume:
        text += f";{meta.volume}"
        if meta.issue:
            text += f"({meta.issue})"
        if meta.pages:
            text += f":{meta.pages}"
    text += "."
    if doi:
        text += f" https://doi.org/{doi}."
    return text


@dataclass
class AddResult:
    claim: Claim
    ref_number: int
    new_reference: bool
    warnings: list[str] = field(default_factory=list)


MetadataFetcher = Callable[[str], "Mapping[str, Any] | None"]


def add_study(
    ws: Workspace,
    conn: sqlite3.Connection,
    doi_text: str | None,
    fields: Mapping[str, Any],
    metadata: StudyMetadata | None,
    fetch: MetadataFetcher | None,
) -> AddResult:
    """Link or create the reference, then add one claim; refuses duplicates."""
    warnings: list[str] = []
    doi = None
    if doi_text is not None:
        doi = try_normalize_doi(doi_text)
        if doi is None:
            raise UsageError(f"--doi: not a DOI: {doi_text!r}")
    with workspace_lock(ws):
        snapshot = load_snapshot(ws)
        references = list(snapshot.references)
        ref = _find_reference(references, doi, metadata)
        new_reference = ref is None
        if ref is not None:
            warnings.append(f"linked to existing reference {ref.number} ({ref.first_author} {ref.year})")
        else:
            if metadata is None:
                if doi is None:
                    raise UsageError("give --doi, or --title, --author, --year and --journal")
                if fetch is None:
                    raise UsageError(
                        f"{doi} is not in this workspace; offline, give --title, --author, --year and --journal"
                    )
                message = fetch(doi)
                if message is None:
                    raise DataError(
                        f"{doi} is not in Crossref; give --title, --author, --year and --journal to add it"
                    )
                metadata = metadata_from_crossref(message)
                ref = _find_reference(references, None, metadata)
                if ref is not None:
                    new_reference = False
                    warnings.append(
                        f"linked to existing reference {ref.number}: same title, first author and year"
                    )
            if ref is None:
                number = max((r.number or 0 for r in references), default=0) + 1
                text = vancouver(metadata, doi)
                if _CONTROL.search(text):
                    # Crossref data (or a --title) with control characters: never into the record
                    warnings.append("control characters in the study's details were replaced by spaces")
                    text = " ".join(_CONTROL.sub(" ", text).split())
                ref = parse_reference(text, number)
                if ref.kind != "article":
                    warnings.append(f"reference {number} kept unparsed: {ref.problem}")
                references.append(ref)
        assert ref.number is not None
        entry = {key: value for key, value in fields.items() if value is not None}
        entry["id"] = max((c.id for c in snapshot.claims), default=0) + 1
        entry["ref"] = ref.number
        entry.setdefault("added_by", current_user())
        entry.setdefault("added_at", date.today().isoformat())
        claim = _validated(entry, snapshot.vocabs, references)
        _check_not_duplicate(claim, snapshot.claims)
        snapshot.claims.append(claim)
        snapshot.references = references
        _commit(ws, conn, snapshot, claims_header(ws))
    return AddResult(claim, ref.number, new_reference, warnings)


def _validated(
    entry: Mapping[str, Any], vocabs: Vocabularies, references: Sequence[ParsedReference] | set[int]
) -> Claim:
    numbers = (
        references if isinstance(references, set) else {r.number for r in references if r.number is not None}
    )
    complete = {key: entry[key] for key in CLAIM_KEYS if key in entry}
    for key in LIST_KEYS:
        complete.setdefault(key, [])
    return validate_claim(complete, vocabs, numbers)


def _find_reference(
    references: Sequence[ParsedReference], doi: str | None, metadata: StudyMetadata | None
) -> ParsedReference | None:
    """The same study: same DOI, or same normalised title + first author + year."""
    if doi:
        for ref in references:
            if ref.doi and doi_key(ref.doi) == doi_key(doi):
                return ref
    if metadata and metadata.authors and metadata.title:
        key = (fold(metadata.title), fold(metadata.authors[0][0]), metadata.year)
        for ref in references:
            if (fold(ref.title or ""), fold(ref.first_author or ""), ref.year) == key:
                return ref
    return None


def edit_claim(ws: Workspace, conn: sqlite3.Connection, claim_id: int, changes: Mapping[str, Any]) -> Claim:
    unknown = [key for key in changes if key not in EDITABLE_KEYS]
    if unknown:
        raise UsageError(f"cannot edit {unknown[0]!r}; editable fields: {', '.join(EDITABLE_KEYS)}")
    if not changes:
        raise UsageError("nothing to change: give at least one --FIELD VALUE")
    with workspace_lock(ws):
        snapshot = load_snapshot(ws, lenient=True)
        index = _claim_index(snapshot, claim_id)
        entry = claim_entry(snapshot.claims[index])
        entry.update(changes)
        try:
            claim = _validated(entry, snapshot.vocabs, snapshot.references)
        except DataError as exc:
            raise DataError(f"claim {claim_id}: {exc}") from exc
        _check_not_duplicate(claim, snapshot.claims)
        snapshot.claims[index] = claim
        _commit(ws, conn, snapshot, claims_header(ws))
    return claim


def remove_claim(ws: Workspace, conn: sqlite3.Connection, claim_id: int) -> Claim:
    with workspace_lock(ws):
        snapshot = load_snapshot(ws, lenient=True)
        removed = snapshot.claims.pop(_claim_index(snapshot, claim_id))
        _commit(ws, conn, snapshot, claims_header(ws))
    return removed


def _claim_index(snapshot: Snapshot, claim_id: int) -> int:
    for index, claim in enumerate(snapshot.claims):
        if claim.id == claim_id:
            return index
    raise NotFoundError(f"no claim {claim_id} in this workspace")


def get_claim(ws: Workspace, claim_id: int) -> Claim:
    snapshot = load_snapshot(ws, lenient=True)
    return snapshot.claims[_claim_index(snapshot, claim_id)]


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
    known = set(CLAIM_KEYS) | set(DERIVED_COLUMNS) | {"cargo_wording"}
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
    """Validate every row, then apply all of them in one transaction (or none)."""
    columns, rows = read_table(path)
    _columns_check(path, columns)
    if not rows:
        raise DataError(f"{path}: no rows")
    is_csv = path.suffix.lower() != ".json"
    with workspace_lock(ws):
        snapshot = load_snapshot(ws)
        by_id = {claim.id: index for index, claim in enumerate(snapshot.claims)}
        numbers = {r.number for r in snapshot.references if r.number is not None}
        next_id = max(by_id, default=0) + 1
        problems: list[str] = []
        result = ImportResult([], [], [])
        first_row: dict[int, int] = {}  # claim id -> the row that gave it first
        for line, row in rows:
            if is_csv is False:
                _columns_check(path, list(row.keys()))
            try:
                entry = _row_entry(row, is_csv)
                claim_id = entry.get("id")
                if claim_id is not None and (not isinstance(claim_id, int) or isinstance(claim_id, bool)):
                    raise DataError(f"id: must be a whole number, got {claim_id!r}")
                if claim_id is None:
                    claim_id, next_id = next_id, next_id + 1
                elif claim_id in first_row:
                    # two rows for one claim: which one is meant cannot be guessed
                    raise DataError(f"id {claim_id} is also given by row {first_row[claim_id]}")
                first_row[claim_id] = line
                entry["id"] = claim_id
                if claim_id in by_id:
                    merged = claim_entry(snapshot.claims[by_id[claim_id]])
                    merged.update({k: v for k, v in entry.items() if k in CLAIM_KEYS})
                    entry = merged
                else:
                    entry.setdefault("added_by", current_user())
                    entry.setdefault("added_at", date.today().isoformat())
                if entry.get("ref") in ("", None):
                    entry.pop("ref", None)
                for key in ("species", "model", "injury", "route", "dose", "outcome"):
                    if entry.get(key) in ("", None):
                        entry[key] = NOT_STATED
                claim = _validated(entry, snapshot.vocabs, numbers)
            except DataError as exc:
                problems.append(f"row {line}: {exc}")
                continue
            if claim.id in by_id:
                old = snapshot.claims[by_id[claim.id]]
                if claim_entry(old) == claim_entry(claim):
                    result.unchanged.append(claim.id)
                    continue
                snapshot.claims[by_id[claim.id]] = claim
                result.updated.append(claim.id)
            else:
                by_id[claim.id] = len(snapshot.claims)
                snapshot.claims.append(claim)
                result.added.append(claim.id)
        seen: dict[tuple[Any, ...], int] = {}
        changed = set(result.added) | set(result.updated)
        for claim in snapshot.claims:
            signature = claim_signature(claim)
            if signature in seen and claim.id in changed:
                problems.append(f"claim {claim.id}: repeats claim {seen[signature]}")
            seen.setdefault(signature, claim.id)
        if problems:
            listing = "; ".join(problems[:20]) + (
                f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
            )
            raise DataError(f"{path}: {len(problems)} bad rows, nothing imported: {listing}")
        if result.added or result.updated:
            _commit(ws, conn, snapshot, claims_header(ws))
    return result


# --- database vs text -------------------------------------------------------------------------


def sync(ws: Workspace, conn: sqlite3.Connection, keep: str) -> str:
    """Settle a disagreement: keep the text (rebuild) or keep the database (rewrite the text)."""
    if keep not in ("text", "database"):
        raise UsageError("--keep must be 'text' or 'database'")
    with workspace_lock(ws):
        if keep == "text":
            rebuild(ws, conn, load_snapshot(ws, lenient=True), discard_external=True)
            return "kept the text; the database was rebuilt from it"
        snapshot = _snapshot_from_database(ws, conn)
        texts = {
            ws.claims_path: format_claims(snapshot.claims, claims_header(ws)),
            ws.references_path: format_references(snapshot.references),
        }
        rebuild(ws, conn, snapshot, texts=texts, discard_external=True)
        return "kept the database; the text was rewritten from it"


def _snapshot_from_database(ws: Workspace, conn: sqlite3.Connection) -> Snapshot:
    from exocli import query
    from exocli.store import load_vocabularies

    references = [
        parse_reference(raw, number)
        for number, raw in conn.execute(
            "SELECT number, raw FROM refs WHERE number IS NOT NULL ORDER BY number"
        )
    ]
    vocabs = load_vocabularies(ws)
    compiled = query.compile_filters(conn, query.Filters(), query.Vocabs.load(conn))
    claims = []
    for row in query.fetch_claims(conn, compiled, sort="id"):
        entry = {key: row.get(key) for key in CLAIM_KEYS}
        entry["cargo"] = row["cargo_wording"]
        if entry.get("ref") is None:
            entry.pop("ref")
        try:
            claims.append(_validated(entry, vocabs, references))
        except DataError as exc:
            raise DataError(f"the database's claim {row['id']} cannot be written as text: {exc}") from exc
    return Snapshot(references, [], vocabs, claims)


def rekey(ws: Workspace, conn: sqlite3.Connection, ident: str, new_key: str) -> tuple[str, str]:
    """Give one reference a new citation key (unique, case-insensitively)."""
    from exocli.citekeys import check_new_key, identities
    from exocli.references import get_reference

    with workspace_lock(ws):
        snapshot = load_snapshot(ws, lenient=True)
        target = get_reference(conn, ident)
        ref = next((r for r in snapshot.references if r.number == target.number), None)
        if ref is None:
            raise NotFoundError(f"no reference {ident!r} in the reference list")
        ref_identity = identities(snapshot.references)[ref.number]
        old = snapshot.keys.get(ref_identity) or target.citekey or ""
        check_new_key(snapshot.keys, ref_identity, new_key)
        snapshot.keys[ref_identity] = new_key
        rebuild(ws, conn, snapshot)
    return old, new_key
