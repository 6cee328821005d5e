"""Curation: add-study, claims edit/remove, import."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from exocli.cli import ExocliCommand, FormatOption, database, make_typer, workspace
from exocli.cli.common import (
    CargoOpt,
    CargoTypeOpt,
    DraftsOpt,
    EffectOpt,
    ExcludeOpt,
    InjuryOpt,
    ModelOpt,
    NotCargoOpt,
    NotCargoTypeOpt,
    NotEffectOpt,
    NotInjuryOpt,
    NotModelOpt,
    NotPathwayOpt,
    NotSourceOpt,
    NotSpeciesOpt,
    PathwayOpt,
    PhraseArg,
    RefOpt,
    SourceOpt,
    SpeciesOpt,
    TextOpt,
)
from exocli.cli.drafts import register as register_draft_commands
from exocli.errors import ExocliError, UsageError
from exocli.render import message
from exocli.workspace import Workspace

app = make_typer()
claims_app = make_typer("Edit, remove, review, accept or reject evidence claims.")
app.add_typer(claims_app, name="claims")
register_draft_commands(claims_app)

CLAIM_REQUIRED = ("source", "cargo_type", "effects")
_CLEARABLE = ("cargo", "engineering", "pathways", "species", "model", "injury")


# Options named in the singular (--effect, --pathway) fill list fields of the claim record.
_OPTION_FIELDS = {"effect": "effects", "pathway": "pathways"}


def _claim_fields(options: dict[str, Any]) -> dict[str, Any]:
    """A command's parameters -> the claim record fields given (None or [] = not given)."""
    from exocli.fields import CLAIM_KEYS

    fields: dict[str, Any] = {}
    for name, value in options.items():
        key = _OPTION_FIELDS.get(name, name)
        if key in ("id", "added_by", "added_at") or key not in CLAIM_KEYS or value is None or value == []:
            continue
        fields[key] = list(value) if isinstance(value, list | tuple) else value
    return fields


def _interactive(yes: bool) -> bool:
    return not yes and sys.stdin.isatty() and sys.stdout.isatty()


def _check_complete(fields: dict[str, Any]) -> None:
    missing = [key for key in CLAIM_REQUIRED if key not in fields]
    if missing:
        flags = ", ".join("--" + ("effect" if k == "effects" else k.replace("_", "-")) for k in missing)
        raise UsageError(f"missing {flags} (give them, or run on a terminal without --yes to be asked)")


@app.command("add-study", cls=ExocliCommand)
def add_study(
    doi: Annotated[str | None, typer.Option(help="The study's DOI (resolved through Crossref).")] = None,
    ref: Annotated[
        str | None,
        typer.Option("--ref", "-r", metavar="N|DOI|KEY", help="A reference already in the list."),
    ] = None,
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
    species: Annotated[list[str] | None, typer.Option(help="Species term, e.g. rat (repeat).")] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="Model term: in vivo, in vitro, clinical, MCAO, ... (repeat).")
    ] = None,
    injury: Annotated[
        list[str] | None, typer.Option(help="Injury or disease term, e.g. SCI, stroke (repeat).")
    ] = None,
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
    parameters = dict(locals())  # the options as given, before any other name exists
    from exocli import curation

    fields = _claim_fields(parameters)
    fields.pop("ref", None)  # add-study's --ref names the study (below), not a field to set
    study: dict[str, Any] = {
        name: value
        for name, value in {
            "doi": doi,
            "ref": ref,
            "title": title,
            "author": author,
            "year": year,
            "journal": journal,
        }.items()
        if value
    }
    ws = workspace()
    conn = database()
    interactive = _interactive(yes)
    new_terms: list[Any] = []  # terms accepted on the terminal, written with the claim
    if interactive:
        answered, new_terms = _ask(ws, study, fields)
        study.update(answered)
    else:
        if not cargo and cargo_type is None:
            fields["cargo_type"] = "none"  # no cargo named: the whole exosome is credited
        _check_complete(fields)
    metadata = study_metadata(
        study.get("title"), study.get("author"), study.get("year"), study.get("journal")
    )
    fetch = None if offline or metadata is not None else crossref_fetcher(ws)
    try:
        result = curation.add_study(
            ws, conn, study.get("doi"), fields, metadata, fetch, study.get("ref"), new_terms
        )
    except ExocliError:
        if interactive:  # nothing typed is lost: the answers, as the commands that give them again
            from exocli.cli.prompting import as_command

            commands = "commands" if new_terms else "one command"
            message(f"Your answers, as {commands}: {as_command(study, fields, new_terms)}")
        raise
    for warning in result.warnings:
        message(f"Warning: {warning}")
    for vocab_name, code, path in result.terms:
        message(f"Added {vocab_name} term {code!r} to {path}")
    kind = "new reference" if result.new_reference else "reference"
    message(f"Added claim {result.claim.id} citing {kind} {result.ref_number} ({result.key})")


