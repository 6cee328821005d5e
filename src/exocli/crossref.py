"""Crossref through habanero: polite, rate-limited, retried, and cached as text in refs/crossref/.

Every fetched record is written to its own JSON file the moment it arrives, so an
interrupted run loses nothing and the next run carries on with what is left. The
database tables are derived from those files (see store.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from exocli import __version__
from exocli.errors import DataError
from exocli.refparse import ParsedReference, doi_key
from exocli.textio import atomic_write
from exocli.workspace import Workspace

DEFAULT_URL = "https://api.crossref.org"
PROJECT_URL = "https://github.com/exocli/exocli"
# Crossref's limits since December 2025: (requests per second, at once) per pool.
LIMITS = {
    "polite": {"single_rate": 10.0, "list_rate": 3.0, "concurrency": 3},
    "public": {"single_rate": 5.0, "list_rate": 1.0, "concurrency": 1},
}


@dataclass(frozen=True)
class Settings:
    base_url: str
    mailto: str | None
    timeout: float = 10.0
    max_tries: int = 4
    backoff: float = 1.0  # seconds; doubled per try, with jitter
    max_retry_after: float = 60.0

    @property
    def pool(self) -> str:
        return "polite" if self.mailto else "public"

    @property
    def user_agent(self) -> str:
        contact = f"; mailto:{self.mailto}" if self.mailto else ""
        return f"exocli/{__version__} ({PROJECT_URL}{contact})"

    @classmethod
    def from_workspace(cls, ws: Workspace) -> Settings:
        env = os.environ
        configured = ws.config.get("crossref", {}).get("mailto") or None
        mailto = env.get("EXOCLI_MAILTO") or configured
        if mailto is not None and ("@" not in mailto or any(c in mailto for c in " ()<>;")):
            raise DataError(
                f"mailto {mailto!r} is not an e-mail address (EXOCLI_MAILTO or [crossref] mailto)"
            )
        return cls(
            base_url=(env.get("EXOCLI_CROSSREF_URL") or DEFAULT_URL).rstrip("/"),
            mailto=mailto,
            timeout=float(env.get("EXOCLI_CROSSREF_TIMEOUT", "10")),
            max_tries=int(env.get("EXOCLI_CROSSREF_TRIES", "4")),
            backoff=float(env.get("EXOCLI_CROSSREF_BACKOFF", "1.0")),
        )


class RateLimiter:
    """At most `rate` starts in any one-second window (a sliding window, shared by threads)."""

    _lock = threading.Lock()  # one lock for all limiters, so a start can hold several at once

    # A start is counted when the slot is handed out, a few ms before the request reaches
    # the server; the margin keeps the server's own count within the limit too.
    MARGIN = 0.1

    def __init__(self, rate: float, window: float = 1.0) -> None:
        self.capacity = max(1, int(rate))
        self.window = (window + self.MARGIN) * self.capacity / rate
        self._starts: deque[float] = deque()

    def _wait_needed(self, now: float) -> float:
        while self._starts and now - self._starts[0] >= self.window:
            self._starts.popleft()
        return 0.0 if len(self._starts) < self.capacity else self.window - (now - self._starts[0])

    def acquire(self) -> None:
        acquire_all((self,))


def acquire_all(limiters: tuple[RateLimiter, ...]) -> None:
    """Wait until every limiter has room, then count one start in each, atomically."""
    while True:
        with RateLimiter._lock:
            now = time.monotonic()
            wait = max(limiter._wait_needed(now) for limiter in limiters)
            if wait <= 0:
                for limiter in limiters:
                    limiter._starts.append(now)
                return
        time.sleep(max(wait, 0.001))


@dataclass
class Outcome:
    """What one request ended as: ok (body), not_found, or failed (with why)."""

    status: str
    body: Any = None
    error: str = ""
    tries: int = 0


class Client:
    """One habanero call per request; retries 429 (Retry-After), 5xx and timeouts."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        from habanero import Crossref

        self.settings = settings
        limits = LIMITS[settings.pool]
        self.concurrency = int(limits["concurrency"])
        self.single = RateLimiter(limits["single_rate"])
        self.lists = RateLimiter(limits["list_rate"])
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._sleep = sleep
        self.requests = 0
        self._count_lock = threading.Lock()
        self._crossref = Crossref(
            base_url=settings.base_url,
            mailto=None,  # the contact goes in exocli's own User-Agent below
            ua_string=settings.user_agent,
            timeout=settings.timeout,
        )

    def work(self, doi: str) -> Outcome:
        # habanero puts the id into the path as is: quote what would break a URL (#, ?, %, space)
        return self._call((self.single,), lambda: self._crossref.works(ids=[quote(doi, safe="/()<>;:")]))

    def search(self, bibliographic: str, author: str | None, rows: int = 5) -> Outcome:
        params: dict[str, Any] = {"query_bibliographic": bibliographic, "limit": rows}
        if author:
            params["query_author"] = author
        # Crossref counts list queries apart from single records (3/s vs 10/s polite); the
        # at-once limit is shared through the slots in _call.
        return self._call((self.lists,), lambda: self._crossref.works(**params))

    def _call(self, limiters: tuple[RateLimiter, ...], request: Callable[[], Any]) -> Outcome:
        last_error = ""
        attempt = 0
        for attempt in range(1, self.settings.max_tries + 1):
            with self._slots:
                acquire_all(limiters)  # after taking a slot, so the counted start is the real one
                with self._count_lock:
                    self.requests += 1
                try:
                    body = request()
                except Exception as exc:
                    kind, status, retry_after = classify(exc)
                else:
                    if not isinstance(body, dict) or "message" not in body:
                        kind, status, retry_after = "bad_body", None, None
                    else:
                        return Outcome("ok", body["message"], tries=attempt)
            if kind == "not_found":
                return Outcome("not_found", error="404 not found", tries=attempt)
            last_error = describe(kind, status)
            if kind not in ("rate_limited", "server", "timeout", "network", "bad_body"):
                return Outcome("failed", error=last_error, tries=attempt)
            if attempt == self.settings.max_tries:
                break
            if kind == "rate_limited" and retry_after is not None:
                delay = min(retry_after, self.settings.max_retry_after)
            else:
                delay = self.settings.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
            self._sleep(delay)
        return Outcome("failed", error=f"{last_error} after {self.settings.max_tries} tries", tries=attempt)


