"""Bibliography files as references: BibTeX/BibLaTeX, RIS, CSL-JSON and PubMed MEDLINE
(.nbib), told apart by content.

Each entry becomes a reference with the fields the file gives (full given names kept), the
entry as exocli would print it (Vancouver), and the file's own citation key where it has
one. Numbers follow the file's order. An entry without a title is kept, unparsed, with why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exocli.errors import DataError
from exocli.refparse import Author, ParsedReference, try_normalize_doi

FORMATS = ("bibtex", "ris", "csl-json", "medline")
_BIBTEX_ENTRY = re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE)
_RIS_TAG = re.compile(r"^[A-Z][A-Z0-9]  - ", re.MULTILINE)


@dataclass
class FileEntry:
    reference: ParsedReference
    key: str | None  # the file's own key (BibTeX key, CSL id, RIS ID)
    line: int  # where the entry starts in the file (1 for JSON items)


def detect_format(text: str) -> str | None:
    """'bibtex', 'ris', 'csl-json' or 'medline' when the text is one; None for anything else (a
    printed list)."""
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError):
            return None
        items = data if isinstance(data, list) else [data]
        if items and all(isinstance(i, dict) and ("type" in i or "title" in i) for i in items):
            return "csl-json"
        return None
    if re.search(r"^TY  - ", text, re.MULTILINE) and re.search(r"^ER  -", text, re.MULTILINE):
        return "ris"
    if re.search(r"^PMID- ", text, re.MULTILINE) and re.search(r"^TI  - ", text, re.MULTILINE):
        return "medline"
    if _BIBTEX_ENTRY.search(text):
        return "bibtex"
    return None


def read_entries(text: str, fmt: str, source: str) -> tuple[list[FileEntry], list[str]]:
    """The file's entries, numbered in its order, and the problems to report."""
    readers: dict[str, Callable[[str, str], list[tuple[dict[str, Any], str | None, int]]]] = {
        "bibtex": _bibtex_items,
        "ris": _ris_items,
        "csl-json": _csl_items,
        "medline": _medline_items,
    }
    entries: list[FileEntry] = []
    problems: list[str] = []
    for number, (fields, key, line) in enumerate(readers[fmt](text, source), 1):
        ref = _reference(fields, number)
        if ref.kind == "unparsed":
            problems.append(f"{source}:{line}: entry {number} kept unparsed: {ref.problem}")
        entries.append(FileEntry(ref, key, line))
    if not entries:
        raise DataError(f"{source}: no entries in this {fmt} file")
    return entries, problems


def _reference(fields: Mapping[str, Any], number: int) -> ParsedReference:
    """The reference an entry's fields describe; its printed text is made from them."""
    from exocli.reference_edits import StudyMetadata, vancouver

    authors = [Author(family, given) for family, given in fields.get("authors", []) if family]
    title = _clean(fields.get("title"))
    doi = try_normalize_doi(_clean(fields.get("doi")) or "")
    year = fields.get("year")
    meta = StudyMetadata(
        title or "",
        [(a.family, a.given) for a in authors],
        year,
        _clean(fields.get("journal")),
        _clean(fields.get("volume")),
        _clean(fields.get("issue")),
        _clean(fields.get("pages")),
        None if doi else _clean(fields.get("url")),
    )
    if fields.get("problem"):
        return ParsedReference(raw=fields["raw"], number=number, kind="unparsed", problem=fields["problem"])
    if not title:
        raw = " ".join(str(v) for v in fields.values() if isinstance(v, str)) or "(empty entry)"
        return ParsedReference(raw=raw, number=number, kind="unparsed", problem="no title")
    return ParsedReference(
        raw=vancouver(meta, doi),
        number=number,
        kind="article" if meta.journal else "web" if meta.url else "article",
        authors=authors,
        title=title.rstrip("."),
        journal=meta.journal,
        year=year,
        volume=meta.volume,
        issue=meta.issue,
        pages=meta.pages,
        doi=doi,
        url=meta.url,
    )


