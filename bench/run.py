"""exocli benchmarks: `make bench` (= .venv/bin/python bench/run.py).

Prints ONE table (figure, value, reference, ratio, target, status) to stdout, with every
figure measured in this run next to its reference point, and writes it with machine
information to bench/results/latest.json (plus a timestamped copy for comparisons).

    python bench/run.py                 latency, scale (10k, 100k), writes, import, resolve, export,
                                        refimport
    python bench/run.py --full          ... and the 1M-claim case (takes long; see BENCHMARKS.md)
    python bench/run.py --quick         a fast smoke run (small sizes, few repeats)
    python bench/run.py --only resolve  one section (latency, scale, writes, import, resolve, export,
                                        refimport, drafts)

refimport: `exocli refs import FILE` of 10,000 generated references (1,000 with --quick), as
a .bib and as the same references printed as a numbered Vancouver list, each into a workspace
just made by `exocli init`, against bibtexparser's own parse of the .bib (the middlewares
exocli.bibfiles uses), all whole processes, interleaved; target <= 2x.

Progress goes to stderr. Generated workspaces live in a temporary folder that is removed
at the end (--keep keeps it, --workdir chooses it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

import drafts as draft_accuracy  # noqa: E402  (bench/ is not a package)
import generate  # noqa: E402
from fake_crossref import FakeCrossref, work_message  # noqa: E402

BIN = Path(sys.executable).parent
EXOCLI = str(BIN / "exocli") if (BIN / "exocli").exists() else shutil.which("exocli") or "exocli"
PYTHON = sys.executable
FLAGSHIP = "anti-inflammatory miRNAs from UCMSC"
SELECTIVE_ARGS = ["--source", "UCMSC", "--effect", "anti-inflammatory", "--cargo", "miR-216a-5p"]
FLOOR_CODE = "import typer, rich.table"
SECTIONS = ("latency", "scale", "writes", "import", "resolve", "export", "refimport", "drafts", "updates")
STARTED = time.monotonic()
STARTED_AT = datetime.now(UTC).replace(microsecond=0).isoformat()

# Crossref's polite pool (exocli.crossref.LIMITS, since December 2025).
POLITE_SINGLE_RATE = 10.0
POLITE_LIST_RATE = 3.0
POLITE_CONCURRENCY = 3


def log(text: str) -> None:
    sys.stderr.write(f"[{time.monotonic() - STARTED:7.1f}s] {text}\n")
    sys.stderr.flush()


# --- figures -----------------------------------------------------------------------------------


@dataclass
class Figure:
    section: str
    name: str
    value: float | None
    unit: str
    reference: float | None = None
    reference_label: str = ""
    ratio: float | None = None
    target: str = ""
    status: str = "info"  # pass, fail, info, error
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


FIGURES: list[Figure] = []
DETAILS: dict[str, Any] = {}


def add(figure: Figure) -> Figure:
    FIGURES.append(figure)
    shown = fmt_value(figure.value, figure.unit)
    log(
        f"  {figure.section}: {figure.name} = {shown}"
        + (f" (ratio {figure.ratio:.2f})" if figure.ratio else "")
    )
    return figure


def check(ok: bool | None) -> str:
    return "info" if ok is None else ("pass" if ok else "fail")


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        if value < 0.01:
            return f"{value * 1000:.2f} ms"
        if value < 1:
            return f"{value * 1000:.1f} ms"
        return f"{value:.2f} s"
    if unit == "claims/s" or unit == "rows/s":
        return f"{value:,.0f} {unit}"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit in ("", "count", "x"):
        return f"{value:g}"
    return f"{value:g} {unit}"


# --- child processes ---------------------------------------------------------------------------


@dataclass
class Child:
    returncode: int
    wall_s: float
    maxrss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False


def child_env(**extra: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "EXOCLI_HOME",
            "EXOCLI_MAILTO",
            "EXOCLI_CROSSREF_URL",
            "EXOCLI_USER",
            "COLUMNS",
            "FORCE_COLOR",
            "PYTHONPROFILEIMPORTTIME",
        )
    }
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


# Peak RSS of a child is measured through this small launcher: a process started straight from
# the (large) benchmark process inherits its memory high-water mark at exec (Linux keeps the old
# mm's peak in ru_maxrss), so the launcher, small itself, forks the measured command and reports
# that command's own ru_maxrss and wall time.
LAUNCHER = (
    "import os, sys, time\n"
    "t = time.perf_counter()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    try:\n"
    "        os.execvp(sys.argv[2], sys.argv[2:])\n"
    "    finally:\n"
    "        os._exit(127)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "wall = time.perf_counter() - t\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(f'{usage.ru_maxrss} {wall}')\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def run_child(
    argv: Sequence[str],
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    capture: bool = False,
    cwd: Path | None = None,
    rss: bool = False,
) -> Child:
    """Run one process, stdout to /dev/null (or captured); its wall time and, with rss, its peak RSS."""
    with (
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as out,
        tempfile.NamedTemporaryFile() as usage_file,
    ):
        if rss:
            argv = [PYTHON, "-S", "-E", "-c", LAUNCHER, usage_file.name, *argv]
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out if capture else subprocess.DEVNULL,
            stderr=err,
            env=env if env is not None else child_env(),
            cwd=cwd,
            start_new_session=timeout is not None,
        )
        timed_out = threading.Event()
        timer = None
        if timeout is not None:

            def kill() -> None:
                timed_out.set()
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # the launcher and what it started

            timer = threading.Timer(timeout, kill)
            timer.daemon = True
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if timer is not None:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        maxrss_kb: float = usage.ru_maxrss
        if rss:
            measured = Path(usage_file.name).read_text().split()
            if len(measured) == 2:
                maxrss_kb, wall = float(measured[0]), float(measured[1])
            else:
                maxrss_kb = float("nan")
        err.seek(0)
        out.seek(0)
        return Child(
            proc.returncode,
            wall,
            maxrss_kb / 1024,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            timed_out.is_set(),
        )


def worker(*args: str, timeout: float | None = None) -> dict[str, Any]:
    """bench/inproc.py in its own process; its JSON result (with the process's wall and peak RSS)."""
    child = run_child([PYTHON, str(BENCH / "inproc.py"), *args], timeout=timeout, capture=True, rss=True)
    if child.returncode != 0 or not child.stdout.strip():
        tail = child.stderr.strip().splitlines()[-5:]
        raise RuntimeError(
            f"inproc {args[0]} failed (exit {child.returncode}{', timed out' if child.timed_out else ''}): "
            + " | ".join(tail)
        )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    result["process_wall_s"] = child.wall_s
    result["process_maxrss_mb"] = child.maxrss_mb
    return result


def exocli(home: Path, *args: str, **kwargs: Any) -> Child:
    return run_child([EXOCLI, "--home", str(home), *args], **kwargs)


def interleaved(commands: dict[str, list[str]], runs: int, warmup: int = 3) -> dict[str, dict[str, Any]]:
    """Run the commands in turn (A B A B ...) after warm-up; median and spread of wall times."""
    env = child_env()
    for _ in range(warmup):
        for argv in commands.values():
            run_child(argv, env=env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    failures: dict[str, str] = {}
    for _ in range(runs):
        for name, argv in commands.items():
            child = run_child(argv, env=env)
            if child.returncode != 0:
                failures[name] = child.stderr.strip()[-300:]
            times[name].append(child.wall_s)
    return {
        name: {
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "runs": len(values),
            "error": failures.get(name),
        }
        for name, values in times.items()
    }


# --- workspaces --------------------------------------------------------------------------------


# Where folders a section is done with go until the run ends. Removing thousands of files
# mid-run slows the file creation measured next: for minutes after a mass removal, ext4 makes
# each new inode skip the recently freed ones (see BENCHMARKS.md). A rename costs nothing.
DISCARDED = ".discarded"


def discard(path: Path) -> None:
    """Put a folder out of the way; it is removed when the run ends (kept with --keep)."""
    if not path.exists():
        return
    bin_ = path.parent / DISCARDED
    bin_.mkdir(exist_ok=True)
    path.rename(bin_ / f"{path.name}-{time.monotonic_ns()}")


def remove_discarded(root: Path) -> None:
    for bin_ in root.rglob(DISCARDED):
        shutil.rmtree(bin_, ignore_errors=True)


def shipped_copy(target: Path) -> Path:
    """A tmp copy of the repo's workspace text: exocli.toml, refs/order.txt, refs/studies/, db/vocab."""
    if target.exists():
        discard(target)
    (target / "refs").mkdir(parents=True)
    (target / "db").mkdir()
    shutil.copyfile(REPO / "exocli.toml", target / "exocli.toml")
    shutil.copyfile(REPO / "refs" / "order.txt", target / "refs" / "order.txt")
    shutil.copytree(REPO / "refs" / "studies", target / "refs" / "studies")
    shutil.copytree(REPO / "db" / "vocab", target / "db" / "vocab")
    return target


def refs_for(n_claims: int) -> int:
    """References per generated workspace: about 20 claims per study, 100 to 5,000 studies."""
    return min(5000, max(100, n_claims // 20))


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


# --- 1. CLI latency ----------------------------------------------------------------------------


def bench_latency(ctx: Context) -> None:
    home = shipped_copy(ctx.workdir / "latency-ws")
    prebuilt = exocli(home, "query", FLAGSHIP)
    if prebuilt.returncode != 0:
        raise RuntimeError(f"exocli query failed: {prebuilt.stderr.strip()[-300:]}")
    runs = ctx.runs(20, quick=5)
    log(f"latency: {runs} interleaved runs each of `exocli query` and the typer import floor")
    result = interleaved(
        {
            "exocli": [EXOCLI, "--home", str(home), "query", FLAGSHIP],
            "floor": [PYTHON, "-c", FLOOR_CODE],
            "python": [PYTHON, "-c", "pass"],
        },
        runs,
    )
    DETAILS["latency"] = result
    ratio = result["exocli"]["median_s"] / result["floor"]["median_s"]
    add(
        Figure(
            "latency",
            f'query "{FLAGSHIP}" (shipped workspace)',
            result["exocli"]["median_s"],
            "s",
            result["floor"]["median_s"],
            "typer import floor",
            ratio,
            "<= 1.3x",
            check(ratio <= 1.3),
            note=f"median of {runs}; bare `python -c pass` {result['python']['median_s'] * 1000:.0f} ms",
            extra=result,
        )
    )


# --- 2. scale ----------------------------------------------------------------------------------


def bench_scale(ctx: Context) -> None:
    for n in ctx.sizes:
        ws = ctx.workspace(n)
        tag = label(n)
        log(f"scale {tag}: building the database from the text (first use)")
        build = worker("build", str(ws), timeout=ctx.timeout(n, 3600))
        DETAILS.setdefault("build", {})[tag] = build
        add(
            Figure(
                "scale",
                f"{tag}: first-use DB build from text",
                build["build_s"],
                "s",
                note=(
                    f"{n / build['build_s']:,.0f} claims/s; parse+validate {build['parse_validate_s']:.1f} s,"
                    f" SQL write {build['write_s']:.1f} s; {build['study_files']:,} study files, {build['record_mb']:.0f} MB,"
                    f" DB {build['db_mb']:.0f} MB, peak RSS {build['process_maxrss_mb']:,.0f} MB"
                ),
                extra=build,
            )
        )
        if build["claims"] != n or build["unparsed_refs"]:
            raise RuntimeError(f"generated workspace is wrong: {build}")
        log(f"scale {tag}: in-process queries vs sqlite3 (median of repeats)")
        queries = worker("queries", str(ws), "0.3" if ctx.quick else "1.0", timeout=ctx.timeout(n, 1800))
        DETAILS.setdefault("queries", {})[tag] = queries
        targets = {"selective": 0.005, "broad": 0.150}
        for name, q in queries["queries"].items():
            value = q["exocli"]["median_s"]
            hand = q["hand_sql_analyzed"]["median_s"]
            same = q["same_sql"]["median_s"]
            target = targets.get(name)
            ok = None if target is None else value <= target
            note = f"{q['rows']:,} rows; exocli's own SQL via sqlite3 {fmt_value(same, 's')}" + (
                "" if q["same_rows_as_hand_sql"] else "; ROWS DIFFER FROM THE HAND-WRITTEN SQL"
            )
            add(
                Figure(
                    "scale",
                    f"{tag}: {q['label']}",
                    value,
                    "s",
                    hand,
                    "hand SQL, ANALYZE",
                    value / hand if hand else None,
                    f"<= {target * 1000:g} ms (at 1M)" if target else "",
                    check(ok) if q["same_rows_as_hand_sql"] else "error",
                    note=note,
                    extra=q,
                )
            )
        runs = ctx.runs(10, quick=3)
        log(f"scale {tag}: whole-process `exocli query` ({runs} runs) vs the typer import floor")
        cli = interleaved(
            {
                "selective": [EXOCLI, "--home", str(ws), "query", *SELECTIVE_ARGS],
                "floor": [PYTHON, "-c", FLOOR_CODE],
            },
            runs,
            warmup=2,
        )
        ratio = cli["selective"]["median_s"] / cli["floor"]["median_s"]
        add(
            Figure(
                "scale",
                f"{tag}: process: query (selective filters)",
                cli["selective"]["median_s"],
                "s",
                cli["floor"]["median_s"],
                "typer import floor",
                ratio,
                "<= 1.5x (at 1M)",
                check(ratio <= 1.5),
                note=f"median of {runs}",
                extra=cli,
            )
        )
        phrase_runs = 3 if n >= 1_000_000 else ctx.runs(5, quick=2)
        phrase = interleaved(
            {"phrase": [EXOCLI, "--home", str(ws), "query", FLAGSHIP]}, phrase_runs, warmup=1
        )
        add(
            Figure(
                "scale",
                f"{tag}: process: query phrase (every match, table)",
                phrase["phrase"]["median_s"],
                "s",
                cli["floor"]["median_s"],
                "typer import floor",
                phrase["phrase"]["median_s"] / cli["floor"]["median_s"],
                "",
                "info",
                note=f"median of {phrase_runs}; renders every matching claim",
                extra=phrase,
            )
        )
        if "writes" not in ctx.sections:  # the writes section uses the same workspace next
            ctx.drop_workspace(n)


# --- 2a. writes: one change on a big workspace -----------------------------------------------------


def write_commands(ws: Path, claim_id: str) -> dict[str, Callable[[int], list[str]]]:
    """The commands `bench_writes` times; run i changes something run i - 1 did not."""
    home = [EXOCLI, "--home", str(ws)]
    study = ["--author", "Bench, Ada", "--year", "2026", "--journal", "J Bench"]
    claim = ["--source", "BMSC", "--effect", "angiogenesis", "--yes", "--offline"]
    return {
        "query": lambda i: [*home, "query", "--ref", "1"],
        "claims edit": lambda i: [*home, "claims", "edit", claim_id, "--dose", f"{i + 1} µg"],
        "add-study": lambda i: [*home, "add-study", "--title", f"Bench study {i}", *study, *claim],
        "refs edit": lambda i: [*home, "refs", "edit", "1", "--pages", f"{i + 1}-{i + 9}"],
    }


def bench_writes(ctx: Context) -> None:
    """claims edit, add-study and refs edit as whole processes vs `query --ref 1`, same workspace.

    Each run changes something new (a write that changes nothing is refused), so every run
    is a real write: text, journal, rows. Runs are interleaved with the query they compare to.
    """
    for n in ctx.sizes:
        ws = ctx.workspace(n)
        tag = label(n)
        built = exocli(ws, "query", "--ref", "1", timeout=ctx.timeout(n, 3600))
        if built.returncode != 0:
            raise RuntimeError(f"query failed: {built.stderr[-300:]}")
        claim = exocli(
            ws, "query", "--ref", "1", "--format", "csv", "--columns", "id", "--limit", "1", capture=True
        )
        claim_id = claim.stdout.splitlines()[1].strip()
        runs = ctx.runs(10, quick=3)
        env = child_env(EXOCLI_USER="bench")
        log(f"writes {tag}: {runs} interleaved runs of query --ref 1, claims edit, add-study, refs edit")
        commands = write_commands(ws, claim_id)
        for i in range(2):  # warm-up
            for make in commands.values():
                run_child(make(1000 + i), env=env)
        walls: dict[str, list[float]] = {name: [] for name in commands}
        peaks: dict[str, float] = {name: 0.0 for name in commands}
        errors: dict[str, str] = {}
        for i in range(runs):
            for name, make in commands.items():
                child = run_child(make(i), env=env, rss=True)
                if child.returncode != 0:
                    errors[name] = child.stderr.strip()[-300:]
                walls[name].append(child.wall_s)
                peaks[name] = max(peaks[name], child.maxrss_mb)
        query = statistics.median(walls["query"])
        DETAILS.setdefault("writes", {})[tag] = {"walls": walls, "peaks": peaks, "errors": errors}
        add(
            Figure(
                "writes",
                f"{tag}: process: query --ref 1",
                query,
                "s",
                note=f"median of {runs}; the reference",
                extra={"peak_mb": peaks["query"]},
            )
        )
        for name in ("claims edit", "add-study", "refs edit"):
            value = statistics.median(walls[name])
            ratio = value / query
            ok = ratio <= 3.0 and peaks[name] < 150 and name not in errors
            add(
                Figure(
                    "writes",
                    f"{tag}: process: {name}",
                    value,
                    "s",
                    query,
                    "query --ref 1",
                    ratio,
                    "<= 3x, < 150 MB (at 100k)",
                    check(ok) if name not in errors else "error",
                    note=f"median of {runs}; peak RSS {peaks[name]:,.0f} MB"
                    + (f"; {errors[name]}" if name in errors else ""),
                )
            )
        ctx.drop_workspace(n)


# --- 2b. import throughput ---------------------------------------------------------------------


def bench_import(ctx: Context) -> None:
    for n in ctx.sizes:
        tag = label(n)
        n_refs = refs_for(n)
        csv_path = ctx.workdir / f"claims-{tag}.csv"
        log(f"import {tag}: writing {n:,} claims as CSV")
        generate.write_claims_csv(csv_path, n, n_refs, ctx.seed)
        variants = [("EXOCLI_USER set", {"EXOCLI_USER": "bench"})]
        if n <= ctx.as_run_limit:
            variants.append(("no EXOCLI_USER, as curators run it", {"EXOCLI_USER": None}))
        raw = None
        for variant, env_extra in variants:
            ws = ctx.workdir / f"import-{tag}"
            discard(ws)
            generate.generate(ws, 0, n_refs, ctx.seed, with_claims=False)
            prepared = exocli(ws, "rebuild")  # references only, no claims
            if prepared.returncode != 0:
                raise RuntimeError(f"rebuild failed: {prepared.stderr[-300:]}")
            if raw is None:
                raw = worker(
                    "rawinsert",
                    str(csv_path),
                    str(ws / "db" / "exocli.sqlite"),
                    str(ctx.workdir / "raw.sqlite"),
                )
                DETAILS.setdefault("raw_insert", {})[tag] = raw
            log(f"import {tag}: exocli import ({variant})")
            child = exocli(
                ws,
                "import",
                str(csv_path),
                env=child_env(**env_extra),
                timeout=ctx.timeout(n, 7200),
                rss=True,
            )
            if child.returncode != 0:
                add(
                    Figure(
                        "import",
                        f"{tag}: exocli import CSV ({variant})",
                        None,
                        "claims/s",
                        raw["rows_per_s"],
                        "raw executemany",
                        status="error",
                        note=("timed out: " if child.timed_out else "failed: ") + child.stderr.strip()[-200:],
                    )
                )
                continue
            rate = n / child.wall_s
            ratio = rate / raw["rows_per_s"]
            add(
                Figure(
                    "import",
                    f"{tag}: import CSV, whole command ({variant})",
                    rate,
                    "claims/s",
                    raw["rows_per_s"],
                    "raw executemany",
                    ratio,
                    ">= 0.33x (at 1M)",
                    check(ratio >= 1 / 3),
                    note=f"{child.wall_s:.2f} s for {n:,} claims; peak RSS {child.maxrss_mb:,.0f} MB",
                    extra={"wall_s": child.wall_s, "maxrss_mb": child.maxrss_mb, "raw": raw},
                )
            )
            discard(ws)
        csv_path.unlink(missing_ok=True)


# --- 3. resolve ----------------------------------------------------------------------------------


def polite_bound(requests: int, rate: float, concurrency: int, latency: float) -> float:
    """The least time `requests` requests of `latency` seconds take within the limits.

    At most `rate` starts in any half-open 1 s window [t, t + 1), and at most `concurrency`
    in flight: each request starts at the soonest both allow, that is 1 s after the start
    `rate` places earlier and when the request `concurrency` places earlier has ended.
    Starting each as soon as allowed is optimal, so the last end is the bound.
    """
    if requests == 0:
        return 0.0
    per_window = max(1, int(rate))
    starts: list[float] = []
    for k in range(requests):
        start = 0.0
        if k >= per_window:
            start = max(start, starts[k - per_window] + 1.0)
        if k >= concurrency:
            start = max(start, starts[k - concurrency] + latency)
        starts.append(start)
    return starts[-1] + latency


def bench_resolve(ctx: Context) -> None:
    from exocli.reflists import parse_reference_list

    latency = 0.2
    ws = shipped_copy(ctx.workdir / "resolve-ws")
    prepared = exocli(ws, "refs", "list", "-f", "csv")
    if prepared.returncode != 0:
        raise RuntimeError(f"exocli refs list failed: {prepared.stderr[-300:]}")
    sys.path.insert(0, str(REPO / "tests"))
    from helpers import REVIEW_LIST  # the review's list as printed (the shipped record's source)

    refs = parse_reference_list(REVIEW_LIST.read_text(encoding="utf-8")).references
    with_doi = [r for r in refs if r.doi]
    without_doi = [r for r in refs if not r.doi and r.kind == "article"]
    fake = FakeCrossref({r.doi.lower(): work_message(r) for r in with_doi if r.doi}, latency=latency).start()
    env = child_env(EXOCLI_CROSSREF_URL=fake.url, EXOCLI_MAILTO="bench@example.org")
    try:
        # Run 1: the DOIs (single-record requests).
        mark = fake.mark()
        log(f"resolve: {len(with_doi)} DOIs against {fake.url} ({latency * 1000:.0f} ms latency)")
        first = exocli(ws, "resolve", *[str(r.number) for r in with_doi], env=env, capture=True, timeout=600)
        doi_stats = fake.stats(mark)
        # Run 2: the references without DOI (bibliographic list queries, 3/s).
        mark = fake.mark()
        log(f"resolve: {len(without_doi)} references without DOI (list queries)")
        second = exocli(ws, "resolve", env=env, capture=True, timeout=600)
        list_stats = fake.stats(mark)
        # Run 3: everything is stored now: nothing should be sent.
        mark = fake.mark()
        third = exocli(ws, "resolve", env=env, capture=True, timeout=600)
        again_stats = fake.stats(mark)
    finally:
        fake.stop()
    DETAILS["resolve"] = {
        "doi_run": {"wall_s": first.wall_s, "rc": first.returncode, "server": doi_stats},
        "list_run": {"wall_s": second.wall_s, "rc": second.returncode, "server": list_stats},
        "again_run": {"wall_s": third.wall_s, "rc": third.returncode, "server": again_stats},
        "stderr": [first.stderr[-400:], second.stderr[-400:], third.stderr[-400:]],
    }
    ok_lines = sum(1 for line in first.stdout.splitlines() if line.endswith(": ok"))
    n_doi = doi_stats["work"]["requests"]
    # The floor: the request schedule the limits allow, plus what the same command costs when
    # it has nothing to send (start-up, the reference list, the summary).
    schedule = polite_bound(len(with_doi), POLITE_SINGLE_RATE, POLITE_CONCURRENCY, latency)
    bound = schedule + third.wall_s
    ratio = first.wall_s / bound
    add(
        Figure(
            "resolve",
            f"resolve {len(with_doi)} DOIs, whole command",
            first.wall_s,
            "s",
            bound,
            "polite bound + fixed",
            ratio,
            "<= 1.15x",
            check(ratio <= 1.15 and first.returncode == 0),
            note=(
                f"{n_doi} requests, {ok_lines} ok; max {doi_stats['work']['max_per_1s']} started in any 1 s,"
                f" max {doi_stats['max_concurrency']} at once; request span {doi_stats['all']['span_s']:.2f} s"
                f" (schedule floor {schedule:.2f} s, fixed {third.wall_s:.2f} s)"
                + (f"; exit {first.returncode}" if first.returncode else "")
            ),
            extra=DETAILS["resolve"]["doi_run"],
        )
    )
    for kind, stats, limit in (
        ("single-record", doi_stats["work"], POLITE_SINGLE_RATE),
        ("list", list_stats["list"], POLITE_LIST_RATE),
    ):
        add(
            Figure(
                "resolve",
                f"resolve: most {kind} requests started in any 1 s (server clock)",
                stats["max_per_1s"],
                "count",
                target=f"<= {limit:g} (polite limit)",
                status=check(stats["max_per_1s"] <= limit),
                note=f"{stats['requests']} requests; the client counts a request as its headers are sent",
            )
        )
    add(
        Figure(
            "resolve",
            "resolve: most requests in flight at once (server)",
            max(doi_stats["max_concurrency"], list_stats["max_concurrency"]),
            "count",
            target=f"<= {POLITE_CONCURRENCY} (polite limit)",
            status=check(
                max(doi_stats["max_concurrency"], list_stats["max_concurrency"]) <= POLITE_CONCURRENCY
            ),
        )
    )
    list_bound = (
        max(
            polite_bound(len(without_doi), POLITE_LIST_RATE, POLITE_CONCURRENCY, latency),
            polite_bound(len(without_doi), POLITE_SINGLE_RATE, POLITE_CONCURRENCY, latency),
        )
        + third.wall_s
    )
    add(
        Figure(
            "resolve",
            f"resolve {len(without_doi)} refs without DOI (list queries)",
            second.wall_s,
            "s",
            list_bound,
            "polite bound + fixed",
            second.wall_s / list_bound if list_bound else None,
            "",
            "info",
            note=(
                f"{list_stats['list']['requests']} list requests (+{list_stats['work']['requests']} single);"
                f" max {list_stats['list']['max_per_1s']} in any 1 s, max {list_stats['max_concurrency']} at once"
            ),
            extra=DETAILS["resolve"]["list_run"],
        )
    )
    add(
        Figure(
            "resolve",
            "resolve again: requests sent",
            again_stats["requests"],
            "count",
            target="0",
            status=check(again_stats["requests"] == 0 and third.returncode == 0),
            note=f"whole command {third.wall_s * 1000:.0f} ms",
            extra=DETAILS["resolve"]["again_run"],
        )
    )


# --- 4. export -----------------------------------------------------------------------------------


def bench_export(ctx: Context) -> None:
    n_refs = 1000 if ctx.quick else 10_000
    ws = ctx.workdir / "export-ws"
    discard(ws)
    generate.generate(ws, 200, n_refs, ctx.seed)
    out = ctx.workdir / "export.bib"
    log(f"export: BibTeX for {n_refs:,} references (first run builds the database)")
    cold = exocli(ws, "export", "bib", "--all", "-o", str(out), timeout=1800, rss=True)
    if cold.returncode != 0:
        raise RuntimeError(f"export failed: {cold.stderr[-300:]}")
    runs = 2 if ctx.quick else 5
    warm = [exocli(ws, "export", "bib", "--all", "-o", str(out), timeout=1800, rss=True) for _ in range(runs)]
    wall = statistics.median(c.wall_s for c in warm)
    peak = max(c.maxrss_mb for c in warm)
    reference = worker("bibwrite", str(out), timeout=1800)
    DETAILS["export"] = {
        "cold_s": cold.wall_s,
        "warm_s": [c.wall_s for c in warm],
        "peak_rss_mb": peak,
        "bibtexparser": reference,
    }
    ratio = wall / reference["median_s"]
    add(
        Figure(
            "export",
            f"export bib --all, {label(n_refs)} refs, whole command",
            wall,
            "s",
            reference["median_s"],
            "bibtexparser write",
            ratio,
            "<= 2x",
            check(ratio <= 2.0 and reference["entries"] == n_refs),
            note=(
                f"median of {runs}; {reference['entries']:,} entries parse back; first run (builds the DB)"
                f" {cold.wall_s:.2f} s"
            ),
            extra=DETAILS["export"],
        )
    )
    add(
        Figure(
            "export",
            f"export bib --all, {label(n_refs)} refs: peak RSS",
            peak,
            "MB",
            reference["process_maxrss_mb"],
            "bibtexparser parse+write",
            peak / reference["process_maxrss_mb"],
            "",
            "info",
            note=f"first run (with the build) {cold.maxrss_mb:,.0f} MB",
        )
    )


# --- drafts: `exocli extract` on the shipped review ---------------------------------------------


def bench_drafts(ctx: Context) -> None:
    """extract on the whole review (target <= 1 s, the whole command), against the typer
    import floor of the same run; and the drafts' recall and precision (bench/drafts.py)."""
    home = draft_accuracy.workspace_without_claims(ctx.workdir / "drafts-ws")
    review = str(home / "manuscript" / "review.txt")
    built = exocli(home, "extract", review, "--dry-run")  # the first run builds the database
    if built.returncode != 0:
        raise RuntimeError(f"exocli extract failed: {built.stderr.strip()[-300:]}")
    runs = ctx.runs(10, quick=3)
    log(f"drafts: {runs} interleaved runs of `exocli extract manuscript/review.txt --dry-run` and the floor")
    result = interleaved(
        {
            "extract": [EXOCLI, "--home", str(home), "extract", review, "--dry-run"],
            "floor": [PYTHON, "-c", FLOOR_CODE],
        },
        runs,
    )
    wall = result["extract"]["median_s"]
    floor = result["floor"]["median_s"]
    DETAILS["drafts"] = {"timing": result}
    add(
        Figure(
            "drafts",
            "extract the whole review (92 citing sentences), whole command",
            wall,
            "s",
            floor,
            "typer import floor",
            wall / floor,
            "<= 1 s",
            check(wall <= 1.0),
            note=f"median of {runs}, --dry-run (a write adds the study files' write)",
            extra=result,
        )
    )
    figures = draft_accuracy.accuracy(EXOCLI, ctx.workdir)
    DETAILS["drafts"]["accuracy"] = figures
    add(
        Figure(
            "drafts",
            "drafts recover the curated claims (recall)",
            round(figures["recall"], 3),
            "",
            0.80,
            "target",
            round(figures["recall"] / 0.80, 2),
            ">= 0.80",
            check(figures["recall"] >= 0.80),
            note=f"{figures['recovered']} of {figures['curated']} curated claims; missed: {figures['missed']}",
        )
    )
    add(
        Figure(
            "drafts",
            "drafts that match a curated claim (precision)",
            round(figures["precision"], 3),
            "",
            0.70,
            "target",
            round(figures["precision"] / 0.70, 2),
            ">= 0.70",
            check(figures["precision"] >= 0.70),
            note=f"{figures['matched']} of {figures['drafts']} drafts",
        )
    )


# --- updates: saved update searches -------------------------------------------------------------


def bench_updates(ctx: Context) -> None:
    """`search run` paging 1,000 works over 5 cursor pages against a local Crossref with the
    resolve bench's latency, against the floor the polite list limit allows; and the
    deduplication of 1,000 candidates against 10k references (in-process)."""
    latency, n_works, rows = 0.2, 1000, 200
    pages = n_works // rows
    fake = FakeCrossref({}, latency=latency, listing=generate.candidate_works(n_works, ctx.seed)).start()
    env = child_env(EXOCLI_CROSSREF_URL=fake.url, EXOCLI_MAILTO="bench@example.org")
    rounds = ctx.runs(3, quick=1)

    def prepared(name: str, since: str) -> Path:
        home = shipped_copy(ctx.workdir / name)
        added = exocli(home, "search", "add", "bench", "mesenchymal stem cell exosomes", "--since", since,
                       "--rows", str(rows), env=env, capture=True)  # fmt: skip
        if added.returncode != 0:
            raise RuntimeError(f"exocli search add failed: {added.stderr[-300:]}")
        built = exocli(
            home, "stats", env=env, capture=True
        )  # builds the database, as a user's workspace has it
        if built.returncode != 0:
            raise RuntimeError(f"exocli stats failed: {built.stderr[-300:]}")
        return home

    # Interleaved rounds, each in fresh copies: the run of 1,000 new works, and the fixed cost,
    # the same command when Crossref has nothing new (a marker past every work: one request,
    # no candidate to read or write). This disk's file creation varies from run to run.
    runs: list[Child] = []
    agains: list[Child] = []
    try:
        log(
            f"updates: search run, {n_works} works in {pages} pages of {rows} ({latency * 1000:.0f} ms"
            f" latency), {rounds} rounds"
        )
        for index in range(rounds):
            ws = prepared(f"updates-ws-{index}", "2026-01-01")
            empty = prepared(f"updates-empty-{index}", "2099-01-01")
            mark = fake.mark()
            runs.append(exocli(ws, "search", "run", "bench", env=env, capture=True, timeout=600))
            stats = fake.stats(mark)
            mark = fake.mark()
            agains.append(exocli(empty, "search", "run", "bench", env=env, capture=True, timeout=600))
            again_stats = fake.stats(mark)
    finally:
        fake.stop()
    run = sorted(runs, key=lambda c: c.wall_s)[len(runs) // 2]
    again = sorted(agains, key=lambda c: c.wall_s)[len(agains) // 2]
    written = len(list((ws / "refs" / "candidates").glob("*.toml")))
    # exocli spaces list requests evenly at the polite 3/s (never a burst); cursor pages go one
    # after another, so the floor is (pages - 1) intervals, the last answer, and the command's
    # fixed cost: a run that finds nothing new, less its one request's latency (medians).
    schedule = (pages - 1) / POLITE_LIST_RATE + latency
    fixed = max(0.0, again.wall_s - latency)
    bound = schedule + fixed
    ratio = run.wall_s / bound
    window = polite_bound(pages, POLITE_LIST_RATE, 1, latency)
    DETAILS["updates"] = {
        "run": {"wall_s": run.wall_s, "rc": run.returncode, "server": stats, "stderr": run.stderr[-600:]},
        "again": {"wall_s": again.wall_s, "rc": again.returncode, "server": again_stats},
        "rounds": {"run_s": [c.wall_s for c in runs], "again_s": [c.wall_s for c in agains]},
    }
    add(
        Figure(
            "updates",
            f"search run: {n_works} candidates over {pages} pages, whole command",
            run.wall_s,
            "s",
            bound,
            "polite list floor + fixed",
            ratio,
            "<= 1.15x",
            check(ratio <= 1.15 and run.returncode == 0 and written == n_works and again.returncode == 0),
            note=(
                f"median of {rounds} ({', '.join(f'{c.wall_s:.2f}' for c in runs)} s);"
                f" {stats['list']['requests']} list requests, max {stats['list']['max_per_1s']} started in any 1 s;"
                f" {written} candidate files; floor {schedule:.2f} s evenly spaced ({window:.2f} s if bursts"
                f" of 3 were allowed), fixed {fixed:.2f} s"
                + (f"; exit {run.returncode}: {run.stderr.strip()[-200:]}" if run.returncode else "")
            ),
            extra=DETAILS["updates"]["run"],
        )
    )
    add(
        Figure(
            "updates",
            "search run: most list requests started in any 1 s (server clock)",
            stats["list"]["max_per_1s"],
            "count",
            target=f"<= {POLITE_LIST_RATE:g} (polite limit)",
            status=check(
                stats["list"]["max_per_1s"] <= POLITE_LIST_RATE and stats["list"]["requests"] == pages
            ),
            note=f"{stats['list']['requests']} requests for {pages} pages (the last page sized to what was left)",
        )
    )
    n_refs = 1000 if ctx.quick else 10_000
    big = ctx.workdir / "updates-10k"
    generate.generate(big, 0, n_refs, ctx.seed, with_claims=False)
    exocli(big, "candidates", "list", capture=True, timeout=600)  # the database
    result = worker("dedupe", str(big), str(n_works), timeout=600)
    DETAILS["updates"]["dedupe"] = result
    add(
        Figure(
            "updates",
            f"deduplicate {n_works} candidates against {result['references']} references",
            result["median_s"],
            "s",
            1.0,
            "target",
            result["median_s"] / 1.0,
            "<= 1 s",
            check(result["median_s"] <= 1.0 and result["skipped"] >= n_works * 0.45),
            note=f"in-process triage (DOI, then title + first author + year): {result['new']} new,"
            f" {result['skipped']} in the review; median of {result['runs']}",
            extra=result,
        )
    )


# --- 5. refimport: references from a .bib file or a printed list -------------------------------

# The reference point: bibtexparser v2's own parse of the .bib, as its users call it
# (parse_string with its default middlewares), timed as a whole process like the imports.
# exocli reads more than that (names split, LaTeX decoded, every entry checked, study files
# written), and the target allows it twice the time.
BIBTEX_PARSE_CODE = (
    "import sys\n"
    "from pathlib import Path\n"
    "import bibtexparser\n"
    "text = Path(sys.argv[1]).read_bytes().decode('utf-8-sig')\n"
    "library = bibtexparser.parse_string(text)\n"
    "print(len(library.entries), len(library.failed_blocks))\n"
)


def _imported(child: Child) -> dict[str, int] | None:
    """The counts in `refs import`'s last line: Imported N references from F: A new, ..., U kept unparsed."""
    import re

    found = re.search(
        r"Imported (\d+) references from .*: (\d+) new, .* (\d+) kept unparsed\s*$", child.stderr.strip()
    )
    if found is None:
        return None
    total, new, unparsed = map(int, found.groups())
    return {"total": total, "new": new, "unparsed": unparsed}


def bench_refimport(ctx: Context) -> None:
    """`exocli refs import` of N references (.bib, printed list) into a fresh workspace vs bibtexparser.

    Rounds interleave the three processes (reference parse, .bib import, printed-list import),
    each through the peak-RSS launcher; every import gets a workspace just made by `exocli init`.
    """
    n_refs = 1000 if ctx.quick else 10_000
    tag = label(n_refs)
    folder = ctx.workdir / "refimport"
    discard(folder)
    folder.mkdir(parents=True)
    files = {"bib": folder / f"refs-{tag}.bib", "printed": folder / f"refs-{tag}.txt"}
    warm = {"bib": folder / "warm.bib", "printed": folder / "warm.txt"}
    log(f"refimport: writing {n_refs:,} references as BibTeX and as a printed list (seed {ctx.seed})")
    generate.write_reference_files(files["bib"], files["printed"], n_refs, ctx.seed)
    generate.write_reference_files(warm["bib"], warm["printed"], 100, ctx.seed + 1)
    sizes = {kind: path.stat().st_size for kind, path in files.items()}
    env = child_env()

    def parse_reference(path: Path) -> Child:
        return run_child([PYTHON, "-c", BIBTEX_PARSE_CODE, str(path)], env=env, capture=True, rss=True)

    def import_into_fresh(path: Path, run: int) -> tuple[Child, int]:
        ws = folder / f"ws-{run}-{path.suffix.lstrip('.')}"
        made = run_child([EXOCLI, "init", str(ws)], env=env)
        if made.returncode != 0:
            raise RuntimeError(f"exocli init failed: {made.stderr.strip()[-300:]}")
        child = exocli(ws, "refs", "import", str(path), env=env, timeout=3600, rss=True)
        studies = sum(1 for _ in (ws / "refs" / "studies").glob("*.toml"))
        # Kept until the section ends: on ext4 (here with `discard`) creating files just after
        # removing 10,000 others is up to ten times slower, which would be the bench's own cost.
        return child, studies

    log("refimport: warm-up round on 100 references")
    parse_reference(warm["bib"])
    for kind in ("bib", "printed"):
        import_into_fresh(warm[kind], 0)
    runs = ctx.runs(3, quick=3)
    log(f"refimport: {runs} interleaved rounds of bibtexparser parse, refs import .bib, refs import list")
    walls: dict[str, list[float]] = {"reference": [], "bib": [], "printed": []}
    peaks: dict[str, float] = {name: 0.0 for name in walls}
    counts: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for run in range(1, runs + 1):
        reference = parse_reference(files["bib"])
        if reference.returncode != 0:
            errors["reference"] = reference.stderr.strip()[-300:]
        else:
            entries, failed = map(int, reference.stdout.split()[:2])
            counts["reference"] = {"entries": entries, "failed_blocks": failed}
        walls["reference"].append(reference.wall_s)
        peaks["reference"] = max(peaks["reference"], reference.maxrss_mb)
        for kind in ("bib", "printed"):
            child, studies = import_into_fresh(files[kind], run)
            if child.returncode != 0:
                errors[kind] = ("timed out: " if child.timed_out else "") + child.stderr.strip()[-300:]
            counts[kind] = {**(_imported(child) or {}), "study_files": studies}
            walls[kind].append(child.wall_s)
            peaks[kind] = max(peaks[kind], child.maxrss_mb)
        log(
            f"  round {run}: bibtexparser {walls['reference'][-1]:.2f} s, .bib {walls['bib'][-1]:.2f} s,"
            f" list {walls['printed'][-1]:.2f} s"
        )
    reference_s = statistics.median(walls["reference"])
    DETAILS["refimport"] = {
        "refs": n_refs,
        "file_bytes": sizes,
        "walls": walls,
        "peaks_mb": peaks,
        "counts": counts,
        "errors": errors,
        "reference_code": BIBTEX_PARSE_CODE,
    }
    ref_entries = counts.get("reference", {}).get("entries")
    ref_note = (
        f"; bibtexparser {ref_entries:,} entries, peak RSS {peaks['reference']:,.0f} MB"
        if ref_entries is not None
        else f"; bibtexparser failed: {errors.get('reference', '')}"
    )
    for kind, what in (("bib", "a .bib"), ("printed", "a printed list")):
        value = statistics.median(walls[kind])
        ratio = value / reference_s if reference_s and "reference" not in errors else None
        got = counts.get(kind, {})
        complete = got.get("new") == n_refs and got.get("study_files") == n_refs
        if kind in errors or "reference" in errors:
            status = "error"
        else:
            status = check(ratio is not None and ratio <= 2.0 and complete)
        note = (
            f"median of {runs}; {sizes[kind] / 1e6:.1f} MB file; {got.get('new', '?')} new,"
            f" {got.get('unparsed', '?')} kept unparsed, {got.get('study_files', '?')} study files;"
            f" peak RSS {peaks[kind]:,.0f} MB" + ref_note
        )
        if kind in errors:
            note += f"; {errors[kind]}"
        add(
            Figure(
                "refimport",
                f"refs import {tag} refs from {what} (fresh workspace), whole command",
                value,
                "s",
                reference_s,
                "bibtexparser parse of the .bib",
                ratio,
                "<= 2x",
                status,
                note=note,
                extra={"walls": walls[kind], "peak_mb": peaks[kind], "counts": got},
            )
        )
    if not KEEP:
        discard(folder)


# --- driver --------------------------------------------------------------------------------------


@dataclass
class Context:
    workdir: Path
    sizes: list[int]
    seed: int
    quick: bool
    as_run_limit: int
    sections: list[str] = field(default_factory=list)
    _workspaces: dict[int, Path] = field(default_factory=dict)

    def runs(self, normal: int, quick: int) -> int:
        return quick if self.quick else normal

    def timeout(self, n: int, at_1m: float) -> float:
        return max(300.0, at_1m * n / 1_000_000 * 1.5)

    def workspace(self, n: int) -> Path:
        if n not in self._workspaces:
            root = self.workdir / f"ws-{label(n)}"
            discard(root)
            log(f"generating a workspace with {n:,} claims and {refs_for(n):,} references (seed {self.seed})")
            t0 = time.perf_counter()
            generate.generate(root, n, refs_for(n), self.seed)
            DETAILS.setdefault("generate_s", {})[label(n)] = time.perf_counter() - t0
            self._workspaces[n] = root
        return self._workspaces[n]

    def drop_workspace(self, n: int) -> None:
        root = self._workspaces.pop(n, None)
        if root is not None and not KEEP:
            discard(root)


KEEP = False


def machine_info() -> dict[str, Any]:
    import sqlite3
    from importlib import metadata

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions = {}
    for name in ("exocli", "typer", "rich", "pydantic", "bibtexparser", "habanero", "httpx2", "sqlite-utils"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
    }


def source_stamp() -> tuple[int, int]:
    """(newest mtime, file count) under src/: tells whether the code changed during the run."""
    files = list((REPO / "src").rglob("*.py"))
    return (max((f.stat().st_mtime_ns for f in files), default=0), len(files))


def print_table(figures: Sequence[Figure]) -> None:
    headers = ("figure", "value", "reference", "ratio", "target", "status")
    rows = [
        (
            f.name,
            fmt_value(f.value, f.unit),
            (fmt_value(f.reference, f.unit) + (f" ({f.reference_label})" if f.reference_label else ""))
            if f.reference is not None
            else "",
            (f"{f.ratio:.2f}x" if f.ratio >= 0.1 else f"{f.ratio:.2g}x") if f.ratio is not None else "",
            f.target,
            f.status.upper() if f.status in ("pass", "fail", "error") else f.status,
        )
        for f in figures
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    sys.stdout.write(line + "\n" + "  ".join("-" * w for w in widths) + "\n")
    section = None
    for figure, row in zip(figures, rows, strict=True):
        if figure.section != section:
            section = figure.section
            sys.stdout.write(f"[{section}]\n")
        sys.stdout.write(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n"
        )
    sys.stdout.flush()


def markdown_table(path: Path) -> str:
    """A results JSON as the Markdown table BENCHMARKS.md shows (`run.py --markdown FILE`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = [
        "| section | figure | value | reference | ratio | target | status | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in data["figures"]:
        reference = ""
        if f["reference"] is not None:
            reference = fmt_value(f["reference"], f["unit"]) + (
                f" ({f['reference_label']})" if f["reference_label"] else ""
            )
        ratio = f["ratio"]
        ratio_text = "" if ratio is None else (f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x")
        status = f["status"].upper() if f["status"] in ("pass", "fail", "error") else f["status"]
        cells = [
            f["section"],
            f["name"],
            fmt_value(f["value"], f["unit"]),
            reference,
            ratio_text,
            f["target"],
            status,
            f["note"],
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    global KEEP
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="add the 1M-claim case (long)")
    parser.add_argument("--quick", action="store_true", help="fast smoke run: small sizes, few repeats")
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    parser.add_argument(
        "--sizes", help="claim counts for scale/import, comma-separated (overrides the default)"
    )
    parser.add_argument("--seed", type=int, default=20251127)
    parser.add_argument("--workdir", type=Path, help="where to generate workspaces (default: a tmp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the generated workspaces")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--markdown", type=Path, metavar="JSON", help="print a results file as Markdown, run nothing"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown_table(args.markdown))
        return 0
    KEEP = args.keep

    if args.sizes:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    elif args.quick:
        sizes = [2_000]
    else:
        sizes = [10_000, 100_000] + ([1_000_000] if args.full else [])
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="exocli-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = Context(workdir, sizes, args.seed, args.quick, as_run_limit=10_000 if not args.quick else 2_000)
    chosen = args.only or list(SECTIONS)
    ctx.sections = chosen
    machine = machine_info()
    src_stamp = source_stamp()
    log(
        f"exocli bench: sections {', '.join(chosen)}; sizes {', '.join(label(n) for n in sizes)}; in {workdir}"
    )
    runners: dict[str, Callable[[Context], None]] = {
        "latency": bench_latency,
        "scale": bench_scale,
        "writes": bench_writes,
        "import": bench_import,
        "resolve": bench_resolve,
        "export": bench_export,
        "refimport": bench_refimport,
        "drafts": bench_drafts,
        "updates": bench_updates,
    }
    timings: dict[str, float] = {}
    try:
        for name in SECTIONS:
            if name not in chosen:
                continue
            t0 = time.monotonic()
            try:
                runners[name](ctx)
            except Exception as exc:  # record and go on with the other sections
                log(f"{name}: ERROR {exc}")
                add(Figure(name, f"{name} section", None, "", status="error", note=str(exc)[:300]))
            timings[name] = time.monotonic() - t0
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        elif not args.keep:
            remove_discarded(workdir)
    wall = time.monotonic() - STARTED
    machine_end = machine_info()
    changed = {
        name: [machine["packages"].get(name), version]
        for name, version in machine_end["packages"].items()
        if machine["packages"].get(name) != version
    }
    src_changed = source_stamp() != src_stamp
    print_table(FIGURES)
    if changed or src_changed:
        sys.stdout.write(
            "\nWARNING: the code under test changed during this run"
            + (f" (packages: {changed})" if changed else "")
            + (" (files under src/ were edited)" if src_changed else "")
            + "; figures may mix versions\n"
        )
    failed = [f for f in FIGURES if f.status in ("fail", "error")]
    sys.stdout.write(
        f"\n{len(FIGURES)} figures, {sum(f.status == 'pass' for f in FIGURES)} pass,"
        f" {sum(f.status == 'fail' for f in FIGURES)} fail, {sum(f.status == 'error' for f in FIGURES)} error;"
        f" wall {wall:.0f} s\n"
    )
    result = {
        "schema": 1,
        "started_at": STARTED_AT,
        "finished_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "command": " ".join([Path(sys.executable).name, "bench/run.py", *(argv or sys.argv[1:])]),
        "options": {
            "full": args.full,
            "quick": args.quick,
            "only": chosen,
            "sizes": sizes,
            "seed": args.seed,
        },
        "machine": machine,
        "changed_during_run": {"packages": changed, "src": src_changed},
        "wall_s": wall,
        "section_wall_s": timings,
        "figures": [asdict(f) for f in FIGURES],
        "details": DETAILS,
        "generator_version": generate.GENERATOR_VERSION,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1, default=str) + "\n"
    args.output.write_text(text, encoding="utf-8")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "full" if args.full else "quick" if args.quick else "default"
    if args.output == RESULTS / "latest.json":
        (RESULTS / f"{stamp}-{suffix}.json").write_text(text, encoding="utf-8")
    log(f"wrote {args.output} ({wall:.0f} s)")
    # Failing targets are findings, not a broken benchmark: exit 0 unless a section errored.
    return 1 if any(f.status == "error" for f in failed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
