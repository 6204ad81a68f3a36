"""HTTP/1.1 connections to upstreams: where a URL points, the request head, one keep-alive connection as an
asyncio protocol, and the pool of idle ones. What a response means is `UpstreamResponse`'s
(gateway/upstream_response.py)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, cast
from urllib.parse import urlsplit

__all__ = ["KEEPALIVE_SECONDS", "Connection", "Pool", "Target", "request_start", "target"]

# Idle connections are dropped after 4 s, before servers with short idle timeouts (uvicorn's is 5 s) close them:
# reusing a connection the server is closing fails a POST that must not be retried.
KEEPALIVE_SECONDS = 4.0


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL's requests go, and the start of their head (request line and Host)."""

    key: tuple[str, str, int]
    host: str
    port: int
    tls: bool
    start: str


@functools.lru_cache(maxsize=4096)
def target(url: str) -> Target:
    """Upstream URLs are few (one per provider, deployment and API) and arrive already quoted."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    netloc = parts.netloc.rpartition("@")[2]  # never userinfo in Host
    start = f"POST {path} HTTP/1.1\r\nhost: {netloc}\r\n"
    return Target((parts.scheme, parts.hostname, port), parts.hostname, port, tls, start)


def request_start(where: Target, headers: Mapping[str, str]) -> bytes:
    """A request's head up to its content-length: the request line, Host and `headers`."""
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
    # Each header adds exactly one CR and one LF: any other would split a header (injection). Our own headers and
    # the forwarded ones (parsed by the server, which refuses line breaks) never carry one; this makes sure.
    if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
        raise ValueError("a header name or value holds a line break")
    return f"{where.start}{lines}".encode()


class Reader(Protocol):
    """What reads a response off a connection (`UpstreamResponse`)."""

    def feed(self, data: bytes) -> None: ...

    def lost(self, exc: Exception | None) -> None: ...


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; its bytes go to the response being read on it, if any."""

    __slots__ = ("idle_since", "lost", "reader", "transport")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader: Reader | None = None
        self.lost = False
        self.idle_since = 0.0

    @property
    def alive(self) -> bool:
        return not self.lost and self.transport is not None and not self.transport.is_closing()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.reader is not None:
            self.reader.feed(data)
        elif self.transport is not None:
            self.transport.close()  # nothing is owed on an idle connection: bytes here make it unusable

    def eof_received(self) -> bool:
        return False  # nothing stays half-open: the transport closes, and `connection_lost` follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        reader, self.reader = self.reader, None
        if reader is not None:
            reader.lost(exc)

    def close(self) -> None:
        # Aborted, not closed: a closing transport first writes out what it holds, and a connection given up on
        # may hold the rest of a request its server no longer reads.
        self.reader = None
        if self.transport is not None:
            self.transport.abort()


class Pool:
    """Idle connections by (scheme, host, port), newest reused first; a sweep closes those idle too long."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        self._sweep: asyncio.TimerHandle | None = None
        self._closed = False

    @staticmethod
    def _fresh(connection: Connection, now: float) -> bool:
        return connection.alive and now - connection.idle_since < KEEPALIVE_SECONDS

    def take(self, key: tuple[str, str, int], now: float) -> Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if self._fresh(connection, now):
                return connection
            connection.close()
        return None

    def give(self, key: tuple[str, str, int], connection: Connection, loop: asyncio.AbstractEventLoop) -> None:
        if self._closed:  # an answer that ended after the client closed
            connection.close()
            return
        connection.reader, connection.idle_since = None, loop.time()
        self._idle.setdefault(key, []).append(connection)
        if self._sweep is None:
            self._sweep = loop.call_later(KEEPALIVE_SECONDS, self._swept, loop)

    def _swept(self, loop: asyncio.AbstractEventLoop) -> None:
        self._sweep, now = None, loop.time()
        for key, idle in list(self._idle.items()):
            fresh: list[Connection] = []
            for connection in idle:
                if self._fresh(connection, now):
                    fresh.append(connection)
                else:
                    connection.close()
            if fresh:
                self._idle[key] = fresh
            else:
                del self._idle[key]
        if self._idle:
            self._sweep = loop.call_later(KEEPALIVE_SECONDS, self._swept, loop)

    def close(self) -> None:
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()
