"""The streaming load: `--streams` keep-alive connections, each asking for one SSE stream after another, for
`--warmup` plus `--seconds` seconds. For streams in the measured window it reports time to first chunk (request
written → first event read) and each chunk's delivery time (read time minus the write time the stand-in put in
it), and the CPU time `--pid` spent in that window per chunk delivered. Prints one JSON object.

A bare asyncio protocol on uvloop, like the stand-in, so the load costs the same with and without the gateway."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from dataclasses import dataclass, field
from typing import cast

import uvloop

from bench.harness import cpu_seconds

STAMP = re.compile(rb"t(\d{6,});")
# Latency samples kept (enough for the quantiles; a 10-minute soak would otherwise hold millions).
MAX_SAMPLES = 2_000_000


@dataclass
class Tally:
    measuring: bool = False
    running: bool = True
    chunks: int = 0
    streams: int = 0
    errors: int = 0
    ttft_us: list[float] = field(default_factory=list)
    chunk_us: list[float] = field(default_factory=list)


class Client(asyncio.Protocol):
    def __init__(self, request: bytes, tally: Tally) -> None:
        self.request, self.tally = request, tally
        self.transport: asyncio.Transport | None = None
        self.reset()

    def reset(self) -> None:
        self.buffer = b""
        self.tail = b""
        self.first = True
        self.done = False
        self.sent = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        self.ask()

    def ask(self) -> None:
        assert self.transport is not None
        self.reset()
        self.sent = time.monotonic_ns()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        tally = self.tally
        if self.first and not self.buffer and not data.startswith(b"HTTP/1.1 200"):
            tally.errors += 1
        self.buffer += data
        last = 0
        for match in STAMP.finditer(self.buffer):
            last = match.end()
            if tally.measuring:
                if self.first:
                    tally.ttft_us.append((now - self.sent) / 1000)
                if len(tally.chunk_us) < MAX_SAMPLES:
                    tally.chunk_us.append((now - int(match.group(1))) / 1000)
                tally.chunks += 1
            self.first = False
        if b"[DONE]" in self.buffer:
            self.done = True
        self.buffer = self.buffer[last:][-256:]
        self.tail = (self.tail + data)[-5:]
        if self.done and self.tail == b"0\r\n\r\n":
            if tally.measuring:
                tally.streams += 1
            if tally.running:
                self.ask()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.tally.running:
            self.tally.errors += 1


def quantile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


async def run(args: argparse.Namespace) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    host, port, path = re.fullmatch(r"http://([^:/]+):(\d+)(/.*)", args.url).groups()  # type: ignore[union-attr]
    body = args.body.encode()
    request = (
        f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {args.key}\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode() + body
    tally = Tally()
    transports = []
    # Connections open over the first second, so streams start (and stay) spread over the chunk interval.
    for index in range(args.streams):
        transport, _ = await loop.create_connection(lambda: Client(request, tally), host, int(port))
        transports.append(transport)
        if index % 50 == 49:
            await asyncio.sleep(50 / args.streams)
    await asyncio.sleep(args.warmup)
    tally.measuring = True
    cpu, started = cpu_seconds(args.pid), time.monotonic()
    await asyncio.sleep(args.seconds)
    cpu, elapsed = cpu_seconds(args.pid) - cpu, time.monotonic() - started
    tally.measuring = tally.running = False
    for transport in transports:
        transport.close()
    return {
        "streams": args.streams,
        "completed_streams": tally.streams,
        "chunks": tally.chunks,
        "chunks_per_second": tally.chunks / elapsed,
        "errors": tally.errors,
        "ttft_p50_us": quantile(tally.ttft_us, 0.50),
        "ttft_p99_us": quantile(tally.ttft_us, 0.99),
        "chunk_p50_us": quantile(tally.chunk_us, 0.50),
        "chunk_p99_us": quantile(tally.chunk_us, 0.99),
        "cpu_us_per_chunk": cpu * 1e6 / tally.chunks if tally.chunks else float("nan"),
        "cpu_share": cpu / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="http://host:port/path to POST to")
    parser.add_argument("--key", default="bench", help="bearer token")
    parser.add_argument("--body", required=True, help="the JSON request body")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent streams (one connection each)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--pid", type=int, required=True, help="the process whose CPU time is reported")
    args = parser.parse_args()
    print(json.dumps(uvloop.run(run(args))))


if __name__ == "__main__":
    main()
