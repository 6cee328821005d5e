"""The command line people expect: -h, options on either side of the command's name,
did-you-mean for commands, shell completion and one form for reference numbers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from exocli.cli import COMMANDS, app
from exocli.errors import UsageError
from exocli.refnumbers import parse_ref_list
from helpers import Invoke, copy_workspace, error_lines, shipped_claims, stdout_json


def command_paths() -> list[tuple[str, ...]]:
    """Every command as typed: ("query",), ("refs", "list"), ... (groups too)."""
    root: Any = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]
    for name in COMMANDS:
        command = root.get_command(None, name)
        paths.append((name,))
        if hasattr(command, "list_commands"):
            paths += [(name, sub) for sub in command.list_commands(None)]
    return paths


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """exocli in a real process (`python -m exocli`), no workspace from the environment."""
    base = {key: value for key, value in os.environ.items() if key not in ("EXOCLI_HOME", "NO_COLOR")}
    return subprocess.run(
        [sys.executable, "-m", "exocli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=base | (env or {}),
        cwd=cwd,
        timeout=120,
        check=False,
    )


def claim_ids(result: Any) -> list[int]:
    return [claim["id"] for claim in stdout_json(result)]


# --- -h ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "exocli")
def test_dash_h_is_help_everywhere(cli: Invoke, path: tuple[str, ...]) -> None:
    short = cli(*path, "-h")
    assert short.exit_code == 0, short.output
    assert short.stdout.startswith("Usage: ")
    assert "-h, --help" in short.stdout
    assert short.stdout == cli(*path, "--help").stdout


def test_every_command_is_listed_and_dash_h_works_in_a_real_process(tmp_path: Path) -> None:
    result = run("-h", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: exocli [OPTIONS] COMMAND [ARGS]...")
    listed = result.stdout.split("Commands:", 1)[1].split()
    assert set(COMMANDS) <= set(listed) and "completion" in listed
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


# --- --home and --format on either side of the command's name ---------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A workspace that only --home names (no EXOCLI_HOME, the current folder is outside it)."""
    return copy_workspace(tmp_path / "named")


def test_home_after_the_command_means_the_same(cli: Invoke, home: Path) -> None:
    assert cli("query", "--ref", "44", "-f", "json").exit_code == 1  # no workspace without --home
    before = cli("--home", str(home), "query", "--ref", "44", "-f", "json")
    after = cli("query", "--ref", "44", "-f", "json", "--home", str(home))
    assert claim_ids(before) == claim_ids(after) == [12]
    assert before.stdout == after.stdout and before.stderr == after.stderr
    nested = cli("refs", "show", "44", "--home", str(home), "-f", "json")
    assert stdout_json(nested)["key"] == "wang2023umbilical"


def test_home_given_twice_the_one_after_the_command_wins(cli: Invoke, home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-workspace"
    wins_after = cli("--home", str(missing), "query", "--ref", "44", "-f", "json", "--home", str(home))
    assert claim_ids(wins_after) == [12]
    loses_before = cli("--home", str(home), "query", "--ref", "44", "--home", str(missing))
    assert loses_before.exit_code == 1
    assert len(error_lines(loses_before)) == 1 and str(missing) in error_lines(loses_before)[0]


def test_commands_without_a_workspace_take_no_home_of_their_own(cli: Invoke, tmp_path: Path) -> None:
    result = cli("init", str(tmp_path / "new"), "--home", str(tmp_path))
    assert result.exit_code == 2 and "--home" in result.stderr
    assert not (tmp_path / "new").exists()
    assert cli("completion", "bash", "--home", str(tmp_path)).exit_code == 2


def test_format_before_the_command_means_the_same(cli: Invoke, workspace: Path) -> None:
    after = cli("query", "--ref", "43-45", "-f", "csv", "--columns", "id,ref")
    before = cli("-f", "csv", "query", "--ref", "43-45", "--columns", "id,ref")
    long = cli("--format", "csv", "query", "--ref", "43-45", "--columns", "id,ref")
    assert after.exit_code == before.exit_code == long.exit_code == 0
    assert after.stdout == before.stdout == long.stdout == "id,ref\n11,43\n12,44\n13,45\n"
    # each command's own formats: refs show takes text or json, and refuses csv either way
    shown = cli("--format", "json", "refs", "show", "44")
    assert stdout_json(shown)["number"] == 44
    refused_before = cli("-f", "csv", "refs", "show", "44")
    refused_after = cli("refs", "show", "44", "-f", "csv")
    assert refused_before.exit_code == refused_after.exit_code == 2
    assert error_lines(refused_before) == error_lines(refused_after) != []


def test_format_given_twice_the_one_after_the_command_wins(cli: Invoke, workspace: Path) -> None:
    result = cli("-f", "json", "query", "--ref", "44", "-f", "csv", "--columns", "id,ref")
    assert result.exit_code == 0 and result.stdout == "id,ref\n12,44\n"


def test_format_before_a_command_without_one_is_refused(cli: Invoke, workspace: Path) -> None:
    result = cli("-f", "json", "rebuild")
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert line.startswith("Error: `") and line.endswith(" rebuild` has no --format")
    assert not (workspace / "db" / "exocli.sqlite").exists()  # refused before it ran


# --- did you mean -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (["querry"], "query"),
        (["exprot", "bib", "--all"], "export"),
        (["refs", "lsit"], "list"),
        (["claim"], "claims"),
        (["rebuilt"], "rebuild"),
    ],
)
def test_a_misspelt_command_names_the_closest(cli: Invoke, typed: list[str], meant: str) -> None:
    result = cli(*typed)
    assert result.exit_code == 2 and result.stdout == ""
    misspelt = next(word for word in typed if word not in COMMANDS)
    assert error_lines(result) == [f"Error: no such command {misspelt!r}; did you mean {meant}?"]


