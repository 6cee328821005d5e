"""Reading one printed reference, in any of the common styles, and DOIs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any
from urllib.parse import unquote

# A DOI is "10." + registrant code + "/" + suffix; the suffix may hold almost anything
# (parentheses, angle brackets, semicolons), so only whitespace ends it.
_DOI_CORE = re.compile(r"10\.\d{4,9}/\S+")
_DOI_IN_URL = re.compile(r"10\.\d{4,9}/")
_DOI_PREFIX = re.compile(r"^(?:doi\s*:\s*|doi\s+)", re.IGNORECASE)
_URL = re.compile(r"(?:https?|ftp)://\S+", re.IGNORECASE)
_URL_START = re.compile(r"(?:https?|ftp)://", re.IGNORECASE)
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
    if _URL_START.match(value):
        found = _DOI_IN_URL.search(value)
        if not found and _DOI_IN_URL.search(unquote(value)):
            value = unquote(value)  # "10.1038%2Fs41586-021-03553-9": an encoded slash
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


_FIELD_NAMES = tuple(f.name for f in fields(ParsedReference))
_FIELD_VALUES = attrgetter(*_FIELD_NAMES)
_AUTHORS_AT = _FIELD_NAMES.index("authors")


def reference_rows(refs: Iterable[ParsedReference]) -> list[tuple[Any, ...]]:
    """References as plain tuples (fields in order, authors as (family, given)): a worker
    sends thousands back, and tuples pickle in half the time."""
    rows = []
    for ref in refs:
        values = list(_FIELD_VALUES(ref))
        values[_AUTHORS_AT] = tuple((a.family, a.given) for a in ref.authors)
        rows.append(tuple(values))
    return rows


def references_from_rows(rows: Iterable[tuple[Any, ...]]) -> list[ParsedReference]:
    refs = []
    for row in rows:
        values = list(row)
        values[_AUTHORS_AT] = [Author(family, given) for family, given in row[_AUTHORS_AT]]
        refs.append(ParsedReference(*values))
    return refs


def _letters(test: Callable[[str], bool]) -> str:
    return "".join(ch for ch in map(chr, range(0x41, 0x250)) if test(ch))


_UPPER = f"[{re.escape(_letters(str.isupper))}]"  # A-Z and the accented capitals (Á, Ø, Ž)
_WORD = r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*"  # letters, with inner ' or - (O’Driscoll, Díaz-Sáez)
_FAMILY = rf"{_WORD}(?: {_WORD})*"
_SUFFIX = r"(?:Jr|Sr|2nd|3rd|4th|II|III|IV)(?![\w])"  # its point, if any, ends the list or the name
# "Lin M", "Zhao Y-l", "Bond Allison M", "De Lazzari G", "Marrugal Á", "Smith JA 3rd"
_VANCOUVER_AUTHOR_FORM = r"(?P<family>{family}) (?P<initials>{upper}{{1,4}}(?:-[A-Za-z]{{1,2}})?)(?: (?P<suffix>{suffix}))?(?=[,.;:( ]|$)"
_VANCOUVER_AUTHOR = re.compile(_VANCOUVER_AUTHOR_FORM.format(family=_FAMILY, upper=_UPPER, suffix=_SUFFIX))
# The same with the shortest family name: "Chaudhary B; Elkord E Regulatory T cells" (NIH
# manuscripts print no point after the authors), where the longest reads "Elkord E Regulatory"
_VANCOUVER_AUTHOR_SHORTEST = re.compile(
    _VANCOUVER_AUTHOR_FORM.format(family=rf"{_WORD}(?: {_WORD})*?", upper=_UPPER, suffix=_SUFFIX)
)
_DOTTED = rf"{_UPPER}[a-z]{{0,2}}\.(?:(?: ?- ?| )?{_UPPER}[a-z]{{0,2}}\.)*"  # "S.W.", "C. M.", "M.-H.", "Th."
# "Barthold, S.W.", "Grimster, N. P.", "Wu, M.-H.", "Smith, J., Jr."
_INVERTED_AUTHOR = re.compile(
    rf"(?P<family>{_FAMILY}), ?(?P<initials>{_DOTTED})(?:,? (?P<suffix>{_SUFFIX}))?"
)
# "T. L. Hale", "L. von Seidlein", "M. Garcia-Boronat"
_GIVEN_FIRST_AUTHOR = re.compile(
    rf"(?P<initials>{_DOTTED}) (?P<family>{_FAMILY}?)(?:,? (?P<suffix>{_SUFFIX}))?(?=[,.;&]| and | & | et al| \(|$)"
)
_SEPARATORS = {
    "vancouver": re.compile(r"(?:, ?|; ?| & | and )"),
    "inverted": re.compile(r"(?:,? ?& ?|, and | and |, |; )"),
    "given-first": re.compile(r"(?:,? and |, |,? ?& ?)"),
}
_ET_AL = re.compile(r"[,;]? et al(?=[.,:\s]|$)")
_MONTH = (
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
    r"(?: ?[-/–] ?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?)?(?: \d{1,2}(?: ?[-–] ?\d{1,2})?)?"
    r"|Spring|Summer|Fall|Autumn|Winter"
)
_Y = r"(?P<year>(?:1[5-9]|20)\d\d)[a-z]?"
_VOL = r"(?P<volume>[A-Za-z]?\d(?:[\w./\-–]*\w)?(?: (?:[Ss]uppl|Pt|Spec No)\.?(?: ?\w+)?)?)"
_PAGES_LABEL = r"(?:pp?\. ?|pages |[Aa]rticle(?: ID| [Nn]o\.)? ?)"
_ISS = r"(?: ?\((?P<issue>[^()]*(?:\([^()]*\))?[^()]*)\))"
_PAGES = r"(?P<pages>[A-Za-z]{0,5}\d\w*(?:\.e\d+)?(?: ?(?:--|[-–—]) ?[A-Za-z]{0,3}\d\w*(?:\.e\d+)?)?)"
_END = r" ?[.,]? ?$"
# The part after the title and the journal, anchored at the end, in the styles' orders.
_TAILS = [
    # IEEE: ', vol. 77, no. 8, pp. 651-660, 1999.' (Hindawi: 'article e1000048', 'Article ID 123')
    re.compile(
        rf", ?[Vv]ol\. ?{_VOL}(?:, ?[Nn]o\. ?(?P<issue>[^,]+))?"
        rf"(?:, ?(?:pp?\.|Art\. ?no\.|[Aa]rticle(?: no\.| ID)?) ?{_PAGES})?(?:, [^,]{{1,40}}?)*?, ?(?:(?:{_MONTH}),? )?{_Y}{_END}"
    ),
    re.compile(rf", ?(?:pp?\. ?{_PAGES}, ?)?(?:(?:{_MONTH}),? )?{_Y}{_END}"),
    # IEEE with the pages last: ', Vol. 74, No. 5, September 1995, pp. 54-67.'
    re.compile(
        rf", ?[Vv]ol\. ?{_VOL}(?:, ?[Nn]o\. ?(?P<issue>[^,]+))?, (?:(?:{_MONTH})(?: ?/ ?(?:{_MONTH}))?,? )?{_Y}"
        rf", ?pp?\. ?{_PAGES}{_END}"
    ),
    # Frontiers: '. (2019) 130:825–32.'
    re.compile(rf"\.? \({_Y}\)(?: ?{_VOL}{_ISS}?(?: ?: ?{_PAGES})?)?{_END}"),
    # Elsevier: ' 280 (2005) 123–130.'
    re.compile(rf",? {_VOL} \({_Y}\),? {_PAGES_LABEL}?{_PAGES}{_END}"),
    # Nature: ' 25, 1181–1188 (1994).'
    re.compile(rf",? ?(?:{_VOL}{_ISS}?)?(?:[,:] ?{_PAGES})? ?\({_Y}\){_END}"),
    # MDPI / ACS: ' 2005, 68, 1051–1055.' / ' 2020, 11 (1), 5047.'
    re.compile(rf"\.? {_Y}, ?{_VOL}{_ISS}?(?:[,:] ?{_PAGES_LABEL}?{_PAGES})?{_END}"),
    # EndNote numbered: ', 2016. 315(4): p. 388-406.'
    re.compile(rf", {_Y}\. {_VOL}{_ISS}?(?:[,:] ?{_PAGES_LABEL}?{_PAGES})?{_END}"),
    # The year last: ' 274:L404-L410, 1998.' / ', 3(1) 59-70, 1991.'
    re.compile(rf",? {_VOL}{_ISS}?(?:[,:]? ?{_PAGES_LABEL}?{_PAGES})?, (?:(?:{_MONTH}),? )?{_Y}{_END}"),
    # Vancouver / NLM / AMA: '. 2005 Dec;353(12):1374–85.'
    re.compile(
        rf"[.,;]? {_Y}(?: (?:{_MONTH}|\d\d))?(?: ?; ?{_VOL}?{_ISS}?)?(?: ?[:,] ?{_PAGES_LABEL}?{_PAGES})?{_END}"
    ),
    # MDPI / ACS preprints and books: ' arXiv 2019, arXiv:1903.10676.' / '; Springer: Berlin, 2014; pp. 221–245.'
    re.compile(rf"\.? {_Y}, (?P<volume>arXiv:\S+?)(?:, [\w-]+)?{_END}"),
    re.compile(rf"(?:; [^;]{{2,150}}?)?, ?{_Y}(?:; ?pp?\. ?{_PAGES}(?:, ?\d+[-–]\d+)*)?{_END}"),
    re.compile(rf", ?{_Y}, (?:[Cc]hapter|ch\.|pp?\.) ?\w+(?:[-–]\w+)?{_END}"),
]
# Endings that close on "(2020)": tried only on entries that end with a parenthesis (costly to
# search for in entries that do not)
_TAILS_ENDING_IN_YEAR = frozenset(p for p in _TAILS if p.pattern.endswith(rf"\({_Y}\){_END}"))


def _needs(pattern: re.Pattern[str]) -> tuple[str, ...]:
    """Text an entry must hold for `pattern` to be worth searching (each search costs)."""
    source = pattern.pattern
    if "[Vv]ol\\." in source:
        return ("ol.",)
    if "arXiv:" in source:
        return ("arXiv:",)
    if "[Cc]hapter" in source:
        return ("hapter", "ch.", "p.")
    if rf"\({_Y}\)" in source:
        return ("(",)
    return ()


_TAIL_NEEDS = {pattern: _needs(pattern) for pattern in _TAILS}
_TAIL_WINDOW = 260  # characters: the longest ending (a book's "; Publisher: City, 2014; pp. 1-9.")
# A tail with a volume and pages but no year (a year the list forgot)
_TAIL_WITHOUT_YEAR = re.compile(rf"[.,]? {_VOL}{_ISS}?, ?{_PAGES}{_END}")
# "London: The Review on Antimicrobial Resistance" after a title: a publisher, not a journal
_PUBLISHER = re.compile(r"^[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?(?:, [A-Z][\w.]*(?: [A-Z][\w.]*)?)?: [^.:]+$")
# After an author-year head (Cell, JBC, SfN, APA): ' 76, 502–506.' / ' 188:29–41.' / ', 12(3), 45–67.'
_TAILS_AFTER_YEAR = [
    re.compile(rf",? {_VOL}{_ISS}?(?: ?[,:] ?{_PAGES_LABEL}?{_PAGES})?{_END}"),
    re.compile(r"\.?$"),  # a preprint or a book: 'Title. bioRxiv.'
]

# "(2004) " after the authors (Cell, JBC, SfN, APA), or "2010. " (Elsevier's Harvard)
_HEAD_YEAR = re.compile(rf"[ .,]{{0,3}}(?P<open>\()?{_Y}(?(open)\)|(?=[.:] ))[.,:]? ")
_JOURNAL_LOWER_WORDS = frozenset(
    "of and the in for on to with at from de des du la le et und für y e do da der die das di del della van voor "
    "och og i en a an & npj".split()
)
_CHAPTER = re.compile(
    r"^(?P<title>.+?)[.,] [Ii]n:? (?:(?P<editors>[^.]*?(?:\.[^.]*?)*?),? \(?[Ee]ds?\.?\)?(?:itors?)?[.,]? )?(?P<book>.+)$"
)
_LIGATURE_CHARACTERS = "ﬀﬁﬂﬃﬄﬅﬆ"
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# What web copies print beside each entry for its links: "[Crossref], [PubMed], [Web of
# Science ®], [Google Scholar]" (Taylor & Francis), "CrossRef Full Text" (Frontiers),
# "Article CAS PubMed" (Springer Nature), "View Article PubMed/NCBI Google Scholar" (PLOS),
# "View articleView in ScopusGoogle Scholar" (ScienceDirect)
LINK_LABEL = (
    r"(?:Cross[Rr]ef(?: Full Text)?|PubMed(?: Abstract| Central|/NCBI)?|Google Scholar|View (?:Article|article|PDF|in Scopus)|Green Version"
    r"|Article|CAS"
    r"|Web of Science(?: ?®)?|Scopus|MathSciNet|ADS|Medline|Full Text|Abstract|Taylor & Francis Online)"
)
# The bracketed labels, which never belong to the entry itself (PMC prints "[DOI] [PMC free
# article] [PubMed] [Google Scholar]")
BRACKETED_LINK = re.compile(
    r"\s*\[(?:Cross[Rr]ef|PubMed|Google Scholar|Green Version|PubMed Central|Web of Science(?: ?®)?|Scopus|CAS"
    r"|Taylor & Francis Online|DOI|PMC free article)\](?:,(?= ?\[| ?$))?"
)
# Identifiers and link words that lists print after the entry ("PMID: 123", "CrossRef Medline")
_TRAILERS = re.compile(
    r"(?:[.;,]? ?(?:\[(?:PubMed|Cross[Rr]ef|Google Scholar|Green Version|PubMed Central)(?:: ?\w+)?\]"
    r"|(?:PubMed )?PMID: ?\d+|(?:PubMed Central )?PMCID: ?PMC\d+|Epub(?: ahead of print)?[ :]?(?:\d{4}[/ ][\w/ ]*)?"
    r"|eCollection(?: \d{4}[\w ]*)?|Review|Erratum in:?[^.]*|Comment in:?[^.]*"
    r"|(?:IF|(?:JCR )?(?:[\w-]+ )?[Ii]mpact [Ff]actor):? ?\d[\d.,]*"
    r"|Cross[Rr]ef|Medline|PubMed|Google Scholar|Full Text|Abstract|CAS|Article|Web of Science(?: ?®)?|ADS))+[.;,]? *$"
)
# Words one of the _TRAILERS holds: searched first, as the trailers' own search is slow
_TRAILER_WORDS = re.compile(
    r"PubMed|Cross[Rr]ef|Google|Green|PMID|PMC|Epub|eCollection|Review|Erratum|Comment|IF|[Ff]actor"
    r"|Medline|Full Text|Abstract|CAS|Article|Web of Science|ADS"
)
# A publisher item id labelled as a DOI ("doi: S0959-4388(11) 00081-X [pii]"); a real DOI
# before it stays ("doi:10.1038/nature11899 nature11899 [pii]")
_PII = re.compile(
    r"(?<!\S)(?:doi: ?)?(?![^\s\[]*\b10\.\d{4})[^\[\s;]+(?: (?![^\s\[]*\b10\.\d{4})[^\[\s;]+)? ?\[pii\][.;]?",
    re.IGNORECASE,
)


def format_given(initials: str) -> str:
    """'JH' -> 'J. H.', 'M' -> 'M.', 'Y-l' -> 'Y.-l.'"""
    head, _, tail = initials.partition("-")
    given = " ".join(f"{letter}." for letter in head)
    if tail:
        given += "-" + "".join(f"{letter}." for letter in tail)
    return given


def _dotted_given(initials: str) -> str:
    """'S.W.' -> 'S. W.', 'M.-H.' -> 'M.-H.', 'C. M.' -> 'C. M.'"""
    return _INITIAL_STOP.sub(". ", _SPACED_HYPHEN.sub("-", initials))


_INITIAL_STOP = re.compile(r"\.(?=[^\s.\-])")
_SPACED_HYPHEN = re.compile(r"\s*-\s*")
_GROUP_AUTHOR = re.compile(r"; ([^.;]{3,120}?)(?=\. )")
_AUTHORS_END = re.compile(r"[.:](?: |$)")
_SPACE_UPPER = re.compile(rf" {_UPPER}")
_QUOTED_TITLE_NEXT = re.compile(r"[.,]{0,2} ?[\"“]")
_TITLE_NEXT = re.compile(r"[.,:]{0,2} \S")


@dataclass
class _Authors:
    authors: list[Author]
    et_al: bool
    end: int  # where the text after the author list starts
    convention: str = "vancouver"


def _read_authors(body: str) -> _Authors | None:
    """The longest author list at the start of `body`, in whichever convention fits."""
    found = [read(body) for read in _AUTHOR_READERS]
    best = max((f for f in found if f), key=lambda f: (f.end, len(f.authors)), default=None)
    return best


def _read_list(
    body: str,
    pattern: re.Pattern[str],
    separator: re.Pattern[str],
    make: Callable[[re.Match[str]], Author],
    later: re.Pattern[str] | None = None,
) -> tuple[list[Author], int]:
    """Authors one by one from the start; `later` is another form the authors after the first
    may take (Harvard: "Trathan, P. N., A. S. Brierley and J. L. Watkins")."""
    authors: list[Author] = []
    pos = 0
    forms = (pattern,) if later is None else (pattern, later)
    one = pattern.match(body, pos)
    while one is not None:
        authors.append(make(one))
        pos = one.end()
        sep = separator.match(body, pos)
        if sep is None or _ET_AL.match(body, pos):
            break
        one = next((m for form in forms if (m := form.match(body, sep.end()))), None)
        if one is not None:
            pos = sep.end()
    return authors, pos


def _read_vancouver(body: str) -> _Authors | None:
    found = _read_vancouver_with(body, _VANCOUVER_AUTHOR)
    if found is None and ";" in body[:300]:
        found = _read_vancouver_with(body, _VANCOUVER_AUTHOR_SHORTEST)
    return found


def _read_vancouver_with(body: str, pattern: re.Pattern[str]) -> _Authors | None:
    def make(m: re.Match[str]) -> Author:
        given = format_given(m.group("initials"))
        return Author(m.group("family"), given + (f" {m.group('suffix')}" if m.group("suffix") else ""))

    authors, pos = _read_list(body, pattern, _SEPARATORS["vancouver"], make)
    if not authors:
        return None
    et_al = _ET_AL.match(body, pos)
    if et_al:
        pos = et_al.end()
    group = _GROUP_AUTHOR.match(body, pos)  # "...; ATS/ERS Committee."
    if group:
        authors.append(Author(group.group(1).strip()))
        pos = group.end()
    if _AUTHORS_END.match(body, pos):  # "Hsia CCW, Hagler HK: Title"
        return _Authors(authors, bool(et_al), pos + 1)
    if _HEAD_YEAR.match(body, pos):
        return _Authors(authors, bool(et_al), pos)
    if ";" in body[:pos] and _SPACE_UPPER.match(body, pos):
        return _Authors(authors, bool(et_al), pos)  # "Hanahan D; Weinberg RA Hallmarks of ..."
    return None


def _read_dotted_authors(convention: str) -> Callable[[str], _Authors | None]:
    pattern = _INVERTED_AUTHOR if convention == "inverted" else _GIVEN_FIRST_AUTHOR

    def make(m: re.Match[str]) -> Author:
        given = _dotted_given(m.group("initials"))
        return Author(m.group("family"), given + (f" {m.group('suffix')}" if m.group("suffix") else ""))

    def read(body: str) -> _Authors | None:
        later = _GIVEN_FIRST_AUTHOR if convention == "inverted" else None
        authors, pos = _read_list(body, pattern, _SEPARATORS[convention], make, later)
        if not authors:
            return None
        et_al = _ET_AL.match(body, pos)
        if et_al:
            pos = et_al.end()
        rest = body[pos:]
        after = pos + len(rest) - len(rest.lstrip(",.: "))
        if _QUOTED_TITLE_NEXT.match(rest):  # IEEE: the quoted title follows
            return _Authors(authors, bool(et_al), after, convention)
        if _HEAD_YEAR.match(body, pos):
            return _Authors(authors, bool(et_al), pos, convention)
        if _TITLE_NEXT.match(rest) and (body[pos - 1] == "." or rest.startswith((".", ",", ":"))):
            return _Authors(authors, bool(et_al), after, convention)
        return None

    return read


_AUTHOR_READERS = (_read_vancouver, _read_dotted_authors("inverted"), _read_dotted_authors("given-first"))


def _journal_like(text: str) -> bool:
    """Could this be a journal (or book) title? Capitalised words, abbreviations and the small
    words of titles; not a sentence."""
    words = text.split()
    if not words or len(words) > 16:
        return False
    depth = 0
    for word in words:
        bare = word.strip(".,:;()[]\"“”'’")
        opened = word.count("(") - word.count(")")
        if depth > 0 or word.startswith("("):
            depth = max(0, depth + opened)
            continue
        depth = max(0, opened)
        if not bare:
            continue
        if bare[0].isupper() or bare[0].isdigit() or bare.casefold() in _JOURNAL_LOWER_WORDS:
            continue
        if any(ch.isupper() for ch in bare[1:]):  # eLife, bioRxiv, iScience, mBio
            continue
        return False
    return True


_BOUNDARY = re.compile(r"(?<=[^\s.][.?!])(?:[\"”’])? +(?=\S)")
_QUOTED_TITLE = re.compile(r"^[\"“‘'](?P<title>.+?)[,.]?[\"”’'][,.]? ?(?:[Ii]n:? )?(?P<journal>.*)$")
_INITIALS_BEFORE = re.compile(r"\b[A-Z]\.[A-Z]\.?$")
_COMMA = re.compile(r", (?=\S)")


def _split_title_journal(
    front: str, commas_first: bool = False, has_volume: bool = False
) -> tuple[str, str | None]:
    """'Title. Journal' -> (title, journal): the first sentence end after which only a
    journal-like name follows (journal names hold abbreviation points: 'J. Nat. Prod.').
    With a volume, "Word: words" is a journal ("Change: the Magazine of Higher Learning"),
    not a book's "City: Publisher"."""
    quoted = _QUOTED_TITLE.match(front)
    if quoted:
        journal = re.split(
            r",? (?:[A-Z]\. ?)+[\w-]+(?:(?:,| and) (?:[A-Z]\. ?)+[\w-]+)*,? Eds?\.", quoted.group("journal")
        )[0]
        return quoted.group("title").strip(" ,"), journal.strip(" ,.") or None
    chapter = _CHAPTER.match(front)
    if chapter and chapter.group("book"):
        book = re.split(r"\. (?=[A-Z][^.]*[:;])", chapter.group("book"))[0]  # drop ". City: Publisher"
        return chapter.group("title").strip(), book.strip(" .,")
    if commas_first and (by_comma := _split_at_comma(front)):
        return by_comma  # Elsevier and IEEE put a comma between title and journal
    # not after initials ("J.R. Smith"): looked for in the few characters before the boundary
    candidates = [
        m
        for m in _BOUNDARY.finditer(front)
        if not _INITIALS_BEFORE.search(front, max(0, m.start() - 8), m.start())
    ]
    for match in candidates:
        journal = front[match.end() :].strip(" ,")
        if not has_volume and _PUBLISHER.match(journal):
            return front[: match.start()].strip(), None  # a book: "Title. London: Publisher; 2016"
        if _journal_like(journal):
            return front[: match.start()].strip(), journal
    if candidates:
        last = candidates[-1]
        return front[: last.start()].strip(), front[last.end() :].strip(" ,")
    return _split_at_comma(front) or (front.strip(), None)


