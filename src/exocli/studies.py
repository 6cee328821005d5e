"""The curated record: one text file per cited study, and the order of the review's list.

refs/order.txt names the studies in the review's order: the n-th key is reference n (a
line "-" keeps a number free). refs/studies/KEY.toml holds one study: its reference as
the list prints it, the reference's fields, then the review's claims about it as
[[claim]] blocks. A claim cites the study whose file holds it, so renumbering the list
never moves a claim, and co-authors who change different studies change different files.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exocli.errors import DataError
from exocli.evidence import Claim, Vocabularies, validate_claim
from exocli.fields import LIST_KEYS, RECORD_KEYS
from exocli.refparse import Author, ParsedReference
from exocli.workspace import Workspace

ORDER_HEADER = (
    "# exocli reference list: one study key per line, in the review's order. The n-th key is\n"
    "# reference n; a line '-' keeps a number free. Study KEY is in studies/KEY.toml.\n"
)
STUDY_HEADER = (
    "# exocli study: one cited paper as the review's list gives it, then the review's claims about it.\n"
)
GAP = "-"
KINDS = ("article", "web", "unparsed")
# Order of a study file's reference fields; also the order exocli writes them.
REFERENCE_KEYS = (
    "text",
    "kind",
    "authors",
    "et_al",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "url",
    "problem",
)
TEXT_FIELDS = ("title", "journal", "volume", "issue", "pages", "doi", "url", "problem")
STUDY_CLAIM_KEYS = tuple(key for key in RECORD_KEYS if key != "ref")  # the file is the citation
KEY_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")  # also a file name everywhere
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_JSON_STARTS = frozenset('"[-0123456789tf')
# New claim ids are drawn from here: ids made on two branches almost never meet, and they
# stay above every id a format-1 workspace gave out (its counter started at 1).
CLAIM_ID_RANGE = (10_000_000, 99_999_999)


@dataclass
class Study:
    key: str
    reference: ParsedReference  # its number is the study's place in the order
    claims: list[Claim] = field(default_factory=list)

    @property
    def number(self) -> int | None:
        return self.reference.number


@dataclass
class Order:
    keys: list[str | None]  # keys[n - 1] is reference n; None keeps a number free
    lines: dict[str, int] = field(default_factory=dict)  # key -> its line in the order file

    def numbers(self) -> dict[str, int]:
        return {key: n for n, key in enumerate(self.keys, 1) if key is not None}


# --- the order file -------------------------------------------------------------------------------


def read_order(ws: Workspace) -> Order:
    path = ws.order_path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Order([])
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{ws.relative(path)}: cannot be read ({exc})") from exc
    return parse_order(text, ws.relative(path))


def parse_order(text: str, where: str) -> Order:
    order = Order([])
    folded: dict[str, str] = {}  # keys differ in more than case: they are also file names
    for line_number, line in enumerate(text.splitlines(), 1):
        key = line.strip()
        if not key or key.startswith("#"):
            continue
        if key == GAP:
            order.keys.append(None)
            continue
        if not KEY_PATTERN.match(key):
            raise DataError(
                f"{where}:{line_number}: {key[:60]!r} is not a study key (a letter, then letters,"
                " digits or _ . -; at most 64)"
            )
        earlier = folded.get(key.casefold())
        if earlier is not None:
            raise DataError(
                f"{where}:{line_number}: study {key!r} is already reference"
                f" {order.keys.index(earlier) + 1} (line {order.lines[earlier]})"
            )
        folded[key.casefold()] = key
        order.keys.append(key)
        order.lines[key] = line_number
    while order.keys and order.keys[-1] is None:
        order.keys.pop()  # a free number at the end is no number
    return order


def format_order(keys: Sequence[str | None]) -> str:
    keys = list(keys)
    while keys and keys[-1] is None:
        keys.pop()
    return ORDER_HEADER + "".join(f"{key or GAP}\n" for key in keys)


# --- study files ----------------------------------------------------------------------------------


def author_text(author: Author) -> str:
    return f"{author.family}, {author.given}" if author.given else author.family


def parse_author(text: str) -> Author:
    family, _, given = text.partition(",")
    return Author(family.strip(), given.strip())


def reference_entry(ref: ParsedReference) -> dict[str, Any]:
    """A reference as its study file holds it (absent fields are left out)."""
    entry: dict[str, Any] = {"text": ref.raw, "kind": ref.kind}
    if ref.authors:
        entry["authors"] = [author_text(a) for a in ref.authors]
    if ref.et_al:
        entry["et_al"] = True
    if ref.year is not None:
        entry["year"] = ref.year
    for key in TEXT_FIELDS:
        value = getattr(ref, key)
        if value is not None:
            entry[key] = value
    return {key: entry[key] for key in REFERENCE_KEYS if key in entry}


def format_study(study: Study) -> str:
    from exocli.records import claim_entry, toml_value

    lines = [STUDY_HEADER.rstrip("\n")]
    lines += [f"{key} = {toml_value(value)}" for key, value in reference_entry(study.reference).items()]
    for claim in study.claims:
        lines += ["", "[[claim]]"]
        entry = claim_entry(claim)
        for key in STUDY_CLAIM_KEYS:
            value = entry.get(key)
            if value is None:
                continue
            lines.append(f"{key} = {toml_value(list(value) if key in LIST_KEYS else value)}")
    return "\n".join(lines) + "\n"


def _fast_document(text: str) -> dict[str, Any] | None:
    """exocli's own layout read as JSON (its values are JSON too); None: use tomllib."""
    head: list[str] = []
    blocks: list[str] = []
    fields: list[str] | None = None
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        if line == "[[claim]]":
            if fields is not None:
                blocks.append("{" + ",".join(fields) + "}")
            fields = []
            continue
        key, separator, value = line.partition(" = ")
        known = REFERENCE_KEYS if fields is None else STUDY_CLAIM_KEYS
        if not separator or key not in known or not value or value[0] not in _JSON_STARTS:
            return None
        (head if fields is None else fields).append(f'"{key}":{value}')
    if fields is not None:
        blocks.append("{" + ",".join(fields) + "}")
    try:
        document = json.loads("{" + ",".join(head) + ',"claim":[' + ",".join(blocks) + "]}")
    except (json.JSONDecodeError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def parse_study(text: str, where: str, key: str, number: int | None, vocabs: Vocabularies) -> Study:
    """One study file, validated; the first problem stops it with file:line."""
    document = _fast_document(text)
    if document is None:
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise DataError(toml_problem(where, text, exc)) from exc
        except RecursionError as exc:
            raise DataError(f"{where}: nested too deeply to be a study file") from exc
    lines = text.splitlines()
    entries = document.pop("claim", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise DataError(f"{where}: 'claim' must be an array of tables ([[claim]])")
    try:
        reference = reference_from_entry(document, number)
    except DataError as exc:
        field_name = str(exc).split(":", 1)[0].strip("'")
        raise DataError(f"{where}:{_field_line(lines, 0, field_name)}: {exc}") from exc
    headers = [n for n, line in enumerate(lines, 1) if line.strip() == "[[claim]]"]
    claims: list[Claim] = []
    seen: dict[int, int] = {}
    for position, entry in enumerate(entries):
        start = headers[position] if position < len(headers) else 0
        if "ref" in entry:
            raise DataError(
                f"{where}:{_field_line(lines, start, 'ref')}: claim {entry.get('id', '?')}: no 'ref' here:"
                " a claim cites the study whose file holds it (`exocli claims edit ID --ref N` moves it)"
            )
        try:
            claim = validate_claim({**entry, "ref": number}, vocabs, None, record=True)
        except DataError as exc:
            field_name = str(exc).split(":", 1)[0].strip("'")
            line = _field_line(lines, start, field_name)
            raise DataError(f"{where}:{line}: claim {entry.get('id', '?')}: {exc}") from exc
        if claim.id in seen:
            raise DataError(f"{where}:{start}: claim id {claim.id} repeats (first at line {seen[claim.id]})")
        seen[claim.id] = start
        claims.append(claim)
    return Study(key, reference, claims)


def read_toml(ws: Workspace, path: Path) -> dict[str, Any]:
    """A TOML file of the record (a saved search, a candidate) as its table; a file that
    cannot be read or parsed is a DataError naming it (and the line). A missing file raises
    FileNotFoundError, for the caller to say what is missing."""
    where = ws.relative(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: cannot be read ({exc})") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(toml_problem(where, text, exc)) from exc
    except RecursionError as exc:
        raise DataError(f"{where}: nested too deeply to be read") from exc


def toml_problem(where: str, text: str, exc: Exception) -> str:
    """'FILE:LINE: not valid TOML (...)', naming a merge conflict left in the file."""
    found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    line = int(found.group(1)) if found else 0
    lines = text.splitlines()
    for number, content in enumerate(lines, 1):
        if content.startswith(("<<<<<<< ", "=======", ">>>>>>> ")) and content.rstrip() in (
            content,
            "=======",
        ):
            return (
                f"{where}:{number}: a git merge conflict is left in the file; keep one side,"
                " delete the <<<<<<< ======= >>>>>>> lines, then run the command again"
            )
    return f"{where}:{line}: not valid TOML ({message})" if line else f"{where}: not valid TOML ({message})"


def reference_from_entry(entry: Mapping[str, Any], number: int | None) -> ParsedReference:
    unknown = [key for key in entry if key not in REFERENCE_KEYS]
    if unknown:
        raise DataError(f"{unknown[0]}: unknown field (a study's fields are {', '.join(REFERENCE_KEYS)})")
    raw = entry.get("text")
    if not isinstance(raw, str) or not raw.strip():
        raise DataError("text: the reference as the review's list prints it is missing")
    kind = entry.get("kind", "article")
    if kind not in KINDS:
        raise DataError(f"kind: must be one of {', '.join(KINDS)}, not {kind!r}")
    authors = entry.get("authors", [])
    if not isinstance(authors, list) or not all(isinstance(a, str) and a.strip() for a in authors):
        raise DataError('authors: must be a list of "Family, Given" names')
    et_al = entry.get("et_al", False)
    if not isinstance(et_al, bool):
        raise DataError(f"et_al: must be true or false, not {et_al!r}")
    year = entry.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool) or not 0 < year < 10000):
        raise DataError(f"year: must be a year, not {year!r}")
    values: dict[str, str | None] = {}
    for key in TEXT_FIELDS:
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise DataError(f"{key}: must be text, not {value!r}")
        values[key] = value
    for key, value in (("text", raw), *values.items(), *(("authors", a) for a in authors)):
        if value is not None and _CONTROL.search(value):
            raise DataError(f"{key}: control characters are not allowed")
    return ParsedReference(
        raw=raw,
        number=number,
        kind=kind,
        authors=[parse_author(a) for a in authors],
        et_al=et_al,
        year=year,
        **values,
    )


def _field_line(lines: list[str], start: int, field_name: str) -> int:
    """The line of `field_name = ...` in the block from `start` (0: the reference part)."""
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped == "[[claim]]" and index + 1 != start:
            break
        if stripped.startswith(f"{field_name} ") or stripped.startswith(f"{field_name}="):
            return index + 1
    return max(start, 1)


def read_study(ws: Workspace, key: str, number: int | None, vocabs: Vocabularies) -> Study:
    path = ws.study_path(key)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(f"{ws.relative(path)}: no such study file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{ws.relative(path)}: cannot be read ({exc})") from exc
    return parse_study(text, ws.relative(path), key, number, vocabs)


def load_record(ws: Workspace, vocabs: Vocabularies) -> list[Study]:
    """Every study, in the list's order, checked against the order file and each other."""
    order = read_order(ws)
    numbers = order.numbers()
    where = ws.relative(ws.order_path)
    files = {path.stem: path for path in ws.study_files()}
    for stem, path in files.items():
        if stem not in numbers:
            if not KEY_PATTERN.match(stem):
                raise DataError(f"{ws.relative(path)}: {stem!r} is not a study key, so not a study file name")
            raise DataError(
                f"{ws.relative(path)}: study {stem!r} is not in {where}; add its key there (its place"
                " is its number) or remove the file"
            )
    studies = []
    first: dict[int, str] = {}
    for key, number in numbers.items():
        if key not in files:
            raise DataError(
                f"{where}:{order.lines[key]}: names study {key!r}, but"
                f" {ws.relative(ws.study_path(key))} does not exist"
            )
        study = read_study(ws, key, number, vocabs)
        for claim in study.claims:
            if claim.id in first:
                raise DataError(
                    f"{ws.relative(ws.study_path(key))}: claim id {claim.id} is also in"
                    f" {ws.relative(ws.study_path(first[claim.id]))} (made on two branches?); give"
                    f" one of them another id by hand: any whole number no claim has"
                )
            first[claim.id] = key
        studies.append(study)
    return studies


# --- identities -----------------------------------------------------------------------------------


class KeySet:
    """Study keys in use, compared without case (a key is a file name, and file systems may
    ignore case). Kept across the entries of one import: checking each new key against a
    fresh set of every key made 10,000 new keys take seconds."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._folded = {key.casefold() for key in keys}

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.casefold() in self._folded

    def add(self, key: str) -> None:
        self._folded.add(key.casefold())


def new_key(ref: ParsedReference, taken: Iterable[str] | KeySet) -> str:
    """A new study key: family name + year + first title word, with a, b, ... when taken."""
    from exocli.citekeys import base_key, letter_suffix

    used = taken if isinstance(taken, KeySet) else KeySet(taken)
    base = base_key(ref)
    candidate, index = base, 0
    while candidate in used:
        candidate = base + letter_suffix(index)
        index += 1
    return candidate


def new_claim_id(taken: Container[int]) -> int:
    """A random id (see CLAIM_ID_RANGE) that no claim of the workspace has."""
    import secrets

    low, high = CLAIM_ID_RANGE
    while True:
        candidate = low + secrets.randbelow(high - low + 1)
        if candidate not in taken:
            return candidate


def check_key(key: str) -> None:
    from exocli.errors import UsageError

    if not KEY_PATTERN.match(key):
        raise UsageError(f"{key!r} is not a usable key (a letter, then letters, digits or _ . -; at most 64)")
