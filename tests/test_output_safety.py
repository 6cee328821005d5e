"""`-o FILE` never harms the record or special files; CSV is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exocli.render import neutralise_cell, restore_cell
from helpers import Invoke, error_lines

STUDY_16 = "refs/studies/soleimani2024intrathecal.toml"  # reference 16, claim 1
STUDY_1 = "refs/studies/badhiwala2019global.toml"  # reference 1

# --- 1: the workspace's own record ------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "own"),
    [
        (("export", "bib", "--all"), STUDY_16),
        (("export", "ris", "--all"), "refs/order.txt"),
        (("table",), "exocli.toml"),
        (("export", "csl-json", "--all"), STUDY_1),
        (("export", "bib", "--all"), "db/vocab/sources.toml"),
        (("export", "bib", "--all"), "db/exocli.sqlite"),
    ],
)
def test_output_over_the_record_is_refused(
    workspace: Path, cli: Invoke, args: tuple[str, ...], own: str
) -> None:
    assert cli("query", "--ref", "16").exit_code == 0
    target = workspace / own
    before = target.read_bytes()
    result = cli(*args, "-o", str(target))
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert f"that is the workspace's own {own}" in line
    assert target.read_bytes() == before


def test_links_to_the_record_are_refused(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    claims = workspace / STUDY_16
    before = claims.read_bytes()
    symlink = tmp_path / "innocent.bib"
    symlink.symlink_to(claims)
    hardlink = tmp_path / "hard.bib"
    os.link(claims, hardlink)
    relative = Path(os.path.relpath(claims, Path.cwd()))
    for path in (symlink, hardlink, relative):
        result = cli("export", "bib", "--all", "-o", str(path))
        assert result.exit_code == 1, path
        assert f"that is the workspace's own {STUDY_16}" in error_lines(result)[0]
    assert claims.read_bytes() == before


def test_the_lock_crossref_records_and_a_linked_folder_are_refused(
    workspace: Path, cli: Invoke, tmp_path: Path
) -> None:
    assert cli("query", "--ref", "16").exit_code == 0  # builds the database
    crossref = workspace / "refs" / "crossref"
    crossref.mkdir()
    record = crossref / "16.json"
    record.write_text("{}\n", encoding="utf-8")
    lock = workspace / "db" / ".write.lock"
    lock.touch()
    linked_db = tmp_path / "elsewhere"
    linked_db.symlink_to(workspace / "db", target_is_directory=True)
    linked_refs = tmp_path / "refs-elsewhere"
    linked_refs.symlink_to(workspace / "refs", target_is_directory=True)
    for path, why in (
        (record, "refs/crossref/16.json"),
        (crossref / "new.json", "refs/crossref/ holds the workspace's Crossref records"),
        (workspace / "refs" / "studies" / "new.toml", "refs/studies/ holds the workspace's studies"),
        (lock, "db/.write.lock"),
        (linked_refs / "order.txt", "refs/order.txt"),
        (linked_refs / "studies" / "soleimani2024intrathecal.toml", STUDY_16),
        (linked_db / "exocli.sqlite-wal", "db/exocli.sqlite-wal"),
    ):
        result = cli("export", "bib", "--all", "-o", str(path))
        assert result.exit_code == 1, path
        [line] = error_lines(result)
        assert line.startswith(f"Error: -o {path}: ") and why in line, line
    assert record.read_text(encoding="utf-8") == "{}\n"
    assert not (crossref / "new.json").exists()
    assert not (workspace / "refs" / "studies" / "new.toml").exists()


def test_the_installed_command_refuses_the_record(workspace: Path, tmp_path: Path) -> None:
    """The real entry point, as a user runs it: the claims survive `export bib -o refs/studies/KEY.toml`."""
    exocli = Path(sys.executable).parent / "exocli"
    claims = workspace / STUDY_16
    before = claims.read_bytes()
    result = subprocess.run(
        [str(exocli), "export", "bib", "--all", "-o", STUDY_16],
        capture_output=True,
        text=True,
        cwd=workspace,
        env=dict(os.environ, EXOCLI_HOME=str(workspace)),
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"Error: -o {STUDY_16}: that is the workspace's own {STUDY_16}; write elsewhere"
    ]
    assert claims.read_bytes() == before


# --- 2: special files, links, read-only files, `-` ------------------------------------------


def test_a_symlink_keeps_its_link_and_its_target_is_replaced(
    workspace: Path, cli: Invoke, tmp_path: Path
) -> None:
    target = tmp_path / "real.bib"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.bib"
    link.symlink_to(target)
    assert cli("export", "bib", "--refs", "16", "-o", str(link)).exit_code == 0
    assert link.is_symlink() and link.resolve() == target
    assert target.read_text(encoding="utf-8").startswith("@article{")


def test_a_fifo_is_written_through(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = cli("export", "bib", "--refs", "16", "-o", str(fifo))
    reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # still the FIFO, not a file renamed over it
    assert received and received[0].startswith(b"@article{")


def test_dev_full_and_dev_stdout(workspace: Path, tmp_path: Path) -> None:
    if not Path("/dev/full").is_char_device():
        pytest.skip("/dev/full is not the full device on this machine")
    env = dict(os.environ, EXOCLI_HOME=str(workspace))
    exocli = str(Path(sys.executable).parent / "exocli")
    full = subprocess.run(
        [exocli, "export", "bib", "--refs", "16", "-o", "/dev/full"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert full.returncode == 1
    assert "Error: disk full: cannot write /dev/full" in full.stderr and "Traceback" not in full.stderr
    out = subprocess.run(
        [exocli, "export", "bib", "--refs", "16", "-o", "/dev/stdout"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("@article{")
    assert Path("/dev/full").exists() and not Path("/dev/full").is_file()


def test_dash_is_stdout(workspace: Path, cli: Invoke) -> None:
    result = cli("export", "bib", "--refs", "16", "-o", "-")
    assert result.exit_code == 0
    assert result.stdout.startswith("@article{")
    assert not Path("-").exists()


def test_a_read_only_file_is_refused(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "kept.bib"
    path.write_text("mine\n", encoding="utf-8")
    path.chmod(0o444)
    result = cli("export", "bib", "--refs", "16", "-o", str(path))
    assert result.exit_code == 1
    assert error_lines(result) == [f"Error: -o {path}: the file is read-only; nothing was written"]
    assert path.read_text(encoding="utf-8") == "mine\n"


# --- 14: spreadsheet formulas -------------------------------------------------------------------

FORMULAS = ["=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1", "-2"]


def test_csv_and_tsv_cells_never_start_a_formula(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    notes = {}
    for claim_id, formula in enumerate(FORMULAS, start=1):
        assert cli("claims", "edit", str(claim_id), "--note", formula).exit_code == 0
        notes[claim_id] = formula
    for fmt, delimiter in (("csv", ","), ("tsv", "\t")):
        out = cli("query", "--format", fmt).stdout
        rows = list(csv.DictReader(io.StringIO(out), delimiter=delimiter))
        for row in rows:
            for cell in row.values():
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        by_id = {int(row["id"]): row["note"] for row in rows}
        assert by_id[1] == "'" + FORMULAS[0]
    table = cli("table", "--format", "csv").stdout
    for row in csv.reader(io.StringIO(table)):
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
    # import reads the quoted cells back to what they were
    path = tmp_path / "claims.csv"
    path.write_text(cli("query", "--format", "csv").stdout, encoding="utf-8")
    result = cli("import", str(path))
    assert result.exit_code == 0, result.output
    assert "0 added, 0 updated" in result.stderr
    import tomllib

    claims = {
        c["id"]: c
        for study in sorted((workspace / "refs" / "studies").glob("*.toml"))
        for c in tomllib.loads(study.read_text("utf-8")).get("claim", [])
    }
    assert {i: claims[i]["note"] for i in notes} == notes


@given(st.text())
def test_neutralise_and_restore_are_exact(text: str) -> None:
    safe = neutralise_cell(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert restore_cell(safe) == text


# --- 22: an empty column list --------------------------------------------------------------------


@pytest.mark.parametrize("columns", [",", " , ,", ""])
def test_an_empty_column_list_is_a_usage_error(workspace: Path, cli: Invoke, columns: str) -> None:
    result = cli("query", "--source", "MSC", "--format", "csv", "--columns", columns)
    if columns == "":
        assert result.exit_code == 0  # no --columns value: the default columns
        return
    assert result.exit_code == 2
    assert "--columns: no column named" in result.stderr
    assert result.stdout == ""
