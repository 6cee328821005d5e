"""`exocli extract` and the drafts it writes: accuracy, the record, re-runs, review."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from helpers import PROJECT, REVIEW, Invoke, Terminal

sys.path.insert(0, str(PROJECT / "bench"))
import drafts as draft_bench

MANUSCRIPTS = PROJECT / "tests" / "data" / "manuscripts"
EXOCLI = [sys.executable, "-m", "exocli"]


def study_claims(root: Path) -> dict[int, dict[str, Any]]:
    found = {}
    for path in (root / "refs" / "studies").glob("*.toml"):
        for claim in tomllib.loads(path.read_text("utf-8")).get("claim", []):
            found[claim["id"]] = {**claim, "study": path.stem}
    return found


def drafts_of(root: Path) -> dict[int, dict[str, Any]]:
    return {i: c for i, c in study_claims(root).items() if c.get("status") == "draft"}


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped workspace with its curated claims set aside (references kept)."""
    root = draft_bench.workspace_without_claims(tmp_path / "bare")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    return root


def test_drafts_recover_the_curated_claims() -> None:
    """The figures in the README and BENCHMARKS.md: at least 80% of the curated claims
    recovered, at least 70% of the drafts matching one."""
    figures = draft_bench.accuracy(str(Path(sys.executable).parent / "exocli"))
    print(figures)
    assert figures["curated"] == 55
    assert figures["recall"] >= 0.80, figures
    assert figures["precision"] >= 0.70, figures


