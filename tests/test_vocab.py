"""Vocabularies (synonyms, hierarchy, suggestions), miRNA names and pathway parts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exocli.errors import DataError
from exocli.evidence import pathway_parts
from exocli.mirna import MiRNA, parse_mirna, split_mirnas
from exocli.vocab import Vocabulary, load_vocabulary_file, term_key
from helpers import SHIPPED_VOCAB, Invoke, claims_with_pathway_part, error_lines, shipped_claims, stdout_json


@pytest.fixture(scope="module")
def sources() -> Vocabulary:
    return load_vocabulary_file("sources", SHIPPED_VOCAB / "sources.toml")


@pytest.fixture(scope="module")
def effects() -> Vocabulary:
    return load_vocabulary_file("effects", SHIPPED_VOCAB / "effects.toml")


@pytest.fixture(scope="module")
def pathways() -> Vocabulary:
    return load_vocabulary_file("pathways", SHIPPED_VOCAB / "pathways.toml")


# --- sources --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "UCMSC",
        "ucmsc",
        "hUCMSC",
        "HUC-MSC",
        "hUC-MSC",
        "umbilical cord MSC",
        "Umbilical Cord Mesenchymal Stem Cells",
        "umbilical  cord_mesenchymal-stem cells",
        "ＵＣＭＳＣ",  # full-width letters
    ],
)
def test_source_synonyms_and_case(sources: Vocabulary, text: str) -> None:
    assert sources.lookup(text) == "UCMSC"
    assert sources.require(text) == "UCMSC"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("bone marrow mesenchymal stem cells", "BMSC"),
        ("BM-MSCs", "BMSC"),
        ("ADSCs", "ADSC"),
        ("adipose-derived mesenchymal stem cells", "ADSC"),
        ("hPMSCs", "PMSC"),
        ("hAMSCs", "AMSC"),
        ("neural progenitor cells", "NSC"),
        ("IPSC-NSCs", "iPSC-NSC"),
        ("menstrual blood stem cells", "MenSC"),
        ("M2 microglia", "M2-microglia"),
        ("mesenchymal stromal cells", "MSC"),
    ],
)
def test_source_lookups(sources: Vocabulary, text: str, code: str) -> None:
    assert sources.lookup(text) == code


def test_unknown_source(sources: Vocabulary) -> None:
    assert sources.lookup("zebrafish fin cells") is None
    with pytest.raises(DataError, match="unknown source 'UCMCS'; did you mean UCMSC"):
        sources.require("UCMCS")


def test_source_hierarchy(sources: Vocabulary) -> None:
    msc = sources.descendants("MSC")
    assert msc[0] == "MSC"
    assert set(msc) == {"MSC", "BMSC", "UCMSC", "ADSC", "PMSC", "AMSC"}
    assert "NSC" not in msc
    assert sources.descendants("UCMSC") == ["UCMSC"]
    assert set(sources.descendants("iPSC")) == {"iPSC", "iPSC-NSC"}
    assert sources.ancestors("iPSC-NSC") == ["iPSC", "stem-cell"]
    assert sources.ancestors("BMSC") == ["MSC", "stem-cell"]
    everything = set(sources.descendants("stem-cell"))
    assert {"NSC", "MSC", "BMSC", "iPSC-NSC", "DPSC", "ESC", "MenSC"} <= everything
    assert "M2-microglia" not in everything and "non-stem" not in everything


def test_stem_flag(sources: Vocabulary) -> None:
    assert sources.terms["M2-microglia"].stem is False
    assert sources.terms["non-stem"].stem is False
    assert sources.terms["M2-microglia"].parent == "non-stem"
    assert all(t.stem is True for c, t in sources.terms.items() if c not in ("M2-microglia", "non-stem"))


# --- effects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("anti-inflammatory", "anti-inflammatory"),
        ("Anti-Inflammatory", "anti-inflammatory"),
        ("anti-inflammation", "anti-inflammatory"),
        ("reduces inflammation", "anti-inflammatory"),
        ("M2 polarization", "immunomodulation"),
        ("M1 to M2", "immunomodulation"),
        ("blood-spinal cord barrier", "bscb-repair"),
        ("BSCB", "bscb-repair"),
        ("axon regeneration", "neuroregeneration"),
        ("inhibits ferroptosis", "anti-ferroptosis"),
        ("ROS reduction", "antioxidant"),
    ],
)
def test_effect_synonyms(effects: Vocabulary, text: str, code: str) -> None:
    assert effects.lookup(text) == code


def test_suggestions_for_typos(sources: Vocabulary, effects: Vocabulary) -> None:
    assert sources.suggest("UCMCS")[0] == "UCMSC"
    assert effects.suggest("angiogensis")[0] == "angiogenesis"
    assert effects.unknown_message("angiogensis").startswith(
        "unknown effect 'angiogensis'; did you mean angiogenesis"
    )
    assert sources.suggest("qwertyuiop") == []
    assert sources.unknown_message("qwertyuiop") == "unknown source 'qwertyuiop'"
    assert len(sources.suggest("MSC", limit=2)) <= 2


def test_term_key() -> None:
    assert term_key("NF-κB p65") == term_key("nf κb  P65") == "nfκbp65"
    assert term_key("HUC–MSC") == term_key("huc msc")


# --- vocabulary files ----------------------------------------------------------------------


def write_vocab(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[term]]\ncode = "A"\nlabel = "A"\n\n[[term]]\nlabel = "no code"\n', ":5: term without a code"),
        ('[[term]]\ncode = "A"\n', ":1: term 'A' has no label"),
        ('[[term]]\ncode = "A"\nlabel = "A"\nsynonyms = "x"\n', ":1: synonyms of 'A' must be a list"),
        ('[[term]]\ncode = "A"\nlabel = "A"\nparent = "B"\n', ":1: parent 'B' of 'A' is not a term"),
        (
            '[[term]]\ncode = "A"\nlabel = "Alpha"\n\n[[term]]\ncode = "B"\nlabel = "B"\nsynonyms = ["alpha"]\n',
            ":5: 'alpha' of 'B' is already a spelling of 'A'",
        ),
        ("[[term]\n", "sources.toml: "),
    ],
)
def test_bad_vocabulary_files(tmp_path: Path, body: str, message: str) -> None:
    path = write_vocab(tmp_path, body)
    with pytest.raises(DataError) as info:
        load_vocabulary_file("sources", path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)


# --- miRNA names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("hsa-miR-146a-5p", "miR-146a-5p"),
        ("mmu-miR-21a-5p", "miR-21a-5p"),
        ("rno-miR-126", "miR-126"),
        ("microRNA-216a-5p", "miR-216a-5p"),
        ("MicroRNA 146a", "miR-146a"),
        ("MiR-21", "miR-21"),
        ("miR146a", "miR-146a"),
        ("miRNA-21", "miR-21"),
        ("miR-21-5P", "miR-21-5p"),
        ("let-7b-5p", "let-7b-5p"),
        ("Let-7a-5p", "let-7a-5p"),
        ("hsa-let-7a", "let-7a"),
        ("miR-17-92", "miR-17-92 cluster"),
        ("miR-17~92", "miR-17-92 cluster"),
        ("miR-17-92 cluster", "miR-17-92 cluster"),
        ("miR-219a-2-3p", "miR-219a-2-3p"),
        ("miR\u201121", "miR-21"),  # non-breaking hyphen
    ],
)
def test_parse_mirna(text: str, name: str) -> None:
    mirna = parse_mirna(text)
    assert mirna is not None
    assert mirna.name == name


def test_mirna_parts() -> None:
    assert parse_mirna("miR-219a-2-3p") == MiRNA("miR", "219", "a", "2", "3p")
    assert parse_mirna("hsa-miR-146a-5p") == MiRNA("miR", "146", "a", None, "5p")
    assert parse_mirna("let-7b-5p") == MiRNA("let", "7", "b", None, "5p")
    cluster = parse_mirna("miR-17-92")
    assert cluster is not None and cluster.cluster_end == "92" and cluster.family == "miR-17-92"
    assert parse_mirna("miR-21a-5p").family == "miR-21"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text", ["VEGF-A", "circ-Wdfy3", "LRRC75A-AS1", "berberine", "", "miR", "TLR4", "let-8"]
)
def test_not_mirnas(text: str) -> None:
    assert parse_mirna(text) is None


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("miR-199a-3p/145-5p", ["miR-199a-3p", "miR-145-5p"]),
        ("miR-21/miR-19b", ["miR-21", "miR-19b"]),
        ("miR-374-5p/STK-4", ["miR-374-5p/STK-4"]),
        ("TLR4/NF-κB", ["TLR4/NF-κB"]),
        ("miR-21", ["miR-21"]),
    ],
)
def test_split_mirnas(text: str, names: list[str]) -> None:
    assert split_mirnas(text) == names


def compatible(a: str, b: str) -> bool:
    first, second = parse_mirna(a), parse_mirna(b)
    assert first is not None and second is not None
    assert first.compatible(second) == second.compatible(first)  # symmetric
    return first.compatible(second)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("miR-21", "miR-21-5p", True),
        ("miR-21", "miR-21a-5p", True),
        ("miR-21-5p", "miR-21a-5p", True),
        ("miR-21", "miR-21", True),
        ("miR-21", "miR-210", False),
        ("miR-21", "miR-216a", False),
        ("miR-21-5p", "miR-21-3p", False),
        ("miR-125a", "miR-125b", False),
        ("miR-125a", "miR-125a-3p", True),
        ("let-7a-5p", "let-7b-5p", False),
        ("let-7", "let-7b-5p", True),
        ("miR-17-92", "miR-17", False),
    ],
)
def test_mirna_compatibility(a: str, b: str, expected: bool) -> None:
    assert compatible(a, b) is expected


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_mirna_never_crashes(text: str) -> None:
    mirna = parse_mirna(text)
    split_mirnas(text)
    if mirna is not None:
        again = parse_mirna(mirna.name)
        assert again is not None
        assert again.name == mirna.name
        assert mirna.compatible(again)


_mirna_names = st.builds(
    lambda species, number, letter, paralog, arm: f"{species}miR-{number}{letter}{paralog}{arm}",
    st.sampled_from(["", "hsa-", "mmu-", "rno-"]),
    st.integers(1, 9999),
    st.sampled_from(["", "a", "b", "c"]),
    st.sampled_from(["", "-1", "-2"]),
    st.sampled_from(["", "-3p", "-5p"]),
)


@settings(max_examples=200, deadline=None)
@given(_mirna_names)
def test_generated_mirna_names_round_trip(text: str) -> None:
    mirna = parse_mirna(text)
    assert mirna is not None
    expected = text[4:] if text[:4] in ("hsa-", "mmu-", "rno-") else text
    assert mirna.name == expected
    assert parse_mirna(mirna.name) == mirna


# --- pathways ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["NF-kB", "NFκB", "NF-kappaB", "NF-κB p65", "nf-kb", "NF kappa B", "NF-κB"])
def test_pathway_spellings(pathways: Vocabulary, text: str) -> None:
    assert pathways.lookup(text) == "NF-κB"


def test_pathway_parts(pathways: Vocabulary) -> None:
    parts = pathway_parts(["TLR4/NF-κB"], pathways)
    assert [p.part for p in parts] == ["TLR4", "NF-κB"]
    assert [p.key for p in parts] == [term_key("TLR4"), term_key("NF-κB")]
    # synonyms fold to one part; miRNAs in an axis are cargo, not pathway parts
    folded = pathway_parts(["ROS/MAPK/NFκB P65", "TLR4/NF-kB", "miR-374-5p/STK-4"], pathways)
    assert [p.part for p in folded] == ["ROS", "MAPK", "NF-κB", "TLR4", "STK4"]
    # parts the vocabulary does not know are kept as written
    assert [p.part for p in pathway_parts(["HMGA2/SMAD2"], pathways)] == ["HMGA2", "SMAD2"]


# --- exocli vocab --------------------------------------------------------------------------


def test_vocab_sources_counts(cli: Invoke, workspace: Path) -> None:
    result = cli("vocab", "sources", "-f", "csv")
    assert result.exit_code == 0
    rows = {row["code"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    claims = shipped_claims()
    direct = {code: sum(1 for c in claims if c["source"] == code) for code in rows}
    assert int(rows["UCMSC"]["claims"]) == direct["UCMSC"] == 8
    msc_family = ("MSC", "BMSC", "UCMSC", "ADSC", "PMSC", "AMSC")
    assert int(rows["MSC"]["claims"]) == sum(direct[c] for c in msc_family)
    assert int(rows["stem-cell"]["claims"]) == sum(1 for c in claims if c["source"] not in ("M2-microglia",))
    assert int(rows["ESC"]["claims"]) == 0
    assert rows["M2-microglia"]["label"].endswith("(non-stem)")
    assert rows["BMSC"]["parent"] == "MSC"
    assert "hUCMSC" in rows["UCMSC"]["synonyms"].split("; ")
    assert {row["vocab"] for row in rows.values()} == {"sources"}


def test_vocab_table_lists_every_vocabulary(cli: Invoke, workspace: Path) -> None:
    data = stdout_json(cli("vocab", "-f", "json"))
    assert {row["vocab"] for row in data} == {
        "sources",
        "effects",
        "cargo-types",
        "pathways",
        "injuries",
        "species",
        "models",
    }
    nfkb = next(row for row in data if row["vocab"] == "pathways" and row["code"] == "NF-κB")
    assert nfkb["claims"] == len(claims_with_pathway_part("NF-κB")) == 11
    table = cli("vocab", "effects")
    assert table.exit_code == 0 and "anti-inflammatory" in table.stdout and "\x1b[" not in table.stdout


def test_vocab_unknown_name(cli: Invoke, workspace: Path) -> None:
    result = cli("vocab", "nonsense")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert error_lines(result) == [
        "Error: unknown vocabulary 'nonsense'; choose from sources, effects, cargo-types, pathways, injuries, species, models"
    ]
