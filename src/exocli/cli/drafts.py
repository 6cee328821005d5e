"""`exocli extract` and `exocli claims review|accept|reject`: draft claims from a manuscript."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from exocli.cli import ExocliCommand, FormatOption, database, make_typer, workspace
from exocli.errors import UsageError
from exocli.render import check_format, message, plural

app = make_typer()

DRAFT_TABLE = ("id", "ref", "source", "cargo", "effects", "location", "assignment")
InputFormatOpt = Annotated[
    str | None,
    typer.Option(
        "--input-format",
        help="text, markdown, latex, docx or abstract (default: from the file's extension).",
    ),
]


@app.command(cls=ExocliCommand)
def extract(
    manuscript: Annotated[
        Path,
        typer.Argument(
            help="The manuscript: .txt, .md, .tex or .docx; or a candidate's file (.toml), for its abstract."
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the drafts; write nothing.")] = False,
    input_format: InputFormatOpt = None,
    fmt: FormatOption = "table",
) -> None:
    """Draft claims from the manuscript's citing sentences (status draft: see `claims review`)."""
    fmt = check_format(fmt)
    show_drafts(manuscript, input_format, dry_run, fmt)


def show_drafts(manuscript: Path, input_format: str | None, dry_run: bool, fmt: str) -> None:
    """Extract, then print the new drafts (stdout) and what came of each sentence (stderr)."""
    from exocli.drafts import extract_drafts
    from exocli.render import write_rows

    report = extract_drafts(workspace(), database(), manuscript, input_format, dry_run=dry_run)
    rows = [_draft_row(claim_id, draft, report.manuscript) for claim_id, draft in report.new]
    if rows:
        write_rows(DRAFT_TABLE if fmt in ("table", "markdown") else list(rows[0]), rows, fmt)
    citing = report.extraction.sentences
    verb = "would be" if dry_run else "were"
    # an abstract cites nothing: each of its sentences is about the study
    read = plural(len(citing), "citing sentence")
    if report.extraction.manuscript.about:
        read = plural(len(citing), "sentence") + " of the abstract"
    message(
        f"{report.manuscript}: {read};"
        f" {plural(len(report.new), 'new draft')} {verb} written"
        f" from {plural(report.new_sentences(), 'sentence')}"
        + (f"; {report.repeats} left out, already in a claim of their study" if report.repeats else "")
    )
    unchanged = sum(1 for s in report.settled if s.what in ("unchanged", "moved"))
    if report.settled:
        message(f"Read before: {plural(unchanged, 'claim')} whose sentence is unchanged")
    for settled in report.changed:
        message(f"Flagged claim {settled.claim_id} (ref {settled.ref}): {settled.what} at {settled.location}")
    skipped = [s for s in citing if s.skipped and not s.drafts]
    if skipped:
        reasons: dict[str, int] = {}
        for sentence in skipped:
            reasons[sentence.skipped] = reasons.get(sentence.skipped, 0) + 1
        message(
            "No draft from: " + "; ".join(f"{plural(n, 'sentence')} ({why})" for why, n in reasons.items())
        )
    for sentence, target in report.unknown_citations():
        message(
            f"Warning: paragraph {sentence.paragraph.number} sentence {sentence.sentence.number}"
            f" cites {target}, which is not in the reference list"
        )
    if rows and not dry_run:
        message("Next: `exocli claims review` (on a terminal) or `exocli claims accept|reject ID...`")


def _draft_row(claim_id: int, draft: Any, manuscript: str) -> dict[str, Any]:
    return {
        "id": claim_id,
        "ref": draft.ref.number,
        "key": draft.ref.key,
        "source": draft.source,
        "source_wording": draft.source_wording,
        "cargo_type": draft.cargo_type,
        "cargo": draft.cargo,
        "pathways": draft.pathways,
        "effects": draft.effects,
        "species": draft.species,
        "model": draft.model,
        "injury": draft.injury,
        "route": draft.route,
        "section": draft.section,
        "location": draft.location(manuscript),
        "sentence_hash": draft.sentence_hash,
        "assignment": draft.assignment,
        "from_context": draft.from_context,
    }


IdsArg = Annotated[list[int] | None, typer.Argument(metavar="ID...", help="Draft claim ids.")]
AllOpt = Annotated[bool, typer.Option("--all", help="Every draft of the workspace.")]


