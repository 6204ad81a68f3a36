"""Streaming an upstream answer to the caller: an ASGI response that sends each piece as it exists.

Leaner than Starlette's StreamingResponse on purpose (docs/performance.md): each chunk costs one `send` and no
extra generator or task switch, and the client's departure is watched by one plain task that closes the upstream
response, which ends the upstream stream at once rather than reading a generation nobody will see."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping

from starlette.types import Receive, Scope, Send

from skygate.gateway.upstream import UpstreamError, UpstreamResponse
from skygate.translate.errors import UnreadableAnswer
from skygate.translate.plan import StreamChain

__all__ = ["StreamRelay", "translated"]

log = logging.getLogger(__name__)

_STREAM_HEADERS = ((b"cache-control", b"no-cache"), (b"x-accel-buffering", b"no"))


async def translated(upstream: UpstreamResponse, chain: StreamChain) -> AsyncIterator[bytes]:
    """Each upstream event translated as it arrives; the caller's events go out as soon as they exist."""
    async for data in upstream.aiter_sse():
        out = chain.feed(data)
        if out:
            yield out


class StreamRelay:
    """`chunks` is the raw upstream body or its translation. A failure mid-stream can only end the stream (bytes
    have gone out, the status is sent): `finish` gets the reason and returns the last bytes — for a translated
    stream, an error event in the caller's format so its SDK reports the failure instead of half an answer."""

    __slots__ = ("_chunks", "_finish", "_gone", "_headers", "_provider", "_status", "_upstream")

    def __init__(
        self,
        upstream: UpstreamResponse,
        chunks: AsyncIterator[bytes],
        media_type: str,
        headers: Mapping[str, str],
        provider: str,
        finish: Callable[[str], bytes] | None = None,
    ) -> None:
        self._upstream, self._chunks, self._provider, self._finish = upstream, chunks, provider, finish
        self._status = upstream.status_code
        self._headers = [
            (b"content-type", media_type.encode("latin-1")),
            *_STREAM_HEADERS,
            *((k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()),
        ]
        self._gone = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.get_running_loop().create_task(self._watch(receive))
        watcher.add_done_callback(lambda task: task.cancelled() or task.exception())  # retrieved, never raised
        try:
            await send({"type": "http.response.start", "status": self._status, "headers": self._headers})
            reason = "no closing event"
            try:
                async for chunk in self._chunks:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except UpstreamError as exc:
                reason = str(exc)
                if not self._gone:  # a caller leaving closes the upstream too: nothing to report then
                    log.warning("stream from provider %s broke off: %s", self._provider, reason)
            except UnreadableAnswer as exc:
                reason = "an unreadable event"
                log.warning("stream from provider %s: %s", self._provider, exc)
            last = self._finish(reason) if self._finish is not None else b""
            await send({"type": "http.response.body", "body": last, "more_body": False})
        finally:
            watcher.cancel()
            await self._upstream.aclose()

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self._gone = True
        await self._upstream.aclose()
