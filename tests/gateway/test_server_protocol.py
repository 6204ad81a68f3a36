"""skygate's server protocol against uvicorn's own, on real servers and sockets: keep-alive connections close after
the same idle time (swept, not timed one by one), pipelined requests are answered in order, and a caller leaving
ends the upstream stream at once — told by the protocol, or seen by the relay's task on `receive`."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from skygate.gateway.relay import StreamRelay
from skygate.gateway.server_cycle import server_cycle
from skygate.gateway.server_protocol import HTTP_PROTOCOL
from skygate.gateway.upstream import UpstreamClient
from skygate.settings import Settings
from skygate_emulator.server import serve_in_thread
from tests.gateway.scripted_upstream import HEAD, chunk, scripted_upstream

PROTOCOLS = pytest.mark.parametrize("http", [HTTP_PROTOCOL, "httptools"], ids=["skygate", "uvicorn"])
GET = b"GET / HTTP/1.1\r\nhost: test\r\n\r\n"
ANSWER = b"HTTP/1.1 200 OK\r\n"


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers "at <path>"."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    body = f"at {scope['path']}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def _connected(port: int) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        yield sock


def _answers(sock: socket.socket, count: int) -> bytes:
    """Read until `count` whole answers of `_hello` have come."""
    data = b""
    while data.count(b"\r\n\r\nat /") < count:
        more = sock.recv(65536)
        assert more, "the server closed the connection before answering"
        data += more
    return data


@PROTOCOLS
def test_an_idle_keep_alive_connection_closes_after_the_timeout_and_a_busy_one_stays(http: Any) -> None:
    answered: list[bool] = []

    def keep_busy(sock: socket.socket) -> None:  # 2.5 s of requests 0.5 s apart: never idle for the timeout
        for _ in range(6):
            sock.sendall(GET)
            answered.append(_answers(sock, 1).startswith(ANSWER))
            time.sleep(0.5)

    with (
        serve_in_thread(_hello, access_log=False, http=http, timeout_keep_alive=1) as port,
        _connected(port) as idle,
        _connected(port) as busy,
    ):
        idle.sendall(GET)
        assert _answers(idle, 1).startswith(ANSWER)
        went_idle = time.monotonic()
        thread = threading.Thread(target=keep_busy, args=(busy,))
        thread.start()
        assert idle.recv(1) == b""  # closed by the server
        closed_after = time.monotonic() - went_idle
        thread.join()
    assert answered == [True] * 6  # the busy connection stayed open for more than twice the timeout
    # The timeout (less the loop clock's millisecond), plus at most a sweep's interval (a fifth of it) and slack.
    assert 0.95 <= closed_after < 2.0


@PROTOCOLS
def test_pipelined_requests_are_answered_in_order_on_one_connection(http: Any) -> None:
    with serve_in_thread(_hello, access_log=False, http=http) as port, _connected(port) as sock:
        sock.sendall(b"".join(b"GET /%d HTTP/1.1\r\nhost: test\r\n\r\n" % n for n in (1, 2, 3)))
        data = _answers(sock, 3)
    assert data.count(ANSWER) == 3
    assert data.index(b"at /1") < data.index(b"at /2") < data.index(b"at /3")


async def _read_body(receive: Any) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    return body


@PROTOCOLS
@pytest.mark.parametrize("leaves", ["mid-stream", "mid-stream after a large body", "before the answer"])
def test_a_caller_leaving_ends_the_upstream_stream_at_once(http: Any, leaves: str) -> None:
    # Mid-stream, the upstream sends its head and then nothing for 1.5 s (a model thinking): only reading the
    # caller's connection can tell that the caller left, and the relay (which ends only when its upstream stream
    # does) must end within a second of it. A body over uvicorn's 64 KB, in two reads, leaves that reading paused.
    # Before the answer, the upstream's head comes 0.1 s late, after the caller has gone.
    pieces = [chunk(b'data: {"n": %d}\n\n' % n) for n in range(10)]
    head = b"" if leaves == "before the answer" else HEAD
    pieces = pieces if head else [HEAD, *pieces]
    body = b"x" * (300_000 if "large" in leaves else 0)
    relayed = threading.Event()
    hook: dict[str, Any] = {}

    async def relay(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        assert await _read_body(receive) == body
        cycle = server_cycle(send)
        client = UpstreamClient(Settings())
        try:
            answer = await client.send(upstream.url, {"content-type": "application/json"}, b"{}")
            running = asyncio.ensure_future(
                StreamRelay(answer, "text/event-stream", {}, "scripted")(scope, receive, send)
            )
            await asyncio.sleep(0)  # the relay's first step has run, and no read since: the caller is there
            hook["during"] = getattr(cycle, "on_caller_gone", "none on this cycle")
            await running
            hook["after"] = getattr(cycle, "on_caller_gone", "none on this cycle")
        finally:
            await client.aclose()
            relayed.set()

    with (
        scripted_upstream(pieces, gap=1.5 if head else 0.1, head=head) as upstream,
        serve_in_thread(relay, access_log=False, http=http) as port,
    ):
        with _connected(port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nhost: test\r\ncontent-length: %d\r\n\r\n" % len(body) + body[:200_000])
            if body:
                time.sleep(0.2)
                sock.sendall(body[200_000:])
            if head:
                assert sock.recv(65536).startswith(ANSWER)
        left = time.monotonic()
        assert relayed.wait(timeout=5.0), "the relay went on after the caller left"
        assert time.monotonic() - left < 1.0
    if http is HTTP_PROTOCOL and head:  # told by the protocol: the relay's hook, cleared when it ends
        assert isinstance(getattr(hook["during"], "__self__", None), StreamRelay)
        assert hook["after"] is None
    elif http is not HTTP_PROTOCOL:  # uvicorn's own cycles have no hook: the relay's task watched `receive`
        assert hook["during"] == hook["after"] == "none on this cycle"
