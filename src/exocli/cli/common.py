"""Options and helpers shared by query, claims list, export and table."""

from pathlib import Path
from typing import Annotated, Any

import typer

try:  # typer >= 0.27 carries its own copy of click
    from typer._click import types as click_types
except ImportError:  # pragma: no cover
    from click import types as click_types  # type: ignore[no-redef]

from exocli.errors import UsageError
from exocli.render import message

ListOption = Annotated[list[str] | None, typer.Option()]


class RefNumbers(click_types.ParamType):
    """One value of a reference option: `43`, `43,44` or `40-45` (exocli.refnumbers reads it)."""

    name = "N,N-M"

    def convert(self, value: Any, param: Any, ctx: Any) -> list[int]:
        if isinstance(value, list):  # a default, already numbers
            return value
        from exocli.refnumbers import parse_ref_list

        try:
            return parse_ref_list(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


def _all_refs(value: list[list[int]] | None) -> list[int]:
    """`--ref 43,44 --ref 40-45` -> every number once, in the order given."""
    return list(dict.fromkeys(number for numbers in value or [] for number in numbers))


def ref_option(*names: str, hidden: bool = False) -> Any:
    """The one form for reference numbers on every command: repeat it, list them, give ranges."""
    return typer.Option(
        *names,
        click_type=RefNumbers(),
        callback=_all_refs,
        metavar="N,N-M",
        hidden=hidden,
        help="Reference numbers: 43,44 or 40-45 (or repeat the option).",
    )


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
    list[str] | None,
    typer.Option(
        "--model", "-m", help="Study model (with its children): in vivo, in vitro, clinical, MCAO, ..."
    ),
]
InjuryOpt = Annotated[
    list[str] | None, typer.Option("--injury", "-i", help="Injury or disease (with its children).")
]
SpeciesOpt = Annotated[list[str] | None, typer.Option("--species", help="rat, mouse, human, ...")]
RefOpt = Annotated[list[int] | None, ref_option("--ref", "-r")]
TextOpt = Annotated[list[str] | None, typer.Option("--text", help="Full-text words (claims and titles).")]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="Print the filters the query became (stderr).")]
DraftsOpt = Annotated[
    bool, typer.Option("--drafts", help="Include draft claims (from `exocli extract`), not yet accepted.")
]

# Exclusions: --not-FIELD TERM for each term filter above, and -x FIELD=TERM for any of them.
NotSourceOpt = Annotated[
    list[str] | None, typer.Option("--not-source", help="Leave out this source (and its children).")
]
NotEffectOpt = Annotated[list[str] | None, typer.Option("--not-effect", help="Leave out this effect.")]
NotCargoOpt = Annotated[list[str] | None, typer.Option("--not-cargo", help="Leave out this cargo.")]
NotCargoTypeOpt = Annotated[
    list[str] | None, typer.Option("--not-cargo-type", help="Leave out this cargo type.")
]
NotPathwayOpt = Annotated[list[str] | None, typer.Option("--not-pathway", help="Leave out this pathway.")]
NotModelOpt = Annotated[list[str] | None, typer.Option("--not-model", help="Leave out this model.")]
NotInjuryOpt = Annotated[
    list[str] | None, typer.Option("--not-injury", help="Leave out this injury (and its children).")
]
NotSpeciesOpt = Annotated[list[str] | None, typer.Option("--not-species", help="Leave out this species.")]


