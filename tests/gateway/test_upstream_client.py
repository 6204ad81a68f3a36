"""The upstream client's HTTP/1.1 against an upstream that answers exactly as each test scripts it: what an answer
may legally look like (coded, without a length, after an interim answer) is read right; a connection is reused only
when that is safe; what cannot be sent or read fails as an UpstreamError, before or instead of anything else."""

from __future__ import annotations

import asyncio
import gc
import gzip
import weakref

import pytest

from skygate.gateway.splice import Caller
from skygate.gateway.upstream import UpstreamClient, UpstreamError
from skygate.settings import Settings
from tests.gateway.scripted_upstream import CallerSocket, chunk, scripted_upstream

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


async def _answer(url: str) -> tuple[int, dict[str, str], bytes | UpstreamError]:
    """One call's status, headers, and its body or the UpstreamError reading it raised."""
    client = UpstreamClient(Settings())
    try:
        answer = await client.send(url, JSON, b"{}")
        try:
            return answer.status_code, dict(answer.headers), await answer.aread()
        except UpstreamError as exc:
            return answer.status_code, dict(answer.headers), exc
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
            await answer.relay(pieces.append, Caller(CallerSocket(framed.append), lambda: None))
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


def test_trailers_after_a_chunked_body_do_not_change_its_headers() -> None:
    head = _head("content-type: application/json", "transfer-encoding: chunked", "trailer: retry-after")
    pieces = [chunk(BODY), b"0\r\nretry-after: 99\r\n\r\n"]
    with scripted_upstream(pieces, gap=0.01, head=head) as upstream:
        _, fields, body = asyncio.run(_answer(upstream.url))
    assert body == BODY
    assert "retry-after" not in fields


def test_a_gzip_body_cut_short_is_an_upstream_error() -> None:
    packed = gzip.compress(BODY)[:-20]  # the length the server sends agrees; the gzip stream does not end
    head = _head("content-encoding: gzip", f"content-length: {len(packed)}")
    with scripted_upstream([packed], gap=0, head=head) as upstream, pytest.raises(UpstreamError, match="cut short"):
        asyncio.run(_read(upstream.url))


def test_a_content_coding_we_cannot_read_fails_only_an_answer_with_a_body() -> None:
    empty = _head("content-encoding: br", "content-length: 0", "retry-after: 1", status="429 Too Many Requests")
    with scripted_upstream([], gap=0, head=empty) as upstream:
        status, _, body = asyncio.run(_answer(upstream.url))
    assert (status, body) == (429, b"")  # still a 429 the proxy can fail over on
    coded = _head("content-encoding: br", "content-length: 4")
    with scripted_upstream([b"\x1b\x03\x00\xf8"], gap=0, head=coded) as upstream:
        status, _, failed = asyncio.run(_answer(upstream.url))
    assert status == 200
    assert isinstance(failed, UpstreamError)
    assert "br" in str(failed)


@pytest.mark.parametrize(
    "head",
    [_head("upgrade: websocket", "connection: upgrade", status="101 Switching Protocols"),
     _head(*(f"x-filler-{n}: {'v' * 1000}" for n in range(100)), "content-length: 0")],
    ids=["switching protocols", "headers past 64 KiB"],
)  # fmt: skip
def test_answers_the_client_will_not_read_are_upstream_errors(head: bytes) -> None:
    with scripted_upstream([], gap=0, head=head) as upstream, pytest.raises(UpstreamError):
        asyncio.run(_read(upstream.url))


def test_a_relay_sink_that_fails_on_a_body_already_whole_fails_the_relay() -> None:
    head = _head("content-type: text/event-stream", "transfer-encoding: chunked")

    async def relayed(url: str) -> None:
        client = UpstreamClient(Settings())
        try:
            answer = await client.send(url, JSON, b"{}")
            await asyncio.sleep(0.3)  # the whole body, its end included, arrives before the relay starts

            def refuse(piece: bytes) -> None:
                raise ValueError("an unreadable event")

            await answer.relay(refuse)
        finally:
            await client.aclose()

    whole = [chunk(b"data: {}\n\n") + b"0\r\n\r\n"]
    with scripted_upstream(whole, gap=0, head=head) as upstream, pytest.raises(ValueError, match="unreadable"):
        asyncio.run(relayed(upstream.url))


@pytest.mark.parametrize("how", ["read", "relayed"])
def test_an_answer_taken_to_its_end_is_freed_without_the_collector(how: str) -> None:
    """A cycle through an answer (its parser holds its callbacks, its sinks their relay) would keep every answer,
    and what it holds, until a collection: memory then grows with the streams (seen in the soak)."""
    head = _head("content-type: text/event-stream", "transfer-encoding: chunked")

    async def freed(url: str) -> bool:
        client = UpstreamClient(Settings())
        try:
            answer = await client.send(url, JSON, b"{}")
            if how == "read":
                assert await answer.aread() == BODY
            else:
                pieces: list[bytes] = []
                await answer.relay(pieces.append, Caller(CallerSocket(pieces.append), lambda: None))
            await answer.aclose()
            ref = weakref.ref(answer)
            del answer
            # While the client lives on: its pool and its silence watch keep nothing of an ended answer.
            return ref() is None
        finally:
            await client.aclose()

    gc.collect()
    gc.disable()
    try:
        with scripted_upstream([chunk(BODY[:500]), chunk(BODY[500:]), b"0\r\n\r\n"], gap=0.01, head=head) as upstream:
            assert asyncio.run(freed(upstream.url))
    finally:
        gc.enable()


def test_a_coded_answer_without_a_body_reads_fine() -> None:
    head = _head("content-encoding: gzip", "content-length: 0", "retry-after: 2", status="429 Too Many Requests")
    with scripted_upstream([], gap=0, head=head) as upstream:
        status, fields, body = asyncio.run(_answer(upstream.url))
    assert (status, fields["retry-after"], body) == (429, "2", b"")  # the proxy can still fail over on it


def test_a_head_that_never_ends_is_cut_off() -> None:
    endless = b"HTTP/1.1 200 OK\r\nx-filler: " + b"v" * 100_000  # one header line, never finished
    with scripted_upstream([], gap=0, head=endless) as upstream, pytest.raises(UpstreamError, match="head longer"):
        asyncio.run(_read(upstream.url))
