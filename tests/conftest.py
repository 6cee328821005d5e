"""Fixtures: throw-away workspaces on real SQLite files, and a CLI runner.

No test touches the shipped database (db/exocli.sqlite): `workspace` copies the curated
text into tmp_path and points EXOCLI_HOME at the copy.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner, Result

from exocli.cli import app
from helpers import Invoke, copy_workspace


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test inherits a workspace from the environment or from the current folder."""
    for name in ("EXOCLI_HOME", "EXOCLI_MAILTO", "COLUMNS", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli(runner: CliRunner) -> Invoke:
    """cli("query", "--source", "MSC") -> Result (stdout and stderr kept apart)."""

    def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
        result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
        # Commands leave their SQLite connection to the garbage collector (a real process
        # closes it on exit); collect now so each invocation ends like a process would.
        gc.collect()
        return result

    return invoke


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tmp copy of the shipped workspace (no database yet); EXOCLI_HOME points at it."""
    root = copy_workspace(tmp_path / "ws")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    return root


@pytest.fixture
def empty_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Invoke) -> Path:
    """A new workspace made by `exocli init`; EXOCLI_HOME points at it."""
    root = tmp_path / "empty"
    result = cli("init", str(root))
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    return root


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A loopback server that answers requests at once, as Crossref does (the plugin's default
    server handles one at a time, so a slow answer would hold up every other request)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()
