"""The command line: parse, call the core, render. Nothing else lives here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer >= 0.29 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]

from exocli import __version__
from exocli.errors import ExocliError, UsageError
from exocli.render import check_format, make_console, message, plural, write_rows
from exocli.workspace import Workspace, find_workspace


class ExocliGroup(TyperGroup):
    """Turns exocli's own exceptions into `Error: ...` on stderr (exit 1, or 2 for usage)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click_errors.UsageError(str(exc), ctx) from exc
        except ExocliError as exc:
            error = click_errors.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from exc


class ExocliCommand(TyperCommand):
    """Usage errors raised by the core show this command's own usage line; connections close."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click_errors.UsageError(str(exc), ctx) from exc
        finally:
            while State.connections:
                State.connections.pop().close()


def _typer(help_text: str) -> typer.Typer:
    return typer.Typer(
        cls=ExocliGroup,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
    )


app = _typer("exocli: structured evidence from a review's references, as tables and BibTeX.")
refs_app = _typer("The review's numbered reference list.")
app.add_typer(refs_app, name="refs")

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, csv, tsv, json or markdown.")]


class State:
    home: Path | None = None
    connections: ClassVar[list[Any]] = []  # opened by this command, closed when it ends


def _version(value: bool) -> None:
    if value:
        typer.echo(f"exocli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Workspace folder (default: EXOCLI_HOME, else the nearest exocli.toml upwards).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    State.home = home


def workspace() -> Workspace:
    return find_workspace(State.home)


def database() -> Any:
    from exocli.db import external_changes, open_database

    ws = workspace()
    conn = open_database(ws)
    State.connections.append(conn)
    changed = external_changes(conn)
    if changed:
        message(
            f"Warning: {changed} changes in {ws.relative(ws.db_path)} were made outside exocli and are not"
            " in the text; `exocli sync --keep text|database` settles it"
        )
    return conn


# --- workspace ---------------------------------------------------------------------------


@app.command(cls=ExocliCommand)
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
    name: Annotated[str | None, typer.Option(help="A name for the workspace.")] = None,
) -> None:
    """Create an empty workspace: exocli.toml, refs/, db/ and the default vocabularies."""
    from exocli.workspace import init_workspace

    ws = init_workspace(directory, name)
    message(f"Created workspace {ws.root}; add references with `exocli --home {ws.root} refs import FILE`")


@app.command(cls=ExocliCommand)
def rebuild() -> None:
    """Build the database again from the workspace's text."""
    from exocli.db import connect
    from exocli.store import load_snapshot
    from exocli.store import rebuild as rebuild_store

    ws = workspace()
    snapshot = load_snapshot(ws)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{ws.db_path}{suffix}").unlink(missing_ok=True)
    conn = connect(ws.db_path)
    try:
        rebuild_store(ws, conn, snapshot)
    finally:
        conn.close()
    message(
        f"Rebuilt {ws.relative(ws.db_path)}: {len(snapshot.references)} references, {len(snapshot.claims)} claims"
    )


# --- references --------------------------------------------------------------------------


@refs_app.command("import", cls=ExocliCommand)
def refs_import(
    file: Annotated[Path, typer.Argument(help="A numbered reference list (Vancouver / NLM style).")],
    replace: Annotated[bool, typer.Option(help="Replace the workspace's list instead of merging.")] = False,
) -> None:
    """Parse a numbered reference list into the workspace (text first, then the database)."""
    from exocli.references import import_references

    result = import_references(workspace(), file, replace=replace)
    for problem in result.problems:
        message(f"Warning: {problem}")
    message(
        f"Imported {result.total} references from {file}: {len(result.added)} new, "
        f"{len(result.replaced)} replaced, {len(result.unchanged)} unchanged, "
        f"{sum('kept unparsed' in p for p in result.problems)} kept unparsed"
    )


