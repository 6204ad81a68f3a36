"""One call's upstream state never reaches another call: the upstream client is shared by every organization,
so nothing an upstream answers — cookies above all — may be kept and sent on a later call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from skygate.gateway.upstream import UpstreamClient
from skygate.gateway.upstream_client import create_upstream_client
from skygate.settings import Settings
from tests.gateway.scripted_upstream import HEAD, chunk, scripted_upstream

# An answer that sets cookies as load balancers do (session affinity), one of them for every path.
COOKIES = b"set-cookie: ARRAffinity=tenant-a; Path=/\r\nset-cookie: session=abc123; Path=/; Max-Age=3600\r\n"
COOKIE_HEAD = HEAD.replace(b"\r\n\r\n", b"\r\n" + COOKIES + b"\r\n")
URL = "{}/openai/v1/chat/completions"


async def _model_calls(url: str, count: int) -> None:
    """Through the data plane's client."""
    client = UpstreamClient(Settings())
    try:
        for _ in range(count):
            upstream = await client.send(URL.format(url), {"content-type": "application/json"}, b"{}")
            assert upstream.status_code == 200
            await upstream.aread()
            await upstream.aclose()
    finally:
        await client.aclose()


async def _probes(url: str, count: int) -> None:
    """Through the connection test's client (httpx)."""
    async with create_upstream_client(Settings()) as client:
        for _ in range(count):
            answer = await client.post(URL.format(url), json={})
            assert answer.status_code == 200
            assert answer.headers.get_list("set-cookie")  # offered every time, taken never


@pytest.mark.parametrize("calls", [_model_calls, _probes], ids=["model calls", "connection tests"])
def test_cookies_an_upstream_sets_are_never_sent_back(calls: Callable[[str, int], Awaitable[None]]) -> None:
    with scripted_upstream([chunk(b"data: {}\n\n"), b"0\r\n\r\n"], gap=0, head=COOKIE_HEAD) as upstream:
        # By name, as Azure's hosts are: cookie jars commonly ignore cookies set by IP addresses.
        asyncio.run(calls(upstream.url.replace("127.0.0.1", "localhost"), 3))
    assert upstream.requests == 3
    for head in upstream.heads:
        assert b"cookie" not in head.lower()
        assert b"tenant-a" not in head
        assert b"abc123" not in head
