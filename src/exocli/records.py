"""Writing the curated text deterministically, and the lock every writer holds.

Values are written as TOML in one fixed way (keys always in the same order, see
studies.format_study): an edit changes only the lines it must, so every change is a
small, readable diff.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from json.encoder import encode_basestring  # the C encoder: JSON string escapes
from typing import Any

from exocli.errors import ExocliError
from exocli.evidence import Claim
from exocli.fields import DRAFT_KEYS
from exocli.workspace import Workspace

LOCK_TIMEOUT = 60.0
LOCK_NAME = ".write.lock"  # in db/: held by every writer (and by a rebuild)


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's too (DEL, which JSON keeps, is escaped)."""
    text: str = encode_basestring(value)
    return text.replace("\x7f", "\\u007f") if "\x7f" in text else text


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def claim_entry(claim: Claim) -> dict[str, Any]:
    """A claim as its text record holds it (cargo as worded, not normalised)."""
    cargo: list[str] = []
    for item in claim.cargo:
        if item.wording not in cargo:
            cargo.append(item.wording)
    entry: dict[str, Any] = {
        "id": claim.id,
        "ref": claim.ref,
        "section": claim.section,
        "source": claim.source,
        "source_wording": claim.source_wording,
        "cargo_type": claim.cargo_type,
        "cargo": cargo,
        "engineering": claim.engineering,
        "pathways": claim.pathways,
        "effects": claim.effects,
        "species": claim.species,
        "model": claim.model,
        "injury": claim.injury,
        "route": claim.route,
        "dose": claim.dose,
        "outcome": claim.outcome,
        "note": claim.note,
        "added_by": claim.added_by,
        "added_at": claim.added_at,
    }
    # where a draft was read: written only when there is something to say
    for key in DRAFT_KEYS:
        value = getattr(claim, key)
        if value not in (None, "", [], "curated"):
            entry[key] = value
    return entry


@contextmanager
def workspace_lock(ws: Workspace, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """One writer at a time: read, change and write the text under an exclusive file lock.

    Holding the lock, an interrupted multi-file write is completed first (textio.recover)
    and temporaries of writers killed before their commit point are removed.
    """
    from exocli.textio import os_error, recover

    check_writable(ws)
    path = ws.db_dir / LOCK_NAME
    try:
        ws.db_dir.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise os_error(path, exc, "lock") from exc
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() > deadline:
                    raise ExocliError(
                        f"another exocli is writing this workspace ({path}); try again"
                    ) from exc
                time.sleep(0.02)
        recover(ws.root)
        _remove_stale_temporaries(ws)
        yield
    finally:
        os.close(handle)  # closing releases the lock


def check_writable(ws: Workspace) -> None:
    """Writes on a read-only workspace fail up front, before anything is read or changed."""
    if not os.access(ws.root, os.W_OK) or (ws.db_dir.exists() and not os.access(ws.db_dir, os.W_OK)):
        raise ExocliError(f"the workspace {ws.root} is read-only; nothing was changed")


def _remove_stale_temporaries(ws: Workspace) -> None:
    """Temporary files a killed writer left behind (safe: we hold the only write lock)."""
    folders = {
        ws.root,
        ws.db_dir,
        ws.refs_dir,
        ws.order_path.parent,
        ws.studies_dir,
        ws.vocab_dir,
        ws.crossref_dir,
        ws.refs_dir / "candidates",  # candidates.candidates_dir
        ws.refs_dir / "searches",  # searches.searches_dir (a run's own folder is its run's to clean)
    }
    for folder in folders:
        for path in folder.glob(".*.tmp"):
            if path.is_dir() and not path.is_symlink():  # a staging folder (textio.stage)
                import shutil

                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
