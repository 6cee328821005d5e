"""Curation: add-study, claims edit/remove, import, sync; text and database never disagree silently."""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from exocli.refparse import ParsedReference
from helpers import Terminal, shipped_claims, shipped_order
from test_crossref import BY_NUMBER, FakeCrossref, work_message

NEW_DOI = "10.5555/exo.2025.0001"
SHIPPED_IDS = {claim["id"] for claim in shipped_claims()}  # 1..55
NEW_ID_RANGE = range(10_000_000, 100_000_000)  # where new claim ids are drawn from
ADDED = re.compile(r"Added claim (\d+) citing (new )?reference (\d+) \(([^)]+)\)")


def new_study() -> ParsedReference:
    template = BY_NUMBER[44]
    return ParsedReference(
        raw="",
        title="Engineered umbilical cord MSC exosomes carrying miR-124-3p repair the injured spinal cord",
        journal="J Neurotrauma",
        year=2025,
        volume="42",
        issue="3",
        pages="101-15",
        doi=NEW_DOI,
        authors=template.authors[:3],
    )


def read_text(root: Path) -> dict[str, str]:
    """The whole refs/ tree (order.txt, study files, Crossref answers, stray temporaries) by path."""
    refs = root / "refs"
    return {
        path.relative_to(refs).as_posix(): path.read_text("utf-8")
        for path in sorted(refs.rglob("*"))
        if path.is_file()
    }


def vocab_texts(folder: Path) -> dict[str, str]:
    """The workspace's own vocabulary files (db/vocab/*.toml) by name."""
    return {path.name: path.read_text("utf-8") for path in sorted(folder.glob("*.toml"))}


