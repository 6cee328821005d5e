"""Saved update searches: one TOML file each in refs/searches/, read and written as text.

A saved search is a Crossref `query.bibliographic` with filters and a "since" marker. The
marker is the date from which Crossref's `from-index-date` (or `from-created-date`) filter
asks for works; a run that completes moves it to the day the run began, so the next run
asks only for what Crossref indexed since (see search_run.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from exocli.errors import DataError, NotFoundError, UsageError
from exocli.workspace import Workspace

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
FILTER_NAME = re.compile(r"[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*")
DATE_VALUE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")
MARKERS = {"index": "from-index-date", "created": "from-created-date"}
# Filters that take a date (Crossref's own names): their value is checked before any request.
_DATE_FILTERS = re.compile(r"(?:from|until)-[a-z-]+-date")
HEADER = "# An update search (exocli search add/run). The marker moves forward after each complete run.\n"
KEYS = ("name", "query", "filters", "marker", "since", "rows", "max", "created", "last_run", "last_total")


@dataclass(frozen=True)
class SavedSearch:
    name: str
    query: str
    since: str  # YYYY[-MM[-DD]]: the marker's date
    filters: tuple[str, ...] = ()  # "name:value", as Crossref takes them
    marker: str = "index"  # index | created
    rows: int = 200  # items per page (Crossref allows 1000)
    max: int = 1000  # candidates per run at most (the rest: narrow the query)
    created: str = ""
    last_run: str = ""  # when the last complete run began
    last_total: int | None = None  # what Crossref counted then
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def marker_filter(self) -> str:
        return f"{MARKERS[self.marker]}:{self.since}"

    def crossref_filters(self) -> dict[str, list[str]]:
        """{name: [values]} as habanero takes them (a repeated name is one list)."""
        out: dict[str, list[str]] = {}
        for item in (*self.filters, self.marker_filter):
            name, _, value = item.partition(":")
            out.setdefault(name, []).append(value)
        return out


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise UsageError(
            f"search name {name!r}: use lower-case letters, digits, '-' and '_' (up to 64, e.g. stroke-evs)"
        )
    return name


def check_date(value: str, what: str) -> str:
    value = value.strip()
    if not DATE_VALUE.fullmatch(value):
        raise UsageError(f"{what} {value!r} is not a date: give YYYY, YYYY-MM or YYYY-MM-DD")
    parts = [int(p) for p in value.split("-")]
    try:
        date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError as exc:
        raise UsageError(f"{what} {value!r} is not a date ({exc})") from exc
    return value


def parse_filters(values: list[str]) -> tuple[str, ...]:
    """`--filter type:journal-article` (repeatable, or comma-separated) as NAME:VALUE items.

    Only the form is checked here; Crossref checks the names, and its answer is shown."""
    items: list[str] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            name, colon, argument = item.partition(":")
            name, argument = name.strip(), argument.strip()
            if not colon or not argument:
                raise UsageError(f"--filter {item!r}: give NAME:VALUE, e.g. type:journal-article")
            if not FILTER_NAME.fullmatch(name):
                raise UsageError(f"--filter {item!r}: {name!r} is not a Crossref filter name")
            if name in MARKERS.values():
                raise UsageError(
                    f"--filter {item!r}: the marker is set with --since (and --marker index|created)"
                )
            if _DATE_FILTERS.fullmatch(name):
                check_date(argument, f"--filter {name}")
            items.append(f"{name}:{argument}")
    return tuple(dict.fromkeys(items))


def searches_dir(ws: Workspace) -> Path:
    return ws.refs_dir / "searches"


def search_path(ws: Workspace, name: str) -> Path:
    return searches_dir(ws) / f"{name}.toml"


def run_dir(ws: Workspace, name: str) -> Path:
    """Pages of a run not completed yet (kept so that the next try goes on from them)."""
    return searches_dir(ws) / f"{name}.run"


def format_search(search: SavedSearch) -> str:
    from exocli.records import toml_value

    values: dict[str, Any] = {
        "name": search.name,
        "query": search.query,
        "filters": list(search.filters),
        "marker": search.marker,
        "since": search.since,
        "rows": search.rows,
        "max": search.max,
        "created": search.created,
        "last_run": search.last_run,
        "last_total": search.last_total,
    }
    lines = [HEADER.rstrip("\n")]
    lines += [f"{key} = {toml_value(values[key])}" for key in KEYS if values[key] not in (None, "")]
    lines += [f"{key} = {toml_value(value)}" for key, value in search.extra.items()]
    return "\n".join(lines) + "\n"


def read_search(ws: Workspace, path: Path) -> SavedSearch:
    from exocli.studies import read_toml

    try:
        data = read_toml(ws, path)
    except FileNotFoundError as exc:
        raise NotFoundError(f"no saved search {path.stem!r} (`exocli search list` shows them)") from exc
    return _from_document(data, ws.relative(path), path.stem)


def _from_document(data: dict[str, Any], where: str, stem: str) -> SavedSearch:
    def text(key: str, required: bool = True) -> str:
        value = data.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise DataError(f"{where}: {key!r} must be {'non-empty ' if required else ''}text")
        return value

    def whole(key: str, default: int, low: int, high: int) -> int:
        value = data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise DataError(f"{where}: {key!r} must be a whole number from {low} to {high}")
        return value

    name = text("name")
    if name != stem:
        raise DataError(f"{where}: name {name!r} differs from the file's name {stem!r}")
    marker = text("marker", required=False) or "index"
    if marker not in MARKERS:
        raise DataError(f"{where}: marker must be {' or '.join(MARKERS)}, not {marker!r}")
    filters = data.get("filters", [])
    if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
        raise DataError(f"{where}: 'filters' must be a list of NAME:VALUE texts")
    try:
        since = check_date(text("since"), "since")
        parsed = parse_filters(filters)
    except UsageError as exc:
        raise DataError(f"{where}: {exc}") from exc
    last_total = data.get("last_total")
    if last_total is not None and (not isinstance(last_total, int) or isinstance(last_total, bool)):
        raise DataError(f"{where}: 'last_total' must be a whole number")
    return SavedSearch(
        name=name,
        query=text("query"),
        since=since,
        filters=parsed,
        marker=marker,
        rows=whole("rows", 200, 1, 1000),
        max=whole("max", 1000, 1, 100_000),
        created=text("created", required=False),
        last_run=text("last_run", required=False),
        last_total=last_total,
        extra={k: v for k, v in data.items() if k not in KEYS},
    )


def load_searches(ws: Workspace, names: list[str] | None = None) -> list[SavedSearch]:
    """The named saved searches (all of them, by name, when none is named)."""
    if names:
        return [read_search(ws, search_path(ws, check_name(name))) for name in dict.fromkeys(names)]
    folder = searches_dir(ws)
    if not folder.is_dir():
        return []
    return [read_search(ws, path) for path in sorted(folder.glob("*.toml")) if not path.name.startswith(".")]


def new_search(
    ws: Workspace,
    name: str,
    query: str,
    since: str,
    filters: list[str],
    marker: str = "index",
    rows: int = 200,
    most: int = 1000,
) -> SavedSearch:
    from exocli.crossref import now

    check_name(name)
    if not query.strip():
        raise UsageError('the search needs a query, e.g. "mesenchymal stem cell exosomes stroke"')
    if marker not in MARKERS:
        raise UsageError(f"--marker must be {' or '.join(MARKERS)}, not {marker!r}")
    if not 1 <= rows <= 1000:
        raise UsageError("--rows must be from 1 to 1000 (Crossref's largest page)")
    if most < 1:
        raise UsageError("--max must be at least 1")
    return SavedSearch(
        name=name,
        query=" ".join(query.split()),
        since=check_date(since, "--since"),
        filters=parse_filters(filters),
        marker=marker,
        rows=rows,
        max=most,
        created=now(),
    )


def save_new(ws: Workspace, search: SavedSearch) -> Path:
    from exocli.records import workspace_lock
    from exocli.textio import atomic_write

    path = search_path(ws, search.name)
    with workspace_lock(ws):
        if path.exists():
            raise DataError(
                f"{ws.relative(path)}: a search named {search.name!r} exists; remove it first"
                " (`exocli search remove`) or choose another name"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, format_search(search))
    return path


def remove_search(ws: Workspace, name: str) -> SavedSearch:
    """The search's file and any unfinished run go; its candidates and their decisions stay."""
    import shutil

    from exocli.records import workspace_lock

    with workspace_lock(ws):
        search = read_search(ws, search_path(ws, check_name(name)))
        search_path(ws, name).unlink()
        shutil.rmtree(run_dir(ws, name), ignore_errors=True)
    return search


def completed(search: SavedSearch, started: str, total: int) -> SavedSearch:
    """The search after a complete run that began at `started` (ISO time): the marker moves
    to that day; works indexed later that day come again next time and are known then."""
    return replace(search, since=started[:10], last_run=started, last_total=total)
