"""Writing the curated text: atomically, so a crash never leaves half a file or half a change.

One file: a temporary file beside it, flushed, then renamed over it.

Several files (a claim and the reference it cites): every new version is first written
to a temporary file beside its target; then a journal naming the renames is written
(the commit point); then the renames are done and the journal removed. A writer killed
before the journal exists leaves only temporaries (removed by the next writer); killed
after, the next command completes the renames from the journal (`recover`). Either way
no reader ever sees the files half changed.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from exocli.errors import DiskFullError, ExocliError

StrPath = str | Path

JOURNAL_NAME = ".write.journal"
MANY_FILES = 32


def os_error(path: Path, exc: OSError, action: str = "write") -> ExocliError:
    """One line for a failed file operation; a full disk and a read-only place say so."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(f"disk full: cannot {action} {path}; nothing was changed")
    if exc.errno == errno.EROFS:
        return ExocliError(f"cannot {action} {path}: the file system is read-only; nothing was changed")
    return ExocliError(f"cannot {action} {path}: {exc.strerror or exc}")


_TEMPORARY_NUMBERS = itertools.count()


def _write_temporary(
    path: Path, text: str, sync: bool = True, folder: str | None = None
) -> tuple[str, tuple[int, int]]:
    """`text` in a new flushed temporary file beside `path` (or in `folder`, a staging folder
    inside `path`'s), with `path`'s permissions (`sync`: on disk before this returns); its
    name and its (size, mtime_ns), which a rename keeps.

    Plain os calls, not tempfile and a text stream: an import writes 10,000 of these."""
    directory = path.parent if folder is None else folder
    data = text.encode("utf-8")
    try:
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    except OSError as exc:
        raise os_error(path, exc) from exc
    made_directory = False
    while True:
        temp_name = os.path.join(directory, f".{path.name}.{os.getpid()}.{next(_TEMPORARY_NUMBERS)}.tmp")
        try:
            handle = os.open(temp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            continue  # left by an earlier process with our pid: take the next number
        except FileNotFoundError as exc:
            if made_directory:  # a folder that takes no files (/proc)
                raise os_error(path, exc) from exc
            try:
                os.makedirs(directory, exist_ok=True)
            except OSError as mkdir_exc:
                raise os_error(path, mkdir_exc) from mkdir_exc
            made_directory = True
        except OSError as exc:
            raise os_error(path, exc) from exc
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
            os.fchmod(handle, mode)
            if sync:
                os.fsync(handle)
            info = os.fstat(handle)
        finally:
            os.close(handle)
    except OSError as exc:
        _remove(temp_name)
        raise os_error(path, exc) from exc
    except BaseException:
        _remove(temp_name)
        raise
    return temp_name, (info.st_size, info.st_mtime_ns)


def _remove(path: StrPath) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _sync_directory(directory: StrPath) -> None:
    """Make renames in `directory` durable (best effort: not every file system allows it)."""
    try:
        handle = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    temp, _ = _write_temporary(path, text)
    try:
        os.replace(temp, path)
    except OSError as exc:
        _remove(temp)
        raise os_error(path, exc) from exc
    except BaseException:
        _remove(temp)
        raise
    _sync_directory(path.parent)


@dataclass
class StagedWrite:
    """New versions of several files, written beside their targets but not yet in place."""

    root: Path
    # Paths or plain strings (an import stages thousands: no Path objects for those).
    moves: list[tuple[StrPath, StrPath]] = field(default_factory=list)  # (temporary, target)
    deletes: list[StrPath] = field(default_factory=list)  # files the change removes
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # target -> its (size, mtime_ns)
    folders: list[str] = field(default_factory=list)  # staging folders, removed once empty
    committed: bool = False

    @property
    def journal(self) -> Path:
        return journal_path(self.root)

    def commit(self) -> None:
        """The commit point: once the journal is on disk the change will be completed."""
        entries = [[_relative(self.root, temp), _relative(self.root, target)] for temp, target in self.moves]
        deletes = [_relative(self.root, path) for path in self.deletes]
        atomic_write(
            self.journal, json.dumps({"moves": entries, "deletes": deletes}, ensure_ascii=False) + "\n"
        )
        self.committed = True

    def apply(self) -> None:
        """Rename every temporary over its target, remove what goes, then drop the journal."""
        _apply_moves(self.root, self.moves, self.deletes)
        self.journal.unlink(missing_ok=True)
        _sync_directory(self.journal.parent)
        self._remove_folders()

    def discard(self) -> None:
        """Undo a write that did not reach its commit point (or whose database write failed)."""
        if self.committed:
            self.journal.unlink(missing_ok=True)
            self.committed = False
        for temp, _ in self.moves:
            _remove(temp)
        self._remove_folders()

    def _remove_folders(self) -> None:
        for folder in self.folders:
            with contextlib.suppress(OSError):  # not empty, or gone: the next writer sweeps it
                os.rmdir(folder)


def journal_path(root: Path) -> Path:
    return root / "db" / JOURNAL_NAME


def stage(
    root: Path,
    texts: Mapping[Path, str | None],
    own_folder: bool = False,
    into: str | None = None,
    sync: bool = True,
    folders: dict[Path, str] | None = None,
) -> StagedWrite:
    """Write every new version to its temporary file (None: the file goes); on any failure
    none is left behind.

    `own_folder`: the temporaries go into a new hidden staging folder inside their targets'
    folder (the renames out of it are as atomic), so that two processes staging into one
    folder at once do not wait on that folder's lock (ten times slower than either alone).
    `into`: the temporaries go into that folder (on the same file system), which its writer
    owns (a search run's folder: see search_run.py). `sync=False`: not yet on disk; the caller
    syncs before it commits (a write staged in parts, a sync per part slowing the next).
    `folders`: with `own_folder`, the staging folders (by target folder) that earlier parts of
    one process's share made, taken again and added to; a new one is listed in this write's."""
    staged = StagedWrite(root)
    # Many files (an import): one sync of them all is far cheaper than an fsync per file.
    each = sync and sum(text is not None for text in texts.values()) <= MANY_FILES
    if folders is None:
        folders = {}  # target folder -> its staging folder
    try:
        for target, text in texts.items():
            if text is None:
                staged.deletes.append(target)
            else:
                folder = into  # the caller makes the target's folder before the renames
                if own_folder:
                    folder = folders.get(target.parent)
                    if folder is None:
                        folder = folders[target.parent] = _staging_folder(target.parent)
                        staged.folders.append(folder)
                temp, stats = _write_temporary(target, text, sync=each, folder=folder)
                staged.moves.append((temp, target))
                staged.stats[os.fspath(target)] = stats
        if sync and not each:
            os.sync()
    except BaseException:
        staged.discard()
        raise
    return staged


def _staging_folder(parent: Path) -> str:
    """A new hidden folder in `parent` (made with it if need be), named like a temporary so
    that the next writer sweeps it if this one is killed."""
    import tempfile

    try:
        os.makedirs(parent, exist_ok=True)
        return tempfile.mkdtemp(prefix=f".staging.{os.getpid()}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise os_error(parent, exc) from exc


def pending(root: Path) -> bool:
    return journal_path(root).exists()


def recover(root: Path) -> list[Path]:
    """Complete a multi-file write that reached its commit point; the files it put in place."""
    journal = journal_path(root)
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        moves = [(root / temp, root / target) for temp, target in data["moves"]]
        deletes = [root / path for path in data.get("deletes", [])]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExocliError(
            f"{journal}: an interrupted write left a journal that cannot be read ({exc});"
            " compare the text with `git status`, then delete the journal"
        ) from exc
    done = [target for temp, target in moves if temp.exists()]
    _apply_moves(root, moves, deletes)
    journal.unlink(missing_ok=True)
    _sync_directory(journal.parent)
    return done


def _apply_moves(root: Path, moves: list[tuple[StrPath, StrPath]], deletes: list[StrPath]) -> None:
    # Deletes first: a rename to another case of the same name (a rekey on a case-insensitive
    # file system) must not be followed by removing what it just put in place. The journal
    # keeps the temporaries until they are renamed, so an interruption in between is completed.
    for path in deletes:
        try:
            _remove(path)
        except OSError as exc:
            raise ExocliError(
                f"cannot remove {path} ({exc.strerror}); the next exocli command completes the change"
            ) from exc
    for temp, target in moves:
        try:
            os.replace(temp, target)
        except FileNotFoundError:
            if os.path.exists(temp):  # the target's folder is missing: not done, and not to skip
                raise ExocliError(
                    f"cannot put {target} in place (its folder is missing); the change is kept in {temp}"
                ) from None
            continue  # renamed before an interruption
        except OSError as exc:
            raise ExocliError(
                f"cannot put {target} in place ({exc.strerror}); the change is kept in {temp}"
                " and the next exocli command completes it"
            ) from exc
    directories = {os.path.dirname(os.fspath(target)) for _, target in moves}
    for directory in directories | {os.path.dirname(os.fspath(path)) for path in deletes}:
        _sync_directory(directory)


def _relative(root: Path, path: StrPath) -> str:
    text, base = os.fspath(path), os.fspath(root) + os.sep
    return text[len(base) :] if text.startswith(base) else text
