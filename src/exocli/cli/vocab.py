"""`exocli vocab ...`: list, add, edit, remove, rename, import and export vocabulary terms."""

from pathlib import Path
from typing import Annotated, Any

import typer

from exocli.cli import ExocliCommand, ExocliGroup, FormatOption, database, make_typer, workspace
from exocli.render import check_format, message, plural, write_rows

NAMES = (
    "sources",
    "effects",
    "cargo-types",
    "pathways",
    "injuries",
    "species",
    "models",
)  # = vocab.VOCABS, not imported: light


class VocabGroup(ExocliGroup):
    """`exocli vocab [NAME] [-f FORMAT]` (no subcommand) lists, as `exocli vocab list` does."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or _lists(self, ctx, args[0]):
            args = ["list", *args]
        result: list[str] = super().parse_args(ctx, args)
        return result


def _lists(group: Any, ctx: Any, first: str) -> bool:
    if first in ("-h", "--help") or group.get_command(ctx, first) is not None:
        return False
    if first.startswith("-") or first in NAMES:
        return True
    from difflib import get_close_matches

    # a misspelt subcommand gets its did-you-mean; anything else is a vocabulary's name
    return not get_close_matches(first, group.list_commands(ctx), n=1)


app = make_typer()
vocab_app = make_typer(
    "The vocabularies (sources, effects, cargo-types, pathways): list, add, edit, remove, rename,"
    " import and export terms.",
    group=VocabGroup,
)
app.add_typer(vocab_app, name="vocab")

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="sources, effects, cargo-types or pathways.")]
LabelOpt = Annotated[str | None, typer.Option("--label", help="The term's label.")]
SynonymOpt = Annotated[
    list[str] | None, typer.Option("--synonym", help="Another spelling that means the term (repeat).")
]
ParentOpt = Annotated[
    str | None, typer.Option("--parent", help="The term above it (queries on the parent include it).")
]
StemOpt = Annotated[
    bool | None,
    typer.Option(
        "--stem/--non-stem", help="Sources only: a stem-cell source or not (default: as its parent)."
    ),
]
OntologyOpt = Annotated[
    str | None, typer.Option("--ontology-id", metavar="ID", help="e.g. CL:0000134, GO:0001525, DOID:...")
]


@vocab_app.command("list", cls=ExocliCommand)
def vocab_list(
    name: Annotated[
        str | None,
        typer.Argument(metavar="[NAME]", help="sources, effects, cargo-types or pathways (default: all)."),
    ] = None,
    fmt: FormatOption = "table",
) -> None:
    """List the terms with their synonyms, ontology id and how many claims use each."""
    from exocli.vocab import vocabulary_rows

    fmt = check_format(fmt)
    rows = vocabulary_rows(database(), name)
    columns = ("vocab", "code", "label", "parent", "synonyms", "ontology_id", "claims")
    headers = {c: c.capitalize() for c in columns} | {"ontology_id": "Ontology id"}
    write_rows(columns, rows, fmt, headers=headers)


@vocab_app.command("add", cls=ExocliCommand)
def vocab_add(
    name: NameArg,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The new term's code, as claims will use it.")],
    label: LabelOpt = None,
    synonym: SynonymOpt = None,
    parent: ParentOpt = None,
    stem: StemOpt = None,
    ontology_id: OntologyOpt = None,
) -> None:
    """Add a term to a vocabulary (the workspace's db/vocab/NAME.toml)."""
    from exocli.vocab_edits import TermOptions, add_term

    ws = workspace()
    options = TermOptions(
        label=label, synonyms=synonym or [], parent=parent, stem=stem, ontology_id=ontology_id
    )
    result = add_term(ws, database(), name, code, options)
    message(f"Added {name} term {result.code!r} to {result.path}")


@vocab_app.command("edit", cls=ExocliCommand)
def vocab_edit(
    name: NameArg,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The term (its code or any spelling).")],
    label: LabelOpt = None,
    synonym: SynonymOpt = None,
    remove_synonym: Annotated[
        list[str] | None, typer.Option("--remove-synonym", help="A synonym to take away (repeat).")
    ] = None,
    parent: ParentOpt = None,
    no_parent: Annotated[
        bool, typer.Option("--no-parent", help="Take the term out from under its parent.")
    ] = False,
    stem: StemOpt = None,
    ontology_id: OntologyOpt = None,
    no_ontology_id: Annotated[bool, typer.Option("--no-ontology-id", help="Drop the ontology id.")] = False,
) -> None:
    """Change a term's label, synonyms, parent, stem mark or ontology id."""
    from exocli.vocab_edits import TermOptions, edit_term

    ws = workspace()
    options = TermOptions(
        label=label,
        synonyms=synonym or [],
        remove_synonyms=remove_synonym or [],
        parent=parent,
        no_parent=no_parent,
        stem=stem,
        ontology_id=ontology_id,
        no_ontology_id=no_ontology_id,
    )
    result = edit_term(ws, database(), name, code, options)
    _say_rewritten(result)
    message(f"Edited {name} term {result.code!r} in {result.path}")


@vocab_app.command("remove", cls=ExocliCommand)
def vocab_remove(
    name: NameArg,
    code: Annotated[str, typer.Argument(metavar="CODE", help="The term (its code or any spelling).")],
) -> None:
    """Remove a term no claim uses (refused, naming the claims, while one does)."""
    from exocli.vocab_edits import remove_term

    ws = workspace()
    result = remove_term(ws, database(), name, code)
    message(f"Removed {name} term {result.code!r} from {result.path}")


@vocab_app.command("rename", cls=ExocliCommand)
def vocab_rename(
    name: NameArg,
    old: Annotated[str, typer.Argument(metavar="OLD", help="The term (its code or any spelling).")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Its new code.")],
) -> None:
    """Give a term a new code; the claims that use it are rewritten with it, in the same write."""
    from exocli.vocab_edits import rename_term

    ws = workspace()
    result = rename_term(ws, database(), name, old, new)
    carried = (
        f"; {plural(len(result.claims), 'claim')} in {plural(len(result.studies), 'study file')} rewritten with it"
        if result.claims
        else "; no claim uses it"
    )
    message(f"Renamed {name} term {old!r} to {result.code!r} in {result.path}{carried}")


@vocab_app.command("import", cls=ExocliCommand)
def vocab_import(
    name: NameArg,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A .toml file in the vocabulary layout, or a .csv/.tsv file with the columns"
            " code,label,synonyms,parent,stem,ontology_id (synonyms separated by ';').",
        ),
    ],
    replace: Annotated[
        bool, typer.Option("--replace", help="The file is the whole vocabulary: terms it lacks go.")
    ] = False,
) -> None:
    """Add terms from a file; a term whose code is already there is replaced by the file's."""
    from exocli.vocab_edits import import_terms

    ws = workspace()
    result = import_terms(ws, database(), name, file, replace_all=replace)
    _say_rewritten(result)
    counts = (
        f"{len(result.added)} new, {len(result.replaced)} replaced, {len(result.unchanged)} unchanged,"
        f" {len(result.removed)} removed"
    )
    if result.added or result.replaced or result.removed:
        message(f"Imported {name} terms from {file} into {result.path}: {counts}")
    else:
        message(f"Nothing to import from {file}: {counts}; nothing was changed")


@vocab_app.command("export", cls=ExocliCommand)
def vocab_export(
    name: NameArg,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="toml (the file's layout), csv, tsv or json.")
    ] = "toml",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
) -> None:
    """Write a vocabulary's terms as TOML, CSV or JSON (what `vocab import` reads back)."""
    from exocli.cli.common import write_output
    from exocli.vocab_edits import export_terms

    ws = workspace()
    write_output(export_terms(ws, name, fmt.lower()), output)


def _say_rewritten(result: Any) -> None:
    for path in result.studies:
        message(f"Rewrote {path}: its claims now name the term by its code")