def test_a_command_like_nothing_lists_no_guess(cli: Invoke) -> None:
    result = cli("xyzzy")
    assert result.exit_code == 2
    [line] = error_lines(result)
    assert line.startswith("Error: no such command 'xyzzy'; `") and line.endswith(" -h` lists them")


def test_did_you_mean_in_a_real_process(tmp_path: Path) -> None:
    result = run("querry", "UCMSC", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == "Error: no such command 'querry'; did you mean query?"
    assert "Traceback" not in result.stderr


# --- shell completion ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "registers"),
    [
        ("bash", "complete -o default -F _exocli_completion exocli"),
        ("zsh", "compdef _exocli_completion exocli"),
        ("fish", "complete --command exocli"),
    ],
)
def test_completion_prints_the_script(cli: Invoke, shell: str, registers: str) -> None:
    result = cli("completion", shell)
    assert result.exit_code == 0, result.output
    assert f"_EXOCLI_COMPLETE=complete_{shell}" in result.stdout
    assert registers in result.stdout
    assert not result.stdout.startswith("\n") and result.stdout.endswith("\n")


def test_completion_refuses_another_shell(cli: Invoke) -> None:
    result = cli("completion", "tcsh")
    assert result.exit_code == 2
    assert error_lines(result) == ["Error: completion takes bash, zsh or fish, not 'tcsh'"]