def changed_files(before: dict[str, str], after: dict[str, str]) -> set[str]:
    """Paths under refs/ that were added, removed or changed."""
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def order_keys(root: Path) -> list[str]:
    """refs/order.txt: the study keys in list order ('-' keeps a number free)."""
    return [
        line.strip()
        for line in (root / "refs" / "order.txt").read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


def study_file(root: Path, key: str) -> dict[str, Any]:
    with (root / "refs" / "studies" / f"{key}.toml").open("rb") as handle:
        return tomllib.load(handle)


def reference_list(root: Path) -> str:
    """The reference list as the review prints it: 'n. text' lines from order.txt and the studies."""
    return "".join(
        f"{n}. {study_file(root, key)['text']}\n" for n, key in enumerate(order_keys(root), 1) if key != "-"
    )


def claims_by_id(root: Path) -> dict[int, dict[str, Any]]:
    """Every claim of every listed study, with `ref` = its study's number and `study` = its key."""
    claims: dict[int, dict[str, Any]] = {}
    for n, key in enumerate(order_keys(root), 1):
        if key == "-":
            continue
        for claim in study_file(root, key).get("claim", []):
            assert claim["id"] not in claims, f"claim {claim['id']} is in two study files"
            claims[claim["id"]] = {**claim, "ref": n, "study": key}
    return claims


def study_of_claim(root: Path, claim_id: int) -> str:
    """The path (under refs/) of the study file that holds the claim."""
    return f"studies/{claims_by_id(root)[claim_id]['study']}.toml"


def added_claim(stderr: str) -> tuple[int, bool, int, str]:
    """(claim id, new reference?, reference number, study key) from 'Added claim N citing ...'."""
    found = ADDED.search(stderr)
    assert found is not None, stderr
    return int(found[1]), found[2] is not None, int(found[3]), found[4]


def added_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """Lines added and removed, as `git diff` would show them (no junk heuristics)."""
    old, new = before.splitlines(), after.splitlines()
    plus: list[str] = []
    minus: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            minus += old[i1:i2]
            plus += new[j1:j2]
    return plus, minus


def claim_block(text: str, claim_id: int) -> list[str]:
    """The lines of one [[claim]] block of a study file, with the blank line before it."""
    lines = text.splitlines()
    start = lines.index(f"id = {claim_id}") - 1
    assert lines[start] == "[[claim]]" and lines[start - 1] == ""
    end = start + 1
    while end < len(lines) and lines[end] != "":
        end += 1
    return lines[start - 1 : end]


@pytest.fixture
def crossref(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> FakeCrossref:
    server = FakeCrossref(httpserver)
    server.set_work(NEW_DOI, work_message(new_study()))
    monkeypatch.setenv("EXOCLI_CROSSREF_URL", server.url)
    monkeypatch.setenv("EXOCLI_MAILTO", "curator@example.org")
    monkeypatch.setenv("EXOCLI_CROSSREF_BACKOFF", "0.01")
    monkeypatch.setenv("EXOCLI_USER", "Test Curator")
    return server


def test_add_study_from_crossref_adds_reference_and_claim_and_nothing_else(
    workspace: Path, cli: Any, crossref: FakeCrossref
) -> None:
    before = read_text(workspace)
    result = cli(
        "add-study",
        "--doi",
        f"https://doi.org/{NEW_DOI}",
        "--source",
        "hUCMSC",
        "--cargo",
        "miR-124-3p",
        "--cargo-type",
        "miRNA",
        "--effect",
        "anti-inflammation",
        "--effect",
        "functional recovery",
        "--pathway",
        "TLR4/NF-kB",
        "--species",
        "rat",
        "--model",
        "in vivo",
        "--note",
        "Test finding.",
        "--yes",
    )
    assert result.exit_code == 0, result.output
    claim_id, new_reference, number, key = added_claim(result.stderr)
    assert f"Added claim {claim_id} citing new reference 97 ({key})" in result.stderr
    assert new_reference and number == 97
    assert claim_id in NEW_ID_RANGE and claim_id not in SHIPPED_IDS
    after = read_text(workspace)
    study_path = f"studies/{key}.toml"
    # the new study file, one line of order.txt and the stored Crossref answer: nothing else
    changed = changed_files(before, after)
    assert study_path not in before and "order.txt" in changed
    others = changed - {study_path, "order.txt"}
    assert len(others) == 1 and all(p.startswith("crossref/") and p not in before for p in others)
    plus, minus = added_lines(before["order.txt"], after["order.txt"])
    assert minus == [] and plus == [key]
    assert order_keys(workspace) == [*shipped_order(), key]
    study = study_file(workspace, key)
    assert NEW_DOI in study["text"] and "J Neurotrauma. 2025;42(3):101-15." in study["text"]
    assert f"97. {study['text']}\n" in reference_list(workspace)
    assert study["doi"] == NEW_DOI and [c["id"] for c in study["claim"]] == [claim_id]
    lines = after[study_path].splitlines()
    block = lines[lines.index("[[claim]]") :]
    assert block[:2] == ["[[claim]]", f"id = {claim_id}"] and not any(x.startswith("ref ") for x in block)
    assert 'source = "UCMSC"' in block and 'effects = ["anti-inflammatory", "functional-recovery"]' in block
    assert 'added_by = "Test Curator"' in block
    shown = json.loads(cli("refs", "show", "97", "--format", "json").stdout)
    assert shown["doi"] == NEW_DOI and shown["year"] == 2025 and shown["journal"] == "J Neurotrauma"
    assert [c["id"] for c in shown["claims"]] == [claim_id]
    assert shown["claims"][0]["cargo"] == ["miR-124-3p"]
    # the Crossref record is kept, so the reference counts as resolved
    assert shown["check"] == "ok"
    found = json.loads(cli("query", "--cargo", "miR-124", "--format", "json").stdout)
    assert [c["id"] for c in found] == [claim_id]


def test_add_study_links_existing_reference_and_refuses_duplicates(workspace: Path, cli: Any) -> None:
    first = read_text(workspace)
    ok = cli(
        "add-study",
        "--doi",
        "10.1016/J.BBREP.2023.101497",
        "--source",
        "UCMSC",
        "--effect",
        "angiogenesis",
        "--offline",
        "--yes",
    )
    assert ok.exit_code == 0, ok.output
    assert "linked to existing reference 44" in ok.stderr
    claim_id, new_reference, number, key = added_claim(ok.stderr)
    assert not new_reference and number == 44 and key == shipped_order()[43]
    assert claim_id in NEW_ID_RANGE and claim_id not in SHIPPED_IDS
    # no new reference: only the linked study's file changed
    assert changed_files(first, read_text(workspace)) == {f"studies/{key}.toml"}
    assert order_keys(workspace) == shipped_order()
    assert claims_by_id(workspace)[claim_id]["ref"] == 44
    before = read_text(workspace)
    again = cli(
        "add-study",
        "--doi",
        "10.1016/j.bbrep.2023.101497",
        "--source",
        "UCMSC",
        "--effect",
        "angiogenesis",
        "--offline",
        "--yes",
    )
    assert again.exit_code == 1
    assert f"would repeat claim {claim_id}" in again.stderr
    assert read_text(workspace) == before


def test_add_study_offline_with_metadata_and_title_duplicate(workspace: Path, cli: Any) -> None:
    args = [
        "add-study",
        "--title",
        "A new study of NSC exosomes",
        "--author",
        "Doe, Jane A",
        "--author",
        "Roe, R",
        "--year",
        "2026",
        "--journal",
        "Exp Neurol",
        "--source",
        "NSC",
        "--effect",
        "autophagy",
        "--yes",
    ]
    first = cli(*args)
    assert first.exit_code == 0, first.output
    _, new_reference, number, key = added_claim(first.stderr)
    assert new_reference and number == 97
    refs = reference_list(workspace)
    assert "97. Doe JA, Roe R. A new study of NSC exosomes. Exp Neurol. 2026." in refs
    assert order_keys(workspace) == [*shipped_order(), key]
    before = read_text(workspace)
    second = cli(*[a if a != "autophagy" else "anti-apoptosis" for a in args])
    assert second.exit_code == 0, second.output
    assert "linked to existing reference 97" in second.stderr
    assert added_claim(second.stderr)[1:] == (False, 97, key)
    assert "\n98. " not in reference_list(workspace) and len(order_keys(workspace)) == 97
    assert changed_files(before, read_text(workspace)) == {f"studies/{key}.toml"}


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["--doi", "not-a-doi", "--source", "NSC", "--effect", "autophagy"], "--doi: not a DOI", 2),
        (
            [
                "--doi",
                "10.1016/j.bbrep.2023.101497",
                "--source",
                "UCMCS",
                "--effect",
                "autophagy",
                "--offline",
            ],
            "did you mean UCMSC",
            1,
        ),
        (
            [
                "--doi",
                "10.1016/j.bbrep.2023.101497",
                "--source",
                "NSC",
                "--effect",
                "angiogensis",
                "--offline",
            ],
            "did you mean angiogenesis",
            1,
        ),
        (
            ["--doi", "10.1016/j.bbrep.2023.101497", "--effect", "autophagy", "--offline"],
            "missing --source",
            2,
        ),
        (
            [
                "--doi",
                "10.1016/j.bbrep.2023.101497",
                "--source",
                "NSC",
                "--cargo",
                "miR-21",
                "--effect",
                "autophagy",
                "--offline",
            ],
            "missing --cargo-type",
            2,
        ),
        (
            ["--doi", "10.5555/unknown", "--source", "NSC", "--effect", "autophagy", "--offline"],
            "offline, give --title",
            2,
        ),
        (["--title", "T", "--source", "NSC", "--effect", "autophagy"], "go together", 2),
        (
            [
                "--doi",
                "10.1016/j.bbrep.2023.101497",
                "--source",
                "NSC",
                "--effect",
                "autophagy",
                "--model",
                "in silico",
                "--offline",
            ],
            "model:",
            1,
        ),
    ],
)
def test_add_study_bad_input_changes_nothing(
    workspace: Path, cli: Any, args: list[str], message: str, code: int
) -> None:
    assert cli("refs", "list", "--format", "csv").exit_code == 0
    before = read_text(workspace)
    result = cli("add-study", *args, "--yes")
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert result.stderr.count("Error:") == 1
    assert read_text(workspace) == before


