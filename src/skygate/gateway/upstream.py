"""The data plane's upstream HTTP client: one aiohttp session per process (keep-alive pool, TCP_NODELAY, TLS
that trusts the system store plus SKYGATE_CA_BUNDLE), behind a small interface the proxy uses.

aiohttp, not httpx, because httpx's async pool slows down with every connection it holds (bench/clients.py:
580 vs 20,247 requests/s at 32 connections on one core; docs/performance.md)."""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import Callable, Mapping

import aiohttp
from aiohttp.client_proto import ResponseHandler
from aiohttp.http_exceptions import HttpProcessingError

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

    # aiohttp's bookkeeping of chunk boundaries would pause the connection after a few thousand chunks that
    # nobody reads from its buffer. The relay only notes where the parser stands, for `_Splice`.
    def begin_http_chunk_receiving(self) -> None:
        tap = _TAPS.get(self)
        if tap is not None:
            tap._between_chunks = False

    def end_http_chunk_receiving(self) -> None:
        tap = _TAPS.get(self)
        if tap is not None:
            tap._between_chunks = True

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

# A chunk-size line as HTTP/1.1 writes it (RFC 9112 §7.1), with token extensions; anything looser (spaces, quoted
# values) goes to aiohttp's parser, which takes or refuses it as it always has.
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,8})(?:;%s(?:=%s)?)*\r\n" % (_TOKEN, _TOKEN))
_PARTIAL_LINE = re.compile(rb"[0-9A-Fa-f]{0,8}[;=!#$%&'*+.^_`|~0-9A-Za-z-]{0,256}\r?")
_PARTIAL_LIMIT = 64 * 1024  # a chunk larger than this, split across reads, goes through the parser instead


