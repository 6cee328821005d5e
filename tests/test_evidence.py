"""The curated claims: shipped data checked against the review, and bad data refused cleanly."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from exocli.errors import DataError
from exocli.evidence import validate_claim
from exocli.fields import CONTEXT_KEYS, REQUIRED_KEYS
from exocli.store import load_snapshot, load_vocabularies
from exocli.studies import read_study
from exocli.upgrade import load_legacy_claims
from exocli.workspace import open_workspace
from helpers import (
    PROJECT,
    REVIEW,
    REVIEW_LIST,
    Invoke,
    review_reference_numbers,
    shipped_claims,
    shipped_vocab,
    stdout_json,
)


@pytest.fixture(scope="module")
def claims() -> list[dict[str, Any]]:
    return shipped_claims()


@pytest.fixture(scope="module")
def review() -> str:
    if not REVIEW.is_file():
        pytest.fail(f"the review's text is missing ({REVIEW}); it is shipped in manuscript/")
    return " ".join(REVIEW.read_text(encoding="utf-8").split())


def by_ref(claims: list[dict[str, Any]], ref: int) -> list[dict[str, Any]]:
    return [c for c in claims if c.get("ref") == ref]


def only(claims: list[dict[str, Any]], ref: int) -> dict[str, Any]:
    found = by_ref(claims, ref)
    assert len(found) == 1, (ref, [c["id"] for c in found])
    return found[0]


# --- the shipped record ---------------------------------------------------------------------


def test_claim_ids_are_unique_and_complete(claims: list[dict[str, Any]]) -> None:
    assert [c["id"] for c in claims] == list(range(1, 56))
    for claim in claims:
        for key in REQUIRED_KEYS:
            assert key in claim, (claim["id"], key)


def test_every_term_is_a_vocabulary_code(claims: list[dict[str, Any]]) -> None:
    sources, effects, cargo_types = (shipped_vocab(n) for n in ("sources", "effects", "cargo-types"))
    for claim in claims:
        assert claim["source"] in sources, claim["id"]
        assert claim["cargo_type"] in cargo_types, claim["id"]
        assert claim["effects"], claim["id"]
        assert len(set(claim["effects"])) == len(claim["effects"]), claim["id"]
        for effect in claim["effects"]:
            assert effect in effects, (claim["id"], effect)
        for key, vocab_name in zip(CONTEXT_KEYS, ("species", "models", "injuries"), strict=True):
            codes = shipped_vocab(vocab_name)
            assert isinstance(claim.get(key, []), list), (claim["id"], key)
            for code in claim.get(key, []):
                assert code in codes, (claim["id"], key, code)
        # cargo type and cargo agree
        assert (claim["cargo_type"] == "none") == (claim.get("cargo", []) == []), claim["id"]


def test_every_claim_cites_a_listed_reference(claims: list[dict[str, Any]]) -> None:
    numbers = set(review_reference_numbers())
    assert len(numbers) == 96
    for claim in claims:
        assert claim["ref"] in numbers, claim["id"]
    assert len({c["ref"] for c in claims}) >= 50


def test_every_cited_number_appears_in_the_review(claims: list[dict[str, Any]], review: str) -> None:
    cited = set()
    for group in re.findall(r"\[([\d,\s–-]+)\]", review):
        for piece in group.split(","):
            if "–" in piece or "-" in piece:
                low, high = re.split(r"[–-]", piece)
                cited.update(range(int(low), int(high) + 1))
            elif piece.strip():
                cited.add(int(piece))
    for claim in claims:
        assert claim["ref"] in cited, claim["id"]


def test_outcome_figures_are_quoted_from_the_review(claims: list[dict[str, Any]], review: str) -> None:
    checked = 0
    for claim in claims:
        for figure in re.findall(r"\d+\.\d+ ± \d+\.\d+", claim.get("outcome", "")):
            assert figure in review, (claim["id"], figure)
            checked += 1
    assert checked >= 6


def test_shipped_claims_load_through_exocli(workspace: Path) -> None:
    snapshot = load_snapshot(open_workspace(workspace))
    assert len(snapshot.references) == 96
    assert len(snapshot.claims) == 55
    claim_43 = next(c for c in snapshot.claims if c.id == 43)
    assert [g.name for g in claim_43.cargo] == ["miR-199a-3p", "miR-145-5p"]
    claim_26 = next(c for c in snapshot.claims if c.id == 26)
    assert [g.name for g in claim_26.cargo] == ["miR-17-92 cluster"]


# --- sample claims against the review -----------------------------------------------------


def test_ref_43_bmsc_mir146a(claims: list[dict[str, Any]], review: str) -> None:
    claim = only(claims, 43)
    assert claim["source"] == "BMSC"
    assert claim["cargo_type"] == "miRNA" and claim["cargo"] == ["miR-146a"]
    assert claim["effects"] == ["anti-inflammatory"]
    assert "TLR4/NF-κB" in claim["pathways"]
    assert "IRAK1/TRAF6/NF-κB p65" in claim["pathways"]
    assert claim["species"] == ["rat"]
    assert (
        "(BMSC)-derived exosomes loaded with miR-146a disrupt this pathway by inhibiting IRAK1/TRAF6/NF-κB p65"
        in review
    )


def test_ref_44_ucmsc_mir146a_5p(claims: list[dict[str, Any]], review: str) -> None:
    claim = only(claims, 44)
    assert (claim["source"], claim["cargo"], claim["effects"]) == (
        "UCMSC",
        ["miR-146a-5p"],
        ["anti-inflammatory"],
    )
    assert "miR-146a-5p-engineered human mbilical cord mesenchymal stem cell (hUCMSC)-exosomes" in review


def test_ref_54_amsc_mir125a_3p(claims: list[dict[str, Any]], review: str) -> None:
    claim = only(claims, 54)
    assert claim["source"] == "AMSC"
    assert claim["cargo"] == ["miR-125a-3p"]
    assert "immunomodulation" in claim["effects"]
    assert "human amniotic MSC (AMSC) carrying miR-125a-3p" in review


def test_ref_26_dpsc_with_outcome(claims: list[dict[str, Any]], review: str) -> None:
    claim = only(claims, 26)
    assert claim["source"] == "DPSC"
    assert claim["cargo_type"] == "none"
    assert {"immunomodulation", "anti-inflammatory", "functional-recovery"} <= set(claim["effects"])
    assert "33.67 ± 1.79" in claim["outcome"] and "21.43 ± 1.922" in claim["outcome"]
    assert "(LPS group vs. LPS + EXO group: 33.67 ± 1.79 vs. 21.43 ± 1.922, p < 0.05)" in review


def test_ref_36_nsc_vegf_angiogenesis(claims: list[dict[str, Any]], review: str) -> None:
    claim = only(claims, 36)
    assert claim["source"] == "NSC"
    assert (claim["cargo_type"], claim["cargo"]) == ("protein", ["VEGF-A"])
    assert "angiogenesis" in claim["effects"]
    assert "BMS" in claim["outcome"]
    assert "4.30 ± 0.95" in claim["outcome"] and "6.70 ± 1.25" in claim["outcome"]
    assert "P < 0.01" in claim["outcome"]
    assert "4.30 ± 0.95 vs. 6.70 ± 1.25, P < 0.01) [36]" in review


def test_ref_77_clinical_safety(claims: list[dict[str, Any]], review: str) -> None:
    claim = only(claims, 77)
    assert claim["source"] == "UCMSC"
    assert claim["effects"] == ["safety"]
    assert claim["route"] == "intrathecal"
    assert claim["species"] == ["human"]
    assert claim["model"] == ["clinical"]
    assert "intrathecal allogeneic HUC-MSC-exosomes in complete subacute SCI patients" in review


def test_ref_87_is_menstrual_blood_as_the_review_says(claims: list[dict[str, Any]], review: str) -> None:
    claim = only(claims, 87)
    assert claim["source"] == "MenSC"  # the cited title says placental MSC; the review says menstrual blood
    assert "menstrual" in claim["source_wording"]
    assert "exosomes derived from human menstrual blood stem cells combined with hyperbaric oxygen" in review
    lines = REVIEW_LIST.read_text(encoding="utf-8").splitlines()
    title = next(line for line in lines if line.startswith("87. "))
    assert "placental mesenchymal stem cell" in title


def test_shared_citation_45_46_47(claims: list[dict[str, Any]], review: str) -> None:
    assert "miR-216a-5p or miR-145-5p carried by BMSC-derived exosomes" in review
    assert "[45,46,47]" in review
    c45, c46, c47 = only(claims, 45), only(claims, 46), only(claims, 47)
    assert len({c45["id"], c46["id"], c47["id"]}) == 3
    assert (c45["cargo_type"], c45["cargo"]) == ("miRNA", ["miR-216a-5p"])
    assert (c46["cargo_type"], c46["cargo"]) == ("miRNA", ["miR-145-5p"])
    assert (c47["cargo_type"], c47["cargo"]) == ("none", [])
    for claim in (c45, c46, c47):
        assert claim["source"] == "BMSC"
        assert claim["pathways"] == ["TLR4/NF-κB"]
        assert "anti-inflammatory" in claim["effects"]
        assert "45-47" in claim["note"], claim["id"]


def test_shared_citation_93_94_95(claims: list[dict[str, Any]], review: str) -> None:
    assert "miR-21, contained in MSC-derived exosomes, exerts anti-apoptotic effects" in review
    group = [only(claims, n) for n in (93, 94, 95)]
    for claim in group:
        assert claim["source"] == "MSC"
        assert claim["cargo"] == ["miR-21"]
        assert "anti-apoptosis" in claim["effects"]
        assert "93-95" in claim["note"], claim["id"]


def test_one_study_two_findings_are_two_claims(claims: list[dict[str, Any]]) -> None:
    assert len(by_ref(claims, 33)) == 2
    assert len(by_ref(claims, 63)) == 2
    assert {c["source"] for c in by_ref(claims, 63)} == {"MSC", "BMSC"}


# --- validation (library) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def vocabs() -> Any:
    return load_vocabularies(open_workspace(PROJECT))


GOOD = {"id": 1, "ref": 1, "source": "hUCMSC", "cargo_type": "microRNA", "effects": ["anti-inflammation"]}


def test_validate_claim_normalises_terms(vocabs: Any) -> None:
    claim = validate_claim({**GOOD, "cargo": ["hsa-miR-146a-5p", "miR-199a-3p/145-5p"]}, vocabs, {1})
    assert (claim.source, claim.cargo_type, claim.effects) == ("UCMSC", "miRNA", ["anti-inflammatory"])
    assert [g.name for g in claim.cargo] == ["miR-146a-5p", "miR-199a-3p", "miR-145-5p"]
    assert claim.model == [] and claim.species == [] and claim.injury == []  # not stated


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"source": "UCMCS"}, "source: unknown source 'UCMCS'; did you mean UCMSC"),
        ({"effects": ["angiogensis"]}, "effects: unknown effect 'angiogensis'; did you mean angiogenesis"),
        ({"effects": []}, "effects: at least one effect is needed"),
        ({"cargo_type": "sugar"}, "cargo_type: unknown cargo type 'sugar'"),
        ({"ref": 999}, "ref: reference 999 is not in the reference list"),
        ({"ref": "44"}, "ref: must be a reference number"),
        ({"id": 0}, "id: must be a positive whole number"),
        ({"id": True}, "id: must be a positive whole number"),
        ({"model": ["in silico"]}, "model: unknown model 'in silico'; add it with `exocli vocab add models"),
        ({"injury": ["strok"]}, "injury: unknown injury/disease 'strok'; did you mean stroke?"),
        ({"species": [5]}, "species: must be a list of terms"),
        ({"species": ["rat\x07"]}, "species: control characters are not allowed"),
        ({"cargo": "miR-21"}, "cargo: must be a list of non-empty strings"),
        ({"cargo": [""]}, "cargo: must be a list of non-empty strings"),
        ({"note": 5}, "note: must be text"),
        ({"colour": "blue"}, "unknown field 'colour'"),
    ],
)
def test_validate_claim_errors(vocabs: Any, change: dict[str, Any], message: str) -> None:
    with pytest.raises(DataError, match=re.escape(message)):
        validate_claim({**GOOD, **change}, vocabs, {1})


@pytest.mark.parametrize("key", REQUIRED_KEYS)
def test_validate_claim_missing_field(vocabs: Any, key: str) -> None:
    entry = {k: v for k, v in GOOD.items() if k != key}
    with pytest.raises(DataError, match=f"missing field '{key}'"):
        validate_claim(entry, vocabs, {1})


def test_load_legacy_claims_missing_file_is_empty(vocabs: Any, tmp_path: Path) -> None:
    """A format-1 workspace without db/claims.toml has no claims (to upgrade)."""
    ws = open_workspace(PROJECT)
    assert load_legacy_claims(tmp_path / "nope.toml", vocabs, set(), ws) == []


def test_read_study_missing_file_is_an_error(vocabs: Any) -> None:
    """Format 2: a study the list names must have its file."""
    with pytest.raises(DataError, match=re.escape("refs/studies/nosuch2020study.toml: no such study file")):
        read_study(open_workspace(PROJECT), "nosuch2020study", 1, vocabs)


# --- bad data in a workspace (CLI) ---------------------------------------------------------


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line equal to `needle`."""
    return text.splitlines().index(needle) + 1


