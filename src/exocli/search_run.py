"""Running a saved update search: Crossref pages by cursor, kept as they arrive, then triage.

Each page Crossref sends is written to the run's folder (refs/searches/NAME.run/) the moment
it arrives, with the cursor for the next one, so a run that stops (a network failure, a
cursor Crossref has let expire, Ctrl-C) loses nothing: the next `search run` goes on from
the stored cursor, or, if Crossref no longer takes it, pages again from the start and skips
what it holds. Only a complete run writes its candidates and moves the marker, in one
all-or-nothing write that also removes the run's folder.

Requests go through crossref.Client, within the list-query limits it shares with
`resolve`. Pages are as large as the search allows (`rows`), and no larger than what is
left to fetch, so the last page is not followed by an empty one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exocli.candidates import (
    Candidate,
    ReviewIndex,
    Triage,
    candidate_id,
    candidates_dir,
    format_candidate,
    load_candidates,
    triage,
)
from exocli.errors import ExocliError
from exocli.refparse import doi_key
from exocli.searches import SavedSearch, completed, format_search, run_dir, search_path
from exocli.workspace import Workspace

# What a candidate needs of each work (Crossref's `select`): smaller pages, faster answers.
SELECT = [
    "DOI", "title", "subtitle", "author", "issued", "published-print", "published-online",
    "container-title", "short-container-title", "volume", "issue", "page", "article-number",
    "type", "abstract", "relation",
]  # fmt: skip
STATE_NAME = "run.json"


class SearchError(ExocliError):
    """A run that Crossref refused or that could not finish (what it received is kept)."""


@dataclass
class RunReport:
    search: SavedSearch
    started: str
    total: int = 0  # what Crossref counted
    received: int = 0  # works held when the run completed
    pages: int = 0  # pages fetched by this try
    requests: int = 0
    resumed: int = 0  # works kept from an earlier, unfinished try
    restarted: bool = False  # the stored cursor was refused: paged again from the start
    left_out: int = 0  # counted by Crossref beyond the search's --max
    triage: Triage = field(default_factory=Triage)
    written: list[Candidate] = field(default_factory=list)


@dataclass
class _Run:
    """An unfinished run's state, as its folder holds it."""

    folder: Path
    fingerprint: str
    started: str = ""
    cursor: str = "*"
    fetched: int = 0  # works received since the cursor began at "*"
    total: int | None = None
    pages: list[Path] = field(default_factory=list)
    held: list[dict[str, Any]] = field(default_factory=list)  # the works its pages hold

    def save(self) -> None:
        from exocli.textio import atomic_write

        state = {
            "fingerprint": self.fingerprint,
            "started": self.started,
            "cursor": self.cursor,
            "fetched": self.fetched,
            "total": self.total,
        }
        atomic_write(self.folder / STATE_NAME, json.dumps(state, indent=1) + "\n")


