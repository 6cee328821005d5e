"""The workspace's reference list: reading it from the database and importing new lists."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exocli.errors import DataError, NotFoundError
from exocli.fields import MAX_INTEGER
from exocli.refparse import (
    Author,
    ParsedReference,
    ReferenceList,
    doi_key,
    parse_reference_list,
    try_normalize_doi,
)
from exocli.workspace import Workspace

REFERENCE_COLUMNS = (
    "number",
    "kind",
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "url",
)


@dataclass
class Reference:
    id: int
    number: int | None
    kind: str
    raw: str
    title: str | None
    journal: str | None
    year: int | None
    volume: str | None
    issue: str | None
    pages: str | None
    doi: str | None
    url: str | None
    et_al: bool
    problem: str | None
    citekey: str | None = None
    authors: list[Author] = field(default_factory=list)
    check: str = "unchecked"  # Crossref verdict: ok, mismatch, not_found, ambiguous, no_match
    check_doi: str | None = None  # the DOI found by bibliographic search, if any
    differences: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # retracted, corrected, ...

    @property
    def first_author(self) -> str:
        return self.authors[0].family if self.authors else ""

    @property
    def short(self) -> str:
        """'Liu 2022' style label for tables."""
        who = self.first_author or (self.title or self.raw)[:20]
        return f"{who} {self.year}" if self.year else who

    def author_text(self) -> str:
        names = "; ".join(a.display() for a in self.authors)
        return f"{names}; et al." if self.et_al else names

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.citekey,
            "kind": self.kind,
            "authors": [{"family": a.family, "given": a.given} for a in self.authors],
            "et_al": self.et_al,
            "title": self.title,
            "journal": self.journal,
            "year": self.year,
            "volume": self.volume,
            "issue": self.issue,
            "pages": self.pages,
            "doi": self.doi,
            "url": self.url,
            "raw": self.raw,
            "problem": self.problem,
            "check": self.check,
            "found_doi": self.check_doi if not self.doi else None,
            "differences": self.differences,
            "flags": self.flags,
        }


_SELECT = (
    "SELECT id, number, kind, raw, title, journal, year, volume, issue, pages, doi, url, et_al,"
    " problem, citekey FROM refs"
)


def _rows_to_references(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[Reference]:
    refs = [
        Reference(
            row["id"],
            row["number"],
            row["kind"],
            row["raw"],
            row["title"],
            row["journal"],
            row["year"],
            row["volume"],
            row["issue"],
            row["pages"],
            row["doi"],
            row["url"],
            bool(row["et_al"]),
            row["problem"],
            row["citekey"],
        )
        for row in rows
    ]
    by_id = {ref.id: ref for ref in refs}
    if by_id:
        marks = ",".join("?" * len(by_id)) if len(by_id) < 500 else None
        sql = "SELECT ref_id, family, given FROM ref_authors"
        params: list[int] = []
        if marks:
            sql += f" WHERE ref_id IN ({marks})"  # placeholders only
            params = list(by_id)
        for ref_id, family, given in conn.execute(sql + " ORDER BY ref_id, position", params):
            if ref_id in by_id:
                by_id[ref_id].authors.append(Author(family, given))
        _attach_checks(conn, by_id, params)
    return refs


def _attach_checks(conn: sqlite3.Connection, by_id: dict[int, Reference], ids: list[int]) -> None:
    """Crossref verdicts and update flags, where the workspace has them."""
    import json

    where = f" WHERE ref_id IN ({','.join('?' * len(ids))})" if ids else ""
    for ref_id, status, doi, differences in conn.execute(
        "SELECT ref_id, status, doi, differences FROM ref_resolution" + where, ids
    ):
        if ref_id in by_id:
            ref = by_id[ref_id]
            ref.check, ref.check_doi, ref.differences = status, doi, json.loads(differences)
    for ref_id, label in conn.execute(
        "SELECT ref_id, label FROM ref_updates" + where + " ORDER BY ref_id, type", ids
    ):
        if ref_id in by_id and label not in by_id[ref_id].flags:
            by_id[ref_id].flags.append(label)


def list_references(conn: sqlite3.Connection) -> list[Reference]:
    rows = conn.execute(_SELECT + " ORDER BY number IS NULL, number, id").fetchall()
    return _rows_to_references(conn, rows)


def references_by_ids(conn: sqlite3.Connection, ids: list[int]) -> dict[int, Reference]:
    if not ids:
        return {}
    unique = sorted(set(ids))
    rows: list[sqlite3.Row] = []
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(_SELECT + f" WHERE id IN ({marks})", chunk).fetchall()
    return {ref.id: ref for ref in _rows_to_references(conn, rows)}


def get_reference(conn: sqlite3.Connection, ident: str) -> Reference:
    """A reference by review number, DOI (any form) or citation key."""
    text = ident.strip()
    rows: list[sqlite3.Row] = []
    if text.isdigit() and len(text) > 19:
        rows = []  # past SQLite's integers: no such reference
    elif text.isdigit() and int(text) <= MAX_INTEGER:
        rows = conn.execute(_SELECT + " WHERE number = ?", (int(text),)).fetchall()
    else:
        doi = try_normalize_doi(text)
        if doi is not None:
            rows = conn.execute(_SELECT + " WHERE doi = ?", (doi,)).fetchall()
        else:
            rows = conn.execute(_SELECT + " WHERE citekey = ? COLLATE NOCASE", (text,)).fetchall()
    if not rows:
        raise NotFoundError(f"no reference {text!r} in this workspace (give a number, DOI or key)")
    return _rows_to_references(conn, rows[:1])[0]


@dataclass
class ImportResult:
    added: list[int]
    replaced: list[int]
    unchanged: list[int]
    problems: list[str]
    total: int
    record_problems: list[str] = field(default_factory=list)  # left inconsistent after the import
    moved: list[tuple[int, int]] = field(default_factory=list)  # (old number, new number), --replace
    dropped: list[int] = field(default_factory=list)  # old numbers not in the new list, --replace
    renumber: dict[int, int] = field(default_factory=dict)  # old -> new for every matched reference
    # (old numbers, why): entries that cannot be told apart; an error only where claims cite them
    ambiguous: list[tuple[list[int], str]] = field(default_factory=list)


def plan_import(
    existing: list[ParsedReference], text: str, source: str, replace: bool
) -> tuple[str, ImportResult]:
    """Merge a numbered list into the workspace's list; return the new text and what changed.

    Merging goes by number. `replace` takes the new list whole, and first matches each entry
    to the paper it already is (DOI, else title + first author + year), so that a renumbered
    list moves every claim along with its paper (see ImportResult.renumber).
    """
    try:
        parsed = parse_reference_list(text, source)
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    incoming = parsed.references
    unparsed = sum(ref.kind == "unparsed" for ref in incoming)
    if unparsed * 2 > len(incoming):
        raise DataError(
            f"{source}: does not look like a reference list ({unparsed} of {len(incoming)} entries"
            " do not parse as references)"
        )
    if replace:
        result = _plan_replace(existing, parsed, source)
        merged = sorted(incoming, key=lambda ref: ref.number or 0)
    else:
        result, merged = _plan_merge(existing, incoming, source)
    new_text = "".join(f"{ref.number}. {ref.raw}\n" for ref in merged)
    # A repeated DOI is kept (each copy gets its own key); `exocli check` reports it.
    result.problems = parsed.problems + _duplicate_dois(merged, source)
    return new_text, result


def _plan_merge(
    existing: list[ParsedReference], incoming: list[ParsedReference], source: str
) -> tuple[ImportResult, list[ParsedReference]]:
    current = {ref.number: ref for ref in existing if ref.number is not None}
    result = ImportResult([], [], [], [], len(incoming))
    for ref in incoming:
        assert ref.number is not None
        old = current.get(ref.number)
        if old is None:
            result.added.append(ref.number)
        elif old.raw == ref.raw:
            result.unchanged.append(ref.number)
            continue
        else:
            raise DataError(
                f"{source}: reference {ref.number} differs from the workspace's reference {ref.number};"
                " use --replace to replace the whole list"
            )
        current[ref.number] = ref
    result.renumber = {n: n for n in current}
    return result, sorted(current.values(), key=lambda ref: ref.number or 0)


def study_keys(ref: ParsedReference) -> list[tuple[str, ...]]:
    """What makes two entries the same paper: the DOI, else title + first author + year."""
    from exocli.verify import fold

    if ref.doi:
        return [("doi", doi_key(ref.doi))]
    if ref.title and ref.first_author and ref.year:
        return [("title", fold(ref.title), fold(ref.first_author), str(ref.year))]
    return [("text", " ".join(ref.raw.split()).casefold())]


def _plan_replace(existing: list[ParsedReference], parsed: ReferenceList, source: str) -> ImportResult:
    index: dict[tuple[str, ...], list[ParsedReference]] = {}
    for ref in existing:
        for key in study_keys(ref):
            index.setdefault(key, []).append(ref)
    result = ImportResult([], [], [], [], len(parsed.references))
    claimed: dict[int, int] = {}  # old number -> the new entry's number that matched it
    for ref in parsed.references:
        assert ref.number is not None
        where = f"{source}:{parsed.lines.get(ref.number, 0)}"
        matches = sorted(
            {old.number for key in study_keys(ref) for old in index.get(key, []) if old.number is not None}
        )
        if len(matches) > 1:
            # which paper the entry is cannot be told; it matters only if claims cite one of them
            result.ambiguous.append(
                (matches, f"{where}: entry {ref.number} matches references {' and '.join(map(str, matches))}")
            )
        if not matches:
            result.added.append(ref.number)
            continue
        old_number = matches[0]
        old = next(r for r in existing if r.number == old_number)
        if old_number in claimed:
            result.ambiguous.append(
                (
                    [old_number],
                    f"{where}: entries {claimed[old_number]} and {ref.number} are both reference"
                    f" {old_number} ({old.first_author} {old.year})",
                )
            )
            result.added.append(ref.number)
            continue
        claimed[old_number] = ref.number
        result.renumber[old_number] = ref.number
        if old_number != ref.number:
            result.moved.append((old_number, ref.number))
        if old.raw != ref.raw:
            result.replaced.append(ref.number)
        elif old_number == ref.number:
            result.unchanged.append(ref.number)
    result.dropped = sorted(
        ref.number for ref in existing if ref.number is not None and ref.number not in claimed
    )
    return result


def _duplicate_dois(refs: list[ParsedReference], source: str) -> list[str]:
    seen: dict[str, int | None] = {}
    found = []
    for ref in refs:
        if ref.doi:
            key = doi_key(ref.doi)
            if key in seen:
                found.append(
                    f"{source}: reference {ref.number} repeats the DOI of reference {seen[key]} ({ref.doi})"
                )
            seen.setdefault(key, ref.number)
    return found


def import_references(ws: Workspace, path: Path, replace: bool = False) -> ImportResult:
    """Parse FILE and merge it into the workspace's list: text and database together, or neither."""
    from exocli.db import open_database
    from exocli.records import claims_header, format_claims, workspace_lock
    from exocli.store import load_snapshot, rebuild

    text = read_input_text(path)
    conn = open_database(ws, lenient=True)
    try:
        with workspace_lock(ws):
            current = load_snapshot(ws, lenient=True)
            new_text, result = plan_import(current.references, text, str(path), replace)
            # Validate the whole workspace against the new list before anything is written.
            snapshot = load_snapshot(ws, references_text=new_text, lenient=True)
            texts = {ws.references_path: new_text}
            if replace:
                _follow_renumbering(ws, current, snapshot, result, path)
                texts[ws.claims_path] = format_claims(snapshot.claims, claims_header(ws))
            orphaned = sorted(set(snapshot.dangling) - set(current.dangling))
            if orphaned:
                # An import never leaves a claim without its paper (an existing problem may stay).
                ids = ", ".join(f"claim {i}" for i in orphaned[:10]) + (" ..." if len(orphaned) > 10 else "")
                raise DataError(
                    f"{ws.relative(ws.claims_path)}: {ids}: reference {snapshot.dangling[orphaned[0]]}"
                    f" is not in the reference list {path} would leave; nothing was imported"
                )
            rebuild(ws, conn, snapshot, texts=texts)
            result.record_problems = snapshot.record_problems
    finally:
        conn.close()
    return result


