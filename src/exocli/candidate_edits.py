"""Deciding candidates: accept (the paper joins the reference list), reject, defer.

Accepting writes the new study, the list's order and the candidate's decision in one
all-or-nothing write (store.write_change); rejecting or deferring rewrites the candidate's
file alone, atomically. Each write holds the workspace lock and reads the candidate as it
is on disk then, so a decision made meanwhile (a co-author's, a pull) is not overwritten.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from exocli.candidates import Candidate, candidates_dir, decided, find, format_candidate, load_candidates
from exocli.errors import DataError
from exocli.workspace import Workspace

if TYPE_CHECKING:
    from exocli.reference_edits import StudyMetadata


@dataclass
class Accepted:
    candidate: Candidate
    number: int
    key: str
    warnings: list[str]


def _metadata(candidate: Candidate) -> StudyMetadata:
    from exocli.reference_edits import StudyMetadata

    authors = []
    for name in candidate.authors:
        family, _, given = name.partition(",")
        authors.append((family.strip(), given.strip()))
    return StudyMetadata(
        title=candidate.title,
        authors=authors,
        year=candidate.year,
        journal=candidate.journal,
        volume=candidate.volume,
        issue=candidate.issue,
        pages=candidate.pages,
    )


def accept(ws: Workspace, conn: sqlite3.Connection, ident: str) -> Accepted:
    """The candidate becomes the list's last reference (full given names kept)."""
    from exocli.crossref import now
    from exocli.reference_edits import add_reference

    candidate = find(load_candidates(ws), ident)
    if candidate.status == "accepted":
        raise DataError(f"candidate {candidate.doi} was accepted already, as {candidate.reference}")
    if candidate.status == "rejected":
        raise DataError(
            f"candidate {candidate.doi} was rejected on {candidate.decided_at[:10]}"
            f" ({candidate.reason or 'no reason given'}); decisions stay (edit its file to change one)"
        )
    path = candidates_dir(ws) / f"{candidate.id}.toml"
    chosen: dict[str, Candidate] = {}

    def decision(key: str, number: int) -> dict[Path, str]:
        done = replace(decided(candidate, "accepted", candidate.reason, now()), reference=key)
        chosen["done"] = done
        return {path: format_candidate(done)}

    change = add_reference(ws, conn, candidate.doi, _metadata(candidate), None, with_files=decision)
    return Accepted(chosen["done"], change.number, change.key, change.warnings)


def decide(ws: Workspace, ident: str, status: str, reason: str) -> Candidate:
    """Reject or defer one candidate (its file rewritten; nothing else changes)."""
    from exocli.crossref import now
    from exocli.records import workspace_lock
    from exocli.textio import atomic_write

    with workspace_lock(ws):
        candidate = find(load_candidates(ws), ident)
        done = decided(candidate, status, reason or candidate.reason, now())
        atomic_write(candidates_dir(ws) / f"{candidate.id}.toml", format_candidate(done))
    return done