class _Prestaged:
    """Candidate files written ahead into the run's folder while the next page is on its way;
    the final write renames those whose text is still what it must be, and writes the rest."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root, self.folder = root, str(folder)
        self.files: dict[Path, tuple[str, str, tuple[int, int]]] = {}  # target -> text, temporary, stats

    def add(self, texts: dict[Path, str]) -> None:
        from exocli.textio import stage

        todo = {path: text for path, text in texts.items() if self.files.get(path, ("",))[0] != text}
        if not todo:
            return
        staged = stage(self.root, todo, into=self.folder, sync=False)  # synced by take()
        for temp, target in staged.moves:
            old = self.files.get(Path(target))
            if old is not None:
                Path(old[1]).unlink(missing_ok=True)
            self.files[Path(target)] = (todo[Path(target)], os.fspath(temp), staged.stats[os.fspath(target)])

    def take(self, texts: dict[Path, str | None]) -> Any:
        """The whole write staged: what was written ahead and still fits, and the rest."""
        from exocli.textio import stage

        ready = []
        rest: dict[Path, str | None] = {}
        for path, text in texts.items():
            entry = self.files.pop(path, None)
            if entry is not None and entry[0] == text:
                ready.append((entry[1], path, entry[2]))
            else:
                if entry is not None:
                    Path(entry[1]).unlink(missing_ok=True)
                rest[path] = text
        self.discard()
        from exocli.textio import os_error

        for folder in {path.parent for _, path, _ in ready}:
            try:
                folder.mkdir(parents=True, exist_ok=True)  # written ahead elsewhere: the renames need it
            except OSError as exc:
                raise os_error(folder, exc) from exc
        staged = stage(self.root, rest)
        if ready:
            os.sync()  # what was written ahead, on disk before the journal commits the write
        for temp, path, stats in ready:
            staged.moves.append((temp, path))
            staged.stats[os.fspath(path)] = stats
        return staged

    def discard(self) -> None:
        for _, temp, _ in self.files.values():
            Path(temp).unlink(missing_ok=True)
        self.files.clear()


def fingerprint(search: SavedSearch) -> str:
    """What makes two tries the same run: a changed query or filter starts a new one."""
    return json.dumps([search.query, list(search.filters), search.marker, search.since, search.max])


def _open_run(search: SavedSearch, folder: Path, now: str) -> _Run:
    run = _Run(folder, fingerprint(search))
    held: list[dict[str, Any]] = []
    try:
        state = json.loads((folder / STATE_NAME).read_text(encoding="utf-8"))
        pages = sorted(folder.glob("page-*.json"))
        for path in pages:
            items = json.loads(path.read_text(encoding="utf-8"))["items"]
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise TypeError(f"{path.name}: not a page of works")
            held += items
    except FileNotFoundError:
        state, pages = None, []
    except (OSError, ValueError, KeyError, TypeError):
        state, pages = None, []  # a page cut short by a crash: this try starts afresh
    if isinstance(state, dict) and state.get("fingerprint") == run.fingerprint:
        run.started = str(state.get("started") or now)
        run.cursor = str(state.get("cursor") or "*")
        run.fetched = int(state.get("fetched") or 0)
        total = state.get("total")
        run.total = int(total) if isinstance(total, int) else None
        run.pages, run.held = pages, held
        return run
    for stale in folder.glob("*.json"):  # another query's pages, or unreadable ones
        stale.unlink()
    for temp in folder.glob(".*.tmp"):  # files an interrupted try wrote ahead
        temp.unlink()
    run.started = now
    return run


@contextmanager
def _run_lock(folder: Path, name: str) -> Iterator[None]:
    """One run of a search at a time (others of other searches may go on)."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SearchError(f"search {name!r} is being run by another exocli; wait for it") from exc
        yield
    finally:
        os.close(handle)


def run_search(
    ws: Workspace,
    conn: sqlite3.Connection,
    search: SavedSearch,
    client: Any,
    on_page: Callable[[int, int], None] | None = None,
) -> RunReport:
    """Page through the search's new works, then write the candidates and move the marker.

    `on_page(received, expected)` is called after each page (for a progress bar)."""
    from exocli.crossref import now
    from exocli.records import workspace_lock
    from exocli.relevance import Relevance, RelevanceRanker
    from exocli.vocab import VOCABS, vocabulary_from_db

    with workspace_lock(ws):
        pass  # completes a write a killed run had committed, before its folder is read
    folder = run_dir(ws, search.name)
    with _run_lock(folder, search.name):
        run = _open_run(search, folder, now())
        report = RunReport(search, run.started)
        held = run.held
        report.resumed = len(held)
        seen = {doi_key(str(item.get("DOI") or "")) for item in held}
        ranker = _PageRanker(RelevanceRanker({name: vocabulary_from_db(conn, name) for name in VOCABS}))
        ranks: dict[str, Relevance] = {}
        # What the candidates will be, worked out page by page to write their files ahead;
        # the final write works it out again, under the lock, from the record as it is then.
        known, review = load_candidates(ws), ReviewIndex(conn)
        made: dict[str, Any] = {}  # the candidates made from the items, for the final triage
        formatted: dict[str, tuple[Candidate, str]] = {}  # their texts, for the final write
        prestaged = _Prestaged(ws.root, folder)
        requests_before = client.requests
        # The pages come from a thread: while it waits for the network and the rate limit,
        # this one stores and ranks the page before.
        pages: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        stop = threading.Event()
        args = (client, search, run.cursor, run.fetched, run.total, pages, stop)
        threading.Thread(target=_fetch_pages, args=args, daemon=True, name="crossref-pages").start()
        try:
            while True:
                kind, cursor, body = pages.get()
                if kind == "end":
                    break
                if kind == "error":
                    raise body
                if kind == "restart":  # Crossref no longer takes the stored cursor
                    report.restarted = True
                    run.cursor, run.fetched = "*", 0
                    continue
                if kind == "failed":
                    run.save()
                    raise _failure(ws, search, body, len(held))
                items = list(body.get("items") or [])
                run.total = int(body.get("total-results") or 0)
                fresh = [item for item in items if doi_key(str(item.get("DOI") or "")) not in seen]
                for item in fresh:
                    seen.add(doi_key(str(item.get("DOI") or "")))
                run.fetched += len(items)
                # The last page goes straight into the final write. Stored, it would only spare
                # a run interrupted from here one request: its cursor is kept, so that run
                # asks for this page again.
                last = not items or not body.get("next-cursor") or run.fetched >= min(search.max, run.total)
                if not last:
                    page = folder / f"page-{len(run.pages) + 1:04d}.json"
                    _write_page(page, cursor, run.total, fresh)
                    run.pages.append(page)
                    run.cursor = str(body.get("next-cursor") or cursor)
                    run.save()
                held.extend(fresh)
                report.pages += 1
                for item, rank in zip(fresh, ranker.rank(fresh), strict=True):
                    ranks[doi_key(str(item.get("DOI") or ""))] = rank
                if on_page:
                    on_page(run.fetched, min(search.max, run.total))
                if fresh:  # this page alone: what the pages together change, the final write sees
                    early = triage(fresh, review, known, search.name, run.started[:10], made)
                    prestaged.add(_candidate_texts(ws, early, known, ranks, formatted))
                    if not last:  # while the next page is on its way: less for the final sync
                        os.sync()
        except BaseException:
            prestaged.discard()
            raise
        finally:
            stop.set()
            ranker.close()
        report.requests = client.requests - requests_before
        report.total = run.total or 0
        report.received = len(held)
        report.left_out = max(0, report.total - search.max)
        for item in held:
            key = doi_key(str(item.get("DOI") or ""))
            if key not in ranks:
                ranks[key] = _rank(ranker.ranker, item)
        _complete(ws, conn, search, run, held, ranks, report, prestaged, made, formatted)
    return report


