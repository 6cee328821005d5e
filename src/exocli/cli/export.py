"""`exocli export` and `exocli table`."""

from pathlib import Path
from typing import Annotated

import typer

from exocli.cli import ExocliCommand, database, make_typer
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
    has_filters,
    matching_claims,
    ref_option,
    write_output,
)
from exocli.errors import UsageError
from exocli.render import check_format, message, plural

app = make_typer()

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
    injury: InjuryOpt = None,
    species: SpeciesOpt = None,
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
    ref_numbers: RefOpt = None,  # not a claim filter: these references themselves
    refs: Annotated[list[int] | None, ref_option("--refs", hidden=True)] = None,  # deprecated: --ref
    all_refs: Annotated[bool, typer.Option("--all", help="Every reference in the workspace.")] = False,
    unicode: Annotated[
        bool, typer.Option("--unicode", help="BibTeX: keep UTF-8 (for biber with lualatex or xelatex).")
    ] = False,
    doi_url: Annotated[
        bool,
        typer.Option(
            "--doi-url", help="BibTeX: also write url = https://doi.org/DOI (classic .bst styles ignore doi)."
        ),
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (else stdout).")
    ] = None,
    explain: ExplainOpt = False,
    drafts: DraftsOpt = False,
) -> None:
    """The references behind matching claims (or --ref, or --all) as BibTeX, CSL-JSON or RIS."""
    parameters = dict(locals())  # the options as given, before any other name exists
    from exocli import export as ex

    if kind not in EXPORT_FORMATS:
        raise UsageError(f"export takes {', '.join(EXPORT_FORMATS)}, not {kind!r}")
    if refs:
        message("Warning: --refs is deprecated; use --ref, which takes the same 43,44 or 40-45")
    numbers = list(dict.fromkeys([*(ref_numbers or []), *(refs or [])]))
    conn = database()
    selected = has_filters(parameters)
    if not (selected or numbers or all_refs):
        raise UsageError("say what to export: a phrase or filters, --ref 43,44 or --all")
    claim_refs = None
    if selected:
        claims = matching_claims(conn, parameters)
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
        content = ex.to_bibtex(items, unicode=unicode, doi_url=doi_url)
        if unicode:
            from exocli.latex import pdflatex_unsafe

            unsafe = pdflatex_unsafe(content)
            if unsafe:
                message(
                    f"Warning: --unicode keeps {' '.join(unsafe[:8])}{' ...' if len(unsafe) > 8 else ''}, which"
                    " pdflatex cannot set: compile with biber under lualatex or xelatex, or export without --unicode"
                )
    elif kind == "csl-json":
        content = ex.to_csl(items)
    else:
        content = ex.to_ris(items)
    write_output(content, output)
    resolved = sum(1 for item in items if item.source == "crossref")
    message(
        f"{len(items)} references ({resolved} from Crossref records, {len(items) - resolved} from the list)"
    )


@app.command(cls=ExocliCommand)
def table(
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
    fmt: Annotated[str, typer.Option("--format", "-f", help="markdown, latex or csv.")] = "markdown",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE (else stdout).")
    ] = None,
    explain: ExplainOpt = False,
    drafts: DraftsOpt = False,
) -> None:
    """The review's summary table from the evidence: grouped by source and effect, citing keys."""
    parameters = dict(locals())  # the options as given, before any other name exists
    from exocli import export as ex

    fmt = check_format(fmt, ("markdown", "latex", "csv"))
    conn = database()
    claims = matching_claims(conn, parameters)
    if not claims:
        message("No claims match.")
        return
    content, cited = ex.evidence_table(conn, claims, fmt)
    write_output(content, output)
    message(f"{plural(len(claims), 'claim')} citing {plural(len(cited), 'reference')}")
