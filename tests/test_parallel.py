"""Big imports on every core: the same answer as one process gives, and nothing left behind.

exocli.parallel forks workers for .bib files past PARALLEL_BYTES, printed lists past
PARALLEL_MINIMUM entries and writes of PARALLEL_FILES study files. The inputs here are real
lists (tests/data/reference_lists) repeated with new keys and numbers until they are that big,
read with EXOCLI_WORKERS=2 and with EXOCLI_WORKERS=1 (no worker), and compared.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from exocli import bibfiles, parallel, reflists
from exocli.errors import DataError
from exocli.parallel import parallel_map, spans
from helpers import Invoke

LISTS = Path(__file__).parent / "data" / "reference_lists"
BIB_FILES = ("scanpy-references.bib", "zotero-bbt-biblatex-data-citation.bib")


def big_bib(copies: int) -> str:
    """The real .bib files `copies` times over, each copy's keys made its own."""
    text = "\n".join((LISTS / name).read_text(encoding="utf-8") for name in BIB_FILES)
    return "\n".join(
        re.sub(r"^(\s*@\w+\s*\{\s*)([^,\s]+),", rf"\g<1>\g<2>-{n},", text, flags=re.MULTILINE)
        for n in range(copies)
    )


def big_printed_list(entries: int) -> str:
    """A real numbered list (BMC) repeated and numbered on, to `entries` entries."""
    text = (LISTS / "bmc-stem-cell-res-ther-2018.txt").read_text(encoding="utf-8")
    bodies = [ref.raw for ref in reflists.parse_reference_list(text).references]
    assert len(bodies) > 20
    return "References\n\n" + "\n".join(
        f"{n}. {bodies[(n - 1) % len(bodies)]}" for n in range(1, entries + 1)
    )


SetWorkers = Callable[[int], None]
REAL_CAN_FORK = parallel.can_fork


