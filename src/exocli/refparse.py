"""Parsing numbered reference lists in the Vancouver / NLM style, and DOIs."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import unquote

# A DOI is "10." + registrant code + "/" + suffix; the suffix may hold almost anything
# (parentheses, angle brackets, semicolons), so only whitespace ends it.
_DOI_CORE = re.compile(r"10\.\d{4,9}/\S+")
_DOI_IN_URL = re.compile(r"10\.\d{4,9}/")
_DOI_PREFIX = re.compile(r"^(?:doi\s*:\s*|doi\s+)", re.IGNORECASE)
_URL = re.compile(r"(?:https?|ftp)://\S+", re.IGNORECASE)
_TRAILING_PUNCT = ".,;:"
_CLOSERS = {")": "(", "]": "[", ">": "<", "}": "{"}


class DoiError(ValueError):
    """The text does not hold a DOI."""


def normalize_doi(text: str) -> str:
    """Return the bare DOI in `text` (no resolver host, no trailing punctuation).

    Accepts bare DOIs, `doi:` prefixes and any http(s) URL whose path holds a DOI
    (doi.org, dx.doi.org, publisher and library proxies). Case is kept; compare
    DOIs with `doi_key`. Raises DoiError when no DOI is found.
    """
    value = unicodedata.normalize("NFC", text).strip()
    value = _DOI_PREFIX.sub("", value)
    if re.match(r"^(?:https?|ftp)://", value, re.IGNORECASE):
        found = _DOI_IN_URL.search(value)
        if not found:
            raise DoiError(f"no DOI in URL {text!r}")
        value = value[found.start() :]
        # cut a query string (?key=value) before decoding, so an encoded %3F stays in the DOI
        if "?" in value and "=" in value.split("?", 1)[1]:
            value = value.split("?", 1)[0]
        value = unquote(value)
    value = _strip_trailing(value)
    if not _DOI_CORE.fullmatch(value):
        raise DoiError(f"not a DOI: {text!r}")
    return value


def _strip_trailing(value: str) -> str:
    """Drop sentence punctuation and unbalanced closing brackets from the end."""
    while value:
        last = value[-1]
        if last in _TRAILING_PUNCT or (last in _CLOSERS and value.count(last) > value.count(_CLOSERS[last])):
            value = value[:-1]
        else:
            break
    return value


def doi_key(doi: str) -> str:
    """DOIs are case-insensitive: compare them by this key."""
    return doi.casefold()


def try_normalize_doi(text: str) -> str | None:
    try:
        return normalize_doi(text)
    except DoiError:
        return None


@dataclass
class Author:
    family: str
    given: str = ""

    def display(self) -> str:
        return f"{self.family}, {self.given}" if self.given else self.family


@dataclass
class ParsedReference:
    """One entry of a reference list. `kind` is article, web or unparsed."""

    raw: str
    number: int | None = None
    kind: str = "article"
    authors: list[Author] = field(default_factory=list)
    et_al: bool = False
    title: str | None = None
    journal: str | None = None
    year: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    url: str | None = None
    problem: str | None = None

    @property
    def first_author(self) -> str | None:
        return self.authors[0].family if self.authors else None


# "Lin M", "Zhao Y-l", "Bond Allison M", "De Lazzari G", "O’Driscoll L"
_INITIALS = r"[A-Z]{1,4}(?:-[A-Za-z]{1,2})?"
_NAME_WORD = r"[^\s,.;:()\[\]0-9]+"
_AUTHOR = rf"{_NAME_WORD}(?: {_NAME_WORD})* {_INITIALS}"
_AUTHOR_LIST = re.compile(rf"(?P<list>{_AUTHOR}(?:, {_AUTHOR})*)(?P<etal>, et al)?")
_ONE_AUTHOR = re.compile(rf"(?P<family>{_NAME_WORD}(?: {_NAME_WORD})*) (?P<initials>{_INITIALS})")
# "Journal. 2019;18:24–5." / "Journal. 2023." / "Journal. 2014;93:S132–44." / "J. 2025;13:e2."
_PUBLICATION = re.compile(
    r"(?:^|(?<=[.?!]))\s+(?P<journal>[^.?!]+?)\.\s+(?P<year>(?:1[5-9]|20)\d\d)"
    # PubMed's month and day after the year: "2016 Dec;", "2020 Jan 5;", "2019 Jul-Aug;"
    r"(?:\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*(?:-[A-Z][a-z]{2,8})?(?:\s+\d{1,2})?)?"
    r"(?:;\s*(?P<volume>[^:;()\s]+)?\s*(?:\((?P<issue>[^)]*)\))?)?"
    r"(?::\s*(?P<pages>[^\s]+?))?\.?\s*$"
)
# "1. ", "1) " or "[1] ": the mark after the number is required, so that a wrapped line
# that happens to start with a figure ("2 rat models ...") stays part of its entry.
_NUMBERED = re.compile(r"^\s*(?:\[(?P<bracketed>\d{1,19})\]\s*|(?P<number>\d{1,19})[.)]\s+)(?P<rest>\S.*)$")
# "1." alone on its line, the entry below it (copies from PDFs)
_NUMBER_ALONE = re.compile(r"^\s*(?:\[(?P<bracketed>\d{1,19})\]|(?P<number>\d{1,19})[.)])\s*$")
# A heading above the list ("References"), skipped; any other text there is not a list.
_HEADING = re.compile(
    r"^\s*(?:\d+\.?\s*)?(?:references?(?: list| cited)?|bibliography|literature cited|works cited)\s*:?\s*$",
    re.IGNORECASE,
)
# What web pages print under each entry ("PubMed Google Scholar", "CrossRef Full Text", ...)
_LINK_LABELS = re.compile(
    r"\[?(?:CrossRef(?: Full Text)?|PubMed(?: Abstract| Central)?|Google Scholar|Green Version|Article|CAS"
    r"|Web of Science|Scopus|MathSciNet|ADS)\]?"
)
MAX_NUMBER = 2**63 - 1  # SQLite's largest integer
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def format_given(initials: str) -> str:
    """'JH' -> 'J. H.', 'M' -> 'M.', 'Y-l' -> 'Y.-l.'"""
    head, _, tail = initials.partition("-")
    given = " ".join(f"{letter}." for letter in head)
    if tail:
        given += "-" + "".join(f"{letter}." for letter in tail)
    return given


def parse_authors(text: str) -> tuple[list[Author], bool]:
    match = _AUTHOR_LIST.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not an author list: {text!r}")
    authors = []
    for piece in match.group("list").split(", "):
        one = _ONE_AUTHOR.fullmatch(piece)
        if one is None:  # pragma: no cover - the list regex guarantees the shape
            raise ValueError(f"not an author: {piece!r}")
        authors.append(Author(one.group("family"), format_given(one.group("initials"))))
    return authors, match.group("etal") is not None


def parse_reference(text: str, number: int | None = None) -> ParsedReference:
    """Parse one reference string. Never raises: what cannot be parsed is kept as unparsed."""
    raw = " ".join(text.split())
    ref = ParsedReference(raw=raw, number=number)
    if not raw:
        ref.kind, ref.problem = "unparsed", "empty reference"
        return ref
    # What Zotero's Vancouver adds: "[Internet]", "[cited 2024 Jan 5]", "Available from: URL"
    body = re.sub(r"\s*\[(?:Internet|cited [^\]]*)\]", "", raw)
    body = re.sub(r"\bAvailable from:\s*", "", body)
    url_match = _last_url(body)
    if url_match:
        url = _strip_trailing(url_match.group(0))
        doi = try_normalize_doi(url)
        if doi:
            ref.doi = doi
        else:
            ref.url = url
        body = body[: url_match.start()].rstrip()
    doi_text = re.search(r"\bdoi\s*:\s*(10\.\d{4,9}/\S+)", body, re.IGNORECASE)
    if doi_text and ref.doi is None:
        ref.doi = try_normalize_doi(doi_text.group(1))
        body = body[: doi_text.start()].rstrip()
    try:
        _parse_body(body, ref)
    except ValueError as exc:
        if ref.url and not ref.doi and not _PUBLICATION.search(" " + body):
            ref.kind = "web"
            ref.title = body.rstrip(". ") or None
        else:
            ref.kind, ref.problem = "unparsed", str(exc)
    return ref


def _last_url(body: str) -> re.Match[str] | None:
    found = None
    for match in _URL.finditer(body):
        found = match
    return found


def _parse_body(body: str, ref: ParsedReference) -> None:
    publication = _PUBLICATION.search(" " + body)
    if publication is None:
        raise ValueError("no 'Journal. Year' part")
    head = (" " + body)[: publication.start()].strip()
    authors_end = _authors_end(head)
    if authors_end is None:
        raise ValueError("no author list before the title")
    authors_text, title = head[:authors_end], head[authors_end + 1 :].strip()
    ref.authors, ref.et_al = parse_authors(authors_text)
    if not title:
        raise ValueError("no title")
    ref.title = title[:-1] if title.endswith(".") else title
    ref.journal = publication.group("journal").strip()
    ref.year = int(publication.group("year"))
    ref.volume = publication.group("volume")
    ref.issue = publication.group("issue")
    ref.pages = publication.group("pages")


def _authors_end(head: str) -> int | None:
    """Index of the period that closes the author list (the first one that fits)."""
    for match in re.finditer(r"\.(?:\s|$)", head):
        if _AUTHOR_LIST.fullmatch(head[: match.start()]):
            return match.start()
    return None


@dataclass
class ReferenceList:
    references: list[ParsedReference]
    problems: list[str]
    lines: dict[int, int] = field(default_factory=dict)  # reference number -> line it starts on


def _is_link_line(line: str) -> bool:
    """A line of link labels only ("PubMed Google Scholar", "Article CAS PubMed")."""
    rest = _LINK_LABELS.sub("", line)
    return rest != line and not rest.strip(" |,;")


def _join(pieces: list[str]) -> str:
    """An entry's lines as one: a line ending in '-' or '/' (a word, URL or DOI broken by the
    line end) joins the next without a space; link labels go."""
    text = ""
    for piece in pieces:
        if text and not (text.endswith(("-", "/")) and not text.endswith((" -", "--"))):
            text += " "
        text += piece
    text = re.sub(r"\s*\[(?:CrossRef|PubMed|Google Scholar|Green Version|PubMed Central)\]", "", text)
    return text.strip()


def parse_reference_list(text: str, source: str = "<input>") -> ReferenceList:
    """Parse a numbered list ("1. ...", "[1] ...", "1) ...", one per line).

    Unnumbered continuation lines are joined to the entry above. A list without any
    numbered line is not a reference list.
    """
    entries: list[tuple[int, int, list[str]]] = []  # (number, line, pieces)
    problems: list[str] = []
    for line_no, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if _CONTROL.search(line):
            # Copies from PDFs carry form feeds and the like: never into the record.
            problems.append(f"{source}:{line_no}: control characters replaced by spaces")
            line = _CONTROL.sub(" ", line)
        line = line.replace("\t", " ")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not entries and _HEADING.match(line):
            continue
        if entries and _is_link_line(line):
            continue
        numbered = _NUMBERED.match(line) or _NUMBER_ALONE.match(line)
        if numbered:
            number = int(numbered.group("number") or numbered.group("bracketed"))
            if number < 1 or number > MAX_NUMBER:
                raise ValueError(
                    f"{source}:{line_no}: reference number {number} is out of range (1 to {MAX_NUMBER})"
                )
            rest = numbered.groupdict().get("rest")
            entries.append((number, line_no, [rest] if rest else []))
        elif entries:
            entries[-1][2].append(line.strip())
        else:
            raise ValueError(f"{source}:{line_no}: expected a numbered reference, got {line.strip()[:60]!r}")
    if not entries:
        raise ValueError(f"{source}: no numbered references found")
    seen: dict[int, int] = {}
    references = []
    for number, line_no, pieces in entries:
        if number in seen:
            raise ValueError(
                f"{source}:{line_no}: reference number {number} repeats (first at line {seen[number]})"
            )
        seen[number] = line_no
        parsed = parse_reference(_join(pieces), number)
        if parsed.kind == "unparsed":
            problems.append(
                f"{source}:{line_no}: reference {number} kept unparsed ({parsed.problem}): {parsed.raw[:80]}"
            )
        references.append(parsed)
    return ReferenceList(references, problems, seen)
