"""Changing the reference list one reference at a time: add, edit, remove, move.

A reference is a study (its file, named by its key); its number is only its place in
refs/order.txt. Moving or removing one shifts the numbers of the others, and every claim
stays with its study. Each write holds the workspace lock and changes only the files
it must (studies.py, store.write_change).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exocli.errors import DataError, NotFoundError, UsageError
from exocli.refparse import Author, ParsedReference, parse_reference, try_normalize_doi
from exocli.studies import Study, read_order, read_study
from exocli.workspace import Workspace

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# `refs edit` fields; `authors` takes "Family, Given" names, `text` the entry as printed.
EDITABLE_FIELDS = ("authors", "title", "journal", "year", "volume", "issue", "pages", "doi", "url", "text")


@dataclass
class StudyMetadata:
    title: str
    authors: list[tuple[str, str]]  # (family, given)
    year: int | None
    journal: str | None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    url: str | None = None
    et_al: bool = False  # the list names only the first authors


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


_INITIALS_SPLIT = re.compile(r"[\s.]+")
_NOT_IN_FAMILY = re.compile(r"[.,;:()\[\]0-9]")  # what a Vancouver family name drops


def _initials(given: str) -> str:
    """'George A' -> 'GA'; 'Yu-Lin' -> 'Y-L'; 'J.H.' -> 'JH'."""
    if "-" not in given:  # the common case, what the loop below makes of it
        return "".join(p[0].upper() for p in _INITIALS_SPLIT.split(given) if p and p[0].isalpha())[:4]
    parts = [p for p in _INITIALS_SPLIT.split(given) if p]
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
        family = _NOT_IN_FAMILY.sub("", family).strip()
        initials = _initials(given)
        if family:
            names.append(f"{family} {initials}" if initials else f"{family} X")
    authors = ", ".join(names) + (", et al" if len(meta.authors) > 6 or meta.et_al else "")
    title = meta.title.strip().rstrip(".")
    journal = (meta.journal or "").replace(".", "").strip()
    # no authors (an organisation's page) or no journal (data, software): leave them out
    parts = [part for part in (authors, title, journal) if part]
    # a title ending in ? or ! takes no full stop after it: "imaging? Biomaterials"
    text = (
        "".join(part + ("" if part.endswith(("?", "!")) else ".") + " " for part in parts)
        + f"{meta.year or ''}"
    )
    if meta.volume:
        text += f";{meta.volume}"
        if meta.issue:
            text += f"({meta.issue})"
        if meta.pages:
            text += f":{meta.pages}"
    elif meta.pages:
        text += f":{meta.pages}"
    text += "."
    if doi:
        text += f" https://doi.org/{doi}."
    elif meta.url:
        text += f" {meta.url}."
    return text


def reference_from_metadata(
    meta: StudyMetadata, doi: str | None, number: int | None, warnings: list[str]
) -> ParsedReference:
    """The reference as the list prints it (Vancouver), with the fields as given: full names stay."""
    text = vancouver(meta, doi)
    if _CONTROL.search(text):
        # Crossref data (or a --title) with control characters: never into the record
        warnings.append("control characters in the study's details were replaced by spaces")
        text = " ".join(_CONTROL.sub(" ", text).split())
        meta = StudyMetadata(
            " ".join(_CONTROL.sub(" ", meta.title).split()),
            [(_clean(f), _clean(g)) for f, g in meta.authors],
            meta.year,
            _clean(meta.journal),
            _clean(meta.volume),
            _clean(meta.issue),
            _clean(meta.pages),
            _clean(meta.url),
            meta.et_al,
        )
    parsed = parse_reference(text, number)
    if parsed.kind != "article":
        warnings.append(f"reference {number} kept unparsed: {parsed.problem}")
        return parsed
    return ParsedReference(
        raw=text,
        number=number,
        kind="article",
        authors=[Author(family, given) for family, given in meta.authors if family],
        et_al=False,
        title=meta.title.strip().rstrip(".") or parsed.title,
        journal=meta.journal or parsed.journal,
        year=meta.year,
        volume=meta.volume,
        issue=meta.issue,
        pages=meta.pages,
        doi=doi,
        url=None if doi else meta.url,
    )


def _clean(value: Any) -> Any:
    return " ".join(_CONTROL.sub(" ", value).split()) if isinstance(value, str) else value


# Fetches one DOI's Crossref record: (message or None if Crossref lacks it, stored file, its text).
MetadataFetcher = Callable[[str], "tuple[Mapping[str, Any] | None, Path, str]"]


def find_study(
    conn: sqlite3.Connection, doi: str | None, meta: StudyMetadata | None
) -> tuple[str, int] | None:
    """(key, number) of the same study, as `references.study_keys` defines it: the same DOI,
    else the same title + first author + year."""
    from exocli.references import study_keys

    if doi:  # refs.doi compares without case (COLLATE NOCASE, indexed)
        row = conn.execute(
            "SELECT citekey, number FROM refs WHERE doi = ? ORDER BY number LIMIT 1", (doi,)
        ).fetchone()
        if row is not None:
            return row[0], row[1]
    if meta and meta.authors and meta.title and meta.year:
        wanted = study_keys(
            ParsedReference(raw="", title=meta.title, authors=[Author(*meta.authors[0])], year=meta.year)
        )
        rows = conn.execute(
            "SELECT r.citekey, r.number, r.title, a.family FROM refs r"
            " JOIN ref_authors a ON a.ref_id = r.id AND a.position = 0 WHERE r.year = ?",
            (meta.year,),
        )
        for key, number, title, family in rows:
            candidate = ParsedReference(raw="", title=title, authors=[Author(family or "")], year=meta.year)
            if study_keys(candidate) == wanted:
                return key, number
    return None


def study_of(conn: sqlite3.Connection, ident: str) -> tuple[str, int]:
    """(key, number) of a reference given as its number, DOI or key."""
    from exocli.references import get_reference

    ref = get_reference(conn, ident)
    if ref.citekey is None or ref.number is None:
        raise NotFoundError(f"no reference {ident!r} in the reference list")
    return ref.citekey, ref.number


def taken_keys(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT citekey FROM refs WHERE citekey IS NOT NULL")]


@dataclass
class ReferenceChange:
    number: int
    key: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (field, old, new)
    shifted: tuple[int, int, int] | None = None  # (first, last, by): numbers first..last moved by
    warnings: list[str] = field(default_factory=list)


def add_reference(
    ws: Workspace,
    conn: sqlite3.Connection,
    doi_text: str | None,
    meta: StudyMetadata | None,
    fetch: MetadataFetcher | None,
    at: int | None = None,
    with_files: Callable[[str, int], Mapping[Path, str]] | None = None,
) -> ReferenceChange:
    """A new reference at the end of the list (or at `at`, shifting the ones after it).

    `with_files(key, number)` gives other texts to write in the same all-or-nothing write
    (a candidate's decision, see candidate_edits.py)."""
    from exocli.records import workspace_lock
    from exocli.store import Change, load_vocabularies, write_change
    from exocli.studies import new_key

    doi = _doi_option(doi_text)
    if meta is None and doi is None:
        raise UsageError("give --doi, or --title, --author, --year and --journal")
    with workspace_lock(ws):
        vocabs = load_vocabularies(ws)
        found = find_study(conn, doi, meta)
        if found is not None:
            raise DataError(f"reference {found[1]} ({found[0]}) is already this study; nothing was added")
        files: dict[Path, str] = {}
        if meta is None:
            assert doi is not None
            if fetch is None:
                raise UsageError(f"offline: give --title, --author, --year and --journal for {doi}")
            message, path, stored = fetch(doi)
            files[path] = stored
            if message is None:
                raise DataError(f"{doi} is not in Crossref; give --title, --author, --year and --journal")
            meta = metadata_from_crossref(message)
            found = find_study(conn, None, meta)
            if found is not None:
                raise DataError(
                    f"reference {found[1]} ({found[0]}) has the same title, first author and year;"
                    " nothing was added"
                )
        keys = read_order(ws).keys
        number = _position(at, len(keys) + 1)
        warnings: list[str] = []
        ref = reference_from_metadata(meta, doi, number, warnings)
        key = new_key(ref, taken_keys(conn))
        order = [*keys[: number - 1], key, *keys[number - 1 :]]
        study = Study(key, ref)
        if with_files is not None:
            files.update(with_files(key, number))
        write_change(ws, conn, Change(studies={key: study}, order=order, files=files), vocabs.pathways)
    shifted = (number, len(keys), 1) if number <= len(keys) else None
    return ReferenceChange(number, key, shifted=shifted, warnings=warnings)


def _position(at: int | None, end: int) -> int:
    if at is None:
        return end
    if not 1 <= at <= end:
        raise UsageError(f"--at: the list has {end - 1} references; give a number from 1 to {end}")
    return at


def _doi_option(text: str | None) -> str | None:
    if text is None:
        return None
    doi = try_normalize_doi(text)
    if doi is None:
        raise UsageError(f"--doi: not a DOI: {text!r}")
    return doi


def check_changes(values: Mapping[str, Any], editable: tuple[str, ...]) -> None:
    """An edit names at least one field, and only fields that can be edited."""
    unknown = [name for name in values if name not in editable]
    if unknown:
        raise UsageError(f"cannot edit {unknown[0]!r}; editable fields: {', '.join(editable)}")
    if not values:
        raise UsageError("nothing to change: give at least one --FIELD VALUE")


def field_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], names: tuple[str, ...]
) -> list[tuple[str, str, str]]:
    """(field, old, new) as text for each field that differs; lists joined, nothing as (none)."""

    def shown(value: Any) -> str:
        if isinstance(value, list):
            return "; ".join(map(str, value)) if value else "(none)"
        return "(none)" if value is None or value == "" else str(value)

    return [
        (name, shown(old.get(name)), shown(new.get(name))) for name in names if old.get(name) != new.get(name)
    ]