def classify(exc: BaseException) -> tuple[str, int | None, float | None]:
    """(kind, HTTP status, Retry-After seconds) for an exception out of habanero/httpx2."""
    import httpx2

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, httpx2.HTTPStatusError):
            status = current.response.status_code
            if status == 404:
                return "not_found", status, None
            if status == 429:
                return "rate_limited", status, _retry_after(current.response.headers.get("Retry-After"))
            if status >= 500:
                return "server", status, None
            return "client", status, None
        if isinstance(current, httpx2.TimeoutException):
            return "timeout", None, None
        if isinstance(current, httpx2.TransportError):
            return "network", None, None
        if isinstance(current, ValueError | KeyError | TypeError):
            # JSONDecodeError (truncated or non-JSON body) or a body missing what habanero reads
            return "bad_body", None, None
        status_code = getattr(current, "status_code", None)
        if isinstance(status_code, int):  # habanero.RequestError
            if status_code == 404:
                return "not_found", 404, None
            if status_code == 429:
                return "rate_limited", 429, None
            return ("server" if status_code >= 500 else "client"), status_code, None
        current = current.__cause__ or current.__context__
    return "error", None, None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


def describe(kind: str, status: int | None) -> str:
    return {
        "rate_limited": "429 too many requests",
        "server": f"{status} server error",
        "timeout": "timed out",
        "network": "network unreachable",
        "bad_body": "truncated or non-JSON response",
        "client": f"{status} rejected by Crossref",
    }.get(kind, "request failed")


# --- the text cache under refs/crossref/ ---------------------------------------------------------


def work_path(ws: Workspace, doi: str) -> Path:
    return ws.crossref_dir / f"work-{quote(doi_key(doi), safe='')}.json"


def search_path(ws: Workspace, raw: str) -> Path:
    digest = hashlib.sha256(" ".join(raw.split()).encode()).hexdigest()[:16]
    return ws.crossref_dir / f"search-{digest}.json"


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def read_cache(ws: Workspace) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(works by DOI key, searches by raw-reference digest file name) from refs/crossref/."""
    works: dict[str, dict[str, Any]] = {}
    searches: dict[str, dict[str, Any]] = {}
    if not ws.crossref_dir.is_dir():
        return works, searches
    for path in sorted(ws.crossref_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError(f"{ws.relative(path)}: not a readable Crossref record ({exc})") from exc
        if path.name.startswith("work-") and isinstance(data, dict) and data.get("doi"):
            works[doi_key(str(data["doi"]))] = data
        elif path.name.startswith("search-") and isinstance(data, dict):
            searches[path.name] = data
    return works, searches


# --- resolving ---------------------------------------------------------------------------------


@dataclass
class Task:
    label: str
    ref: ParsedReference | None
    doi: str | None


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    requests: int = 0
    unchecked: list[str] = field(default_factory=list)

    def add(self, status: str, line: str) -> None:
        self.counts[status] = self.counts.get(status, 0) + 1
        self.lines.append(line)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)


def plan(
    ws: Workspace, references: list[ParsedReference], targets: list[str], refresh: bool
) -> tuple[list[Task], list[str]]:
    """Which references (or bare DOIs) need a request; and notes on those skipped."""
    from exocli.refparse import try_normalize_doi

    works, searches = read_cache(ws)
    by_number = {ref.number: ref for ref in references}
    by_doi = {doi_key(ref.doi): ref for ref in references if ref.doi}
    chosen: list[tuple[ParsedReference | None, str | None]] = []
    notes: list[str] = []
    for target in targets:
        if target.isdigit():
            ref = by_number.get(int(target))
            if ref is None:
                raise DataError(f"reference {target} is not in the reference list")
            chosen.append((ref, ref.doi))
            continue
        doi = try_normalize_doi(target)
        if doi is None:
            raise DataError(f"{target!r} is neither a reference number nor a DOI")
        chosen.append((by_doi.get(doi_key(doi)), doi))
    if not targets:
        chosen = [(ref, ref.doi) for ref in references]
    tasks = []
    for ref, doi in chosen:
        label = f"[{ref.number}]" if ref is not None else doi or "?"
        if ref is not None and ref.kind == "web" and not doi:
            notes.append(f"{label} web page: nothing to resolve")
            continue
        cached = (
            doi_key(doi) in works if doi else ref is not None and search_path(ws, ref.raw).name in searches
        )
        if cached and not refresh:
            if targets:
                notes.append(f"{label} already resolved (use --refresh to fetch again)")
            continue
        tasks.append(Task(label, ref, doi))
    return tasks, notes


def resolve(
    ws: Workspace,
    tasks: list[Task],
    settings: Settings,
    on_result: Callable[[str, str], None] | None = None,
) -> Summary:
    """Run the tasks concurrently within the pool's limits; store each result as it arrives."""
    from concurrent.futures import ThreadPoolExecutor, as_completed

    client = Client(settings)
    summary = Summary()
    with ThreadPoolExecutor(max_workers=client.concurrency) as pool:
        futures = {pool.submit(_run_task, ws, client, task): task for task in tasks}
        try:
            for future in as_completed(futures):
                status, line = future.result()
                summary.add(status, line)
                if on_result:
                    on_result(status, line)
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            raise
    summary.requests = client.requests
    return summary