@refs_app.command("list", cls=ExocliCommand)
def refs_list(fmt: FormatOption = "table") -> None:
    """List the references with their parsed fields."""
    from exocli.references import list_references

    fmt = check_format(fmt)
    conn = database()
    refs = list_references(conn)
    rows = [
        {
            "number": r.number,
            "first_author": r.first_author,
            "authors": r.author_text(),
            "year": r.year,
            "title": r.title,
            "journal": r.journal,
            "volume": r.volume,
            "issue": r.issue,
            "pages": r.pages,
            "doi": r.doi,
            "url": r.url,
            "kind": r.kind,
            "check": r.check + (f" ({', '.join(r.flags)})" if r.flags else ""),
        }
        for r in refs
    ]
    if fmt == "table":
        for row in rows:
            if not row["doi"] and row["url"]:
                row["doi"] = row["url"]
        write_rows(
            ("number", "first_author", "year", "title", "journal", "doi", "check"),
            rows,
            fmt,
            headers={
                "number": "#",
                "first_author": "First author",
                "year": "Year",
                "title": "Title",
                "journal": "Journal",
                "doi": "DOI / URL",
                "check": "Crossref",
            },
        )
    else:
        write_rows(
            (
                "number",
                "kind",
                "authors",
                "year",
                "title",
                "journal",
                "volume",
                "issue",
                "pages",
                "doi",
                "url",
                "check",
            ),
            rows,
            fmt,
            json_rows=[r.as_dict() for r in refs],
        )
    with_doi = sum(1 for r in refs if r.doi)
    message(f"{len(refs)} references, {with_doi} with DOI")


