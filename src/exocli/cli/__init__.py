"""The command line: parse, call the core, render. Nothing else lives here.

Commands live in submodules that are imported only when their command runs (a lazy
group), so `exocli query` does not pay for building every other command.
"""

import importlib
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

try:  # typer >= 0.27 carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]

from exocli import __version__
from exocli.errors import ExocliError, UsageError
from exocli.render import message
from exocli.workspace import Workspace, find_workspace

# command name -> submodule of exocli.cli that defines it
COMMANDS = {
    "init": "admin",
    "refs": "refs",
    "vocab": "admin",
    "query": "query",
    "stats": "query",
    "resolve": "resolve",
    "add-study": "curation",
    "claims": "curation",
    "import": "curation",
    "sync": "admin",
    "export": "export",
    "table": "export",
    "check": "check",
    "rebuild": "admin",
    "upgrade": "admin",
}


class ExocliGroup(TyperGroup):
    """Turns exocli's own exceptions into `Error: ...` on stderr (exit 1, or 2 for usage)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click_errors.UsageError(str(exc), ctx) from exc
        except ExocliError as exc:
            error = click_errors.ClickException(str(exc))
            error.exit_code = exc.exit_code
            raise error from exc


class LazyGroup(ExocliGroup):
    """The top-level group: a command's module is imported when that command is asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"exocli.cli.{module_name}")
        container = typer.main.get_command(module.app)
        if isinstance(container, TyperGroup):
            return container.get_command(ctx, cmd_name)
        return container


class ExocliCommand(TyperCommand):
    """Usage errors raised by the core show this command's own usage line; connections close."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click_errors.UsageError(str(exc), ctx) from exc
        finally:
            while State.connections:
                State.connections.pop().close()


def make_typer(help_text: str = "", group: type[TyperGroup] = ExocliGroup) -> typer.Typer:
    return typer.Typer(
        cls=group,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
    )


app = make_typer("exocli: structured evidence from a review's references, as tables and BibTeX.", LazyGroup)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, csv, tsv, json or markdown.")]


class State:
    home: Path | None = None
    connections: ClassVar[list[Any]] = []  # opened by this command, closed when it ends


def _version(value: bool) -> None:
    if value:
        typer.echo(f"exocli {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Workspace folder (default: EXOCLI_HOME, else the nearest exocli.toml upwards).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    State.home = home


def workspace(any_format: bool = False) -> Workspace:
    """The workspace; unless `any_format` (upgrade), one whose record is in the current layout."""
    ws = find_workspace(State.home)
    if not any_format:
        ws.check_current()
    return ws


def database() -> Any:
    """The workspace's database, built or brought up to date from the text."""
    from exocli.db import external_changes, open_database, skipped_files

    ws = workspace()
    conn = open_database(ws)
    State.connections.append(conn)
    for line in skipped_files(conn):
        message(f"Warning: {line}")
    changed = external_changes(conn)
    if changed:
        message(
            f"Warning: {changed} changes in {ws.relative(ws.db_path)} were made outside exocli and are not"
            " in the text; `exocli sync --keep text|database` settles it"
        )
    return conn


def main() -> None:
    """Console-script entry point."""
    try:
        try:
            app()
        finally:
            # Output is buffered: a full disk or a closed pipe may only show when it is flushed.
            sys.stdout.flush()
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted\n")
        sys.exit(130)
    except OSError as exc:
        _output_failed(exc)


def _output_failed(exc: OSError) -> None:
    """A reader that went away (`| head`) is normal: stay silent. Anything else is one line."""
    import errno
    import os

    try:  # nothing more may reach the broken stream, not even at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    if exc.errno == errno.EPIPE:
        sys.exit(1)
    reason = "disk full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc))
    sys.stderr.write(f"Error: cannot write the output: {reason}\n")
    sys.exit(1)
