"""Bibliography files as references: BibTeX/BibLaTeX, RIS, CSL-JSON, CSL-YAML, PubMed
MEDLINE (.nbib) and plain lists of DOIs, told apart by content.

Each entry becomes a reference with the fields the file gives (full given names kept), the
entry as exocli would print it (Vancouver), and the file's own citation key where it has
one. Numbers follow the file's order. An entry without a title is kept, unparsed, with why.
A DOI list's entries have only their DOI until `exocli resolve` fills them in from Crossref
(`fill_from_crossref`).
"""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from exocli.errors import DataError
from exocli.refparse import Author, ParsedReference, doi_key, try_normalize_doi

if TYPE_CHECKING:
    import sqlite3

    from exocli.workspace import Workspace

FORMATS = ("bibtex", "ris", "csl-json", "csl-yaml", "medline", "doi-list")
_BIBTEX_ENTRY = re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE)
_RIS_TAG = re.compile(r"^[A-Z][A-Z0-9]  - ", re.MULTILINE)
_RIS_START = re.compile(r"^TY  - ", re.MULTILINE)
_RIS_END = re.compile(r"^ER  -", re.MULTILINE)
_MEDLINE_ID = re.compile(r"^PMID- ", re.MULTILINE)
_MEDLINE_TITLE = re.compile(r"^TI  - ", re.MULTILINE)
# CSL-YAML items start with a CSL variable (id, type, title, DOI, ...): a bulleted printed list
# ("- Smith J, ...", "- WHO: Global report ..."), even under a "references:" heading, is no YAML.
_CSL_ITEM = r"-[ \t]+(?:\{[ \t]*)?(?:[a-z][a-z_-]*|DOI|ISBN|ISSN|PMCID|PMID|URL)[ \t]*:(?:[ \t]|$)"
_YAML_LIST_ITEM = re.compile(_CSL_ITEM)
_YAML_REFERENCES = re.compile(
    r"^references[ \t]*:[ \t]*(?:\[[ \t]*(?:[{\]]|\r?\n)|(?:#.*)?\r?\n(?:[ \t]*(?:#.*)?\r?\n)*[ \t]*"
    + _CSL_ITEM
    + ")",
    re.MULTILINE,
)
_YAML_KEY_LINE = re.compile(r"[A-Za-z_][\w-]*[ \t]*:(?:[ \t]|$)")
# The problem noted on a DOI list's entry until its fields are filled in.
ONLY_DOI = "only its DOI so far: `exocli resolve` fills in its fields from Crossref (or `exocli refs edit`)"


@dataclass
class FileEntry:
    reference: ParsedReference
    key: str | None  # the file's own key (BibTeX key, CSL id, RIS ID)
    line: int  # where the entry starts in the file (1 for JSON items)


def detect_format(text: str) -> str | None:
    """One of FORMATS when the text is such a file; None for anything else (a printed list)."""
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
    if _looks_like_csl_yaml(text):
        return "csl-yaml"
    # (a substring test first: the patterns scan a whole big file for nothing)
    if "TY  - " in text and _RIS_START.search(text) and _RIS_END.search(text):
        return "ris"
    if "PMID- " in text and _MEDLINE_ID.search(text) and _MEDLINE_TITLE.search(text):
        return "medline"
    if _BIBTEX_ENTRY.search(text):
        return "bibtex"
    if _is_doi_list(text):
        return "doi-list"
    return None


def read_entries(text: str, fmt: str, source: str) -> tuple[list[FileEntry], list[str]]:
    """The file's entries, numbered in its order, and the problems to report."""
    items = _bibtex_entry_items(text, source) if fmt == "bibtex" else _entry_items(fmt, text, source)
    entries: list[FileEntry] = []
    problems: list[str] = []
    for item, key, line in items:
        if isinstance(item, str):  # left out, with a warning (a DOI list's repeated DOI)
            problems.append(f"{source}:{line}: {item}")
            continue
        item.number = len(entries) + 1
        if item.kind == "unparsed":
            problems.append(f"{source}:{line}: entry {item.number} kept unparsed: {item.problem}")
        entries.append(FileEntry(item, key, line))
    if not entries:
        raise DataError(f"{source}: no entries in this {fmt} file")
    return entries, problems


EntryItem = tuple[ParsedReference | str, str | None, int]  # reference (or why left out), key, line