class _Splice(asyncio.Protocol):
    """In front of aiohttp's protocol on a relayed connection. With a `framed` sink and a body that is chunked and
    not content-coded, whole chunks go there as they were read, framing and all — the caller's connection takes
    the same framing — without aiohttp's parser, reader and the server's framing step per chunk, which was most of
    the relay's Python cost (docs/performance.md). aiohttp's parser stays at the start of the first chunk not
    taken, so whatever this does not vouch for — the last chunk (size 0, trailers), framing looser than the
    RFC's, a chunk too large to hold until it is whole — goes to the parser, which relays, ends or fails the body
    as always; whole chunks are taken again once the parser stands between two. A chunk split across reads is held
    until it is whole, so the caller only ever gets whole chunks and the server can still end the body itself.

    Every relay has one, framed or not, for what aiohttp does not tell the body reader: a body its parser refused
    (it fails only the protocol and closes the connection) ends the relay at once, not at the idle timeout."""

    def __init__(self, owner: UpstreamResponse, inner: ResponseHandler, framed: Callable[[bytes], None] | None) -> None:
        self._owner, self._inner, self._framed = owner, inner, framed
        self._taking = False  # whole chunks are taken here; otherwise everything goes to the parser
        self._partial = b""

    def data_received(self, data: bytes) -> None:
        owner = self._owner
        if self._partial:
            data, self._partial = self._partial + data, b""
        if not self._taking or owner._waiting_since is None:  # paused: what was held must go out first
            self._taking = False
            self._parse(data)
            return
        owner._waiting_since = owner._loop.time()
        end, pos = len(data), 0
        while pos < end:
            line = _SIZE_LINE.match(data, pos)
            if line is None:
                break
            stop = line.end() + int(line[1], 16) + 2
            if stop == line.end() + 2 or stop > end or data[stop - 2 : stop] != b"\r\n":
                break
            pos = stop
        if pos:
            assert self._framed is not None
            owner._framing = True
            try:
                self._framed(data if pos == end else data[:pos])
            except Exception as exc:
                owner._sink_failed(exc)
                return
            finally:
                owner._framing = False
        if pos == end:
            return
        rest = data[pos:]
        if len(rest) <= _PARTIAL_LIMIT and self._unfinished(rest):
            self._partial = rest
        else:
            self._taking = False
            self._parse(rest)

    @staticmethod
    def _unfinished(rest: bytes) -> bool:
        """A chunk whose size line says more is to come, or the start of a size line."""
        line = _SIZE_LINE.match(rest)
        if line is not None:
            size = int(line[1], 16)
            return size > 0 and line.end() + size + 2 > len(rest)
        return _PARTIAL_LINE.fullmatch(rest) is not None

    def _parse(self, data: bytes) -> None:
        owner = self._owner
        owner._between_chunks = False
        self._inner.data_received(data)
        refused = self._inner.exception()
        if refused is not None:
            owner._ended(refused)
            return
        # With the parser between two chunks (aiohttp's C parser reports a chunk's end after its CRLF; the pure
        # Python one before it, and a CRLF still owed fails the size-line match above) the next read is taken.
        if (
            owner._between_chunks
            and self._framed is not None
            and data.endswith(b"\r\n")
            and owner._waiting_since is not None
        ):
            self._taking = True

    def eof_received(self) -> None:
        self._inner.eof_received()  # aiohttp's keeps nothing half-open: the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)
        self._owner._ended(self._inner.exception() or aiohttp.ServerDisconnectedError())  # if nothing ended it

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


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
        self._between_chunks = False  # where the parser stood after its last callback, for `_Splice`
        self._splice: tuple[asyncio.Transport, ResponseHandler] | None = None
        self._framing = False  # `_Splice` is handing chunks to the framed sink
        self._transport_paused = False

    async def aread(self) -> bytes:
        try:
            return await self._response.read()
        except TimeoutError as exc:
            raise self._silence() from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(type(exc).__name__) from exc

    def relay(
        self, sink: Callable[[bytes], None], framed: Callable[[bytes], None] | None = None
    ) -> asyncio.Future[None]:
        """From now on every piece of the body goes to `sink` as the connection reads it, called from the read
        callback itself. The future ends with the body: None at its end; UpstreamTimeout after an upstream
        silence longer than the upstream timeout; UpstreamError when the connection fails or is closed; or the
        exception `sink` raised, which also closes the connection. A sink that cannot take more calls `pause`.
        With `framed`, a body sent in HTTP/1.1 chunks and not content-coded goes there in whole chunks, framing
        included, whenever it can (`_Splice`); what does not still goes to `sink`, in order."""
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
            transport = protocol.transport if protocol is not None else None
            if transport is not None and not transport.is_closing():
                assert protocol is not None
                self._splice = (transport, protocol)
                transport.set_protocol(_Splice(self, protocol, framed if self._spliceable() else None))
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
        with the transport reading again and the rest of that read stuck until more bytes come. From the framed
        sink, the parser is not in use: the socket itself stops, after that read."""
        self._waiting_since = None
        if self._early:
            self._pause_due = True
        elif self._framing and self._splice is not None:
            self._transport_paused = True
            self._splice[0].pause_reading()
        else:
            self._pause_reading()

    def resume(self) -> None:
        """Read on; the parser hands what it held back to the sink before this returns."""
        self._waiting_since = self._loop.time()
        if self._pause_due:
            self._pause_due = False
            return
        if self._transport_paused:
            self._transport_paused = False
            if self._splice is not None:
                self._splice[0].resume_reading()
            return
        protocol = self._protocol()
        if protocol is not None:
            protocol.resume_reading()

    def _pause_reading(self) -> None:
        protocol = self._protocol()
        if protocol is not None:
            protocol.pause_reading()

    def _spliceable(self) -> bool:
        headers = self._response.headers
        coding = headers.get("Content-Encoding", "identity").strip().lower()
        return headers.get("Transfer-Encoding", "").strip().lower() == "chunked" and coding == "identity"

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
        except Exception as exc:
            self._sink_failed(exc)
            return
        if self._waiting_since is not None:
            self._waiting_since = self._loop.time()

    def _sink_failed(self, exc: Exception) -> None:
        """A sink's failure is the relay's result, raised to its awaiter; the upstream is of no more use."""
        self._ended(exc)
        self._response.close()

    def _ended(self, exc: BaseException | None) -> None:
        _TAPS.pop(self._response.content, None)
        if self._splice is not None:  # aiohttp's protocol takes its connection back, for the pool or to close
            transport, protocol = self._splice
            self._splice = None
            if not transport.is_closing():
                transport.set_protocol(protocol)
        self._sink = _no_sink  # the sink holds its relay, which holds this: no cycle left for the collector
        if self._watchdog is not None:
            self._watchdog.cancel()
        done = self._done
        if done is None or done.done():
            return
        if exc is None:
            done.set_result(None)
        elif isinstance(exc, aiohttp.ClientError | HttpProcessingError | TimeoutError):
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
        self._splice = None


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
        # No cookie jar: the session serves every organization, and a cookie one upstream answer set (a load
        # balancer's affinity, say) would otherwise go out on every later call to that host, whoever makes it.
        self._session = aiohttp.ClientSession(
            connector=self._connector, timeout=self._timeout, auto_decompress=True, skip_auto_headers=("User-Agent",),
            cookie_jar=aiohttp.DummyCookieJar(),
        )  # fmt: skip

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
