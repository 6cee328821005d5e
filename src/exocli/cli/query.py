"""`exocli query` and `exocli stats`."""

from pathlib import Path
from typing import Annotated

import typer

from exocli.cli import ExocliCommand, FormatOption, database, make_typer
from exocli.cli.common import (
    CargoOpt,
    CargoTypeOpt,
    DraftsOpt,
    EffectOpt,
    ExcludeOpt,
    ExplainOpt,
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
    matching_claims,
)
from exocli.errors import UsageError
from exocli.render import check_format, message, plural

app = make_typer()


@app.command(cls=ExocliCommand)
def query(
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
    columns: Annotated[str | None, typer.Option(help="Comma-separated columns to show.")] = None,
    sort: Annotated[str, typer.Option(help="id, ref, year, source or cargo-type.")] = "ref",
    limit: Annotated[int | None, typer.Option(help="At most this many claims.")] = None,
    explain: ExplainOpt = False,
    drafts: DraftsOpt = False,
) -> None:
    """Evidence claims matching a phrase and/or filters (AND across filters, OR within one)."""
    parameters = dict(locals())  # the options as given, before any other name exists
    from exocli.render import write_claims

    fmt = check_format(fmt)
    claims = matching_claims(database(), parameters, sort=sort, limit=limit)
    if not claims:
        message("No claims match.")
        return
    write_claims(claims, fmt, columns)
    refs = {c["ref"] for c in claims if c["ref"] is not None}
    message(f"{plural(len(claims), 'claim')} from {plural(len(refs), 'reference')}")


@app.command(cls=ExocliCommand)
def stats(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv, tsv, json or markdown.")] = "table",
    by: Annotated[
        str, typer.Option("--by", help="Rows: source, cargo-type, injury, species or model.")
    ] = "source",
    plot: Annotated[
        Path | None,
        typer.Option(help="Also draw the matrix to FILE.png or FILE.svg (needs matplotlib)."),
    ] = None,
) -> None:
    """Claims per source (or --by injury, species, model, cargo-type) x effect: an evidence gap map."""
    from exocli.render import write_matrix
    from exocli.stats import draw_matrix, effect_matrix

    fmt = check_format(fmt)
    if plot is not None and plot.suffix.lower() not in (".png", ".svg"):
        raise UsageError(f"--plot: {plot} must end in .png or .svg")
    matrix = effect_matrix(database(), by)
    write_matrix(matrix, fmt)
    if plot is not None:
        draw_matrix(matrix, plot)
        message(f"Wrote {plot}")
