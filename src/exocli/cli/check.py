"""`exocli check`: the audit."""

from pathlib import Path
from typing import Annotated

import typer

from exocli.cli import ExocliCommand, database, make_typer, workspace
from exocli.render import check_format, message

app = make_typer()


@app.command(cls=ExocliCommand)
def check(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
    manuscript: Annotated[
        Path | None,
        typer.Option(
            "--manuscript",
            "-m",
            metavar="FILE",
            help="Audit this manuscript's citing sentences (.txt, .md, .tex, .docx) against the references they cite.",
        ),
    ] = None,
) -> None:
    """Audit claims against the references they cite, and the references against Crossref
    (with --manuscript: the manuscript's citing sentences against the references they cite)."""
    from exocli.render import write_report

    fmt = check_format(fmt, ("table", "json"))
    if manuscript is not None:
        from exocli.drafts import manuscript_name
        from exocli.manuscript_check import check_manuscript

        report = check_manuscript(database(), manuscript, name=manuscript_name(workspace(), manuscript))
    else:
        from exocli.audit import run_checks

        report = run_checks(database())  # the report lists the problems
    write_report(report, fmt)
    counts = report.counts()
    message(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")
    code = report.exit_code(strict)
    if code:
        raise typer.Exit(code)
