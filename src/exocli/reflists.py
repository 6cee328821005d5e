"""Splitting a printed reference list into its entries.

Numbered lists ("1.", "[1]", "1)", "(1)", the number alone on its line as PDFs give it),
bulleted lists, and author-year lists (Cell, APA, SfN) where an entry runs over several
lines. Copies from PDFs and web pages bring line-end hyphens, broken DOIs, link lines and
page furniture; what cannot be read is kept, unparsed, with its line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

from exocli.refparse import BRACKETED_LINK, LINK_LABEL, ParsedReference, parse_reference

MAX_NUMBER = 2**63 - 1  # SQLite's largest integer
PARALLEL_MINIMUM = 1000  # entries: a list this long is parsed on every core
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# The number marks of numbered lists; the text after the mark may be on the next line.
# (`rest` runs greedily to the last non-space: a lazy `.*?` before `\s*$` retries the end at
# every character of a long entry.)
_MARKS = {
    "bracket": re.compile(r"^\s*\[(?P<number>\d{1,19})\]\s*(?P<rest>(?:.*\S)?)\s*$"),
    "dot": re.compile(r"^\s*(?P<number>\d{1,19})\.(?:\s+(?P<rest>\S(?:.*\S)?))?\s*$"),
    "paren": re.compile(r"^\s*(?P<number>\d{1,19})\)(?:\s+(?P<rest>\S(?:.*\S)?))?\s*$"),
    "parenthesised": re.compile(r"^\s*\((?P<number>\d{1,19})\)(?:\s+(?P<rest>\S(?:.*\S)?))?\s*$"),
}
_BULLET = re.compile(r"^\s*[*•▪◦·‣-]\s+(?P<rest>\S(?:.*\S)?)\s*$")
# A heading above the list ("References", "■ REFERENCES", "## References"), skipped.
_HEADING = re.compile(
    r"^\W*(?:\d+\.?\s*)?(?:references?(?: list| cited)?|bibliography|literature cited|works cited|notes and references)"
    r"\W*$",
    re.IGNORECASE,
)
# What web pages print under each entry ("PubMed Google Scholar", "[Crossref], [PubMed]", ...)
_LINK_LABELS = re.compile(rf"\[?{LINK_LABEL}\]?")
_MARKDOWN_LINK = re.compile(rf"\[(?P<label>{LINK_LABEL})\]\((?P<url>[^)\s]+)\)")
# A line that starts an author-year entry: "Barthold, S.W.", "Anderson MJ, ...", "Antkowiak B (2001)"
_WORD = r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*"
_AUTHOR_START = re.compile(
    rf"^(?:(?:{_WORD} ){{0,3}}{_WORD}, (?:[A-Z][a-z]?\.|[A-Z][a-z]+[ ,])"
    rf"|(?:{_WORD} ){{0,3}}{_WORD} [A-Z]{{1,3}}(?:[,(]| \(|$| [A-Z][a-z]| et al)"
    rf"|[A-Z]\.(?: ?[A-Z]\.)* (?:{_WORD} ){{0,3}}{_WORD}[,.])"
)
_ENTRY_END = re.compile(
    r"(?:[.!?)\]]|\b(?:CrossRef|Medline|PubMed|Google Scholar)|10\.\d{4,9}/\S+|https?://\S+)$"
)
# The year of an author-year entry: "(2004)", "(2020a)", "2004." after the authors
_YEAR_NEAR_START = re.compile(r"\((?:1[6-9]|20)\d\d[a-z]?\)|[.,] (?:1[6-9]|20)\d\d[a-z]?\. ")
# ... or of a numbered style copied without its numbers: "Ther. 2021;12:102", "Ther. 2021, 12, 102",
# "Stroke. 2024 Jan;55", counted only after two sentence ends (authors, title) so that a
# wrapped "N Engl J Med. 2005;353" stays in its entry
_NUMBERED_STYLE_YEAR = re.compile(r"[.,] (?:1[6-9]|20)\d\d(?:[;:,]| [A-Z][a-z]{2}\b)")
# A line ending in a web copy's bracketed links ("... 2017, 3, 17018. [Google Scholar] [CrossRef]")
_ENDS_IN_LINKS = re.compile(rf"\[{LINK_LABEL}\]$")
_LIST_GOES_ON = re.compile(r"(?:,|\band|&|-)$")  # an author list (or a word) wrapped at the line end
_HEAD_YEAR = re.compile(r"\((?:1[6-9]|20)\d\d[a-z]?\)")
# Word starts that keep their hyphen at a line end ("anti-/inflammatory"); other
# lowercase words split by the line end are joined ("neu-/ronal").
_PREFIXES = frozenset(
    "anti non pre post co self cross multi semi well long short high low double single cell stem time dose age "
    "sex gene small large wide drug auto meta mono bi tri poly sub super ultra intra inter extra trans "
    "x t b".split()
)


@dataclass
class ReferenceList:
    references: list[ParsedReference]
    problems: list[str]
    lines: dict[int, int] = field(default_factory=dict)  # reference number -> line it starts on


@dataclass
class _Entry:
    number: int
    line: int
    pieces: list[str]
    # from a web page, with a link line under it: each line is a block of the page (authors,
    # title, journal on lines of their own on ScienceDirect), never a line wrapped by a PDF
    web: bool = False


def _is_link_line(line: str) -> bool:
    """A line of link labels only ("PubMed Google Scholar", "Article CAS PubMed")."""
    rest = _LINK_LABELS.sub("", _MARKDOWN_LINK.sub("", line))
    return rest != line and not rest.strip(" |,;")


def _ends_an_entry(line: str) -> bool:
    """A link line that web copies print under each entry: not a word a page head may print
    alone ("Article", the furniture of a Cell Press PDF)."""
    return _is_link_line(line) and line.strip(" []|") not in ("Article", "Abstract", "Full Text", "CAS")


def _web_links(line: str) -> str:
    """Markdown link labels of a web copy: a DOI link keeps its URL, the others go."""

    def keep(match: re.Match[str]) -> str:
        url = match.group("url")
        return f" {url} " if re.search(r"doi\.org/10\.|/doi/10\.", url) else " "

    return _MARKDOWN_LINK.sub(keep, line)


def _join(pieces: list[str], whole: str, web: bool = False) -> str:
    """An entry's lines as one. A line-end hyphen inside a lowercase word goes ("neu-/ronal"),
    unless the word is hyphenated elsewhere in the list or starts with a common prefix; a line
    ending in '-' or '/' otherwise joins without a space (a DOI or URL broken by the line end).
    The blocks of a web entry are sentences: a block that ends without a mark gets a point."""
    text = ""
    if web and len(pieces) > 2 and _CITATION_LABEL.match(pieces[0]) and _GIVEN_FIRST_BLOCK.match(pieces[1]):
        pieces = pieces[1:]  # ScienceDirect's "Ahuja et al., 2017" above an author-year entry
    for piece in pieces:
        if not text:
            text = piece
            continue
        # (a lowercase word before a lowercase one is a sentence wrapped all the same, as in a
        # PDF printed from the page)
        if web and not _BLOCK_END.search(text) and not (text[-1].islower() and piece[0].islower()):
            # ScienceDirect prints its authors given names first and ends them with a comma in
            # its printed lists ("M.G. Fehlings, Traumatic ..."): "Fehlings." would read as an initial
            text += (", " if text == pieces[0] and _GIVEN_FIRST_BLOCK.match(text) else ". ") + piece
            continue
        if text.endswith("-") and not text.endswith((" -", "--")):
            word = re.search(r"([^\W\d_]+)-$", text)
            nxt = re.match(r"([^\W\d_]+)", piece)
            if word and nxt and word.group(1)[-1].islower() and nxt.group(1)[0].islower():
                joined, hyphenated = word.group(1) + nxt.group(1), f"{word.group(1)}-{nxt.group(1)}"
                keep = hyphenated in whole or word.group(1).casefold() in _PREFIXES
                if joined in whole.replace("-\n", "\n"):
                    keep = hyphenated in whole.replace("-\n", "")
                text = text + piece if keep else text[:-1] + piece
            else:
                text += piece
        elif text.endswith("/") or (re.search(r"https?://[^/\s]*\.$", text) and piece[:1].islower()):
            text += piece
        else:
            text += " " + piece
    text = BRACKETED_LINK.sub("", text)
    return text.strip()


_BLOCK_END = re.compile(r"[.,;:?!)\]\-/]$")
_GIVEN_FIRST_BLOCK = re.compile(r"(?:[A-Z][a-z]?\.[ -]?)+ ?[^\W\d_]")  # "C.S. Ahuja", "M.-H. Wu"
_CITATION_LABEL = re.compile(
    r"[^\W\d_][\w'’ -]*(?: et al\.| and [^\W\d_][\w'’-]*)?,? (?:1[6-9]|20)\d\d[a-z]?$"
)


def _lines(text: str, source: str, problems: list[str]) -> list[tuple[int, str]]:
    lines = []
    for line_no, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue  # a comment, or a Markdown heading ("## References")
        if _CONTROL.search(line):
            # Copies from PDFs carry form feeds and the like: never into the record.
            problems.append(f"{source}:{line_no}: control characters replaced by spaces")
            line = _CONTROL.sub(" ", line)
        line = _web_links(line.replace("\t", " ")).strip()
        if line:
            lines.append((line_no, line))
    return lines


def _mark(line: str) -> tuple[str, re.Match[str]] | None:
    for kind, pattern in _MARKS.items():
        match = pattern.match(line)
        if match:
            return kind, match
    return None


def parse_reference_list(text: str, source: str = "<input>") -> ReferenceList:
    """Split a printed list into entries and parse each one.

    Never refuses a list for being hard: an entry that cannot be read is kept, unparsed, and
    reported with its line. Raises ValueError for text that holds no entry at all and for a
    reference number that repeats.
    """
    problems: list[str] = []
    lines = [(n, line) for n, line in _lines(text, source, problems) if not line.startswith("<!--")]
    kind = _numbering(lines)
    # In a numbered list the marks find the entries; short repeated lines may be an entry's own
    # (Zotero's one word per line), so only the known shapes of furniture go.
    lines = _without_page_furniture(lines, repeated=kind is None)
    bullets = sum(bool(_BULLET.match(line)) for _, line in lines)
    if kind and sum(bool(_MARKS[kind].match(line)) for _, line in lines) >= bullets:
        entries = _numbered_entries(lines, kind, source, problems)
    elif bullets:
        entries = _marked_entries(lines, _BULLET, source, problems)
    else:
        entries = _author_year_entries(lines)
    if not entries:
        raise ValueError(f"{source}: no references found (the text is empty)")
    seen: dict[int, int] = {}
    references = []
    for entry, parsed in zip(entries, _parse_entries(entries, text), strict=True):
        seen[entry.number] = entry.line
        if parsed.kind == "unparsed":
            problems.append(
                f"{source}:{entry.line}: reference {entry.number} kept unparsed ({parsed.problem}):"
                f" {parsed.raw[:80]}"
            )
        references.append(parsed)
    return ReferenceList(references, problems, seen)


def _parse_entries(entries: list[_Entry], text: str) -> list[ParsedReference]:
    """Each entry parsed; thousands of them on every core (see exocli.parallel)."""
    from exocli.parallel import parallel_map, spans

    def parse(span: range) -> list[ParsedReference]:
        return [
            parse_reference(_join(entries[i].pieces, text, entries[i].web), entries[i].number) for i in span
        ]

    from exocli.refparse import reference_rows, references_from_rows

    parts = parallel_map(
        parse, spans(len(entries), PARALLEL_MINIMUM), send=reference_rows, receive=references_from_rows
    )
    return [ref for part in parts for ref in part]


def _numbering(lines: list[tuple[int, str]]) -> str | None:
    """The list's number mark: the kind whose numbers count up one by one most often, then the
    commonest, then the first. None for an author-year list, where a line may start with "19."
    and mean a volume: there the marks neither count up nor make half the lines."""
    best: tuple[int, int, int] | None = None
    chosen = None
    for kind, pattern in _MARKS.items():
        found = [
            (i, int(m.group("number"))) for i, (_, line) in enumerate(lines) if (m := pattern.match(line))
        ]
        if not found:
            continue
        numbers = [n for _, n in found]
        steps = sum(b == a + 1 for a, b in pairwise(numbers))
        if steps * 2 < len(numbers) - 1 and len(numbers) * 2 < len(lines):
            continue
        if len(numbers) == 1 and found[0][0] > 1 and len(lines) > 2:
            continue  # one mark, down the list: "1620." ending a wrapped entry, not a numbered list
        score = (steps, len(numbers), -found[0][0])
        if best is None or score > best:
            best, chosen = score, kind
    return chosen


# Running heads and footers that PDFs print on every page, in the list's flow, and the buttons
# a web page prints after its list ("Download references"): whole lines, and marks anywhere in
# one (looked for only in lines that hold their words)
_FURNITURE_LINE = re.compile(
    r"(?:Page \d+|\d+ of \d+|Download (?:references|citation|PDF)|Reprints and [Pp]ermissions|Back to top"
    r"|[\w-]+\.(?:org|com)|(?:[A-Z][a-z]+/)?[A-Z][a-z]+ \d{4}, \d+\(\d+\) \S+"
    r"|[^\W\d_][\w'’-]* et al\. [^()]+ \((?:19|20)\d\d\) \d+:\d+)$"  # BMC: "Khatri et al. Stem Cell Research & Therapy (2018) 9:17"
)
_FURNITURE_MARK = re.compile(
    r"\bPage \d+ of \d+$|\bet al\.,? Page \d+$|[Aa]uthor [Mm]anuscript|available in PMC \d{4}"
)


def _is_furniture(line: str) -> bool:
    if _FURNITURE_LINE.match(line):
        return True
    return ("Page " in line or "uthor " in line or "PMC " in line) and bool(_FURNITURE_MARK.search(line))


def _without_page_furniture(lines: list[tuple[int, str]], repeated: bool) -> list[tuple[int, str]]:
    """Drop the running heads and footers a PDF prints on every page ("Khatri et al. Stem Cell
    Research & Therapy (2018) 9:17 Page 12 of 13", "13 of 14", "OPEN ACCESS"): lines of their
    known shapes, and short lines without a full stop that recur with only their numbers changed."""

    def shape(line: str) -> str:
        return re.sub(r"\d+", "#", line)

    def short(line: str) -> bool:
        # link lines recur too, but they end entries (see _author_year_entries)
        return (
            len(line.split()) <= 6 and not line.endswith(".") and not _mark(line) and not _ends_an_entry(line)
        )

    repeats = Counter(shape(line) for _, line in lines if short(line)) if repeated else Counter()
    return [
        (n, line)
        for n, line in lines
        if not _is_furniture(line) and not (short(line) and repeats[shape(line)] >= 2)
    ]


def _skip_before_first(line_no: int, line: str, source: str, problems: list[str]) -> None:
    if not _HEADING.match(line) and not line.startswith("#"):
        problems.append(f"{source}:{line_no}: text before the first reference skipped: {line[:60]!r}")


def _numbered_entries(
    lines: list[tuple[int, str]], kind: str, source: str, problems: list[str]
) -> list[_Entry]:
    """Entries start at the list's own number mark; a mark of another kind, or a number far
    past the last one (a year alone on its line), continues the entry above."""
    entries: list[_Entry] = []
    seen: dict[int, int] = {}
    pattern = _MARKS[kind]
    for line_no, line in lines:
        match = pattern.match(line)
        if match is None and (other := _mark(line)):
            # another kind of mark starts an entry only as the next number ("1." then "[2]");
            # otherwise it is text of the entry above ("6." ending a broken DOI)
            expected = entries[-1].number + 1 if entries else 1
            match = other[1] if int(other[1].group("number")) == expected else None
        if match:
            number = int(match.group("number"))
            last = entries[-1].number if entries else None
            if number < 1 or number > MAX_NUMBER:
                if entries and number == 0:
                    match = None
                else:
                    raise ValueError(
                        f"{source}:{line_no}: reference number {number} is out of range (1 to {MAX_NUMBER})"
                    )
            elif last is not None and number > last + 50 and not match.group("rest"):
                match = None  # "2008." alone on its line: a year of the entry above
        if match:
            number = int(match.group("number"))
            if number in seen:
                raise ValueError(
                    f"{source}:{line_no}: reference number {number} repeats (first at line {seen[number]})"
                )
            seen[number] = line_no
            rest = match.group("rest")
            entries.append(_Entry(number, line_no, [rest] if rest else []))
        elif not entries:
            _skip_before_first(line_no, line, source, problems)
        elif not _is_link_line(line):
            entries[-1].pieces.append(line)
        elif _ends_an_entry(line):
            entries[-1].web = True
    return entries


def _marked_entries(
    lines: list[tuple[int, str]], pattern: re.Pattern[str], source: str, problems: list[str]
) -> list[_Entry]:
    entries: list[_Entry] = []
    for line_no, line in lines:
        match = pattern.match(line)
        if match:
            entries.append(_Entry(len(entries) + 1, line_no, [match.group("rest")]))
        elif not entries:
            _skip_before_first(line_no, line, source, problems)
        elif not _is_link_line(line):
            entries[-1].pieces.append(line)
        elif _ends_an_entry(line):
            entries[-1].web = True
    return entries


def _reads_as_an_entry(chunk: str, ahead: str) -> bool:
    """Authors, then a year where a reference puts it (not a wrapped line of the entry above).
    `chunk` runs to the next line that could start an entry, `ahead` on past it (that line may
    be a wrapped journal line, "N Engl J Med. 2005;353:1374-85.")."""
    if _YEAR_NEAR_START.search(chunk[:400]):
        return True
    year = _NUMBERED_STYLE_YEAR.search(ahead, 0, 600)
    return year is not None and ahead.count(". ", 0, year.start()) >= 2


def _author_year_entries(lines: list[tuple[int, str]]) -> list[_Entry]:
    """An unnumbered list: a new entry where the line above ended one, this line starts with an
    author, and a year follows before the next such line (so that a wrapped line starting with
    a journal, "J. Virol. 82, 755-763.", stays in its entry)."""
    while lines and _HEADING.match(lines[0][1]):
        lines = lines[1:]
    # A web copy prints a link line under every entry ("ArticlePubMedGoogle Scholar" on a
    # Springer page, whose numbers are not copied): the line after one starts the next entry,
    # in any style.
    text_lines: list[tuple[int, str]] = []
    after_links: set[int] = set()
    for line_no, line in lines:
        if _is_link_line(line):
            if _ends_an_entry(line):
                after_links.add(len(text_lines))
        else:
            text_lines.append((line_no, line))
            if _ENDS_IN_LINKS.search(line):
                after_links.add(len(text_lines))
    lines = text_lines
    if not lines:
        return []
    starts = [0] + [
        i
        for i in range(1, len(lines))
        if i in after_links
        or (
            _AUTHOR_START.match(lines[i][1])
            and (
                _ENTRY_END.search(lines[i - 1][1])
                or " " not in lines[i - 1][1]
                or (_HEAD_YEAR.search(lines[i][1]) and not _LIST_GOES_ON.search(lines[i - 1][1]))
            )
        )
    ]
    kept: list[int] = []
    for position, start in enumerate(starts):
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        chunk = " ".join(line for _, line in lines[start:end])
        ahead = chunk
        for _, line in lines[end : end + 8]:
            if len(ahead) >= 600:
                break
            ahead += " " + line
        if not kept or start in after_links or _reads_as_an_entry(chunk, ahead):
            kept.append(start)
    ends = sorted(i for i in after_links if 0 < i <= len(lines))
    if len(ends) >= 2 and len(ends) * 2 >= len(kept):
        # links under (nearly) every entry: they alone end entries, as a line that merely looks
        # like a start inside one ("J. Neurotrauma, 34 (2017), pp. 3388-3396") would split it
        kept = [0, *(i for i in ends if i < len(lines))]
    entries = []
    for position, start in enumerate(kept):
        end = kept[position + 1] if position + 1 < len(kept) else len(lines)
        pieces = [line for _, line in lines[start:end]]
        entries.append(_Entry(position + 1, lines[start][0], pieces, web=end in after_links))
    return entries
