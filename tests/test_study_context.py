"""Injuries/diseases, species and models as vocabularies: filters, phrases, stats, check,
the record's lists, and a review in another field (ischaemic stroke) built from a blank start."""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from helpers import Invoke, error_lines, shipped_claims, stdout_json


def ids(result: Any) -> set[int]:
    return {claim["id"] for claim in stdout_json(result)}


def shipped_ids(test: Any) -> set[int]:
    return {claim["id"] for claim in shipped_claims() if test(claim)}


def run(cli: Invoke, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


# --- the shipped review -------------------------------------------------------------------


def test_shipped_claims_hold_codes_of_the_three_vocabularies(workspace: Path, cli: Invoke) -> None:
    claims = {c["id"]: c for c in stdout_json(cli("claims", "list", "-f", "json"))}
    assert claims[46]["injury"] == ["SCI", "neuroinflammation"]
    assert claims[48]["injury"] == ["ischemic stroke"]
    assert claims[50]["species"] == ["human"] and claims[50]["model"] == ["clinical"]
    assert claims[9]["injury"] == [] and claims[9]["model"] == ["in vitro"]


def test_query_stroke_finds_the_brain_ischaemia_claim(workspace: Path, cli: Invoke) -> None:
    assert ids(cli("query", "stroke", "-f", "json")) == {48}
    assert ids(cli("query", "--injury", "stroke", "-f", "json")) == {48}
    assert ids(cli("query", "--injury", "cerebral ischemia/reperfusion", "-f", "json")) == {48}


def test_injury_filter_follows_the_hierarchy(workspace: Path, cli: Invoke) -> None:
    cns = ids(cli("query", "--injury", "CNS", "-f", "json"))
    assert cns == shipped_ids(lambda c: bool(c.get("injury")))
    not_sci = ids(cli("query", "--injury", "CNS", "--not-injury", "SCI", "-f", "json"))
    assert not_sci == {16, 19, 48}
    assert ids(cli("query", "--injury", "CNS", "-x", "injury=SCI", "-f", "json")) == not_sci


def test_model_and_species_filters_keep_their_old_answers(workspace: Path, cli: Invoke) -> None:
    in_vivo = shipped_ids(lambda c: "in vivo" in c.get("model", []))
    assert in_vivo and ids(cli("query", "--model", "in vivo", "-f", "json")) == in_vivo
    assert ids(cli("query", "in vivo", "-f", "json")) == in_vivo
    rats = shipped_ids(lambda c: c.get("species") == ["rat"])
    assert len(rats) == 8
    assert ids(cli("query", "--species", "rat", "-f", "json")) == rats
    assert ids(cli("query", "--model", "rat", "-f", "json")) == rats  # the model covers species
    assert ids(cli("query", "studies in rats", "-f", "json")) == rats
    assert ids(cli("query", "--species", "Sprague-Dawley rats", "-f", "json")) == rats
    clinical = ids(cli("query", "clinical", "-f", "json"))
    assert clinical == {50} == ids(cli("query", "patients", "-f", "json"))


def test_unknown_context_terms_are_usage_errors_with_suggestions(workspace: Path, cli: Invoke) -> None:
    result = cli("query", "--injury", "strok")
    assert result.exit_code == 2
    assert error_lines(result)[-1] == "Error: --injury: unknown injury/disease 'strok'; did you mean stroke?"
    result = cli("query", "--species", "ratt")
    assert result.exit_code == 2 and "did you mean rat" in result.stderr
    result = cli("query", "--model", "MCA0")
    assert result.exit_code == 2 and "did you mean MCAO" in result.stderr


def test_explain_shows_context_filters(workspace: Path, cli: Invoke) -> None:
    result = cli("query", "neuroinflammation but not SCI", "--explain", "-f", "json")
    assert result.exit_code == 0, result.output
    assert "injury: neuroinflammation" in result.stderr and "injury: not SCI" in result.stderr
    assert ids(result) == {16, 19}


def test_stats_by_injury_species_and_model(workspace: Path, cli: Invoke) -> None:
    data = stdout_json(cli("stats", "--by", "injury", "-f", "json"))
    assert data["by"] == "injury"
    assert data["claims_per_injury"]["SCI"] == len(shipped_ids(lambda c: "SCI" in c.get("injury", [])))
    assert data["claims_per_injury"]["not stated"] == len(shipped_ids(lambda c: not c.get("injury")))
    assert data["counts"]["ischemic stroke"]["anti-inflammatory"] == 1
    species = stdout_json(cli("stats", "--by", "species", "-f", "json"))
    assert species["claims_per_species"]["rat"] == 8
    models = stdout_json(cli("stats", "--by", "model", "-f", "json"))
    assert models["claims_per_model"]["in vitro"] == len(
        shipped_ids(lambda c: "in vitro" in c.get("model", []))
    )
    source = stdout_json(cli("stats", "-f", "json"))  # the default stays source x effect
    assert "sources" in source and "claims_per_source" in source
    result = cli("stats", "--by", "dose")
    assert result.exit_code == 2 and "--by must be one of" in result.stderr


def test_json_and_csv_carry_ontology_ids(workspace: Path, cli: Invoke) -> None:
    (claim,) = stdout_json(cli("query", "--ref", "74", "-f", "json"))
    assert claim["ontology_ids"]["DPSC"].startswith("CL:")
    assert claim["ontology_ids"]["anti-inflammatory"] == "GO:0050728"
    csv_text = cli("query", "--ref", "74", "-f", "csv").stdout
    header, row = csv_text.splitlines()[:2]
    assert "ontology_ids" in header.split(",")
    assert "anti-inflammatory=GO:0050728" in row
    rats = stdout_json(cli("query", "--species", "rat", "-f", "json"))
    assert all(c["ontology_ids"]["rat"] == "NCBITaxon:10116" for c in rats)


def test_csv_round_trip_of_context_lists_changes_nothing(
    workspace: Path, cli: Invoke, tmp_path: Path
) -> None:
    table = tmp_path / "claims.csv"
    table.write_text(cli("query", "--injury", "CNS", "-f", "csv").stdout, encoding="utf-8")
    result = cli("import", str(table))
    assert result.exit_code == 0, result.output
    assert "0 added, 0 updated" in result.stderr


def test_an_import_gives_terms_not_free_text(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    """The record's free text of before the vocabularies is read leniently (below); an import
    is not: a JSON text is `;`-separated terms, as a CSV cell is, and an unknown one is refused."""
    (claim,) = [c for c in stdout_json(cli("query", "-f", "json")) if c["id"] == 25]
    table = tmp_path / "claims.json"
    before = {p.name: p.read_text("utf-8") for p in (workspace / "refs" / "studies").glob("*.toml")}
    for cell in ("SCI in adult rats", "SCI; spinal stenosis"):
        table.write_text(json.dumps([claim | {"injury": cell}]), encoding="utf-8")
        result = cli("import", str(table))
        assert result.exit_code == 1, result.output
        unknown = cell if ";" not in cell else "spinal stenosis"
        assert f"row 1: injury: unknown injury/disease {unknown!r}" in result.stderr
        after = {p.name: p.read_text("utf-8") for p in (workspace / "refs" / "studies").glob("*.toml")}
        assert after == before
    table.write_text(json.dumps([claim | {"injury": "SCI; stroke", "note": "x"}]), encoding="utf-8")
    run(cli, "import", str(table))
    shown = stdout_json(cli("claims", "show", "25", "-f", "json"))
    assert (shown["injury"], shown["note"]) == (["SCI", "stroke"], "x")


# --- the record ---------------------------------------------------------------------------


def study_file(root: Path, claim_id: int) -> Path:
    for path in sorted((root / "refs" / "studies").glob("*.toml")):
        if f"\nid = {claim_id}\n" in path.read_text(encoding="utf-8"):
            return path
    raise AssertionError(claim_id)


def test_a_record_written_before_lists_still_reads(workspace: Path, cli: Invoke) -> None:
    path = study_file(workspace, 25)
    text = path.read_text(encoding="utf-8")
    old = text.replace('model = ["in vivo"]', 'model = "in vivo and in vitro"').replace(
        "species = []", 'species = "Sprague-Dawley rats"'
    )
    old = old.replace('injury = ["SCI"]', 'injury = "acute SCI"')
    assert old != text
    path.write_text(old, encoding="utf-8")
    claim = stdout_json(cli("claims", "show", "25", "-f", "json"))
    assert claim["model"] == ["in vivo", "in vitro"]
    assert claim["species"] == ["rat"] and claim["injury"] == ["SCI"]
    assert 25 in ids(cli("query", "--model", "in vitro", "-f", "json"))


def test_an_unknown_injury_in_the_record_names_file_line_and_the_fix(workspace: Path, cli: Invoke) -> None:
    path = study_file(workspace, 25)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('injury = ["SCI"]', 'injury = ["spinal stenosis"]'), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index('injury = ["spinal stenosis"]') + 1
    result = cli("query", "--injury", "SCI")
    assert result.exit_code == 1
    (message,) = error_lines(result)
    assert message.startswith(f"Error: refs/studies/{path.name}:{line}: claim 25: injury: unknown")
    assert "exocli vocab add injuries" in message


def test_claims_edit_and_clear_context_lists(workspace: Path, cli: Invoke) -> None:
    path = study_file(workspace, 25)
    run(cli, "claims", "edit", "25", "--model", "contusion", "--model", "in vitro", "--species", "rats")
    assert 'model = ["contusion", "in vitro"]' in path.read_text(encoding="utf-8")
    assert 'species = ["rat"]' in path.read_text(encoding="utf-8")
    assert 25 in ids(cli("query", "--model", "in vivo", "-f", "json"))  # contusion is in vivo
    run(cli, "claims", "edit", "25", "--clear", "species")
    assert "species = []" in path.read_text(encoding="utf-8")
    result = cli("claims", "edit", "25", "--injury", "spinal stenosis")
    assert result.exit_code == 1 and "unknown injury/disease 'spinal stenosis'" in result.stderr


def test_rename_and_remove_follow_the_claims(workspace: Path, cli: Invoke) -> None:
    run(cli, "vocab", "rename", "injuries", "ischemic stroke", "AIS")
    assert ids(cli("query", "--injury", "AIS", "-f", "json")) == {48}
    assert 'injury = ["AIS"]' in study_file(workspace, 48).read_text(encoding="utf-8")
    result = cli("vocab", "remove", "injuries", "AIS")
    assert result.exit_code == 1
    assert "used by 1 claim: 48 (ref 74)" in result.stderr and "--injury" in result.stderr
    run(cli, "vocab", "remove", "models", "photothrombosis")  # unused: removed


def test_check_compares_the_disease_with_the_title(workspace: Path, cli: Invoke) -> None:
    report = stdout_json(cli("check", "-f", "json"))
    disease = [f for f in report["findings"] if f["check"] == "claim_disease_vs_title"]
    assert {(f["claim"], f["severity"]) for f in disease} == {(16, "info"), (19, "info")}
    assert all('title says "spinal cord injury" (SCI)' in f["evidence"] for f in disease)
    # the organ check, fed by the vocabulary: a stroke claim on a spinal-cord paper
    run(cli, "claims", "edit", "35", "--injury", "ischemic stroke")
    report = stdout_json(cli("check", "-f", "json"))
    organ = [f for f in report["findings"] if f["check"] == "claim_injury_vs_title" and f["claim"] == 35]
    assert organ and organ[0]["severity"] == "warning"


# --- a review in another field, from a blank start ----------------------------------------

STROKE_TERMS = [
    ("sources", "MSC", "Mesenchymal stromal cell", None, ["mesenchymal stem cell"]),
    ("sources", "BMSC", "Bone marrow MSC", "MSC", ["bone marrow MSC"]),
    ("sources", "ADSC", "Adipose-derived MSC", "MSC", ["adipose MSC"]),
    ("effects", "neuroprotection", "Neuroprotection", None, ["neuroprotective"]),
    ("effects", "angiogenesis", "Angiogenesis", None, ["angiogenic"]),
    ("cargo-types", "miRNA", "microRNA", None, ["miRNAs"]),
    ("cargo-types", "none", "Whole vesicle", None, []),
    ("injuries", "stroke", "Stroke", None, []),
    ("injuries", "ischemic stroke", "Ischaemic stroke", "stroke", ["cerebral ischemia"]),
    ("injuries", "ICH", "Intracerebral haemorrhage", "stroke", ["intracerebral hemorrhage"]),
    ("species", "rat", "Rat", None, ["rats"]),
    ("species", "mouse", "Mouse", None, ["mice"]),
    ("models", "in vivo", "In vivo", None, []),
    ("models", "MCAO", "Middle cerebral artery occlusion", "in vivo", ["tMCAO"]),
    ("models", "in vitro", "In vitro", None, []),
    ("models", "OGD", "Oxygen-glucose deprivation", "in vitro", []),
]
# (title, author, source, cargo, effects, injury, species, model)
STROKE_STUDIES = [
    ("BMSC exosomes after tMCAO", "Nakamura, Kenji", "BMSC", "miR-133b", ["neuroprotection"],
     "ischemic stroke", "rat", "MCAO"),
    ("Adipose exosomes in cerebral ischemia", "Sato, Yui", "ADSC", None, ["angiogenesis"],
     "ischemic stroke", "mouse", "MCAO"),
    ("BMSC vesicles after intracerebral hemorrhage", "Okafor, Chidi", "BMSC", None, ["neuroprotection"],
     "ICH", "rat", "in vivo"),
    ("MSC vesicles protect neurons from OGD", "Larsen, Ingrid", "MSC", "miR-21", ["neuroprotection"],
     "ischemic stroke", None, "OGD"),
]  # fmt: skip


@pytest.fixture
def stroke(tmp_path: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """A stroke review from `init --vocab blank`: terms added through the CLI, then claims."""
    root = tmp_path / "stroke-review"
    run(cli, "init", str(root), "--vocab", "blank")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    for vocab, code, label, parent, synonyms in STROKE_TERMS:
        args = ["vocab", "add", vocab, code, "--label", label]
        args += ["--parent", parent] if parent else []
        for synonym in synonyms:
            args += ["--synonym", synonym]
        run(cli, *args)
    run(cli, "vocab", "edit", "injuries", "stroke", "--ontology-id", "DOID:0051061")
    claim_of: dict[str, int] = {}
    for title, author, source, cargo, effects, injury, species, model in STROKE_STUDIES:
        args = ["add-study", "--title", title, "--author", author, "--year", "2024"]
        args += ["--journal", "Stroke", "--source", source, "--injury", injury, "--model", model, "--yes"]
        args += ["--cargo", cargo, "--cargo-type", "miRNA"] if cargo else []
        args += [arg for effect in effects for arg in ("--effect", effect)]
        args += ["--species", species] if species else []
        result = run(cli, *args)
        claim_of[author.split(",")[0]] = int(result.stderr.split("Added claim ")[1].split()[0])
    return claim_of


def test_a_stroke_review_answers_flag_and_phrase_queries(stroke: dict[str, int], cli: Invoke) -> None:
    nakamura, sato, okafor, larsen = (stroke[n] for n in ("Nakamura", "Sato", "Okafor", "Larsen"))
    assert ids(cli("query", "--injury", "stroke", "-f", "json")) == {nakamura, sato, okafor, larsen}
    assert ids(cli("query", "--injury", "ischemic stroke", "-f", "json")) == {nakamura, sato, larsen}
    assert ids(cli("query", "--injury", "stroke", "--not-injury", "ICH", "-f", "json")) == {
        nakamura, sato, larsen
    }  # fmt: skip
    assert ids(cli("query", "--model", "in vivo", "--not-source", "ADSC", "-f", "json")) == {nakamura, okafor}
    assert ids(cli("query", "--species", "rat", "-x", "injury=ICH", "-f", "json")) == {nakamura}
    assert ids(cli("query", "neuroprotection in rats with MCAO", "-f", "json")) == {nakamura}
    assert ids(cli("query", "stroke but not ADSC", "-f", "json")) == {nakamura, okafor, larsen}
    assert ids(cli("query", "cerebral ischemia excluding in vitro", "-f", "json")) == {nakamura, sato}
    assert ids(cli("query", "MSC studies of intracerebral hemorrhage", "-f", "json")) == {okafor}
    (claim,) = stdout_json(cli("query", "--ref", "1", "-f", "json"))
    assert claim["injury"] == ["ischemic stroke"] and claim["model"] == ["MCAO"]
    assert claim["species"] == ["rat"] and claim["ontology_ids"] == {}
    counts = stdout_json(cli("stats", "--by", "injury", "-f", "json"))["claims_per_injury"]
    assert counts == {"stroke": 0, "ischemic stroke": 3, "ICH": 1}
    shown = stdout_json(cli("refs", "show", "1", "-f", "json"))
    assert shown["authors"][0] == {"family": "Nakamura", "given": "Kenji"}  # the full given name


def test_a_stroke_review_reads_its_own_vocabulary_only(stroke: dict[str, int], cli: Invoke) -> None:
    result = cli("query", "--injury", "SCI")  # a spinal-cord term the blank start never had
    assert result.exit_code == 2 and "unknown injury/disease 'SCI'" in result.stderr
    rows = stdout_json(cli("vocab", "list", "injuries", "-f", "json"))
    assert [(r["code"], r["parent"], r["claims"]) for r in rows] == [
        ("stroke", None, 4),
        ("ischemic stroke", "stroke", 3),
        ("ICH", "stroke", 1),
    ]
    assert rows[0]["ontology_id"] == "DOID:0051061"


def test_stroke_claims_are_in_the_database_as_terms(stroke: dict[str, int]) -> None:
    home = Path(os.environ["EXOCLI_HOME"])
    with closing(sqlite3.connect(home / "db" / "exocli.sqlite")) as conn:
        rows = set(conn.execute("SELECT vocab, code FROM claim_terms"))
    assert ("models", "OGD") in rows and ("species", "mouse") in rows and ("injuries", "ICH") in rows


def test_upgrade_keeps_free_text_it_cannot_read_as_terms(
    cli: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers import copy_format1_workspace

    root = copy_format1_workspace(tmp_path / "old")
    claims = root / "db" / "claims.toml"
    text = claims.read_text(encoding="utf-8")
    at = text.index("\nid = 9\n")
    block_end = text.index("[[claim]]", at) if "[[claim]]" in text[at:] else len(text)
    block = text[at:block_end]
    old = block.replace("injury = []", 'injury = "PC12 cell injury model (in vitro)"')
    old = old.replace('model = ["in vitro"]', 'model = "in vitro"').replace(
        "species = []", 'species = "not stated"'
    )
    assert old != block
    claims.write_text(text[:at] + old + text[block_end:], encoding="utf-8")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    run(cli, "upgrade")
    claim = stdout_json(cli("claims", "show", "9", "-f", "json"))
    assert (claim["injury"], claim["model"], claim["species"]) == ([], ["in vitro"], [])
    assert claim["note"].endswith("[injury as first recorded: PC12 cell injury model (in vitro)]")
