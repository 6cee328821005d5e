"""`exocli search add|list|run|remove` and `exocli candidates list|show|accept|reject|defer`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from exocli.cli import ExocliCommand, FormatOption, database, make_typer, workspace
from exocli.errors import ExocliError, UsageError
from exocli.render import check_format, message, plural, write_rows

app = make_typer()
search_app = make_typer("Saved update searches: Crossref queries for what is new since the last run.")
candidates_app = make_typer("Triage what update searches found: list, show, accept, reject, defer.")
app.add_typer(search_app, name="search")
app.add_typer(candidates_app, name="candidates")

TABLE_ROWS = 20  # new candidates `search run` shows as a table
SEARCH_COLUMNS = ("name", "query", "filters", "marker", "since", "last_run", "last_total")
CANDIDATE_COLUMNS = ("rank", "score", "doi", "year", "first_author", "title", "reasons")
CANDIDATE_FIELDS = (
    "rank", "id", "doi", "status", "score", "reasons", "title", "authors", "year", "journal", "volume",
    "issue", "pages", "type", "versions", "version_of", "found_by", "found_at", "reason", "decided_at",
    "reference", "abstract",
)  # fmt: skip


@search_app.command("add", cls=ExocliCommand)
def search_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A short name, e.g. stroke-evs.")],
    query: Annotated[
        str, typer.Argument(metavar="QUERY", help="What Crossref's query.bibliographic looks for.")
    ],
    since: Annotated[
        str,
        typer.Option(help="Works from this date (YYYY[-MM[-DD]]): your review's last search, say."),
    ],
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", help="A Crossref filter NAME:VALUE, e.g. type:journal-article (repeat)."),
    ] = None,
    marker: Annotated[
        str,
        typer.Option(
            help="index: what Crossref indexed since (from-index-date); created: from-created-date."
        ),
    ] = "index",
    rows: Annotated[int, typer.Option(help="Works per page (up to 1000).")] = 200,
    most: Annotated[int, typer.Option("--max", help="Candidates per run at most.")] = 1000,
) -> None:
    """Save an update search; `exocli search run` runs it."""
    from exocli.searches import new_search, save_new

    ws = workspace()
    search = new_search(ws, name, query, since, filters or [], marker, rows, most)
    path = save_new(ws, search)
    message(f"Saved search {search.name!r} in {ws.relative(path)}; `exocli search run {search.name}` runs it")


@search_app.command("list", cls=ExocliCommand)
def search_list(fmt: FormatOption = "table") -> None:
    """The saved searches, with their markers."""
    from exocli.searches import load_searches

    fmt = check_format(fmt)
    searches = load_searches(workspace())
    rows = [
        {
            "name": s.name,
            "query": s.query,
            "filters": list(s.filters),
            "marker": s.marker_filter,
            "since": s.since,
            "rows": s.rows,
            "max": s.max,
            "last_run": s.last_run or None,
            "last_total": s.last_total,
        }
        for s in searches
    ]
    if not rows and fmt == "table":
        message('No saved searches; add one with `exocli search add NAME "QUERY" --since DATE`')
        return
    write_rows(
        SEARCH_COLUMNS if fmt in ("table", "markdown") else list(rows[0]) if rows else SEARCH_COLUMNS,
        rows,
        fmt,
    )


@search_app.command("remove", cls=ExocliCommand)
def search_remove(name: Annotated[str, typer.Argument(metavar="NAME", help="The saved search.")]) -> None:
    """Forget a saved search (its candidates and their decisions stay)."""
    from exocli.searches import remove_search

    remove_search(workspace(), name)
    message(f"Removed search {name!r}; its candidates stay")


@search_app.command("run", cls=ExocliCommand)
def search_run(
    names: Annotated[
        list[str] | None, typer.Argument(metavar="[NAME]...", help="Default: every search.")
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Run saved searches: new works since each one's marker become ranked candidates."""
    from exocli import crossref
    from exocli.searches import load_searches

    fmt = check_format(fmt)
    ws = workspace()
    settings = crossref.Settings.from_workspace(ws)
    searches = load_searches(ws, names or None)
    if not searches:
        raise UsageError('no saved searches; add one with `exocli search add NAME "QUERY" --since DATE`')
    conn = database()
    client = crossref.Client(settings)
    written: list[Any] = []
    failures: list[str] = []
    for search in searches:
        try:
            report = _run_one(ws, conn, search, client)
        except ExocliError as exc:
            if len(searches) == 1:
                raise
            failures.append(str(exc))
            message(f"Error: {exc}")
            continue
        _summarise(report, settings)
        written += report.written
    if written:
        from exocli.candidates import ordered

        rows = [_candidate_row(rank, c) for rank, c in enumerate(ordered(written), 1)]
        if fmt == "table" and len(rows) > TABLE_ROWS:  # a screenful; `candidates list` has them all
            message(
                f"The {TABLE_ROWS} most relevant of {len(rows)} new candidates (all: `exocli candidates list`)"
            )
            rows = rows[:TABLE_ROWS]
        _write_candidates(rows, fmt)
        message("Next: `exocli candidates show DOI`, then `exocli candidates accept|reject|defer DOI`")
    if failures:
        raise ExocliError(f"{plural(len(failures), 'search')} did not complete; run them again to go on")


