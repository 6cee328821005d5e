"""Draft claims in the record: written by `extract`, settled by `claims accept|reject|review`.

A draft is a claim with `status = "draft"` in its study's file, holding where it was read
(manuscript, paragraph, sentence, sentence_hash), never the sentence. Running `extract`
again on an edited manuscript compares the sentences it cites from with the claims read
from that manuscript before, by hash:

- a sentence already read gives no new draft (and an accepted or rejected one stays so);
- a claim whose sentence moved keeps its place, renumbered;
- a claim whose sentence is gone is flagged "sentence changed" (the same place now holds
  another citing sentence) or "sentence removed": flagged for review, never deleted.

Every write goes through store.write_change: all studies it touches, or none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from exocli.citations import ListEntry, ReferenceIndex
from exocli.errors import DataError, NotFoundError, UsageError
from exocli.evidence import Claim, validate_claim
from exocli.extraction import CitedReference, CitingSentence, Draft, Extraction, extract
from exocli.manuscript import Manuscript, Sentence, read_manuscript
from exocli.records import workspace_lock
from exocli.store import Change, load_vocabularies, write_change
from exocli.studies import Study, new_claim_id, read_study
from exocli.vocab import VOCABS, vocabulary_from_db
from exocli.workspace import Workspace

CHANGED = "sentence changed"
REMOVED = "sentence removed"


@dataclass
class Settled:
    """A claim read before from the manuscript, and what became of its sentence."""

    claim_id: int
    ref: int | None
    location: str
    what: str  # "unchanged", "moved", CHANGED, REMOVED


@dataclass
class ExtractReport:
    manuscript: str
    extraction: Extraction
    new: list[tuple[int, Draft]] = field(default_factory=list)
    settled: list[Settled] = field(default_factory=list)
    repeats: int = 0  # drafts that would repeat a claim the study has
    dry_run: bool = False

    @property
    def changed(self) -> list[Settled]:
        return [s for s in self.settled if s.what in (CHANGED, REMOVED)]

    def new_sentences(self) -> int:
        return len({(d.paragraph, d.sentence) for _, d in self.new})

    def unknown_citations(self) -> list[tuple[CitingSentence, str]]:
        return [(s, target) for s in self.extraction.sentences for target in s.unknown]


def reference_index(conn: sqlite3.Connection) -> tuple[ReferenceIndex, dict[int, CitedReference]]:
    """The list as citations name it (number, key, first author + year) and as drafts cite it."""
    rows = conn.execute(
        "SELECT r.id, r.number, r.citekey, r.title, r.year,"
        " (SELECT family FROM ref_authors a WHERE a.ref_id = r.id ORDER BY position LIMIT 1)"
        " FROM refs r ORDER BY r.number IS NULL, r.number, r.id"
    ).fetchall()
    entries = [ListEntry(r[0], r[1], r[2] or "", r[5] or "", r[4]) for r in rows]
    refs = {r[0]: CitedReference(r[0], r[1], r[2] or "", r[3] or "") for r in rows}
    return ReferenceIndex(entries), refs


def manuscript_name(ws: Workspace, path: Path) -> str:
    """How the record names a manuscript: relative to the workspace when inside it."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(ws.root.resolve()))
    except ValueError:
        return str(resolved)


def read_and_extract(
    ws: Workspace, conn: sqlite3.Connection, path: Path, fmt: str | None = None
) -> Extraction:
    manuscript = read_manuscript(path, fmt)
    index, refs = reference_index(conn)
    if not refs:
        raise DataError(
            "the workspace has no references: import the manuscript's list first (`exocli refs import`)"
        )
    vocabs = {name: vocabulary_from_db(conn, name) for name in VOCABS}
    about = _study_of_abstract(conn, path, manuscript.about, refs) if manuscript.about else None
    return extract(manuscript, index, refs, vocabs, about=about)


def _study_of_abstract(
    conn: sqlite3.Connection, path: Path, about: str, refs: Mapping[int, CitedReference]
) -> CitedReference:
    """The reference an abstract is of: by its study key, else by its DOI."""
    from exocli.refparse import try_normalize_doi

    row = conn.execute("SELECT id FROM refs WHERE citekey = ?", (about,)).fetchone()
    doi = try_normalize_doi(about)
    if row is None and doi is not None:
        row = conn.execute("SELECT id FROM refs WHERE doi = ?", (doi,)).fetchone()  # NOCASE
    if row is None or row[0] not in refs:
        raise DataError(
            f"{path}: the study of this abstract ({about}) is not in the reference list;"
            f" accept it first (`exocli candidates accept {about}`)"
        )
    return refs[row[0]]


