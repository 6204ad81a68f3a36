"""The HTTP/1.1 server protocol `skygate serve` runs: uvicorn's httptools protocol, less two costs of each request.

- **Keep-alive.** uvicorn arms a timer when a response ends and cancels it when the next request comes: under
  uvloop a libuv handle opened and closed per request, a few µs of each call (docs/performance.md, "The server's
  protocol, and the key hash"). Here a connection waiting for its next request is only noted with the time it
  went idle, and one sweep per server, a fifth of the timeout apart, closes those idle for the whole timeout: a
  connection closes between the timeout and 1.2 times it, where clients (which expire theirs sooner) never reuse
  it.
- **A caller leaving.** uvicorn tells an ASGI app only through `receive`, so a stream kept a task waiting on it
  for its whole length. A cycle made here has `on_caller_gone`, which `tell_when_gone` sets (for the stream relay,
  gateway/relay.py) and `connection_lost` calls.

Parsing, pipelining, flow control, `100 Continue` and shutdown stay uvicorn's, whose version is pinned to one
minor release (pyproject.toml). Without httptools, `HTTP_PROTOCOL` is uvicorn's own choice."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

__all__ = ["HTTP_PROTOCOL", "tell_when_gone"]


def tell_when_gone(cycle: Any, gone: Callable[[], None]) -> bool:
    """Have `gone` called when the caller of uvicorn's response `cycle` leaves (at once if it has): True for a
    cycle of this protocol, which the caller then clears (`cycle.on_caller_gone = None`) when done; False for any
    other (or None), whose app must watch `receive`."""
    if cycle is None or not hasattr(cycle, "on_caller_gone"):
        return False
    if cycle.disconnected:
        gone()  # gone already: `connection_lost` will not come again
        return True
    cycle.on_caller_gone = gone
    # Only reading sees the caller leave, and uvicorn leaves it paused after a body over 64 KB until the next
    # `receive`: resumed here, as that `receive` would.
    cycle.flow.resume_reading()
    return True


class IdleSweep:
    """Keep-alive connections waiting for their next request, each closed once idle for `timeout` seconds."""

    def __init__(self, timeout: float, loop: asyncio.AbstractEventLoop) -> None:
        self.timeout, self._loop = timeout, loop
        self._every = max(timeout / 5, 0.01)
        self._idle: dict[Any, float] = {}  # protocol → loop time it went idle
        self._timer: asyncio.TimerHandle | None = None

    def enter(self, protocol: Any) -> None:
        self._idle[protocol] = self._loop.time()
        if self._timer is None:
            self._timer = self._loop.call_later(self._every, self._sweep)

    def leave(self, protocol: Any) -> None:
        self._idle.pop(protocol, None)

    def _sweep(self) -> None:
        self._timer, now = None, self._loop.time()
        for protocol, since in list(self._idle.items()):
            if now - since >= self.timeout:
                del self._idle[protocol]
                protocol.timeout_keep_alive_handler()
        if self._idle:  # no sweeps while nothing waits
            self._timer = self._loop.call_later(self._every, self._sweep)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn without httptools: its own protocol, streams watch `receive`
    HTTP_PROTOCOL: Any = "auto"
else:
    # One sweep per server (each runs on its own loop: tests run several in one process).
    _sweeps: weakref.WeakKeyDictionary[Any, IdleSweep] = weakref.WeakKeyDictionary()

    class GatewayHttpProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            sweep = _sweeps.get(self.server_state)
            if sweep is None:
                sweep = _sweeps[self.server_state] = IdleSweep(self.timeout_keep_alive, self.loop)
            self._sweep = sweep

        def _unset_keepalive_if_required(self) -> None:
            self._sweep.leave(self)  # (uvicorn's timer is never armed here)

        def on_headers_complete(self) -> None:
            existing = self.cycle
            super().on_headers_complete()
            cycle: Any = self.cycle
            if cycle is not existing:  # (an upgrade makes none)
                cycle.on_caller_gone = None  # a relay sets it for the length of its stream

        def on_response_complete(self) -> None:
            # uvicorn's own steps, with the idle sweep where it arms a timer.
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self._sweep.leave(self)
            self.flow.resume_reading()
            if self.pipeline:
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
            else:
                self._sweep.enter(self)

        def connection_lost(self, exc: Exception | None) -> None:
            cycle: Any = self.cycle
            super().connection_lost(exc)
            self._sweep.leave(self)
            if cycle is not None and cycle.disconnected and (gone := getattr(cycle, "on_caller_gone", None)):
                cycle.on_caller_gone = None
                gone()

    HTTP_PROTOCOL = GatewayHttpProtocol