def _split_at_comma(front: str) -> tuple[str, str] | None:
    """'Title, Stem Cell Res.' -> (title, journal): the first comma after which a journal-like
    name of a few words follows."""
    for comma in _COMMA.finditer(front):
        journal = front[comma.end() :].strip(" ,")
        if _journal_like(journal) and len(journal.split()) <= 8:
            return front[: comma.start()].strip(), journal
    return None


_SPACING_ACCENTS = {
    "´": "\u0301",
    "ˆ": "\u0302",
    "`": "\u0300",
    "¨": "\u0308",
    "ˇ": "\u030c",
    "˜": "\u0303",
    "¸": "\u0327",
    "˚": "\u030a",
}


def _journal_name(text: str) -> str:
    """The journal without the point that ends it, unless that point is an abbreviation's in a
    name of abbreviations ("J. Nat. Prod.", "Acta Neuropathol."; but "N Engl J Med", "Cell")."""
    name = text.strip(", ")
    bare = name.rstrip(". ")
    if name.endswith(".") and "." in bare and not name.endswith(".."):
        return bare + "."
    return bare


_SPLIT_ACCENT = re.compile(r"(?<=[^\W\d_]) ?([´ˆ`¨ˇ˜¸˚])")
_SPLIT_COMBINING = re.compile(r"(?<=[^\W\d_]) ([\u0300-\u036f])")
_MARKDOWN = re.compile(r"\*\*|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)")
_ZOTERO_NOTES = re.compile(r"\s*\[(?:Internet|cited [^\]]*)\]")
_AVAILABLE = re.compile(r"\b(?:Available (?:online )?(?:from|at):?)\s*", re.IGNORECASE)
_ACCESSED = re.compile(r"\s*\((?:[Aa]ccessed|[Cc]ited|[Rr]etrieved)[^)]*\)")
_SPLIT_DOI_HOST = re.compile(r"(https?://(?:dx\.)?doi)\. (org/)")
_SPACED_RANGE = re.compile(r"(\d) ?([-–—]) (?=\d)|(\d) ([-–—]) ?(?=\d)")
_SPACE_BEFORE_MARK = re.compile(r" +([,;:?!])")
_SQUEEZED_STOP = re.compile(r"(?<=[a-z]{3}) ?\.(?=[A-Z][a-z]*[ .])|(?<=[a-z]{3}) \.(?= )")
_COMBINING = re.compile("[\u0300-\u036f]")
_STOP_BEFORE_CAPITAL = re.compile(r"[a-z]\.[A-Z]")
_MARK_STAR = re.compile(r" ?\*+(?=[,;. ])")
_OTHER_HYPHENS = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-"})
# A leading label that a copy kept: "12. ", "[4] ", "(29) ", "23."
_BARE_LABEL = re.compile(r"\d{1,4} (?=[^\W\d_])")
_LABEL = re.compile(r"^(?:\[\d{1,4}\]|\(\d{1,4}\)|\d{1,4}\.)\s*(?=[^\W\d_])")
# A DOI broken at a point or before a parenthesis by the line end: '10.1016/j. phymed.2025.1'
_BROKEN_DOI = re.compile(r"(10\.\d{4,9}/\S*[.\-]) (?=[a-z0-9][\w.\-]*[\d.][\w.\-()]*)")
_BROKEN_DOI_PAREN = re.compile(r"(10\.\d{4,9}/\S*\d) (?=\(\d+\)[\w\-]+)")
# "10. 1093/jb/mvg083", "10.1038 /nature11247", "10.1093/molbev /msu300"
_SPACED_DOI_PREFIX = re.compile(r"\b10\. ?(\d{4,9}) ?/")
_SPACED_DOI_SUFFIX = re.compile(r"(\b10\.\d{4,9}/\S+) (/\S+)")
_PRINTED_DOI = re.compile(r"(?:\bdoi\s*:?\s*)?\b10\.\d{4,9}/\S+", re.IGNORECASE)
_EMPTY_DOI_LABEL = re.compile(r"\bdoi:?\s*(?=[.,;]|$)", re.IGNORECASE)
_LOOSE_COMMA = re.compile(r"\s*,\s*(?=[.,(])|\s+(?=[.,;])")
_LOOSE_MARKS = ("  ", " .", " ,", " ;", ",.", ",,", ", .", ", ,", ",(", ", (", ";.", "; .", "..", ". .")
_DOUBLE_MARK = re.compile(r"[,;]\s*\.|\.\s*\.(?!\.)|,\s*,")


