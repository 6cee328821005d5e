"""Hostile input and hostile moments: nothing a user does loses or corrupts the record.

Each test here stands for one defect found by trying exocli as a hostile user would
(killed writers, full and read-only disks, hand edits, huge numbers, odd bytes).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import PROJECT, Invoke, copy_workspace, error_lines, stdout_json

BIG = str(2**63)
ADD_STUDY = (
    "add-study",
    "--title",
    "A new study of exosomes after injury",
    "--author",
    "Newauthor, Alice",
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


REF_16 = "soleimani2024intrathecal"  # reference 16: its study file holds claim 1
CLAIM_ID_RANGE = range(10_000_000, 100_000_000)  # where new claims' ids are drawn from


def order_keys(root: Path) -> list[str | None]:
    """refs/order.txt: the n-th key is reference n (None: a number kept free)."""
    lines = (root / "refs" / "order.txt").read_text(encoding="utf-8").splitlines()
    keys = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    return [None if key == "-" else key for key in keys]


def study_path(root: Path, key: str) -> Path:
    return root / "refs" / "studies" / f"{key}.toml"


def studies(root: Path) -> dict[str, dict[str, Any]]:
    """{key: study file} for every refs/studies/KEY.toml, read with tomllib alone."""
    return {
        path.stem: tomllib.loads(path.read_text(encoding="utf-8"))
        for path in sorted((root / "refs" / "studies").glob("*.toml"))
    }


def record_texts(root: Path) -> dict[str, bytes]:
    """The record's bytes: the list order and every study file."""
    paths = [root / "refs" / "order.txt", *sorted((root / "refs" / "studies").glob("*.toml"))]
    return {str(path.relative_to(root)): path.read_bytes() for path in paths}


def claim_ids(root: Path) -> set[int]:
    return {claim["id"] for study in studies(root).values() for claim in study.get("claim", [])}


def temporaries(root: Path) -> list[Path]:
    return [p for folder in ("db", "refs", "refs/studies") for p in (root / folder).glob(".*.tmp")]


def run(root: Path, *args: str, prelude: str = "", **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """exocli in a real process; `prelude` is Python run first (to arrange a crash)."""
    code = prelude + "\nfrom exocli.cli import main\nmain()\n"
    env = dict(os.environ, EXOCLI_HOME=str(root), EXOCLI_USER="tester")
    env.update(kwargs.pop("env", {}))
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=120,
        check=False,
        **kwargs,
    )


def consistent(cli: Invoke, root: Path) -> None:
    """Text and database agree, and every claim's study is in the list (at the number it is given)."""
    listed = cli("query", "--format", "json", "--sort", "id")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert {c["id"] for c in rows} == claim_ids(root)
    keys = order_keys(root)
    record = studies(root)
    assert {key for key in keys if key is not None} == set(record)
    numbers = {key: n for n, key in enumerate(keys, 1) if key is not None}
    cited = {claim["id"]: numbers[key] for key, study in record.items() for claim in study.get("claim", [])}
    for key, study in record.items():
        assert all("ref" not in claim for claim in study.get("claim", [])), key
    assert {c["id"]: c["ref"] for c in rows} == cited


# --- 3: two rows for one id --------------------------------------------------------------------


