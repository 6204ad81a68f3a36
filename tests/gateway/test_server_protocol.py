"""skygate's server protocol against uvicorn's own, on real servers and sockets: keep-alive connections close after
the same idle time (swept, not timed one by one), pipelined requests are answered in order, and a caller leaving
ends the upstream stream at once — told by the protocol, or seen by the relay's task on `receive`."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from skygate.gateway.relay import StreamRelay
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
    assert 1.0 <= closed_after < 1.6  # the timeout, plus at most a sweep's interval (a fifth of it) and slack


@PROTOCOLS
def test_pipelined_requests_are_answered_in_order_on_one_connection(http: Any) -> None:
    with serve_in_thread(_hello, access_log=False, http=http) as port, _connected(port) as sock:
        sock.sendall(b"".join(b"GET /%d HTTP/1.1\r\nhost: test\r\n\r\n" % n for n in (1, 2, 3)))
        data = _answers(sock, 3)
    assert data.count(ANSWER) == 3
    assert data.index(b"at /1") < data.index(b"at /2") < data.index(b"at /3")


@PROTOCOLS
@pytest.mark.parametrize("leaves", ["mid-stream", "before the answer"])
def test_a_caller_leaving_ends_the_upstream_stream_at_once(http: Any, leaves: str) -> None:
    # 40 events 0.1 s apart: 4 s of stream, which must end within a second of the caller leaving; or the head
    # itself 0.1 s late, after the caller has gone.
    pieces = [chunk(b'data: {"n": %d}\n\n' % n) for n in range(40)]
    head = {"mid-stream": HEAD, "before the answer": b""}[leaves]
    pieces = pieces if head else [HEAD, *pieces]
    relayed = threading.Event()

    async def relay(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        client = UpstreamClient(Settings())
        try:
            answer = await client.send(upstream.url, {"content-type": "application/json"}, b"{}")
            await StreamRelay(answer, "text/event-stream", {}, "scripted")(scope, receive, send)
        finally:
            await client.aclose()
            relayed.set()

    with (
        scripted_upstream(pieces, gap=0.1, head=head) as upstream,
        serve_in_thread(relay, access_log=False, http=http) as port,
    ):
        with _connected(port) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nhost: test\r\ncontent-length: 0\r\n\r\n")
            if head:
                assert sock.recv(65536).startswith(ANSWER)
        left = time.monotonic()
        assert relayed.wait(timeout=2.0), "the relay went on after the caller left"
        assert time.monotonic() - left < 1.0
        time.sleep(0.3)  # the upstream's next write fails on the connection the gateway closed
        assert upstream.finished_at is None  # the upstream never got to send the whole stream