def _without_label(text: str) -> str:
    """The entry without a number a copy kept before it ("12. ", "[4]", "(29)", and "62 " when
    an author follows)."""
    text = _LABEL.sub("", text)
    bare = _BARE_LABEL.match(text)
    if bare and (_VANCOUVER_AUTHOR.match(text, bare.end()) or _INVERTED_AUTHOR.match(text, bare.end())):
        return text[bare.end() :]
    return text


def _clean_body(raw: str) -> str:
    """The entry with what copies add taken away. Each step runs only where its mark is there:
    a list of 10,000 entries must read fast."""
    text = raw
    if not text.isascii():
        if any(hyphen in text for hyphen in "\u2010\u2011\u2012\u2212"):
            text = text.translate(_OTHER_HYPHENS)
        if any(ligature in text for ligature in _LIGATURE_CHARACTERS):
            text = text.translate(_LIGATURES)
        # PDFs print an accent apart from its letter: "Plechanovova ´", "Tokgo ¨z", "A ́brányi"
        if any(accent in text for accent in _SPACING_ACCENTS):
            text = _SPLIT_ACCENT.sub(lambda m: _SPACING_ACCENTS[m.group(1)], text)
        if _COMBINING.search(text):
            text = _SPLIT_COMBINING.sub(r"\1", text)
        text = unicodedata.normalize("NFC", text)
    if "_" in text or "**" in text:
        text = _MARKDOWN.sub("", text)  # Markdown: _Nature_ **594**
    if "[pii]" in text:
        text = _PII.sub("", text)
    if "[" in text:
        text = _ZOTERO_NOTES.sub("", text)
    if "vailable" in text:
        text = _AVAILABLE.sub("", text)
    if "ccessed" in text or "ited" in text or "etrieved" in text:
        text = _ACCESSED.sub("", text)
    if "doi. " in text:
        text = _SPLIT_DOI_HOST.sub(r"\1.\2", text)
    if " -" in text or "- " in text or " –" in text or "– " in text or "—" in text:
        text = _SPACED_RANGE.sub(lambda m: (m.group(1) or m.group(3)) + (m.group(2) or m.group(4)), text)
    if " ," in text or " ;" in text or " :" in text or " ?" in text or " !" in text:
        text = _SPACE_BEFORE_MARK.sub(r"\1", text)
    if "( " in text or " )" in text:
        text = text.replace("( ", "(").replace(" )", ")")  # "613-617( 2015)"
    if "*" in text:
        text = _MARK_STAR.sub("", text)  # "Bao Q *, Zhao Y*": co-first authorship marks
    if " ." in text or _STOP_BEFORE_CAPITAL.search(text):
        # "cytoskeleton .Curr Opin Cell Biol", "glance.J Cell Sci": a sentence end lost its space
        text = _SQUEEZED_STOP.sub(". ", text)
    return text