def claim_row(root: Path, claim_id: int) -> tuple[Any, ...]:
    conn = sqlite3.connect(root / "db" / "exocli.sqlite")
    try:
        return tuple(
            conn.execute("SELECT source, ref_id, note FROM claims WHERE id = ?", (claim_id,)).fetchone()
        )
    finally:
        conn.close()


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


STUDY_16 = "refs/studies/soleimani2024intrathecal.toml"  # reference 16; holds claim 1 alone
FIRST_CLAIM_EFFECTS = 'effects = ["neuroregeneration"]'
BAD_SOURCE = 'source = "UCMCS"'
BAD_EFFECTS = 'effects = ["angiogensis"]'


def second_claim_1(text: str) -> str:
    """The study file with its claim 1 given twice."""
    block = text[text.index("[[claim]]") :]
    return text + "\n" + block


BAD_CLAIMS = [
    (
        "unknown source",
        lambda t: replace_once(t, 'source = "PMSC"', BAD_SOURCE),
        lambda t, p: (
            f"Error: {p}:{line_of(t, BAD_SOURCE)}: claim 1: source: "
            "unknown source 'UCMCS'; did you mean UCMSC"
        ),
    ),
    (
        "a reference number in a claim",
        lambda t: replace_once(t, "id = 1\n", "id = 1\nref = 999\n"),
        lambda t, p: (
            f"Error: {p}:{line_of(t, 'ref = 999')}: claim 1: no 'ref' here:"
            " a claim cites the study whose file holds it"
        ),
    ),
    (
        "unknown effect",
        lambda t: replace_once(t, FIRST_CLAIM_EFFECTS, BAD_EFFECTS),
        lambda t, p: (
            f"Error: {p}:{line_of(t, BAD_EFFECTS)}: claim 1: "
            "effects: unknown effect 'angiogensis'; did you mean angiogenesis"
        ),
    ),
    (
        "malformed TOML",
        lambda t: t + '\n[[claim]\nid = "\n',
        lambda t, p: f"Error: {p}:{len(t.splitlines()) - 1}: not valid TOML (",
    ),
    (
        "missing required field",
        lambda t: replace_once(t, FIRST_CLAIM_EFFECTS + "\n", ""),
        lambda t, p: f"Error: {p}:{line_of(t, '[[claim]]')}: claim 1: missing field 'effects'",
    ),
    (
        "repeated id",
        second_claim_1,
        lambda t, p: f"Error: {p}:",
    ),
]


