"""The workspace's reference list: reading it from the database and importing whole lists."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exocli.errors import DataError, NotFoundError, UsageError
from exocli.fields import MAX_INTEGER
from exocli.reflists import ReferenceList, parse_reference_list
from exocli.refparse import (
    Author,
    ParsedReference,
    doi_key,
    try_normalize_doi,
)
from exocli.workspace import Workspace

if TYPE_CHECKING:
    from exocli.studies import KeySet

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
    moved: list[tuple[int, int]] = field(default_factory=list)  # (old number, new number)
    dropped: list[int] = field(default_factory=list)  # old numbers not in the new list (--replace)
    dropped_claims: dict[int, list[int]] = field(default_factory=dict)  # old number -> claims removed
    format: str = "list"  # what the file was: list, bibtex, ris, csl-json, ...
    entries: list[ParsedReference] = field(default_factory=list)  # the file's entries as read


@dataclass
class ImportPlan:
    result: ImportResult
    studies: dict[str, Any]  # key -> the new Study, or None for a dropped one
    order: list[str | None]


def plan_import(
    existing: list[Any], text: str, source: str, replace: bool, drop_claims: bool = False
) -> ImportPlan:
    """What importing a numbered list changes, checked before anything is written.

    Merging goes by number. `replace` takes the new list whole, and first matches each entry
    to the study it already is (DOI, else title + first author + year): a renumbered list
    moves every study, with its claims, to its new number.
    """
    from exocli.bibfiles import detect_format, read_entries

    fmt = detect_format(text)
    keys: dict[int, str] = {}  # number -> the file's own citation key
    if fmt is not None:
        entries, problems = read_entries(text, fmt, source)
        if fmt == "doi-list":
            import dataclasses

            # A DOI alone says less than the workspace's study of it: that paper keeps its fields
            # (with --replace too, where it only moves).
            known = {doi_key(s.reference.doi): s.reference for s in existing if s.reference.doi}
            for entry in entries:
                old = known.get(doi_key(entry.reference.doi or ""))
                if old is not None:
                    entry.reference = dataclasses.replace(
                        old, number=entry.reference.number, authors=list(old.authors)
                    )
        parsed = ReferenceList(
            [e.reference for e in entries], problems, {e.reference.number or 0: e.line for e in entries}
        )
        keys = {e.reference.number or 0: e.key for e in entries if e.key}
    else:
        try:
            parsed = parse_reference_list(text, source)
        except ValueError as exc:
            raise DataError(str(exc)) from exc
    incoming = parsed.references
    unparsed = sum(ref.kind == "unparsed" for ref in incoming)
    if unparsed == len(incoming):
        # A hard list is imported with its unreadable entries kept; text with no reference at
        # all is not a list.
        raise DataError(
            f"{source}: does not look like a reference list (none of its {len(incoming)} entries"
            " reads as a reference)"
        )
    if replace:
        plan = _plan_replace(existing, parsed, source, drop_claims, keys)
    elif fmt is not None:
        plan = _plan_identity_merge(existing, parsed, keys)
    else:
        plan = _plan_merge(existing, parsed, source)
    plan.result.format = fmt or "list"
    plan.result.entries = incoming
    # A repeated DOI is kept (each copy is its own study); `exocli check` reports it. Merged
    # into a list, only the entries added are new copies (the others are studies already).
    listed = {study.number: study.reference for study in existing} if not replace else {}
    added = set(plan.result.added)
    listed.update({ref.number: ref for ref in incoming if replace or ref.number in added})
    plan.result.problems = (
        parsed.problems
        + plan.result.problems
        + _duplicate_dois(sorted(listed.values(), key=lambda ref: ref.number or 0), source)
    )
    return plan


def _current_order(existing: list[Any]) -> list[str | None]:
    """The workspace's list as keys by number (None where a number is free)."""
    order: list[str | None] = [None] * max((study.number for study in existing), default=0)
    for study in existing:
        order[study.number - 1] = study.key
    return order


