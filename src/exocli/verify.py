"""Does a Crossref record describe the reference as the review wrote it? (pure functions)"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exocli.refparse import ParsedReference

TITLE_SAME = 0.9  # at or above: the same title, give or take punctuation and markup
TITLE_OTHER_PAPER = 0.6  # below: another paper altogether
ACCEPT_SCORE = 0.85  # a bibliographic-search winner needs this score...
ACCEPT_MARGIN = 0.1  # ...and this lead over the runner-up
FLAG_TYPES = {
    "retraction": "retracted",
    "partial_retraction": "partly retracted",
    "withdrawal": "withdrawn",
    "removal": "removed",
    "expression_of_concern": "expression of concern",
    "correction": "corrected",
    "erratum": "corrected",
}
_JOURNAL_STOP = {"of", "the", "and", "for", "in", "on", "&", "a", "an", "de", "la"}


_GREEK_WORDS = str.maketrans({"α": "alpha", "β": "beta", "γ": "gamma", "κ": "kappa", "δ": "delta"})
_MARKUP = re.compile(r"<[^>]+>")
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase ASCII words: markup, accents and punctuation do not matter."""
    if "<" in text:
        text = _MARKUP.sub(" ", text)
    text = text.lower().translate(_GREEK_WORDS)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_ASCII_WORD.findall(text))


def title_similarity(a: str | None, b: str | None) -> float:
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, fold(a), fold(b)).ratio()


def record_titles(message: Mapping[str, Any]) -> list[str]:
    titles = [t for t in message.get("title") or [] if t]
    subtitles = [s for s in message.get("subtitle") or [] if s]
    combined = [f"{t}: {s}" for t in titles for s in subtitles]
    return titles + combined


def record_years(message: Mapping[str, Any]) -> set[int]:
    years = set()
    for key in ("issued", "published-print", "published-online", "published"):
        parts = (message.get(key) or {}).get("date-parts") or []
        if parts and parts[0] and parts[0][0]:
            years.add(int(parts[0][0]))
    return years


def record_year(message: Mapping[str, Any]) -> int | None:
    for key in ("published-print", "issued", "published-online", "published"):
        parts = (message.get(key) or {}).get("date-parts") or []
        if parts and parts[0] and parts[0][0]:
            return int(parts[0][0])
    return None


def record_first_author(message: Mapping[str, Any]) -> str | None:
    authors = message.get("author") or []
    first = next((a for a in authors if a.get("sequence") == "first"), authors[0] if authors else None)
    if not first:
        return None
    name = first.get("family") or first.get("name")
    return str(name) if name else None


def journal_matches(abbreviation: str | None, message: Mapping[str, Any]) -> bool | None:
    """NLM abbreviation vs the record's journal names; None when either side is missing."""
    names = [*(message.get("short-container-title") or []), *(message.get("container-title") or [])]
    if not abbreviation or not names:
        return None
    short = [w for w in fold(abbreviation).split() if w not in _JOURNAL_STOP]
    for name in names:
        full = [w for w in fold(name).split() if w not in _JOURNAL_STOP]
        if full == short or _abbreviates(short, full):
            return True
        if difflib.SequenceMatcher(None, " ".join(short), " ".join(full)).ratio() >= 0.8:
            return True
    return False


def _abbreviates(short: list[str], full: list[str]) -> bool:
    """Each abbreviated word is a prefix of the next full word, in order ('j neurotrauma')."""
    index = 0
    for word in short:
        while index < len(full) and not full[index].startswith(word):
            index += 1
        if index == len(full):
            return False
        index += 1
    return bool(short)


def _same_family(a: str | None, b: str | None) -> bool | None:
    if not a or not b:
        return None
    x, y = fold(a).replace(" ", ""), fold(b).replace(" ", "")
    return x == y or x.startswith(y) or y.startswith(x)


@dataclass
class Verdict:
    status: str  # ok | mismatch
    differences: list[str] = field(default_factory=list)
    title_similarity: float = 0.0


def verify(ref: ParsedReference, message: Mapping[str, Any]) -> Verdict:
    """Compare title, first author, year and journal; a different title is a different paper."""
    similarity = max((title_similarity(ref.title or ref.raw, t) for t in record_titles(message)), default=0.0)
    differences = []
    record_title = (record_titles(message) or ["(no title)"])[0]
    if not record_titles(message):
        differences.append("title: the Crossref record has none, so the paper cannot be confirmed")
    elif similarity < TITLE_OTHER_PAPER:
        differences.append(f"title: the DOI's record is another paper ({record_title!r})")
    elif similarity < TITLE_SAME:
        differences.append(f"title: {similarity:.2f} similar ({record_title!r})")
    if _same_family(ref.first_author, record_first_author(message)) is False:
        differences.append(f"first author: {ref.first_author} vs {record_first_author(message)}")
    years = record_years(message)
    if ref.year and years and ref.year not in years:
        differences.append(f"year: {ref.year} vs {'/'.join(str(y) for y in sorted(years))}")
    if journal_matches(ref.journal, message) is False:
        names = message.get("short-container-title") or message.get("container-title") or []
        differences.append(f"journal: {ref.journal} vs {names[0] if names else '?'}")
    return Verdict("mismatch" if differences else "ok", differences, similarity)


def score_candidate(ref: ParsedReference, item: Mapping[str, Any]) -> float:
    """0..1: how well a search hit matches the reference (title weighs most)."""
    title = max((title_similarity(ref.title or ref.raw, t) for t in record_titles(item)), default=0.0)
    author = _same_family(ref.first_author, record_first_author(item))
    years = record_years(item)
    year = None if not ref.year or not years else ref.year in years
    journal = journal_matches(ref.journal, item)
    score = 0.6 * title
    for weight, value in ((0.15, author), (0.15, year), (0.1, journal)):
        if value is None:
            score += weight * 0.5  # unknown counts half
        elif value:
            score += weight
    return round(score, 4)


@dataclass
class Choice:
    accepted: Mapping[str, Any] | None
    scored: list[tuple[float, Mapping[str, Any]]]


def choose_candidate(ref: ParsedReference, items: list[Mapping[str, Any]]) -> Choice:
    """Accept only a clear winner above the threshold; never simply the first hit."""
    scored = sorted(((score_candidate(ref, item), item) for item in items), key=lambda p: -p[0])
    if not scored:
        return Choice(None, [])
    best = scored[0][0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    accepted = scored[0][1] if best >= ACCEPT_SCORE and best - runner_up >= ACCEPT_MARGIN else None
    return Choice(accepted, scored)


def update_flags(message: Mapping[str, Any]) -> list[dict[str, str]]:
    """Retractions, corrections and expressions of concern, from updated-by and update-to."""
    flags = []
    for relation in ("updated-by", "update-to"):
        updates = message.get(relation)
        for update in updates if isinstance(updates, list) else []:
            if not isinstance(update, Mapping):
                continue
            kind = str(update.get("type", "")).lower().replace("-", "_").replace(" ", "_")
            if kind not in FLAG_TYPES:
                continue
            # A stored record may hold shapes Crossref never sends; a date is then left out.
            updated = update.get("updated")
            parts = updated.get("date-parts") if isinstance(updated, Mapping) else None
            first = parts[0] if isinstance(parts, list) and parts else None
            date = "-".join(str(p) for p in first) if isinstance(first, list) else ""
            flags.append(
                {
                    "relation": relation,
                    "type": kind,
                    "label": FLAG_TYPES[kind] if relation == "updated-by" else f"is a {kind} notice",
                    "source": str(update.get("source", "")),
                    "doi": str(update.get("DOI", "")),
                    "date": date,
                }
            )
    return flags
