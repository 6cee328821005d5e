"""`exocli check`: the audit."""

from typing import Annotated

import typer

from exocli.cli import ExocliCommand, database, make_typer
from exocli.render import check_format, message

app = make_typer()


@app.command(cls=ExocliCommand)
def check(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
) -> None:
    """Audit claims against the references they cite, and the references against Crossref."""
    from exocli.audit import run_checks
    from exocli.render import write_report

    fmt = check_format(fmt, ("table", "json"))
    report = run_checks(database())  # the report lists the problems
    write_report(report, fmt)
    counts = report.counts()
    message(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")
    code = report.exit_code(strict)
    if code:
        raise typer.Exit(code)
