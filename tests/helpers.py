"""Paths to the shipped data and small helpers shared by the tests (no exocli imports)."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import Result

PROJECT = Path(__file__).resolve().parents[1]
SHIPPED_CONFIG = PROJECT / "exocli.toml"
SHIPPED_ORDER = PROJECT / "refs" / "order.txt"
SHIPPED_STUDIES = PROJECT / "refs" / "studies"
SHIPPED_VOCAB = PROJECT / "db" / "vocab"
# The shipped record as format 1 wrote it (before `exocli upgrade`), for the upgrade tests.
FORMAT1 = PROJECT / "tests" / "data" / "format1"
# The review's numbered reference list as the article prints it (its 96 entries, verbatim).
REVIEW_LIST = FORMAT1 / "refs" / "review.txt"
# The review's text (CC BY 4.0), shipped with the workspace: see manuscript/review.source.toml.
REVIEW = PROJECT / "manuscript" / "review.txt"
VOCAB_NAMES = ("sources", "effects", "cargo-types", "pathways")

# The `cli` fixture: cli("query", "--source", "MSC", env={...}) -> Result.
Invoke = Callable[..., Result]


def copy_workspace(target: Path) -> Path:
    """A copy of the shipped workspace's text (config, list order, studies, vocabularies); no database."""
    (target / "refs").mkdir(parents=True)
    (target / "db").mkdir()
    shutil.copyfile(SHIPPED_CONFIG, target / "exocli.toml")
    shutil.copyfile(SHIPPED_ORDER, target / "refs" / "order.txt")
    shutil.copytree(SHIPPED_STUDIES, target / "refs" / "studies")
    shutil.copytree(SHIPPED_VOCAB, target / "db" / "vocab")
    return target


def copy_format1_workspace(target: Path) -> Path:
    """The shipped record as format 1 kept it (one list, db/claims.toml, refs/citekeys.tsv)."""
    shutil.copytree(FORMAT1, target)
    shutil.copytree(SHIPPED_VOCAB, target / "db" / "vocab")
    return target


def shipped_order() -> list[str]:
    """refs/order.txt: the study keys in list order (reference n is the n-th key)."""
    return [
        line.strip()
        for line in SHIPPED_ORDER.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def shipped_studies() -> dict[str, dict[str, Any]]:
    """{key: study file} read with tomllib alone (independent of exocli's loader)."""
    studies = {}
    for path in sorted(SHIPPED_STUDIES.glob("*.toml")):
        with path.open("rb") as handle:
            studies[path.stem] = tomllib.load(handle)
    return studies


def shipped_claims() -> list[dict[str, Any]]:
    """Every claim of the shipped studies, with `ref` = its study's number, in id order."""
    numbers = {key: n for n, key in enumerate(shipped_order(), 1)}
    claims = [
        {**claim, "ref": numbers[key]}
        for key, study in shipped_studies().items()
        for claim in study.get("claim", [])
    ]
    return sorted(claims, key=lambda c: c["id"])


def shipped_reference_texts() -> dict[int, str]:
    """{number: the reference as the list prints it}."""
    studies = shipped_studies()
    return {n: studies[key]["text"] for n, key in enumerate(shipped_order(), 1)}


def shipped_reference_list() -> str:
    """The shipped references as a numbered list, the way the review prints them."""
    return "".join(f"{n}. {text}\n" for n, text in shipped_reference_texts().items())


def shipped_vocab(name: str) -> dict[str, dict[str, Any]]:
    """One vocabulary as {code: term}, read with tomllib alone."""
    with (SHIPPED_VOCAB / f"{name}.toml").open("rb") as handle:
        return {term["code"]: term for term in tomllib.load(handle)["term"]}


def review_reference_numbers() -> list[int]:
    return list(range(1, len(shipped_order()) + 1))


def stdout_json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def error_lines(result: Any) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


def spelling_key(text: str) -> str:
    """A deliberately simple stand-in for exocli's term matching: case, spaces and hyphens ignored."""
    return re.sub(r"[\s\-_.–]+", "", text.casefold())


def resolver(name: str) -> dict[str, str]:
    """{spelling key: code} for one shipped vocabulary (codes, labels and synonyms)."""
    index: dict[str, str] = {}
    for code, term in shipped_vocab(name).items():
        for spelling in (code, term["label"], *term.get("synonyms", [])):
            index.setdefault(spelling_key(spelling), code)
    return index


def claims_with_pathway_part(code: str) -> list[dict[str, Any]]:
    """Shipped claims whose pathways, split at '/', name `code` (or a synonym of it)."""
    index = resolver("pathways")
    return [
        claim
        for claim in shipped_claims()
        if any(
            index.get(spelling_key(part.strip())) == code
            for axis in claim.get("pathways", [])
            for part in axis.split("/")
        )
    ]


class Terminal:
    """A command run on a real pseudo-terminal: read what it prints, answer its prompts."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        import os
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child runs the command on the pseudo-terminal
            os.environ.update(env)
            os.execv(argv[0], argv)
        self.transcript = b""

    def expect(self, text: bytes, timeout: float = 30) -> None:
        import os
        import select
        import time

        deadline = time.monotonic() + timeout
        while text not in self.transcript:
            assert time.monotonic() < deadline, self.transcript.decode(errors="replace")
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                try:
                    self.transcript += os.read(self.fd, 4096)
                except OSError:
                    break

    def send(self, text: bytes) -> None:
        import os

        os.write(self.fd, text)

    def exit_code(self, timeout: float = 30) -> int:
        """The command's exit code; a command still running after `timeout` is killed and fails the test."""
        import os
        import signal
        import time

        deadline = time.monotonic() + timeout
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                raise AssertionError(
                    f"still running after {timeout} s: {self.transcript.decode(errors='replace')}"
                )
            self.expect_more()

    def expect_more(self) -> None:
        """Read what the command printed in the last half second (so that it never blocks on output)."""
        import contextlib
        import os
        import select

        ready, _, _ = select.select([self.fd], [], [], 0.5)
        if ready:
            with contextlib.suppress(OSError):  # the command has closed the terminal
                self.transcript += os.read(self.fd, 4096)


def point_at_crossref(monkeypatch: Any, home: Path, url: str) -> None:
    """The workspace and a local Crossref for a test: polite pool, quick retries, short timeout."""
    monkeypatch.setenv("EXOCLI_HOME", str(home))
    monkeypatch.setenv("EXOCLI_CROSSREF_URL", url)
    monkeypatch.setenv("EXOCLI_MAILTO", "curator@example.org")
    monkeypatch.setenv("EXOCLI_CROSSREF_BACKOFF", "0.01")
    monkeypatch.setenv("EXOCLI_CROSSREF_TIMEOUT", "2")