def _fetch_pages(
    client: Any,
    search: SavedSearch,
    cursor: str,
    fetched: int,
    total: int | None,
    out: queue.Queue[tuple[str, Any, Any]],
    stop: threading.Event,
) -> None:
    """Ask for page after page, each of the rows still wanted; put ("page", cursor, message),
    ("restart", ...), ("failed", ..., outcome) or ("error", ..., exception), then ("end", ...)."""
    resumed = cursor != "*"  # this try goes on from an unfinished one
    restarted = received = False
    try:
        while not stop.is_set():
            limit = search.max if total is None else min(search.max, total)
            want = min(search.rows, limit - fetched)
            if want <= 0:
                break
            outcome = client.page(search.query, search.crossref_filters(), cursor, want, SELECT)
            if outcome.status != "ok":
                stale = not client.network_down.is_set() and (
                    "cursor" in outcome.said.lower() or (resumed and not received)
                )
                if cursor != "*" and stale and not restarted and outcome.status == "failed":
                    # Crossref keeps a cursor five minutes; one refused: page again from the start
                    restarted = True
                    cursor, fetched = "*", 0
                    out.put(("restart", None, None))
                    continue
                out.put(("failed", cursor, outcome))
                return
            received = True
            message = outcome.body
            items = message.get("items") or []
            total = int(message.get("total-results") or 0)
            fetched += len(items)
            out.put(("page", cursor, message))
            next_cursor = message.get("next-cursor")
            if not items or not next_cursor:
                break
            cursor = str(next_cursor)
    except BaseException as exc:  # the consumer raises it
        out.put(("error", None, exc))
    finally:
        out.put(("end", None, None))


class _PageRanker:
    """Ranks a page's works, the second half of a big page in a forked worker meanwhile: the
    last page's ranking is most of what is left to do once its answer is in."""

    SPLIT = 40  # a page smaller than this is ranked here alone (the pickling would cost more)

    def __init__(self, ranker: Any) -> None:
        from exocli.parallel import Worker

        self.ranker = ranker
        # forked now, before the thread that fetches the pages starts
        self.worker = Worker(self._rank_all)

    def _rank_all(self, items: list[dict[str, Any]]) -> list[Any]:
        return [_rank(self.ranker, item) for item in items]

    def rank(self, items: list[dict[str, Any]]) -> list[Any]:
        if len(items) < self.SPLIT:
            return self._rank_all(items)
        half = len(items) // 2
        self.worker.send(items[half:])
        mine = self._rank_all(items[:half])
        return [*mine, *self.worker.receive()]

    def close(self) -> None:
        self.worker.close()