def _entry_items(fmt: str, text: str, source: str) -> list[EntryItem]:
    """(the entry's reference, numbered later, or why it is left out; its key; its line)."""
    readers: dict[str, Callable[[str, str], list[tuple[dict[str, Any], str | None, int]]]] = {
        "bibtex": _bibtex_items,
        "ris": _ris_items,
        "csl-json": _csl_items,
        "csl-yaml": _csl_yaml_items,
        "medline": _medline_items,
        "doi-list": _doi_list_items,
    }
    return [
        (str(fields["repeat"]) if fields.get("repeat") else _reference(fields, 0), key, line)
        for fields, key, line in readers[fmt](text, source)
    ]


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
    if fields.get("only_doi") and doi:
        # An article by its DOI alone: `exocli resolve` fetches its record and fills it in.
        return ParsedReference(
            raw=f"https://doi.org/{doi}", number=number, kind="article", doi=doi, problem=ONLY_DOI
        )
    if not title:
        raw = " ".join(str(v) for v in fields.values() if isinstance(v, str)) or "(empty entry)"
        return ParsedReference(raw=raw, number=number, kind="unparsed", problem="no title")
    return ParsedReference(
        raw=vancouver(meta, doi),
        number=number,
        kind="article" if meta.journal else "web" if meta.url else "article",
        authors=authors,
        et_al=bool(fields.get("et_al")) and bool(authors),
        title=title.rstrip("."),
        journal=meta.journal,
        year=year,
        volume=meta.volume,
        issue=meta.issue,
        pages=meta.pages,
        doi=doi,
        url=meta.url,
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ET_AL = re.compile(r"et\.?\s*al\.?|others", re.IGNORECASE)
_YEAR = re.compile(r"\b(1[5-9]\d\d|2\d\d\d)\b")
_PAGE_DASH = re.compile(r"\s*(--|–)\s*")


def _clean(value: Any) -> str | None:
    if isinstance(value, list):  # CSL-JSON written by some tools: ["Nature"]
        value = value[0] if value else None
    # Text, numbers and YAML dates only: never str() of a structure (YAML aliases can nest
    # one far larger than the file).
    if isinstance(value, bool) or not isinstance(value, str | int | float | datetime.date):
        return None
    text = str(value)
    if not text.isprintable():  # control characters (a tab, a newline) become spaces
        text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    return text or None


def _year(value: Any) -> int | None:
    found = _YEAR.search(str(value or ""))
    return int(found.group(1)) if found else None


def _issued_year(issued: Any) -> int | None:
    """A CSL date's year: {date-parts: [[2020, 5]]}, {raw: ...}, {year: 2020}, "2020", and
    CSL-YAML's [{year: 2020, month: 5}] or 2020-05-01 (which YAML loads as a date)."""
    if isinstance(issued, list) and issued:
        issued = issued[0]  # [{year: ...}], or the start of a range
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            issued = parts[0][0]
        else:
            issued = issued.get("year") or issued.get("raw") or issued.get("literal")
    if isinstance(issued, datetime.date):
        return issued.year
    if isinstance(issued, bool) or not isinstance(issued, str | int | float):
        return None
    return _year(issued)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# --- BibTeX -----------------------------------------------------------------------------------

PARALLEL_BYTES = 400_000  # a .bib this big is read on every core
_BIBTEX_STRING = re.compile(r"@\s*string\s*[{(]", re.IGNORECASE)


def _bibtex_entry_items(text: str, source: str) -> list[EntryItem]:
    """A big file is cut between entries and the parts read at once (see exocli.parallel)."""
    from exocli.parallel import parallel_map

    parts = _bibtex_parts(text)
    if len(parts) == 1:
        return _entry_items("bibtex", text, source)

    def read(part: tuple[int, str]) -> list[EntryItem]:
        lines_before, chunk = part
        return [(item, key, line + lines_before) for item, key, line in _entry_items("bibtex", chunk, source)]

    items = [item for part in parallel_map(read, parts, send=_sendable, receive=_received) for item in part]
    keys = [key for _, key, _ in items if key is not None]
    if len(set(keys)) != len(keys):
        # bibtexparser keeps the first of two entries with one key and fails the second; only
        # a read of the whole file knows which is first across parts.
        return _entry_items("bibtex", text, source)
    return items


def _sendable(items: list[EntryItem]) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """A worker's items as plain data: (key, line, warning or None) each, and the references as rows."""
    from exocli.refparse import reference_rows

    refs = [item for item, _, _ in items if not isinstance(item, str)]
    return [
        (key, line, item if isinstance(item, str) else None) for item, key, line in items
    ], reference_rows(refs)


def _received(sent: tuple[list[Any], list[tuple[Any, ...]]]) -> list[EntryItem]:
    from exocli.refparse import references_from_rows

    heads, rows = sent
    refs = iter(references_from_rows(rows))
    return [(warning if warning is not None else next(refs), key, line) for key, line, warning in heads]


def _bibtex_parts(text: str) -> list[tuple[int, str]]:
    """(lines before it, text) of each part: cut where an entry starts at the start of a line
    outside every brace, as many parts as workers. One part for a small file, and for one with
    @string macros (an entry may use one defined in another part)."""
    from exocli.parallel import cuts, worker_count

    workers = worker_count()
    if workers < 2 or len(text) < PARALLEL_BYTES or _BIBTEX_STRING.search(text):
        return [(0, text)]
    starts = [0]
    for near in cuts(len(text), workers)[1:-1]:
        start = _entry_start_near(text, max(starts[-1] + 1, near))
        if start is None:
            break
        starts.append(start)
    starts.append(len(text))
    return [(text.count("\n", 0, start), text[start:end]) for start, end in pairwise(starts)]


def _entry_start_near(text: str, near: int) -> int | None:
    """The first start of an entry at or after `near` that is outside every brace."""
    position = near
    for _ in range(50):
        position = text.find("\n@", position)
        if position < 0:
            return None
        position += 1
        depth = text.count("{", 0, position) - text.count("}", 0, position)
        if depth == 0 and _BIBTEX_ENTRY.match(text, position):
            return position
    return None


def _bibtex_items(text: str, source: str) -> list[tuple[dict[str, Any], str | None, int]]:
    from bibtexparser.entrypoint import parse_string

    # bibtexparser's own parse. With @string macros, its default stack (@string references,
    # then enclosing braces) on every field; without, there is nothing to resolve, and only the
    # fields exocli reads lose their enclosing here (the stack costs a fifth of the parse).
    # Those fields are then decoded here, one value at a time: its name and LaTeX middlewares
    # would handle every field of every entry, copying each block as they go.
    macros = _BIBTEX_STRING.search(text) is not None
    library = parse_string(text) if macros else parse_string(text, parse_stack=[])
    decode = _LatexDecoder()
    items: list[tuple[dict[str, Any], str | None, int]] = []
    for entry in library.entries:
        values = {name.lower(): field.value for name, field in entry.fields_dict.items()}
        if not macros:
            values = _Unenclosing(values)

        pages = _first_value(values, decode, "pages")
        names = str(values.get("author") or "")
        # names without LaTeX (most of them) need no decoding, one at a time
        plain = _LATEX_MARK.search(names) is None
        fields = {
            "authors": [
                (family.strip(), given.strip()) if plain else (decode(family).strip(), decode(given).strip())
                for family, given in _bibtex_names(names)
                if family.lower() != "others"
            ],
            "et_al": bool(re.search(r"\band\s+others\s*$", names)),
            "title": _unbrace(_first_value(values, decode, "title")),
            "journal": _unbrace(_first_value(values, decode, "journal", "journaltitle", "booktitle")),
            "year": _year(_first_value(values, decode, "year", "date")),
            "volume": _first_value(values, decode, "volume"),
            "issue": _first_value(values, decode, "number", "issue"),
            "pages": _PAGE_DASH.sub("-", pages) if pages else None,
            "doi": _first_value(values, decode, "doi"),
            "url": _first_value(values, decode, "url"),
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


class _LatexDecoder:
    """A BibTeX value as text. pylatexenc (through bibtexparser's LaTeX middleware) only for
    values with a command that `_common_latex` does not know: it takes ~1 ms a value, and most
    values hold none. The others get what it would do to them, except that a bare % or & is
    kept (pylatexenc drops the rest of the value after a %, and turns & into spaces)."""

    def __init__(self) -> None:
        self._slow: Any = None

    def __call__(self, value: str) -> str:
        if "\\" not in value:
            return _plain_latex(value)
        text = _common_latex(value)
        if "\\" in _MATH.sub("", text):  # math ($\\kappa$) stays as it is, as pylatexenc keeps it
            if self._slow is None:
                from bibtexparser.middlewares import LatexDecodingMiddleware

                self._slow = LatexDecodingMiddleware()
            return str(self._slow._transform_python_value_string(value)[0])
        return _plain_latex(text)


class _Unenclosing(dict[str, Any]):
    """An entry's fields as the splitter left them; each value read loses its enclosing."""

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key)
        return default if value is None else unenclosed(str(value))


_ENCLOSING_BRACES = re.compile(r"(?<!\\)[{}]")
_ENCLOSING_BRACES_AND_QUOTE = re.compile(r'(?<!\\)[{}"]')


def unenclosed(value: str) -> str:
    """A field's value without the braces or quotes that enclose it whole, as bibtexparser's
    RemoveEnclosingMiddleware strips it (`{intro} # {outro}` is not enclosed whole, and stays)."""
    value = value.strip()
    if len(value) < 2:
        return value
    first, last = value[0], value[-1]
    if first == "{" and last == "}":
        inner = value[1:-1]
        if "{" not in inner and "}" not in inner:
            return value if inner.endswith("\\") else inner
        depth, end = 0, len(value) - 1
        for match in _ENCLOSING_BRACES.finditer(value):
            if match.group() == "{":
                depth += 1
                continue
            depth -= 1
            if depth < 0 or (depth == 0 and match.start() != end):
                return value
        return inner if depth == 0 else value
    if first == '"' and last == '"':
        end = len(value) - 1
        if value.find('"', 1, end) >= 0:
            depth = 0
            for match in _ENCLOSING_BRACES_AND_QUOTE.finditer(value, 1, end):
                char = match.group()
                if char == "{":
                    depth += 1
                elif char == "}":
                    depth = max(depth - 1, 0)
                elif depth == 0:
                    return value
        return value[1:-1]
    return value


# BibTeX's "and" between names, outside braces
_NAME_SEPARATOR = re.compile(r"\s+and\s+", re.IGNORECASE)
# Braces around one word or letter ({\"O}zt{\"u}rk, {Drewokane}) protect nothing a name needs
_BRACED_WORD = re.compile(r"\{([^{}\s\\]*)\}")
# {\"a}, {\o}, {\c S}, {\v{s}}, {\"\i}: one command in braces, which it decodes to one letter
_BRACED_COMMAND = re.compile(r"\{(\\(?:[^{}]|\{[^{}]*\})*)\}")
# biblatex's extended name format: family=Heuvel, given=Charles, prefix=van den, useprefix=false
_NAME_PART = re.compile(r"(?<![\w-])(family|given|prefix|suffix)\s*=\s*(\{[^{}]*\}|[^,]*)", re.IGNORECASE)
_EXTENDED_NAME = re.compile(r"\s*(?:family|given|prefix|suffix)\s*=", re.IGNORECASE)
# A name braced whole is taken literally when it reads as a body, not a person:
# {World Health Organization}, {GBD 2019 Collaborators}, {The ENCODE Project Consortium}
_BODY_NAME = re.compile(
    r"\b(?:organi[sz]ation|association|society|group|consortium|collaborat\w*|committee|council"
    r"|institut\w*|universit\w*|agency|foundation|department|ministry|cent(?:re|er)|network|board"
    r"|commission|office|service|federation|college|academy|alliance|union|project|initiative"
    r"|program(?:me)?|trust|company|inc|ltd|corporation|bureau|investigators|team|working|panel"
    r"|registry|study|trial|force|authors?|editors?)\b",
    re.IGNORECASE,
)


def _first_value(values: Mapping[str, Any], decode: Callable[[str], str], *names: str) -> str | None:
    """The first of the fields `names` that the entry has, decoded."""
    for name in names:
        found = values.get(name)
        if found is not None and found != "":
            return decode(str(found))
    return None


def _bibtex_names(names: str) -> list[tuple[str, str]]:
    """(family, given) of each name in a BibTeX name list, as BibTeX splits them (family: von,
    last and jr parts), with the LaTeX still in them.

    The plain "Family, Given" and "Given Family" are split here, since they are nearly every
    name and bibtexparser's splitter takes ~30 µs a name; names with particles, suffixes or
    braced groups go through bibtexparser's splitter. A name braced whole, which Zotero and
    Better BibTeX write for a single-field name, is a body ({World Health Organization}) or a
    person ({Austin, Claire C}, {Joachim Schöpfel})."""
    names = names.strip()
    if not names:
        return []
    each = _split_persons(names) if "{" in names else _NAME_SEPARATOR.split(names)
    split = [_split_name(name) for name in each]
    return [name for name in split if name is not None]


# " and " between two names: BibTeX's whitespace (space, tab, line ends) around it, then a word
# or an opening brace (a closing one after it joins the names, as in bibtexparser)
_PERSONS_AND = re.compile(r"[ \r\n\t]+[aA][nN][dD][ \r\n\t]+(?=[^ \r\n\t}])")
_BRACE = re.compile(r"[{}]")
_ESCAPE = re.compile(r"\\.?", re.DOTALL)  # a backslash and what it escapes


def _split_persons(names: str) -> list[str]:
    """A name list with braces split where bibtexparser's `split_multiple_persons_names` splits
    it (it takes ~35 µs a list): at each " and " outside braces; a "}" with none open counts
    for nothing, and a backslash and the character after it are passed over unseen."""
    names = names.strip(" \r\n\t")
    if not names:
        return []
    # The text the splitter looks at (escapes taken out), and where its pieces are in `names`:
    # (position in text, characters taken out before it) at each escape.
    text, shifts = names, [(0, 0)]
    if "\\" in names:
        pieces, last, removed = [], 0, 0
        for escape in _ESCAPE.finditer(names):
            pieces.append(names[last : escape.start()])
            removed += escape.end() - escape.start()
            shifts.append((escape.start() - removed + (escape.end() - escape.start()), removed))
            last = escape.end()
        pieces.append(names[last:])
        text = "".join(pieces)

    def in_names(position: int) -> int:
        return position + shifts[bisect_right(shifts, (position, len(names))) - 1][1]

    braces = [(m.start(), m.group()) for m in _BRACE.finditer(text)]
    parts: list[str] = []
    start = looked = depth = 0
    for separator in _PERSONS_AND.finditer(text):
        while looked < len(braces) and braces[looked][0] < separator.start():
            depth = depth + 1 if braces[looked][1] == "{" else max(depth - 1, 0)
            looked += 1
        if depth == 0:
            parts.append(names[start : in_names(separator.start())])
            start = in_names(separator.end())
    parts.append(names[start:])
    return parts


def _split_name(name: str) -> tuple[str, str] | None:
    name = name.strip()
    if _EXTENDED_NAME.match(name):
        parts = {key.lower(): value.strip().strip("{}").strip() for key, value in _NAME_PART.findall(name)}
        family = " ".join(p for p in (parts.get("prefix"), parts.get("family")) if p)
        given = parts.get("given", "")
        # family name and suffix together, as for "Smith, Jr., John"
        return " ".join(p for p in (family, parts.get("suffix")) if p), given
    if "{" in name:
        if "\\" in name:
            name = _common_latex(_BRACED_COMMAND.sub(_braced_command, name))
        name = _unbrace_words(name)
        if name.startswith("{") and name.endswith("}") and _balanced(name[1:-1]):
            inner = name[1:-1].strip()
            if "," not in inner and (_BODY_NAME.search(inner) or _not_a_person(inner)):
                return inner, ""
            name = inner
    plain = _plain_name(name)
    if plain is not None:
        return plain
    from bibtexparser.middlewares.names import InvalidNameError, parse_single_name_into_parts

    try:
        person = parse_single_name_into_parts(name, strict=False)
    except InvalidNameError:
        return None
    return " ".join([*person.von, *person.last, *person.jr]), " ".join(person.first)


def _braced_command(match: re.Match[str]) -> str:
    decoded = _common_latex(match.group(1))
    return match.group(0) if "\\" in decoded else decoded


def _unbrace_words(name: str) -> str:
    while True:
        unbraced = _BRACED_WORD.sub(r"\1", name)
        if unbraced == name:
            return name
        name = unbraced


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += char == "{"
        depth -= char == "}"
        if depth < 0:
            return False
    return depth == 0


# Words that join a body's name and no person's (a person's "van" or "de" is a particle)
_BODY_JOINERS = frozenset({"of", "for", "and", "on", "in", "the", "&"})


def _not_a_person(name: str) -> bool:
    """A name braced whole that no person has: a digit, a joining word (of, for), all capitals,
    or more than four words."""
    words = name.split()
    return (
        len(words) > 4 or any(w[0].isdigit() or w.lower() in _BODY_JOINERS for w in words) or name.isupper()
    )


def _plain_name(name: str) -> tuple[str, str] | None:
    """(family, given) of a name with no braces, particle or suffix; None for any other."""
    if "{" in name or "\\" in name:
        return None
    family, comma, given = name.partition(",")
    if comma:
        if "," in given:
            return None  # von Last, Jr, First
        words = family.split()
        given_words = given.split()
    else:
        words = name.split()
        given_words, words = words[:-1], words[-1:]
    # A word starting in lower case is a particle (von, van der, de), which BibTeX puts in
    # the family name by its own rules.
    if not words:
        return None
    for word in words:
        if not word[0].isupper():
            return None
    for word in given_words:
        if not word[0].isupper():
            return None
    return " ".join(words), " ".join(given_words)


# The accents and letters that .bib files spell in LaTeX (Zotero, Better BibTeX, JabRef)
_LATEX_ACCENTS = {
    '"': "\u0308",
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "u": "\u0306",
    "v": "\u030c",
    "H": "\u030b",
    "c": "\u0327",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
}
_LATEX_LETTERS = {
    "ss": "ß",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
}
_LATEX_ACCENT = re.compile(
    r"\\(?:([\"'`^~=.])\s*|([uvHckrd])(?:\s+|(?=\{)))\{?(\\[ij](?![A-Za-z])|[A-Za-z])\}?"
)
_LATEX_LETTER = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|[oOlLij])(?![A-Za-z])\s?")
_LATEX_STYLE = re.compile(
    r"\\(?:textit|emph|textbf|textrm|textsc|textup|mathrm|textsuperscript|textsubscript)\{([^{}\\]*)\}"
)
_MATH = re.compile(r"\$[^$]*\$")
_LATEX_ESCAPE = re.compile(r"\\([&%_#$])")


