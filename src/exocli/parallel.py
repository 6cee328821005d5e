"""Spreading one CPU-bound job over the machine's cores: an import of thousands of entries.

`Worker(run)` is a forked copy kept for the length of a job, to which parts are sent one
after another while this process does other work (a search run ranks half of each page
there as it comes).

`parallel_map(run, parts)` is `[run(part) for part in parts]`, with every part but the first
run in a forked copy of this process (so the parts and everything `run` needs are there
without being sent) and only the results sent back, pickled, through a pipe. It falls back
to running the parts here, one after the other, wherever forking is not possible or safe
(no os.fork, other threads running, EXOCLI_WORKERS=1) and for a part whose worker died; an
exception a part raises is raised here as it was.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from typing import Any, TypeVar, cast

Part = TypeVar("Part")
Result = TypeVar("Result")


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off for one big job (an import of 10,000 entries): its
    passes over the millions of objects the job makes cost ~15% of it, and each one would
    touch (so copy) every page a forked worker shares with this process. Reference counting
    still frees nearly everything; cycles wait until the collector is back."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def worker_count() -> int:
    """How many processes a job may use: the cores this process may run on, or EXOCLI_WORKERS."""
    wanted = os.environ.get("EXOCLI_WORKERS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    # Forking a process with other threads can leave a lock held for ever in the copy.
    return hasattr(os, "fork") and sys.platform != "win32" and threading.active_count() == 1


def parallel_map(
    run: Callable[[Part], Result],
    parts: Sequence[Part],
    undo: Callable[[Result], None] | None = None,
    send: Callable[[Result], Any] | None = None,
    receive: Callable[[Any], Result] | None = None,
) -> list[Result]:
    """`[run(part) for part in parts]`, the parts after the first in forked workers.

    When a part fails, the workers still running are stopped; with `undo`, they are waited
    for instead and `undo` is given each result that is then thrown away (files a worker
    wrote, say). `send` turns a worker's result into what is pickled back (plain tuples
    pickle faster than objects), `receive` turns that into the result again."""
    if len(parts) < 2 or worker_count() < 2 or not can_fork():
        return [run(part) for part in parts]
    workers: list[tuple[int, int] | None] = []
    try:
        sent = run if send is None else lambda part: send(run(part))
        for part in parts[1:]:
            workers.append(_start(sent, part))
        results = [run(parts[0])]
        for index, worker in enumerate(workers, 1):
            outcome = _collect(worker) if worker is not None else None
            workers[index - 1] = None
            if outcome is None:  # no fork, or the worker died: the part is run here
                results.append(run(parts[index]))
                continue
            ok, value = outcome
            if not ok:
                raise value if isinstance(value, BaseException) else RuntimeError(value)
            results.append(cast(Result, value) if receive is None else receive(value))
        return results
    finally:
        for worker in workers:
            if worker is None:
                continue
            if undo is None:  # an exception here: stop the others, leave no zombie
                _stop(worker)
                continue
            outcome = _collect(worker)
            if outcome is not None and outcome[0]:
                undo(cast(Result, outcome[1]) if receive is None else receive(outcome[1]))


def _start(run: Callable[[Part], Any], part: Part) -> tuple[int, int] | None:
    """Fork a worker that runs `part` and writes (ok, result or exception) to a pipe."""
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the worker: never returns
        os.close(read_end)
        code = 0
        try:
            try:
                data = pickle.dumps((True, run(part)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # sent back to be raised in the parent
                try:
                    data = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:
                    data, code = b"", 1
            view = memoryview(data)
            while view:
                view = view[os.write(write_end, view) :]
        except BaseException:
            code = 1
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers
    os.close(write_end)
    return pid, read_end


def _collect(worker: tuple[int, int]) -> tuple[bool, object] | None:
    """The worker's (ok, value), or None when it died without sending one."""
    pid, read_end = worker
    chunks = []
    try:
        while chunk := os.read(read_end, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    if not chunks:
        return None
    try:
        outcome = pickle.loads(b"".join(chunks))
    except Exception:
        return None
    return outcome if isinstance(outcome, tuple) and len(outcome) == 2 else None


def _stop(worker: tuple[int, int]) -> None:
    import signal

    pid, read_end = worker
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.close(read_end)
    with contextlib.suppress(OSError):
        os.waitpid(pid, 0)


class Worker:
    """A forked copy of this process that runs `run` on each part sent to it, in order, while
    this process goes on: `send(part)`, other work, then `receive()` for its result.

    It is forked when made, so make it while this process has no other thread (see
    can_fork). Where it cannot be, or once it has died, a part is run here when its result is
    asked for; an exception a part raises is raised by `receive`. Keep one part in flight at
    a time: a part is not read by the worker while it writes a result too big for the pipe."""

    def __init__(self, run: Callable[[Any], Any]) -> None:
        self._run = run
        self._pending: deque[Any] = deque()
        self._pid: int | None = None
        self._to = self._back = -1
        if worker_count() < 2 or not can_fork():
            return
        to_read, to_write = os.pipe()
        back_read, back_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for end in (to_read, to_write, back_read, back_write):
                os.close(end)
            return
        if pid == 0:  # the worker: never returns
            os.close(to_write)
            os.close(back_read)
            _serve(run, to_read, back_write)
        os.close(to_read)
        os.close(back_write)
        self._pid, self._to, self._back = pid, to_write, back_read

    def send(self, part: Any) -> None:
        self._pending.append(part)
        if self._pid is not None:
            try:
                _write_frame(self._to, pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
            except (OSError, pickle.PicklingError):
                self._lose()

    def receive(self) -> Any:
        part = self._pending.popleft()
        if self._pid is not None:
            frame = None
            with contextlib.suppress(OSError):
                frame = _read_frame(self._back)
            outcome = None
            if frame is not None:
                with contextlib.suppress(Exception):
                    outcome = pickle.loads(frame)
            if isinstance(outcome, tuple) and len(outcome) == 2:
                ok, value = outcome
                if not ok:
                    raise value if isinstance(value, BaseException) else RuntimeError(value)
                return value
            self._lose()  # it died: this part, and any sent after it, are run here
        return self._run(part)

    def _lose(self) -> None:
        if self._pid is not None:
            _stop((self._pid, self._back))
            with contextlib.suppress(OSError):
                os.close(self._to)
            self._pid = None

    def close(self) -> None:
        """The worker ends once its pipe is closed; wait for it (no zombie, no lock it shares
        with this process outliving the job)."""
        if self._pid is None:
            return
        with contextlib.suppress(OSError):
            os.close(self._to)
        with contextlib.suppress(OSError):
            os.close(self._back)
        with contextlib.suppress(OSError):
            os.waitpid(self._pid, 0)
        self._pid = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(run: Callable[[Any], Any], inbox: int, outbox: int) -> None:
    """The worker's loop: each part read, run, and its (ok, result or exception) written
    back; at the end of the pipe it exits."""
    code = 0
    try:
        while (frame := _read_frame(inbox)) is not None:
            try:
                data = pickle.dumps((True, run(pickle.loads(frame))), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # sent back to be raised in the parent
                try:
                    data = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:
                    data = pickle.dumps((False, repr(exc)), protocol=pickle.HIGHEST_PROTOCOL)
            _write_frame(outbox, data)
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(len(data).to_bytes(8, "little") + data)
    while view:
        view = view[os.write(fd, view) :]


def _read_frame(fd: int) -> bytes | None:
    """One length-prefixed frame; None at the end of the pipe."""
    head = _read_exactly(fd, 8)
    return None if head is None else _read_exactly(fd, int.from_bytes(head, "little"))


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class Shares:
    """Numbered shares of one job (0 .. count-1) handed out, first come first served, to this
    process and the workers it forks afterwards: a pipe holding a byte per share, read a byte
    at a time (a read from a pipe is atomic). A process that is quicker than thought (files
    are made ten times slower on a disk just after a mass deletion) simply takes more."""

    LIMIT = 255

    def __init__(self, count: int) -> None:
        if not 0 < count <= self.LIMIT:
            raise ValueError(f"1 to {self.LIMIT} shares, not {count}")
        self._read, write = os.pipe()
        try:
            os.write(write, bytes(range(count)))
        finally:
            os.close(write)  # once they are all taken, a read is the end of the pipe

    def __iter__(self) -> Iterator[int]:
        while taken := os.read(self._read, 1):
            yield taken[0]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._read)


# The first part, run in this process, is this much bigger than a worker's (here: smaller). A
# worker's result is unpickled here once this part is done, yet on 10,000-entry imports (.bib
# and printed) this process took longer for an equal part: 3% less finishes with the worker.
FIRST_PART_EXTRA = -0.03


def cuts(total: int, parts: int) -> list[int]:
    """Where to cut [0, total) into `parts` parts for parallel_map: 0, ..., total."""
    weights = [1 + FIRST_PART_EXTRA] + [1.0] * (parts - 1)
    whole = sum(weights)
    return [0] + [round(total * sum(weights[:k]) / whole) for k in range(1, parts)] + [total]


def spans(count: int, minimum: int) -> list[range]:
    """[0, count) cut into one range per worker, or left whole when it is under `minimum`
    (a fork and the pickling of results cost more than a small job takes)."""
    parts = min(worker_count(), count // max(minimum, 1)) if count >= minimum else 1
    if parts <= 1:
        return [range(count)]
    bounds = cuts(count, parts)
    return [range(start, end) for start, end in pairwise(bounds) if end > start]
