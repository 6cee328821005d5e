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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from exocli import __version__
from exocli.errors import DataError, ExocliError
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
        if mailto is not None and (
            not isinstance(mailto, str) or "@" not in mailto or any(c in mailto for c in " ()<>;")
        ):
            raise DataError(
                f"mailto {mailto!r} is not an e-mail address (EXOCLI_MAILTO or [crossref] mailto)"
            )
        return cls(
            base_url=_base_url(env.get("EXOCLI_CROSSREF_URL")),
            mailto=mailto,
            timeout=_number(
                "EXOCLI_CROSSREF_TIMEOUT", env.get("EXOCLI_CROSSREF_TIMEOUT"), 10.0, minimum=0.001
            ),
            max_tries=int(_number("EXOCLI_CROSSREF_TRIES", env.get("EXOCLI_CROSSREF_TRIES"), 4, whole=True)),
            backoff=_number("EXOCLI_CROSSREF_BACKOFF", env.get("EXOCLI_CROSSREF_BACKOFF"), 1.0, minimum=0.0),
        )


def _base_url(value: str | None) -> str:
    """EXOCLI_CROSSREF_URL: unset means Crossref; anything set must be an http(s) URL."""
    from urllib.parse import urlsplit

    if value is None:
        return DEFAULT_URL
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ExocliError(
            f"EXOCLI_CROSSREF_URL={value!r} is not an http(s) URL such as {DEFAULT_URL}; unset it to use Crossref"
        )
    return value.strip().rstrip("/")


def _number(name: str, value: str | None, default: float, minimum: float = 1, whole: bool = False) -> float:
    """A numeric setting from the environment; a wrong one is an error before any request."""
    import math

    if value is None:
        return default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number < minimum:
        kind = "a whole number" if whole else "a number"
        raise ExocliError(f"{name}={value!r} must be {kind} of at least {minimum:g}")
    return number


class RateLimiter:
    """Requests spaced evenly at `rate` per second (GCRA: one slot every 1/rate seconds).

    Even spacing, not "`rate` per window": a window-based limiter lets a burst through at
    the end of one window and another at the start of the next, and a server counting
    over a sliding second then sees more than the limit. A request is counted as its
    headers are sent (see gate.py), so the server sees the same spacing.
    """

    _lock = threading.Lock()  # one lock for all limiters, so a start can hold several at once

    # Spacing slightly wider than 1/rate: the limit holds for any one-second window at the
    # server while the network delays of requests `rate` apart differ by less than 30 ms
    # (counting as headers are sent, not when a slot is handed out, took most jitter away).
    MARGIN = 0.03

    def __init__(self, rate: float) -> None:
        self.interval = (1.0 + self.MARGIN) / rate
        self._next_free = 0.0

    def acquire(self) -> None:
        acquire_all((self,))


def acquire_all(limiters: tuple[RateLimiter, ...]) -> None:
    """Wait until every limiter has a free slot, then take one in each, atomically."""
    while True:
        with RateLimiter._lock:
            now = time.monotonic()
            wait = max(limiter._next_free - now for limiter in limiters)
            if wait <= 0:
                for limiter in limiters:
                    limiter._next_free = max(limiter._next_free, now) + limiter.interval
                return
        time.sleep(max(wait, 0.001))


@dataclass
class Outcome:
    """What one request ended as: ok (body), not_found, or failed (with why)."""

    status: str
    body: Any = None
    error: str = ""
    tries: int = 0
    said: str = ""  # the server's own words about a refusal (Crossref's validation message)


