"""Whole chunks of a chunked upstream body relayed with their framing straight to the caller's socket
(`UpstreamResponse.relay(sink, Caller(...))`, through a `Splice` while reads are nothing else), against an upstream
whose writes — and so the gateway's reads — split the body where each test says: every byte arrives once and in
order, the caller only ever gets whole chunks, whatever the relay does not vouch for goes through the parser
(which ends or fails the body as always), and the connection goes back to the pool."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvloop

from skygate.gateway.relay import StreamRelay
from skygate.gateway.splice import Caller
from skygate.gateway.upstream import UpstreamClient, UpstreamError, UpstreamTimeout
from skygate.settings import Settings
from skygate_emulator.server import serve_in_thread
from tests.gateway.scripted_upstream import CallerSocket, ScriptedUpstream, chunk, dechunk, scripted_upstream

# Events of different lengths, so size lines have one and two hex digits, letters among them.
EVENTS = [b'data: {"n": %d, "pad": "%s"}\n\n' % (n, b"x" * (n * 7 % 40)) for n in range(12)]
LAST = b"0\r\n\r\n"
Events = list[tuple[str, bytes]]


async def _relay(
    url: str,
    hold: float = 0.0,
    idle_limit: float = 5.0,
    framing: bool = True,
    times: list[float] | None = None,
    protocols: list[str] | None = None,
    ends: list[bool] | None = None,
) -> tuple[Events, BaseException | None]:
    """One request's body as handed over: ("piece", bytes) to the sink, ("framed", bytes) whole chunks written to
    the caller's socket; how it ended. With `hold`, the caller's socket buffer fills on the first framed write and
    the relay's backlog pauses the upstream that long (a caller not reading); without `framing`, no caller socket
    (as for a translated stream); `times` gets each event's time; `protocols` the name of the upstream
    connection's protocol at each framed write; `ends` whether the body's end went to the caller's socket."""
    client = UpstreamClient(Settings(upstream_timeout_seconds=idle_limit))
    try:
        return await _relay_on(client, url, hold, framing, times, protocols, ends)
    finally:
        await client.aclose()


async def _relay_on(
    client: UpstreamClient,
    url: str,
    hold: float = 0.0,
    framing: bool = True,
    times: list[float] | None = None,
    protocols: list[str] | None = None,
    ends: list[bool] | None = None,
) -> tuple[Events, BaseException | None]:
    upstream = await client.send(url, {"content-type": "application/json"}, b"{}")
    events: Events = []

    def take(kind: str, data: bytes) -> None:
        events.append((kind, data))
        if times is not None:
            times.append(time.monotonic())
        if protocols is not None and kind == "framed":
            connection = upstream._connection  # (private: which protocol reads is what the splice is about)
            assert connection is not None
            assert connection.transport is not None
            protocols.append(type(connection.transport.get_protocol()).__name__)
        if kind == "framed" and hold and sum(kind == "framed" for kind, _ in events) == 1:
            socket.buffered = len(data)

    def backlog() -> None:
        socket.buffered = 0
        upstream.pause()
        asyncio.get_running_loop().call_later(hold, upstream.resume)

    socket = CallerSocket(lambda data: take("framed", data))
    try:
        await upstream.relay(lambda piece: take("piece", piece), Caller(socket, backlog) if framing else None)
        if ends is not None:
            ends.append(upstream.ended_on_caller)
    except UpstreamError as exc:
        return events, exc
    finally:
        await upstream.aclose()
    return events, None


def _payload(events: Events) -> bytes:
    """The body as the caller gets it: framed bytes must be whole chunks only (`dechunk` is strict)."""
    return b"".join(b"".join(dechunk(data)) if kind == "framed" else data for kind, data in events)


def _framed_chunks(events: Events) -> int:
    return sum(len(dechunk(data)) for kind, data in events if kind == "framed")


def test_chunks_read_one_at_a_time_go_out_framed_and_the_connection_is_reused() -> None:
    with scripted_upstream([*(chunk(e) for e in EVENTS), LAST]) as upstream:

        async def twice() -> list[tuple[Events, BaseException | None]]:
            client = UpstreamClient(Settings())
            try:
                return [await _relay_on(client, upstream.url), await _relay_on(client, upstream.url)]
            finally:
                await client.aclose()

        runs = asyncio.run(twice())
    for events, ended in runs:
        assert ended is None
        assert _payload(events) == b"".join(EVENTS)
        # The first read goes through the parser (where it stands is known only after it); later ones are taken.
        # (Most, not all: a busy machine can let a few reads run together before the relay starts.)
        assert _framed_chunks(events) >= len(EVENTS) // 2
    assert (upstream.connections, upstream.requests) == (1, 2)