def _excise_identifiers(body: str, ref: ParsedReference) -> str:
    """Take the DOI and URL out of the entry (wherever they are printed) into their fields."""
    if "PMID" in body or "PMCID" in body:
        body = re.sub(r"(?<=\S)\.?(?=PMC?ID)", " ", body)  # "science.1193063.PMID:20847271"
    taken_out = False
    if "10." in body:
        if "10. " in body or " /" in body:
            body = _SPACED_DOI_SUFFIX.sub(r"\1\2", _SPACED_DOI_PREFIX.sub(r"10.\1/", body))
        body = _BROKEN_DOI_PAREN.sub(r"\1", _BROKEN_DOI.sub(r"\1", body)).replace("[doi]", "")
    if "://" in body:
        for url_match in reversed(list(_URL.finditer(body))):
            url = _strip_trailing(url_match.group(0))
            doi = try_normalize_doi(url)
            if doi and ref.doi is None:
                ref.doi = doi
            elif not doi and ref.url is None:
                ref.url = url
            body = body[: url_match.start()] + body[url_match.start() + len(url) :]
            taken_out = True
    if "10." in body:
        for doi_match in reversed(list(_PRINTED_DOI.finditer(body))):
            doi = try_normalize_doi(doi_match.group(0))
            if doi is None:
                continue
            if ref.doi is None:
                ref.doi = doi
            end = doi_match.start() + doi_match.group(0).find(doi) + len(doi)
            body = body[: doi_match.start()] + body[end:]
            taken_out = True
    # what is left around the identifiers, or was printed so: "doi: ", ", ." and ". ."
    if taken_out or "oi" in body:
        body = _EMPTY_DOI_LABEL.sub("", body)
    if taken_out or any(mark in body for mark in _LOOSE_MARKS):
        body = _LOOSE_COMMA.sub("", body)
        body = _DOUBLE_MARK.sub(lambda m: m.group(0).strip()[-1], body)
    while _TRAILER_WORDS.search(body, max(0, len(body) - 200)) and (
        trailer := _TRAILERS.search(body, max(0, len(body) - 200))
    ):
        body = body[: trailer.start()].rstrip()
    return " ".join(body.split())