def _clean(value: Any) -> str | None:
    if isinstance(value, list):  # CSL-JSON written by some tools: ["Nature"]
        value = value[0] if value else None
    if value is None or isinstance(value, dict | bool):
        return None
    text = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", str(value)).split())
    return text or None


def _year(value: Any) -> int | None:
    found = re.search(r"\b(1[5-9]\d\d|2\d\d\d)\b", str(value or ""))
    return int(found.group(1)) if found else None


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# --- BibTeX -----------------------------------------------------------------------------------


def _bibtex_items(text: str, source: str) -> list[tuple[dict[str, Any], str | None, int]]:
    from bibtexparser.entrypoint import parse_string
    from bibtexparser.middlewares import LatexDecodingMiddleware
    from bibtexparser.middlewares.names import SeparateCoAuthors, SplitNameParts

    library = parse_string(
        text, append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors(), SplitNameParts()]
    )
    items: list[tuple[dict[str, Any], str | None, int]] = []
    for entry in library.entries:
        values = {name.lower(): field.value for name, field in entry.fields_dict.items()}
        authors = [
            (" ".join([*name.von, *name.last, *name.jr]).strip("{} "), " ".join(name.first).strip("{} "))
            for name in values.get("author", []) or []
            if not isinstance(name, str)
        ]
        fields = {
            "authors": [(f, g) for f, g in authors if f.lower() != "others"],
            "title": _unbrace(values.get("title")),
            "journal": _unbrace(
                values.get("journal") or values.get("journaltitle") or values.get("booktitle")
            ),
            "year": _year(values.get("year") or values.get("date")),
            "volume": values.get("volume"),
            "issue": values.get("number") or values.get("issue"),
            "pages": re.sub(r"\s*(--|–)\s*", "-", str(values["pages"])) if values.get("pages") else None,
            "doi": values.get("doi"),
            "url": values.get("url"),
        }
        items.append((fields, entry.key, (entry.start_line or 0) + 1))
    for block in library.failed_blocks:
        # kept, unparsed, with why: a hard entry never stops the file
        why = getattr(block, "error", None) or type(block).__name__
        items.append(
            (
                {"raw": " ".join(str(block.raw).split())[:500], "problem": f"BibTeX not read ({why})"},
                None,
                (block.start_line or 0) + 1,
            )
        )
    return sorted(items, key=lambda item: item[2])


def _unbrace(value: Any) -> str | None:
    return None if value is None else _math_text(str(value)).replace("{", "").replace("}", "")


def _math_text(text: str) -> str:
    """$\\kappa$ -> κ, $\\pm$ -> ±: what exocli's own BibTeX writes for these (latex.py)."""
    if "$" not in text:
        return text
    from exocli.latex import GREEK, SYMBOLS

    back = {f"$\\{name}$": ch for ch, name in GREEK.items() if ch != "µ"}
    back.update({tex: ch for ch, tex in SYMBOLS.items() if tex.startswith("$")})
    for tex, ch in back.items():
        text = text.replace(tex, ch)
    return text


# --- RIS ----------------------------------------------------------------------------------------