@pytest.mark.parametrize(
    ("tail", "passed"), [(LAST, True), (b"0\r\nx-trailer: 1\r\n\r\n", False)], ids=["end", "trailers"]
)
def test_the_bodys_end_goes_out_with_the_chunks_before_it_unless_it_has_trailers(tail: bytes, passed: bool) -> None:
    pieces = [chunk(EVENTS[0]), chunk(EVENTS[1]), chunk(EVENTS[2]) + chunk(EVENTS[3]) + tail]
    ends: list[bool] = []
    with scripted_upstream(pieces) as upstream:
        events, ended = asyncio.run(_relay(upstream.url, ends=ends))
    assert ended is None
    assert _payload(events) == b"".join(EVENTS[:4])
    assert ends == [passed]  # with trailers, the server writes the end (and the trailers stay here)
    assert events[-1] == ("framed", chunk(EVENTS[2]) + chunk(EVENTS[3]) + (LAST if passed else b""))


def test_reads_that_split_size_lines_data_and_crlfs_lose_nothing() -> None:
    c = [chunk(e) for e in EVENTS]
    pieces = [
        c[0],
        c[1][:1], c[1][1:],  # a size line split after its first digit
        c[2][:4], c[2][4:20], c[2][20:-1], c[2][-1:],  # the size line's CRLF, the data and the last LF apart
        c[3] + c[4] + c[5][:6],  # two whole chunks and the start of a third
        c[5][6:] + chunk(EVENTS[6], b";ext=1") + chunk(EVENTS[7]).upper()[:3] + chunk(EVENTS[7])[3:],
        c[8] + c[9] + b"0",  # the last chunk's size line, not yet known to be the last
        b"\r\nx-trailer: 1\r\n\r\n",
    ]  # fmt: skip
    with scripted_upstream(pieces) as upstream:
        events, ended = asyncio.run(_relay(upstream.url))
    assert ended is None
    assert _payload(events) == b"".join(EVENTS[:10])
    assert _framed_chunks(events) >= 5


@pytest.mark.parametrize("framing", [True, False], ids=["framed", "parsed"])
@pytest.mark.parametrize(
    "bad",
    [b"zz\r\nabc\r\n", b"3\r\nabcXY" + chunk(b"more"), b"5; a b\r\nhello\r\n"],
    ids=["size-line", "missing-crlf", "bad-extension"],  # the parser refuses the last one: the relay must not pass it
)
def test_broken_framing_goes_to_the_parser_which_fails_the_body_at_once(bad: bytes, framing: bool) -> None:
    pieces = [chunk(EVENTS[0]), chunk(EVENTS[1]), chunk(EVENTS[2]) + bad, chunk(EVENTS[3]), LAST]
    with scripted_upstream(pieces) as upstream:
        started = time.monotonic()
        events, ended = asyncio.run(_relay(upstream.url, idle_limit=5.0, framing=framing))
    assert isinstance(ended, UpstreamError)
    assert not isinstance(ended, UpstreamTimeout)  # the parser's refusal ends the relay, not the idle watchdog
    assert time.monotonic() - started < 2.5
    body = _payload(events)  # framed parts whole chunks only; the parser may pass on a bad chunk's first bytes
    assert body.startswith(b"".join(EVENTS[:3]))
    assert EVENTS[3] not in body


def test_a_body_cut_off_inside_a_chunk_fails_and_the_partial_chunk_never_goes_out() -> None:
    pieces = [chunk(EVENTS[0]), chunk(EVENTS[1]), chunk(EVENTS[2])[:12]]
    with scripted_upstream(pieces, close_after=True) as upstream:
        events, ended = asyncio.run(_relay(upstream.url))
    assert isinstance(ended, UpstreamError)
    assert _payload(events) == b"".join(EVENTS[:2])