def _run_one(ws: Any, conn: Any, search: Any, client: Any) -> Any:
    from exocli.search_run import run_search

    if not sys.stderr.isatty():
        return run_search(ws, conn, search, client)
    from rich.progress import Progress

    from exocli.render import make_console

    with Progress(console=make_console(sys.stderr), transient=True) as progress:
        bar = progress.add_task(f"search {search.name}", total=None)
        return run_search(
            ws,
            conn,
            search,
            client,
            on_page=lambda done, total: progress.update(bar, completed=done, total=total),
        )


def _summarise(report: Any, settings: Any) -> None:
    search = report.search
    triage = report.triage
    parts = [f"{plural(len(triage.new), 'new candidate')}"]
    for why, dois in sorted(triage.skipped.items(), key=lambda item: -len(item[1])):
        parts.append(f"{why}: {len(dois)}")
    resumed = f"; {report.resumed} kept from the unfinished run" if report.resumed else ""
    restarted = " (the stored cursor had expired: paged again from the start)" if report.restarted else ""
    message(
        f"search {search.name!r}: Crossref counts {report.total} works since {search.since}"
        f" ({search.marker_filter.split(':')[0]}); received {report.received} in {plural(report.pages, 'page')},"
        f" {plural(report.requests, 'request')} to {settings.base_url} ({settings.pool} pool){resumed}{restarted}"
    )
    message("  " + "; ".join(parts))
    for problem in triage.problems:
        message(f"  Warning: {problem}")
    if report.left_out:
        message(
            f"  Warning: {report.left_out} more works than --max {search.max} were left out; narrow the query"
            " or add filters (the marker moved on)"
        )


def _candidate_row(rank: int, candidate: Any) -> dict[str, Any]:
    return {
        "rank": rank,
        "id": candidate.id,
        "doi": candidate.doi,
        "status": candidate.status,
        "score": candidate.score,
        "reasons": candidate.reasons,
        "title": candidate.title,
        "first_author": candidate.first_author,
        "authors": candidate.authors,
        "year": candidate.year,
        "journal": candidate.journal,
        "volume": candidate.volume,
        "issue": candidate.issue,
        "pages": candidate.pages,
        "type": candidate.type,
        "versions": candidate.versions,
        "version_of": candidate.version_of or None,
        "found_by": candidate.found_by,
        "found_at": candidate.found_at,
        "reason": candidate.reason or None,
        "decided_at": candidate.decided_at or None,
        "reference": candidate.reference or None,
        "abstract": candidate.abstract or None,
    }


def _write_candidates(rows: list[dict[str, Any]], fmt: str) -> None:
    if fmt in ("table", "markdown"):
        shown = [
            {**row, "title": _short(row["title"], 70), "reasons": "; ".join(row["reasons"])} for row in rows
        ]
        write_rows(CANDIDATE_COLUMNS, shown, fmt)
    else:
        write_rows(CANDIDATE_FIELDS, rows, fmt)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


StatusOpt = Annotated[
    str, typer.Option("--status", help="new, deferred, accepted, rejected, or all (several: new,deferred).")
]