class Client:
    """One habanero call per request; retries 429 (Retry-After), 5xx and timeouts."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        from habanero import Crossref

        from exocli import gate

        gate.install()
        self.settings = settings
        limits = LIMITS[settings.pool]
        self.concurrency = int(limits["concurrency"])
        self.single = RateLimiter(limits["single_rate"])
        self.lists = RateLimiter(limits["list_rate"])
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._sleep = sleep
        self.requests = 0
        self._count_lock = threading.Lock()
        # Set once a connection is refused or the network is unreachable: the rest of the
        # run would only wait for the same answer, so it stops and reports them unchecked.
        self.network_down = threading.Event()
        self._crossref = Crossref(
            base_url=settings.base_url,
            mailto=None,  # the contact goes in exocli's own User-Agent below
            ua_string=settings.user_agent,
            timeout=settings.timeout,
        )

    def work(self, doi: str) -> Outcome:
        # One path segment: "/" and "." segments encoded, so "10.9999/../x" stays under /works/.
        segment = quote(doi, safe="()<>;:")
        outcome = self._call((self.single,), lambda: self._crossref.works(ids=[segment]))
        if outcome.status == "ok":
            problem = work_problem(outcome.body)
            answered = outcome.body.get("DOI")
            if problem is None and answered and doi_key(str(answered)) != doi_key(doi):
                problem = f"Crossref answered with the record of another DOI ({outcome.body.get('DOI')})"
            if problem is not None:
                return Outcome("failed", error=f"bad answer: {problem}", tries=outcome.tries)
        return outcome

    def search(self, bibliographic: str, author: str | None, rows: int = 5) -> Outcome:
        params: dict[str, Any] = {"query_bibliographic": bibliographic, "limit": rows}
        if author:
            params["query_author"] = author
        # Crossref counts list queries apart from single records (3/s vs 10/s polite); the
        # at-once limit is shared through the slots in _call.
        outcome = self._call((self.lists,), lambda: self._crossref.works(**params))
        if outcome.status == "ok":
            problem = list_problem(outcome.body)
            if problem is not None:
                return Outcome("failed", error=f"bad answer: {problem}", tries=outcome.tries)
        return outcome

    def page(
        self, query: str, filters: dict[str, list[str]], cursor: str, rows: int, select: list[str]
    ) -> Outcome:
        """One page of a cursor-paged list query: `rows` items from `cursor` ("*" starts)."""
        params: dict[str, Any] = {
            "query_bibliographic": query,
            "filter": {name: list(values) for name, values in filters.items()},  # habanero edits it
            "cursor": cursor,
            "cursor_max": rows,
            "limit": rows,
            "select": select,
        }

        def request() -> Any:
            body = self._crossref.works(**params)
            # A page shorter than `rows` makes habanero follow the cursor itself (each of its
            # requests passes the same gate): the pages it fetched become one.
            if isinstance(body, list) and body and all(isinstance(b, dict) for b in body):
                last = body[-1]
                message = dict(last.get("message") or {})
                message["items"] = [i for b in body for i in (b.get("message") or {}).get("items") or []]
                return {**last, "message": message}
            return body

        outcome = self._call((self.lists,), request)
        if outcome.status == "ok":
            problem = list_problem(outcome.body)
            if problem is not None:
                return Outcome("failed", error=f"bad answer: {problem}", tries=outcome.tries)
        return outcome

    def _admit(self, limiters: tuple[RateLimiter, ...]) -> None:
        acquire_all(limiters)
        with self._count_lock:
            self.requests += 1

    def _call(self, limiters: tuple[RateLimiter, ...], request: Callable[[], Any]) -> Outcome:
        from exocli.gate import Gate, gated

        last_error = ""
        said = ""
        attempt = 0
        gate = Gate(admit=lambda: self._admit(limiters), deadline=self.settings.timeout)
        for attempt in range(1, self.settings.max_tries + 1):
            if self.network_down.is_set():
                return Outcome("unchecked", error="not checked: the network is down", tries=attempt - 1)
            said = ""
            with self._slots, gated(gate):
                try:
                    body = request()
                except Exception as exc:
                    kind, status, retry_after = classify(exc)
                    said = server_message(exc)
                else:
                    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
                        kind, status, retry_after = "bad_body", None, None
                    else:
                        return Outcome("ok", body["message"], tries=attempt)
            if kind == "not_found":
                return Outcome("not_found", error="404 not found", tries=attempt)
            last_error = describe(kind, status)
            if kind == "network_down":
                self.network_down.set()
                return Outcome("failed", error=last_error, tries=attempt)
            if kind not in ("rate_limited", "server", "timeout", "network", "bad_body"):
                return Outcome("failed", error=last_error, tries=attempt, said=said)
            if attempt == self.settings.max_tries:
                break
            if kind == "rate_limited" and retry_after is not None:
                delay = min(retry_after, self.settings.max_retry_after)
            else:
                delay = self.settings.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
            self._sleep(delay)
        tries = self.settings.max_tries
        return Outcome(
            "failed",
            error=last_error + (f" after {tries} tries" if tries > 1 else ""),
            tries=attempt,
            said=said,
        )


def classify(exc: BaseException) -> tuple[str, int | None, float | None]:
    """(kind, HTTP status, Retry-After seconds) for an exception out of habanero/httpx2."""
    import httpx2

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or current.__context__
    # The HTTP response, wherever habanero wrapped it, carries the status and Retry-After.
    for error in chain:
        if isinstance(error, httpx2.HTTPStatusError):
            response = error.response
            status = response.status_code
            if status == 404 and not _is_html(response):
                return "not_found", status, None
            if status == 429:
                return "rate_limited", status, _retry_after(response.headers.get("Retry-After"))
            if _is_html(response):
                return "html", status, None
            if status >= 500:
                return "server", status, None
            return "client", status, None
    for error in chain:
        if isinstance(error, httpx2.TimeoutException):
            return "timeout", None, None
        if isinstance(error, httpx2.ConnectError):
            return "network_down", None, None  # refused, unreachable, no such host
        if isinstance(error, httpx2.TransportError):
            return "network", None, None
        if isinstance(error, ValueError | KeyError | TypeError):
            # JSONDecodeError (truncated or non-JSON body) or a body missing what habanero reads
            return "bad_body", None, None
        status_code = getattr(error, "status_code", None)
        if isinstance(status_code, int):  # habanero.RequestError
            text = str(getattr(error, "error", "")).lstrip()[:15].lower()
            if text.startswith(("<!doctype", "<html")):
                return "html", status_code, None
            if status_code < 400:  # a success, but not JSON (habanero checks the content type)
                return "not_json", status_code, None
            if status_code == 404:
                return "not_found", 404, None
            if status_code == 429:
                return "rate_limited", 429, None
            return ("server" if status_code >= 500 else "client"), status_code, None
    return "error", None, None


def server_message(exc: BaseException) -> str:
    """What the server said about a refused request, when it said it in Crossref's JSON:
    a validation failure (`message: [{message: ...}]`, which habanero raises as RequestError)
    or an exception (`message: {message: ...}`). One line, at most 300 characters."""
    import httpx2

    current: BaseException | None = exc
    seen: list[BaseException] = []
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        said: Any = None
        if isinstance(getattr(current, "status_code", None), int) and len(current.args) > 1:
            said = current.args[1]  # habanero.RequestError(status, message)
        elif isinstance(current, httpx2.HTTPStatusError):
            try:
                said = current.response.json().get("message")
            except (ValueError, AttributeError):
                said = None
            if isinstance(said, list):
                said = "; ".join(str(m.get("message", "")) for m in said if isinstance(m, dict))
            elif isinstance(said, dict):
                said = said.get("message") or said.get("description")
        if isinstance(said, str) and said.strip():
            return " ".join(said.split())[:300]
        current = current.__cause__ or current.__context__
    return ""


def _is_html(response: Any) -> bool:
    content_type = str(response.headers.get("Content-Type", "")).lower()
    return "html" in content_type or response.content.lstrip()[:15].lower().startswith(
        (b"<!doctype", b"<html")
    )


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
        "network": "connection lost",
        "network_down": "network unreachable (connection refused or no route)",
        "bad_body": "truncated or non-JSON response",
        "html": f"the server answered {status} with an HTML page, not a Crossref record"
        " (a proxy or login page, or a wrong EXOCLI_CROSSREF_URL?)",
        "not_json": f"the server answered {status} with something other than JSON",
        "client": f"{status} rejected by Crossref",
    }.get(kind, "request failed")


# --- the shape of an answer ------------------------------------------------------------------

# Fields exocli reads from a work, and the JSON type each must have when present.
_WORK_FIELDS: dict[str, type | tuple[type, ...]] = {
    "DOI": str,
    "type": str,
    "title": list,
    "subtitle": list,
    "container-title": list,
    "short-container-title": list,
    "author": list,
    "issued": dict,
    "published-print": dict,
    "published-online": dict,
    "published": dict,
    "volume": str,
    "issue": str,
    "page": str,
    "article-number": str,
    "publisher": str,
    "update-to": list,
    "updated-by": list,
    "relation": dict,
    "abstract": str,
}


def work_problem(message: Any) -> str | None:
    """Why a work record cannot be used (None when its shape is what exocli reads)."""
    if not isinstance(message, dict):
        return f"the record is a {type(message).__name__}, not an object"
    for name, expected in _WORK_FIELDS.items():
        if name in message and message[name] is not None and not isinstance(message[name], expected):
            return f"{name!r} is a {type(message[name]).__name__}"
    for name in ("title", "subtitle", "container-title", "short-container-title"):
        if any(not isinstance(item, str) for item in message.get(name) or []):
            return f"{name!r} holds something other than text"
    for author in message.get("author") or []:
        if not isinstance(author, dict) or any(
            not isinstance(author.get(key, ""), str) for key in ("family", "given", "name")
        ):
            return "'author' holds something other than names"
    for name in ("issued", "published-print", "published-online", "published"):
        parts = (message.get(name) or {}).get("date-parts")
        if parts is not None and (
            not isinstance(parts, list)
            or not all(isinstance(p, list) and all(_date_part(x) for x in p) for p in parts)
        ):
            return f"{name!r} has malformed date-parts"
    for name in ("update-to", "updated-by"):
        if any(
            not isinstance(item, dict) or not isinstance(item.get("updated") or {}, dict)
            for item in message.get(name) or []
        ):
            return f"{name!r} holds something other than objects"
    return None


def _date_part(value: Any) -> bool:
    # SQLite stores integers up to 2**63: a year past that would stop the database build.
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**6)


def _text_or_none(*values: Any) -> bool:
    return all(value is None or isinstance(value, str) for value in values)


def list_problem(message: Any) -> str | None:
    if not isinstance(message, dict) or not isinstance(message.get("items", []), list):
        return "the answer has no list of items"
    for item in message.get("items", []):
        problem = work_problem(item)
        if problem is not None:
            return f"an item: {problem}"
    return None


# --- the text cache under refs/crossref/ ---------------------------------------------------------


def work_path(ws: Workspace, doi: str) -> Path:
    name = f"work-{quote(doi_key(doi), safe='')}.json"
    if len(name.encode()) > 255:  # past the file-name limit: a hash names it (the DOI is inside)
        name = f"work-sha256-{hashlib.sha256(doi_key(doi).encode()).hexdigest()}.json"
    return ws.crossref_dir / name


def search_path(ws: Workspace, raw: str) -> Path:
    digest = hashlib.sha256(" ".join(raw.split()).encode()).hexdigest()[:16]
    return ws.crossref_dir / f"search-{digest}.json"


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stored_text(data: dict[str, Any]) -> str:
    """A stored Crossref answer as refs/crossref/ keeps it (one layout, readable diffs)."""
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, stored_text(data))


def read_cache(
    ws: Workspace, problems: list[str] | None = None, paths: list[Path] | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(works by DOI key, searches by raw-reference digest file name) from refs/crossref/.

    `paths` limits it to those files (a write that changes a few studies reads only theirs).
    A file that cannot be used (not JSON, nested too deeply, the wrong shapes) is skipped
    and described in `problems`: one bad answer must never stop the workspace.
    """
    works: dict[str, dict[str, Any]] = {}
    searches: dict[str, dict[str, Any]] = {}
    if not ws.crossref_dir.is_dir():
        return works, searches
    if paths is not None and len(paths) > 64:
        # an import of thousands of new references: one listing instead of a failed open each
        present = set(os.listdir(ws.crossref_dir))
        paths = [path for path in paths if path.name in present]
    for path in sorted(ws.crossref_dir.glob("*.json")) if paths is None else paths:
        problem = None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # nothing stored for it yet
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            data, problem = None, f"not readable JSON ({type(exc).__name__})"
        if problem is None:
            problem = _stored_problem(path.name, data)
        if problem is not None:
            if problems is not None:
                problems.append(
                    f"{ws.relative(path)}: skipped: {problem}; delete it and run `exocli resolve` again"
                )
            continue
        if path.name.startswith("work-"):
            works[doi_key(str(data["doi"]))] = data
        elif path.name.startswith("search-"):
            searches[path.name] = data
    return works, searches


