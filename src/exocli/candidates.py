"""Candidates from update searches: one TOML file per paper in refs/candidates/, and triage.

A candidate is a paper an update search found that the review does not cite yet. Its file
is named after its DOI, so the same paper found by two co-authors on two branches is one
file, and a decision is one line of a diff. A decision is never undone by a later run:
a paper decided once (accepted, rejected, deferred) is not proposed again, nor is another
version of it (its preprint, or its published version), which Crossref's `relation` links.

Deduplication against the review goes by DOI, then by title + first author + year
(folded: case, accents and punctuation do not count), as `refs import` matches studies.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from exocli.errors import DataError, NotFoundError, UsageError
from exocli.refparse import doi_key, try_normalize_doi
from exocli.workspace import Workspace

STATUSES = ("new", "deferred", "accepted", "rejected")
DECIDED = ("accepted", "rejected")
# Crossref relation -> what the related work is to this one.
VERSION_RELATIONS = {"has-preprint": "preprint", "is-preprint-of": "published version"}
HEADER = "# A candidate from an update search (exocli candidates list|show|accept|reject|defer).\n"
KEYS = (
    "doi", "title", "authors", "year", "journal", "volume", "issue", "pages", "type", "abstract",
    "found_by", "found_at", "score", "reasons", "versions", "version_of", "status", "reason",
    "decided_at", "reference",
)  # fmt: skip
_MARKUP = re.compile(r"<[^>]+>")
_ID_UNSAFE = re.compile(r"[^a-z0-9._-]+")


@dataclass
class Candidate:
    doi: str
    title: str
    authors: list[str] = field(default_factory=list)  # "Family, Given" (an organisation: its name)
    year: int | None = None
    journal: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    type: str = ""
    abstract: str = ""
    found_by: list[str] = field(default_factory=list)  # the saved searches that found it
    found_at: str = ""  # the day it was first found
    score: int = 0
    reasons: list[str] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)  # "preprint 10.1101/..." (from `relation`)
    version_of: str = ""  # a reference of the review this is another version of (its key)
    status: str = "new"
    reason: str = ""  # why it was decided so (reject --reason)
    decided_at: str = ""
    reference: str = ""  # the study it became (accept)
    id: str = ""  # the file's name

    @property
    def first_author(self) -> str | None:
        return self.authors[0].split(",")[0].strip() if self.authors else None

    def related(self) -> list[tuple[str, str]]:
        """(what the other work is to this one, its DOI) for each linked version."""
        return [(what, doi) for what, _, doi in (entry.rpartition(" ") for entry in self.versions)]

    def related_dois(self, what: str | None = None) -> list[str]:
        return [doi for kind, doi in self.related() if what is None or kind == what]


def candidates_dir(ws: Workspace) -> Path:
    return ws.refs_dir / "candidates"


def candidate_id(doi: str) -> str:
    """The file name for a DOI: readable, and the same on every co-author's machine."""
    slug = _ID_UNSAFE.sub("-", doi_key(doi)).strip("-.")
    if len(slug) > 80 or not slug:
        slug = slug[:70].rstrip("-.") + "-" + hashlib.sha256(doi_key(doi).encode()).hexdigest()[:8]
    return slug


def format_candidate(candidate: Candidate) -> str:
    from exocli.records import toml_value

    lines = [HEADER.rstrip("\n")]
    for key in KEYS:
        value = getattr(candidate, key)
        if value in (None, "", []) or (key == "score" and not value and not candidate.reasons):
            continue
        lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


def read_candidate(ws: Workspace, path: Path) -> Candidate:
    from exocli.studies import read_toml

    try:
        data = read_toml(ws, path)
    except FileNotFoundError as exc:  # gone since the folder was listed (a pull, a co-author)
        raise DataError(f"{ws.relative(path)}: removed while being read; run the command again") from exc
    return _from_document(data, ws.relative(path), path.stem)