def test_add_study_doi_unknown_to_crossref_needs_metadata(
    workspace: Path, cli: Any, crossref: FakeCrossref
) -> None:
    crossref.set_work("10.5555/missing", None)
    before = read_text(workspace)
    result = cli("add-study", "--doi", "10.5555/missing", "--source", "NSC", "--effect", "autophagy", "--yes")
    assert result.exit_code == 1
    assert "is not in Crossref; give --title" in result.stderr
    assert read_text(workspace) == before


def test_claims_edit_changes_only_those_lines(workspace: Path, cli: Any) -> None:
    before = read_text(workspace)
    path = study_of_claim(workspace, 12)
    result = cli(
        "claims",
        "edit",
        "12",
        "--note",
        "Reworded note.",
        "--effect",
        "anti-inflammatory",
        "--effect",
        "M2 polarization",
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "Edited claim 12:",
        "  effects: anti-inflammatory -> anti-inflammatory; immunomodulation",
        "  note: Wang et al.; engineered hUCMSC exosomes gave TLR4/NF-κB suppression comparable to ref 43."
        " -> Reworded note.",
    ]
    after = read_text(workspace)
    assert changed_files(before, after) == {path}
    plus, minus = added_lines(before[path], after[path])
    assert sorted(plus) == sorted(
        ['effects = ["anti-inflammatory", "immunomodulation"]', 'note = "Reworded note."']
    )
    assert len(minus) == 2
    data = json.loads(cli("query", "--ref", "44", "--format", "json").stdout)
    assert data[0]["note"] == "Reworded note." and data[0]["effects"] == [
        "anti-inflammatory",
        "immunomodulation",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["999", "--note", "x"], "no claim 999"),
        (["12", "--source", "XYZ"], "claim 12: source: unknown source"),
        (["12", "--ref", "999"], "no reference '999' in this workspace"),
        (["12"], "nothing to change"),
        (["12", "--clear", "effects"], "--clear takes"),
        (["12", "--source", "UCMSC"], "claim 12 already has those values; nothing was changed"),
    ],
)
def test_claims_edit_bad_input(workspace: Path, cli: Any, args: list[str], message: str) -> None:
    before = read_text(workspace)
    result = cli("claims", "edit", *args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert read_text(workspace) == before


def test_claims_remove(workspace: Path, cli: Any) -> None:
    before = read_text(workspace)
    path = study_of_claim(workspace, 3)
    refused = cli("claims", "remove", "3")
    assert refused.exit_code == 2 and "needs confirmation" in refused.stderr
    assert read_text(workspace) == before
    result = cli("claims", "remove", "3", "--yes")
    assert result.exit_code == 0, result.output
    assert 3 not in claims_by_id(workspace)
    after = read_text(workspace)
    assert changed_files(before, after) == {path}
    plus, minus = added_lines(before[path], after[path])
    # exactly the claim's block goes: blank line, [[claim]], its 18 fields (a study file has no `ref`)
    assert plus == [] and "id = 3" in minus and len(minus) == 20
    assert sorted(minus) == sorted(claim_block(before[path], 3))
    assert cli("claims", "remove", "3", "--yes").exit_code == 1
    assert read_text(workspace) == after


def test_export_edit_import_round_trip(workspace: Path, cli: Any, tmp_path: Path) -> None:
    exported = cli("query", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 55
    for row in rows:
        if row["id"] == "20":
            row["note"] = "Fixed in the spreadsheet."
            row["effects"] = "anti-inflammatory; antioxidant"
    rows.append({**rows[0], "id": "", "ref": "60", "note": "A new row.", "source": "ADSC"})
    path = tmp_path / "edited.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = read_text(workspace)
    home_of_20 = study_of_claim(workspace, 20)
    study_60 = f"studies/{shipped_order()[59]}.toml"
    result = cli("import", str(path))
    assert result.exit_code == 0, result.output
    assert "1 added, 1 updated, 54 unchanged" in result.stderr
    claims = claims_by_id(workspace)
    assert claims[20]["note"] == "Fixed in the spreadsheet." and claims[20]["effects"] == [
        "anti-inflammatory",
        "antioxidant",
    ]
    new_ids = set(claims) - SHIPPED_IDS
    assert len(claims) == 56 and len(new_ids) == 1
    (new_id,) = new_ids
    assert new_id in NEW_ID_RANGE
    assert claims[new_id]["ref"] == 60 and claims[new_id]["source"] == "ADSC"
    assert claims[new_id]["note"] == "A new row."
    after = read_text(workspace)
    assert changed_files(before, after) == {home_of_20, study_60}
    minus = [line for p in (home_of_20, study_60) for line in added_lines(before[p], after[p])[1]]
    assert len(minus) == 2  # note and effects of claim 20
    # JSON round trip: unchanged
    again = tmp_path / "all.json"
    again.write_text(cli("query", "--format", "json").stdout, encoding="utf-8")
    snapshot = read_text(workspace)
    result = cli("import", str(again))
    assert result.exit_code == 0 and "0 added, 0 updated, 56 unchanged" in result.stderr
    assert read_text(workspace) == snapshot


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "the file is empty"),
        (b"\xff\xfe\x00bad", "bad.csv", "not UTF-8"),
        (
            b"id,ref,source,cargo_type,effects,colour\n1,16,PMSC,none,neuroregeneration,red\n",
            "extra.csv",
            "unknown column 'colour'",
        ),
        (b"id,ref,source\n1,16,PMSC\n", "missing.csv", "missing column 'cargo_type'"),
        (b"[1, 2]", "list.json", "expected a JSON list of claim objects"),
        (b"{not json", "broken.json", "not valid JSON"),
        (b"id,ref\n", "notsv.txt", "import takes .csv, .tsv or .json"),
    ],
)
def test_bad_import_files_change_nothing(
    workspace: Path, cli: Any, tmp_path: Path, content: bytes, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = read_text(workspace)
    result = cli("import", str(path))
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert read_text(workspace) == before


def test_bad_rows_are_all_listed_and_nothing_is_written(workspace: Path, cli: Any, tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("query", "--format", "csv").stdout)))
    rows[0]["note"] = "would change"
    rows[1]["ref"] = "999"
    rows[2]["source"] = "QQQ"
    rows[3]["effects"] = ""
    path = tmp_path / "bad.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = read_text(workspace)
    result = cli("import", str(path))
    assert result.exit_code == 1
    assert "3 bad rows, nothing imported" in result.stderr
    assert (
        "row 3: ref: reference 999" in result.stderr
        and "row 4: source: unknown source 'QQQ'" in result.stderr
    )
    assert "row 5: effects" in result.stderr
    assert read_text(workspace) == before