@pytest.fixture(autouse=True)
def _forking_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads other tests leave running (pytest-httpserver's server lives for the session) would
    keep exocli from forking here: only a thread started by the test itself counts."""
    baseline = threading.active_count()
    monkeypatch.setattr(
        parallel, "can_fork", lambda: hasattr(os, "fork") and threading.active_count() == baseline
    )


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> SetWorkers:
    """workers(N): the processes exocli may use (EXOCLI_WORKERS)."""

    def use(count: int) -> None:
        monkeypatch.setenv("EXOCLI_WORKERS", str(count))

    return use


# --- exocli.parallel ---------------------------------------------------------------------------


def test_parts_run_in_workers_and_come_back_in_order(workers: SetWorkers) -> None:
    workers(3)
    parts = spans(300, 5)
    assert [i for part in parts for i in part] == list(range(300))
    assert [len(part) for part in parts] == [98, 101, 101]  # the part run here a little smaller
    results = parallel_map(lambda part: (os.getpid(), [i * i for i in part]), parts)
    assert [value for _, squares in results for value in squares] == [i * i for i in range(300)]
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid() and len(set(pids)) == 3  # two forked workers


def test_small_jobs_and_one_worker_stay_in_this_process(workers: SetWorkers) -> None:
    workers(2)
    assert spans(999, 1000) == [range(999)]
    assert spans(0, 1000) == [range(0)]
    workers(1)
    assert spans(5000, 1000) == [range(5000)]
    assert parallel_map(lambda part: os.getpid(), [1, 2, 3]) == [os.getpid()] * 3


def test_a_workers_exception_is_raised_here(workers: SetWorkers) -> None:
    workers(2)

    def run(part: int) -> int:
        if part == 2:
            raise DataError(f"part {part} is bad (in {os.getpid()})")
        return part

    with pytest.raises(DataError, match="part 2 is bad") as caught:
        parallel_map(run, [1, 2])
    assert f"(in {os.getpid()})" not in str(caught.value)  # raised in the worker


def test_a_part_whose_worker_dies_is_run_here(workers: SetWorkers) -> None:
    workers(2)
    parent = os.getpid()

    def run(part: int) -> tuple[int, int]:
        if os.getpid() != parent:
            os._exit(3)  # killed, say, by the OOM killer
        return part, os.getpid()

    assert parallel_map(run, [1, 2]) == [(1, parent), (2, parent)]


def test_a_worker_runs_the_parts_sent_to_it_in_order_meanwhile(workers: SetWorkers) -> None:
    workers(2)
    parent = os.getpid()

    def run(part: list[int]) -> tuple[int, int]:
        if part == [13]:
            raise DataError(f"part 13 is bad (in {os.getpid()})")
        return sum(part), os.getpid()

    with parallel.Worker(run) as worker:
        answers = []
        for part in ([1, 2], list(range(100_000)), [5]):  # the second bigger than a pipe holds
            worker.send(part)
            answers.append(worker.receive())
        worker.send([13])
        with pytest.raises(DataError, match="part 13 is bad") as caught:
            worker.receive()
        assert f"(in {parent})" not in str(caught.value)  # raised in the worker
        worker.send([7])
        answers.append(worker.receive())  # it goes on after a part that failed
    assert [total for total, _ in answers] == [3, sum(range(100_000)), 5, 7]
    child = answers[0][1]
    assert child != parent and {pid for _, pid in answers} == {child}
    with pytest.raises(ChildProcessError):
        os.waitpid(child, 0)  # closing waited for it: no zombie


def test_the_parts_of_a_worker_that_dies_are_run_here(workers: SetWorkers) -> None:
    workers(2)
    parent = os.getpid()

    def run(part: int) -> tuple[int, int]:
        if os.getpid() != parent and part == 2:
            os._exit(137)  # killed, say, by the OOM killer
        return part, os.getpid()

    with parallel.Worker(run) as worker:
        worker.send(1)
        first = worker.receive()
        worker.send(2)
        second = worker.receive()
        worker.send(3)
        third = worker.receive()
    assert first[0] == 1 and first[1] != parent
    assert second == (2, parent) and third == (3, parent)  # once it is gone, all are run here


def test_without_a_second_core_or_with_threads_a_worker_runs_here(
    workers: SetWorkers, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()
    for count, forkable in ((1, True), (2, False)):
        workers(count)
        monkeypatch.setattr(parallel, "can_fork", lambda forkable=forkable: forkable)
        with parallel.Worker(lambda part: (part, os.getpid())) as worker:
            worker.send("x")
            assert worker.receive() == ("x", parent)


def test_shares_go_to_whichever_process_asks_each_once(workers: SetWorkers) -> None:
    workers(2)
    shares = parallel.Shares(200)
    parent = os.getpid()

    def run(part: str) -> list[int]:
        taken = []
        for number in shares:
            taken.append(number)
            if os.getpid() == parent and len(taken) == 1:
                import time

                time.sleep(0.2)  # the worker takes most of them meanwhile
        return taken

    here, there = parallel_map(run, ["here", "worker"])
    shares.close()
    assert sorted(here + there) == list(range(200))
    assert len(there) > len(here) > 0
    with pytest.raises(ValueError, match="1 to 255 shares"):
        parallel.Shares(256)


def test_undo_gets_what_workers_made_when_the_job_fails(tmp_path: Path, workers: SetWorkers) -> None:
    workers(2)
    undone: list[str] = []

    def run(part: str) -> str:
        if part == "here":
            raise DataError("the rows failed")
        made = tmp_path / "made-by-worker"
        made.write_text("x", encoding="utf-8")
        return str(made)

    with pytest.raises(DataError, match="the rows failed"):
        parallel_map(run, ["here", "there"], undo=undone.append)
    assert undone == [str(tmp_path / "made-by-worker")]


def test_no_fork_while_other_threads_run(workers: SetWorkers) -> None:
    workers(2)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not REAL_CAN_FORK()
        assert not parallel.can_fork()
        assert parallel_map(lambda part: os.getpid(), [1, 2]) == [os.getpid(), os.getpid()]
    finally:
        stop.set()
        thread.join()
    assert parallel.can_fork() == hasattr(os, "fork")


# --- reading big files --------------------------------------------------------------------------


def entries_as_data(text: str, fmt: str) -> tuple[list[tuple[object, ...]], list[str]]:
    entries, problems = bibfiles.read_entries(text, fmt, "big")
    return [(e.reference, e.key, e.line) for e in entries], problems


def test_a_big_bib_file_reads_the_same_in_parts(workers: SetWorkers) -> None:
    text = big_bib(copies=6)
    assert len(text) > bibfiles.PARALLEL_BYTES
    workers(2)
    parts = bibfiles._bibtex_parts(text)
    assert len(parts) == 2
    assert "".join(chunk for _, chunk in parts) == text
    assert parts[1][1].startswith("@")
    in_parts = entries_as_data(text, "bibtex")
    workers(1)
    assert bibfiles._bibtex_parts(text) == [(0, text)]
    whole = entries_as_data(text, "bibtex")
    assert in_parts == whole
    assert len(whole[0]) == 6 * sum(
        len(re.findall(r"^\s*@\w+\s*\{", (LISTS / name).read_text(encoding="utf-8"), re.MULTILINE))
        for name in BIB_FILES
    )
    # the lines are the file's own, in both parts
    lines = text.splitlines()
    for _, key, line in whole[0][-3:]:
        assert key is not None and key in lines[line - 1]


def test_a_key_repeated_across_parts_is_read_as_the_whole_file_reads_it(workers: SetWorkers) -> None:
    text = big_bib(copies=6)
    first_key = re.search(r"^\s*@\w+\s*\{\s*([^,\s]+),", text, re.MULTILINE)
    assert first_key is not None
    last = list(re.finditer(r"^(\s*@\w+\s*\{\s*)([^,\s]+),", text, re.MULTILINE))[-1]
    repeated = text[: last.start(2)] + first_key.group(1) + text[last.end(2) :]
    workers(2)
    in_parts = entries_as_data(repeated, "bibtex")
    workers(1)
    assert in_parts == entries_as_data(repeated, "bibtex")
    assert "kept unparsed" in in_parts[1][-1] and "Duplicate entry key" in in_parts[1][-1]


def test_a_bib_file_with_string_macros_is_read_whole(workers: SetWorkers) -> None:
    workers(2)
    text = "@string{nat = {Nature}}\n" + big_bib(copies=6)
    assert bibfiles._bibtex_parts(text) == [(0, text)]


def test_a_long_printed_list_parses_the_same_on_every_core(workers: SetWorkers) -> None:
    text = big_printed_list(2 * reflists.PARALLEL_MINIMUM + 7)
    workers(2)
    in_parts = reflists.parse_reference_list(text, "big")
    workers(1)
    whole = reflists.parse_reference_list(text, "big")
    assert in_parts == whole
    assert [ref.number for ref in whole.references] == list(range(1, 2 * reflists.PARALLEL_MINIMUM + 8))


# --- writing thousands of study files ------------------------------------------------------------


def study_files(root: Path) -> dict[str, str]:
    studies = root / "refs" / "studies"
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(studies.iterdir())
        if not path.name.startswith(".")  # a staging folder a dead worker left
    }


def reference_rows(root: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(root / "db" / "exocli.sqlite") as conn:
        refs = conn.execute("SELECT number, citekey, raw, title, doi FROM refs ORDER BY number").fetchall()
        authors = conn.execute(
            "SELECT r.citekey, a.position, a.family, a.given FROM ref_authors a JOIN refs r ON r.id = a.ref_id"
            " ORDER BY r.number, a.position"
        ).fetchall()
        sources = conn.execute(
            "SELECT path, size, sha256 FROM source_files WHERE path LIKE 'refs/%' ORDER BY path"
        ).fetchall()
    return [*refs, *authors, *[(p, size, sha) for p, size, sha in sources]]


def test_an_import_of_thousands_writes_what_one_process_writes(
    cli: Invoke, tmp_path: Path, workers: SetWorkers
) -> None:
    from exocli.store import PARALLEL_FILES

    source = tmp_path / "big.txt"
    source.write_text(big_printed_list(PARALLEL_FILES + 20), encoding="utf-8")
    results = {}
    for count in (2, 1):
        workers(count)
        root = tmp_path / f"ws{count}"
        assert cli("init", str(root)).exit_code == 0
        result = cli("--home", str(root), "refs", "import", str(source))
        assert result.exit_code == 0, result.stderr
        assert f"{PARALLEL_FILES + 20} new" in result.stderr
        results[count] = (study_files(root), (root / "refs" / "order.txt").read_text(encoding="utf-8"))
        assert not [p for p in (root / "refs" / "studies").iterdir() if p.name.startswith(".")]
        results[count] += (reference_rows(root),)
    assert results[2][0] == results[1][0]
    assert results[2][1] == results[1][1]
    assert results[2][2] == results[1][2]
    assert len(results[2][0]) == PARALLEL_FILES + 20


def test_a_write_whose_worker_dies_amid_its_shares_is_finished_here(
    cli: Invoke, tmp_path: Path, workers: SetWorkers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker staging the study files dies after two shares (the OOM killer, say): this
    process stages every share it did not stage itself, and the import is whole."""
    from exocli import store
    from exocli.store import PARALLEL_FILES, SHARE_FILES

    entries = PARALLEL_FILES + 3 * SHARE_FILES
    source = tmp_path / "big.txt"
    source.write_text(big_printed_list(entries), encoding="utf-8")
    workers(1)
    alone = tmp_path / "alone"
    assert cli("init", str(alone)).exit_code == 0
    assert cli("--home", str(alone), "refs", "import", str(source)).exit_code == 0

    parent, staged = os.getpid(), []
    real_stage = store._stage_files

    def dying(*args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            staged.append(1)
            if len(staged) > 2:
                os._exit(137)
        return real_stage(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_stage_files", dying)
    workers(2)
    root = tmp_path / "ws"
    assert cli("init", str(root)).exit_code == 0
    result = cli("--home", str(root), "refs", "import", str(source))
    assert result.exit_code == 0, result.stderr
    assert f"{entries} new" in result.stderr
    assert study_files(root) == study_files(alone)
    assert reference_rows(root) == reference_rows(alone)
    monkeypatch.undo()
    # the dead worker's temporaries are swept by the next write
    assert cli("--home", str(root), "refs", "edit", "1", "--year", "2001").exit_code == 0
    assert staging_left(root) == []


def test_a_failed_write_of_thousands_leaves_no_file(
    cli: Invoke, tmp_path: Path, workers: SetWorkers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exocli import store
    from exocli.store import PARALLEL_FILES

    source = tmp_path / "big.txt"
    source.write_text(big_printed_list(PARALLEL_FILES + 5), encoding="utf-8")
    root = tmp_path / "ws"
    assert cli("init", str(root)).exit_code == 0
    before = (root / "refs" / "order.txt").read_text(encoding="utf-8")

    def failing(*args: object) -> None:
        raise DataError("the rows could not be written")

    monkeypatch.setattr(store, "_apply_change", failing)
    workers(2)
    result = cli("--home", str(root), "refs", "import", str(source))
    assert result.exit_code == 1
    assert "Error: the rows could not be written" in result.stderr
    assert list((root / "refs" / "studies").iterdir()) == []  # no study, no temporary
    assert (root / "refs" / "order.txt").read_text(encoding="utf-8") == before
    assert not (root / "db" / ".write.journal").exists()
    monkeypatch.undo()
    assert cli("--home", str(root), "refs", "list", "-f", "json").stdout.strip() == "[]"


def exocli_process(root: Path, *args: str, prelude: str = "") -> subprocess.CompletedProcess[str]:
    """exocli in a real process (two workers); `prelude` is Python run first (to arrange a crash)."""
    env = dict(os.environ, EXOCLI_HOME=str(root), EXOCLI_WORKERS="2")
    return subprocess.run(
        [sys.executable, "-c", prelude + "\nfrom exocli.cli import main\nmain()\n", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def staging_left(root: Path) -> list[Path]:
    return [p for p in (root / "refs" / "studies").iterdir() if p.name.startswith(".")]


# Killed at the commit point (the journal about to be put in place): nothing has happened.
DIE_AT_JOURNAL = """
import os
_replace = os.replace
def replace(source, target):
    if str(target).endswith(".write.journal"):
        os._exit(137)
    _replace(source, target)
os.replace = replace
"""
# Killed after the 100th study file is in place: the journal completes the write.
DIE_AMID_RENAMES = """
import os
_replace, _done = os.replace, []
def replace(source, target):
    _replace(source, target)
    _done.append(target)
    if len(_done) == 100:
        os._exit(137)
os.replace = replace
"""


def test_a_big_import_killed_before_its_commit_point_leaves_nothing(tmp_path: Path) -> None:
    from exocli.store import PARALLEL_FILES

    source = tmp_path / "big.txt"
    source.write_text(big_printed_list(PARALLEL_FILES + 5), encoding="utf-8")
    root = tmp_path / "ws"
    assert exocli_process(root, "init", str(root)).returncode == 0
    killed = exocli_process(root, "refs", "import", str(source), prelude=DIE_AT_JOURNAL)
    assert killed.returncode == 137, killed.stderr
    assert not list((root / "refs" / "studies").glob("*.toml"))
    assert staging_left(root)  # both processes' staging folders, full
    listed = exocli_process(root, "refs", "list", "-f", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    # the next write sweeps them, and lands
    done = exocli_process(root, "refs", "import", str(source))
    assert done.returncode == 0, done.stderr
    assert not staging_left(root)
    assert len(list((root / "refs" / "studies").glob("*.toml"))) == PARALLEL_FILES + 5


def test_a_big_import_killed_amid_its_renames_is_completed(tmp_path: Path) -> None:
    from exocli.store import PARALLEL_FILES

    source = tmp_path / "big.txt"
    source.write_text(big_printed_list(PARALLEL_FILES + 5), encoding="utf-8")
    root = tmp_path / "ws"
    assert exocli_process(root, "init", str(root)).returncode == 0
    killed = exocli_process(root, "refs", "import", str(source), prelude=DIE_AMID_RENAMES)
    assert killed.returncode == 137, killed.stderr
    assert (root / "db" / ".write.journal").exists()
    listed = exocli_process(root, "refs", "list", "-f", "json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == PARALLEL_FILES + 5
    assert len(list((root / "refs" / "studies").glob("*.toml"))) == PARALLEL_FILES + 5
    assert not (root / "db" / ".write.journal").exists()
    assert exocli_process(root, "refs", "import", str(source)).returncode == 0  # a write sweeps
    assert not staging_left(root)