def test_import_refuses_two_rows_for_one_id(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    exported = cli("query", "--ref", "16", "--format", "csv").stdout.splitlines()
    header, row = exported[0], exported[1]
    path = tmp_path / "twice.csv"
    path.write_text(f"{header}\n{row}\n{row.replace('PMSC', 'BMSC')}\n", encoding="utf-8")
    before = record_texts(workspace)
    result = cli("import", str(path))
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert "row 3: id 1 is also given by row 2" in line and str(path) in line
    assert record_texts(workspace) == before


# --- 4: a write is all-or-nothing across its files -------------------------------------------

# Dies (like SIGKILL: no clean-up runs) right after a study file is renamed into place
# (before refs/order.txt, which names the new study, is).
DIE_AFTER_STUDY_RENAME = textwrap.dedent(
    """
    import os
    _replace = os.replace
    def replace(source, target):
        _replace(source, target)
        if os.path.basename(os.path.dirname(str(target))) == "studies":
            os._exit(137)
    os.replace = replace
    """
)
# Dies just before the journal (the commit point) is put in place.
DIE_BEFORE_JOURNAL = textwrap.dedent(
    """
    import os
    _replace = os.replace
    def replace(source, target):
        if str(target).endswith(".write.journal"):
            os._exit(137)
        _replace(source, target)
    os.replace = replace
    """
)


def test_killed_between_renames_is_completed_by_the_next_command(workspace: Path, cli: Invoke) -> None:
    assert cli("query", "--ref", "1").exit_code == 0
    keys_before, ids_before = order_keys(workspace), claim_ids(workspace)
    killed = run(workspace, *ADD_STUDY, prelude=DIE_AFTER_STUDY_RENAME)
    assert killed.returncode == 137
    # the new study file (with its claim) is in place, but the list does not name it yet
    [key] = set(studies(workspace)) - {k for k in keys_before if k is not None}
    assert study_path(workspace, key).exists() and order_keys(workspace) == keys_before
    assert (workspace / "db" / ".write.journal").exists()
    rebuilt = run(workspace, "rebuild")  # the command that failed for good before
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert not (workspace / "db" / ".write.journal").exists()
    assert order_keys(workspace) == [*keys_before, key]  # reference 97
    study = studies(workspace)[key]
    assert study["text"].startswith("Newauthor A. A new study of exosomes after injury.")
    consistent(cli, workspace)
    [claim] = study["claim"]
    assert claim["id"] in CLAIM_ID_RANGE and claim_ids(workspace) == ids_before | {claim["id"]}
    assert stdout_json(cli("query", "--ref", "97", "-f", "json"))[0]["id"] == claim["id"]
    assert not temporaries(workspace)


def test_killed_before_the_commit_point_changes_nothing(workspace: Path, cli: Invoke) -> None:
    assert cli("query", "--ref", "1").exit_code == 0
    before = record_texts(workspace)
    killed = run(workspace, *ADD_STUDY, prelude=DIE_BEFORE_JOURNAL)
    assert killed.returncode == 137
    assert record_texts(workspace) == before
    consistent(cli, workspace)
    # the next write clears what the killed one staged, and lands
    assert cli(*ADD_STUDY).exit_code == 0
    assert not temporaries(workspace)
    consistent(cli, workspace)
    assert len(claim_ids(workspace)) == 56


def test_a_rebuild_waits_for_the_writer_holding_the_lock(workspace: Path, cli: Invoke) -> None:
    assert cli("query", "--ref", "1").exit_code == 0
    lock = os.open(workspace / "db" / ".write.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        # a writer is half-way: the text has changed, the database not yet
        path = study_path(workspace, REF_16)
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        env = dict(os.environ, EXOCLI_HOME=str(workspace))
        reader = subprocess.Popen(
            [sys.executable, "-m", "exocli", "query", "--ref", "16", "-f", "json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(1.5)
        assert reader.poll() is None  # it waits rather than read text being written
    finally:
        os.close(lock)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err.decode()
    assert json.loads(out)[0]["ref"] == 16


def test_parallel_readers_and_writers_all_succeed(workspace: Path, cli: Invoke) -> None:
    assert cli("query", "--ref", "1").exit_code == 0
    env = dict(os.environ, EXOCLI_HOME=str(workspace), EXOCLI_USER="parallel")
    processes = []
    for i in range(4):
        args = [*ADD_STUDY]
        args[2] = f"Parallel study {i} of exosomes"
        processes.append(
            subprocess.Popen([sys.executable, "-m", "exocli", *args], env=env, stderr=subprocess.PIPE)
        )
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "exocli", "query", "--source", "BMSC", "-f", "json"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        )
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    consistent(cli, workspace)
    assert len(claim_ids(workspace)) == 59


# --- 6, 18: a full disk ---------------------------------------------------------------------


@pytest.fixture
def mount_point(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of our own (root can mount one; elsewhere the test skips)."""
    point = tmp_path / "mnt"
    point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(point)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def fill(folder: Path, leave: int) -> None:
    """Take all but `leave` bytes of the file system holding `folder`."""
    with (folder / "filler").open("wb") as handle:
        free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
        handle.write(b"\0" * max(free - leave, 0))
        handle.flush()
        os.fsync(handle.fileno())
    while True:  # the last blocks
        try:
            with (folder / "filler").open("ab") as handle:
                handle.write(b"\0" * 512)
        except OSError:
            break
        stats = os.statvfs(folder)
        if stats.f_bavail * stats.f_frsize <= leave:
            break


@pytest.mark.parametrize(
    "args",
    [
        ("claims", "edit", "2", "--note", "x" * 100_000),
        (*ADD_STUDY[:-1], "--note", "y" * 100_000, "--yes"),
    ],
    ids=["claims edit", "add-study"],
)
def test_full_disk_changes_nothing_and_says_so(
    mount_point: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    root = copy_workspace(mount_point / "ws")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    assert cli("query", "--ref", "1").exit_code == 0
    before = record_texts(root)
    fill(mount_point, 48 * 1024)
    result = run(root, *args)
    assert result.returncode == 1, result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "disk full" in line and "nothing was changed" in line
    assert "Traceback" not in result.stderr and "rollback" not in result.stderr
    assert record_texts(root) == before
    (mount_point / "filler").unlink()
    consistent(cli, root)
    assert len(claim_ids(root)) == 55


# --- 7, 10: numbers past 99999 and past SQLite's integers ------------------------------------


def test_reference_numbers_past_99999_keep_their_own_entries(empty_workspace: Path, cli: Invoke) -> None:
    listing = empty_workspace / "big.txt"
    listing.write_text(
        "99999. Lee A. First paper. J Test. 2020;1:1-2. doi:10.1000/a1\n"
        "100000. Kim B. Second paper. J Test. 2021;2:3-4. doi:10.1000/b2\n"
        "100001. Park C. Third paper. J Test. 2022;3:5-6. doi:10.1000/c3\n",
        encoding="utf-8",
    )
    assert cli("refs", "import", str(listing)).exit_code == 0
    refs = stdout_json(cli("refs", "list", "-f", "json"))
    assert [(r["number"], r["doi"]) for r in refs] == [
        (99999, "10.1000/a1"),
        (100000, "10.1000/b2"),
        (100001, "10.1000/c3"),
    ]
    added = cli(*ADD_STUDY)
    assert added.exit_code == 0, added.output
    assert cli("rebuild").exit_code == 0
    assert stdout_json(cli("query", "--ref", "100002", "-f", "json"))[0]["ref"] == 100002


@pytest.mark.parametrize(
    "args",
    [
        ("query", "--source", "MSC", "--limit", BIG),
        ("query", "--ref", BIG),
        ("query", "--ref", "9" * 30),
        ("refs", "show", BIG),
        ("claims", "edit", BIG, "--note", "x"),
        ("claims", "remove", BIG, "--yes"),
        ("export", "bib", "--refs", BIG),
    ],
)
def test_huge_integers_never_raise(workspace: Path, cli: Invoke, args: tuple[str, ...]) -> None:
    result = run(workspace, *args)
    assert "Traceback" not in result.stderr and "OverflowError" not in result.stderr
    assert result.returncode in (0, 1, 2), result.stderr


def test_huge_ids_in_the_claims_file_and_in_imports(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    exported = cli("query", "--ref", "16", "--format", "csv").stdout.splitlines()
    path = tmp_path / "big.csv"
    path.write_text(f"{exported[0]}\n{BIG}{exported[1][1:]}\n", encoding="utf-8")
    result = run(workspace, "import", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "must be a positive whole number (at most 9223372036854775807)" in result.stderr
    claims = study_path(workspace, REF_16)
    text = claims.read_text(encoding="utf-8")
    assert "\nid = 1\n" in text
    claims.write_text(text.replace("\nid = 1\n", f"\nid = {BIG}\n", 1), encoding="utf-8")
    result = run(workspace, "query", "--ref", "16")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"refs/studies/{REF_16}.toml:" in result.stderr


# --- 8: vocabularies ---------------------------------------------------------------------------


def test_a_repeated_vocabulary_code_is_refused(workspace: Path, cli: Invoke) -> None:
    path = workspace / "db" / "vocab" / "sources.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + '\n[[term]]\ncode = "MSC"\nlabel = "Another MSC"\n', encoding="utf-8")
    line = len(text.splitlines()) + 2
    result = cli("query", "MSC")
    assert result.exit_code == 1
    assert error_lines(result) == [
        f"Error: {path}:{line}: code 'MSC' repeats (first at line {_first_line(text, 'MSC')})"
    ]


def _first_line(text: str, code: str) -> int:
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines, 1) if line.strip() == f'code = "{code}"')
    return max(n for n in range(1, at) if lines[n - 1].strip() == "[[term]]")


def test_a_parent_cycle_is_refused(workspace: Path, cli: Invoke) -> None:
    path = workspace / "db" / "vocab" / "sources.toml"
    text = path.read_text(encoding="utf-8")
    text += '\n[[term]]\ncode = "LOOPA"\nlabel = "Loop A"\nparent = "LOOPB"\n'
    text += '\n[[term]]\ncode = "LOOPB"\nlabel = "Loop B"\nparent = "LOOPA"\n'
    path.write_text(text, encoding="utf-8")
    result = cli("query", "MSC")
    assert result.exit_code == 1
    [line] = error_lines(result)
    assert line.startswith(f"Error: {path}:") and "parents form a cycle: LOOPA -> LOOPB -> LOOPA" in line


# --- 9: control characters ----------------------------------------------------------------------


def test_control_characters_never_reach_the_record(empty_workspace: Path, cli: Invoke) -> None:
    listing = empty_workspace / "nul.txt"
    listing.write_bytes(b"1. Lee A. A pa\x00per\x0c title. J Test. 2020;1:1-2. doi:10.1000/a1\n")
    result = cli("refs", "import", str(listing))
    assert result.exit_code == 0
    assert f"{listing}:1: control characters replaced by spaces" in result.stderr
    [study] = studies(empty_workspace).values()
    assert "pa per title" in study["text"]
    args = list(ADD_STUDY)
    args[2] = "A bell\x07 in the title"
    added = cli(*args)
    assert added.exit_code == 0
    assert "control characters in the study's details were replaced by spaces" in added.stderr
    for stored in record_texts(empty_workspace).values():  # neither as bytes nor as escapes
        text = stored.decode("utf-8")
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text) and "\\u00" not in text
    for study in studies(empty_workspace).values():
        values = [v for v in study.values() if isinstance(v, str)]
        values += list(study.get("authors", []))
        values += [v for c in study.get("claim", []) for v in c.values() if isinstance(v, str)]
        assert not any(ord(ch) < 32 or ord(ch) == 127 for value in values for ch in value)
    exported = cli("export", "bib", "--all").stdout
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in exported)
    [claim_id] = claim_ids(empty_workspace)
    assert f"Added claim {claim_id} citing new reference 2 " in added.stderr
    before = record_texts(empty_workspace)
    assert cli("claims", "edit", str(claim_id), "--note", "bad\x00note").exit_code == 1
    assert record_texts(empty_workspace) == before


# --- 11: full stdout, closed pipe -----------------------------------------------------------


def test_a_full_stdout_is_one_line_and_a_closed_pipe_is_silent(workspace: Path) -> None:
    if not Path("/dev/full").is_char_device():
        pytest.skip("/dev/full is not the full device on this machine")
    with open("/dev/full", "w") as full:
        result = run(workspace, "query", "--source", "MSC", stdout=full)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "Error: cannot write the output: disk full"
    assert "Traceback" not in result.stderr
    env = dict(os.environ, EXOCLI_HOME=str(workspace))
    shell = subprocess.run(
        f"{sys.executable} -m exocli export bib --all | head -c 10 >/dev/null",
        shell=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert shell.returncode == 0
    assert "Error" not in shell.stderr and "Traceback" not in shell.stderr and "Exception" not in shell.stderr


# --- 12, 21: rebuild and a bad exocli.toml -------------------------------------------------------


def test_rebuild_when_the_database_path_is_a_folder(workspace: Path, cli: Invoke) -> None:
    (workspace / "db" / "exocli.sqlite").mkdir()
    for args in (("rebuild",), ("query", "MSC")):
        result = cli(*args)
        assert result.exit_code == 1
        [line] = error_lines(result)
        assert "is a folder" in line and "exocli.sqlite" in line


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('[workspace]\nreferences = "refs/"\n', "references = 'refs/' is a folder"),
        ("[workspace]\nreferences = 12\n", "references must be the reference list's path as text, not 12"),
        ("", "no [workspace] table"),
        ('[workspace]\nname = "x"\n', "[workspace] has no references"),
        ('[workspace]\nreferences = "../../etc/passwd"\n', "points outside the workspace"),
    ],
    ids=["folder", "number", "empty", "missing", "outside"],
)
def test_a_bad_references_setting_is_an_error(
    workspace: Path, cli: Invoke, config: str, expected: str
) -> None:
    (workspace / "exocli.toml").write_text(config, encoding="utf-8")
    for args in (("rebuild",), ("query", "MSC"), ("check",)):
        result = cli(*args)
        assert result.exit_code == 1, (args, result.output)
        [line] = error_lines(result)
        assert expected in line and "exocli.toml" in line


# --- 13: deep JSON ---------------------------------------------------------------------------------


def test_deeply_nested_json_is_a_clear_error(workspace: Path, cli: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = run(workspace, "import", str(path))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "nested too deeply" in result.stderr


# --- 17: a read-only workspace ----------------------------------------------------------------------


def test_a_read_only_workspace_answers_reads_and_refuses_writes(
    mount_point: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = copy_workspace(mount_point / "ws")
    monkeypatch.setenv("EXOCLI_HOME", str(root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert cli("query", "--ref", "1").exit_code == 0
    subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
    # a text change made before the mount went read-only: the database must follow it
    for args in (
        ("query", "anti-inflammatory miRNAs from UCMSC", "-f", "json"),
        ("check",),
        ("export", "bib", "--all"),
    ):
        result = cli(*args)
        assert result.exit_code in (0, 1) and not error_lines(result), (args, result.output)
    flagship = stdout_json(cli("query", "anti-inflammatory miRNAs from UCMSC", "-f", "json"))
    assert [c["ref"] for c in flagship] == [44, 48]
    for args in (("claims", "edit", "1", "--note", "x"), (*ADD_STUDY,), ("rebuild",)):
        result = cli(*args)
        if args == ("rebuild",):
            assert result.exit_code == 0  # the cached copy is rebuilt
            continue
        assert result.exit_code == 1
        [line] = error_lines(result)
        assert "read-only" in line and "nothing was changed" in line


# --- 20: a byte-order mark, a wrapped line starting with a figure -----------------------------


def test_bom_and_wrapped_figures_in_a_reference_list(empty_workspace: Path, cli: Invoke) -> None:
    listing = empty_workspace / "bom.txt"
    listing.write_text(
        "\ufeff1. Lee A, Kim B. Exosomes in\n"
        "2 rat models of injury. J Test. 2020;1:1-2. doi:10.1000/a1\n"
        "2. Park C. Another paper. J Test. 2021;2:3-4. doi:10.1000/b2\n",
        encoding="utf-8",
    )
    result = cli("refs", "import", str(listing))
    assert result.exit_code == 0, result.output
    refs = stdout_json(cli("refs", "list", "-f", "json"))
    assert [r["number"] for r in refs] == [1, 2]
    assert refs[0]["title"] == "Exosomes in 2 rat models of injury"
    assert refs[1]["doi"] == "10.1000/b2"


# --- 26: a fresh clone without ../shared -------------------------------------------------------------


def test_the_suite_needs_nothing_beside_the_clone(tmp_path: Path) -> None:
    """The review's text is shipped (manuscript/): with no shared/ beside the clone, the
    tests that read it run, none is skipped."""
    clone = tmp_path / "clone"  # no shared/ beside it
    for name in ("tests", "refs", "db", "src", "manuscript"):
        shutil.copytree(
            PROJECT / name,
            clone / name,
            ignore=shutil.ignore_patterns("*.sqlite*", "__pycache__", ".write.*", "crossref"),
        )
    for name in ("exocli.toml", "pyproject.toml"):
        shutil.copyfile(PROJECT / name, clone / name)
    env = dict(os.environ, PYTHONPATH=str(clone / "src"))
    env.pop("EXOCLI_HOME", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_evidence.py",
            "-k",
            "review or shared",
        ],
        cwd=clone,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "passed" in done.stdout and "skipped" not in done.stdout


def test_sqlite_file_is_left_alone_by_a_failed_write(workspace: Path, cli: Invoke) -> None:
    """A refused write leaves the database byte for byte (no half transaction)."""
    assert cli("query", "--ref", "1").exit_code == 0
    conn = sqlite3.connect(workspace / "db" / "exocli.sqlite")
    before = conn.execute("SELECT count(*), sum(length(note)) FROM claims").fetchone()
    conn.close()
    assert cli("claims", "edit", "1", "--source", "no-such-source").exit_code != 0
    conn = sqlite3.connect(workspace / "db" / "exocli.sqlite")
    assert conn.execute("SELECT count(*), sum(length(note)) FROM claims").fetchone() == before
    conn.close()


def test_control_characters_in_a_crossref_record_never_reach_an_export(workspace: Path, cli: Invoke) -> None:
    from exocli.crossref import work_path
    from exocli.workspace import open_workspace

    ref = stdout_json(cli("refs", "show", "16", "-f", "json"))
    message = {
        "DOI": ref["doi"],
        "type": "journal-article",
        "title": [ref["title"].replace(" ", " \x07", 1) + "\x00"],
        "author": [{"family": a["family"] + "\x1b", "given": a["given"]} for a in ref["authors"]],
        "container-title": [ref["journal"]],
        "issued": {"date-parts": [[ref["year"]]]},
    }
    path = work_path(open_workspace(workspace), ref["doi"])
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"doi": ref["doi"], "status": "ok", "fetched_at": "2026-12-01T00:00:00Z", "message": message}
    path.write_text(json.dumps(record), encoding="utf-8")
    assert stdout_json(cli("refs", "show", "16", "-f", "json"))["check"] == "ok"
    for kind in ("bib", "csl-json", "ris"):
        exported = cli("export", kind, "--refs", "16")
        assert exported.exit_code == 0, exported.output
        assert "1 from Crossref records" in exported.stderr
        assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in exported.stdout), kind