def parse_reference(text: str, number: int | None = None) -> ParsedReference:
    """Parse one reference string in any of the common styles. Never raises: what cannot be
    parsed is kept as unparsed, with why."""
    raw = " ".join(text.split())
    ref = ParsedReference(raw=raw, number=number)
    if not raw:
        ref.kind, ref.problem = "unparsed", "empty reference"
        return ref
    body = _excise_identifiers(_clean_body(_without_label(raw)), ref)
    fields = _read_fields(body, bool(ref.url))
    if isinstance(fields, str):
        # Copies from PDFs run page furniture into the entry ("... 2015;168:154-58. Khatri et
        # al. Stem Cell Res Ther (2018) 9:17 Page 12 of 13"): read the longest part that parses.
        for cut in reversed(
            list(re.finditer(r"(?<=[.\d)])\. |(?<=\d) (?=[A-Z])|(?<=[a-z]{2}\.) (?=[A-Z])", body))
        ):
            shorter = _read_fields(body[: cut.start() + 1], bool(ref.url))
            if not isinstance(shorter, str):
                fields = shorter
                break
    if isinstance(fields, str):
        if ref.url and not ref.doi:
            ref.kind, ref.title = "web", body.rstrip(". ") or None
        else:
            ref.kind, ref.problem = "unparsed", fields
        return ref
    for name, value in fields.items():
        setattr(ref, name, value)
    if ref.journal is None and ref.url and not ref.volume and not ref.doi:
        ref.kind = "web"
    return ref