def _common_latex(text: str) -> str:
    """Accents, special letters and escaped characters in Unicode: 'G{\\"o}del' -> 'Gödel',
    '\\v{s}' -> 'š', '\\O' -> 'Ø', '\\&' -> '&'. Anything else stays for pylatexenc."""

    def accent(match: re.Match[str]) -> str:
        base = match.group(3)
        base = {"\\i": "i", "\\j": "j"}.get(base, base)
        return base + _LATEX_ACCENTS[match.group(1) or match.group(2)]

    text = _LATEX_ACCENT.sub(accent, text)
    text = _LATEX_LETTER.sub(lambda m: _LATEX_LETTERS[m.group(1)], text)
    text = _LATEX_ESCAPE.sub(r"\1", _LATEX_STYLE.sub(r"\1", text))
    return unicodedata.normalize("NFC", text)


# Anything `_LatexDecoder` changes: a command, a brace, a tie, a dash, TeX quotes
_LATEX_MARK = re.compile(r"[\\{}~`']|--")
_PLAIN_LATEX = (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”"), ("~", " "), ("{", ""), ("}", ""))


def _plain_latex(text: str) -> str:
    """A BibTeX value without LaTeX commands, as text: braces, ties, dashes and quotes."""
    for tex, plain in _PLAIN_LATEX:
        if tex in text:
            text = text.replace(tex, plain)
    return text


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
        et_al = False
        for name in names:
            if _ET_AL.fullmatch(str(name).strip()):  # exocli writes the marker as a last AU
                et_al = True
                continue
            family, _, given = str(name).partition(",")
            authors.append((family.strip(), given.strip()))
        first, last = record.get("start_page"), record.get("end_page")
        pages = f"{first}-{last}" if first and last else first or None
        urls = record.get("urls") or []
        fields = {
            "authors": authors,
            "et_al": et_al,
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
    return [
        (_csl_fields(item), _csl_key(item), 1)
        for item in (data if isinstance(data, list) else [data])
        if isinstance(item, dict)  # detect_format let only objects through
    ]


def _csl_fields(item: Mapping[str, Any]) -> dict[str, Any]:
    """A CSL item's fields (CSL-JSON and CSL-YAML alike)."""
    authors = []
    et_al = False
    names = item.get("author")
    for name in names if isinstance(names, list) else []:
        if not isinstance(name, dict):
            continue
        if name.get("literal") == "others" and not name.get("family"):  # pandoc's "et al."
            et_al = True
            continue
        family = _clean(name.get("family")) or _clean(name.get("literal")) or ""
        particle = _clean(name.get("non-dropping-particle"))  # "de" Groot, "van den" Berg
        if particle and family:
            family = f"{particle} {family}"
        authors.append((family, _clean(name.get("given")) or ""))
    return {
        "authors": authors,
        "et_al": et_al,
        "title": _plain_rich_text(item.get("title")),
        "journal": _plain_rich_text(item.get("container-title-short") or item.get("container-title")),
        "year": _issued_year(item.get("issued")),
        "volume": item.get("volume"),
        "issue": item.get("issue"),
        "pages": item.get("page"),
        "doi": item.get("DOI") or item.get("doi"),
        "url": item.get("URL"),
    }


# CSL-JSON's rich text: <i>, <b>, <sup>, <sub>, <span class="nocase">, <span style=...>
_RICH_TEXT = re.compile(r"</?(?:i|b|sup|sub|span)(?:\s[^<>]*)?>")


def _plain_rich_text(value: Any) -> Any:
    return _RICH_TEXT.sub("", value) if isinstance(value, str) else value


def _csl_key(item: Mapping[str, Any]) -> str | None:
    key = item.get("id") if item.get("id") is not None else item.get("citation-key")
    return _clean(key)


# --- CSL-YAML (pandoc, citeproc, Zotero's "CSL YAML", Quarto and R Markdown) -------------------


def _looks_like_csl_yaml(text: str) -> bool:
    """A YAML `references:` list (alone, or in a Markdown file's front matter), or a bare YAML
    list of items. Decided by shape, so that a file with a YAML mistake is still read as YAML
    and told where the mistake is."""
    block, _ = _yaml_block(text)
    first = _first_content_line(block)
    if _YAML_LIST_ITEM.match(first):
        return True
    return bool(_YAML_KEY_LINE.match(first) and _YAML_REFERENCES.search(block))


def _first_line(text: str) -> str:
    """`text.splitlines()[0]` ("" if none), without splitting a 10,000-entry file whole."""
    head = text[:4096].splitlines()
    if len(head) > 1 or len(text) <= 4096:
        return head[0] if head else ""
    return (text.splitlines() or [""])[0]


def _first_content_line(text: str) -> str:
    """The first line that is neither blank nor a # comment ("" if none)."""
    # Looked for in the first few KB first: a 10,000-entry file need not be split whole.
    for size in (4096, len(text)):
        lines = text[:size].splitlines()
        complete = lines if size >= len(text) else lines[:-1]  # the last may be cut short
        found = next((line for line in complete if line.strip() and not line.startswith("#")), None)
        if found is not None or size >= len(text):
            return found or ""
    return ""


def _yaml_block(text: str) -> tuple[str, int]:
    """The YAML of the file and the number of lines before it: a front matter block between
    `---` and `---` (or `...`) when the file starts with one, else the whole text."""
    if _first_line(text).rstrip() != "---":
        return text, 0
    lines = text.splitlines(keepends=True)
    end = next((n for n, line in enumerate(lines[1:], 1) if line.rstrip() in ("---", "...")), len(lines))
    return "".join(lines[1:end]), 1


def _csl_yaml_items(text: str, source: str) -> list[tuple[dict[str, Any], str | None, int]]:
    import yaml

    block, offset = _yaml_block(text)
    loader = _yaml_loader()(block)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1 + offset}" if mark is not None else source
        raise DataError(f"{where}: not valid YAML ({exc.problem or exc.context or exc})") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{source}: not valid YAML ({exc})") from exc
    except RecursionError as exc:
        raise DataError(f"{source}: nested too deeply to be a bibliography") from exc
    finally:
        loader.dispose()
    if isinstance(data, dict) and "references" in data:
        data = data["references"]
        node = next((v for k, v in reversed(node.value) if getattr(k, "value", None) == "references"), None)
    if not isinstance(data, list):
        raise DataError(f"{source}: not CSL YAML: `references:` is not a list of items")
    nodes = node.value if isinstance(node, yaml.SequenceNode) and len(node.value) == len(data) else []
    lines = [n.start_mark.line + 1 + offset for n in nodes] or [1 + offset] * len(data)
    items: list[tuple[dict[str, Any], str | None, int]] = []
    for item, line in zip(data, lines, strict=True):
        if not isinstance(item, dict):
            raise DataError(f"{source}:{line}: not a CSL item (an item has fields such as id, type, title)")
        fields = _csl_fields(item)
        fields["title"], fields["journal"] = _plain(fields["title"]), _plain(fields["journal"])
        items.append((fields, _csl_key(item), line))
    return items


_MARKUP_TAG = re.compile(r"</?(?:span|i|b|em|strong|sup|sub|sc)\b[^>]*>", re.IGNORECASE)
_EMPHASIS = re.compile(r"(?<![\w*])(\*{1,2})(?=\S)(.+?)(?<=\S)\1(?![\w*])")


def _plain(value: Any) -> Any:
    """CSL-YAML text is Markdown: *Vittaria appalachiana* and <span class="nocase">...</span>
    (what pandoc writes for italics and protected case) as plain text."""
    if not isinstance(value, str):
        return value
    return _EMPHASIS.sub(r"\2", _MARKUP_TAG.sub("", value)).replace("\\*", "*")


def _yaml_loader() -> Any:
    """PyYAML's safe loader with YAML 1.2's booleans, as pandoc reads CSL-YAML: only true and
    false are booleans, so the names No, Yes, On and Off stay names."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    return Loader


# --- plain lists of DOIs ---------------------------------------------------------------------------


def _doi_lines(text: str) -> Iterator[tuple[int, str | None]]:
    """(line, the DOI on it or None) for each line that is not blank or a # comment."""
    for number, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"\s+#.*$", "", line).strip()  # a comment after the DOI (DOIs hold no spaces)
        if line and not line.startswith("#"):
            yield number, try_normalize_doi(line)


