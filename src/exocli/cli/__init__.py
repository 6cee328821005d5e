"""The command line: parse, call the core, render. Nothing else lives here.

Commands live in submodules that are imported only when their command runs (a lazy
group), so `exocli query` does not pay for building every other command.
"""

import importlib
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption

try:  # typer >= 0.27 carries its own copy of click
    from typer._click import exceptions as click_errors
    from typer._click import types as click_types
    from typer._click.core import ParameterSource
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]
    from click import types as click_types  # type: ignore[no-redef]
    from click.core import ParameterSource  # type: ignore[assignment]

from exocli import __version__
from exocli.errors import ExocliError, UsageError
from exocli.render import message
from exocli.workspace import Workspace, find_workspace

# command name -> submodule of exocli.cli that defines it
COMMANDS = {
    "init": "admin",
    "refs": "refs",
    "vocab": "vocab",
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
    "extract": "drafts",
    "search": "updates",
    "candidates": "updates",
    "rebuild": "admin",
    "upgrade": "admin",
    "completion": "completion",
}
# Commands that never open a workspace: they take no --home of their own.
NO_WORKSPACE = frozenset({"init", "completion"})
PROG = "exocli"  # the console script; also names the completion variable, _EXOCLI_COMPLETE
HELP_OPTIONS = {"help_option_names": ["--help", "-h"]}


class ExocliGroup(TyperGroup):
    """Turns exocli's own exceptions into `Error: ...` on stderr (exit 1, or 2 for usage)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """A command name that is not one is a usage error naming the closest commands."""
        try:
            return super().resolve_command(ctx, args)
        except click_errors.UsageError:
            name = args[0] if args else ""
            if not name or name.startswith("-") or self.get_command(ctx, name) is not None:
                raise  # an option's error, not a command's name
        from difflib import get_close_matches

        commands = [
            n for n in self.list_commands(ctx) if not getattr(self.get_command(ctx, n), "hidden", True)
        ]
        close = get_close_matches(name, commands, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"`{ctx.command_path} -h` lists them"
        raise click_errors.UsageError(f"no such command {name!r}; {hint}", ctx)

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
    """Usage errors raised by the core show this command's own usage line; connections close.

    Every command that opens a workspace also takes `--home` after its name, and a
    `--format` given before the command's name counts as if given after it; given in both
    places, the one after the name wins.
    """

    def __init__(self, name: str | None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        if name not in NO_WORKSPACE:
            self.params.append(
                TyperOption(
                    param_decls=["--home"],
                    type=click_types.STRING,
                    metavar="DIR",
                    expose_value=False,
                    callback=_home_after_command,
                    help="Workspace folder, as `exocli --home DIR` (this one wins if both are given).",
                )
            )

    def invoke(self, ctx: Any) -> Any:
        if State.format is not None:
            _format_before_command(self, ctx, State.format)
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click_errors.UsageError(str(exc), ctx) from exc
        finally:
            while State.connections:
                State.connections.pop().close()


def _home_after_command(ctx: Any, param: Any, value: str | None) -> None:
    if value is not None:  # runs after the group's own --home: the later one wins
        State.home = Path(value)


def _format_before_command(command: Any, ctx: Any, fmt: str) -> None:
    """`exocli -f json query ...` is `exocli query ... -f json`, unless the latter was given."""
    option = next((p for p in command.params if "--format" in getattr(p, "opts", ())), None)
    if option is None:
        raise click_errors.UsageError(f"`{ctx.command_path}` has no --format", ctx)
    if ctx.get_parameter_source(option.name) is ParameterSource.DEFAULT:
        ctx.params[option.name] = fmt


def make_typer(
    help_text: str = "", group: type[TyperGroup] = ExocliGroup, completion: bool = False
) -> typer.Typer:
    return typer.Typer(
        cls=group,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=completion,
        context_settings=HELP_OPTIONS,
    )


app = make_typer(
    "exocli: structured evidence from a review's references, as tables and BibTeX.",
    LazyGroup,
    completion=True,
)

FormatOption = Annotated[str, typer.Option("--format", "-f", help="table, csv, tsv, json or markdown.")]


class State:
    home: Path | None = None
    format: str | None = None  # --format given before the command's name
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
            metavar="DIR",
            help="Workspace folder (default: EXOCLI_HOME, else the nearest exocli.toml upwards);"
            " also accepted after the command's name.",
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Output format, as the command's own --format (that one wins when both are given).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    State.home = home
    State.format = fmt


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
            app(prog_name=PROG)
        finally:
            # Output is buffered: a full disk or a closed pipe may only show when it is flushed.
            sys.stdout.flush()
            # The process ends here: the collector's last pass over every object left (20 ms
            # after an import of 10,000 references) would only delay the exit.
            import gc

            gc.freeze()
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