def test_a_completion_request_answers_with_the_commands(tmp_path: Path) -> None:
    """The protocol the scripts speak, without a shell: what bash and zsh would be told."""
    bash = run(env={"_EXOCLI_COMPLETE": "complete_bash", "COMP_WORDS": "exocli que", "COMP_CWORD": "1"})
    assert bash.returncode == 0 and bash.stdout.split() == ["query"]
    nested = run(env={"_EXOCLI_COMPLETE": "complete_bash", "COMP_WORDS": "exocli refs li", "COMP_CWORD": "2"})
    assert nested.stdout.split() == ["list"]
    zsh = run(env={"_EXOCLI_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "exocli que"})
    assert zsh.returncode == 0 and '"query"' in zsh.stdout
    fish = run(
        env={
            "_EXOCLI_COMPLETE": "complete_fish",
            "_TYPER_COMPLETE_FISH_ACTION": "get-args",
            "_TYPER_COMPLETE_ARGS": "exocli que",
        }
    )
    assert fish.returncode == 0 and fish.stdout.split("\t")[0] == "query"


@pytest.mark.skipif(not shutil.which("bash"), reason="bash is not installed")
def test_bash_sourcing_the_script_completes_commands_and_options(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "exocli"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m exocli "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    script = r"""
source <(exocli completion bash) || exit 3
complete -p exocli
ask() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _exocli_completion exocli; echo "${COMPREPLY[*]}"; }
ask exocli que
ask exocli refs l
ask exocli query --so
"""
    env = {key: value for key, value in os.environ.items() if key not in ("EXOCLI_HOME", "BASH_ENV", "ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    registered, commands, subcommands, options = done.stdout.splitlines()
    assert registered == "complete -o default -F _exocli_completion exocli"
    assert commands == "query"
    assert subcommands == "list"
    assert options.split() == ["--source", "--sort"]


def test_install_completion_writes_the_same_script(tmp_path: Path) -> None:
    printed = run("completion", "bash", cwd=tmp_path)
    env = {"HOME": str(tmp_path), "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    installed = run("--install-completion", "bash", env=env, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    script = tmp_path / ".bash_completions" / "exocli.sh"
    assert script.read_text(encoding="utf-8").strip() == printed.stdout.strip()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text(encoding="utf-8")
    shown = run("--show-completion", "zsh", env=env, cwd=tmp_path)
    assert shown.returncode == 0 and shown.stdout.strip() == run("completion", "zsh").stdout.strip()


# --- one form for reference numbers ------------------------------------------------------------


def test_parse_ref_list() -> None:
    assert parse_ref_list("43,44,40-45") == [43, 44, 40, 41, 42, 45]
    assert parse_ref_list(" 7 , 3 – 5 ,") == [7, 3, 4, 5]  # spaces, an en dash, a trailing comma
    assert parse_ref_list("9") == [9] and parse_ref_list("9-9") == [9]
    assert parse_ref_list(None) == []


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("4x", "'4x' is not a reference number"),
        ("43,4x,44", "'4x' is not a reference number"),
        ("9-3", "'9-3' runs backwards (write 3-9)"),
        ("0", "'0': reference numbers start at 1"),
        ("0-4", "'0-4': reference numbers start at 1"),
        ("-3", "'-3' is not a reference number"),
        ("1-200000", "the range '1-200000' spans more than 100000 references"),
        ("12345678901", "'12345678901' is too large to be a reference number"),
        ("٤٤", "'٤٤' is not a reference number"),  # digits, but not ones a list prints
        (",", "',' holds no reference number"),
        ("", "'' holds no reference number"),
    ],
)
def test_parse_ref_list_names_the_bad_part(text: str, names: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_ref_list(text)
    assert names in str(caught.value)


def expected_claims(numbers: set[int]) -> list[int]:
    return sorted(c["id"] for c in shipped_claims() if c["ref"] in numbers)


def test_ref_lists_ranges_and_repeats_mean_the_same(cli: Invoke, workspace: Path) -> None:
    wanted = {40, 43, 44, 45, 63}  # 40 has no claim
    repeated = cli(
        "query", "-r", "63", "-r", "40", "-r", "43", "-r", "44", "-r", "45", "-f", "json", "--sort", "id"
    )
    listed = cli("query", "--ref", "63,40,43-45", "-f", "json", "--sort", "id")
    mixed = cli("query", "--ref", "43-44", "-r", "63,40", "--ref", "45,44", "-f", "json", "--sort", "id")
    assert claim_ids(repeated) == claim_ids(listed) == claim_ids(mixed) == expected_claims(wanted)
    assert len(expected_claims(wanted)) == 5
    claims = cli("claims", "list", "--ref", "44,48", "-f", "json")
    assert sorted(claim_ids(claims)) == expected_claims({44, 48})
    table = cli("table", "--ref", "43-44", "-f", "csv")
    assert table.exit_code == 0 and "2 claims citing 2 references" in table.stderr


def test_export_takes_ref_and_still_takes_refs(cli: Invoke, workspace: Path) -> None:
    by_ref = cli("export", "bib", "--ref", "43,44,48")
    by_r = cli("export", "bib", "-r", "43-44", "-r", "48")
    assert by_ref.exit_code == by_r.exit_code == 0
    assert by_ref.stdout == by_r.stdout and by_ref.stdout.count("@article{") == 3
    old = cli("export", "bib", "--refs", "43,44,48")
    assert old.exit_code == 0 and old.stdout == by_ref.stdout
    assert "Warning: --refs is deprecated; use --ref" in old.stderr
    assert "--refs" not in cli("export", "-h").stdout  # hidden: only --ref is offered
    combined = cli("export", "bib", "--refs", "43", "--ref", "44,48")
    assert combined.stdout == by_ref.stdout


def test_resolve_takes_ref_as_well_as_numbers(cli: Invoke, workspace: Path) -> None:
    positional = cli("resolve", "--offline", "44", "45", "46")
    by_ref = cli("resolve", "--offline", "--ref", "44-46")
    assert positional.exit_code == by_ref.exit_code == 0
    assert by_ref.stdout == positional.stdout
    assert [line.split("]")[0] for line in by_ref.stdout.splitlines()] == ["[44", "[45", "[46"]


@pytest.mark.parametrize(
    "command",
    [["query"], ["table"], ["claims", "list"], ["export", "bib"], ["resolve", "--offline"]],
    ids=" ".join,
)
@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("4x", "'4x' is not a reference number (write e.g. 43,44 or 40-45)"),
        ("44,9-3", "'9-3' runs backwards (write 3-9)"),
        ("0", "'0': reference numbers start at 1"),
    ],
)
def test_a_bad_reference_is_a_one_line_usage_error(
    cli: Invoke, workspace: Path, command: list[str], bad: str, reason: str
) -> None:
    result = cli(*command, "--ref", bad)
    assert result.exit_code == 2 and result.stdout == ""
    assert error_lines(result) == [f"Error: Invalid value for '--ref' / '-r': {reason}"]
    assert not (workspace / "db" / "exocli.sqlite").exists()  # refused while the line was read


def test_a_bad_reference_in_a_real_process(tmp_path: Path) -> None:
    root = copy_workspace(tmp_path / "ws")
    result = run("query", "--ref", "43,4x", "--home", str(root), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--ref' / '-r': '4x' is not a reference number (write e.g. 43,44 or 40-45)"
    )
    good = run("-f", "json", "query", "--ref", "44,48", "--home", str(root), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert [claim["ref"] for claim in json.loads(good.stdout)] == [44, 48]