def test_a_chunk_too_large_to_hold_goes_through_the_parser_and_framing_resumes_after() -> None:
    big = b"data: " + b"y" * 200_000 + b"\n\n"
    framed_big = chunk(big)
    pieces = [
        chunk(EVENTS[0]), chunk(EVENTS[1]),
        framed_big[:70_000], framed_big[70_000:140_000], framed_big[140_000:],
        *(chunk(e) for e in EVENTS[2:]), LAST,
    ]  # fmt: skip
    with scripted_upstream(pieces) as upstream:
        events, ended = asyncio.run(_relay(upstream.url))
    assert ended is None
    assert _payload(events) == EVENTS[0] + EVENTS[1] + big + b"".join(EVENTS[2:])
    after_big = events[[kind for kind, _ in events].index("piece", 1) :]
    assert sum(len(dechunk(data)) for kind, data in after_big if kind == "framed") >= len(EVENTS) - 3


def test_a_pause_from_the_callers_backlog_stops_reading_is_not_silence_and_loses_nothing() -> None:
    # Paused 1.5 s on the first framed chunk with a 1 s upstream timeout; chunks keep coming 30 ms apart meanwhile.
    times: list[float] = []
    with scripted_upstream([*(chunk(e) for e in EVENTS), LAST]) as upstream:
        events, ended = asyncio.run(_relay(upstream.url, hold=1.5, idle_limit=1.0, times=times))
    assert ended is None
    assert _payload(events) == b"".join(EVENTS)
    first = [kind for kind, _ in events].index("framed")
    assert first + 1 < len(events)  # more came after the pause...
    assert times[first + 1] - times[first] >= 1.4  # ...and none of it while paused


def test_after_a_pause_from_the_callers_backlog_the_parser_is_not_left_paused() -> None:
    # Nine hex digits are more than the relay takes, so this read goes to the parser, whole. Had the framed
    # sink's pause also paused the parser (outside its callback, the pause waits for the next piece), the parser
    # would stop after the first piece with the transport reading and the rest of the read stuck: a timeout.
    pieces = [chunk(EVENTS[0]), chunk(EVENTS[1]), b"0000000" + chunk(EVENTS[2]) + chunk(EVENTS[3]) + LAST]
    with scripted_upstream(pieces) as upstream:
        events, ended = asyncio.run(_relay(upstream.url, hold=0.5, idle_limit=1.0))
    assert ended is None
    assert _payload(events) == b"".join(EVENTS[:4])


def test_silence_while_taking_chunks_is_still_an_upstream_timeout() -> None:
    pieces = [chunk(EVENTS[0]), chunk(EVENTS[1]), chunk(EVENTS[2])]  # then nothing, the connection left open
    with scripted_upstream(pieces) as upstream:
        started = time.monotonic()
        events, ended = asyncio.run(_relay(upstream.url, idle_limit=1.0))
    assert isinstance(ended, UpstreamTimeout)
    assert 0.9 < time.monotonic() - started < 5
    assert _payload(events) == b"".join(EVENTS[:3])


def test_a_stream_longer_than_the_upstream_timeout_is_not_silence_while_chunks_keep_coming() -> None:
    # Reads taken by the splice never reach the response: the silence watch learns of them from it.
    events_in = [*(chunk(e) for e in EVENTS * 3), LAST]  # 37 pieces 50 ms apart: ~1.9 s, with a 0.5 s limit
    with scripted_upstream(events_in, gap=0.05) as upstream:
        events, ended = asyncio.run(_relay(upstream.url, idle_limit=0.5))
    assert ended is None
    assert _payload(events) == b"".join(EVENTS * 3)
    assert _framed_chunks(events) >= len(EVENTS) * 3 - 2


def test_on_uvloop_whole_chunks_are_taken_by_the_splice_and_nothing_is_lost() -> None:
    # The server's loop: its `set_protocol` restarts reading, once when the splice goes in, once when it goes out.
    protocols: list[str] = []
    with scripted_upstream([*(chunk(e) for e in EVENTS), LAST]) as upstream:
        runs = [uvloop.run(_relay(upstream.url, protocols=protocols)) for _ in range(2)]
    for events, ended in runs:
        assert ended is None
        assert _payload(events) == b"".join(EVENTS)
    assert protocols.count("Splice") >= 2 * (len(EVENTS) - 3)  # the first chunk or two go through the parser


def test_an_upstream_that_closes_between_spliced_chunks_fails_the_body_at_once() -> None:
    pieces = [chunk(EVENTS[0]), chunk(EVENTS[1]), chunk(EVENTS[2]), chunk(EVENTS[3])]
    with scripted_upstream(pieces, close_after=True) as upstream:
        started = time.monotonic()
        events, ended = uvloop.run(_relay(upstream.url, idle_limit=5.0))
    assert isinstance(ended, UpstreamError)
    assert not isinstance(ended, UpstreamTimeout)
    assert time.monotonic() - started < 2.5  # the connection's end, not the silence watch
    assert _payload(events) == b"".join(EVENTS[:4])