def test_extract_writes_drafts_that_point_to_their_sentence(bare: Path, cli: Invoke) -> None:
    result = cli("extract", str(bare / "manuscript" / "review.txt"), "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and "92 citing sentences" in result.stderr
    written = drafts_of(bare)
    assert set(written) == {row["id"] for row in rows}
    sentences = [s for line in REVIEW.read_text("utf-8").splitlines() for s in re.split(r"(?<=\.) ", line)]
    long_ones = [s for s in sentences if len(s) > 60]
    for claim in written.values():
        assert claim["manuscript"] == "manuscript/review.txt"
        assert re.fullmatch(r"[0-9a-f]{16}", claim["sentence_hash"])
        assert claim["paragraph"] >= 1 and claim["sentence"] >= 1
        assert claim["assignment"] in ("only reference", "by position", "by title", "shared, uncertain")
        # the record never holds the sentence: no field carries a sentence of the review
        for value in claim.values():
            if isinstance(value, str) and len(value) > 60:
                assert value not in long_ones
    # Wang et al. [44]: miR-146a-5p from hUCMSC, its effect taken from the sentence before
    wang = [c for c in written.values() if c["study"] == "wang2023umbilical"]
    assert any(c["source"] == "UCMSC" and c["cargo"] == ["miR-146a-5p"] for c in wang)
    assert any("effects" in c.get("from_context", []) for c in wang)


def test_drafts_stay_out_of_the_evidence_until_accepted(bare: Path, cli: Invoke) -> None:
    stats_before = cli("stats", "-f", "json").stdout
    assert cli("extract", str(bare / "manuscript" / "review.txt")).exit_code == 0
    assert cli("stats", "-f", "json").stdout == stats_before
    assert cli("query", "--source", "UCMSC").stderr.strip() == "No claims match."
    shown = cli("query", "--source", "UCMSC", "--drafts", "-f", "json")
    assert shown.exit_code == 0
    claims = json.loads(shown.stdout)
    assert claims and {c["status"] for c in claims} == {"draft"}
    assert all(c["location"].startswith("manuscript/review.txt") for c in claims)
    csv_head = cli("query", "--source", "UCMSC", "--drafts", "-f", "csv").stdout.splitlines()[0]
    assert csv_head.endswith("status,location,assignment,flag")
    assert cli("export", "--source", "UCMSC", "-f", "json").stdout.strip() in ("", "[]")
    # accepted drafts are evidence; rejected ones are kept, out of every output
    first, second = sorted(c["id"] for c in claims)[:2]
    accepted = cli("claims", "accept", str(first))
    assert accepted.exit_code == 0 and f"Accepted 1 draft: {first}" in accepted.stderr
    rejected = cli("claims", "reject", str(second))
    assert rejected.exit_code == 0, rejected.output
    listed = json.loads(cli("query", "--source", "UCMSC", "-f", "json").stdout)
    assert [c["id"] for c in listed] == [first] and "status" not in listed[0]  # plain evidence
    record = study_claims(bare)
    assert "status" not in record[first] and record[second]["status"] == "rejected"
    again = cli("claims", "accept", str(second))
    assert again.exit_code == 1
    assert (
        again.stderr.strip() == f"Error: claim {second} is not a draft (it is rejected); nothing was changed"
    )
    assert cli("claims", "list", "--status", "rejected", "-f", "json").stdout.count('"id"') == 1


def test_several_references_and_mirnas_in_one_sentence(bare: Path, cli: Invoke) -> None:
    """'miR-216a-5p or miR-145-5p carried by BMSC-derived exosomes ... [45,46,47]': each
    miRNA goes to the reference whose title names it; ref 47's title names neither."""
    rows = json.loads(
        cli("extract", str(bare / "manuscript" / "review.txt"), "--dry-run", "-f", "json").stdout
    )
    shared = {r["ref"]: r for r in rows if r["ref"] in (45, 46, 47) and r["location"].endswith("sentence 4")}
    assert (shared[45]["cargo"], shared[45]["assignment"]) == (["miR-216a-5p"], "by title")
    assert (shared[46]["cargo"], shared[46]["assignment"]) == (["miR-145-5p"], "by title")
    assert (sorted(shared[47]["cargo"]), shared[47]["assignment"]) == (
        ["miR-145-5p", "miR-216a-5p"],
        "shared, uncertain",
    )
    assert {r["source"] for r in shared.values()} == {"BMSC"}
    # one citation per finding in a list: "neural regeneration [16], anti-inflammation [17], ..."
    intro = {r["ref"]: r for r in rows if r["ref"] in (16, 17, 18, 19) and r["section"] == "Introduction"}
    assert {n: intro[n]["effects"] for n in intro} == {
        16: ["neuroregeneration"],
        17: ["anti-inflammatory"],
        18: ["immunomodulation"],
        19: ["bscb-repair"],
    }
    assert {r["assignment"] for r in intro.values()} == {"by position"}


def test_a_second_run_changes_nothing_and_an_edit_is_reported(bare: Path, cli: Invoke) -> None:
    manuscript = bare / "manuscript" / "review.txt"
    assert cli("extract", str(manuscript)).exit_code == 0
    before = {p.name: p.read_bytes() for p in (bare / "refs" / "studies").glob("*.toml")}
    rerun = cli("extract", str(manuscript))
    assert rerun.exit_code == 0 and "0 new drafts were written" in rerun.stderr
    assert {p.name: p.read_bytes() for p in (bare / "refs" / "studies").glob("*.toml")} == before
    drafts = drafts_of(bare)
    text = manuscript.read_text("utf-8")
    # one citing sentence reworded, one paragraph (the DPSC section's first) taken out
    text = text.replace(
        "This mechanism is corroborated by Wang et al.", "This mechanism was confirmed by Wang et al."
    )
    dpsc = next(
        line for line in text.splitlines() if line.startswith("Dental-derived stem cell transplantation")
    )
    text = text.replace(dpsc + "\n", "")
    manuscript.write_text(text, "utf-8")
    edited = cli("extract", str(manuscript))
    assert edited.exit_code == 0, edited.output
    flagged = {i: c["flag"] for i, c in study_claims(bare).items() if c.get("flag")}
    wang = [i for i, c in drafts.items() if c["study"] == "wang2023umbilical"]
    assert all(flagged.get(i) == "sentence changed" for i in wang)
    removed = [i for i, f in flagged.items() if f == "sentence removed"]
    assert removed and all(drafts[i]["study"] in ("li2021dental", "liu2022dental") for i in removed)
    assert f"Flagged claim {wang[0]} (ref 44): sentence changed" in edited.stderr
    assert set(drafts) <= set(study_claims(bare))  # nothing deleted


def test_dry_run_writes_nothing(bare: Path, cli: Invoke) -> None:
    before = {p: p.read_bytes() for p in bare.rglob("*.toml")}
    result = cli("extract", str(bare / "manuscript" / "review.txt"), "--dry-run")
    assert result.exit_code == 0 and "would be written" in result.stderr
    assert "id " in result.stdout and "location" in result.stdout
    assert {p: p.read_bytes() for p in bare.rglob("*.toml")} == before


def test_rejected_drafts_are_not_proposed_again(bare: Path, cli: Invoke) -> None:
    manuscript = bare / "manuscript" / "review.txt"
    assert cli("extract", str(manuscript)).exit_code == 0
    assert cli("claims", "reject", "--all").exit_code == 0
    assert not drafts_of(bare)
    again = cli("extract", str(manuscript))
    assert "0 new drafts" in again.stderr and not drafts_of(bare)


@pytest.mark.parametrize("name", ["spinal-review.md", "spinal-review.tex", "spinal-review-numbered.txt"])
def test_every_format_gives_drafts(bare: Path, cli: Invoke, name: str) -> None:
    result = cli("extract", str(MANUSCRIPTS / name), "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    by_key = {}
    for row in rows:
        by_key.setdefault(row["key"], []).append(row)
    assert {r["source"] for r in by_key["liang2022exosomes"]} == {"ADSC"}
    assert {r["source"] for r in by_key["zhang2020exosomes"]} == {"PMSC"}
    assert any(r["cargo"] == ["miR-9-3p"] for r in by_key["he2022exosomal"])  # as the sentence says
    if name != "spinal-review-numbered.txt":
        assert "cites @chen2023menstrual, which is not in the reference list" in result.stderr
    else:
        assert "cites 97, which is not in the reference list" in result.stderr


def test_a_docx_manuscript(bare: Path, cli: Invoke, tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Anti-inflammatory effects", level=1)
    paragraph = document.add_paragraph(
        "Umbilical cord MSC exosomes reduced the inflammatory response through NF-κB/MAPK signalling"
    )
    paragraph.add_run("49").font.superscript = True
    paragraph.add_run(".")
    path = tmp_path / "draft.docx"
    document.save(str(path))
    result = cli("extract", str(path), "-f", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["ref"], row["source"], row["effects"]) == (49, "UCMSC", ["anti-inflammatory"])
    assert row["section"] == "Anti-inflammatory effects" and row["pathways"] == ["NF-κB/MAPK"]


def test_a_review_in_another_field(tmp_path: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real article on MSC vesicles in influenza lung injury in pigs, with its own list."""
    root = tmp_path / "lung"
    assert cli("init", str(root)).exit_code == 0
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    imported = cli("refs", "import", str(MANUSCRIPTS / "bmc-khatri2018-influenza-msc-ev.refs.txt"))
    assert imported.exit_code == 0, imported.output
    result = cli("extract", str(MANUSCRIPTS / "bmc-khatri2018-influenza-msc-ev.txt"), "-f", "json")
    assert result.exit_code == 0, result.output
    assert "55 citing sentences" in result.stderr
    rows = json.loads(result.stdout)
    assert rows and {r["source"] for r in rows} & {"MSC", "ADSC", "BMSC"}
    assert "not in the reference list" not in result.stderr


def test_bad_input_is_one_line_and_writes_nothing(bare: Path, cli: Invoke, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in bare.rglob("*.toml")}
    missing = cli("extract", str(tmp_path / "nope.md"))
    assert (
        missing.exit_code == 1
        and missing.stderr.startswith("Error: ")
        and "no such manuscript file" in missing.stderr
    )
    binary = tmp_path / "paper.txt"
    binary.write_bytes(b"\x00\x00\x00PK")
    refused = cli("extract", str(binary))
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1
    wrong = cli("extract", str(REVIEW), "--input-format", "rtf")
    assert wrong.exit_code != 0
    assert {p: p.read_bytes() for p in bare.rglob("*.toml")} == before


def test_review_needs_a_terminal(bare: Path, cli: Invoke) -> None:
    assert cli("extract", str(bare / "manuscript" / "review.txt")).exit_code == 0
    result = cli("claims", "review")
    assert result.exit_code == 2
    assert "claims accept|reject ID" in result.stderr


def test_review_on_a_terminal(bare: Path) -> None:
    env = dict(os.environ, EXOCLI_HOME=str(bare))
    subprocess.run(
        [*EXOCLI, "extract", str(MANUSCRIPTS / "spinal-review.md")], env=env, check=True, capture_output=True
    )
    drafts = sorted(drafts_of(bare), key=lambda i: (drafts_of(bare)[i]["study"], i))
    terminal = Terminal([*EXOCLI, "claims", "review"], {"EXOCLI_HOME": str(bare)})
    expect = terminal.expect
    expect(b"[a]ccept, [e]dit, [r]eject, [s]kip, [q]uit")
    assert b"  > " in terminal.transcript  # the sentence, read from the manuscript file
    terminal.send(b"a\n")
    expect(b"Draft 2 of")
    expect(b"[q]uit")
    terminal.send(b"r\n")
    expect(b"Draft 3 of")
    expect(b"[q]uit")
    terminal.send(b"e\n")
    expect(b"  route")
    terminal.send(b"\n" * 8)  # keep the first fields
    expect(b"  route [")
    terminal.send(b"intrathecal\n")
    expect(b"Draft 4 of")
    expect(b"[q]uit")
    terminal.send(b"q\n")
    expect(b"2 accepted, 1 rejected, 0 skipped")
    assert terminal.exit_code() == 0
    assert len(drafts) >= 4
    claims = study_claims(bare)
    statuses = [claims[i].get("status", "curated") for i in drafts]
    assert statuses.count("curated") == 2 and statuses.count("rejected") == 1
    assert any(claims[i].get("route") == "intrathecal" for i in drafts)


def test_extract_is_fast_enough_to_feel_instant(bare: Path) -> None:
    """Not a timing test (the bench measures it): the command imports nothing heavy."""
    code = (
        "import sys; from exocli.cli import drafts; "
        "print(','.join(m for m in ('habanero','bibtexparser','rispy','yaml') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_drafts_survive_edit_table_export_and_a_csv_round_trip(
    bare: Path, cli: Invoke, tmp_path: Path
) -> None:
    assert cli("extract", str(bare / "manuscript" / "review.txt")).exit_code == 0
    (wang,) = [i for i, c in drafts_of(bare).items() if c["study"] == "wang2023umbilical"]
    edited = cli("claims", "edit", str(wang), "--route", "intravenous")
    assert edited.exit_code == 0, edited.output
    after = study_claims(bare)[wang]
    assert after["status"] == "draft" and after["route"] == "intravenous" and after["sentence"] == 3
    table = cli("table", "--ref", "44", "--drafts", "-f", "markdown")
    assert "miR-146a-5p" in table.stdout
    assert "miR-146a-5p" not in cli("table", "--ref", "44", "-f", "markdown").stdout
    assert "@article{wang2023umbilical," in cli("export", "bib", "--ref", "44", "--drafts").stdout
    exported = tmp_path / "drafts.csv"
    exported.write_text(cli("query", "--drafts", "--ref", "44", "-f", "csv").stdout, "utf-8")
    before = {p.name: p.read_bytes() for p in (bare / "refs" / "studies").glob("*.toml")}
    imported = cli("import", str(exported))
    assert imported.exit_code == 0, imported.output
    assert "0 added, 0 updated, 1 unchanged" in imported.stderr
    assert {p.name: p.read_bytes() for p in (bare / "refs" / "studies").glob("*.toml")} == before
