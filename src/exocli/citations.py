"""Citations in a manuscript's prose: every form authors write, found with their spans.

Numbered: `[12]`, `[12, 13]`, `[12–15]`, `[3, 6, 10,11,12]`, `(12)` (only where the
manuscript cites in parentheses) and superscripts (the .docx reader gives those as spans).
Keys: pandoc `[@key]`, `[@a; @b, p. 3]`, in-text `@key`, and LaTeX `\\cite{a,b}` with its
natbib/biblatex variants. Author-year: `(Wang et al., 2023)`, `(Li and Chen 2020; Wang
2021a)` and narrative `Wang et al. (2023)`. Nothing here knows the reference list:
`resolve_citations` matches what was found to it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

NUMBERED = "numbered"
KEYS = "keys"
AUTHOR_YEAR = "author-year"

_DASH = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_RANGE = rf"\d{{1,4}}(?:\s*[{_DASH}]\s*\d{{1,4}})?"
_LIST = rf"{_RANGE}(?:\s*[,;]\s*{_RANGE})*"
_LOCATOR = r"(?:\s*,\s*(?:pp?\.|p|chapter|ch\.|fig\.|table)\s*[\w\u2013-]+)?"
_BRACKETS = re.compile(rf"\[\s*({_LIST}){_LOCATOR}\s*\]")
_PARENTHESES = re.compile(rf"(?<![\w=<>±])\(\s*({_LIST})\s*\)")
# pandoc: a bracketed group with at least one @key; keys may hold :.#$%&-+?<>~/ inside
_KEY = r"[A-Za-z0-9_][\w:.#$%&+?<>~/-]*[\w]|[A-Za-z0-9_]"
_PANDOC_GROUP = re.compile(rf"\[([^\[\]]*?-?@(?:{_KEY})[^\[\]]*)\]")
_PANDOC_KEY = re.compile(rf"(?<![\w@])-?@({_KEY})")
_LATEX_CITE = re.compile(
    r"\\(?:[Cc]ite[a-z]*|[Pp]arencite|[Tt]extcite|[Aa]utocite|[Ff]ootcite[a-z]*|[Ss]upercite|[Ss]martcite)\*?"
    r"(?:\s*\[[^\]]*\]){0,2}\s*\{([^{}]*)\}"
)
_FAMILY = r"(?:(?:van|von|de|der|den|da|di|du|la|le|del|dos|van der|van den)\s+)?[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+)?"
_WHO = rf"{_FAMILY}(?:\s+et\s+al\.?|\s+(?:and|&)\s+{_FAMILY})?"
_YEAR = r"(?:19|20)\d{2}[a-z]?"
_YEARS = rf"(?:{_YEAR})(?:\s*,\s*(?:{_YEAR}|[a-z]\b))*"  # 2001a,b and 2001, 2003
_AUTHOR_YEAR_ITEM = re.compile(rf"({_WHO}),?\s+({_YEARS})")
_AUTHOR_YEAR_TAIL = re.compile(rf"(?<![\w-])({_WHO}),?\s+({_YEARS})$")
# Words that may lead into a citation inside the parentheses: "for review, see", "as in".
_PROSE_LEAD = re.compile(
    r"(?:\bsee(?:\s+also)?|\breviewed\s+(?:in|by)|\bas\s+in|\bcf\.?|\bfrom|\bby|\bin)[\s,:]*$", re.I
)
# An author-year item after "; " that closes a parenthesis whose opening is lost or another
# bracket: the last item of a citation group all the same.
_CLOSING_ITEM = re.compile(rf"(?<=;\s)({_WHO}),?\s+({_YEARS})\s*\)")
_PAREN_GROUP = re.compile(r"\(([^()]{4,400})\)")
_NARRATIVE = re.compile(rf"\b({_WHO})\s+\(\s*({_YEARS})\s*\)")


@dataclass(frozen=True)
class AuthorYear:
    family: str  # the first author's family name as written
    year: int
    suffix: str = ""  # 2021a -> "a"

    def label(self) -> str:
        return f"{self.family} {self.year}{self.suffix}"


@dataclass(frozen=True)
class Citation:
    """One citation as written: where it is in its paragraph and what it points at."""

    start: int
    end: int
    words: str
    form: str  # NUMBERED | KEYS | AUTHOR_YEAR
    numbers: tuple[int, ...] = ()
    keys: tuple[str, ...] = ()
    authors: tuple[AuthorYear, ...] = ()

    def targets(self) -> list[str]:
        """What it cites, as a reader would name it: '12', '@key', 'Wang 2023'."""
        return [*map(str, self.numbers), *(f"@{k}" for k in self.keys), *(a.label() for a in self.authors)]


def expand_numbers(text: str) -> tuple[int, ...]:
    """'3, 6, 10–12' -> (3, 6, 10, 11, 12); a backwards or huge range is kept as its ends."""
    numbers: list[int] = []
    for part in re.split(r"\s*[,;]\s*", text.strip()):
        ends = [int(n) for n in re.split(rf"\s*[{_DASH}]\s*", part) if n]
        if len(ends) == 2 and ends[0] < ends[1] and ends[1] - ends[0] <= 200:
            found = list(range(ends[0], ends[1] + 1))
        else:
            found = ends
        for number in found:
            if number not in numbers:
                numbers.append(number)
    return tuple(numbers)


def find_citations(text: str, parentheses: bool = False) -> list[Citation]:
    """Every citation in one paragraph, in order, not overlapping.

    `parentheses`: the manuscript cites numbers in parentheses, `(12)`; elsewhere a number
    in parentheses is prose (an enumeration, a count), so it is not taken for a citation."""
    found: list[Citation] = []
    for match in _LATEX_CITE.finditer(text):
        keys = tuple(k.strip() for k in match.group(1).split(",") if k.strip())
        found.append(Citation(match.start(), match.end(), match.group(0), KEYS, keys=keys))
    for match in _PANDOC_GROUP.finditer(text):
        keys = tuple(m.group(1) for m in _PANDOC_KEY.finditer(match.group(1)))
        if keys:
            found.append(Citation(match.start(), match.end(), match.group(0), KEYS, keys=keys))
    for match in _BRACKETS.finditer(text):
        numbers = expand_numbers(match.group(1))
        found.append(Citation(match.start(), match.end(), match.group(0), NUMBERED, numbers=numbers))
    if parentheses:
        for match in _PARENTHESES.finditer(text):
            numbers = expand_numbers(match.group(1))
            if _plausible_numbers(match.group(1)) and all(n < 1000 for n in numbers):
                found.append(Citation(match.start(), match.end(), match.group(0), NUMBERED, numbers=numbers))
    for match in _PAREN_GROUP.finditer(text):
        authors = _author_years(match.group(1))
        if authors:
            found.append(Citation(match.start(), match.end(), match.group(0), AUTHOR_YEAR, authors=authors))
    for match in _CLOSING_ITEM.finditer(text):  # "[CAP, ...; Stronks et al., 2010)" as printed
        authors = tuple(_years_of(match.group(1), match.group(2)))
        found.append(Citation(match.start(), match.end(), match.group(0), AUTHOR_YEAR, authors=authors))
    for match in _NARRATIVE.finditer(text):
        authors = tuple(_years_of(match.group(1), match.group(2)))
        found.append(Citation(match.start(), match.end(), match.group(0), AUTHOR_YEAR, authors=authors))
    kept = _without_overlaps(found)
    taken = [(c.start, c.end) for c in kept]
    for match in _PANDOC_KEY.finditer(text):  # in-text @key, outside every bracket
        if text[match.start() - 1 : match.start()] in ("\\",) or _inside(match.start(), taken):
            continue
        if not _looks_like_key(text, match):
            continue
        kept.append(Citation(match.start(), match.end(), match.group(0), KEYS, keys=(match.group(1),)))
    return sorted(kept, key=lambda c: c.start)


def _plausible_numbers(text: str) -> bool:
    """A citation's ranges go up and its numbers have no leading zero: "(300-25)" and
    "(315-02)" are catalogue numbers, not references."""
    for part in re.split(r"\s*[,;]\s*", text.strip()):
        ends = re.split(rf"\s*[{_DASH}]\s*", part)
        if any(len(e) > 1 and e.startswith("0") for e in ends):
            return False
        if len(ends) == 2 and ends[0] and ends[1] and int(ends[0]) >= int(ends[1]):
            return False
    return True


def _looks_like_key(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 1) : match.start()]
    return not before or not (before.isalnum() or before in "._-")  # an e-mail address is not a key


def _inside(position: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def _without_overlaps(found: Iterable[Citation]) -> list[Citation]:
    """At each place the longest citation wins ('(Wang et al., 2023)' over its parts)."""
    kept: list[Citation] = []
    for citation in sorted(found, key=lambda c: (c.start, -(c.end - c.start))):
        if kept and citation.start < kept[-1].end:
            continue
        kept.append(citation)
    return kept


def _author_years(inside: str) -> tuple[AuthorYear, ...]:
    """'Wang et al., 2023; Li and Chen 2020a, 2021' -> the items, or () when any part is prose."""
    items: list[AuthorYear] = []
    parts = re.split(r"\s*;\s*", inside.strip())
    # "(produced by the hair cells; Kettembeil et al., 1995)": prose may come first
    while len(parts) > 1 and not _AUTHOR_YEAR_TAIL.search(parts[0]):
        parts.pop(0)
    for part in parts:
        part = re.sub(r"^(?:e\.g\.,?|see(?:\s+also)?|cf\.?|reviewed\s+in|but\s+see)\s+", "", part, flags=re.I)
        part = re.sub(r",?\s*(?:p|pp)\.\s*[\d\u2013-]+$", "", part)
        match = _AUTHOR_YEAR_ITEM.fullmatch(part.strip())
        if match is None and items:
            # "... for review, see Larsen et al., 2016": prose, then the citation
            match = _AUTHOR_YEAR_TAIL.search(part.strip())
        if match is None and not items:
            match = _AUTHOR_YEAR_TAIL.search(part.strip())
            if match is not None and not _PROSE_LEAD.search(part.strip()[: match.start()]):
                match = None
        if match is None:
            return ()
        items += _years_of(match.group(1), match.group(2))
    return tuple(items)


def _years_of(who: str, years: str) -> list[AuthorYear]:
    """'2001a,b' -> 2001a and 2001b; '2001, 2003' -> both years."""
    found: list[AuthorYear] = []
    for piece in re.split(r"\s*,\s*", years):
        if len(piece) == 1 and found:
            found.append(AuthorYear(found[-1].family, found[-1].year, piece))
        else:
            found.append(_author_year(who, piece))
    return found


def _author_year(who: str, year_text: str) -> AuthorYear:
    family = re.split(r"\s+(?:et\s+al\.?|and|&)\s*", who.strip())[0].strip()
    return AuthorYear(family, int(year_text[:4]), year_text[4:])


# --------------------------------------------------------------------------- matching to the list


@dataclass(frozen=True)
class ListEntry:
    """What a citation can be matched by: a reference's number, key, first author and year."""

    ref_id: int
    number: int | None
    key: str
    first_author: str
    year: int | None


