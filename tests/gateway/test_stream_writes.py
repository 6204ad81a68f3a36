"""A plain stream relayed on uvicorn's real response cycle: the head goes out in the same write as what came with
the upstream's head, whole chunks as they are read, and the upstream's end with the chunks before it — N events
in N writes, where uvicorn's `send` alone takes N + 2 — in the bytes uvicorn would write, with the cycle left as
its `send` leaves it."""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import pytest

from skygate.gateway.relay import StreamRelay
from skygate.gateway.upstream import UpstreamClient
from skygate.settings import Settings
from tests.gateway.scripted_upstream import END, HEAD, chunk, scripted_upstream
from tests.gateway.server_cycles import Socket, read_answer, recording_cycle

EVENTS = [b'data: {"n": %d}\n\n' % n for n in range(8)]
STREAM_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache"),
                  (b"x-accel-buffering", b"no"), (b"x-skygate-provider", b"scripted")]  # fmt: skip


async def _never() -> dict[str, Any]:
    await asyncio.Event().wait()  # the caller stays to the end
    raise AssertionError("unreachable")


async def _relayed(url: str, keep_alive: bool) -> tuple[Any, Socket, list[int]]:
    cycle, socket, ended, _ = recording_cycle(keep_alive)
    client = UpstreamClient(Settings())
    try:
        upstream = await client.send(url, {"content-type": "application/json"}, b"{}")
        relay = StreamRelay(upstream, "text/event-stream", {"x-skygate-provider": "scripted"}, "scripted")
        await relay(cycle.scope, _never, cycle.send)
    finally:
        await client.aclose()
    return cycle, socket, ended


async def _uvicorns_head(keep_alive: bool) -> bytes:
    cycle, socket, _, _ = recording_cycle(keep_alive)
    await cycle.send({"type": "http.response.start", "status": 200, "headers": STREAM_HEADERS})
    return socket.writes[0]


def _read(raw: bytes) -> tuple[h11.Response, bytes]:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("host", "gateway"), ("content-length", "0")]))
    conn.send(h11.EndOfMessage())
    pending = [b"", raw]  # the bytes written, then the connection's end: an answer that has not ended fails
    return read_answer(conn, pending.pop)


@pytest.mark.parametrize("keep_alive", [True, False])
def test_n_events_go_out_in_n_writes_as_uvicorn_would_frame_them(keep_alive: bool) -> None:
    # The upstream's head comes with the first event; the last event comes with the body's end.
    pieces = [*(chunk(e) for e in EVENTS[1:-1]), chunk(EVENTS[-1]) + END]
    with scripted_upstream(pieces, head=HEAD + chunk(EVENTS[0])) as upstream:
        cycle, socket, ended = asyncio.run(_relayed(upstream.url, keep_alive))
    head = asyncio.run(_uvicorns_head(keep_alive))

    assert socket.writes[0] == head + chunk(EVENTS[0])
    assert socket.writes[-1].endswith(chunk(EVENTS[-1]) + END)
    # One write a read: fewer only if the machine let reads run together, never one for the end alone.
    assert len(socket.writes) <= len(EVENTS)
    assert END not in socket.writes
    response, body = _read(b"".join(socket.writes))
    assert response.status_code == 200
    assert body == b"".join(EVENTS)
    assert cycle.response_complete
    assert cycle.message_event.is_set()
    assert ended == [1]  # uvicorn's on_response, once: the next request on the connection may start
    assert socket.closed == (not keep_alive)


def test_a_head_that_comes_alone_goes_out_alone_and_an_end_with_trailers_is_uvicorns_to_write() -> None:
    pieces = [*(chunk(e) for e in EVENTS), b"0\r\nx-trailer: 1\r\n\r\n"]
    with scripted_upstream(pieces) as upstream:
        cycle, socket, ended = asyncio.run(_relayed(upstream.url, True))
    head = asyncio.run(_uvicorns_head(True))

    assert socket.writes[0] == head  # the upstream's head came 30 ms before its first event: not held for it
    assert socket.writes[-1] == END  # written by uvicorn's `send`; the trailers stay here
    response, body = _read(b"".join(socket.writes))
    assert response.status_code == 200
    assert body == b"".join(EVENTS)
    assert cycle.response_complete
    assert ended == [1]


def test_a_stream_answered_without_a_body_is_written_by_uvicorns_send_unframed() -> None:
    # A 204 has no body: no `transfer-encoding`, no end, or a keep-alive caller reads them as the next answer.
    with scripted_upstream([], head=b"HTTP/1.1 204 No Content\r\n\r\n") as upstream:
        cycle, socket, ended = asyncio.run(_relayed(upstream.url, True))
    raw = b"".join(socket.writes)
    assert raw.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert raw.endswith(b"\r\n\r\n")
    assert b"transfer-encoding" not in raw
    assert not raw.endswith(END)
    assert cycle.response_complete
    assert ended == [1]
