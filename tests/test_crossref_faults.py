"""Crossref faults from issue 12: bad answers and stored files, settings, odd DOIs, slow or
absent servers. Crossref is a loopback stand-in (pytest-httpserver or a raw socket server)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Response

import test_crossref as base
from exocli.crossref import work_path
from exocli.workspace import Workspace
from test_crossref import BY_NUMBER, WITH_DOI, FakeCrossref, envelope, refs_json, run, work_message

# the loopback Crossref stand-in and the workspace copy, shared with test_crossref.py
crossref = base.crossref
ws = base.ws


def stored(home: Path) -> list[str]:
    cache = home / "refs" / "crossref"
    return sorted(p.name for p in cache.glob("*.json")) if cache.is_dir() else []


# --- 5: malformed answers are refused; bad stored files are skipped --------------------------


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"status": "ok", "message-type": "work", "message": [1, 2]}),
        envelope(work_message(BY_NUMBER[2], author="Smith J")),
        envelope(work_message(BY_NUMBER[2], title="A title, not a list")),
        envelope(work_message(BY_NUMBER[2], issued={"date-parts": [[10**30]]})),
        envelope(work_message(BY_NUMBER[2], **{"updated-by": [{"type": "retraction", "updated": "x"}]})),
    ],
)
def test_malformed_answer_is_refused_not_stored(ws: Path, crossref: FakeCrossref, body: str) -> None:
    crossref.set_sequence(
        BY_NUMBER[2].doi or "", [lambda: Response(body, 200, content_type="application/json")]
    )
    result = run("resolve", "2")
    assert result.exit_code == 1
    assert "bad answer" in result.stdout or "non-JSON" in result.stdout, result.output
    assert stored(ws) == []
    listing = run("refs", "list")
    assert listing.exit_code == 0, listing.output


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        DEEP,
        json.dumps({"doi": "10.1/x", "status": "ok", "message": [1]}),
        json.dumps({"doi": "10.1/x", "status": "ok", "message": {"DOI": "10.1/x", "author": "Smith"}}),
        json.dumps({"doi": ["10.1/x"], "status": "ok", "message": None}),
        json.dumps({"doi": "10.1/x", "status": {"x": 1}, "message": None}),
        json.dumps([1, 2, 3]),
        "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
    ],
)
def test_bad_stored_file_is_skipped_with_one_warning(ws: Path, content: str) -> None:
    cache = ws / "refs" / "crossref"
    cache.mkdir()
    (cache / "work-bad.json").write_text(content, encoding="utf-8")
    good = work_message(BY_NUMBER[1])
    work = {"doi": BY_NUMBER[1].doi, "status": "ok", "fetched_at": "", "pool": "polite", "message": good}
    (cache / f"work-{BY_NUMBER[1].number}.json").write_text(json.dumps(work), encoding="utf-8")
    result = run("refs", "list")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if "work-bad.json" in line]
    assert len(warnings) == 1 and warnings[0].startswith("Warning: ") and "skipped" in warnings[0]
    assert "Traceback" not in result.output
    assert refs_json()[1]["check"] == "ok"  # the good file still counts
    offline = run("resolve", "--offline", "1")
    assert offline.exit_code == 0 and offline.stdout == ""


def test_search_file_with_bad_candidates_is_skipped(ws: Path) -> None:
    ref = next(r for r in BY_NUMBER.values() if not r.doi and r.kind == "article")
    cache = ws / "refs" / "crossref"
    cache.mkdir()
    name = Path(search_path_for(ws, ref.raw)).name
    bad = {"reference": ref.raw, "accepted": None, "candidates": [{"score": "high", "message": {}}]}
    (cache / name).write_text(json.dumps(bad), encoding="utf-8")
    result = run("refs", "list")
    assert result.exit_code == 0, result.output
    assert sum(name in line for line in result.stderr.splitlines()) == 1


def search_path_for(home: Path, raw: str) -> str:
    import hashlib

    digest = hashlib.sha256(" ".join(raw.split()).encode()).hexdigest()[:16]
    return str(home / "refs" / "crossref" / f"search-{digest}.json")


def test_update_flags_survive_odd_shapes() -> None:
    from exocli.verify import update_flags

    odd: dict[str, Any] = {
        "updated-by": [
            "x",
            {"type": "retraction", "updated": []},
            {"type": "retraction", "updated": {"date-parts": "2020"}},
            {"type": "retraction", "updated": {"date-parts": [2020]}},
        ]
    }
    flags = update_flags(odd)
    assert [f["date"] for f in flags] == ["", "", ""]


# --- 13b, 16, 19: settings are checked before any request --------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EXOCLI_CROSSREF_TIMEOUT", "abc"),
        ("EXOCLI_CROSSREF_TIMEOUT", "0"),
        ("EXOCLI_CROSSREF_TIMEOUT", "nan"),
        ("EXOCLI_CROSSREF_TRIES", "0"),
        ("EXOCLI_CROSSREF_TRIES", "-2"),
        ("EXOCLI_CROSSREF_TRIES", "1.5"),
        ("EXOCLI_CROSSREF_BACKOFF", "-1"),
        ("EXOCLI_CROSSREF_URL", ""),
        ("EXOCLI_CROSSREF_URL", "ftp://127.0.0.1/"),
        ("EXOCLI_CROSSREF_URL", "not a url"),
        ("EXOCLI_CROSSREF_URL", "http://"),
    ],
)
def test_invalid_setting_is_one_clear_error(
    ws: Path, crossref: FakeCrossref, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    result = run("resolve", "1")
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and name in lines[0]
    assert crossref.log == [] and stored(ws) == []


# --- 15: a DOI is one path segment -----------------------------------------------------------


def test_doi_with_dot_segments_stays_under_works(ws: Path, crossref: FakeCrossref) -> None:
    doi = "10.9999/../../../secret/x"
    result = run("resolve", doi)
    assert "not in Crossref" in result.stdout, result.output
    assert crossref.raw_paths == ["/works/10.9999%2F..%2F..%2F..%2Fsecret%2Fx"]


# --- 19: offline targets, HTML pages, other DOIs, trickling servers ----------------------------


def test_offline_reports_just_the_named_refs(ws: Path, crossref: FakeCrossref) -> None:
    result = run("resolve", "--offline", "1", "9")
    assert result.exit_code == 0, result.output
    assert [line.split("]")[0] for line in result.stdout.splitlines()] == ["[1", "[9"]
    missing = run("resolve", "--offline", "999")
    assert missing.exit_code == 1 and "reference 999 is not in the reference list" in missing.stderr
    assert crossref.log == []


@pytest.mark.parametrize("status", [200, 403, 502])
def test_html_page_is_named_as_such(ws: Path, crossref: FakeCrossref, status: int) -> None:
    page = "<!DOCTYPE html><html><body>Please log in</body></html>"
    crossref.set_sequence(BY_NUMBER[1].doi or "", [lambda: Response(page, status, content_type="text/html")])
    result = run("resolve", "1")
    assert result.exit_code == 1
    assert f"answered {status} with an HTML page" in result.stdout, result.output
    assert "rejected by Crossref" not in result.stdout


def test_record_of_another_doi_is_refused(ws: Path, crossref: FakeCrossref) -> None:
    ref = BY_NUMBER[3]
    crossref.set_work(ref.doi or "", work_message(ref, DOI="10.5555/someone.else"))
    result = run("resolve", "3")
    assert result.exit_code == 1
    assert "another DOI (10.5555/someone.else)" in result.stdout, result.output
    assert stored(ws) == []
    # the same DOI in other letters is the same DOI
    crossref.set_work(ref.doi or "", work_message(ref, DOI=(ref.doi or "").upper()))
    assert run("resolve", "3").exit_code == 0


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """Sends a 200 with headers at once, then one byte of body every 0.3 s, for ever."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                )
                while not stop.is_set():
                    conn.sendall(b" ")
                    time.sleep(0.3)
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


