"""`exocli resolve`: references against Crossref."""

import sys
from typing import Annotated, Any

import typer

from exocli.cli import ExocliCommand, database, make_typer, workspace
from exocli.cli.common import RefOpt
from exocli.errors import ExocliError, UsageError
from exocli.render import make_console, message, write_rows
from exocli.workspace import Workspace

app = make_typer()


@app.command(cls=ExocliCommand)
def resolve(
    targets: Annotated[
        list[str] | None,
        typer.Argument(metavar="[N|DOI]...", help="References to resolve (default: all not yet resolved)."),
    ] = None,
    ref: RefOpt = None,
    all_refs: Annotated[
        bool, typer.Option("--all", help="Afterwards, list every reference's verdict.")
    ] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Fetch again even when a record is stored.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Send nothing; report what is not checked yet.")
    ] = False,
    updates: Annotated[
        bool,
        typer.Option(
            "--updates",
            help="Fetch every cited DOI again and report retractions, corrections and expressions of"
            " concern added or removed since the last check; exit 1 on a new retraction.",
        ),
    ] = False,
) -> None:
    """Check references against Crossref: verify DOIs, find missing ones, flag retractions."""
    import importlib
    import threading

    from exocli import crossref
    from exocli.store import load_snapshot

    targets = [*(targets or []), *(str(number) for number in ref or [])]  # `--ref 40-45` names them too
    if updates and offline:
        raise UsageError("--updates asks Crossref again; it cannot be --offline")
    ws = workspace()
    settings = None if offline else crossref.Settings.from_workspace(ws)  # bad settings: before anything
    if not offline:
        # habanero (and httpx2) take a while to import: load them while the workspace loads
        threading.Thread(target=importlib.import_module, args=("habanero",), daemon=True).start()
    database().close()  # the reference list must load before any request is sent
    references = load_snapshot(ws).references
    if offline:
        missing = crossref.offline_report(ws, references, targets)
        for line in missing:
            sys.stdout.write(line + "\n")
        message(f"Offline: {len(missing)} references not checked; nothing was sent or changed")
    elif updates:
        assert settings is not None
        _check_updates(ws, references, targets, settings)
    else:
        assert settings is not None
        tasks, notes = crossref.plan(ws, references, targets, refresh)
        for note in notes:
            message(note)
        summary = _run_resolve(ws, tasks, settings)
        for line in sorted(summary.lines, key=_label_order):
            sys.stdout.write(line + "\n")
        counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items())) or "nothing to do"
        message(
            f"Resolved {len(tasks)} ({counts}); {summary.requests} requests to {settings.base_url} ({settings.pool} pool)"
        )
        from exocli.bibfiles import fill_from_crossref, only_doi

        if any(only_doi(ref) for ref in references):  # a DOI list's entries: the records fill them in
            filled, notes = fill_from_crossref(ws, database())
            for note in notes:
                message(f"Warning: {note}")
            if filled:
                message(f"Filled in {len(filled)} references from Crossref (they had only their DOI)")
    if all_refs:
        conn = database()
        from exocli.references import list_references

        rows = [
            {
                "number": r.number,
                "doi": r.doi or r.check_doi,
                "check": r.check,
                "flags": r.flags,
                "differences": r.differences,
            }
            for r in list_references(conn)
        ]
        write_rows(("number", "doi", "check", "flags", "differences"), rows, "table")
    if not offline and not updates and summary.failed:
        raise ExocliError(
            f"{summary.failed} references could not be checked; run `exocli resolve` again to retry them"
        )


def _check_updates(ws: Workspace, references: list[Any], targets: list[str], settings: Any) -> None:
    """Every cited DOI (or those named) fetched again; the flags that changed, on stdout."""
    from exocli import crossref
    from exocli.update_check import changes, stored_flags

    chosen = references
    if targets:
        numbers = {ref.number for ref, _ in crossref.named_references(references, targets) if ref is not None}
        chosen = [ref for ref in references if ref.number in numbers]
    tasks = [crossref.Task(f"[{ref.number}]", ref, ref.doi) for ref in chosen if ref.doi]
    before = stored_flags(ws)
    started = crossref.now()
    summary = _run_resolve(ws, tasks, settings)
    found = changes(chosen, before, stored_flags(ws), started)
    for change in found:
        for line in change.lines():
            sys.stdout.write(line + "\n")
    added = sum(len(c.added) for c in found)
    removed = sum(len(c.removed) for c in found)
    retracted = [c for c in found if any(flag.retracting for flag in c.added)]
    message(
        f"Re-checked {len(tasks)} cited DOIs ({summary.requests} requests to {settings.base_url}):"
        f" {added} flags added, {removed} removed"
        + (f", {len(retracted)} newly retracted" if retracted else "")
    )
    if summary.failed:
        for line in sorted(summary.lines, key=_label_order):
            if ": not checked" in line or "failed" in line or " after " in line:
                message(line)
    if retracted:
        papers = ", ".join(f"reference {c.number} ({c.doi})" for c in retracted)
        raise ExocliError(f"newly retracted: {papers}; `exocli check` lists the claims that cite it")
    if summary.failed:
        raise ExocliError(
            f"{summary.failed} references could not be checked; run `exocli resolve --updates` again"
        )


def _label_order(line: str) -> tuple[int, str]:
    head = line.split("]", 1)[0].lstrip("[")
    return (int(head), line) if head.isdigit() else (10**9, line)


def _run_resolve(ws: Workspace, tasks: list[Any], settings: Any) -> Any:
    from exocli import crossref

    if not tasks or not sys.stderr.isatty():
        return crossref.resolve(ws, tasks, settings)
    from rich.progress import Progress

    with Progress(console=make_console(sys.stderr), transient=True) as progress:
        bar = progress.add_task("Crossref", total=len(tasks))
        return crossref.resolve(ws, tasks, settings, on_result=lambda *_: progress.advance(bar))
