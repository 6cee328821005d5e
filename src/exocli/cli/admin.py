"""Commands about the workspace itself: init, rebuild, upgrade, sync."""

from pathlib import Path
from typing import Annotated

import typer

from exocli.cli import ExocliCommand, make_typer, workspace
from exocli.render import message

app = make_typer()


@app.command(cls=ExocliCommand)
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
    name: Annotated[str | None, typer.Option(help="A name for the workspace.")] = None,
    vocab: Annotated[
        str,
        typer.Option(
            "--vocab",
            metavar="exosome|blank",
            help="Vocabularies to start from: exosome (the default terms) or blank (no terms; add your own).",
        ),
    ] = "exosome",
) -> None:
    """Create an empty workspace: exocli.toml, refs/, db/ and its vocabularies."""
    from exocli.db import open_database
    from exocli.workspace import init_workspace

    ws = init_workspace(directory, name, vocab=vocab)
    open_database(ws).close()  # built now: the first command in it need not build it
    message(f"Created workspace {ws.root}; add references with `exocli --home {ws.root} refs import FILE`")


@app.command(cls=ExocliCommand)
def rebuild() -> None:
    """Build the database again from the workspace's text."""
    from exocli.db import database_path
    from exocli.store import rebuild_database

    ws = workspace()
    snapshot = rebuild_database(ws)
    message(
        f"Rebuilt {ws.relative(database_path(ws))}: {len(snapshot.references)} references,"
        f" {len(snapshot.claims)} claims"
    )


@app.command(cls=ExocliCommand)
def upgrade() -> None:
    """Convert a format-1 workspace (one list file, db/claims.toml) to one file per study."""
    from exocli.upgrade import upgrade_workspace

    ws = workspace(any_format=True)
    result = upgrade_workspace(ws)
    for old, new in result.renamed_keys:
        message(f"Key {old} is now {new} (a study key is also its file name)")
    message(
        f"Upgraded {ws.root}: {result.references} references, {result.claims} claims, one file per study"
        f" in {ws.relative(ws.studies_dir)}/ and the list order in refs/order.txt"
    )
    message(f"The format-1 files ({', '.join(result.removed)}) are kept in {ws.relative(result.backup)}/")


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
