"""`exocli check --manuscript`: citing sentences against the references they cite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from exocli.db import open_database
from exocli.manuscript_check import check_manuscript
from exocli.workspace import open_workspace
from helpers import PROJECT, REVIEW, Invoke

MANUSCRIPTS = PROJECT / "tests" / "data" / "manuscripts"
# Ref 65 (Lu 2019, BMSC exosomes and the blood-spinal cord barrier): an abstract written for
# this test in our own words, shaped as Crossref gives abstracts (JATS). The review says the
# exosomes worked by *activating* NF-κB p65; this abstract has the pathway going down.
ABSTRACT_65 = (
    "<jats:title>Abstract</jats:title><jats:p>After spinal cord injury in rats, exosomes from bone marrow"
    " mesenchymal stem cells kept the blood-spinal cord barrier intact and limited pericyte migration."
    " In the treated animals the NF-&#954;B p65 pathway was downregulated, and locomotor scores were"
    " better than in controls.</jats:p>"
)


def findings(result: Any) -> list[dict[str, Any]]:
    report = json.loads(result.stdout)
    return list(report["findings"])


def by_check(found: list[dict[str, Any]], *checks: str) -> dict[int, dict[str, Any]]:
    return {f["ref"]: f for f in found if f["check"] in checks}


def test_the_four_citation_errors_of_the_shipped_review(workspace: Path, cli: Invoke) -> None:
    result = cli("check", "--manuscript", str(REVIEW), "-f", "json")
    assert result.exit_code == 0, result.output  # warnings only
    found = findings(result)
    mismatched = by_check(
        found, "sentence_source_vs_title", "sentence_vesicle_vs_title", "sentence_mirna_vs_title"
    )
    assert {18, 44, 87, 92} <= set(mismatched)
    assert mismatched[44]["check"] == "sentence_mirna_vs_title"
    assert 'title names "miR-146b" (miR-146b)' in mismatched[44]["evidence"]
    assert any("miR-146a-5p" in e for e in mismatched[44]["evidence"])
    assert (
        mismatched[87]["message"]
        == "sentence source MenSC does not fit the cited reference, which names PMSC"
    )
    assert (
        mismatched[92]["message"]
        == "sentence source BMSC does not fit the cited reference, which names UCMSC"
    )
    assert mismatched[18]["check"] == "sentence_vesicle_vs_title"
    # each finding names its sentence: file, section, paragraph and sentence number
    assert mismatched[92]["location"].endswith(
        "(Inhibition of apoptosis and promotion of nerve regeneration) paragraph 29 sentence 5"
    )
    # the sentences citing 45-47 (two miRNAs, three papers) are not errors: each fits its own title
    assert not {45, 46, 47} & set(mismatched)
    strict = cli("check", "--manuscript", str(REVIEW), "--strict")
    assert strict.exit_code == 1
    assert "WARNINGS" in strict.stdout and "paragraph 29 sentence 5" in strict.stdout


def test_the_direction_against_a_stored_abstract(workspace: Path, cli: Invoke) -> None:
    assert cli("query", "--ref", "65").exit_code == 0  # builds the database
    ws = open_workspace(workspace)
    conn = open_database(ws)
    ref_id, doi = conn.execute("SELECT id, doi FROM refs WHERE number = 65").fetchone()
    message = json.dumps({"DOI": doi, "title": ["x"], "abstract": ABSTRACT_65})
    conn.execute(
        "INSERT INTO crossref_works (doi, status, fetched_at, message) VALUES (?, 'ok', '', ?)",
        (doi, message),
    )
    conn.execute(
        "INSERT INTO ref_resolution (ref_id, doi, method, status, differences) VALUES (?, ?, 'doi', 'ok', '[]')",
        (ref_id, doi),
    )
    report = check_manuscript(conn, REVIEW)
    direction = [f for f in report.findings if f.check == "sentence_direction_vs_abstract"]
    assert [f.ref for f in direction] == [65]
    (finding,) = direction
    assert finding.message == (
        "the sentence has NF-κB going up; the cited reference's abstract has it going down"
    )
    assert any("activating the NF-κB p65" in e for e in finding.evidence)
    assert any("downregulated" in e or "NF-κB p65 pathway was" in e for e in finding.evidence)
    conn.close()


@pytest.mark.parametrize("name", ["spinal-review.md", "spinal-review.tex", "spinal-review-numbered.txt"])
def test_the_planted_errors_in_every_format(workspace: Path, cli: Invoke, name: str) -> None:
    result = cli("check", "--manuscript", str(MANUSCRIPTS / name), "-f", "json")
    assert result.exit_code == 1  # an unknown citation is an error
    found = findings(result)
    sources = by_check(found, "sentence_source_vs_title")
    assert sources[16]["message"] == "sentence source ADSC does not fit the cited reference, which names PMSC"
    mirnas = by_check(found, "sentence_mirna_vs_title")
    assert 51 in mirnas and "arm 3p vs 5p" in " ".join(mirnas[51]["evidence"])
    # two sources, two references, each title naming one: not an error
    two = [f for f in found if "Placental and umbilical" in f.get("location", "")]
    assert not two
    unknown = [f for f in found if f["check"] == "unknown_citation"]
    expected = "cites 97" if name.endswith(".txt") else "cites @chen2023menstrual"
    assert [f["message"].split(",")[0] for f in unknown] == [expected]


def test_uncited_references_and_numbering_order(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "short.txt"
    path.write_text(
        "Results\nBMSC exosomes reduced inflammation [1]. They also helped [3].\n"
        "Later, ADSC exosomes protected neurons [2, 4].\n",
        "utf-8",
    )
    found = findings(cli("check", "--manuscript", str(path), "-f", "json"))
    order = [f for f in found if f["check"] == "citation_order"]
    assert [(f["ref"], f["message"].split(":")[0]) for f in order] == [
        (3, "reference 3 is cited before reference 2")
    ]
    uncited = {f["ref"] for f in found if f["check"] == "uncited_reference"}
    assert uncited == set(range(5, 97))


def test_author_year_manuscripts_resolve_by_first_author_and_year(
    tmp_path: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "owl"
    assert cli("init", str(root), "--vocab", "blank").exit_code == 0
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    imported = cli("refs", "import", str(MANUSCRIPTS / "eneuro-thiele2018-owl-anesthesia.refs.txt"))
    assert imported.exit_code == 0, imported.output
    found = findings(
        cli("check", "--manuscript", str(MANUSCRIPTS / "eneuro-thiele2018-owl-anesthesia.txt"), "-f", "json")
    )
    unknown = [f for f in found if f["check"] == "unknown_citation"]
    ambiguous = [f for f in found if f["check"] == "ambiguous_citation"]
    uncited = [f for f in found if f["check"] == "uncited_reference"]
    assert len(unknown) <= 2, unknown
    assert all("Köppl 2007" in f["message"] for f in ambiguous)  # two papers share it
    assert len(uncited) <= 3, uncited


def test_a_bad_manuscript_is_one_line(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("", "utf-8")
    result = cli("check", "--manuscript", str(path))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {path}: no paragraphs of text found"
