"""The text record writer: any text survives TOML writing, and studies round-trip."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exocli.errors import DataError
from exocli.evidence import validate_claim
from exocli.records import claim_entry, toml_string
from exocli.store import load_snapshot, load_vocabularies
from exocli.studies import Study, format_order, format_study, parse_study, read_study, reference_from_entry
from exocli.upgrade import read_legacy_claims_text
from exocli.workspace import open_workspace
from helpers import PROJECT, copy_workspace


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_any_string_survives_toml(text: str) -> None:
    assert tomllib.loads(f"value = {toml_string(text)}")["value"] == text


def test_shipped_studies_round_trip_byte_for_byte(tmp_path: Path) -> None:
    root = copy_workspace(tmp_path / "ws")
    ws = open_workspace(root)
    snapshot = load_snapshot(ws)
    assert len(snapshot.studies) == 96
    for study in snapshot.studies:
        text = ws.study_path(study.key).read_text(encoding="utf-8")
        assert format_study(study) == text, study.key
        again = read_study(ws, study.key, study.number, snapshot.vocabs)
        assert format_study(again) == text, study.key
    order = ws.order_path.read_text(encoding="utf-8")
    assert format_order([study.key for study in snapshot.studies]) == order


def tomllib_study(text: str, key: str, number: int | None, vocabs: Any) -> Study:
    """The study `text` holds, read with tomllib alone (not parse_study's fast path)."""
    document = tomllib.loads(text)
    entries = document.pop("claim", [])
    claims = [validate_claim({**entry, "ref": number}, vocabs, None) for entry in entries]
    return Study(key, reference_from_entry(document, number), claims)


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=0, max_size=80), st.lists(st.text(min_size=1, max_size=20), max_size=4))
def test_written_claims_parse_back(tmp_path_factory: object, note: str, engineering: list[str]) -> None:
    root = copy_workspace(tmp_path_factory.mktemp("ws"))  # type: ignore[attr-defined]
    ws = open_workspace(root)
    snapshot = load_snapshot(ws)
    study = next(s for s in snapshot.studies if s.claims)
    claim = study.claims[0]
    claim.note = note
    claim.engineering = [e for e in engineering if e.strip()]
    written = format_study(study)
    parsed = tomllib.loads(written)["claim"][0]
    entry = claim_entry(claim)
    assert parsed["note"] == note and parsed["engineering"] == entry["engineering"]
    where = f"refs/studies/{study.key}.toml"
    if any(ord(ch) < 32 or ord(ch) == 127 for text in (note, *claim.engineering) for ch in text):
        # written safely (escaped), but a control character is never part of the record
        with pytest.raises(DataError, match="control characters are not allowed"):
            parse_study(written, where, study.key, study.number, snapshot.vocabs)
        return
    back = parse_study(written, where, study.key, study.number, snapshot.vocabs)
    assert back == tomllib_study(written, study.key, study.number, snapshot.vocabs)
    assert back.claims[0].note == note and back.claims[0].engineering == entry["engineering"]
    assert format_study(back) == written


HAND_EDITED_STUDY = """\
# edited by hand
text = 'Lee A. A paper. J Test. 2020;1:1-2.'  # a literal string
kind = "article"
authors = [
  "Lee, A.",
]
year = 2020  # a comment

[[claim]]
id = 1  # a comment
note = 'literal'
source = \"\"\"BMSC\"\"\"
cargo_type = "none"
effects = ["angiogenesis"]
"""


def test_hand_edited_study_falls_back_to_the_full_parser() -> None:
    vocabs = load_vocabularies(open_workspace(PROJECT))
    study = parse_study(HAND_EDITED_STUDY, "refs/studies/lee2020paper.toml", "lee2020paper", 3, vocabs)
    assert study == tomllib_study(HAND_EDITED_STUDY, "lee2020paper", 3, vocabs)
    assert study.reference.raw == "Lee A. A paper. J Test. 2020;1:1-2." and study.reference.year == 2020
    assert [a.family for a in study.reference.authors] == ["Lee"]
    [claim] = study.claims
    assert (claim.id, claim.ref, claim.note, claim.source) == (1, 3, "literal", "BMSC")


def test_hand_edited_format1_claims_fall_back_to_the_full_parser() -> None:
    text = '[[claim]]\nid = 1  # a comment\nnote = \'literal\'\nsource = """multi"""\n'
    assert read_legacy_claims_text(text, Path("claims.toml")) == tomllib.loads(text)