def test_timeout_is_a_deadline_for_the_whole_request(
    ws: Path, monkeypatch: pytest.MonkeyPatch, trickling_server: str
) -> None:
    monkeypatch.setenv("EXOCLI_CROSSREF_URL", trickling_server)
    monkeypatch.setenv("EXOCLI_CROSSREF_TIMEOUT", "1")
    monkeypatch.setenv("EXOCLI_CROSSREF_TRIES", "1")
    started = time.monotonic()
    result = run("resolve", "1")
    elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert "timed out" in result.stdout, result.output
    assert elapsed < 2.5  # ~1 s of request plus the command itself; a per-read timeout never ends


# --- 22a: long DOIs ----------------------------------------------------------------------------


def test_long_doi_is_cached_under_a_hashed_name(ws: Path, crossref: FakeCrossref) -> None:
    doi = "10.5555/" + "a" * 300
    crossref.set_work(doi, {"DOI": doi, "type": "journal-article", "title": ["Long"]})
    result = run("resolve", doi)
    assert result.exit_code == 0, result.output
    names = stored(ws)
    assert len(names) == 1 and names[0].startswith("work-sha256-") and len(names[0]) < 255
    again = run("resolve", doi)
    assert "already resolved" in again.stderr and len(crossref.log) == 1
    # ordinary DOIs keep the names earlier versions gave them
    ref = BY_NUMBER[1]
    assert work_path(Workspace(ws), ref.doi or "").name == "work-10.1016%2Fs1474-4422%2818%2930444-7.json"


# --- 23: no network ----------------------------------------------------------------------------


def test_refused_connection_stops_the_run(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed when the block ends: a refused port
    monkeypatch.setenv("EXOCLI_CROSSREF_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("EXOCLI_CROSSREF_TRIES", "4")
    monkeypatch.setenv("EXOCLI_CROSSREF_BACKOFF", "1")
    targets = [str(ref.number) for ref in WITH_DOI[:18]]
    started = time.monotonic()
    result = run("resolve", *targets)
    assert time.monotonic() - started < 3
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 18
    assert 1 <= sum("network unreachable" in line for line in lines) <= 3  # those in flight
    assert sum("not checked (the network is down)" in line for line in lines) >= 15
    assert "18 references could not be checked" in result.stderr