class ExcludeTerm(click_types.ParamType):
    """One `-x/--exclude` value: FIELD=TERM, FIELD a term filter's name; gives `field=TERM`."""

    name = "FIELD=TERM"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from exocli.query import TERM_FIELDS

        text = str(value)
        field, equals, term = text.partition("=")
        if not equals or not term.strip():
            self.fail(f"{text!r} is not FIELD=TERM (e.g. source=ADSC)", param, ctx)
        names = list(TERM_FIELDS.values())
        key = field.strip().lower().replace("_", "-").replace(" ", "-")
        if key not in names and key.endswith("s") and key[:-1] in names:  # sources=, cargo-types=
            key = key[:-1]
        if key not in names:
            import difflib

            close = difflib.get_close_matches(key, names, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            self.fail(
                f"{field!r} is not a field to exclude; {hint}FIELD is one of {', '.join(names)}", param, ctx
            )
        return f"{key}={term.strip()}"


ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        "-x",
        click_type=ExcludeTerm(),
        metavar="FIELD=TERM",
        help="Leave out claims with TERM in FIELD (source, effect, cargo, cargo-type, pathway, model, injury, species).",
    ),
]


# filter option (parameter name) -> field of exocli.query.Filters
FILTER_OPTIONS = {
    "source": "sources",
    "effect": "effects",
    "cargo": "cargos",
    "cargo_type": "cargo_types",
    "pathway": "pathways",
    "model": "models",
    "injury": "injuries",
    "species": "species",
    "ref": "refs",
    "text": "text",
    "not_source": "not_sources",
    "not_effect": "not_effects",
    "not_cargo": "not_cargos",
    "not_cargo_type": "not_cargo_types",
    "not_pathway": "not_pathways",
    "not_model": "not_models",
    "not_injury": "not_injuries",
    "not_species": "not_species",
}
# -x/--exclude FIELD=TERM: the same lists as --not-FIELD TERM
EXCLUDE_OPTION = "exclude"


def has_filters(parameters: dict[str, Any]) -> bool:
    return bool(parameters.get("phrase")) or any(
        parameters.get(name) for name in (*FILTER_OPTIONS, EXCLUDE_OPTION)
    )


def matching_claims(
    conn: Any, parameters: dict[str, Any], *, sort: str = "ref", limit: int | None = None
) -> list[dict[str, Any]]:
    """Claims for a command's phrase and filter options; the one path behind query, export, table."""
    from exocli import query as q

    vocabs = q.Vocabs.load(conn)
    phrase, explain = parameters.get("phrase"), bool(parameters.get("explain"))
    filters = q.Filters(
        **{field: list(parameters.get(option) or []) for option, field in FILTER_OPTIONS.items()}
    )
    fields = {label: name for name, label in q.TERM_FIELDS.items()}
    for item in parameters.get(EXCLUDE_OPTION) or []:  # `field=TERM`, as ExcludeTerm gives it
        label, _, term = item.partition("=")
        excluded = getattr(filters, f"not_{fields[label]}")
        if term not in excluded:
            excluded.append(term)
    if phrase:
        parsed = q.parse_phrase(conn, phrase, vocabs)
        if parsed.unknown:
            message(f"Not understood in the phrase (ignored): {' '.join(parsed.unknown)}")
        if parsed.filters.is_empty():
            raise UsageError(
                f"nothing in {phrase!r} names a source, effect, cargo, pathway, model, injury or species;"
                " see `exocli vocab` or use --text for full-text search"
            )
        filters = filters.merge(parsed.filters)
    statuses: tuple[str, ...] = ("curated", "draft") if parameters.get("drafts") else ("curated",)
    status = parameters.get("status")
    if status:
        from exocli.fields import STATUSES

        if status != "all" and status not in STATUSES:
            raise UsageError(f"--status must be one of {', '.join(STATUSES)} or all, not {status!r}")
        statuses = STATUSES if status == "all" else (status,)
    compiled = q.compile_filters(conn, filters, vocabs, statuses=statuses)
    if explain:
        for name, value in compiled.explanation or [("filters", "none (every claim)")]:
            message(f"{name}: {value}")
    return q.fetch_claims(conn, compiled, sort=sort, limit=limit)


def write_output(content: str, output: Path | None) -> None:
    """stdout, or -o FILE as exocli.output allows (never over the workspace's record)."""
    from exocli.cli import workspace
    from exocli.output import write_output as write

    if write(content, output, workspace()):
        message(f"Wrote {output}")
