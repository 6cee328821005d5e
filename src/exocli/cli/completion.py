"""`exocli completion bash|zsh|fish`: the shell completion script, from typer's own machinery."""

import sys
from typing import Annotated

import typer

from exocli.cli import PROG, ExocliCommand, make_typer
from exocli.errors import UsageError

app = make_typer()

SHELLS = ("bash", "zsh", "fish")


@app.command(cls=ExocliCommand)
def completion(
    ctx: typer.Context,
    shell: Annotated[str, typer.Argument(metavar="bash|zsh|fish", help="The shell to complete in.")],
) -> None:
    """Print the shell completion script: `source <(exocli completion bash)`, or save it (see README)."""
    if shell not in SHELLS:
        raise UsageError(f"completion takes bash, zsh or fish, not {shell!r}")
    # The classes that answer a completion request (`_EXOCLI_COMPLETE=complete_bash exocli`)
    # also write the script that sends it, so the two always agree.
    try:
        from typer._click.shell_completion import get_completion_class
    except ImportError:  # pragma: no cover
        from click.shell_completion import get_completion_class  # type: ignore[assignment]
    from typer._completion_classes import completion_init

    completion_init()
    complete = get_completion_class(shell)
    assert complete is not None  # registered by completion_init for each of SHELLS
    script = complete(ctx.find_root().command, {}, PROG, f"_{PROG.upper()}_COMPLETE").source()
    sys.stdout.write(script.strip() + "\n")
