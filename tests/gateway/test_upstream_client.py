"""The upstream client's HTTP/1.1 against an upstream that answers exactly as each test scripts it: what an answer
may legally look like (coded, without a length, after an interim answer) is read right; a connection is reused only
when that is safe; what cannot be sent or read fails as an UpstreamError, before or instead of anything else."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from skygate.gateway.upstream import UpstreamClient, UpstreamError
from skygate.settings import Settings
from tests.gateway.scripted_upstream import chunk, scripted_upstream

JSON = {"content-type": "application/json"}
BODY = b'{"choices": [{"message": {"content": "' + b"word " * 2000 + b'"}}]}'


def _head(*fields: str, status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\n{''.join(f + chr(13) + chr(10) for f in fields)}\r\n".encode()


async def _read(url: str, calls: int = 1) -> list[bytes]:
    client = UpstreamClient(Settings(upstream_timeout_seconds=5))
    try:
        bodies = []
        for _ in range(calls):
            answer = await client.send(url, JSON, b"{}")
            assert answer.status_code == 200
            bodies.append(await answer.aread())
            await answer.aclose()
        return bodies
    finally:
        await client.aclose()


def test_a_gzip_answer_is_read_decoded() -> None:
    packed = gzip.compress(BODY)
    head = _head("content-type: application/json", "content-encoding: gzip", f"content-length: {len(packed)}")
    with scripted_upstream([packed[:100], packed[100:]], gap=0.01, head=head) as upstream:
        assert asyncio.run(_read(upstream.url)) == [BODY]


def test_a_gzip_stream_is_relayed_decoded_and_never_framed() -> None:
    packed = gzip.compress(BODY)
    head = _head("content-type: text/event-stream", "content-encoding: gzip", "transfer-encoding: chunked")
    pieces = [chunk(packed[:500]), chunk(packed[500:]), b"0\r\n\r\n"]

    async def relayed(url: str) -> tuple[bytes, int]:
        client = UpstreamClient(Settings())
        framed: list[bytes] = []
        try:
            answer = await client.send(url, JSON, b"{}")
            pieces: list[bytes] = []
            await answer.relay(pieces.append, framed.append)
            return b"".join(pieces), len(framed)
        finally:
            await client.aclose()

    with scripted_upstream(pieces, gap=0.01, head=head) as upstream:
        body, framed = asyncio.run(relayed(upstream.url))
    assert (body, framed) == (BODY, 0)  # framed chunks would hand the caller gzip it never asked for


def test_an_answer_without_a_length_ends_with_its_connection_which_is_not_reused() -> None:
    head = _head("content-type: application/json")
    with scripted_upstream([BODY[:1000], BODY[1000:]], gap=0.01, head=head, close_after=True) as upstream:
        assert asyncio.run(_read(upstream.url, calls=2)) == [BODY, BODY]
    assert (upstream.connections, upstream.requests) == (2, 2)


def test_an_answer_that_says_connection_close_is_not_reused() -> None:
    head = _head("content-type: application/json", "connection: close", f"content-length: {len(BODY)}")
    with scripted_upstream([BODY], gap=0, head=head, close_after=True) as upstream:
        assert asyncio.run(_read(upstream.url, calls=2)) == [BODY, BODY]
    assert upstream.connections == 2


def test_a_keep_alive_answer_leaves_its_connection_for_the_next_call() -> None:
    head = _head("content-type: application/json", f"content-length: {len(BODY)}")
    with scripted_upstream([BODY], gap=0, head=head) as upstream:
        assert asyncio.run(_read(upstream.url, calls=3)) == [BODY] * 3
    assert (upstream.connections, upstream.requests) == (1, 3)


def test_an_interim_answer_is_skipped_for_the_final_one() -> None:
    head = _head(status="100 Continue") + _head("content-type: application/json", f"content-length: {len(BODY)}")
    with scripted_upstream([BODY], gap=0, head=head) as upstream:
        assert asyncio.run(_read(upstream.url)) == [BODY]


def test_an_answer_that_is_not_http_is_an_upstream_error() -> None:
    with scripted_upstream([], gap=0, head=b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as upstream, pytest.raises(UpstreamError):
        asyncio.run(_read(upstream.url))


def test_a_header_with_a_line_break_is_refused_and_nothing_is_sent() -> None:
    async def injected(url: str) -> None:
        client = UpstreamClient(Settings())
        try:
            await client.send(url, {**JSON, "x-ms-client-request-id": "a\r\nx-injected: 1"}, b"{}")
        finally:
            await client.aclose()

    head = _head(f"content-length: {len(BODY)}")
    with scripted_upstream([BODY], gap=0, head=head) as upstream:
        with pytest.raises(ValueError, match="line break"):
            asyncio.run(injected(upstream.url))
        asyncio.run(_read(upstream.url))  # a request that does arrive, to know the first one would have
    assert upstream.requests == 1
    assert b"x-injected" not in b"".join(upstream.heads)
