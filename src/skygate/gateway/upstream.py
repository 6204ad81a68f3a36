"""The data plane's upstream HTTP client: keep-alive HTTP/1.1 connections on the event loop's own transports
(TCP_NODELAY; TLS that trusts the system store plus SKYGATE_CA_BUNDLE; gateway/http1.py), each response read by
httptools — llhttp, the parser uvicorn reads requests with — behind the small interface the proxy uses.

Not aiohttp's client, used here before: on this machine it spent 115 µs of CPU per request at 32 connections,
this client 39 (`bench/clients.py`), and it was 30 to 40% of skygate's time per call. Nor httpx, whose pool slows
down with every connection it holds (580 vs 20,247 requests/s at 32 connections on one core;
docs/performance.md)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping

from skygate.gateway.http1 import Connection, Pool, Target, request_start, target
from skygate.gateway.silence import Silence
from skygate.gateway.sse import SSEDecoder
from skygate.gateway.upstream_errors import UpstreamConnectError, UpstreamError, UpstreamTimeout
from skygate.gateway.upstream_response import UpstreamResponse
from skygate.settings import Settings
from skygate.trust import upstream_tls_context

__all__ = [
    "SSEDecoder",
    "UpstreamClient",
    "UpstreamConnectError",
    "UpstreamError",
    "UpstreamResponse",
    "UpstreamTimeout",
]

_CONNECT_SECONDS = 10.0


class UpstreamClient:
    def __init__(self, settings: Settings) -> None:
        self._context = upstream_tls_context(settings)
        # No overall limit on a call (a model may think for minutes, a stream may last long); connecting must
        # be quick (one that never comes fails over), and each wait for the upstream is bounded by this.
        self.silence = Silence(settings.upstream_timeout_seconds)
        self.pool = Pool()

    async def send(self, url: str, headers: Mapping[str, str], content: bytes) -> UpstreamResponse:
        """POST `content` and wait for the answer's status and headers. Nothing an answer sets (cookies above
        all) is kept for another call: this client serves every organization."""
        where = target(url)
        return await self.send_start(where, request_start(where, headers), content)

    async def send_start(self, where: Target, start: bytes, content: bytes) -> UpstreamResponse:
        """`send` with the head up to its content-length already built (`request_start`): the proxy keeps one
        per route, so a call does not build it again."""
        head = b"%scontent-length: %d\r\n\r\n" % (start, len(content))
        loop = asyncio.get_running_loop()
        connection = self.pool.take(where.key, loop.time()) or await self._connect(where)
        transport = connection.transport
        if transport is None or not connection.alive:  # closed before anything was sent
            connection.close()
            raise UpstreamConnectError("the connection closed before the request")
        response = UpstreamResponse(self.pool, self.silence, connection, where.key)
        if len(content) < 65536:
            transport.write(head + content)
        else:
            transport.writelines([head, content])  # no copy of a large body
        try:
            await response.head
        except BaseException:
            await response.aclose()
            raise
        return response

    async def _connect(self, where: Target) -> Connection:
        loop = asyncio.get_running_loop()
        tls = self._context if where.tls else None
        try:
            async with asyncio.timeout(_CONNECT_SECONDS):
                transport, connection = await loop.create_connection(
                    Connection, where.host, where.port, ssl=tls, server_hostname=where.host if tls else None
                )
        except TimeoutError as exc:
            raise UpstreamConnectError(f"no connection within {_CONNECT_SECONDS:g} s") from exc
        except OSError as exc:  # refused, unreachable, unknown host, TLS refused or not trusted
            raise UpstreamConnectError(type(exc).__name__) from exc
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    async def aclose(self) -> None:
        self.pool.close()
        self.silence.close()
