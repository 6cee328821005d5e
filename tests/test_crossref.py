"""`exocli resolve` against a local Crossref stand-in (pytest-httpserver on loopback).

habanero and httpx2 really run; the server answers with bodies shaped like Crossref's
(`status`, `message-type`, `message`), built from the shipped reference list.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from exocli.cli import app
from exocli.crossref import RateLimiter, acquire_all, classify
from exocli.reflists import parse_reference_list
from exocli.refparse import ParsedReference
from helpers import REVIEW_LIST, copy_workspace, point_at_crossref

ROOT = Path(__file__).resolve().parents[1]
REFERENCES = parse_reference_list(REVIEW_LIST.read_text(encoding="utf-8")).references
BY_NUMBER = {ref.number: ref for ref in REFERENCES}
WITH_DOI = [ref for ref in REFERENCES if ref.doi]
WITHOUT_DOI = [ref for ref in REFERENCES if not ref.doi and ref.kind == "article"]


def work_message(ref: ParsedReference, **changes: Any) -> dict[str, Any]:
    """A Crossref `work` message as Crossref shapes it, describing `ref`."""
    message: dict[str, Any] = {
        "DOI": ref.doi or f"10.5555/found.{ref.number}",
        "type": "journal-article",
        "title": [ref.title],
        "subtitle": [],
        "author": [
            {"given": a.given, "family": a.family, "sequence": "first" if i == 0 else "additional"}
            for i, a in enumerate(ref.authors)
        ],
        "container-title": [ref.journal],
        "short-container-title": [ref.journal],
        "issued": {"date-parts": [[ref.year]]},
        "published-print": {"date-parts": [[ref.year]]},
        "volume": ref.volume,
        "issue": ref.issue,
        "page": (ref.pages or "").replace("–", "-"),
        "publisher": "Test Publisher",
    }
    message.update(changes)
    return message


def envelope(message: dict[str, Any], kind: str = "work") -> str:
    return json.dumps({"status": "ok", "message-type": kind, "message-version": "1.0.0", "message": message})


def work_list(items: list[dict[str, Any]]) -> str:
    return envelope(
        {"facets": {}, "total-results": len(items), "items": items, "items-per-page": 5, "query": {}},
        kind="work-list",
    )


class FakeCrossref:
    """Serves /works/{doi} and /works?query.bibliographic=... and records every request."""

    def __init__(self, server: HTTPServer, latency: float = 0.0) -> None:
        self.server = server
        self.latency = latency
        self.works: dict[str, Callable[[int], Response]] = {}
        self.searches: dict[str, list[dict[str, Any]]] = {}
        self.log: list[tuple[float, float, str, str]] = []  # start, end, path, user agent
        self.calls: dict[str, int] = {}
        self.raw_paths: list[str] = []  # as sent, before the server decodes them
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        for ref in WITH_DOI:
            self.set_work(ref.doi or "", work_message(ref))
        server.expect_request("/works").respond_with_handler(self.search)
        server.expect_request(re.compile(r"^/works/.+")).respond_with_handler(self.work)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def set_work(self, doi: str, message: dict[str, Any] | None) -> None:
        if message is None:
            self.works[doi.lower()] = lambda n: Response(
                "Resource not found.", 404, content_type="text/plain"
            )
        else:
            body = envelope(message)
            self.works[doi.lower()] = lambda n: Response(body, 200, content_type="application/json")

    def set_sequence(self, doi: str, responses: list[Callable[[], Response]]) -> None:
        """Answer the n-th request for `doi` with responses[n] (the last one repeats)."""
        self.works[doi.lower()] = lambda n: responses[min(n, len(responses) - 1)]()

    def _enter(self, request: Request) -> float:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.raw_paths.append(str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")))
        return time.monotonic()

    def _leave(self, start: float, request: Request) -> None:
        with self.lock:
            self.in_flight -= 1
            self.log.append(
                (start, time.monotonic(), request.full_path, request.headers.get("User-Agent", ""))
            )

    def work(self, request: Request) -> Response:
        start = self._enter(request)
        try:
            time.sleep(self.latency)
            doi = request.path[len("/works/") :].lower()
            with self.lock:
                count = self.calls.get(doi, 0)
                self.calls[doi] = count + 1
            answer = self.works.get(doi)
            if answer is None:
                return Response("Resource not found.", 404, content_type="text/plain")
            return answer(count)
        finally:
            self._leave(start, request)

    def search(self, request: Request) -> Response:
        start = self._enter(request)
        try:
            time.sleep(self.latency)
            author = request.args.get("query.author", "")
            return Response(work_list(self.searches.get(author, [])), 200, content_type="application/json")
        finally:
            self._leave(start, request)

    def requested_dois(self) -> list[str]:
        return [
            path.split("?")[0][len("/works/") :].lower()
            for _, _, path, _ in self.log
            if path.startswith("/works/")
        ]


@pytest.fixture
def crossref(threaded_server: HTTPServer) -> Iterator[FakeCrossref]:
    yield FakeCrossref(threaded_server)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crossref: FakeCrossref) -> Path:
    home = tmp_path / "ws"
    home.mkdir()
    home.rmdir()
    copy_workspace(home)
    point_at_crossref(monkeypatch, home, crossref.url)
    return home


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def refs_json() -> dict[int, dict[str, Any]]:
    result = run("refs", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return {r["number"]: r for r in json.loads(result.stdout)}


def test_all_89_dois_resolve_and_verify(ws: Path, crossref: FakeCrossref) -> None:
    result = run("resolve")
    assert result.exit_code == 0, result.output
    refs = refs_json()
    assert sum(1 for r in refs.values() if r["check"] == "ok") == 89
    assert {n for n, r in refs.items() if r["doi"] and r["check"] != "ok"} == set()
    # searches found nothing for the five references without DOI
    assert {n for n, r in refs.items() if r["check"] == "no_match"} == {ref.number for ref in WITHOUT_DOI}
    assert "89 ok" in result.stderr and "polite pool" in result.stderr
    agents = {agent for _, _, _, agent in crossref.log}
    assert all("exocli/0.1.0 (" in agent and "mailto:curator@example.org" in agent for agent in agents)
    # every record is kept as text for offline use
    assert len(list((ws / "refs" / "crossref").glob("work-*.json"))) == 89


def test_doi_pointing_at_another_paper_is_a_mismatch(ws: Path, crossref: FakeCrossref) -> None:
    ref = BY_NUMBER[44]
    crossref.set_work(
        ref.doi or "",
        work_message(
            ref,
            title=["Growth of juvenile salmon in cold water"],
            author=[{"family": "Nobody", "given": "A", "sequence": "first"}],
        ),
    )
    result = run("resolve", "44")
    assert result.exit_code == 0, result.output
    assert "[44]" in result.stdout and "mismatch" in result.stdout and "another paper" in result.stdout
    refs = refs_json()
    assert refs[44]["check"] == "mismatch"
    assert any("first author" in d for d in refs[44]["differences"])


def test_reference_without_doi_found_by_bibliographic_search(ws: Path, crossref: FakeCrossref) -> None:
    ref = BY_NUMBER[32]  # Zhang L, Han P. 2022, no DOI in the review
    found = work_message(ref, DOI="10.5555/jmni.2022.411")
    decoy = work_message(BY_NUMBER[33], DOI="10.5555/decoy")
    crossref.searches["Zhang"] = [decoy, found]
    result = run("resolve", "32")
    assert result.exit_code == 0, result.output
    assert "found 10.5555/jmni.2022.411" in result.stdout
    refs = refs_json()
    assert refs[32]["check"] == "ok" and refs[32]["found_doi"] == "10.5555/jmni.2022.411"
    searches = [path for _, _, path, _ in crossref.log if path.startswith("/works?")]
    assert (
        len(searches) == 1 and "query.bibliographic=" in searches[0] and "query.author=Zhang" in searches[0]
    )


def test_ambiguous_search_is_left_for_the_curator(ws: Path, crossref: FakeCrossref) -> None:
    ref = BY_NUMBER[9]
    twin_a = work_message(ref, DOI="10.5555/twin.a")
    twin_b = work_message(ref, DOI="10.5555/twin.b")
    crossref.searches["Mukhamedshina"] = [twin_a, twin_b]
    result = run("resolve", "9")
    assert result.exit_code == 0, result.output
    assert "ambiguous" in result.stdout
    shown = run("refs", "show", "9", "--format", "json")
    data = json.loads(shown.stdout)
    assert data["check"] == "ambiguous" and data["found_doi"] is None
    assert [c["doi"] for c in data["candidates"]] == ["10.5555/twin.a", "10.5555/twin.b"]
    text = run("refs", "show", "9")
    assert "10.5555/twin.a" in text.stdout and "Candidates" in text.stdout


def test_retraction_is_flagged_in_lists_and_query_tables(ws: Path, crossref: FakeCrossref) -> None:
    ref = BY_NUMBER[50]
    notice = {
        "DOI": "10.1016/j.neuint.2025.999999",
        "type": "retraction",
        "source": "retraction-watch",
        "label": "Retraction",
        "updated": {"date-parts": [[2025, 6, 1]]},
    }
    crossref.set_work(ref.doi or "", work_message(ref, **{"updated-by": [notice]}))
    assert run("resolve", "50").exit_code == 0
    assert refs_json()[50]["flags"] == ["retracted"]
    listing = run("refs", "list")
    assert "retracted" in listing.stdout
    table = run("query", "--ref", "50")
    assert "retracted" in table.stdout


def test_faults_are_retried_or_reported(
    ws: Path, crossref: FakeCrossref, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXOCLI_CROSSREF_TIMEOUT", "0.5")
    ok = {n: envelope(work_message(BY_NUMBER[n])) for n in (1, 2, 3, 4, 5, 6)}

    def good(n: int) -> Callable[[], Response]:
        return lambda: Response(ok[n], 200, content_type="application/json")

    def slow(n: int) -> Callable[[], Response]:
        def answer() -> Response:
            time.sleep(1.0)
            return good(n)()

        return answer

    crossref.set_sequence(
        BY_NUMBER[1].doi or "", [lambda: Response("{}", 429, headers={"Retry-After": "1"}), good(1)]
    )
    crossref.set_sequence(BY_NUMBER[2].doi or "", [lambda: Response("oops", 500), good(2)])
    crossref.set_sequence(BY_NUMBER[3].doi or "", [slow(3), good(3)])
    crossref.set_sequence(
        BY_NUMBER[4].doi or "", [lambda: Response(ok[4][:50], 200, content_type="application/json"), good(4)]
    )
    crossref.set_sequence(BY_NUMBER[5].doi or "", [lambda: Response("down", 503)])  # never recovers
    crossref.set_sequence(
        BY_NUMBER[6].doi or "", [lambda: Response(ok[6][:80], 200, content_type="application/json")]
    )
    started = time.monotonic()
    result = run("resolve", "1", "2", "3", "4", "5", "6", "7")
    assert result.exit_code == 1
    assert "Error: 2 references could not be checked" in result.stderr
    lines = {line.split("]")[0].lstrip("["): line for line in result.stdout.splitlines()}
    assert lines["1"].endswith(": ok") and lines["2"].endswith(": ok")
    assert lines["3"].endswith(": ok") and lines["4"].endswith(": ok") and lines["7"].endswith(": ok")
    assert "503 server error after 4 tries" in lines["5"]
    assert "truncated or non-JSON response after 4 tries" in lines["6"]
    calls = crossref.calls
    assert calls[(BY_NUMBER[1].doi or "").lower()] == 2
    assert calls[(BY_NUMBER[5].doi or "").lower()] == 4
    # the 429 asked for one second
    first_429 = [
        s for s, _, p, _ in crossref.log if p.lower().startswith(f"/works/{BY_NUMBER[1].doi}".lower())
    ]
    assert first_429[1] - first_429[0] >= 0.95
    assert time.monotonic() - started < 30
    refs = refs_json()
    assert refs[5]["check"] == "unchecked" and refs[6]["check"] == "unchecked"
    # the next run asks only for what failed
    before = len(crossref.requested_dois())
    crossref.set_work(BY_NUMBER[5].doi or "", work_message(BY_NUMBER[5]))
    crossref.set_work(BY_NUMBER[6].doi or "", work_message(BY_NUMBER[6]))
    again = run("resolve", "1", "2", "3", "4", "5", "6", "7")
    assert again.exit_code == 0, again.output
    assert sorted(crossref.requested_dois()[before:]) == sorted(
        [(BY_NUMBER[5].doi or "").lower(), (BY_NUMBER[6].doi or "").lower()]
    )


def test_not_found_and_invalid_doi(ws: Path, crossref: FakeCrossref) -> None:
    crossref.set_work(BY_NUMBER[10].doi or "", None)
    result = run("resolve", "10")
    assert result.exit_code == 0
    assert "not in Crossref" in result.stdout
    assert refs_json()[10]["check"] == "not_found"
    bad = run("resolve", "not-a-doi")
    assert bad.exit_code == 1 and "neither a reference number nor a DOI" in bad.stderr
    missing = run("resolve", "999")
    assert missing.exit_code == 1 and "reference 999 is not in the reference list" in missing.stderr


def test_second_run_sends_nothing_and_offline_changes_nothing(ws: Path, crossref: FakeCrossref) -> None:
    assert run("resolve").exit_code == 0
    sent = len(crossref.log)
    again = run("resolve")
    assert again.exit_code == 0
    assert len(crossref.log) == sent
    assert "0 requests" in again.stderr
    stored = sorted(p.name for p in (ws / "refs" / "crossref").iterdir())
    offline = run("resolve", "--offline")
    assert offline.exit_code == 0 and "nothing was sent" in offline.stderr
    assert sorted(p.name for p in (ws / "refs" / "crossref").iterdir()) == stored
    assert len(crossref.log) == sent


def test_offline_reports_what_is_unchecked(ws: Path, crossref: FakeCrossref) -> None:
    result = run("resolve", "--offline")
    assert result.exit_code == 0
    assert "[1] 10.1016/S1474-4422(18)30444-7: not checked" in result.stdout
    assert "[9] no DOI: not searched yet" in result.stdout
    assert crossref.log == []
    assert not (ws / "refs" / "crossref").exists()


def test_no_network_reports_each_reference(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXOCLI_CROSSREF_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setenv("EXOCLI_CROSSREF_TRIES", "1")
    result = run("resolve", "1", "2")
    assert result.exit_code == 1
    assert "network unreachable" in result.stdout
    assert not (ws / "refs" / "crossref").exists()


def test_interrupted_run_resumes_without_repeating(ws: Path, crossref: FakeCrossref) -> None:
    crossref.latency = 0.05
    env = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "exocli", "resolve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    cache = ws / "refs" / "crossref"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(cache.glob("work-*.json"))) < 20:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stored = {p.name for p in cache.glob("work-*.json")}
    assert 20 <= len(stored) < 89
    for path in cache.glob("*.json"):
        json.loads(path.read_text(encoding="utf-8"))  # no half-written file
    time.sleep(0.5)  # let the server finish the requests the killed client left in flight
    with crossref.lock:
        first_run = set(crossref.requested_dois())
        before = len(crossref.requested_dois())
    result = run("resolve")
    assert result.exit_code == 0, result.output
    second_run = crossref.requested_dois()[before:]
    stored_dois = {json.loads((cache / name).read_text())["doi"].lower() for name in stored}
    assert not stored_dois & set(second_run)
    missing = {(ref.doi or "").lower() for ref in WITH_DOI} - first_run - set(second_run)
    assert not missing
    assert sum(1 for r in refs_json().values() if r["check"] == "ok") == 89


def max_in_window(starts: list[float], window: float) -> int:
    ordered = sorted(starts)
    return max((sum(1 for s in ordered if a <= s < a + window) for a in ordered), default=0)


@pytest.mark.parametrize(("mailto", "rate", "concurrency"), [("curator@example.org", 10, 3), ("", 5, 1)])
def test_rate_and_concurrency_never_exceed_the_pool_limits(
    ws: Path,
    crossref: FakeCrossref,
    monkeypatch: pytest.MonkeyPatch,
    mailto: str,
    rate: int,
    concurrency: int,
) -> None:
    monkeypatch.setenv("EXOCLI_MAILTO", mailto)
    crossref.latency = 0.2
    targets = [str(ref.number) for ref in WITH_DOI[:30]]
    result = run("resolve", *targets)
    assert result.exit_code == 0, result.output
    starts = [start for start, _, _, _ in crossref.log]
    assert len(starts) == 30
    assert crossref.max_in_flight <= concurrency
    # as the server counts them: no one-second window holds more than the limit
    assert max_in_window(starts, 1.0) <= rate
    assert ("polite" if mailto else "public") in result.stderr


def test_rate_limiter_window() -> None:
    limiter = RateLimiter(3)
    stamps = []
    for _ in range(7):
        limiter.acquire()
        stamps.append(time.monotonic())
    assert max_in_window(stamps, 1.0) <= 3
    assert stamps[-1] - stamps[0] >= 2.0 - 0.01
    # evenly spaced, never a burst
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 1 / 3 - 0.005
    combined = (RateLimiter(10), RateLimiter(2))
    stamps = []
    for _ in range(4):
        acquire_all(combined)
        stamps.append(time.monotonic())
    assert stamps[2] - stamps[0] >= 0.99


def test_classify_errors() -> None:
    import httpx2
    from habanero.exceptions import RequestError

    request = httpx2.Request("GET", "http://127.0.0.1/works/x")
    too_many = httpx2.Response(429, headers={"Retry-After": "7"}, request=request)
    error = httpx2.HTTPStatusError("429", request=request, response=too_many)
    assert classify(error) == ("rate_limited", 429, 7.0)
    assert classify(httpx2.ReadTimeout("slow", request=request))[0] == "timeout"
    assert classify(httpx2.ConnectError("refused", request=request))[0] == "network_down"
    assert classify(json.JSONDecodeError("x", "{", 0))[0] == "bad_body"
    assert classify(RequestError(500, "boom"))[0] == "server"
    assert classify(RuntimeError("wrapped"))[0] == "error"


def test_record_with_missing_fields_is_reported_not_crashed(ws: Path, crossref: FakeCrossref) -> None:
    ref = BY_NUMBER[12]
    crossref.set_work(ref.doi or "", {"DOI": ref.doi, "type": "journal-article"})
    result = run("resolve", "12")
    assert result.exit_code == 0, result.output
    assert "mismatch: title: the Crossref record has none" in result.stdout
    assert refs_json()[12]["check"] == "mismatch"


def test_resolve_updates_reports_flags_added_and_removed_and_fails_on_a_new_retraction(
    ws: Path, crossref: FakeCrossref
) -> None:
    """`resolve --updates` fetches again and compares each record's update flags with the
    stored one's: a new retraction exits 1 (for a co-author's CI), and `check` names the
    claims that cite the paper."""
    wang, other = BY_NUMBER[44], BY_NUMBER[50]
    assert run("resolve", "44", "50").exit_code == 0
    retraction = {
        "DOI": "10.1016/j.bbrep.2026.999999",
        "type": "retraction",
        "source": "publisher",
        "label": "Retraction",
        "updated": {"date-parts": [[2026, 10, 2]]},
    }
    correction = {
        **retraction,
        "DOI": "10.1016/j.neuint.2026.111111",
        "type": "correction",
        "label": "Correction",
    }
    crossref.set_work(wang.doi or "", work_message(wang, **{"updated-by": [retraction]}))
    crossref.set_work(other.doi or "", work_message(other, **{"updated-by": [correction]}))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    result = run("resolve", "--updates", "--ref", "44,50")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"[44] {wang.doi}: flag added (since {today}): retracted (notice 10.1016/j.bbrep.2026.999999, 2026-10-2)",
        f"[50] {other.doi}: flag added (since {today}): corrected (notice 10.1016/j.neuint.2026.111111, 2026-10-2)",
    ]
    assert (
        "Re-checked 2 cited DOIs" in result.stderr
        and "2 flags added, 0 removed, 1 newly retracted" in result.stderr
    )
    assert f"Error: newly retracted: reference 44 ({wang.doi})" in result.stderr
    # the flag reaches check, with the claims that cite the paper
    check = run("check", "-f", "json")
    findings = json.loads(check.stdout)["findings"]
    (found,) = [f for f in findings if f["check"] == "retraction" and f["ref"] == 44]
    assert found["severity"] == "error" and any(e.startswith("cited by claim") for e in found["evidence"])
    # known now: the next run passes and prints nothing
    again = run("resolve", "--updates", "--ref", "44,50")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == "" and "0 flags added, 0 removed" in again.stderr
    # a correction withdrawn from the record is reported as removed
    crossref.set_work(other.doi or "", work_message(other))
    removed = run("resolve", "--updates", "--ref", "50")
    assert removed.exit_code == 0
    assert removed.stdout.splitlines() == [
        f"[50] {other.doi}: flag removed (since {today}): corrected (notice 10.1016/j.neuint.2026.111111, 2026-10-2)"
    ]


def test_resolve_updates_checks_every_cited_doi(ws: Path, crossref: FakeCrossref) -> None:
    result = run("resolve", "--updates")
    assert result.exit_code == 0, result.stderr
    assert "Re-checked 89 cited DOIs (89 requests" in result.stderr
    assert sorted(set(crossref.requested_dois())) == sorted({(r.doi or "").lower() for r in WITH_DOI})
    offline = run("resolve", "--updates", "--offline")
    assert offline.exit_code == 2 and "cannot be --offline" in offline.stderr