@refs_app.command("show", cls=ExocliCommand)
def refs_show(
    ident: Annotated[str, typer.Argument(metavar="N|DOI|KEY", help="Review number, DOI or citation key.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """Show one reference, its parsed fields and the claims that cite it."""
    from exocli import query
    from exocli.references import candidates_for, get_reference
    from exocli.render import show_reference

    fmt = check_format(fmt, ("text", "json"))
    conn = database()
    ref = get_reference(conn, ident)
    compiled = query.compile_filters(
        conn, query.Filters(refs=[ref.number] if ref.number else []), query.Vocabs.load(conn)
    )
    claims = query.fetch_claims(conn, compiled) if ref.number is not None else []
    show_reference(ref, claims, candidates_for(conn, ref), fmt)


@app.command(cls=ExocliCommand)
def resolve(
    targets: Annotated[
        list[str] | None,
        typer.Argument(metavar="[N|DOI]...", help="References to resolve (default: all not yet resolved)."),
    ] = None,
    all_refs: Annotated[
        bool, typer.Option("--all", help="Afterwards, list every reference's verdict.")
    ] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Fetch again even when a record is stored.")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Send nothing; report what is not checked yet.")
    ] = False,
) -> None:
    """Check references against Crossref: verify DOIs, find missing ones, flag retractions."""
    from exocli import crossref
    from exocli.store import read_references

    ws = workspace()
    database().close()  # the reference list must load before any request is sent
    references, _ = read_references(ws)
    if offline:
        missing = crossref.offline_report(ws, references)
        for line in missing:
            sys.stdout.write(line + "\n")
        message(f"Offline: {len(missing)} references not checked; nothing was sent or changed")
    else:
        settings = crossref.Settings.from_workspace(ws)
        tasks, notes = crossref.plan(ws, references, targets or [], refresh)
        for note in notes:
            message(note)
        summary = _run_resolve(ws, tasks, settings)
        for line in sorted(summary.lines, key=_label_order):
            sys.stdout.write(line + "\n")
        counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.counts.items())) or "nothing to do"
        message(
            f"Resolved {len(tasks)} ({counts}); {summary.requests} requests to {settings.base_url} ({settings.pool} pool)"
        )
    conn = database()
    if all_refs:
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
    if not offline and summary.failed:
        raise ExocliError(
            f"{summary.failed} references could not be checked; run `exocli resolve` again to retry them"
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


# --- curation ----------------------------------------------------------------------------

claims_app = _typer("Edit or remove evidence claims.")
app.add_typer(claims_app, name="claims")

CLAIM_REQUIRED = ("source", "cargo_type", "effects")


def _claim_fields(**options: Any) -> dict[str, Any]:
    """CLI options -> claim record fields (None = not given)."""
    fields: dict[str, Any] = {}
    for key, value in options.items():
        if value is None or value == []:
            continue
        fields[key] = list(value) if isinstance(value, list | tuple) else value
    return fields


def _interactive(yes: bool) -> bool:
    return not yes and sys.stdin.isatty() and sys.stdout.isatty()


def _prompt_missing(fields: dict[str, Any], yes: bool) -> None:
    """On a terminal, ask for what is missing with the vocabularies as choices; else fail."""
    missing = [key for key in CLAIM_REQUIRED if key not in fields]
    if not missing:
        return
    if not _interactive(yes):
        flags = ", ".join("--" + ("effect" if k == "effects" else k.replace("_", "-")) for k in missing)
        raise UsageError(f"missing {flags} (give them, or run on a terminal without --yes to be asked)")
    from exocli.store import load_vocabularies

    vocabs = load_vocabularies(workspace())
    for key in missing:
        vocab = {"source": vocabs.sources, "cargo_type": vocabs.cargo_types, "effects": vocabs.effects}[key]
        choices = ", ".join(vocab.terms)
        while True:
            answer = typer.prompt(
                f"{key.replace('_', ' ')} ({choices})" + (" [comma-separated]" if key == "effects" else "")
            )
            values = (
                [a.strip() for a in answer.split(",") if a.strip()] if key == "effects" else [answer.strip()]
            )
            unknown = [v for v in values if vocab.lookup(v) is None]
            if values and not unknown:
                fields[key] = values if key == "effects" else values[0]
                break
            typer.echo(vocab.unknown_message(unknown[0] if unknown else ""), err=True)


@app.command("add-study", cls=ExocliCommand)
def add_study(
    doi: Annotated[str | None, typer.Option(help="The study's DOI (resolved through Crossref).")] = None,
    source: Annotated[str | None, typer.Option(help="Exosome source (vocabulary term).")] = None,
    cargo: Annotated[list[str] | None, typer.Option(help="Cargo as the paper words it (repeat).")] = None,
    cargo_type: Annotated[
        str | None, typer.Option(help="miRNA, lncRNA, circRNA, mRNA, protein, small-molecule or none.")
    ] = None,
    effect: Annotated[list[str] | None, typer.Option(help="Effect category (repeat).")] = None,
    pathway: Annotated[
        list[str] | None, typer.Option(help="Pathway or target axis, e.g. TLR4/NF-κB (repeat).")
    ] = None,
    engineering: Annotated[
        list[str] | None, typer.Option(help="Preconditioning / engineering / delivery (repeat).")
    ] = None,
    species: Annotated[str | None, typer.Option(help="rat, mouse, human, ...")] = None,
    model: Annotated[
        str | None, typer.Option(help="in vivo, in vitro, in vivo and in vitro, clinical.")
    ] = None,
    injury: Annotated[str | None, typer.Option(help="Injury model, e.g. contusion SCI.")] = None,
    route: Annotated[str | None, typer.Option(help="Route of delivery.")] = None,
    dose: Annotated[str | None, typer.Option(help="Dose as stated.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Quantitative outcome as stated.")] = None,
    section: Annotated[str | None, typer.Option(help="Where the finding is discussed.")] = None,
    source_wording: Annotated[str | None, typer.Option(help="The paper's own term for the source.")] = None,
    note: Annotated[str | None, typer.Option(help="A short note in your own words.")] = None,
    title: Annotated[
        str | None, typer.Option(help="Title, when offline or the DOI is not in Crossref.")
    ] = None,
    author: Annotated[list[str] | None, typer.Option(help='"Family, Given" (repeat, in order).')] = None,
    year: Annotated[int | None, typer.Option(help="Publication year.")] = None,
    journal: Annotated[str | None, typer.Option(help="Journal (NLM abbreviation).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Do not ask Crossref.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Never prompt; fail on what is missing.")] = False,
) -> None:
    """Add one study's finding: creates (or links) the reference and adds the claim."""
    from exocli import curation

    fields = _claim_fields(
        source=source,
        cargo=cargo,
        cargo_type=cargo_type,
        effects=effect,
        pathways=pathway,
        engineering=engineering,
        species=species,
        model=model,
        injury=injury,
        route=route,
        dose=dose,
        outcome=outcome,
        section=section,
        source_wording=source_wording,
        note=note,
    )
    if not cargo and cargo_type is None:
        fields["cargo_type"] = "none"  # no cargo named: the whole exosome is credited
    _prompt_missing(fields, yes)
    metadata = None
    if title or author or year or journal:
        if not (title and author and year and journal):
            raise UsageError("--title, --author, --year and --journal go together")
        metadata = curation.StudyMetadata(
            title=title, authors=[_split_author(a) for a in author], year=year, journal=journal
        )
    ws = workspace()
    conn = database()
    fetch = None if offline or metadata is not None else _crossref_fetcher(ws)
    result = curation.add_study(ws, conn, doi, fields, metadata, fetch)
    for warning in result.warnings:
        message(f"Warning: {warning}")
    kind = "new reference" if result.new_reference else "reference"
    message(f"Added claim {result.claim.id} citing {kind} {result.ref_number}")


def _split_author(text: str) -> tuple[str, str]:
    family, _, given = text.partition(",")
    if not family.strip():
        raise UsageError(f"--author {text!r}: write it as 'Family, Given'")
    return family.strip(), given.strip()


def _crossref_fetcher(ws: Workspace) -> Any:
    """Fetch one DOI's record (stored in refs/crossref/ like `resolve` does)."""
    from exocli import crossref

    def fetch(doi: str) -> Any:
        settings = crossref.Settings.from_workspace(ws)
        outcome = crossref.Client(settings).work(doi)
        if outcome.status == "failed":
            raise ExocliError(
                f"Crossref could not be asked about {doi} ({outcome.error}); add it offline with"
                " --title, --author, --year and --journal"
            )
        crossref.write_json(
            crossref.work_path(ws, doi),
            {
                "doi": doi,
                "status": outcome.status,
                "fetched_at": crossref.now(),
                "pool": settings.pool,
                "message": outcome.body if outcome.status == "ok" else None,
            },
        )
        return outcome.body if outcome.status == "ok" else None

    return fetch


@claims_app.command("edit", cls=ExocliCommand)
def claims_edit(
    claim_id: Annotated[int, typer.Argument(metavar="ID", help="The claim's id.")],
    ref: Annotated[int | None, typer.Option(help="The review's reference number.")] = None,
    source: Annotated[str | None, typer.Option()] = None,
    cargo: Annotated[list[str] | None, typer.Option(help="Replaces the cargo list (repeat).")] = None,
    cargo_type: Annotated[str | None, typer.Option()] = None,
    effect: Annotated[list[str] | None, typer.Option(help="Replaces the effects (repeat).")] = None,
    pathway: Annotated[list[str] | None, typer.Option(help="Replaces the pathways (repeat).")] = None,
    engineering: Annotated[
        list[str] | None, typer.Option(help="Replaces the engineering list (repeat).")
    ] = None,
    species: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    injury: Annotated[str | None, typer.Option()] = None,
    route: Annotated[str | None, typer.Option()] = None,
    dose: Annotated[str | None, typer.Option()] = None,
    outcome: Annotated[str | None, typer.Option()] = None,
    section: Annotated[str | None, typer.Option()] = None,
    source_wording: Annotated[str | None, typer.Option()] = None,
    note: Annotated[str | None, typer.Option()] = None,
    clear: Annotated[
        list[str] | None, typer.Option(help="Empty a list field (cargo, engineering, pathways).")
    ] = None,
) -> None:
    """Change fields of one claim (lists given replace the whole list)."""
    from exocli import curation

    changes = _claim_fields(
        ref=ref,
        source=source,
        cargo=cargo,
        cargo_type=cargo_type,
        effects=effect,
        pathways=pathway,
        engineering=engineering,
        species=species,
        model=model,
        injury=injury,
        route=route,
        dose=dose,
        outcome=outcome,
        section=section,
        source_wording=source_wording,
        note=note,
    )
    for name in clear or []:
        if name not in ("cargo", "engineering", "pathways"):
            raise UsageError(f"--clear takes cargo, engineering or pathways, not {name!r}")
        changes[name] = []
    claim = curation.edit_claim(workspace(), database(), claim_id, changes)
    message(f"Edited claim {claim.id}: {', '.join(sorted(changes))}")


@claims_app.command("remove", cls=ExocliCommand)
def claims_remove(
    claim_id: Annotated[int, typer.Argument(metavar="ID", help="The claim's id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove one claim (asks first unless --yes)."""
    from exocli import curation

    ws = workspace()
    conn = database()
    claim = curation.get_claim(ws, claim_id)
    if not yes:
        if not sys.stdin.isatty():
            raise UsageError("removing needs confirmation: run on a terminal or pass --yes")
        cargo = ", ".join(c.name for c in claim.cargo) or "no cargo"
        if not typer.confirm(f"Remove claim {claim.id} ({claim.source}, {cargo}, ref {claim.ref})?"):
            raise ExocliError("not removed")
    curation.remove_claim(ws, conn, claim_id)
    message(f"Removed claim {claim_id}")


@app.command("import", cls=ExocliCommand)
def import_table(
    file: Annotated[Path, typer.Argument(help="A .csv, .tsv or .json table as `query --format` writes it.")],
) -> None:
    """Add or update claims from a table; every row is checked first, then all apply or none."""
    from exocli import curation

    result = curation.import_claims(workspace(), database(), file)
    message(
        f"Imported {file}: {len(result.added)} added, {len(result.updated)} updated,"
        f" {len(result.unchanged)} unchanged"
    )


@app.command(cls=ExocliCommand)
def sync(
    keep: Annotated[str, typer.Option(help="Which side wins: text or database.")],
) -> None:
    """Settle a database that was changed outside exocli: keep the text or keep the database."""
    from exocli import curation
    from exocli.db import connect

    ws = workspace()
    conn = connect(ws.db_path)
    try:
        message(curation.sync(ws, conn, keep).capitalize())
    finally:
        conn.close()


@refs_app.command("rekey", cls=ExocliCommand)
def refs_rekey(
    ident: Annotated[str, typer.Argument(metavar="N|DOI|KEY", help="The reference.")],
    new_key: Annotated[str, typer.Argument(metavar="NEWKEY", help="Its new citation key.")],
) -> None:
    """Change one reference's citation key (the only way a key ever changes)."""
    from exocli import curation

    old, new = curation.rekey(workspace(), database(), ident, new_key)
    message(f"Reference key {old} is now {new}")


@app.command(cls=ExocliCommand)
def check(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
) -> None:
    """Audit claims against the references they cite, and the references against Crossref."""
    from exocli.audit import run_checks
    from exocli.render import write_report

    fmt = check_format(fmt, ("table", "json"))
    report = run_checks(database())
    write_report(report, fmt)
    counts = report.counts()
    message(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")
    code = report.exit_code(strict)
    if code:
        raise typer.Exit(code)


# --- vocabularies --------------------------------------------------------------------------


@app.command(cls=ExocliCommand)
def vocab(
    name: Annotated[
        str | None, typer.Argument(help="sources, effects, cargo-types or pathways (default: all).")
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """List vocabulary terms with their synonyms and how many claims use each."""
    from exocli.vocab import vocabulary_rows

    fmt = check_format(fmt)
    rows = vocabulary_rows(database(), name)
    columns = ("vocab", "code", "label", "parent", "synonyms", "claims")
    write_rows(columns, rows, fmt, headers={c: c.capitalize() for c in columns})


# --- queries -----------------------------------------------------------------------------

ListOption = Annotated[list[str] | None, typer.Option()]


PhraseArg = Annotated[
    str | None, typer.Argument(help='A plain question, e.g. "anti-inflammatory miRNAs from UCMSC".')
]
SourceOpt = Annotated[
    list[str] | None, typer.Option("--source", "-s", help="Cell source (with its children).")
]
EffectOpt = Annotated[list[str] | None, typer.Option("--effect", "-e", help="Effect category.")]
CargoOpt = Annotated[
    list[str] | None, typer.Option("--cargo", "-c", help="Cargo; miRNAs match their family.")
]
CargoTypeOpt = Annotated[
    list[str] | None, typer.Option("--cargo-type", "-t", help="miRNA, lncRNA, protein, ...")
]
PathwayOpt = Annotated[
    list[str] | None, typer.Option("--pathway", "-p", help="Pathway or target; A/B needs both.")
]
ModelOpt = Annotated[
    list[str] | None, typer.Option("--model", "-m", help="rat, mouse, human, clinical, in vivo, in vitro.")
]
RefOpt = Annotated[list[int] | None, typer.Option("--ref", "-r", help="The review's reference number.")]
TextOpt = Annotated[list[str] | None, typer.Option("--text", help="Full-text words (claims and titles).")]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="Print the filters the query became (stderr).")]


def _matching_claims(
    conn: Any,
    phrase: str | None,
    explain: bool,
    *,
    sort: str = "ref",
    limit: int | None = None,
    **options: list[Any] | None,
) -> list[dict[str, Any]]:
    """Claims for a phrase and/or filters; the one path behind query, export and table."""
    from exocli import query as q

    vocabs = q.Vocabs.load(conn)
    filters = q.Filters(**{name: list(values or []) for name, values in options.items()})
    if phrase:
        parsed = q.parse_phrase(conn, phrase, vocabs)
        if parsed.unknown:
            message(f"Not understood in the phrase (ignored): {' '.join(parsed.unknown)}")
        if parsed.filters.is_empty():
            raise UsageError(
                f"nothing in {phrase!r} names a source, effect, cargo, pathway or model;"
                " see `exocli vocab` or use --text for full-text search"
            )
        filters = filters.merge(parsed.filters)
    compiled = q.compile_filters(conn, filters, vocabs)
    if explain:
        for name, value in compiled.explanation or [("filters", "none (every claim)")]:
            message(f"{name}: {value}")
    return q.fetch_claims(conn, compiled, sort=sort, limit=limit)


@app.command(cls=ExocliCommand)
def query(
    phrase: PhraseArg = None,
    source: SourceOpt = None,
    effect: EffectOpt = None,
    cargo: CargoOpt = None,
    cargo_type: CargoTypeOpt = None,
    pathway: PathwayOpt = None,
    model: ModelOpt = None,
    ref: RefOpt = None,
    text: TextOpt = None,
    fmt: FormatOption = "table",
    columns: Annotated[str | None, typer.Option(help="Comma-separated columns to show.")] = None,
    sort: Annotated[str, typer.Option(help="id, ref, year, source or cargo-type.")] = "ref",
    limit: Annotated[int | None, typer.Option(help="At most this many claims.")] = None,
    explain: ExplainOpt = False,
) -> None:
    """Evidence claims matching a phrase and/or filters (AND across filters, OR within one)."""
    from exocli.render import write_claims

    fmt = check_format(fmt)
    claims = _matching_claims(
        database(),
        phrase,
        explain,
        sort=sort,
        limit=limit,
        sources=source,
        effects=effect,
        cargos=cargo,
        cargo_types=cargo_type,
        pathways=pathway,
        models=model,
        refs=ref,
        text=text,
    )
    if not claims:
        message("No claims match.")
        return
    write_claims(claims, fmt, columns)
    refs = {c["ref"] for c in claims if c["ref"] is not None}
    message(f"{plural(len(claims), 'claim')} from {plural(len(refs), 'reference')}")


# --- export -------------------------------------------------------------------------------

EXPORT_FORMATS = ("bib", "csl-json", "ris")


@app.command(cls=ExocliCommand)
def export(
    kind: Annotated[str, typer.Argument(metavar="bib|csl-json|ris", help="What to write.")],
    phrase: PhraseArg = None,
    source: SourceOpt = None,
    effect: EffectOpt = None,
    cargo: CargoOpt = None,
    cargo_type: CargoTypeOpt = None,
    pathway: PathwayOpt = None,
    model: ModelOpt = None,
    text: TextOpt = None,
    refs: Annotated[str | None, typer.Option("--refs", help="Reference numbers: 43,44,48 or 40-45.")] = None,
    all_refs: Annotated[bool, typer.Option("--all", help="Every reference in the workspace.")] = False,
    unicode: Annotated[
        bool, typer.Option("--unicode", help="BibTeX: keep UTF-8 (for biber/biblatex).")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (else stdout).")
    ] = None,
    explain: ExplainOpt = False,
) -> None:
    """The references behind matching claims (or --refs, or --all) as BibTeX, CSL-JSON or RIS."""
    from exocli import export as ex

    if kind not in EXPORT_FORMATS:
        raise UsageError(f"export takes {', '.join(EXPORT_FORMATS)}, not {kind!r}")
    conn = database()
    numbers = ex.parse_ref_list(refs)
    selected = any((phrase, source, effect, cargo, cargo_type, pathway, model, text))
    if not (selected or numbers or all_refs):
        raise UsageError("say what to export: a phrase or filters, --refs 43,44 or --all")
    claim_refs = None
    if selected:
        claims = _matching_claims(
            conn,
            phrase,
            explain,
            sources=source,
            effects=effect,
            cargos=cargo,
            cargo_types=cargo_type,
            pathways=pathway,
            models=model,
            text=text,
        )
        claim_refs = [c["ref"] for c in claims if c["ref"] is not None]
    chosen = ex.select_references(conn, claim_refs, numbers, all_refs)
    if not chosen:
        message("No references match.")
        return
    items = ex.records(conn, chosen)
    for item in items:
        missing = item.missing()
        if missing:
            message(f"Warning: [{item.number}] {item.key} has no {', '.join(missing)}")
    if kind == "bib":
        content = ex.to_bibtex(items, unicode=unicode)
    elif kind == "csl-json":
        content = ex.to_csl(items)
    else:
        content = ex.to_ris(items)
    _write_output(content, output)
    resolved = sum(1 for item in items if item.source == "crossref")
    message(
        f"{len(items)} references ({resolved} from Crossref records, {len(items) - resolved} from the list)"
    )


def _write_output(content: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(content)
        return
    from exocli.textio import atomic_write

    atomic_write(output, content)
    message(f"Wrote {output}")


@app.command(cls=ExocliCommand)
def table(
    phrase: PhraseArg = None,
    source: SourceOpt = None,
    effect: EffectOpt = None,
    cargo: CargoOpt = None,
    cargo_type: CargoTypeOpt = None,
    pathway: PathwayOpt = None,
    model: ModelOpt = None,
    ref: RefOpt = None,
    text: TextOpt = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown, latex or csv.")] = "markdown",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (else stdout).")
    ] = None,
    explain: ExplainOpt = False,
) -> None:
    """The review's summary table from the evidence: grouped by source and effect, citing keys."""
    from exocli import export as ex

    fmt = check_format(fmt, ("markdown", "latex", "csv"))
    conn = database()
    claims = _matching_claims(
        conn,
        phrase,
        explain,
        sources=source,
        effects=effect,
        cargos=cargo,
        cargo_types=cargo_type,
        pathways=pathway,
        models=model,
        refs=ref,
        text=text,
    )
    if not claims:
        message("No claims match.")
        return
    content, cited = ex.evidence_table(conn, claims, fmt)
    _write_output(content, output)
    message(f"{plural(len(claims), 'claim')} citing {plural(len(cited), 'reference')}")


@app.command(cls=ExocliCommand)
def stats(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv, tsv, json or markdown.")] = "table",
    plot: Annotated[
        Path | None,
        typer.Option(help="Also draw the matrix to FILE.png or FILE.svg (needs matplotlib)."),
    ] = None,
) -> None:
    """Claims per source x effect: an evidence gap map."""
    from exocli.render import write_matrix
    from exocli.stats import draw_matrix, source_effect_matrix

    fmt = check_format(fmt)
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--plot: {plot} must end in .png or .svg")
    matrix = source_effect_matrix(database())
    write_matrix(matrix, fmt)
    if plot is not None:
        draw_matrix(matrix, plot)
        message(f"Wrote {plot}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted\n")
        sys.exit(130)