def edit_reference(
    ws: Workspace, conn: sqlite3.Connection, ident: str, values: Mapping[str, Any]
) -> ReferenceChange:
    """Change fields of one reference; its text as the list prints it follows the fields."""
    from exocli.records import workspace_lock
    from exocli.store import Change, load_vocabularies, write_change
    from exocli.studies import reference_entry

    check_changes(values, EDITABLE_FIELDS)
    with workspace_lock(ws):
        key, number = study_of(conn, ident)
        vocabs = load_vocabularies(ws)
        before = read_study(ws, key, number, vocabs)
        old = before.reference
        if "text" in values:
            text = str(values["text"]).strip()
            if not text or _CONTROL.search(text):
                raise UsageError("--text: the reference as printed, on one line, without control characters")
            ref = parse_reference(text, number)
        else:
            ref = ParsedReference(**{**old.__dict__, "authors": list(old.authors)})
        for name, value in values.items():
            if name == "text":
                continue
            if isinstance(value, str) and _CONTROL.search(value):
                raise UsageError(f"--{name}: control characters are not allowed")
            if name == "authors":
                ref.authors = [author_option(a) for a in value]
                ref.et_al = False
            elif name == "doi":
                ref.doi = _doi_option(value) if value else None
            elif name == "year":
                ref.year = value
            else:
                setattr(ref, name, value or None)
        web_fields = {"year", "title", "url", "authors"}
        web_edit = "text" not in values and old.kind == "web" and set(values) <= web_fields
        if "text" not in values and old.kind != "article" and not web_edit:
            what = "a web page" if old.kind == "web" else "an entry exocli could not parse"
            hint = (
                " (a web page's --year, --title, --url or --author may be given alone)"
                if old.kind == "web"
                else ""
            )
            raise UsageError(
                f"reference {number} is {what}: give the whole entry as it should be printed with --text{hint}"
            )
        if web_edit:
            pass  # a web page keeps its entry as the list prints it; the fields say the rest (its year)
        elif "text" not in values:  # the fields changed: the printed entry follows them
            meta = StudyMetadata(
                ref.title or "",
                [(a.family, a.given) for a in ref.authors],
                ref.year,
                ref.journal,
                ref.volume,
                ref.issue,
                ref.pages,
                ref.url,
                ref.et_al,
            )
            ref.raw = vancouver(meta, ref.doi)
            ref.kind, ref.problem = "article", None
        study = Study(key, ref, before.claims)
        changes = field_changes(reference_entry(old), reference_entry(ref), ("text", *EDITABLE_FIELDS[:-1]))
        if not changes:
            raise DataError(f"reference {number} already has those values; nothing was changed")
        write_change(ws, conn, Change(studies={key: study}, before={key: before}), vocabs.pathways)
    return ReferenceChange(number, key, changes)


