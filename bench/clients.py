"""Upstream HTTP clients on their own: how many requests per second httpx, aiohttp and the gateway's own client
(`UpstreamClient`, keep-alive HTTP/1.1 over httptools) drive against nginx at several concurrencies, on one core,
and the CPU each spends per request. This is what showed the gateway's bottleneck, twice (docs/performance.md).

    uv run python -m bench.clients       (the client on core 0, nginx on core 1)
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx
import uvloop

from bench.harness import free_port, need, pinned
from skygate.gateway.upstream import UpstreamClient
from skygate.settings import Settings

NGINX = """worker_processes 1; daemon off; pid {tmp}/nginx.pid; error_log {tmp}/error.log warn;
events {{ worker_connections 8192; }}
http {{ access_log off; client_body_temp_path {tmp}/b; proxy_temp_path {tmp}/p; fastcgi_temp_path {tmp}/f;
  uwsgi_temp_path {tmp}/u; scgi_temp_path {tmp}/s;
  server {{ listen 127.0.0.1:{port} backlog=4096;
    location / {{ default_type application/json; return 200 '{{"ok":true}}'; }} }} }}
"""
BODY = b'{"model":"m","messages":[]}'


async def _drive(call: Callable[[], Awaitable[None]], concurrency: int, seconds: float) -> float:
    done = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < end:
            await call()
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / seconds


async def with_httpx(url: str, concurrency: int, seconds: float) -> float:
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
    async with httpx.AsyncClient(limits=limits) as client:

        async def call() -> None:
            response = await client.post(url, content=BODY)
            await response.aread()

        return await _drive(call, concurrency, seconds)


async def with_aiohttp(url: str, concurrency: int, seconds: float) -> float:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000)) as session:

        async def call() -> None:
            async with session.post(url, data=BODY) as response:
                await response.read()

        return await _drive(call, concurrency, seconds)


async def with_skygate(url: str, concurrency: int, seconds: float) -> float:
    client = UpstreamClient(Settings())
    headers = {"content-type": "application/json"}
    try:

        async def call() -> None:
            response = await client.send(url, headers, BODY)
            await response.aread()

        return await _drive(call, concurrency, seconds)
    finally:
        await client.aclose()


def main() -> None:
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
    tmp = Path(tempfile.mkdtemp(prefix="skygate-clients-"))
    port = free_port()
    (tmp / "nginx.conf").write_text(NGINX.format(tmp=tmp, port=port))
    nginx = subprocess.Popen(pinned(1, [need("nginx"), "-c", str(tmp / "nginx.conf"), "-p", str(tmp)]))
    try:
        time.sleep(0.5)
        url = f"http://127.0.0.1:{port}/openai/v1/chat/completions"
        print("| client | c | rps | CPU per request |\n|---|--:|--:|--:|")
        clients = (("httpx", with_httpx), ("aiohttp", with_aiohttp), ("skygate UpstreamClient", with_skygate))
        for concurrency in (1, 32, 256):
            for name, run in clients:
                cpu = time.process_time()
                rps = uvloop.run(run(url, concurrency, 3.0))
                per_request = (time.process_time() - cpu) / (rps * 3.0) * 1e6
                print(f"| {name} | {concurrency} | {rps:,.0f} | {per_request:,.0f} µs |")
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