def _is_doi_list(text: str) -> bool:
    found = False
    for _, doi in _doi_lines(text):
        if doi is None:
            return False
        found = True
    return found


def _doi_list_items(text: str, source: str) -> list[tuple[dict[str, Any], str | None, int]]:
    seen: dict[str, int] = {}
    items: list[tuple[dict[str, Any], str | None, int]] = []
    for line, doi in _doi_lines(text):
        if doi is None:  # pragma: no cover - detect_format took only lists of DOIs
            raise DataError(f"{source}:{line}: not a DOI")
        if doi_key(doi) in seen:
            items.append(
                ({"repeat": f"DOI {doi} repeats line {seen[doi_key(doi)]}; imported once"}, None, line)
            )
            continue
        seen[doi_key(doi)] = line
        items.append(({"doi": doi, "only_doi": True}, doi_study_key(doi), line))
    return items


def doi_study_key(doi: str) -> str:
    """The key of a study known only by its DOI (doi-10.1371-journal.pone.0005723); it gets
    the usual author-year key when Crossref fills it in (`fill_from_crossref`)."""
    return ("doi-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", doi))[:64].rstrip("-.")


def only_doi(ref: ParsedReference) -> bool:
    """A reference that has its DOI and no other field (a DOI list's entry, not filled in yet)."""
    return (
        ref.kind == "article"
        and bool(ref.doi)
        and not (ref.title or ref.authors or ref.journal or ref.year or ref.volume or ref.pages)
    )