def test_database_changed_outside_exocli_is_never_overwritten_silently(workspace: Path, cli: Any) -> None:
    assert cli("query", "--ref", "16").exit_code == 0
    with sqlite3.connect(workspace / "db" / "exocli.sqlite") as conn:
        conn.execute("UPDATE claims SET note = 'edited in a SQL shell' WHERE id = 1")
    reading = cli("query", "--ref", "16", "--format", "json")
    assert reading.exit_code == 0 and "made outside exocli" in reading.stderr
    before = read_text(workspace)
    writing = cli("claims", "edit", "2", "--note", "x")
    assert writing.exit_code == 1 and "exocli sync --keep text" in writing.stderr
    assert read_text(workspace) == before
    # the text changes too (a git pull): still no silent winner
    pulled = [p for p, text in before.items() if p.startswith("studies/") and "Second finding" in text]
    assert pulled
    for path in pulled:
        (workspace / "refs" / path).write_text(
            before[path].replace("Second finding", "Second  finding"), "utf-8"
        )
    blocked = cli("query", "--ref", "16")
    assert blocked.exit_code == 1 and "choose which side wins" in blocked.stderr
    kept = cli("sync", "--keep", "database")
    assert kept.exit_code == 0, kept.output
    assert claims_by_id(workspace)[1]["note"] == "edited in a SQL shell"
    assert "made outside" not in cli("query", "--ref", "16").stderr


