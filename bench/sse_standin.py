"""A paced streaming stand-in for Azure: every POST gets a chat-completion SSE stream of `--chunks` events, the
first at once and then one every `--interval-ms`, each carrying the moment it was written (CLOCK_MONOTONIC, which
every process on the machine shares) so the receiver can tell how long the chunk took to reach it.

nginx cannot pace a stream, so this is a bare asyncio protocol on uvloop: no framework, one timer per pending
chunk, one write per chunk. The bench's direct row shows what it costs (it is never the bottleneck)."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import cast

import uvloop

HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
    b"cache-control: no-cache\r\n\r\n"
)
# A chat.completion.chunk as Azure sends it, with the write time in the content ("t<ns>;").
EVENT = (
    'data: {{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764300000,'
    '"model":"gpt-4o-mini-2024-07-18","choices":[{{"index":0,"delta":{{"content":"t{ns};"}},'
    '"finish_reason":null}}]}}\n\n'
)
LAST = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1764300000,'
    b'"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


def framed(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class Stream(asyncio.Protocol):
    def __init__(self, chunks: int, interval: float) -> None:
        self.chunks, self.interval = chunks, interval
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.left = 0
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = self.buffer[:end].lower()
        start = head.find(b"content-length:")
        length = int(head[start + 15 :].split(b"\r\n", 1)[0]) if start >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length :]
        self.left = self.chunks
        assert self.transport is not None
        self.transport.write(HEAD)
        self.tick()

    def tick(self) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            return
        if self.left == 0:
            self.transport.write(framed(LAST) + b"0\r\n\r\n")
            return
        self.left -= 1
        self.transport.write(framed(EVENT.format(ns=time.monotonic_ns()).encode()))
        self.timer = asyncio.get_running_loop().call_later(self.interval, self.tick)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()


async def serve(port: int, chunks: int, interval: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Stream(chunks, interval), "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=50, help="content events per stream")
    parser.add_argument("--interval-ms", type=float, default=50.0, help="time between events")
    args = parser.parse_args()
    uvloop.run(serve(args.port, args.chunks, args.interval_ms / 1000))


if __name__ == "__main__":
    main()