def register(claims_app: typer.Typer) -> None:
    """`claims accept|reject|review` live with the other `claims` commands."""

    @claims_app.command("accept", cls=ExocliCommand)
    def claims_accept(ids: IdsArg = None, every: AllOpt = False) -> None:
        """Accept drafts: they become curated claims (query, table and export show them)."""
        _decide(ids, every, "curated")

    @claims_app.command("reject", cls=ExocliCommand)
    def claims_reject(ids: IdsArg = None, every: AllOpt = False) -> None:
        """Reject drafts: kept in the record as rejected, so `extract` does not propose them again."""
        _decide(ids, every, "rejected")

    @claims_app.command("review", cls=ExocliCommand)
    def claims_review(
        ids: IdsArg = None,
    ) -> None:
        """Walk through the drafts on a terminal: each with its sentence; accept, edit, reject or skip."""
        _review(ids or [])


def _decide(ids: list[int] | None, every: bool, status: str) -> None:
    from exocli.drafts import decide, draft_ids

    if ids and every:
        raise UsageError("give draft ids or --all, not both")
    conn = database()
    chosen = draft_ids(conn, ids or [], every)
    if not chosen:
        message("No drafts to decide.")
        return
    decided = decide(workspace(), conn, chosen, status)
    verb = "Accepted" if status == "curated" else "Rejected"
    message(f"{verb} {plural(len(decided), 'draft')}: {', '.join(str(d.claim.id) for d in decided)}")


_EDITABLE = ("source", "cargo_type", "cargo", "effects", "pathways", "species", "model", "injury", "route")


def _review(ids: list[int]) -> None:
    from exocli import query as q
    from exocli.drafts import decide, draft_sentence

    ws, conn = workspace(), database()
    if not sys.stdin.isatty():
        raise UsageError(
            "claims review asks on a terminal; without one use `exocli claims accept|reject ID...` or --all"
        )
    compiled = q.compile_filters(conn, q.Filters(refs=[]), q.Vocabs.load(conn), statuses=("draft",))
    drafts = q.fetch_claims(conn, compiled, sort="ref")
    if ids:
        drafts = [d for d in drafts if d["id"] in set(ids)]
    if not drafts:
        message("No drafts to review.")
        return
    counts = {"accepted": 0, "rejected": 0, "skipped": 0}
    for number, claim in enumerate(drafts, 1):
        sentence, note = draft_sentence(ws, claim)
        typer.echo(
            f"\nDraft {number} of {len(drafts)}: claim {claim['id']}, ref {claim['ref']} ({claim['study']})"
        )
        typer.echo(f"  {claim['location']}" + (f" ({note})" if note else ""))
        if sentence:
            typer.echo(f"  > {sentence}")
        for name in _EDITABLE:
            value = claim[name]
            shown = "; ".join(value) if isinstance(value, list) else value
            typer.echo(f"  {name}: {shown or '-'}")
        typer.echo(
            f"  assignment: {claim['assignment']}"
            + (f"; from the paragraph: {', '.join(claim['from_context'])}" if claim["from_context"] else "")
        )
        choice = typer.prompt("[a]ccept, [e]dit, [r]eject, [s]kip, [q]uit", default="s").strip().lower()[:1]
        if choice == "q":
            break
        if choice == "a":
            decide(ws, conn, [claim["id"]], "curated")
            counts["accepted"] += 1
        elif choice == "r":
            decide(ws, conn, [claim["id"]], "rejected")
            counts["rejected"] += 1
        elif choice == "e":
            changes = _ask_changes(claim)
            decide(ws, conn, [claim["id"]], "curated", {claim["id"]: changes})
            counts["accepted"] += 1
        else:
            counts["skipped"] += 1
    message(", ".join(f"{n} {what}" for what, n in counts.items()))


def _ask_changes(claim: dict[str, Any]) -> dict[str, Any]:
    """Each field with its value as the default; lists are separated by ';'."""
    changes: dict[str, Any] = {}
    for name in _EDITABLE:
        value = claim[name]
        shown = "; ".join(value) if isinstance(value, list) else str(value)
        answer = typer.prompt(f"  {name}", default=shown, show_default=True).strip()
        if answer == shown:
            continue
        changes[name] = (
            [p.strip() for p in answer.split(";") if p.strip()] if isinstance(value, list) else answer
        )
    return changes