def _follow_renumbering(ws: Workspace, current: Any, snapshot: Any, result: ImportResult, path: Path) -> None:
    """Every claim keeps its paper under the new numbers; a cited paper may not be dropped."""
    from exocli.store import dangling_citations

    cited: dict[int, list[int]] = {}
    for claim in current.claims:
        if claim.ref is not None:
            cited.setdefault(claim.ref, []).append(claim.id)
    for numbers, why in result.ambiguous:
        claims = sorted(i for n in numbers for i in cited.get(n, []))
        if claims:
            raise DataError(
                f"{why}, cited by claim{'s' if len(claims) > 1 else ''} {', '.join(map(str, claims))}:"
                " which paper they cite cannot be told; nothing was imported"
            )
    lost = [number for number in result.dropped if number in cited]
    if lost:
        old = {ref.number: ref for ref in current.references}
        details = "; ".join(
            f"reference {n} ({old[n].first_author} {old[n].year}) is cited by claim"
            f"{'s' if len(cited[n]) > 1 else ''} {', '.join(map(str, cited[n]))}"
            for n in lost[:5]
        )
        raise DataError(
            f"{path}: {details}, and is not in the new list; remove or re-cite those claims first"
            " (`exocli claims remove ID`, `exocli claims edit ID --ref N`); nothing was imported"
        )
    for claim in snapshot.claims:
        if claim.ref is not None and claim.ref in result.renumber:
            claim.ref = result.renumber[claim.ref]
    listed = {ref.number for ref in snapshot.references if ref.number is not None}
    snapshot.dangling = dangling_citations(snapshot.claims, listed)


def read_input_text(path: Path) -> str:
    """A user's input file as text: UTF-8 (a byte-order mark is dropped), else one clear error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except IsADirectoryError as exc:
        raise DataError(f"{path}: is a folder, not a file") from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start})") from exc


def candidates_for(conn: sqlite3.Connection, ref: Reference) -> list[dict[str, Any]]:
    """Bibliographic-search candidates kept for the curator (best first)."""
    rows = conn.execute(
        "SELECT rank, doi, title, first_author, year, journal, score FROM ref_candidates"
        " WHERE ref_id = ? ORDER BY rank",
        (ref.id,),
    )
    return [dict(row) for row in rows]