def test_sync_keep_text_discards_database_edits(workspace: Path, cli: Any) -> None:
    assert cli("query").exit_code == 0
    with sqlite3.connect(workspace / "db" / "exocli.sqlite") as conn:
        conn.execute("DELETE FROM claims WHERE id = 5")
    assert cli("sync", "--keep", "text").exit_code == 0
    ids = [c["id"] for c in json.loads(cli("query", "--format", "json", "--sort", "id").stdout)]
    assert 5 in ids and len(ids) == 55
    assert cli("sync", "--keep", "neither").exit_code == 2


def test_text_newer_than_database_is_rebuilt(workspace: Path, cli: Any) -> None:
    assert cli("query", "--ref", "44").exit_code == 0
    study = workspace / "refs" / study_of_claim(workspace, 12)
    text = study.read_text("utf-8")
    assert "comparable to ref 43" in text
    study.write_text(text.replace("comparable to ref 43", "as after a git pull"), "utf-8")
    data = json.loads(cli("query", "--ref", "44", "--format", "json").stdout)
    assert "as after a git pull" in data[0]["note"]


def _exocli(workspace: Path, *args: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, EXOCLI_HOME=str(workspace), EXOCLI_USER="parallel")
    return subprocess.Popen(
        [sys.executable, "-m", "exocli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def test_eight_parallel_add_study_runs_all_land(workspace: Path, cli: Any) -> None:
    assert cli("query", "--ref", "1").exit_code == 0  # build the database first
    processes = [
        _exocli(
            workspace,
            "add-study",
            "--title",
            f"Parallel study number {i}",
            "--author",
            f"Writer{i}, A",
            "--year",
            "2026",
            "--journal",
            "Exp Neurol",
            "--source",
            "BMSC",
            "--effect",
            "angiogenesis",
            "--yes",
        )
        for i in range(8)
    ]
    added = []
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
        added.append(added_claim(err.decode()))
    claims = claims_by_id(workspace)
    new_ids = {claim_id for claim_id, _, _, _ in added}
    assert len(claims) == 63 and set(claims) - SHIPPED_IDS == new_ids and len(new_ids) == 8
    assert all(claim_id in NEW_ID_RANGE for claim_id in new_ids)
    assert all(new for _, new, _, _ in added)
    assert sorted(number for _, _, number, _ in added) == list(range(97, 105))
    keys = order_keys(workspace)
    assert keys[:96] == shipped_order() and "-" not in keys
    assert {keys[number - 1] for _, _, number, _ in added} == {key for _, _, _, key in added}
    for claim_id, _, number, key in added:
        assert claims[claim_id]["ref"] == number and claims[claim_id]["study"] == key
    assert sorted(p.stem for p in (workspace / "refs" / "studies").glob("*.toml")) == sorted(keys)
    refs = reference_list(workspace)
    assert all(f"Parallel study number {i}" in refs for i in range(8))
    numbers = [int(line.split(".")[0]) for line in refs.splitlines()]
    assert numbers == list(range(1, 105))
    data = json.loads(cli("query", "--source", "BMSC", "--effect", "angiogenesis", "--format", "json").stdout)
    assert len([c for c in data if c["added_by"] == "parallel"]) == 8


def test_killed_write_leaves_text_and_database_consistent(workspace: Path, cli: Any, tmp_path: Path) -> None:
    assert cli("query", "--ref", "1").exit_code == 0
    rows = list(csv.DictReader(io.StringIO(cli("query", "--format", "csv").stdout)))
    big = [dict(rows[0], id="", note=f"bulk row {i}", outcome=f"value {i}") for i in range(3000)]
    path = tmp_path / "bulk.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(big)
    for delay in (0.3, 0.6, 0.9, 1.2):
        process = _exocli(workspace, "import", str(path))
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        # whatever the moment of death, the next command sees text and database agree
        listed = cli("query", "--format", "json", "--sort", "id")
        assert listed.exit_code == 0, listed.output
        in_db = {c["id"] for c in json.loads(listed.stdout)}
        assert in_db == set(claims_by_id(workspace))
        if len(in_db) > 55:
            break
    # a temporary file a killed writer left is never read, and the next write removes it
    assert cli("claims", "edit", "1", "--note", "after the kills").exit_code == 0
    assert not list(workspace.rglob(".*.tmp"))


def test_interactive_add_study_prompts_with_vocabularies(workspace: Path, cli: Any) -> None:
    assert cli("query", "--ref", "1").exit_code == 0
    terminal = Terminal(
        [
            sys.executable,
            "-m",
            "exocli",
            "add-study",
            "--title",
            "Prompted study",
            "--author",
            "Asker, Q",
            "--year",
            "2026",
            "--journal",
            "Exp Neurol",
            "--cargo",
            "miR-21",
        ],
        {"EXOCLI_HOME": str(workspace)},
    )
    expect = terminal.expect
    expect(b"source (")
    assert b"UCMSC" in terminal.transcript and b"MenSC" in terminal.transcript
    terminal.send(b"UCMCS\n")
    expect(b"did you mean UCMSC")
    expect(b"Add 'UCMCS' to the sources vocabulary?")
    terminal.send(b"n\n")  # a typo, not a new term: the question comes again
    expect(b"source (", timeout=30)
    terminal.send(b"UCMSC\n")
    expect(b"cargo type (")
    terminal.send(b"miRNA\n")
    expect(b"effects (")
    terminal.send(b"angiogenesis, M2 polarization\n")
    expect(b"injury (")
    terminal.send(b"SCI\n")
    expect(b"species (")
    terminal.send(b"axolotl\n")  # unknown: offered to the vocabulary
    expect(b"Add 'axolotl' to the species vocabulary?")
    terminal.send(b"y\n")
    expect(b"label [axolotl]")
    terminal.send(b"Axolotl (Ambystoma mexicanum)\n")
    expect(b"parent (")
    terminal.send(b"\n")
    expect(b"model (")
    terminal.send(b"\n")  # blank: not stated
    expect(b"Added claim ")
    expect(b")\n")  # the whole line: "Added claim N citing new reference R (KEY)"
    assert terminal.exit_code() == 0
    claim_id, new_reference, number, key = added_claim(terminal.transcript.decode(errors="replace"))
    assert claim_id in NEW_ID_RANGE and new_reference and number == 97
    claims = claims_by_id(workspace)
    assert set(claims) - SHIPPED_IDS == {claim_id}
    claim = claims[claim_id]
    assert claim["study"] == key
    assert claim["source"] == "UCMSC" and claim["cargo_type"] == "miRNA"
    assert claim["effects"] == ["angiogenesis", "immunomodulation"]
    assert (claim["injury"], claim["species"], claim["model"]) == (["SCI"], ["axolotl"], [])
    assert b"Added species term 'axolotl'" in terminal.transcript


def test_a_term_accepted_on_the_terminal_is_written_with_the_claim_or_not_at_all(
    workspace: Path, cli: Any
) -> None:
    assert cli("query", "--ref", "1").exit_code == 0
    vocab_dir = workspace / "db" / "vocab"
    vocabularies = vocab_texts(vocab_dir)
    before = read_text(workspace)
    argv = ["add-study", "--ref", "999", "--cargo-type", "none", "--effect", "neuroprotection"]
    argv += ["--injury", "SCI", "--species", "rat", "--model", "in vivo"]
    terminal = Terminal([sys.executable, "-m", "exocli", *argv], {"EXOCLI_HOME": str(workspace)})
    terminal.expect(b"source (")
    terminal.send(b"synovial MSC\n")
    terminal.expect(b"Add 'synovial MSC' to the sources vocabulary?")
    terminal.send(b"y\n")
    terminal.expect(b"label [synovial MSC]")
    terminal.send(b"Synovial MSC\n")
    terminal.expect(b"parent (")
    terminal.send(b"MSC\n")
    terminal.expect(b"will be added with the claim")
    terminal.expect(b"Your answers, as commands: ")
    terminal.expect(b"\n", timeout=5)
    assert terminal.exit_code() == 1
    transcript = terminal.transcript.decode(errors="replace").replace("\r\n", "\n")
    assert "Error: " in transcript and "999" in transcript.split("Error: ")[1]
    # the reference does not exist, so the claim was not written, and nor was the term
    assert vocab_texts(vocab_dir) == vocabularies and read_text(workspace) == before
    assert "Added sources term" not in transcript
    commands = transcript.split("Your answers, as commands: ")[1].splitlines()[0]
    vocab_add, add_study = [shlex.split(part) for part in commands.split(" && ")]
    expected = ["exocli", "vocab", "add", "sources", "synovial MSC", "--label", "Synovial MSC"]
    assert vocab_add == [*expected, "--parent", "MSC"]
    assert add_study[:4] == ["exocli", "add-study", "--ref", "999"]
    assert "--source" in add_study and add_study[add_study.index("--source") + 1] == "synovial MSC"
    # the printed commands give the answers again (with a reference that exists)
    assert cli(*vocab_add[1:]).exit_code == 0
    result = cli(*add_study[1:3], "1", *add_study[4:], "--yes")
    assert result.exit_code == 0, result.output
    claim_id = int(re.search(r"Added claim (\d+)", result.stderr).group(1))  # type: ignore[union-attr]
    claim = claims_by_id(workspace)[claim_id]
    assert (claim["source"], claim["effects"], claim["ref"]) == ("synovial MSC", ["neuroprotection"], 1)


def test_add_study_with_new_terms_writes_terms_and_claim_together(workspace: Path, cli: Any) -> None:
    from exocli.curation import add_study
    from exocli.db import open_database
    from exocli.errors import DataError
    from exocli.vocab_edits import NewTerm, TermOptions
    from exocli.workspace import open_workspace

    assert cli("query", "--ref", "1").exit_code == 0
    ws = open_workspace(workspace)
    conn = open_database(ws)
    fields = {"source": "synovial MSC", "cargo_type": "none", "effects": ["angiogenesis"]}
    fields |= {"species": ["axolotl"]}
    terms = [
        NewTerm("sources", "synovial MSC", TermOptions(label="Synovial MSC", parent="MSC")),
        NewTerm("species", "axolotl", TermOptions(label="Axolotl")),
    ]
    vocab_dir = workspace / "db" / "vocab"
    vocabularies, before = vocab_texts(vocab_dir), read_text(workspace)
    # the claim is refused (an effect no vocabulary has): neither term is written
    with pytest.raises(DataError, match="no-such-effect"):
        add_study(ws, conn, None, fields | {"effects": ["no-such-effect"]}, None, None, "1", terms)
    assert vocab_texts(vocab_dir) == vocabularies and read_text(workspace) == before
    # a term refused as `vocab add` refuses it: nothing is written either
    clash = [*terms, NewTerm("species", "Axolotl", TermOptions(label="axolotl again"))]
    with pytest.raises(DataError, match="axolotl"):
        add_study(ws, conn, None, fields, None, None, "1", clash)
    assert vocab_texts(vocab_dir) == vocabularies and read_text(workspace) == before
    result = add_study(ws, conn, None, fields, None, None, "1", terms)
    assert [(name, code) for name, code, _ in result.terms] == [
        ("sources", "synovial MSC"),
        ("species", "axolotl"),
    ]
    conn.close()
    sources = tomllib.loads((vocab_dir / "sources.toml").read_text("utf-8"))["term"]
    added = [term for term in sources if term["code"] == "synovial MSC"]
    assert added == [{"code": "synovial MSC", "label": "Synovial MSC", "parent": "MSC", "stem": True}]
    claim = claims_by_id(workspace)[result.claim.id]
    assert (claim["source"], claim["species"]) == ("synovial MSC", ["axolotl"])
    # the database was written with the text: it is not stale, and it knows both terms
    shown = json.loads(cli("query", "--source", "MSC", "--species", "axolotl", "-f", "json").stdout)
    assert [c["id"] for c in shown] == [result.claim.id]
    assert "axolotl" in cli("vocab", "list", "species").stdout


def test_refs_add_by_doi_through_crossref(workspace: Path, cli: Any, crossref: FakeCrossref) -> None:
    before = read_text(workspace)
    result = cli("refs", "add", "--doi", f"doi:{NEW_DOI}", "--at", "3")
    assert result.exit_code == 0, result.output
    found = re.search(r"Added reference 3 \(([^)]+)\); references 3-96 are now 4-97", result.stderr)
    assert found, result.stderr
    key = found.group(1)
    changed = changed_files(before, read_text(workspace))
    assert {f"studies/{key}.toml", "order.txt"} <= changed and len(changed) == 3  # + the Crossref answer
    shown = json.loads(cli("refs", "show", "3", "--format", "json").stdout)
    assert (shown["doi"], shown["year"], shown["journal"], shown["check"]) == (
        NEW_DOI,
        2025,
        "J Neurotrauma",
        "ok",
    )
    assert shown["authors"][0]["family"] == BY_NUMBER[44].authors[0].family
    # claims stay on their papers: claim 12 cited reference 44, now 45
    assert json.loads(cli("claims", "show", "12", "--format", "json").stdout)["ref"] == 45
    again = cli("refs", "add", "--doi", NEW_DOI)
    assert again.exit_code == 1
    assert again.stderr.startswith(f"Error: reference 3 ({key}) is already this study; nothing was added")