@candidates_app.command("list", cls=ExocliCommand)
def candidates_list(
    status: StatusOpt = "new",
    search: Annotated[
        str | None, typer.Option("--search", help="Only those this saved search found.")
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """Candidates, the most relevant first (another version of a cited preprint before all)."""
    from exocli.candidates import STATUSES, load_candidates, ordered

    fmt = check_format(fmt)
    wanted = set(STATUSES) if status == "all" else {s.strip() for s in status.split(",") if s.strip()}
    unknown = sorted(wanted - set(STATUSES))
    if unknown:
        raise UsageError(f"--status {unknown[0]!r}: give {', '.join(STATUSES)} or all")
    everything = load_candidates(workspace()).values()
    chosen = [c for c in everything if c.status in wanted and (search is None or search in c.found_by)]
    rows = [_candidate_row(rank, c) for rank, c in enumerate(ordered(chosen), 1)]
    _write_candidates(rows, fmt)
    counts: dict[str, int] = {}
    for candidate in everything:
        counts[candidate.status] = counts.get(candidate.status, 0) + 1
    message(
        f"{plural(len(rows), 'candidate')} shown; in all "
        + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES)
    )


@candidates_app.command("show", cls=ExocliCommand)
def candidates_show(
    ident: Annotated[str, typer.Argument(metavar="DOI|ID", help="The candidate's DOI or file name.")],
    fmt: FormatOption = "table",
) -> None:
    """One candidate: its details, abstract, why it ranks where it does, and its decision."""
    from exocli.candidates import find, load_candidates

    fmt = check_format(fmt)
    candidate = find(load_candidates(workspace()), ident)
    row = _candidate_row(0, candidate)
    del row["rank"], row["first_author"]
    if fmt != "table":
        write_rows(list(row), [row], fmt)
        return
    for key, value in row.items():
        if value in (None, [], ""):
            continue
        shown = "; ".join(value) if isinstance(value, list) else str(value)
        typer.echo(f"{key}: {shown}")


IdentsArg = Annotated[list[str], typer.Argument(metavar="DOI|ID...", help="Candidates, by DOI or file name.")]


@candidates_app.command("accept", cls=ExocliCommand)
def candidates_accept(
    idents: IdentsArg,
    extract: Annotated[
        bool, typer.Option("--extract", help="Also draft claims from each one's abstract (as `extract`).")
    ] = False,
    fmt: FormatOption = "table",
) -> None:
    """Add each to the reference list (full names kept); then draft claims from its abstract
    (--extract) or record its findings with add-study."""
    from exocli.candidate_edits import accept
    from exocli.candidates import candidates_dir

    fmt = check_format(fmt)
    ws, conn = workspace(), database()
    done: list[tuple[Any, dict[str, Any]]] = []
    for ident in idents:
        result = accept(ws, conn, ident)
        for warning in result.warnings:
            message(f"Warning: {warning}")
        message(f"Accepted {result.candidate.doi} as reference {result.number} ({result.key})")
        row = _candidate_row(len(done) + 1, result.candidate) | {"number": result.number}
        if extract:
            row["drafts"] = _abstract_drafts(ws, conn, result.candidate, candidates_dir(ws))
        done.append((result, row))
    if fmt != "table":
        columns = [*CANDIDATE_FIELDS, "number", *(["drafts"] if extract else [])]
        write_rows(columns, [row for _, row in done], fmt)
        return
    numbers = ",".join(str(result.number) for result, _ in done)
    message(
        f"Next: `exocli resolve --ref {numbers}` verifies {'them' if len(done) > 1 else 'it'};"
        + (" `exocli claims review` settles the drafts;" if any(row.get("drafts") for _, row in done) else "")
        + " `exocli add-study --ref N` records a finding"
    )
    interactive = len(done) == 1 and sys.stdin.isatty() and sys.stdout.isatty()
    if not interactive:
        return
    accepted = done[0][0]
    path = candidates_dir(ws) / f"{accepted.candidate.id}.toml"
    if (
        not extract
        and accepted.candidate.abstract
        and typer.confirm(
            f"Draft claims of reference {accepted.number} from its abstract now (extract)?", default=False
        )
    ):
        from exocli.cli.drafts import show_drafts

        show_drafts(path, None, dry_run=False, fmt="table")
    if typer.confirm(f"Record a finding of reference {accepted.number} now (add-study)?", default=False):
        from exocli.cli.curation import add_study

        add_study(ref=str(accepted.number))


def _abstract_drafts(ws: Any, conn: Any, candidate: Any, folder: Path) -> list[int]:
    """Draft claims from an accepted candidate's abstract; the new drafts' ids."""
    if not candidate.abstract:
        message(f"{candidate.doi}: no abstract to draft claims from")
        return []
    from exocli.drafts import extract_drafts

    report = extract_drafts(ws, conn, folder / f"{candidate.id}.toml")
    ids = [claim_id for claim_id, _ in report.new]
    sentences = plural(len(report.extraction.sentences), "sentence")
    message(f"Drafted {plural(len(ids), 'claim')} of {candidate.doi} from the {sentences} of its abstract")
    return ids


def _decide(idents: list[str], status: str, reason: str | None, fmt: str) -> None:
    from exocli.candidate_edits import decide

    fmt = check_format(fmt)
    ws = workspace()
    rows: list[dict[str, Any]] = []
    for ident in idents:
        candidate = decide(ws, ident, status, reason or "")
        rows.append(_candidate_row(len(rows) + 1, candidate))
        message(
            f"{status.capitalize()} {candidate.doi}" + (f" ({candidate.reason})" if candidate.reason else "")
        )
    if fmt != "table":
        write_rows(CANDIDATE_FIELDS, rows, fmt)


@candidates_app.command("reject", cls=ExocliCommand)
def candidates_reject(
    idents: IdentsArg,
    reason: Annotated[
        str, typer.Option("--reason", help='Why, e.g. "in vitro only" (kept with the decision).')
    ],
    fmt: FormatOption = "table",
) -> None:
    """Reject: the decision and its reason are kept, and no later run proposes the paper again."""
    _decide(idents, "rejected", reason, fmt)


@candidates_app.command("defer", cls=ExocliCommand)
def candidates_defer(
    idents: IdentsArg,
    reason: Annotated[str | None, typer.Option("--reason", help="Why, or what to check first.")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Put off: listed with --status deferred, never proposed as new again."""
    _decide(idents, "deferred", reason, fmt)
