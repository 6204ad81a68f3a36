"""The data plane's upstream HTTP client: one aiohttp session per process (keep-alive pool, TCP_NODELAY, TLS
that trusts the system store plus SKYGATE_CA_BUNDLE), behind a small interface the proxy uses.

aiohttp, not httpx, because httpx's async pool slows down with every connection it holds (bench/clients.py:
580 vs 20,247 requests/s at 32 connections on one core; docs/performance.md)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping

import aiohttp

from skygate.settings import Settings

__all__ = [
    "SSEDecoder",
    "UpstreamClient",
    "UpstreamConnectError",
    "UpstreamError",
    "UpstreamResponse",
    "UpstreamTimeout",
]


class UpstreamError(Exception):
    """The upstream connection failed after the request may have reached it."""


class UpstreamConnectError(UpstreamError):
    """The request never reached the upstream: trying another provider is safe."""


class UpstreamTimeout(UpstreamError):
    """The upstream took longer than SKYGATE_UPSTREAM_TIMEOUT_SECONDS to answer."""


class SSEDecoder:
    """Server-sent events from bytes in pieces of any size: each event's `data:` lines, joined. Other fields
    (`event:`, `id:`, comments) are not needed: every API we read repeats the event type inside the data."""

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        events = []
        for raw in lines:
            line = raw.rstrip(b"\r").decode("utf-8", "replace")
            if not line:
                if self._data:
                    events.append("\n".join(self._data))
                    self._data = []
            elif line.startswith("data:"):
                self._data.append(line[5:].removeprefix(" "))
        return events

    def end(self) -> list[str]:
        """What a stream that ends without a final blank line still holds."""
        events = self.feed(b"\n\n") if self._buffer or self._data else []
        return events


class UpstreamResponse:
    def __init__(self, response: aiohttp.ClientResponse, idle_limit: float) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers
        self._idle_limit = idle_limit
        self._waiting_since: float | None = None  # when the pending read began; None between reads
        self._watchdog: asyncio.TimerHandle | None = None
        self._idle = False

    async def aread(self) -> bytes:
        try:
            return await self._response.read()
        except TimeoutError as exc:
            raise UpstreamTimeout(f"nothing for {self._idle_limit:g} s") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(type(exc).__name__) from exc

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """Bytes as they arrive; an upstream silent for longer than the upstream timeout ends the stream. Only
        the wait for the upstream counts: time the caller takes to accept a chunk does not."""
        loop = asyncio.get_running_loop()
        # From here the watchdog below bounds the silence, not aiohttp's read timeout, which re-arms a timer for
        # every chunk (a sixth of the gateway's time with 1,000 streams open).
        protocol = self._response.connection.protocol if self._response.connection else None
        if protocol is not None:
            protocol.read_timeout = None
            protocol.start_timeout()  # re-arms with no timeout: cancels the timer the last read left running
        self._watchdog = loop.call_at(loop.time() + self._idle_limit, self._check_idle)
        content = self._response.content
        try:
            while True:
                self._waiting_since = loop.time()
                chunk = await content.readany()
                self._waiting_since = None
                if not chunk:
                    return
                yield chunk
        except aiohttp.ClientError as exc:
            if self._idle or isinstance(exc, TimeoutError):
                raise UpstreamTimeout(f"nothing for {self._idle_limit:g} s") from exc
            raise UpstreamError(type(exc).__name__) from exc
        finally:
            self._watchdog.cancel()

    def _check_idle(self) -> None:
        # Checked lazily: the timer fires at most once per timeout period, whatever the chunk rate.
        loop = asyncio.get_running_loop()
        since = self._waiting_since
        if since is not None and loop.time() - since >= self._idle_limit:
            self._idle = True
            self._response.close()  # the pending read fails at once
            return
        due = (since if since is not None else loop.time()) + self._idle_limit
        self._watchdog = loop.call_at(due, self._check_idle)

    async def aiter_sse(self) -> AsyncIterator[str]:
        """Each server-sent event's data, as the event completes."""
        decoder = SSEDecoder()
        async for chunk in self.aiter_raw():
            for data in decoder.feed(chunk):
                yield data
        for data in decoder.end():
            yield data

    async def aclose(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._response.close()


class UpstreamClient:
    def __init__(self, settings: Settings) -> None:
        context = ssl.create_default_context()
        if settings.ca_bundle is not None:
            context.load_verify_locations(cafile=str(settings.ca_bundle))
        # No overall limit on a call (a model may think for minutes, a stream may last long); connecting must
        # be quick (one that never comes fails over), and the wait for each byte is bounded by the upstream
        # timeout: aiohttp's read timeout until the answer starts, then UpstreamResponse's watchdog for streams.
        self._limit = settings.upstream_timeout_seconds
        self._timeout = aiohttp.ClientTimeout(total=None, connect=10.0, sock_read=self._limit)
        # Idle connections are dropped after 4 s, before servers with short idle timeouts (uvicorn's is 5 s) close
        # them: reusing a connection the server is closing fails a POST that must not be retried.
        self._connector = aiohttp.TCPConnector(ssl=context, limit=0, keepalive_timeout=4.0)
        self._session = aiohttp.ClientSession(
            connector=self._connector, timeout=self._timeout, auto_decompress=True, skip_auto_headers=("User-Agent",)
        )

    async def send(self, url: str, headers: Mapping[str, str], content: bytes) -> UpstreamResponse:
        try:
            response = await self._session.post(url, data=content, headers=headers, allow_redirects=False)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise UpstreamConnectError(type(exc).__name__) from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(f"no answer within {self._limit:g} s") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(type(exc).__name__) from exc
        return UpstreamResponse(response, self._limit)

    async def aclose(self) -> None:
        await self._session.close()