def test_a_caller_socket_that_fails_a_write_fails_the_answer_with_it() -> None:
    async def relayed(url: str) -> tuple[Events, BaseException | None, Events]:
        client = UpstreamClient(Settings())
        events: Events = []

        def write(data: bytes) -> None:
            if sum(kind == "framed" for kind, _ in events) == 3:
                raise OSError("the caller's socket broke")
            events.append(("framed", data))

        try:
            answer = await client.send(url, {"content-type": "application/json"}, b"{}")
            ended: BaseException | None = None
            try:
                await answer.relay(
                    lambda piece: events.append(("piece", piece)), Caller(CallerSocket(write), lambda: None)
                )
            except OSError as exc:
                ended = exc
            after, _ = await _relay_on(client, url)  # the next request, on the same client
            return events, ended, after
        finally:
            await client.aclose()

    with scripted_upstream([*(chunk(e) for e in EVENTS), LAST]) as upstream:
        events, ended, after = asyncio.run(relayed(upstream.url))
        connections = upstream.connections
    assert isinstance(ended, OSError)
    assert str(ended) == "the caller's socket broke"
    assert b"".join(EVENTS).startswith(_payload(events))
    assert _payload(after) == b"".join(EVENTS)
    assert connections == 2  # the broken answer's connection was closed, not pooled


def test_nothing_is_written_to_a_caller_socket_once_it_is_closing() -> None:
    async def relayed(url: str) -> tuple[list[bytes], BaseException | None]:
        client = UpstreamClient(Settings())
        written: list[bytes] = []

        def write(data: bytes) -> None:
            written.append(data)
            if len(written) == 3:
                socket.closing = True  # the caller has gone: its server drops what is sent, as here

        socket = CallerSocket(write)
        try:
            answer = await client.send(url, {"content-type": "application/json"}, b"{}")
            await answer.relay(lambda piece: None, Caller(socket, lambda: None))
            return written, None
        except UpstreamError as exc:
            return written, exc
        finally:
            await client.aclose()

    with scripted_upstream([*(chunk(e) for e in EVENTS), LAST]) as upstream:
        written, ended = asyncio.run(relayed(upstream.url))
    assert ended is None  # the answer is read to its end (the relay's watcher, not the socket, ends it early)
    assert len(written) == 3


# Through the ASGI relay and uvicorn's socket: a caller that stops reading fills the socket buffers with framed
# chunks, uvicorn reports its transport paused, and the relay stops reading upstream until it drains.

BULK = [b"data: %06d %s\n\n" % (n, b"z" * 32_000) for n in range(400)]  # 12.8 MB, past Linux's socket buffers


def _relay_app(upstream_url: str) -> Any:
    clients: list[UpstreamClient] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    clients.append(UpstreamClient(Settings()))
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await clients[0].aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        upstream = await clients[0].send(upstream_url, {"content-type": "application/json"}, b"{}")
        await StreamRelay(upstream, "text/event-stream", {}, "scripted")(scope, receive, send)

    return app


@pytest.fixture
def slow_reader_setup() -> Iterator[tuple[str, ScriptedUpstream]]:
    with (
        scripted_upstream([*(chunk(e) for e in BULK), LAST], gap=0.001) as upstream,
        serve_in_thread(_relay_app(upstream.url)) as port,
    ):
        yield f"http://127.0.0.1:{port}", upstream


def test_a_caller_that_stops_reading_holds_the_upstream_and_gets_every_framed_chunk_in_order(
    slow_reader_setup: tuple[str, ScriptedUpstream],
) -> None:
    url, upstream = slow_reader_setup
    received = bytearray()
    with httpx.Client(timeout=30) as client, client.stream("POST", url, content=b"{}") as response:
        parts = response.iter_bytes()
        received += next(parts)
        time.sleep(1.5)  # the caller's socket fills, then the relay's; the upstream is paused
        reading_again = time.monotonic()
        for part in parts:
            received += part
    assert bytes(received) == b"".join(BULK)
    # Had the relay gone on reading into the server's buffer, the upstream would have sent it all within ~0.5 s.
    assert upstream.finished_at is not None
    assert upstream.finished_at > reading_again