def _rank(ranker: Any, item: dict[str, Any]) -> Any:
    from exocli.candidates import plain_abstract

    title = " ".join(str(t) for t in (item.get("title") or []) + (item.get("subtitle") or []))
    return ranker.rank(title, plain_abstract(item.get("abstract")))


def _write_page(path: Path, cursor: str, total: int, items: list[dict[str, Any]]) -> None:
    from exocli.crossref import now
    from exocli.textio import atomic_write

    body = {"cursor": cursor, "received_at": now(), "total-results": total, "items": items}
    atomic_write(path, json.dumps(body, ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def _failure(ws: Workspace, search: SavedSearch, outcome: Any, held: int) -> SearchError:
    said = f": {outcome.said}" if outcome.said else ""
    if outcome.error.startswith("400") or outcome.error.startswith("4"):
        return SearchError(
            f"search {search.name!r}: Crossref refused the query ({outcome.error}{said});"
            f" fix it in {ws.relative(search_path(ws, search.name))} or with `exocli search add` anew"
        )
    kept = (
        f"; the {held} works received are kept and `exocli search run {search.name}` goes on" if held else ""
    )
    return SearchError(f"search {search.name!r}: {outcome.error}{said}{kept}")


def _candidate_texts(
    ws: Workspace,
    result: Triage,
    known: dict[str, Candidate],
    ranks: dict[str, Any],
    formatted: dict[str, tuple[Candidate, str]],
) -> dict[Path, str]:
    """The files of a triage's candidates: new ones with their relevance, known ones found again.

    `formatted` keeps each candidate's text by DOI key: a candidate the final write finds as
    it was on its page (nearly all) is not formatted again."""
    taken = {candidate.id: doi_key(candidate.doi) for candidate in known.values()}
    folder = candidates_dir(ws)
    texts: dict[Path, str] = {}

    def text(candidate: Candidate) -> str:
        key = doi_key(candidate.doi)
        done = formatted.get(key)
        if done is None or done[0] != candidate:
            done = formatted[key] = candidate, format_candidate(candidate)
        return done[1]

    for candidate in result.new:
        rank = ranks.get(doi_key(candidate.doi))
        if rank is not None:
            candidate.score += rank.score
            candidate.reasons += rank.reasons
        if candidate.version_of:
            candidate.score += 100  # the published version of a cited preprint comes first
        if candidate.id in taken and taken[candidate.id] != doi_key(candidate.doi):
            candidate.id = candidate_id(candidate.doi) + "-" + _short_hash(candidate.doi)
        taken[candidate.id] = doi_key(candidate.doi)
        texts[folder / f"{candidate.id}.toml"] = text(candidate)
    for candidate in result.again:
        texts[folder / f"{candidate.id}.toml"] = text(candidate)
    return texts


def _complete(
    ws: Workspace,
    conn: sqlite3.Connection,
    search: SavedSearch,
    run: _Run,
    held: list[dict[str, Any]],
    ranks: dict[str, Any],
    report: RunReport,
    prestaged: _Prestaged,
    made: dict[str, Any],
    formatted: dict[str, tuple[Candidate, str]],
) -> None:
    """Candidates, the moved marker and the run's folder gone: one all-or-nothing write."""
    from exocli.candidates import load_candidates, triage
    from exocli.records import workspace_lock

    try:
        with workspace_lock(ws):
            known = load_candidates(ws)  # as it is now: a co-author may have decided some meanwhile
            result = triage(held, ReviewIndex(conn), known, search.name, run.started[:10], made)
            texts: dict[Path, str | None] = dict(_candidate_texts(ws, result, known, ranks, formatted))
            texts[search_path(ws, search.name)] = format_search(completed(search, run.started, report.total))
            for path in [*run.pages, run.folder / STATE_NAME]:
                texts[path] = None
            staged = prestaged.take(texts)
            try:
                staged.commit()
            except BaseException:
                staged.discard()
                raise
            staged.apply()
            report.triage = result
            report.written = result.new
    finally:
        prestaged.discard()
    for leftover in (run.folder / ".lock",):
        leftover.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # another file there (a user's), or a run going again
        run.folder.rmdir()


def _short_hash(doi: str) -> str:
    import hashlib

    return hashlib.sha256(doi_key(doi).encode()).hexdigest()[:8]
