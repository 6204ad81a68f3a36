"""How long an upstream may stay silent: one timer for every answer being read, not one per answer.

A timer per answer cost ~9 µs of CPU per call (uvloop opens a libuv handle for each and closes it on the next
loop pass; docs/performance.md). Here each answer is only added to a set and taken out of it; a tick, a tenth of
the limit apart (at most a second), fails those silent for longer than the limit; ticks stop a tick after the
last answer. An answer is failed at most one tick after its limit — two for a stream whose reads a `Splice` takes,
which the answer learns of at the next tick (`UpstreamResponse.silent_since`)."""

from __future__ import annotations

import asyncio
from typing import Protocol

__all__ = ["Silence", "Watched"]


class Watched(Protocol):
    def silent_since(self) -> float | None:
        """When the upstream last sent something or was last asked to (loop time); None while not waiting."""
        ...

    def silenced(self) -> None:
        """The upstream has been silent past the limit: fail the answer (which then leaves the watch)."""
        ...


class Silence:
    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._tick_seconds = min(max(limit / 10, 0.01), 1.0)
        self._watched: set[Watched] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._recent = False  # an answer was watched since the last tick

    def watch(self, answer: Watched, loop: asyncio.AbstractEventLoop) -> None:
        self._watched.add(answer)
        self._recent = True
        if self._timer is None:
            self._timer = loop.call_later(self._tick_seconds, self._tick, loop)

    def unwatch(self, answer: Watched) -> None:
        self._watched.discard(answer)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        now = loop.time()
        try:
            for answer in [
                a for a in self._watched if (since := a.silent_since()) is not None and now - since >= self.limit
            ]:
                answer.silenced()
        finally:  # whatever one answer does, the rest stay watched (those due now, from the next tick)
            # Ticking on while calls come, even one at a time: a timer made per call is what this saves.
            if (self._watched or self._recent) and self._timer is None:
                self._timer = loop.call_later(self._tick_seconds, self._tick, loop)
            self._recent = False

    def close(self) -> None:
        """The client is closing: no more ticks, and nothing kept."""
        self._watched.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
