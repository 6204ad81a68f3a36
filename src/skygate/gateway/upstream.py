"""The data plane's upstream HTTP client: one aiohttp session per process (keep-alive pool, TCP_NODELAY, TLS
that trusts the system store plus SKYGATE_CA_BUNDLE), behind a small interface the proxy uses.

aiohttp, not httpx, because httpx's async pool slows down with every connection it holds (bench/clients.py:
580 vs 20,247 requests/s at 32 connections on one core; docs/performance.md)."""

from __future__ import annotations

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
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def aread(self) -> bytes:
        try:
            return await self._response.read()
        except TimeoutError as exc:
            raise UpstreamTimeout(type(exc).__name__) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(type(exc).__name__) from exc

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """Bytes as they arrive."""
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except TimeoutError as exc:
            raise UpstreamTimeout(type(exc).__name__) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(type(exc).__name__) from exc

    async def aiter_sse(self) -> AsyncIterator[str]:
        """Each server-sent event's data, as the event completes."""
        decoder = SSEDecoder()
        async for chunk in self.aiter_raw():
            for data in decoder.feed(chunk):
                yield data
        for data in decoder.end():
            yield data

    async def aclose(self) -> None:
        self._response.close()


class UpstreamClient:
    def __init__(self, settings: Settings) -> None:
        context = ssl.create_default_context()
        if settings.ca_bundle is not None:
            context.load_verify_locations(cafile=str(settings.ca_bundle))
        # No overall limit on a call (a model may think for minutes, a stream may last long); connecting must
        # be quick, and the gap between bytes is bounded by the upstream timeout.
        self._timeout = aiohttp.ClientTimeout(total=None, connect=10.0, sock_read=settings.upstream_timeout_seconds)
        # Idle connections are dropped after 4 s, before servers with short idle timeouts (uvicorn's is 5 s) close
        # them: reusing a connection the server is closing fails a POST that must not be retried.
        self._connector = aiohttp.TCPConnector(ssl=context, limit=1000, keepalive_timeout=4.0)
        self._session = aiohttp.ClientSession(
            connector=self._connector, timeout=self._timeout, auto_decompress=True, skip_auto_headers=("User-Agent",)
        )

    async def send(self, url: str, headers: Mapping[str, str], content: bytes) -> UpstreamResponse:
        try:
            response = await self._session.post(url, data=content, headers=headers, allow_redirects=False)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            raise UpstreamConnectError(type(exc).__name__) from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(type(exc).__name__) from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(type(exc).__name__) from exc
        return UpstreamResponse(response)

    async def aclose(self) -> None:
        await self._session.close()