def _stored_problem(name: str, data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a stored Crossref answer"
    if name.startswith("work-"):
        if not isinstance(data.get("doi"), str) or not data["doi"]:
            return "no DOI"
        if not _text_or_none(data.get("status"), data.get("fetched_at"), data.get("pool")):
            return "malformed status, fetched_at or pool"
        if data.get("message") is not None:
            problem = work_problem(data["message"])
            return None if problem is None else f"the record's {problem}"
        return None
    if name.startswith("search-"):
        candidates = data.get("candidates") or []
        if not isinstance(candidates, list) or not all(isinstance(c, dict) for c in candidates):
            return "malformed candidates"
        for candidate in candidates:
            problem = work_problem(candidate.get("message") or {})
            if problem is not None:
                return f"a candidate's {problem}"
            score = candidate.get("score", 0.0)
            # NaN fails the comparison too
            if not isinstance(score, int | float) or not -1e9 < score < 1e9:
                return "a candidate's score is not a number"
            if not _text_or_none(candidate.get("doi")):
                return "a candidate's DOI is not text"
        if not _text_or_none(data.get("accepted"), data.get("searched_at")):
            return "malformed accepted DOI or searched_at"
    return None


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
        return self.counts.get("failed", 0) + self.counts.get("not checked", 0)


def plan(
    ws: Workspace, references: list[ParsedReference], targets: list[str], refresh: bool
) -> tuple[list[Task], list[str]]:
    """Which references (or bare DOIs) need a request; and notes on those skipped."""
    works, searches = read_cache(ws)
    chosen = named_references(references, targets) if targets else [(ref, ref.doi) for ref in references]
    notes: list[str] = []
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


def named_references(
    references: list[ParsedReference], targets: list[str]
) -> list[tuple[ParsedReference | None, str | None]]:
    """(reference, DOI) for each target: a reference number, or a DOI (in the list or not)."""
    from exocli.refparse import try_normalize_doi

    by_number = {ref.number: ref for ref in references}
    by_doi = {doi_key(ref.doi): ref for ref in references if ref.doi}
    chosen: list[tuple[ParsedReference | None, str | None]] = []
    for target in targets:
        if target.isdigit():
            ref = by_number.get(int(target)) if len(target) < 20 else None
            if ref is None:
                raise DataError(f"reference {target} is not in the reference list")
            chosen.append((ref, ref.doi))
            continue
        doi = try_normalize_doi(target)
        if doi is None:
            raise DataError(f"{target!r} is neither a reference number nor a DOI")
        chosen.append((by_doi.get(doi_key(doi)), doi))
    return chosen


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

    if client.network_down.is_set():
        return "not checked", f"{task.label} {task.doi or 'search'}: not checked (the network is down)"
    if task.doi:
        outcome = client.work(task.doi)
        if outcome.status == "unchecked":
            return "not checked", f"{task.label} {task.doi}: not checked (the network is down)"
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
        from exocli.bibfiles import only_doi

        if only_doi(task.ref):  # nothing to compare yet: the record fills it in (bibfiles)
            return "fetched", f"{task.label} {task.doi}: fetched, to fill in the reference"
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
    if outcome.status == "unchecked":
        return "not checked", f"{task.label} search: not checked (the network is down)"
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


def offline_report(
    ws: Workspace, references: Iterable[ParsedReference], targets: list[str] | None = None
) -> list[str]:
    """References that have no stored Crossref answer (what an offline run cannot check).

    With targets (numbers or DOIs), only those references; one not in the list is an error.
    """
    works, searches = read_cache(ws)
    references = list(references)
    if targets:
        references = [ref for ref, _ in named_references(references, targets) if ref is not None]
    missing = []
    for ref in references:
        if ref.kind == "web" and not ref.doi:
            continue
        if ref.doi and doi_key(ref.doi) not in works:
            missing.append(f"[{ref.number}] {ref.doi}: not checked (no stored record)")
        elif not ref.doi and search_path(ws, ref.raw).name not in searches:
            missing.append(f"[{ref.number}] no DOI: not searched yet")
    return missing