def extract_drafts(
    ws: Workspace, conn: sqlite3.Connection, path: Path, fmt: str | None = None, dry_run: bool = False
) -> ExtractReport:
    """Propose drafts from a manuscript and write the new ones (all studies at once)."""
    with workspace_lock(ws):
        extraction = read_and_extract(ws, conn, path, fmt)
        name = manuscript_name(ws, path)
        report = ExtractReport(name, extraction, dry_run=dry_run)
        vocabs = load_vocabularies(ws)
        studies: dict[str, Study] = {}
        befores: dict[str, Study | None] = {}

        def study(key: str, number: int | None) -> Study:
            if key not in studies:
                before = read_study(ws, key, number, vocabs)
                befores[key] = before
                studies[key] = Study(key, before.reference, list(before.claims))
            return studies[key]

        earlier = _claims_from(conn, name)
        _settle(report, extraction.manuscript, earlier, study)
        known = {row["sentence_hash"] for row in earlier}
        taken = _TakenIds(conn)
        today = date.today().isoformat()
        from exocli.curation import current_user

        user = current_user()
        for draft in extraction.drafts:
            if draft.sentence_hash in known:
                continue
            held = study(draft.ref.key, draft.ref.number)
            entry = {**draft.entry(name), "id": new_claim_id(taken), "added_by": user, "added_at": today}
            try:
                claim = validate_claim(entry, vocabs, None)
            except DataError as exc:  # pragma: no cover - drafts hold vocabulary codes only
                raise DataError(f"{draft.location(name)}: {exc}") from exc
            claim = replace(claim, ref=draft.ref.number)
            if any(_says_the_same(claim, c) for c in held.claims):
                report.repeats += 1
                continue
            taken.also.add(claim.id)
            held.claims.append(claim)
            report.new.append((claim.id, draft))
        changed = {key: s for key, s in studies.items() if s.claims != befores[key].claims}  # type: ignore[union-attr]
        if changed and not dry_run:
            write_change(
                ws,
                conn,
                Change(studies=dict(changed), before={k: befores[k] for k in changed}),
                vocabs.pathways,
            )
    return report


def _says_the_same(draft: Claim, other: Claim) -> bool:
    """A claim of the study already holds the draft's finding: the same source and cargo,
    and an effect in common (a curated claim, or a draft of another sentence)."""
    if other.status == "rejected" and other.sentence_hash != draft.sentence_hash:
        return False
    return (
        draft.source == other.source
        and sorted(c.name.casefold() for c in draft.cargo) == sorted(c.name.casefold() for c in other.cargo)
        and bool(set(draft.effects) & set(other.effects))
    )


def _claims_from(conn: sqlite3.Connection, name: str) -> list[sqlite3.Row]:
    cursor = conn.execute(
        "SELECT c.id, c.status, c.paragraph, c.sentence, c.sentence_hash, c.flag, r.number, r.citekey"
        " FROM claims c JOIN refs r ON r.id = c.ref_id WHERE c.manuscript = ? ORDER BY c.id",
        (name,),
    )
    cursor.row_factory = sqlite3.Row
    return cursor.fetchall()


def _settle(
    report: ExtractReport, manuscript: Manuscript, earlier: Sequence[sqlite3.Row], study: Any
) -> None:
    """What became of each earlier claim's sentence; flags and new places go to their studies."""
    by_hash = manuscript.by_hash()
    for row in earlier:
        location = _location(report.manuscript, row["paragraph"], row["sentence"])
        found = by_hash.get(row["sentence_hash"])
        if found is not None:
            paragraph, sentence = found
            moved = (paragraph.number, sentence.number) != (row["paragraph"], row["sentence"])
            updates: dict[str, Any] = {}
            if moved:
                updates.update(
                    paragraph=paragraph.number, sentence=sentence.number, section=paragraph.section
                )
            if row["flag"] in (CHANGED, REMOVED):
                updates["flag"] = ""  # the sentence is back as it was
            what = "moved" if moved else "unchanged"
        else:
            at = manuscript.sentence_at(row["paragraph"] or 0, row["sentence"] or 0)
            # in an abstract every sentence is about the study: one in the claim's place is an edit
            edited = at is not None and (
                bool(manuscript.about) or _still_cites(at[1], row["number"], row["citekey"])
            )
            what = CHANGED if edited else REMOVED
            updates = {"flag": what} if row["flag"] != what else {}
        report.settled.append(Settled(row["id"], row["number"], location, what))
        if updates:
            held: Study = study(row["citekey"], row["number"])
            held.claims = [replace(c, **updates) if c.id == row["id"] else c for c in held.claims]


