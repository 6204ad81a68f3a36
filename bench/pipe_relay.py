"""The least a Python relay can spend per chunk: a uvloop protocol that copies bytes between each caller's
connection and a connection of its own to the stand-in, with no HTTP at all — one read callback and one write per
chunk, as skygate's framed relay does once a stream runs. The bench's "uvloop pipe" row: next to it, skygate's row
shows what its HTTP handling, auth and routing add, and the nginx hop's what leaving Python would save."""

from __future__ import annotations

import argparse
import asyncio
import socket
from typing import cast

import uvloop


def _nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Upstream(asyncio.Protocol):
    def __init__(self, caller: asyncio.Transport) -> None:
        self.caller = caller

    def data_received(self, data: bytes) -> None:
        self.caller.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.caller.close()


class _Caller(asyncio.Protocol):
    def __init__(self, port: int) -> None:
        self.port = port
        self.transport: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.early: list[bytes] = []
        self.connecting: asyncio.Task[None] | None = None  # held here: the loop keeps only a weak reference

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        _nodelay(transport)
        self.connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        caller = self.transport
        try:
            upstream, _ = await loop.create_connection(lambda: _Upstream(caller), "127.0.0.1", self.port)
        except OSError:
            caller.close()
            return
        _nodelay(upstream)
        self.upstream = upstream
        if caller.is_closing():
            upstream.close()
            return
        for data in self.early:
            self.upstream.write(data)
        self.early = []

    def data_received(self, data: bytes) -> None:
        if self.upstream is None:
            self.early.append(data)
        else:
            self.upstream.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.upstream is not None:
            self.upstream.close()


async def serve(port: int, upstream: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Caller(upstream), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True, help="the stand-in's port")
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.upstream))


if __name__ == "__main__":
    main()