@pytest.mark.parametrize(("name", "breaking", "expected"), BAD_CLAIMS, ids=[case[0] for case in BAD_CLAIMS])
def test_bad_claims_are_refused_and_the_database_keeps_its_data(
    cli: Invoke, workspace: Path, name: str, breaking: Any, expected: Any
) -> None:
    before = cli("query", "--ref", "16", "-f", "json")
    assert [c["source"] for c in stdout_json(before)] == ["PMSC"]
    row = claim_row(workspace, 1)
    path = workspace / STUDY_16
    good = path.read_text(encoding="utf-8")
    broken = breaking(good)
    path.write_text(broken, encoding="utf-8")

    for args in (["query", "--ref", "16", "-f", "json"], ["stats"], ["rebuild"]):
        result = cli(*args)
        assert result.exit_code == 1, (name, args)
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(expected(broken, STUDY_16)), (lines[0], expected(broken, STUDY_16))
        assert STUDY_16 in lines[0]
        assert claim_row(workspace, 1) == row  # the failed rebuild changed nothing

    path.write_text(good, encoding="utf-8")
    after = cli("query", "--ref", "16", "-f", "json")
    assert after.stdout == before.stdout


def test_repeated_id_names_both_lines(cli: Invoke, workspace: Path) -> None:
    where = "refs/studies/xing2024effects.toml"  # reference 17: claims 2 and 20
    path = workspace / where
    text = path.read_text(encoding="utf-8")
    second_header = [n for n, line in enumerate(text.splitlines(), 1) if line == "[[claim]]"][1]
    path.write_text(replace_once(text, "id = 20\n", "id = 2\n"), encoding="utf-8")
    result = cli("stats")
    assert result.exit_code == 1
    first_header = text.splitlines().index("[[claim]]") + 1
    assert (
        result.stderr
        == f"Error: {where}:{second_header}: claim id 2 repeats (first at line {first_header})\n"
    )
