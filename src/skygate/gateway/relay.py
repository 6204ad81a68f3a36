"""Streaming an upstream answer to the caller: an ASGI response that passes each piece on as the upstream
connection reads it.

Leaner than Starlette's StreamingResponse on purpose (docs/performance.md, "Streaming"): a piece goes from the
upstream connection's read callback (`UpstreamResponse.relay`) through the translation, if any, into the ASGI
server's `send`, whose first step — framing and the socket write — runs right there. No task wakes per chunk,
no future, no generator. Only when the server holds a write back (its client reads slower than the upstream
writes) does the rest of that send move to a task, and the upstream is paused until it has gone out. The
client's departure closes the upstream response, which ends the upstream stream at once rather than reading a
generation nobody will see: skygate's server protocol tells the relay (gateway/server_protocol.py); under any
other server one plain task waits for it on `receive`.

Under uvicorn (httptools) a plain stream's writes are as few as its reads: the head goes out with whatever came
with the upstream's head, whole chunks go to the caller's socket as read (`Splice`), and the upstream's end with
the chunks before it — two socket writes a stream fewer than through `send`, about 2% of skygate's CPU per chunk
at 50-chunk streams (docs/performance.md, "Fewer writes a stream")."""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Callable, Generator, Mapping
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from skygate.gateway.server_cycle import end_response, server_cycle, start_head
from skygate.gateway.server_protocol import tell_when_gone
from skygate.gateway.splice import Caller
from skygate.gateway.upstream import SSEDecoder, UpstreamError, UpstreamResponse
from skygate.translate.errors import UnreadableAnswer
from skygate.translate.plan import StreamChain

__all__ = ["StreamRelay"]

log = logging.getLogger(__name__)

