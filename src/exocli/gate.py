"""Each Crossref request counted as it leaves, and ended at a deadline.

habanero sends its requests with `httpx2.get` (in two modules). exocli gives habanero a view of httpx2 whose
`get` does two things through httpx's trace hook:

- the rate limiter is passed the moment the request headers are sent, not when exocli
  decides to send: a connection set up slowly can no longer bunch requests together at
  the server, so no one-second window there holds more than the limit;
- a timer closes the connection when the whole request has taken longer than the
  timeout. httpx's own timeout is per read, so a server trickling one byte at a time
  would hold a request for ever.

Outside a Client call (no gate set for the thread) requests go straight to httpx2.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Gate:
    """What one thread's next requests must pass: a rate gate and a whole-request deadline."""

    admit: Callable[[], None]  # blocks until the rate limits allow one more request
    deadline: float  # seconds from sending to the complete answer


_current = threading.local()


class gated:
    """`with gated(gate):` requests made by this thread pass `gate`."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def __enter__(self) -> Gate:
        _current.gate = self.gate
        return self.gate

    def __exit__(self, *_: object) -> None:
        _current.gate = None


def get(url: Any, **kwargs: Any) -> Any:
    import httpx2

    gate: Gate | None = getattr(_current, "gate", None)
    if gate is None:
        return httpx2.get(url, **kwargs)
    state: dict[str, Any] = {"socket": None, "timer": None, "expired": False}

    def expire() -> None:
        state["expired"] = True
        sock = state["socket"]
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once

    def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith((".connect_tcp.complete", ".start_tls.complete")):
            stream = info.get("return_value")
            if stream is not None:
                state["socket"] = stream.get_extra_info("socket")
        elif event.endswith(".send_request_headers.started") and state["timer"] is None:
            gate.admit()
            timer = threading.Timer(gate.deadline, expire)
            timer.daemon = True
            state["timer"] = timer
            timer.start()

    timeout = kwargs.pop("timeout", None)
    try:
        with httpx2.Client(timeout=timeout, verify=_ssl_context()) as client:
            response = client.get(url, extensions={"trace": trace}, **kwargs)
    except httpx2.TransportError as exc:
        if state["expired"]:
            raise httpx2.ReadTimeout(f"no complete answer within {gate.deadline:g} s") from exc
        raise
    finally:
        if state["timer"] is not None:
            state["timer"].cancel()
    if state["expired"]:
        raise httpx2.ReadTimeout(f"no complete answer within {gate.deadline:g} s")
    return response


@functools.cache
def _ssl_context() -> Any:
    """One SSL context for the run: httpx builds a new one per client otherwise, which costs
    about 70 ms each (the CA bundle is read again), more than the rate limit's spacing."""
    import httpx2

    return httpx2.create_ssl_context()  # honours SSL_CERT_FILE and SSL_CERT_DIR, as httpx does


class HttpxView:
    """httpx2 as habanero sees it: everything as is, but `get` goes through the gate."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return get if name == "get" else getattr(self._module, name)


def install() -> None:
    """Route habanero's requests through the gate (idempotent)."""
    import habanero.request
    import habanero.request_class
    import httpx2

    # single records go through habanero.request, list queries through request_class
    for module in (habanero.request, habanero.request_class):
        if not isinstance(module.httpx2, HttpxView):
            module.httpx2 = HttpxView(httpx2)
