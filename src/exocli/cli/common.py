"""Options and helpers shared by query, export and table."""

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
    list[str] | None, typer.Option("--model", "-m", help="rat, mouse, human, clinical, in vivo, in vitro.")
]
RefOpt = Annotated[list[int] | None, ref_option("--ref", "-r")]
TextOpt = Annotated[list[str] | None, typer.Option("--text", help="Full-text words (claims and titles).")]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="Print the filters the query became (stderr).")]


# filter option (parameter name) -> field of exocli.query.Filters
FILTER_OPTIONS = {
    "source": "sources",
    "effect": "effects",
    "cargo": "cargos",
    "cargo_type": "cargo_types",
    "pathway": "pathways",
    "model": "models",
    "ref": "refs",
    "text": "text",
}


def has_filters(parameters: dict[str, Any]) -> bool:
    return bool(parameters.get("phrase")) or any(parameters.get(name) for name in FILTER_OPTIONS)


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


def write_output(content: str, output: Path | None) -> None:
    """stdout, or -o FILE as exocli.output allows (never over the workspace's record)."""
    from exocli.cli import workspace
    from exocli.output import write_output as write

    if write(content, output, workspace()):
        message(f"Wrote {output}")
