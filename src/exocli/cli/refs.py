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
    file: Annotated[
        Path,
        typer.Argument(
            help="A BibTeX, RIS, CSL-JSON, CSL-YAML or MEDLINE file, a list of DOIs (one a line), or a"
            " reference list copied from an article, PDF or web page (any common style)."
        ),
    ],
    replace: Annotated[
        bool, typer.Option(help="Take the new list whole: match each entry to its paper, renumber.")
    ] = False,
    drop_claims: Annotated[
        bool, typer.Option("--drop-claims", help="With --replace: also remove claims of dropped references.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the entries as read and report what would change; write nothing."
        ),
    ] = False,
    fmt: FormatOption = "table",
) -> None:
    """Import a reference list or bibliography file into the workspace: new studies, replaced entries, moves."""
    from exocli.references import import_references

    fmt = check_format(fmt)
    result = import_references(workspace(), file, replace=replace, drop_claims=drop_claims, dry_run=dry_run)
    if dry_run:
        write_rows(
            ("number", "kind", "first_author", "authors", "year", "title", "journal", "doi", "problem"),
            [
                {
                    "number": ref.number,
                    "kind": ref.kind,
                    "first_author": ref.first_author,
                    "authors": len(ref.authors),
                    "year": ref.year,
                    "title": ref.title,
                    "journal": ref.journal,
                    "doi": ref.doi or ref.url,
                    "problem": ref.problem,
                }
                for ref in result.entries
            ],
            fmt,
            headers={
                "number": "#",
                "kind": "Kind",
                "first_author": "First author",
                "authors": "Authors",
                "year": "Year",
                "title": "Title",
                "journal": "Journal",
                "doi": "DOI / URL",
                "problem": "Note",
            },
        )
    for problem in result.problems:
        message(f"Warning: {problem}")
    for old, new in result.moved:
        message(f"Moved: reference {old} is now {new} (its claims moved with it)")
    for number in result.added:
        message(f"New: reference {number}")
    for number in result.dropped:
        cited = result.dropped_claims.get(number)
        claims = f"claim{'s' if cited and len(cited) > 1 else ''} {', '.join(map(str, cited or []))}"
        what = f"its {claims} removed" if cited else "cited by no claim"
        message(f"Dropped: reference {number} ({what})")
    message(
        f"{'Would import' if dry_run else 'Imported'} {result.total} references from {file}:"
        f" {len(result.added)} new, {len(result.replaced)} replaced, {len(result.moved)} moved,"
        f" {len(result.dropped)} dropped, {len(result.unchanged)} unchanged,"
        f" {sum('kept unparsed' in p for p in result.problems)} kept unparsed"
        + ("; nothing was written (--dry-run)" if dry_run else "")
    )
    if result.format == "doi-list" and result.added:
        message(
            f"Next: `exocli resolve` fills in the authors, title, journal and year of the {len(result.added)}"
            " new references from Crossref (they have only their DOI so far)"
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


@refs_app.command("rekey", cls=ExocliCommand)
def refs_rekey(
    ident: Annotated[str, typer.Argument(metavar="N|DOI|KEY", help="The reference.")],
    new_key: Annotated[str, typer.Argument(metavar="NEWKEY", help="Its new citation key.")],
) -> None:
    """Change one reference's citation key (the only way a key ever changes)."""
    from exocli import curation

    old, new = curation.rekey(workspace(), database(), ident, new_key)
    message(f"Reference key {old} is now {new}")


@refs_app.command("add", cls=ExocliCommand)
def refs_add(
    doi: Annotated[str | None, typer.Option(help="The DOI (details from Crossref unless given).")] = None,
    title: Annotated[str | None, typer.Option(help="Title.")] = None,
    author: Annotated[
        list[str] | None, typer.Option(help='"Family, Given" with the full given name (repeat, in order).')
    ] = None,
    journal: Annotated[str | None, typer.Option(help="Journal (NLM abbreviation).")] = None,
    year: Annotated[int | None, typer.Option(help="Publication year.")] = None,
    volume: Annotated[str | None, typer.Option(help="Volume.")] = None,
    issue: Annotated[str | None, typer.Option(help="Issue.")] = None,
    pages: Annotated[str | None, typer.Option(help="Pages or article number.")] = None,
    url: Annotated[str | None, typer.Option(help="URL (for a reference without DOI).")] = None,
    at: Annotated[int | None, typer.Option(help="Insert at this number (default: the end).")] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Do not ask Crossref.")] = False,
) -> None:
    """Add one reference: by DOI through Crossref, or by its fields."""
    from exocli.cli.curation import crossref_fetcher, study_metadata
    from exocli.reference_edits import add_reference, shift_text

    ws = workspace()
    meta = study_metadata(title, author, year, journal, volume, issue, pages, url)
    fetch = None if offline or meta is not None else crossref_fetcher(ws)
    change = add_reference(ws, database(), doi, meta, fetch, at)
    for warning in change.warnings:
        message(f"Warning: {warning}")
    shifted = shift_text(change.shifted)
    message(f"Added reference {change.number} ({change.key})" + (f"; {shifted}" if shifted else ""))


@refs_app.command("edit", cls=ExocliCommand)
def refs_edit(
    ident: Annotated[str, typer.Argument(metavar="N|DOI|KEY", help="The reference.")],
    title: Annotated[str | None, typer.Option()] = None,
    author: Annotated[
        list[str] | None, typer.Option(help='Replaces the authors: "Family, Given" (repeat).')
    ] = None,
    journal: Annotated[str | None, typer.Option()] = None,
    year: Annotated[int | None, typer.Option()] = None,
    volume: Annotated[str | None, typer.Option()] = None,
    issue: Annotated[str | None, typer.Option()] = None,
    pages: Annotated[str | None, typer.Option()] = None,
    doi: Annotated[str | None, typer.Option(help="The DOI ('' removes it).")] = None,
    url: Annotated[str | None, typer.Option()] = None,
    text: Annotated[
        str | None, typer.Option(help="The entry as printed; its fields are read from it.")
    ] = None,
) -> None:
    """Change fields of one reference (its printed entry follows); its claims stay with it."""
    from exocli.reference_edits import edit_reference

    given = {
        "title": title,
        "authors": author or None,
        "journal": journal,
        "year": year,
        "volume": volume,
        "issue": issue,
        "pages": pages,
        "doi": doi,
        "url": url,
        "text": text,
    }
    values = {name: value for name, value in given.items() if value is not None}
    change = edit_reference(workspace(), database(), ident, values)
    message(f"Edited reference {change.number} ({change.key}):")
    for name, old, new in change.changes:
        message(f"  {name}: {old} -> {new}")


@refs_app.command("remove", cls=ExocliCommand)
def refs_remove(
    ident: Annotated[str, typer.Argument(metavar="N|DOI|KEY", help="The reference.")],
) -> None:
    """Remove one reference no claim cites; the ones after it move up."""
    from exocli.reference_edits import remove_reference, shift_text

    change = remove_reference(workspace(), database(), ident)
    shifted = shift_text(change.shifted)
    message(f"Removed reference {change.number} ({change.key})" + (f"; {shifted}" if shifted else ""))


@refs_app.command("move", cls=ExocliCommand)
def refs_move(
    ident: Annotated[str, typer.Argument(metavar="N|DOI|KEY", help="The reference.")],
    to: Annotated[int, typer.Option("--to", help="Its new number.")],
) -> None:
    """Move one reference to another number; the ones between shift, claims stay with their papers."""
    from exocli.reference_edits import move_reference, shift_text

    change = move_reference(workspace(), database(), ident, to)
    _, old, new = change.changes[0]
    shifted = shift_text(change.shifted)
    message(f"Moved reference {old} ({change.key}) to {new}" + (f"; {shifted}" if shifted else ""))
