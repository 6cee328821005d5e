"""`resolve --updates`: every cited DOI fetched again, and what changed in its update flags.

The flags (retractions, corrections, expressions of concern, from Crossref's `updated-by`
and `update-to`) of each stored record are read before the run and after it; the
difference is the report. A cited paper newly retracted (or withdrawn, or removed) makes
the command fail, so that a co-author's CI run goes red on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from exocli.refparse import ParsedReference, doi_key
from exocli.workspace import Workspace

RETRACTING = {"retraction", "partial_retraction", "withdrawal", "removal"}


@dataclass(frozen=True)
class Flag:
    relation: str
    type: str
    label: str
    notice: str  # the notice's DOI
    date: str

    def describe(self) -> str:
        parts = [f"notice {self.notice}" if self.notice else "", self.date]
        extra = ", ".join(p for p in parts if p)
        return self.label + (f" ({extra})" if extra else "")

    @property
    def retracting(self) -> bool:
        return self.relation == "updated-by" and self.type in RETRACTING


@dataclass
class FlagChange:
    number: int | None
    doi: str
    added: list[Flag] = field(default_factory=list)
    removed: list[Flag] = field(default_factory=list)
    last_checked: str = ""  # when the record compared against was fetched ("" if never)

    def lines(self) -> list[str]:
        label = f"[{self.number}] {self.doi}" if self.number is not None else self.doi
        since = f" (since {self.last_checked[:10]})" if self.last_checked else " (first check)"
        return [f"{label}: flag added{since}: {flag.describe()}" for flag in self.added] + [
            f"{label}: flag removed{since}: {flag.describe()}" for flag in self.removed
        ]


def stored_flags(ws: Workspace) -> dict[str, tuple[set[Flag], str]]:
    """DOI key -> (the flags of its stored record, when that record was fetched)."""
    from exocli.crossref import read_cache
    from exocli.verify import update_flags

    works, _ = read_cache(ws)
    flags: dict[str, tuple[set[Flag], str]] = {}
    for key, record in works.items():
        message = record.get("message") or {}
        found = {
            Flag(f["relation"], f["type"], f["label"], f["doi"], f["date"]) for f in update_flags(message)
        }
        flags[key] = (found, str(record.get("fetched_at") or ""))
    return flags


def changes(
    references: Iterable[ParsedReference],
    before: dict[str, tuple[set[Flag], str]],
    after: dict[str, tuple[set[Flag], str]],
    run_started: str,
) -> list[FlagChange]:
    """Per cited DOI, the flags its new record has and the old one had not, and the reverse.

    A DOI not fetched by this run (it failed: its record is older than `run_started`) keeps
    its old record, and no change is reported for it."""
    out = []
    for ref in references:
        if not ref.doi:
            continue
        key = doi_key(ref.doi)
        old, checked = before.get(key, (set(), ""))
        new, fetched = after.get(key, (old, checked))
        if fetched < run_started:
            continue  # not fetched again
        added = sorted(new - old, key=lambda f: (f.relation, f.type, f.notice))
        removed = sorted(old - new, key=lambda f: (f.relation, f.type, f.notice))
        if added or removed:
            out.append(FlagChange(ref.number, ref.doi, added, removed, checked))
    return out
