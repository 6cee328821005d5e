"""Writing the curated text: atomically, so a crash never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from exocli.errors import ExocliError


def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`."""
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ExocliError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        if path.exists():
            os.chmod(temp_name, path.stat().st_mode & 0o777)
        else:
            os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except OSError as exc:
        Path(temp_name).unlink(missing_ok=True)
        raise ExocliError(f"cannot write {path}: {exc.strerror}") from exc
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