def _from_document(data: Mapping[str, Any], where: str, stem: str) -> Candidate:
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise DataError(f"{where}: unknown field {unknown[0]!r}")
    values: dict[str, Any] = {}
    for key in KEYS:
        if key not in data:
            continue
        value = data[key]
        if key in ("authors", "found_by", "reasons", "versions"):
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif key in ("year", "score"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise DataError(f"{where}: {key!r} has the wrong type")
        values[key] = value
    if not values.get("doi") or try_normalize_doi(values["doi"]) is None:
        raise DataError(f"{where}: 'doi' must be a DOI")
    if not values.get("title", "").strip():
        raise DataError(f"{where}: 'title' must be non-empty text")
    status = values.get("status", "new")
    if status not in STATUSES:
        raise DataError(f"{where}: status must be one of {', '.join(STATUSES)}, not {status!r}")
    return Candidate(**values, id=stem)


def load_candidates(ws: Workspace) -> dict[str, Candidate]:
    """Every stored candidate, by DOI key."""
    folder = candidates_dir(ws)
    if not folder.is_dir():
        return {}
    found: dict[str, Candidate] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith("."):
            continue
        candidate = read_candidate(ws, path)
        found[doi_key(candidate.doi)] = candidate
    return found


# --- from a Crossref item ----------------------------------------------------------------------


def plain_abstract(text: str | None) -> str:
    """Crossref's JATS abstract as plain text, without its leading 'Abstract' heading."""
    if not text:
        return ""
    plain = " ".join(_MARKUP.sub(" ", text).split())
    return re.sub(r"^(?:abstract|summary)\s*[:.]?\s+", "", plain, flags=re.IGNORECASE)


def from_item(item: Mapping[str, Any], search: str, today: str) -> Candidate:
    """A Crossref work as a candidate (the caller checked that it has a DOI and a title)."""
    from exocli.verify import record_titles, record_year

    authors = []
    for author in item.get("author") or []:
        family = str(author.get("family") or "").strip()
        given = str(author.get("given") or "").strip()
        name = str(author.get("name") or "").strip()
        if family:
            authors.append(f"{family}, {given}" if given else family)
        elif name:
            authors.append(name)
    journals = item.get("container-title") or item.get("short-container-title") or []
    versions = []
    for relation, what in VERSION_RELATIONS.items():
        for linked in (item.get("relation") or {}).get(relation) or []:
            if isinstance(linked, Mapping) and str(linked.get("id-type", "doi")).lower() == "doi":
                doi = try_normalize_doi(str(linked.get("id", "")))
                if doi:
                    versions.append(f"{what} {doi}")
    title = " ".join(
        _MARKUP.sub("", (record_titles(item) or [""])[-1 if item.get("subtitle") else 0]).split()
    )
    return Candidate(
        doi=str(item["DOI"]),
        title=title,
        authors=authors,
        year=record_year(item),
        journal=str(journals[0]) if journals else None,
        volume=item.get("volume"),
        issue=item.get("issue"),
        pages=item.get("page") or item.get("article-number"),
        type=str(item.get("type") or ""),
        abstract=plain_abstract(item.get("abstract")),
        found_by=[search],
        found_at=today,
        versions=versions,
        id=candidate_id(str(item["DOI"])),
    )


# --- deduplication -------------------------------------------------------------------------------


def title_identity(title: str | None, first_author: str | None, year: int | None) -> tuple[str, ...] | None:
    from exocli.verify import fold

    if not (title and first_author and year):
        return None
    return ("title", fold(title), fold(first_author), str(year))


@dataclass(frozen=True)
class KnownReference:
    number: int
    key: str


class ReviewIndex:
    """The review's references by DOI and by title + first author + year (from the database)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.by_doi: dict[str, KnownReference] = {}
        self.by_title: dict[tuple[str, ...], KnownReference] = {}
        rows = conn.execute(
            "SELECT r.number, r.citekey, r.doi, r.title, r.year,"
            " (SELECT family FROM ref_authors a WHERE a.ref_id = r.id ORDER BY position LIMIT 1)"
            " FROM refs r WHERE r.number IS NOT NULL"
        )
        for number, key, doi, title, year, family in rows:
            known = KnownReference(number, key or "")
            if doi:
                self.by_doi.setdefault(doi_key(doi), known)
            identity = title_identity(title, family, year)
            if identity is not None:
                self.by_title.setdefault(identity, known)


@dataclass
class Triage:
    """What became of a run's items: new candidates, known ones found again, and the rest."""

    new: list[Candidate] = field(default_factory=list)
    again: list[Candidate] = field(default_factory=list)  # known, undecided: found by one more search
    skipped: dict[str, list[str]] = field(default_factory=dict)  # why -> DOIs
    problems: list[str] = field(default_factory=list)

    def skip(self, why: str, doi: str) -> None:
        self.skipped.setdefault(why, []).append(doi)


Identity = tuple[str, ...] | None


def triage(
    items: Iterable[Mapping[str, Any]],
    review: ReviewIndex,
    known: Mapping[str, Candidate],
    search: str,
    today: str,
    made: dict[str, tuple[Candidate, Identity]] | None = None,
) -> Triage:
    """Each item: a new candidate, a known one found again, or skipped with the reason.

    `made` keeps, by DOI key, each candidate made from an item (and its title identity) for
    the next triage of the same run and search: a run triages each page as it comes, then all
    of them together, and making a candidate is most of the cost. Each use gets a copy."""
    made = {} if made is None else made
    result = Triage()
    batch: dict[str, Candidate] = {}  # DOI key -> candidate made in this run
    titles: dict[tuple[str, ...], Candidate] = {}
    for candidate in known.values():
        identity = title_identity(candidate.title, candidate.first_author, candidate.year)
        if identity is not None:
            titles.setdefault(identity, candidate)
    for position, item in enumerate(items, 1):
        doi = try_normalize_doi(str(item.get("DOI") or ""))
        if doi is None:
            title = " ".join(str((item.get("title") or ["(no title)"])[0]).split())[:60]
            result.problems.append(f"item {position} ({title!r}) has no DOI: not proposed")
            continue
        if not any(str(t).strip() for t in item.get("title") or []):
            result.problems.append(f"{doi} has no title: not proposed")
            continue
        key = doi_key(doi)
        if key in batch:
            continue  # the same work on two pages (a restarted cursor): once
        if key not in made:
            fresh = from_item({**item, "DOI": doi}, search, today)
            made[key] = fresh, title_identity(fresh.title, fresh.first_author, fresh.year)
        original, identity = made[key]
        candidate = _copy(original)
        why = _known_why(candidate, identity, review, known, titles, result)
        if why is not None:
            result.skip(why, doi)
            continue
        batch[key] = candidate
        if identity is not None:
            titles.setdefault(identity, candidate)
        result.new.append(candidate)
    # A preprint and its published version found together: the published one is proposed.
    # Either side may carry the link: the preprint's is-preprint-of, the published one's has-preprint.
    published_of: dict[str, str] = {}  # preprint DOI key -> its published version found here
    for candidate in result.new:
        for preprint in candidate.related_dois("preprint"):
            published_of.setdefault(doi_key(preprint), candidate.doi)
    kept = []
    for candidate in result.new:
        published = [d for d in candidate.related_dois("published version") if doi_key(d) in batch]
        published += [published_of[doi_key(candidate.doi)]] if doi_key(candidate.doi) in published_of else []
        published = [d for d in published if doi_key(d) != doi_key(candidate.doi)]
        if published:
            result.skip(f"preprint of candidate {published[0]}", candidate.doi)
        else:
            kept.append(candidate)
    result.new = kept
    return result


def _copy(candidate: Candidate) -> Candidate:
    """A candidate whose lists may change without changing the original's."""
    return replace(
        candidate,
        authors=list(candidate.authors),
        found_by=list(candidate.found_by),
        reasons=list(candidate.reasons),
        versions=list(candidate.versions),
    )


def _known_why(
    candidate: Candidate,
    identity: Identity,
    review: ReviewIndex,
    known: Mapping[str, Candidate],
    titles: Mapping[tuple[str, ...], Candidate],
    result: Triage,
) -> str | None:
    """Why the candidate is not new (None: it is), recording a known one found again."""
    key = doi_key(candidate.doi)
    ref = review.by_doi.get(key)
    if ref is not None:
        return f"in the review (reference {ref.number})"
    ref = review.by_title.get(identity) if identity else None
    if ref is not None:
        return f"in the review (reference {ref.number}: same title, first author and year)"
    for what, related in candidate.related():
        linked = review.by_doi.get(doi_key(related))
        if linked is None:
            continue
        if what == "published version":
            return f"preprint of reference {linked.number}"
        # the review cites the preprint: its published version is worth a look
        candidate.version_of = linked.key
        candidate.reasons.insert(0, f"published version of reference {linked.number} (a preprint)")
    old = known.get(key)
    if old is not None:
        if old.status in DECIDED or old.status == "deferred":
            return f"{old.status} earlier"
        if candidate.found_by[0] not in old.found_by:
            result.again.append(replace(old, found_by=[*old.found_by, *candidate.found_by]))
        return "a candidate already"
    for related in candidate.related_dois():
        other = known.get(doi_key(related))
        if other is not None and other.status != "new":
            return f"another version of a candidate {other.status} earlier ({other.doi})"
    same = titles.get(identity) if identity else None
    if same is not None and doi_key(same.doi) != key:
        if same.status in DECIDED or same.status == "deferred":
            return f"same title, first author and year as a candidate {same.status} earlier ({same.doi})"
        return f"same title, first author and year as candidate {same.doi}"
    return None


# --- choosing and deciding -------------------------------------------------------------------------


def find(candidates: Mapping[str, Candidate], ident: str) -> Candidate:
    """A candidate by its DOI (any form) or its file name."""
    doi = try_normalize_doi(ident)
    if doi is not None and doi_key(doi) in candidates:
        return candidates[doi_key(doi)]
    for candidate in candidates.values():
        if candidate.id == ident.strip().removesuffix(".toml"):
            return candidate
    raise NotFoundError(f"no candidate {ident!r} (`exocli candidates list` shows them)")


def ordered(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Another version of a cited preprint first, then by score, then newest, then by DOI."""
    return sorted(candidates, key=lambda c: (not c.version_of, -c.score, -(c.year or 0), doi_key(c.doi)))


def decided(candidate: Candidate, status: str, reason: str, when: str) -> Candidate:
    if status not in STATUSES[1:]:
        raise UsageError(f"a decision is accepted, rejected or deferred, not {status!r}")
    if candidate.status in DECIDED:
        raise DataError(
            f"candidate {candidate.doi} was {candidate.status} on {candidate.decided_at[:10]}; decisions stay"
            " (edit its file to change one)"
        )
    return replace(candidate, status=status, reason=" ".join(reason.split()), decided_at=when)
