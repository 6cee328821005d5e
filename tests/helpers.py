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
SHIPPED_REFERENCES = PROJECT / "refs" / "review.txt"
SHIPPED_CLAIMS = PROJECT / "db" / "claims.toml"
SHIPPED_VOCAB = PROJECT / "db" / "vocab"
REVIEW = PROJECT.parent / "shared" / "seed" / "000_abc512ef85f93d61.txt"  # shared/ lies beside the clone
VOCAB_NAMES = ("sources", "effects", "cargo-types", "pathways")

# The `cli` fixture: cli("query", "--source", "MSC", env={...}) -> Result.
Invoke = Callable[..., Result]


def copy_workspace(target: Path) -> Path:
    """A copy of the shipped workspace's text (config, references, claims, vocabularies); no database."""
    (target / "refs").mkdir(parents=True)
    (target / "db").mkdir()
    shutil.copyfile(SHIPPED_CONFIG, target / "exocli.toml")
    shutil.copyfile(SHIPPED_REFERENCES, target / "refs" / "review.txt")
    shutil.copyfile(SHIPPED_CLAIMS, target / "db" / "claims.toml")
    shutil.copytree(SHIPPED_VOCAB, target / "db" / "vocab")
    return target


def shipped_claims() -> list[dict[str, Any]]:
    """db/claims.toml read with tomllib alone (independent of exocli's loader)."""
    with SHIPPED_CLAIMS.open("rb") as handle:
        return list(tomllib.load(handle)["claim"])


def shipped_vocab(name: str) -> dict[str, dict[str, Any]]:
    """One vocabulary as {code: term}, read with tomllib alone."""
    with (SHIPPED_VOCAB / f"{name}.toml").open("rb") as handle:
        return {term["code"]: term for term in tomllib.load(handle)["term"]}


def review_reference_numbers() -> list[int]:
    return [int(line.split(".", 1)[0]) for line in SHIPPED_REFERENCES.read_text("utf-8").splitlines() if line]


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