def _plan_merge(existing: list[Any], parsed: ReferenceList, source: str) -> ImportPlan:
    """A printed list into the list, by number and by identity: an entry that is a study
    already (same DOI, else title + first author + year) changes nothing, wherever either is
    numbered (a note says where the two differ); another takes its own number when that is
    free. A number the workspace gives another paper is an error: the list is another
    numbering, which --replace takes."""
    from exocli.studies import KeySet, Study, new_key

    by_number = {study.number: study for study in existing}
    index: dict[tuple[str, ...], Any] = {}
    for study in existing:
        for ident in study_keys(study.reference):
            index.setdefault(ident, study)
    order = _current_order(existing)
    result = ImportResult([], [], [], [], len(parsed.references))
    taken = KeySet(study.key for study in existing)
    studies: dict[str, Any] = {}
    notes: list[str] = []
    for ref in parsed.references:
        assert ref.number is not None
        where = f"{source}:{parsed.lines.get(ref.number, 0)}"
        idents = study_keys(ref)
        old = by_number.get(ref.number)
        match = next((index[i] for i in idents if i in index), None)
        if old is not None and old.reference.raw == ref.raw:
            result.unchanged.append(ref.number)
        elif match is not None and match.key not in studies:
            result.unchanged.append(match.number)
            if match.number != ref.number:
                notes.append(
                    f"{where}: entry {ref.number} is reference {match.number} already (same DOI, or same"
                    " title, first author and year); it keeps its number (--replace renumbers)"
                )
            if match.reference.raw != ref.raw:
                notes.append(
                    f"{where}: entry {ref.number} is reference {match.number}, printed differently; the"
                    f" workspace's text is kept (`exocli refs edit {match.number}`, or --replace, takes the new one)"
                )
        elif old is None:
            key = new_key(ref, taken)
            taken.add(key)
            studies[key] = Study(key, ref)
            order += [None] * (ref.number - len(order))
            order[ref.number - 1] = key
            result.added.append(ref.number)
            for ident in idents:
                index.setdefault(ident, studies[key])
        else:
            raise DataError(
                f"{where}: reference {ref.number} differs from the workspace's reference {ref.number};"
                " use --replace to replace the whole list (`exocli refs edit` changes one reference)"
            )
    result.problems = notes
    return ImportPlan(result, studies, order)


def study_keys(ref: ParsedReference) -> list[tuple[str, ...]]:
    """What makes two entries the same paper: the DOI, else title + first author + year."""
    from exocli.verify import fold

    if ref.doi:
        return [("doi", doi_key(ref.doi))]
    if ref.title and ref.first_author and ref.year:
        return [("title", fold(ref.title), fold(ref.first_author), str(ref.year))]
    return [("text", " ".join(ref.raw.split()).casefold())]


def _plan_identity_merge(existing: list[Any], parsed: ReferenceList, keys: dict[int, str]) -> ImportPlan:
    """A bibliography file into the list: entries that are a study already change nothing,
    the others are added after the last reference, in the file's order."""
    from exocli.studies import KeySet, Study

    index: dict[tuple[str, ...], Any] = {}
    for study in existing:
        for ident in study_keys(study.reference):
            index.setdefault(ident, study)
    order = _current_order(existing)
    result = ImportResult([], [], [], [], len(parsed.references))
    taken = KeySet(study.key for study in existing)
    studies: dict[str, Any] = {}
    for ref in parsed.references:
        idents = study_keys(ref)
        match = next((index[i] for i in idents if i in index), None)
        if match is not None:
            result.unchanged.append(match.number)
            continue
        key = _key_for(ref, keys.get(ref.number or 0), taken)
        ref.number = len(order) + 1
        order.append(key)
        studies[key] = Study(key, ref)
        for ident in idents:
            index.setdefault(ident, studies[key])
        result.added.append(ref.number)
    return ImportPlan(result, studies, order)


def _key_for(ref: ParsedReference, wanted: str | None, taken: KeySet) -> str:
    """The file's own key when it is usable and free (Better BibTeX users rely on theirs)."""
    from exocli.studies import KEY_PATTERN, new_key

    key = wanted if wanted and KEY_PATTERN.match(wanted) and wanted not in taken else new_key(ref, taken)
    taken.add(key)
    return key


