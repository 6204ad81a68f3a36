"""The data plane's upstream HTTP client: one aiohttp session per process (keep-alive pool, TCP_NODELAY, TLS
that trusts the system store plus SKYGATE_CA_BUNDLE), behind a small interface the proxy uses.

aiohttp, not httpx, because httpx's async pool slows down with every connection it holds (bench/clients.py:
580 vs 20,247 requests/s at 32 connections on one core; docs/performance.md)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable, Mapping

import aiohttp
from aiohttp.client_proto import ResponseHandler

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


class _Tapped(aiohttp.StreamReader):
    """aiohttp's body reader made a pipe: each piece the connection's parser produces goes straight to the
    `UpstreamResponse` relaying it, inside the read callback, instead of into a buffer that wakes a reading task
    through a future. With 1,000 streams that task switch per chunk was most of a relay's Python cost
    (docs/performance.md). A response is switched to this class (same slots, so `__class__` may change) only
    once its relay starts; `_TAPS` maps it to its relay because the slots leave no room for one more field."""

    __slots__ = ()

    def feed_data(self, data: bytes, size: int = 0) -> bool:
        tap = _TAPS.get(self)
        if tap is not None and data:
            tap._piece(data)
        return False  # a piece left after the relay ended (closing mid-parse) is dropped

    # Chunk boundaries mean nothing to a relay; aiohttp's bookkeeping of them would pause the connection after
    # a few thousand chunks that nobody reads from its buffer.
    def begin_http_chunk_receiving(self) -> None:
        pass

    def end_http_chunk_receiving(self) -> None:
        pass

    def feed_eof(self) -> None:
        super().feed_eof()  # its callbacks return the connection to the pool
        tap = _TAPS.get(self)
        if tap is not None:
            tap._ended(None)

    def set_exception(self, exc: BaseException, exc_cause: BaseException | None = None) -> None:
        if exc_cause is None:
            super().set_exception(exc)
        else:
            super().set_exception(exc, exc_cause)
        tap = _TAPS.get(self)
        if tap is not None:
            tap._ended(exc)


_TAPS: dict[aiohttp.StreamReader, UpstreamResponse] = {}


class UpstreamResponse:
    def __init__(self, response: aiohttp.ClientResponse, idle_limit: float) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers
        self._idle_limit = idle_limit
        self._loop = asyncio.get_running_loop()
        self._waiting_since: float | None = None  # when the upstream's silence began; None while paused
        self._watchdog: asyncio.TimerHandle | None = None
        self._idle = False
        self._sink: Callable[[bytes], None] = _no_sink
        self._done: asyncio.Future[None] | None = None
        self._early = False  # handing over what came with the headers, outside the parser's callback
        self._pause_due = False

    async def aread(self) -> bytes:
        try:
            return await self._response.read()
        except TimeoutError as exc:
            raise self._silence() from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(type(exc).__name__) from exc

    def relay(self, sink: Callable[[bytes], None]) -> asyncio.Future[None]:
        """From now on every piece of the body goes to `sink` as the connection reads it, called from the read
        callback itself. The future ends with the body: None at its end; UpstreamTimeout after an upstream
        silence longer than the upstream timeout; UpstreamError when the connection fails or is closed; or the
        exception `sink` raised, which also closes the connection. A sink that cannot take more calls `pause`."""
        if self._done is not None:
            raise RuntimeError("the body is already being relayed")
        self._sink, self._done = sink, self._loop.create_future()
        # From here the watchdog below bounds the silence, not aiohttp's read timeout, which re-arms a timer for
        # every chunk (a sixth of the gateway's time with 1,000 streams open).
        protocol = self._protocol()
        if protocol is not None:
            protocol.read_timeout = None
            protocol.start_timeout()  # re-arms with no timeout: cancels the timer the last read left running
        content = self._response.content
        # What came in with the headers. Taking it may let aiohttp resume a paused parser, which puts more in the
        # buffer (or fails the body): read until it is empty, and before the reader is switched, so nothing is
        # left behind in a buffer nobody reads.
        early: list[bytes] = []
        failed = content.exception()
        while failed is None and (piece := content.read_nowait(-1)):
            early.append(piece)
            failed = content.exception()
        finished = content.is_eof()
        self._waiting_since = self._loop.time()
        self._watchdog = self._loop.call_at(self._waiting_since + self._idle_limit, self._check_idle)
        if failed is None and not finished:
            content.__class__ = _Tapped
            _TAPS[content] = self
        if early:
            self._early = True
            try:
                self._piece(b"".join(early))
            finally:
                self._early = False
        if failed is not None or finished:
            self._ended(failed)
        return self._done

    def pause(self) -> None:
        """Stop reading the upstream (the caller is not taking what was sent); time paused is not silence. From
        the sink, while the parser hands a piece over, it stops after that piece and keeps the rest. A pause
        asked for outside the parser's callback (for what came with the headers) takes effect as the next piece
        arrives: pausing aiohttp's parser there would leave its pause pending, to stop it after a later piece
        with the transport reading again and the rest of that read stuck until more bytes come."""
        self._waiting_since = None
        if self._early:
            self._pause_due = True
        else:
            self._pause_reading()

    def resume(self) -> None:
        """Read on; the parser hands what it held back to the sink before this returns."""
        self._waiting_since = self._loop.time()
        if self._pause_due:
            self._pause_due = False
            return
        protocol = self._protocol()
        if protocol is not None:
            protocol.resume_reading()

    def _pause_reading(self) -> None:
        protocol = self._protocol()
        if protocol is not None:
            protocol.pause_reading()

    def _protocol(self) -> ResponseHandler | None:
        """The connection's protocol; None once the body has ended (the connection is back in the pool)."""
        connection = self._response.connection
        return connection.protocol if connection is not None else None

    def _piece(self, data: bytes) -> None:
        if self._pause_due:
            self._pause_due = False
            self._pause_reading()
        try:
            self._sink(data)
        except Exception as exc:  # the sink's failure is the relay's result, raised to its awaiter
            self._ended(exc)
            self._response.close()
            return
        if self._waiting_since is not None:
            self._waiting_since = self._loop.time()

    def _ended(self, exc: BaseException | None) -> None:
        _TAPS.pop(self._response.content, None)
        self._sink = _no_sink  # the sink holds its relay, which holds this: no cycle left for the collector
        if self._watchdog is not None:
            self._watchdog.cancel()
        done = self._done
        if done is None or done.done():
            return
        if exc is None:
            done.set_result(None)
        elif isinstance(exc, aiohttp.ClientError | TimeoutError):
            timed_out = self._idle or isinstance(exc, TimeoutError)
            failure = self._silence() if timed_out else UpstreamError(type(exc).__name__)
            failure.__cause__ = exc
            done.set_exception(failure)
        else:
            done.set_exception(exc)

    def _silence(self) -> UpstreamError:
        return UpstreamTimeout(f"nothing for {self._idle_limit:g} s")

    def _check_idle(self) -> None:
        # Checked lazily: the timer fires at most once per timeout period, whatever the chunk rate.
        since = self._waiting_since
        if since is not None and self._loop.time() - since >= self._idle_limit:
            self._idle = True
            self._response.close()  # the relay ends at once
            return
        due = (since if since is not None else self._loop.time()) + self._idle_limit
        self._watchdog = self._loop.call_at(due, self._check_idle)

    async def aclose(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._response.close()
        if self._done is not None:  # closing a response that was already released does not end its relay
            _TAPS.pop(self._response.content, None)


def _no_sink(data: bytes) -> None:
    raise RuntimeError("no relay")


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
