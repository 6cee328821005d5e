"""The text record writer: any text survives TOML writing, and claims round-trip."""

from __future__ import annotations

import tomllib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from exocli.evidence import read_claims_text
from exocli.records import claim_entry, format_claims, read_header, toml_string
from exocli.store import load_snapshot
from exocli.workspace import open_workspace
from helpers import copy_workspace


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_string_survives_toml(text: str) -> None:
    assert tomllib.loads(f"value = {toml_string(text)}")["value"] == text


def test_shipped_claims_round_trip_byte_for_byte(tmp_path: Path) -> None:
    root = copy_workspace(tmp_path / "ws")
    ws = open_workspace(root)
    text = ws.claims_path.read_text(encoding="utf-8")
    snapshot = load_snapshot(ws)
    assert format_claims(snapshot.claims, read_header(text)) == text


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=0, max_size=80), st.lists(st.text(min_size=1, max_size=20), max_size=4))
def test_written_claims_parse_back(tmp_path_factory: object, note: str, engineering: list[str]) -> None:
    root = copy_workspace(tmp_path_factory.mktemp("ws"))  # type: ignore[attr-defined]
    ws = open_workspace(root)
    snapshot = load_snapshot(ws)
    claim = snapshot.claims[0]
    claim.note = note
    claim.engineering = [e for e in engineering if e.strip()]
    written = format_claims(snapshot.claims)
    parsed = tomllib.loads(written)["claim"][0]
    assert read_claims_text(written, Path("claims.toml")) == tomllib.loads(written)
    entry = claim_entry(claim)
    assert parsed["note"] == note and parsed["engineering"] == entry["engineering"]


def test_hand_edited_toml_falls_back_to_the_full_parser() -> None:
    text = '[[claim]]\nid = 1  # a comment\nnote = \'literal\'\nsource = """multi"""\n'
    assert read_claims_text(text, Path("claims.toml")) == tomllib.loads(text)