def _still_cites(sentence: Sentence, number: int | None, key: str | None) -> bool:
    """The sentence now at a claim's place cites its reference: the sentence was edited
    (an author-year citation is taken to, as its author and year may have been edited too)."""
    for citation in sentence.citations:
        if number in citation.numbers or citation.authors:
            return True
        if key and key.casefold() in (k.casefold() for k in citation.keys):
            return True
    return False


def _location(name: str, paragraph: int | None, sentence: int | None) -> str:
    return f"{name} paragraph {paragraph} sentence {sentence}"


class _TakenIds:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn, self.also = conn, set[int]()

    def __contains__(self, claim_id: object) -> bool:
        if claim_id in self.also:
            return True
        return self.conn.execute("SELECT 1 FROM claims WHERE id = ?", (claim_id,)).fetchone() is not None


# --------------------------------------------------------------------------- accept / reject


@dataclass
class Decision:
    claim: Claim
    before: str  # its status before


def draft_ids(conn: sqlite3.Connection, ids: Iterable[int], every: bool) -> list[int]:
    """The drafts to decide: those named (each must be a draft), or every draft."""
    if every:
        return [r[0] for r in conn.execute("SELECT id FROM claims WHERE status = 'draft' ORDER BY id")]
    chosen = list(dict.fromkeys(ids))
    if not chosen:
        raise UsageError("name the drafts (claim ids) to decide, or give --all")
    for claim_id in chosen:
        row = conn.execute("SELECT status FROM claims WHERE id = ?", (claim_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no claim {claim_id} in this workspace")
        if row[0] != "draft":
            raise DataError(f"claim {claim_id} is not a draft (it is {row[0]}); nothing was changed")
    return chosen


def decide(
    ws: Workspace,
    conn: sqlite3.Connection,
    ids: Sequence[int],
    status: str,
    changes: Mapping[int, Mapping[str, Any]] | None = None,
) -> list[Decision]:
    """Accept (status curated) or reject drafts, in one write; `changes` edits fields too."""
    if status not in ("curated", "rejected"):
        raise UsageError(f"a draft is accepted or rejected, not made {status!r}")
    with workspace_lock(ws):
        vocabs = load_vocabularies(ws)
        rows = {
            r[0]: (r[1], r[2])
            for r in conn.execute(
                "SELECT c.id, r.citekey, r.number FROM claims c JOIN refs r ON r.id = c.ref_id"
                f" WHERE c.id IN ({', '.join('?' for _ in ids)})",
                list(ids),
            )
        }
        studies: dict[str, Study] = {}
        befores: dict[str, Study | None] = {}
        decided: list[Decision] = []
        for claim_id in ids:
            if claim_id not in rows:
                raise NotFoundError(f"no claim {claim_id} in this workspace")
            key, number = rows[claim_id]
            if key not in studies:
                before = read_study(ws, key, number, vocabs)
                befores[key] = before
                studies[key] = Study(key, before.reference, list(before.claims))
            held = studies[key]
            for index, claim in enumerate(held.claims):
                if claim.id == claim_id:
                    updated = replace(claim, status=status, flag="")
                    if changes and claim_id in changes:
                        from exocli.records import claim_entry

                        entry = {**claim_entry(updated), **changes[claim_id]}
                        entry.pop("ref", None)
                        try:
                            updated = validate_claim(entry, vocabs, None)
                        except DataError as exc:
                            raise DataError(f"claim {claim_id}: {exc}") from exc
                        updated = replace(updated, ref=claim.ref)
                    held.claims[index] = updated
                    decided.append(Decision(updated, claim.status))
                    break
        if decided:
            write_change(ws, conn, Change(studies=dict(studies), before=befores), vocabs.pathways)
    return decided


def draft_sentence(ws: Workspace, claim: Mapping[str, Any]) -> tuple[str, str]:
    """The sentence a draft was read from, from the manuscript file as it is now, and a
    note when it is not the sentence the draft was read from any more."""
    name = str(claim.get("manuscript") or "")
    if not name:
        return "", "not read from a manuscript"
    path = Path(name) if Path(name).is_absolute() else ws.root / name
    try:
        manuscript = read_manuscript(path)
    except DataError as exc:
        return "", str(exc)
    found = manuscript.by_hash().get(str(claim.get("sentence_hash") or ""))
    if found is not None:
        return found[1].text, ""
    at = manuscript.sentence_at(int(claim.get("paragraph") or 0), int(claim.get("sentence") or 0))
    if at is not None:
        return at[1].text, "the sentence has changed since the draft was read"
    return "", "the sentence is no longer in the manuscript"