def _run_task(ws: Workspace, client: Client, task: Task) -> tuple[str, str]:
    from exocli.verify import choose_candidate, update_flags, verify

    if task.doi:
        outcome = client.work(task.doi)
        if outcome.status == "failed":
            return "failed", f"{task.label} {task.doi}: {outcome.error}"
        record = {
            "doi": task.doi,
            "status": outcome.status,
            "fetched_at": now(),
            "pool": client.settings.pool,
            "message": outcome.body if outcome.status == "ok" else None,
        }
        write_json(work_path(ws, task.doi), record)
        if outcome.status == "not_found":
            return "not_found", f"{task.label} {task.doi}: not in Crossref"
        if task.ref is None:
            return "stored", f"{task.label}: stored (not in the reference list)"
        verdict = verify(task.ref, outcome.body)
        flags = sorted({flag["label"] for flag in update_flags(outcome.body)})
        flagged = f" ({', '.join(flags)})" if flags else ""
        if verdict.status == "ok":
            return "ok", f"{task.label} {task.doi}: ok{flagged}"
        return "mismatch", f"{task.label} {task.doi}: mismatch{flagged}: {'; '.join(verdict.differences)}"
    assert task.ref is not None
    ref = task.ref
    query = " ".join(p for p in (ref.title or ref.raw, ref.journal, str(ref.year or "")) if p)
    outcome = client.search(query, ref.first_author)
    if outcome.status != "ok":
        return "failed", f"{task.label} search: {outcome.error or outcome.status}"
    items = list((outcome.body or {}).get("items") or [])
    choice = choose_candidate(ref, items)
    candidates = [
        {"score": score, "doi": item.get("DOI"), "message": item} for score, item in choice.scored[:5]
    ]
    accepted = choice.accepted
    search = {
        "reference": ref.raw,
        "query": query,
        "author": ref.first_author,
        "searched_at": now(),
        "pool": client.settings.pool,
        "method": "bibliographic",
        "accepted": accepted.get("DOI") if accepted else None,
        "candidates": candidates,
    }
    write_json(search_path(ws, ref.raw), search)
    if accepted is None:
        status = "ambiguous" if candidates else "no_match"
        best = f" (best {candidates[0]['score']:.2f}: {candidates[0]['doi']})" if candidates else ""
        return status, f"{task.label} no DOI: {status}{best}"
    doi = str(accepted.get("DOI"))
    write_json(
        work_path(ws, doi),
        {"doi": doi, "status": "ok", "fetched_at": now(), "pool": client.settings.pool, "message": accepted},
    )
    return "found", f"{task.label} no DOI: found {doi} (score {candidates[0]['score']:.2f})"


def offline_report(ws: Workspace, references: Iterable[ParsedReference]) -> list[str]:
    """References that have no stored Crossref answer (what an offline run cannot check)."""
    works, searches = read_cache(ws)
    missing = []
    for ref in references:
        if ref.kind == "web" and not ref.doi:
            continue
        if ref.doi and doi_key(ref.doi) not in works:
            missing.append(f"[{ref.number}] {ref.doi}: not checked (no stored record)")
        elif not ref.doi and search_path(ws, ref.raw).name not in searches:
            missing.append(f"[{ref.number}] no DOI: not searched yet")
    return missing