def _read_fields(body: str, has_url: bool = False) -> dict[str, Any] | str:
    """The fields of an entry (identifiers already taken out), or why it cannot be read."""
    fields: dict[str, Any] = {}
    found = _read_authors(body)
    rest = body[found.end :] if found else body
    if found:
        fields["authors"], fields["et_al"] = found.authors, found.et_al
    head_year = _HEAD_YEAR.match(rest)
    if head_year:
        fields["year"] = int(head_year.group("year"))
        rest = rest[head_year.end() :]
    rest = rest.strip()
    tail = None
    for patterns in ([_TAILS_AFTER_YEAR] if head_year else []) + [_TAILS, [_TAIL_WITHOUT_YEAR]]:
        # the style whose ending takes in the most of the entry ("Nature 594, 259 (2021)"); the
        # endings are short, so only the entry's last part is searched
        window = max(1, len(rest) - _TAIL_WINDOW)
        closes = rest.rstrip(" .,").endswith(")")
        matches = [
            m
            for pattern in patterns
            if (pattern not in _TAILS_ENDING_IN_YEAR or closes)
            and (not (needs := _TAIL_NEEDS.get(pattern)) or any(need in rest for need in needs))
            and (m := pattern.search(rest, window))
        ]
        if matches:
            tail = min(matches, key=lambda m: m.start())
            break
    if tail is None:
        return "no 'Journal. Year' part" if not head_year else "no journal and volume"
    groups = tail.groupdict()
    if groups.get("year"):
        fields["year"] = int(groups["year"])
    fields["volume"] = groups.get("volume")
    fields["issue"] = (groups.get("issue") or "").strip() or None
    fields["pages"] = groups.get("pages")
    front = rest[: tail.start()].strip(" ,")
    if not front:
        return "no title"
    title, journal = _split_title_journal(
        front,
        commas_first=bool(found and found.convention == "given-first"),
        has_volume=bool(fields["volume"]),
    )
    if not found:
        # No person names: an organisation first ("World Health Organization. Title. Journal"),
        # or a title alone ("Title. Journal. 2020").
        pieces = [p for p in _BOUNDARY.split(front) if p.strip()]
        org, remainder = pieces[0].rstrip(". "), front[len(pieces[0]) :].strip()
        if len(pieces) >= 3 or (len(pieces) == 2 and not fields["volume"] and (has_url or not journal)):
            fields["authors"] = [Author(org)]
            title, journal = _split_title_journal(remainder) if len(pieces) >= 3 else (remainder, None)
            if journal and journal.strip(". ") == org:
                journal = None  # "Public Health England. Title. Public Health England; 2017": the publisher
    title = title.strip()
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1]
    if not title:
        return "no title"
    if "year" not in fields:
        if not (fields["volume"] and fields["pages"] and journal):
            return "no year"
        fields["year"] = None
    fields["title"] = title
    fields["journal"] = _journal_name(journal) if journal else None
    return fields