def author_option(text: str) -> Author:
    """An --author value, "Family, Given" (the way study files write names too)."""
    from exocli.studies import parse_author

    author = parse_author(str(text))
    if not author.family:
        raise UsageError(f"--author {text!r}: write it as 'Family, Given'")
    return author


def remove_reference(ws: Workspace, conn: sqlite3.Connection, ident: str) -> ReferenceChange:
    """Remove a reference no claim cites; the ones after it move up one number."""
    from exocli.records import workspace_lock
    from exocli.store import Change, load_vocabularies, write_change

    with workspace_lock(ws):
        key, number = study_of(conn, ident)
        cited = [
            row[0]
            for row in conn.execute(
                "SELECT c.id FROM claims c JOIN refs r ON r.id = c.ref_id WHERE r.citekey = ? ORDER BY c.id",
                (key,),
            )
        ]
        if cited:
            listing = ", ".join(map(str, cited[:20])) + (" ..." if len(cited) > 20 else "")
            raise DataError(
                f"reference {number} ({key}) is cited by claim{'s' if len(cited) > 1 else ''} {listing};"
                f" re-cite {'them' if len(cited) > 1 else 'it'} (`exocli claims edit ID --ref N`) or remove"
                f" {'them' if len(cited) > 1 else 'it'} first; nothing was removed"
            )
        keys = read_order(ws).keys
        order = [k for k in keys if k != key]
        vocabs = load_vocabularies(ws)
        write_change(ws, conn, Change(studies={key: None}, order=order), vocabs.pathways)
    shifted = (number + 1, len(keys), -1) if number < len(keys) else None
    return ReferenceChange(number, key, shifted=shifted)


