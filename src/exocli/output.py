"""Where `-o FILE` may write, and how: never over the workspace's record, never around a FIFO.

A regular file is replaced atomically (a symlink's target is replaced, the link is kept);
anything else (a FIFO, a terminal, /dev/stdout, /dev/full) is written through, because a
rename would replace the special file instead of writing to it. `-` is stdout.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from exocli.errors import ExocliError
from exocli.workspace import Workspace


def record_files(ws: Workspace) -> list[Path]:
    """Every file that is the workspace's record, or that exocli keeps beside it."""
    from exocli.records import LOCK_NAME
    from exocli.textio import journal_path

    files = list(ws.source_files())
    files += [ws.db_path] + [Path(f"{ws.db_path}-{suffix}") for suffix in ("wal", "shm", "journal")]
    # the write lock (records.workspace_lock) and the multi-file write journal
    files += [ws.db_dir / LOCK_NAME, journal_path(ws.root)]
    return files


def check_target(path: Path, ws: Workspace | None) -> None:
    """Refuse an output path that is (or links to) one of the workspace's own files."""
    if ws is None:
        return
    resolved = path.resolve()
    try:
        info = os.stat(path)
    except OSError:
        info = None
    for own in record_files(ws):
        same = resolved == own.resolve()
        if not same and info is not None:
            try:
                own_info = os.stat(own)
            except OSError:
                continue
            same = (own_info.st_dev, own_info.st_ino) == (info.st_dev, info.st_ino)  # a hard link
        if same:
            raise ExocliError(
                f"-o {path}: that is the workspace's own {ws.relative(own.resolve())}; write elsewhere"
            )
    for folder, holds in ((ws.crossref_dir, "Crossref records"), (ws.studies_dir, "studies")):
        if folder.resolve() in resolved.parents:
            raise ExocliError(
                f"-o {path}: {ws.relative(folder)}/ holds the workspace's {holds}; write elsewhere"
            )


def write_output(content: str, output: Path | None, ws: Workspace | None = None) -> bool:
    """Write `content` to stdout (None or `-`) or to OUTPUT; True when a file was written."""
    if output is None or str(output) == "-":
        sys.stdout.write(content)
        return False
    check_target(output, ws)
    from exocli.textio import atomic_write, os_error

    try:
        info = os.stat(output)  # follows symlinks
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise os_error(output, exc) from exc
    if info is not None and not stat.S_ISREG(info.st_mode):
        if stat.S_ISDIR(info.st_mode):
            raise ExocliError(f"-o {output}: is a folder; name a file")
        _write_through(output, content)
        return True
    target = output.resolve()  # through a symlink: the link stays, its target is replaced
    if info is not None and not (info.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)):
        # root may write anyway; a file marked read-only is kept as it is for everyone
        raise ExocliError(f"-o {output}: the file is read-only; nothing was written")
    if info is not None and not os.access(target, os.W_OK):
        raise ExocliError(f"-o {output}: permission denied; nothing was written")
    atomic_write(target, content)
    return True


def _write_through(output: Path, content: str) -> None:
    """A FIFO or a device: open it and write, as a shell redirection would."""
    from exocli.textio import os_error

    try:
        with open(output, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(content)
            stream.flush()
    except OSError as exc:
        raise os_error(output, exc) from exc