@dataclass
class Resolved:
    ref_ids: list[int]
    unknown: list[str]  # targets no reference answers to
    ambiguous: list[str]  # author-year targets that fit several references


def fold_name(text: str) -> str:
    """'Müller-Lüdenscheidt' and 'Muller Ludenscheidt' alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    return re.sub(r"[^a-z]", "", "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold())


class ReferenceIndex:
    """The reference list, indexed the three ways citations name references."""

    def __init__(self, entries: Sequence[ListEntry]) -> None:
        self.entries = list(entries)
        self.by_number: dict[int, ListEntry] = {e.number: e for e in entries if e.number is not None}
        self.by_key: dict[str, ListEntry] = {e.key.casefold(): e for e in entries if e.key}
        self.by_author_year: dict[tuple[str, int], list[ListEntry]] = {}
        for entry in entries:
            if entry.first_author and entry.year is not None:
                folded = (fold_name(entry.first_author), entry.year)
                self.by_author_year.setdefault(folded, []).append(entry)

    def resolve(self, citation: Citation) -> Resolved:
        result = Resolved([], [], [])

        def add(ref_id: int) -> None:
            if ref_id not in result.ref_ids:
                result.ref_ids.append(ref_id)

        for number in citation.numbers:
            entry = self.by_number.get(number)
            if entry is None:
                result.unknown.append(str(number))
            else:
                add(entry.ref_id)
        for key in citation.keys:
            entry = self.by_key.get(key.casefold())
            if entry is None:
                result.unknown.append(f"@{key}")
            else:
                add(entry.ref_id)
        for item in citation.authors:
            candidates = self.by_author_year.get((fold_name(item.family), item.year), [])
            if not candidates:
                candidates = self._family_prefix(item)
            if len(candidates) == 1:
                add(candidates[0].ref_id)
            elif not candidates:
                result.unknown.append(item.label())
            elif item.suffix and ord(item.suffix) - ord("a") < len(candidates):
                # 2021a, 2021b: the letters follow the list's order of the same author-year
                add(candidates[ord(item.suffix) - ord("a")].ref_id)
            else:
                result.ambiguous.append(item.label())
                for candidate in candidates:
                    add(candidate.ref_id)
        return result

    def _family_prefix(self, item: AuthorYear) -> list[ListEntry]:
        """'Bond Allison' in a list that has 'Bond Allison M': a family name of two words."""
        folded = fold_name(item.family)
        return [
            entry
            for (family, year), entries in self.by_author_year.items()
            if year == item.year and (family.startswith(folded) or folded.startswith(family))
            for entry in entries
        ]


def citation_style(citations: Mapping[str, int]) -> str:
    """The manuscript's style from counts of each form: the most frequent one."""
    if not citations:
        return NUMBERED
    return max(citations.items(), key=lambda item: item[1])[0]