_STREAM_HEADERS = ((b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no"))


class StreamRelay:
    """The raw upstream body, or with a `chain` its translation into the caller's format. A failure mid-stream
    can only end the stream (bytes have gone out, the status is sent): a translated stream then ends with an
    error event in the caller's format, so its SDK reports the failure instead of half an answer."""

    __slots__ = ("_catching_up", "_chain", "_cycle", "_decoder", "_gone", "_head", "_headers", "_held",
                 "_provider", "_send", "_status", "_upstream")  # fmt: skip

    def __init__(
        self,
        upstream: UpstreamResponse,
        media_type: str,
        headers: Mapping[str, str],
        provider: str,
        chain: StreamChain | None = None,
    ) -> None:
        self._upstream, self._provider, self._chain = upstream, provider, chain
        self._decoder = SSEDecoder() if chain is not None else None
        self._status = upstream.status_code
        self._headers = [
            (b"content-type", media_type.encode("latin-1")),
            *_STREAM_HEADERS,
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
        ]
        self._gone = False
        self._send: Send | None = None
        self._cycle: Any = None  # uvicorn's response cycle, when chunks may go to its socket already framed
        self._head: bytes | None = None  # the response head, until it goes out with the first piece
        self._held: list[bytes] | None = None  # bytes waiting behind a send the server held back, in order
        self._catching_up: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = server_cycle(send)
        watcher = None
        if not tell_when_gone(cycle, self._caller_gone):  # (skygate's protocol); elsewhere a task waits on `receive`
            watcher = asyncio.get_running_loop().create_task(self._watch(receive))
            watcher.add_done_callback(lambda task: task.cancelled() or task.exception())  # retrieved, never raised
        try:
            await self._start(send, cycle)
            reason = "no closing event"
            try:
                try:
                    if self._chain is not None:
                        done = self._upstream.relay(self._translate)
                    else:
                        caller = None if self._cycle is None else Caller(self._cycle.transport, self._backlog)
                        done = self._upstream.relay(self._write, caller)
                finally:
                    self._flush_head()  # no piece came with the upstream's head: the head goes out alone
                await done
                if self._decoder is not None:
                    self._translate_events(self._decoder.end())  # a last event without its blank line
            except UpstreamError as exc:
                reason = str(exc)
                if not self._gone:  # a caller leaving closes the upstream too: nothing to report then
                    log.warning("stream from provider %s broke off: %s", self._provider, reason)
            except UnreadableAnswer as exc:
                reason = "an unreadable event"
                log.warning("stream from provider %s: %s", self._provider, exc)
            if self._catching_up is not None:
                await self._catching_up  # what the server held back goes out before the end
            if self._upstream.ended_on_caller:
                await self._end_framed()
            else:
                last = self._chain.close(reason) if self._chain is not None else b""
                await send({"type": "http.response.body", "body": last, "more_body": False})
        finally:
            if watcher is not None:
                watcher.cancel()
            else:
                cycle.on_caller_gone = None
            if self._catching_up is not None:
                self._catching_up.cancel()
            await self._upstream.aclose()

    async def _start(self, send: Send, cycle: Any) -> None:
        """The response starts. When uvicorn's cycle is behind `send` and free to write, the head waits for what
        came with the upstream's head, to go out in the same write (one segment, one wake-up for the caller);
        otherwise `send` writes it. Either way, later chunks may go to the cycle's socket framed as they are."""
        self._send = send
        server, cycle = cycle, _framing_cycle(cycle, started=False)
        bodied = self._status >= 200 and self._status not in (204, 304)  # (others get no framing from uvicorn)
        if cycle is not None and bodied and not cycle.flow.write_paused and not cycle.disconnected:
            self._head = start_head(cycle, self._status, self._headers, chunked=True)
            self._cycle = cycle
            return
        await send({"type": "http.response.start", "status": self._status, "headers": self._headers})
        self._cycle = _framing_cycle(server, started=True)

    def _flush_head(self, body: bytes = b"") -> None:
        """The head, if it has not gone out yet, with `body` framed after it in the same write."""
        head, self._head = self._head, None
        if head is not None and not self._cycle.disconnected:  # (a caller that left gets nothing, as from `send`)
            self._cycle.transport.write(b"%s%x\r\n%s\r\n" % (head, len(body), body) if body else head)
            self._backlog()

    async def _end_framed(self) -> None:
        """The upstream's last chunk went to the caller with the chunks before it: what `send` does for the
        body's end, without writing one again."""
        cycle = self._cycle
        if cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()
        if not cycle.disconnected:
            end_response(cycle)

    def _translate(self, piece: bytes) -> None:
        assert self._decoder is not None
        self._translate_events(self._decoder.feed(piece))

    def _translate_events(self, events: list[str]) -> None:
        assert self._chain is not None
        out = []
        try:
            for data in events:
                out.append(self._chain.feed(data))
        finally:  # what was translated before an unreadable event goes out: the chain has moved past it
            self._write(b"".join(out))

    def _write(self, body: bytes) -> None:
        """Called from the upstream's read callback: runs the server's send as far as it goes without waiting."""
        if not body:
            return
        if self._held is not None:
            self._held.append(body)
            return
        if self._head is not None:
            self._flush_head(body)
            return
        assert self._send is not None
        steps = self._send(_body(body)).__await__()
        try:
            blocker = next(steps)
        except StopIteration:
            return  # written: the usual case
        self._hold(_rest(steps, blocker))

    def _backlog(self) -> None:
        """A write straight to the caller's socket (the head, whole chunks from a `Splice`) may have left bytes in
        its buffer: if uvicorn has paused writing, the upstream pauses until uvicorn reports it drained, as its
        `send` would wait."""
        flow = self._cycle.flow
        if flow.write_paused and self._held is None:  # (while held, the upstream is paused: nothing comes here)
            self._hold(flow.drain)

    def _hold(self, held_send: Callable[[], Any]) -> None:
        """The server is holding a write back: later pieces wait, in order, and the upstream pauses, until
        `held_send` has finished on a task and what waited has gone out."""
        self._held = []
        self._upstream.pause()
        self._catching_up = asyncio.get_running_loop().create_task(self._catch_up(held_send))

    async def _catch_up(self, held_send: Callable[[], Any]) -> None:
        try:
            await held_send()
            assert self._send is not None
            while self._held:
                await self._send(_body(self._held.pop(0)))
        except BaseException:
            await self._upstream.aclose()  # the stream cannot go on without this send: end the relay too
            raise
        self._held = None
        self._upstream.resume()  # pieces the parser kept go to `_write` from within this call

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self._caller_gone()

    def _caller_gone(self) -> None:
        """The caller has left (or, from `receive`, the response has ended): the upstream stream ends at once."""
        self._gone = True
        self._upstream.close()


def _framing_cycle(cycle: Any, started: bool) -> Any:
    """uvicorn's httptools response cycle (`server_cycle`), if it sends (or, not `started`, can send) chunked
    (HTTP/1.1, not a HEAD): its socket can take the upstream's chunks as they are. Anything else gets every piece
    via `send`."""
    if cycle is None or cycle.response_started is not started:
        return None
    if started:
        return cycle if cycle.chunked_encoding is True else None
    return cycle if cycle.scope["method"] != "HEAD" and cycle.scope["http_version"] == "1.1" else None


def _body(body: bytes) -> Message:
    return {"type": "http.response.body", "body": body, "more_body": True}


def _rest(steps: Generator[Any, Any, Any], blocker: Any) -> Callable[[], Any]:
    """The rest of an awaitable whose first step has run and yielded `blocker` to the event loop, as something
    a task can await: each later step is driven exactly as `await` would have (results and exceptions in)."""

    @types.coroutine
    def rest() -> Generator[Any, Any, None]:
        pending = blocker
        while True:
            try:
                sent = yield pending
            except BaseException as exc:  # cancellation and the like belong to the held awaitable
                try:
                    pending = steps.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    pending = steps.send(sent)
                except StopIteration:
                    return

    return rest