def move_reference(ws: Workspace, conn: sqlite3.Connection, ident: str, to: int) -> ReferenceChange:
    """Put a reference at number `to`; the ones between shift by one. No claim changes study."""
    from exocli.records import workspace_lock
    from exocli.store import Change, load_vocabularies, write_change

    with workspace_lock(ws):
        key, number = study_of(conn, ident)
        keys = read_order(ws).keys
        if not 1 <= to <= len(keys):
            raise UsageError(
                f"--to: the list has {len(keys)} references; give a number from 1 to {len(keys)}"
            )
        if to == number:
            raise DataError(f"reference {number} ({key}) is already number {to}; nothing was moved")
        order = [k for k in keys if k != key]
        order.insert(to - 1, key)
        vocabs = load_vocabularies(ws)
        write_change(ws, conn, Change(order=order), vocabs.pathways)
    shifted = (to, number - 1, 1) if to < number else (number + 1, to, -1)
    return ReferenceChange(to, key, [("number", str(number), str(to))], shifted=shifted)


def shift_text(shifted: tuple[int, int, int] | None) -> str:
    """'references 3-95 are now 4-96' (empty when nothing shifted)."""
    if shifted is None:
        return ""
    first, last, by = shifted
    if first > last:
        return ""
    if first == last:
        return f"reference {first} is now {first + by}"
    return f"references {first}-{last} are now {first + by}-{last + by}"