def _ris_items(text: str, source: str) -> list[tuple[dict[str, Any], str | None, int]]:
    import rispy

    try:
        records = rispy.loads(text.replace("\r\n", "\n"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{source}: not a RIS file that can be read ({exc})") from exc
    starts = [_line_of(text, m.start()) for m in re.finditer(r"^TY  - ", text, re.MULTILINE)]
    items: list[tuple[dict[str, Any], str | None, int]] = []
    for index, record in enumerate(records):
        names = record.get("authors") or record.get("first_authors") or []
        authors = []
        for name in names:
            family, _, given = str(name).partition(",")
            authors.append((family.strip(), given.strip()))
        first, last = record.get("start_page"), record.get("end_page")
        pages = f"{first}-{last}" if first and last else first or None
        urls = record.get("urls") or []
        fields = {
            "authors": authors,
            "title": record.get("title") or record.get("primary_title"),
            "journal": record.get("secondary_title")
            or record.get("journal_name")
            or record.get("alternate_title3")
            or record.get("alternate_title1"),
            "year": _year(record.get("year") or record.get("publication_year") or record.get("date")),
            "volume": record.get("volume"),
            "issue": record.get("number"),
            "pages": pages,
            "doi": record.get("doi"),
            "url": urls[0] if urls else None,
        }
        line = starts[index] if index < len(starts) else 1
        items.append((fields, record.get("id"), line))
    return items


# --- CSL-JSON -----------------------------------------------------------------------------------


def _csl_items(text: str, source: str) -> list[tuple[dict[str, Any], str | None, int]]:
    data = json.loads(text)
    items: list[tuple[dict[str, Any], str | None, int]] = []
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict):
            continue  # detect_format let only objects through
        authors = []
        for name in item.get("author") or []:
            if not isinstance(name, dict):
                continue
            family = name.get("family") or name.get("literal") or ""
            authors.append((str(family).strip(), str(name.get("given") or "").strip()))
        issued = item.get("issued")
        year = (
            _year(issued)
            if not isinstance(issued, dict)
            else _year(issued.get("date-parts") or issued.get("raw"))
        )
        fields = {
            "authors": authors,
            "title": item.get("title"),
            "journal": item.get("container-title-short") or item.get("container-title"),
            "year": year,
            "volume": item.get("volume"),
            "issue": item.get("issue"),
            "pages": item.get("page"),
            "doi": item.get("DOI") or item.get("doi"),
            "url": item.get("URL"),
        }
        items.append((fields, str(item["id"]) if item.get("id") is not None else None, 1))
    return items


# --- PubMed MEDLINE (.nbib) ----------------------------------------------------------------------

_MEDLINE_TAG = re.compile(r"^([A-Z]{2,4}) *- (.*)$")


def _medline_items(text: str, source: str) -> list[tuple[dict[str, Any], str | None, int]]:
    """PubMed's MEDLINE format: 'TAG - value' lines (continuations indented), a record per PMID."""
    records: list[tuple[int, list[tuple[str, str]]]] = []
    for number, row in enumerate(text.replace("\r\n", "\n").splitlines(), 1):
        found = _MEDLINE_TAG.match(row)
        if found:
            tag, value = found.group(1), found.group(2).strip()
            if tag == "PMID":
                records.append((number, []))
            if records:
                records[-1][1].append((tag, value))
        elif row.startswith("      ") and records and records[-1][1]:
            tag, value = records[-1][1][-1]
            records[-1][1][-1] = (tag, f"{value} {row.strip()}")
    items: list[tuple[dict[str, Any], str | None, int]] = []
    for line, pairs in records:
        values: dict[str, list[str]] = {}
        for tag, value in pairs:
            values.setdefault(tag, []).append(value)

        def first(tag: str, values: dict[str, list[str]] = values) -> str | None:
            return values[tag][0] if values.get(tag) else None

        authors = [
            (f.strip(), g.strip()) for name in values.get("FAU", []) for f, _, g in [name.partition(",")]
        ]
        if not authors:  # AU lines only: "Casbon JA"
            authors = [
                (n.rsplit(" ", 1)[0], n.rsplit(" ", 1)[-1] if " " in n else "") for n in values.get("AU", [])
            ]
        dois = [v.split(" ")[0] for v in values.get("LID", []) + values.get("AID", []) if v.endswith("[doi]")]
        fields = {
            "authors": authors,
            "title": first("TI"),
            "journal": first("TA") or first("JT"),
            "year": _year(first("DP")),
            "volume": first("VI"),
            "issue": first("IP"),
            "pages": first("PG"),
            "doi": dois[0] if dois else None,
            "url": None,
        }
        items.append((fields, None, line))
    return items
