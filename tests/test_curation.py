"""Curation: add-study, claims edit/remove, import, sync; text and database never disagree silently."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import select
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
from test_crossref import BY_NUMBER, FakeCrossref, work_message

NEW_DOI = "10.5555/exo.2025.0001"


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


def read_text(root: Path) -> tuple[str, str]:
    return (root / "db" / "claims.toml").read_text("utf-8"), (root / "refs" / "review.txt").read_text("utf-8")


def claims_by_id(root: Path) -> dict[int, dict[str, Any]]:
    with (root / "db" / "claims.toml").open("rb") as handle:
        return {c["id"]: c for c in tomllib.load(handle)["claim"]}


def added_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """Lines added and removed, as `git diff` would show them (no junk heuristics)."""
    import difflib

    old, new = before.splitlines(), after.splitlines()
    plus: list[str] = []
    minus: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            minus += old[i1:i2]
            plus += new[j1:j2]
    return plus, minus


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
    claims_before, refs_before = read_text(workspace)
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
    assert "Added claim 56 citing new reference 97" in result.stderr
    claims_after, refs_after = read_text(workspace)
    plus, minus = added_lines(refs_before, refs_after)
    assert minus == [] and len(plus) == 1
    assert (
        plus[0].startswith("97. ") and NEW_DOI in plus[0] and "J Neurotrauma. 2025;42(3):101-15." in plus[0]
    )
    plus, minus = added_lines(claims_before, claims_after)
    assert minus == []
    assert plus[:4] == ["", "[[claim]]", "id = 56", "ref = 97"]
    assert 'source = "UCMSC"' in plus and 'effects = ["anti-inflammatory", "functional-recovery"]' in plus
    assert 'added_by = "Test Curator"' in plus
    shown = json.loads(cli("refs", "show", "97", "--format", "json").stdout)
    assert shown["doi"] == NEW_DOI and shown["year"] == 2025 and shown["journal"] == "J Neurotrauma"
    assert [c["id"] for c in shown["claims"]] == [56]
    assert shown["claims"][0]["cargo"] == ["miR-124-3p"]
    # the Crossref record is kept, so the reference counts as resolved
    assert shown["check"] == "ok"
    found = json.loads(cli("query", "--cargo", "miR-124", "--format", "json").stdout)
    assert [c["id"] for c in found] == [56]


def test_add_study_links_existing_reference_and_refuses_duplicates(workspace: Path, cli: Any) -> None:
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
    assert "\n97. " not in read_text(workspace)[1]
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
    assert "would repeat claim 56" in again.stderr
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
    refs = read_text(workspace)[1]
    assert "97. Doe JA, Roe R. A new study of NSC exosomes. Exp Neurol. 2026." in refs
    second = cli(*[a if a != "autophagy" else "anti-apoptosis" for a in args])
    assert second.exit_code == 0, second.output
    assert "linked to existing reference 97" in second.stderr
    assert "\n98. " not in read_text(workspace)[1]


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
    result = cli("add-study", "--doi", "10.5555/missing", "--source", "NSC", "--effect", "autophagy", "--yes")
    assert result.exit_code == 1
    assert "is not in Crossref; give --title" in result.stderr


def test_claims_edit_changes_only_those_lines(workspace: Path, cli: Any) -> None:
    before = read_text(workspace)[0]
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
    plus, minus = added_lines(before, read_text(workspace)[0])
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
        (["12", "--ref", "999"], "reference 999 is not in the reference list"),
        (["12"], "nothing to change"),
        (["12", "--clear", "effects"], "--clear takes"),
    ],
)
def test_claims_edit_bad_input(workspace: Path, cli: Any, args: list[str], message: str) -> None:
    before = read_text(workspace)
    result = cli("claims", "edit", *args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr
    assert read_text(workspace) == before


def test_claims_remove(workspace: Path, cli: Any) -> None:
    before = read_text(workspace)[0]
    refused = cli("claims", "remove", "3")
    assert refused.exit_code == 2 and "needs confirmation" in refused.stderr
    assert read_text(workspace)[0] == before
    result = cli("claims", "remove", "3", "--yes")
    assert result.exit_code == 0, result.output
    assert 3 not in claims_by_id(workspace)
    plus, minus = added_lines(before, read_text(workspace)[0])
    assert plus == [] and "id = 3" in minus and len(minus) == 21
    assert cli("claims", "remove", "3", "--yes").exit_code == 1


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
    before = read_text(workspace)[0]
    result = cli("import", str(path))
    assert result.exit_code == 0, result.output
    assert "1 added, 1 updated, 54 unchanged" in result.stderr
    claims = claims_by_id(workspace)
    assert claims[20]["note"] == "Fixed in the spreadsheet." and claims[20]["effects"] == [
        "anti-inflammatory",
        "antioxidant",
    ]
    assert claims[56]["ref"] == 60 and claims[56]["source"] == "ADSC"
    _, minus = added_lines(before, read_text(workspace)[0])
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
    claims_file = workspace / "db" / "claims.toml"
    claims_file.write_text(
        claims_file.read_text("utf-8").replace("Second finding", "Second  finding"), "utf-8"
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
    claims_file = workspace / "db" / "claims.toml"
    text = claims_file.read_text("utf-8").replace("comparable to ref 43", "as after a git pull")
    claims_file.write_text(text, "utf-8")
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
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    claims = claims_by_id(workspace)
    assert len(claims) == 63 and sorted(claims)[-8:] == list(range(56, 64))
    refs = read_text(workspace)[1]
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
    assert not list((workspace / "db").glob(".*.tmp"))


def test_interactive_add_study_prompts_with_vocabularies(workspace: Path, cli: Any) -> None:
    assert cli("query", "--ref", "1").exit_code == 0
    pid, fd = pty.fork()
    if pid == 0:  # the child runs exocli on the pseudo-terminal
        os.environ["EXOCLI_HOME"] = str(workspace)
        os.execv(
            sys.executable,
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
        )
    transcript = b""

    def expect(text: bytes, timeout: float = 30) -> None:
        nonlocal transcript
        deadline = time.monotonic() + timeout
        while text not in transcript:
            assert time.monotonic() < deadline, transcript.decode(errors="replace")
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    transcript += os.read(fd, 4096)
                except OSError:
                    break

    expect(b"source (")
    assert b"UCMSC" in transcript and b"MenSC" in transcript
    os.write(fd, b"UCMCS\n")
    expect(b"did you mean UCMSC")
    os.write(fd, b"UCMSC\n")
    expect(b"cargo type (")
    os.write(fd, b"miRNA\n")
    expect(b"effects (")
    os.write(fd, b"angiogenesis, M2 polarization\n")
    expect(b"Added claim 56")
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    claim = claims_by_id(workspace)[56]
    assert claim["source"] == "UCMSC" and claim["cargo_type"] == "miRNA"
    assert claim["effects"] == ["angiogenesis", "immunomodulation"]