def _plan_replace(
    existing: list[Any],
    parsed: ReferenceList,
    source: str,
    drop_claims: bool,
    keys: dict[int, str] | None = None,
) -> ImportPlan:
    from exocli.studies import KeySet, Study, new_key

    index: dict[tuple[str, ...], list[Any]] = {}
    for study in existing:
        for ident in study_keys(study.reference):
            index.setdefault(ident, []).append(study)
    result = ImportResult([], [], [], [], len(parsed.references))
    claimed: dict[str, int] = {}  # study key -> the number of the new entry that matched it
    studies: dict[str, Any] = {}
    taken = KeySet(study.key for study in existing)
    order: list[str | None] = [None] * max((ref.number or 0 for ref in parsed.references), default=0)
    for ref in parsed.references:
        assert ref.number is not None
        where = f"{source}:{parsed.lines.get(ref.number, 0)}"
        matches = sorted(
            {s.key: s for ident in study_keys(ref) for s in index.get(ident, [])}.values(),
            key=lambda s: s.number,
        )
        if len(matches) > 1:
            # The same paper listed twice already: the copy with this number and this very text
            # is the one meant (so a second import of one file changes nothing).
            same = [s for s in matches if s.number == ref.number and s.reference.raw == ref.raw]
            if len(same) == 1:
                matches = same
        if len(matches) > 1:
            numbers = " and ".join(str(s.number) for s in matches)
            raise DataError(
                f"{where}: entry {ref.number} matches references {numbers} (same DOI, or same title,"
                " first author and year): which paper it is cannot be told; nothing was imported"
            )
        if not matches:
            key = _key_for(ref, (keys or {}).get(ref.number), taken)
            studies[key] = Study(key, ref)
            order[ref.number - 1] = key
            result.added.append(ref.number)
            continue
        old = matches[0]
        if old.key in claimed:
            if old.claims:  # whose paper its claims are cannot be told
                raise DataError(
                    f"{where}: entries {claimed[old.key]} and {ref.number} are both reference {old.number}"
                    f" ({old.reference.first_author} {old.reference.year}), which claims"
                    f" {', '.join(str(c.id) for c in old.claims)} cite; nothing was imported"
                )
            key = new_key(ref, taken)  # an uncited paper twice: the second copy is a new study
            taken.add(key)
            studies[key] = Study(key, ref)
            order[ref.number - 1] = key
            result.added.append(ref.number)
            continue
        claimed[old.key] = ref.number
        order[ref.number - 1] = old.key
        if old.number != ref.number:
            result.moved.append((old.number, ref.number))
        if old.reference.raw != ref.raw:
            for claim in old.claims:
                claim.ref = ref.number
            studies[old.key] = Study(old.key, ref, old.claims)
            result.replaced.append(ref.number)
        elif old.number == ref.number:
            result.unchanged.append(ref.number)
    dropped = [study for study in existing if study.key not in claimed]
    cited = [study for study in dropped if study.claims]
    if cited and not drop_claims:
        details = "; ".join(
            f"reference {s.number} ({s.reference.first_author} {s.reference.year}) is cited by claim"
            f"{'s' if len(s.claims) > 1 else ''} {', '.join(str(c.id) for c in s.claims)}"
            for s in cited[:5]
        )
        raise DataError(
            f"{source}: {details}, and is not in the new list; re-cite or remove those claims first"
            " (`exocli claims edit ID --ref N`, `exocli claims remove ID`), or pass --drop-claims to"
            " remove them with it; nothing was imported"
        )
    for study in dropped:
        studies[study.key] = None
        result.dropped.append(study.number)
        if study.claims:
            result.dropped_claims[study.number] = [c.id for c in study.claims]
    result.dropped.sort()
    return ImportPlan(result, studies, order)


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


def import_references(
    ws: Workspace, path: Path, replace: bool = False, drop_claims: bool = False, dry_run: bool = False
) -> ImportResult:
    """Parse FILE and merge it into the workspace's list: the files it changes and their rows
    together, or neither."""
    from exocli.db import open_database
    from exocli.parallel import paused_gc
    from exocli.records import workspace_lock
    from exocli.store import Change, load_snapshot, write_change
    from exocli.studies import read_order

    if drop_claims and not replace:
        raise UsageError("--drop-claims goes with --replace")
    text = read_input_text(path)
    conn = open_database(ws)
    try:
        with workspace_lock(ws), paused_gc():
            snapshot = load_snapshot(ws)
            plan = plan_import(snapshot.studies, text, str(path), replace, drop_claims)
            if not dry_run:
                before = {s.key: s for s in snapshot.studies if s.key in plan.studies}
                order = None if plan.order == read_order(ws).keys else plan.order
                if plan.studies or order is not None:
                    change = Change(studies=plan.studies, before=before, order=order)  # type: ignore[arg-type]
                    write_change(ws, conn, change, snapshot.vocabs.pathways)
    finally:
        conn.close()
    return plan.result


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
