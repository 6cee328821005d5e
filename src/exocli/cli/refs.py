"""`exocli refs ...`: the review's numbered reference list."""

from pathlib import Path
from typing import Annotated

import typer

from exocli.cli import ExocliCommand, FormatOption, database, make_typer, workspace
from exocli.render import check_format, message, write_rows

app = make_typer()
refs_app = make_typer("The review's numbered reference list.")
app.add_typer(refs_app, name="refs")


@refs_app.command("import", cls=ExocliCommand)
def refs_import(
    file: Annotated[Path, typer.Argument(help="A numbered reference list (Vancouver / NLM style).")],
    replace: Annotated[bool, typer.Option(help="Replace the workspace's list instead of merging.")] = False,
) -> None:
    """Parse a numbered reference list into the workspace (text first, then the database)."""
    from exocli.references import import_references

    result = import_references(workspace(), file, replace=replace)
    for problem in result.problems + result.record_problems:
        message(f"Warning: {problem}")
    for old, new in result.moved:
        message(f"Moved: reference {old} is now {new} (its claims moved with it)")
    if result.dropped:
        message(f"Dropped (cited by no claim): {', '.join(map(str, result.dropped))}")
    message(
        f"Imported {result.total} references from {file}: {len(result.added)} new, "
        f"{len(result.replaced)} replaced, {len(result.moved)} moved, {len(result.unchanged)} unchanged, "
        f"{sum('kept unparsed' in p for p in result.problems)} kept unparsed"
    )


@refs_app.command("list", cls=ExocliCommand)
def refs_list(fmt: FormatOption = "table") -> None:
    """List the references with their parsed fields."""
    from exocli.references import list_references

    fmt = check_format(fmt)
    conn = database(lenient=True)
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
    conn = database(lenient=True)
    ref = get_reference(conn, ident)
    compiled = query.compile_filters(
        conn, query.Filters(refs=[ref.number] if ref.number else []), query.Vocabs.load(conn)
    )
    claims = query.fetch_claims(conn, compiled) if ref.number is not None else []
    show_reference(ref, claims, candidates_for(conn, ref), fmt)


@refs_app.command("rekey", cls=ExocliCommand)
def refs_rekey(
    ident: Annotated[str, typer.Argument(metavar="N|DOI|KEY", help="The reference.")],
    new_key: Annotated[str, typer.Argument(metavar="NEWKEY", help="Its new citation key.")],
) -> None:
    """Change one reference's citation key (the only way a key ever changes)."""
    from exocli import curation

    old, new = curation.rekey(workspace(), database(lenient=True), ident, new_key)
    message(f"Reference key {old} is now {new}")
