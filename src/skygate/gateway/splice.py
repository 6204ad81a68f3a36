"""Whole HTTP/1.1 chunks on an upstream connection, and the protocol that passes them on while a relayed body
arrives as nothing else.

Once a stream runs, nearly every read of it is one chunk, or a few, whole. `UpstreamResponse` then makes a
`Splice` the upstream transport's protocol, so that each such read goes from uvloop's read callback to the
caller's socket through one small method — where the connection, the response's bookkeeping and its checks
had cost about 7 µs a chunk on a slow host, under 1,000 streams (docs/performance.md, "A protocol for whole
chunks"). Any other read (the last chunk, a chunk cut across reads, looser framing) is set aside to the
response, which puts the connection back as the protocol and reads it as before."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["PARTIAL_LIMIT", "Caller", "Splice", "unfinished", "whole_chunks"]

# A chunk-size line as HTTP/1.1 writes it (RFC 9112 §7.1), with token extensions; anything looser (spaces, quoted
# values) goes to the parser, which takes or refuses it.
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,8})(?:;%s(?:=%s)?)*\r\n" % (_TOKEN, _TOKEN))
_PARTIAL_LINE = re.compile(rb"[0-9A-Fa-f]{0,8}[;=!#$%&'*+.^_`|~0-9A-Za-z-]{0,256}\r?")
PARTIAL_LIMIT = 64 * 1024  # a chunk larger than this, split across reads, goes through the parser instead


def whole_chunks(data: bytes, pos: int = 0) -> int:
    """Where the run of whole chunks, none of them the last (size 0), that starts at `pos` ends."""
    end = len(data)
    while pos < end:
        line = _SIZE_LINE.match(data, pos)
        if line is None:
            break
        stop = line.end() + int(line[1], 16) + 2
        if stop == line.end() + 2 or stop > end or data[stop - 2 : stop] != b"\r\n":
            break
        pos = stop
    return pos


def unfinished(rest: bytes) -> bool:
    """A chunk whose size line says more is to come, or the start of a size line."""
    line = _SIZE_LINE.match(rest)
    if line is not None:
        size = int(line[1], 16)
        return size > 0 and line.end() + size + 2 > len(rest)
    return _PARTIAL_LINE.fullmatch(rest) is not None


@dataclass(frozen=True, slots=True)
class Caller:
    """The caller's connection, whose response takes the upstream's HTTP/1.1 chunks as they are, framing and
    all; `backlog` is called when a write has left bytes in its buffer (the server may want the upstream paused)."""

    transport: asyncio.Transport
    backlog: Callable[[], None]


class Spliced(Protocol):
    """The response whose body a `Splice` passes on (`UpstreamResponse`)."""

    def set_aside(self, data: bytes) -> None:
        """A read that is not whole chunks: the response reads it (and puts the connection back first)."""
        ...

    def broke(self, exc: Exception) -> None:
        """Passing whole chunks on failed: the answer fails with `exc`."""
        ...


class Splice(asyncio.Protocol):
    """Whole chunks from one upstream answer to its caller: the upstream transport's protocol while they come.
    `fresh` tells the silence watch that something came since it last looked (one attribute set a read, not a
    clock read)."""

    __slots__ = ("backlog", "connection", "fresh", "response", "transport")

    def __init__(self, connection: asyncio.Protocol, caller: Caller, response: Spliced) -> None:
        self.connection, self.response = connection, response
        self.transport, self.backlog = caller.transport, caller.backlog
        self.fresh = False

    def pass_on(self, chunks: bytes) -> None:
        """Whole chunks to the caller's socket: what the server's `send` does for a body piece, less the framing
        (the upstream's serves) and the message."""
        transport = self.transport
        if transport.is_closing():
            return  # the caller has gone (the server's `send` drops it too): the relay is ending the answer
        transport.write(chunks)
        if transport.get_write_buffer_size():
            self.backlog()

    def data_received(self, data: bytes) -> None:
        self.fresh = True
        # Most reads are one chunk, whose size line is its length in hex (lower case, no leading zeros): checked by
        # writing that length, which costs less than reading the line (about 2 µs a chunk under 1,000 streams).
        end = len(data)
        line = data.find(b"\r\n", 0, 10)
        one = line > 0 and end > line + 4 and data.endswith(b"\r\n") and data[:line] == b"%x" % (end - line - 4)
        if not one and whole_chunks(data) != end:
            self.response.set_aside(data)
            return
        try:
            self.pass_on(data)
        except Exception as exc:
            self.response.broke(exc)

    # The connection's own ends: the response hears of them from it, as when it is the protocol.

    def eof_received(self) -> bool | None:
        return self.connection.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connection.connection_lost(exc)