def fill_from_crossref(ws: Workspace, conn: sqlite3.Connection) -> tuple[list[tuple[int, str]], list[str]]:
    """Fill in each reference that has only its DOI from its stored Crossref record.

    Its fields and printed entry come from the record, as for `refs add --doi`. A study whose
    key is still the one made from its DOI, and that no claim cites yet, gets the usual
    author-year key. Returns (number, key) of each reference filled in, and notes on those
    whose record cannot fill them in; a DOI not fetched yet is left for the next `resolve`.
    """
    from exocli.crossref import read_cache, work_path
    from exocli.records import workspace_lock
    from exocli.reference_edits import metadata_from_crossref
    from exocli.store import Change, load_snapshot, write_change
    from exocli.studies import Study, new_key, read_order

    filled: list[tuple[int, str]] = []
    notes: list[str] = []
    with workspace_lock(ws):
        snapshot = load_snapshot(ws)
        waiting = [s for s in snapshot.studies if s.reference.doi and only_doi(s.reference)]
        if not waiting:
            return filled, notes
        works, _ = read_cache(ws, paths=[work_path(ws, s.reference.doi or "") for s in waiting])
        taken = [s.key for s in snapshot.studies]
        studies: dict[str, Study | None] = {}
        before: dict[str, Study | None] = {}
        renamed: dict[str, str] = {}
        for study in waiting:
            ref = study.reference
            assert ref.doi is not None
            message = (works.get(doi_key(ref.doi)) or {}).get("message")
            if not message:
                continue  # not fetched yet, or not in Crossref (`resolve` says which)
            meta = metadata_from_crossref(message)
            fields = {
                "authors": meta.authors,
                "title": meta.title,
                "journal": meta.journal,
                "year": meta.year,
                "volume": meta.volume,
                "issue": meta.issue,
                "pages": meta.pages,
                "doi": ref.doi,
            }
            new = _reference(fields, ref.number or 0)
            if new.kind != "article":
                notes.append(
                    f"reference {ref.number} ({ref.doi}): the Crossref record has no title;"
                    " the reference keeps only its DOI"
                )
                continue
            new.number = ref.number
            key = study.key
            if key == doi_study_key(ref.doi) and not study.claims:
                key = new_key(new, [k for k in taken if k != study.key])
                taken.append(key)
                renamed[study.key] = key
                studies[study.key] = None
            studies[key] = Study(key, new, study.claims)
            before[study.key] = study
            filled.append((ref.number or 0, key))
        if studies:
            order = None
            if renamed:
                order = [renamed.get(k, k) if k is not None else None for k in read_order(ws).keys]
            change = Change(studies=studies, before=before, order=order)
            write_change(ws, conn, change, snapshot.vocabs.pathways)
    return filled, notes


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