def _ask(ws: Workspace, study: dict[str, Any], fields: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """On a terminal: the study first (unless given), then every claim field not given.
    Returns the study's answers and the vocabulary terms accepted on the way."""
    from exocli.cli.prompting import Asker
    from exocli.vocab_edits import vocabularies_with

    asker = Asker(lambda new_terms: vocabularies_with(ws, new_terms)[0])
    answered = {} if study else asker.identity()
    asker.claim(fields)
    return answered, asker.new_terms


def study_metadata(
    title: str | None,
    author: list[str] | None,
    year: int | None,
    journal: str | None,
    volume: str | None = None,
    issue: str | None = None,
    pages: str | None = None,
    url: str | None = None,
) -> Any:
    """A study's details as given on the command line (None: none were given)."""
    from exocli.reference_edits import StudyMetadata, author_option

    if not (title or author or year or journal):
        if volume or issue or pages or url:
            raise UsageError(
                "--volume, --issue, --pages and --url go with --title, --author, --year and --journal"
            )
        return None
    if not (title and author and year and journal):
        raise UsageError("--title, --author, --year and --journal go together")
    names = [author_option(a) for a in author]
    return StudyMetadata(
        title, [(a.family, a.given) for a in names], year, journal, volume, issue, pages, url
    )


def crossref_fetcher(ws: Workspace) -> Any:
    """Fetch one DOI's record; the core stores it in refs/crossref/ with its change."""
    from exocli import crossref

    def fetch(doi: str) -> Any:
        settings = crossref.Settings.from_workspace(ws)
        outcome = crossref.Client(settings).work(doi)
        if outcome.status == "failed":
            raise ExocliError(
                f"Crossref could not be asked about {doi} ({outcome.error}); add it offline with"
                " --title, --author, --year and --journal"
            )
        stored = {
            "doi": doi,
            "status": outcome.status,
            "fetched_at": crossref.now(),
            "pool": settings.pool,
            "message": outcome.body if outcome.status == "ok" else None,
        }
        message = outcome.body if outcome.status == "ok" else None
        return message, crossref.work_path(ws, doi), crossref.stored_text(stored)

    return fetch


@claims_app.command("edit", cls=ExocliCommand)
def claims_edit(
    claim_id: Annotated[int, typer.Argument(metavar="ID", help="The claim's id.")],
    ref: Annotated[
        str | None, typer.Option(metavar="N|DOI|KEY", help="Move the claim to this reference.")
    ] = None,
    source: Annotated[str | None, typer.Option()] = None,
    cargo: Annotated[list[str] | None, typer.Option(help="Replaces the cargo list (repeat).")] = None,
    cargo_type: Annotated[str | None, typer.Option()] = None,
    effect: Annotated[list[str] | None, typer.Option(help="Replaces the effects (repeat).")] = None,
    pathway: Annotated[list[str] | None, typer.Option(help="Replaces the pathways (repeat).")] = None,
    engineering: Annotated[
        list[str] | None, typer.Option(help="Replaces the engineering list (repeat).")
    ] = None,
    species: Annotated[list[str] | None, typer.Option(help="Replaces the species (repeat).")] = None,
    model: Annotated[list[str] | None, typer.Option(help="Replaces the models (repeat).")] = None,
    injury: Annotated[list[str] | None, typer.Option(help="Replaces the injuries (repeat).")] = None,
    route: Annotated[str | None, typer.Option()] = None,
    dose: Annotated[str | None, typer.Option()] = None,
    outcome: Annotated[str | None, typer.Option()] = None,
    section: Annotated[str | None, typer.Option()] = None,
    source_wording: Annotated[str | None, typer.Option()] = None,
    note: Annotated[str | None, typer.Option()] = None,
    clear: Annotated[
        list[str] | None,
        typer.Option(help="Empty a list field (cargo, engineering, pathways, species, model, injury)."),
    ] = None,
) -> None:
    """Change fields of one claim (lists given replace the whole list)."""
    parameters = dict(locals())  # the options as given, before any other name exists
    from exocli import curation

    changes = _claim_fields(parameters)
    for name in clear or []:
        if name not in _CLEARABLE:
            raise UsageError(f"--clear takes {', '.join(_CLEARABLE)}, not {name!r}")
        changes[name] = []
    edit = curation.edit_claim(workspace(), database(), claim_id, changes)
    message(f"Edited claim {edit.after.id}:")
    for name, old, new in edit.changes:
        message(f"  {name}: {old} -> {new}")


@claims_app.command("remove", cls=ExocliCommand)
def claims_remove(
    claim_id: Annotated[int, typer.Argument(metavar="ID", help="The claim's id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove one claim (asks first unless --yes)."""
    from exocli import curation

    ws = workspace()
    conn = database()
    claim, _ = curation.get_claim(ws, conn, claim_id)
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


@claims_app.command("list", cls=ExocliCommand)
def claims_list(
    phrase: PhraseArg = None,
    source: SourceOpt = None,
    effect: EffectOpt = None,
    cargo: CargoOpt = None,
    cargo_type: CargoTypeOpt = None,
    pathway: PathwayOpt = None,
    model: ModelOpt = None,
    injury: InjuryOpt = None,
    species: SpeciesOpt = None,
    ref: RefOpt = None,
    text: TextOpt = None,
    not_source: NotSourceOpt = None,
    not_effect: NotEffectOpt = None,
    not_cargo: NotCargoOpt = None,
    not_cargo_type: NotCargoTypeOpt = None,
    not_pathway: NotPathwayOpt = None,
    not_model: NotModelOpt = None,
    not_injury: NotInjuryOpt = None,
    not_species: NotSpeciesOpt = None,
    exclude: ExcludeOpt = None,
    fmt: FormatOption = "table",
    sort: Annotated[str, typer.Option(help="id, ref, year, source or cargo-type.")] = "ref",
    limit: Annotated[int | None, typer.Option(help="At most this many claims.")] = None,
    drafts: DraftsOpt = False,
    status: Annotated[
        str | None,
        typer.Option("--status", help="Only claims of this status: curated, draft, rejected or all."),
    ] = None,
) -> None:
    """Claims with their ids and who added them; takes the filters of `exocli query`."""
    parameters = dict(locals())  # the options as given, before any other name exists
    from exocli.cli.common import matching_claims
    from exocli.render import check_format, plural, write_claims

    fmt = check_format(fmt)
    claims = matching_claims(database(), parameters, sort=sort, limit=limit)
    if not claims:
        message("No claims match.")
        return
    drafted = any(c["status"] != "curated" for c in claims)
    columns = (
        "id,ref,study,source,cargo_type,cargo,effects,"
        + ("status,location" if drafted else "added_by,added_at")
        if fmt in ("table", "markdown")
        else None
    )
    write_claims(claims, fmt, columns, references=False)
    message(plural(len(claims), "claim"))


@claims_app.command("show", cls=ExocliCommand)
def claims_show(
    claim_id: Annotated[int, typer.Argument(metavar="ID", help="The claim's id.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """One claim: every field, and the reference it cites."""
    from exocli import curation
    from exocli.render import check_format, show_claim

    fmt = check_format(fmt, ("text", "json"))
    ws = workspace()
    claim, study = curation.get_claim(ws, database(), claim_id)
    show_claim(claim, study, ws.relative(ws.study_path(study.key)), fmt)
