"""A local Crossref stand-in for the resolve benchmark: a threaded http.server on 127.0.0.1.

/works/{doi} answers, after `latency` seconds, with a Crossref-shaped work record describing
the reference (so exocli's check says "ok"); /works?query... answers with an empty work list.
Every request is logged (start, end, kind) to compute rates and concurrency afterwards.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Logged:
    start: float
    end: float
    kind: str  # "work", "list" or "other"
    path: str
    user_agent: str


def work_message(ref: Any) -> dict[str, Any]:
    """A Crossref `work` message describing a parsed reference (exocli.refparse.ParsedReference)."""
    return {
        "DOI": ref.doi,
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
        "publisher": "Benchmark Publisher",
    }


@dataclass
class FakeCrossref:
    works: dict[str, dict[str, Any]]  # lower-case DOI -> message
    latency: float = 0.2
    listing: list[dict[str, Any]] = field(default_factory=list)  # what cursor-paged list queries page through
    log: list[Logged] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCrossref:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                start = time.monotonic()
                with fake.lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                kind = "other"
                try:
                    time.sleep(fake.latency)
                    path = urlsplit(self.path).path
                    if path.startswith("/works/"):
                        kind = "work"
                        doi = unquote(path[len("/works/") :]).lower()
                        message = fake.works.get(doi)
                        if message is None:
                            self._send(404, "Resource not found.", "text/plain")
                        else:
                            body = {"status": "ok", "message-type": "work", "message-version": "1.0.0"}
                            body["message"] = message
                            self._send(200, json.dumps(body), "application/json")
                    elif path == "/works" and "cursor" in parse_qs(urlsplit(self.path).query):
                        kind = "list"
                        self._send(
                            200,
                            json.dumps(fake.page(parse_qs(urlsplit(self.path).query))),
                            "application/json",
                        )
                    elif path == "/works":
                        kind = "list"
                        message = {"facets": {}, "total-results": 0, "items": [], "items-per-page": 5}
                        body = {"status": "ok", "message-type": "work-list", "message-version": "1.0.0"}
                        body["message"] = {**message, "query": {"start-index": 0, "search-terms": None}}
                        self._send(200, json.dumps(body), "application/json")
                    else:
                        self._send(404, "Not found.", "text/plain")
                finally:
                    with fake.lock:
                        fake.in_flight -= 1
                        fake.log.append(
                            Logged(
                                start, time.monotonic(), kind, self.path, self.headers.get("User-Agent", "")
                            )
                        )

            def _send(self, status: int, text: str, content_type: str) -> None:
                data = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()
        return self

    def page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """One cursor page of `listing`: works indexed on or after the from-index-date filter."""
        since = ""
        for item in query.get("filter", [""])[0].split(","):
            name, _, value = item.partition(":")
            if name == "from-index-date":
                since = value
        matching = [
            w for w in self.listing if "-".join(f"{p:02d}" for p in w["indexed"]["date-parts"][0]) >= since
        ]
        cursor = query["cursor"][0]
        start = 0 if cursor == "*" else int(cursor.removeprefix("s"))
        rows = int(query.get("rows", ["20"])[0])
        items = matching[start : start + rows]
        message = {
            "facets": {},
            "next-cursor": f"s{start + len(items)}",
            "total-results": len(matching),
            "items": items,
            "items-per-page": rows,
            "query": {"start-index": 0, "search-terms": query.get("query.bibliographic", [""])[0]},
        }
        return {"status": "ok", "message-type": "work-list", "message-version": "1.0.0", "message": message}

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def mark(self) -> int:
        with self.lock:
            self.max_in_flight = 0
            return len(self.log)

    def stats(self, since: int = 0) -> dict[str, Any]:
        """Counts, the most requests started in any 1 s window, and the request span, per kind."""
        with self.lock:
            entries = list(self.log[since:])
            max_in_flight = self.max_in_flight
        out: dict[str, Any] = {"requests": len(entries), "max_concurrency": max_in_flight}
        for kind in ("work", "list", "all"):
            chosen = [e for e in entries if kind == "all" or e.kind == kind]
            starts = sorted(e.start for e in chosen)
            out[kind] = {
                "requests": len(chosen),
                "max_per_1s": max_in_window(starts, 1.0),
                "span_s": (max(e.end for e in chosen) - starts[0]) if chosen else 0.0,
            }
        out["user_agents"] = sorted({e.user_agent for e in entries})
        return out


def max_in_window(starts: list[float], window: float) -> int:
    """The most starts inside any half-open window [t, t + window)."""
    best, low = 0, 0
    for high, start in enumerate(starts):
        while start - starts[low] >= window:
            low += 1
        best = max(best, high - low + 1)
    return best
