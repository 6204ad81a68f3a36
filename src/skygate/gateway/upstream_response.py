"""One upstream answer, read off its HTTP/1.1 connection as the bytes arrive: held, read whole, or relayed
piece by piece (and whole chunks with their framing) from the read callback itself."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable, Mapping

import httptools

from skygate.gateway.http1 import Connection, Pool
from skygate.gateway.silence import Silence
from skygate.gateway.splice import PARTIAL_LIMIT, Caller, Splice, unfinished, whole_chunks
from skygate.gateway.upstream_errors import UpstreamError, UpstreamTimeout

__all__ = ["UpstreamResponse"]

_EARLY_LIMIT = 1 << 20  # body bytes held for a response nobody reads yet, before its connection stops reading
_HEADER_LIMIT = 64 * 1024  # what may be read before an answer's head is whole
_DECODERS: dict[str, int] = {"gzip": 47, "x-gzip": 47, "deflate": 15}  # zlib's wbits: 47 reads gzip or zlib
_END = b"0\r\n\r\n"  # the last chunk with no trailers: a chunked body's end as nearly every server writes it


def _no_sink(data: bytes) -> None:
    raise RuntimeError("no relay")


class UpstreamResponse:
    """One answer, read off its connection as the bytes arrive (httptools calls the `on_*` methods back). Its body
    is held until `aread` or `relay` takes it; the connection goes back to the pool when the body has ended
    (keep-alive), and is closed otherwise.

    A body relayed to a `Caller`, sent in HTTP/1.1 chunks and not content-coded, goes to the caller's socket in
    whole chunks as they were read, framing and all — the caller's connection takes the same framing — without
    the parser, the body callback and the server's framing step per chunk, which was most of the relay's Python
    cost (docs/performance.md); while reads are nothing but whole chunks, a `Splice` is the connection's protocol
    and this object is not called at all. The parser stays at the start of the first chunk not taken, so
    whatever this does not vouch for — the last chunk with trailers, framing looser than the RFC's, a chunk too
    large to hold until it is whole — goes to the parser, which relays, ends or fails the body as always; whole
    chunks are taken again once the parser stands between two. A chunk split across reads is held until it is
    whole, so the caller only ever gets whole chunks. The body's end (`0\r\n\r\n`, no trailers) right after
    whole chunks goes out in the same write as they do, and the parser still reads it; `ended_on_caller` then
    tells the server not to end the body again.

    Silence is bounded by the client's `Silence` watch: the upstream timeout applies to the wait for the answer and
    to each wait for more of it, never to the time reading is paused for a slow caller."""

    def __init__(self, pool: Pool, silence: Silence, connection: Connection, key: tuple[str, str, int]) -> None:
        self._pool, self._key = pool, key
        self._connection: Connection | None = connection
        self._loop = asyncio.get_running_loop()
        # The parser holds this response's callbacks: dropped when the answer ends, so no cycle outlives it.
        self._parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self._head_bytes = 0  # header names and values
        self._head_read = 0  # bytes read while the head was not yet whole
        self.status_code = 0
        self.headers: Mapping[str, str] = {}
        self._fields: dict[str, str] = {}
        self.head: asyncio.Future[None] = self._loop.create_future()
        self._silence: Silence | None = silence  # None once the answer has ended
        self._waiting_since: float | None = self._loop.time()  # when the upstream's silence began; None while paused
        silence.watch(self, self._loop)
        self._held: list[bytes] = []  # body read before anyone took it
        self._held_size = 0
        self._held_paused = False
        self._sink: Callable[[bytes], None] | None = None
        self._done: asyncio.Future[None] | None = None
        self._decoder: zlib._Decompress | None = None
        self._undecodable: str | None = None  # a content-coding we cannot read: fails when body bytes come
        self._coded = False  # the decoder has had bytes: it must then reach the coded stream's end
        self._spliceable = False
        self._until_close = False  # a body without length or chunks: it ends when the connection does
        self._complete = False
        self._failed: BaseException | None = None
        self._between_chunks = False  # the parser stands between two chunks after its last callback
        self._at_chunk = False  # ...and what it was last fed ended there: the next read may be taken whole
        self._taking = False  # whole chunks are taken; otherwise everything goes to the parser
        self._partial = b""
        self._splice: Splice | None = None  # whole chunks to the caller; the transport's protocol while spliced
        self._spliced = False
        self._end_passed = False  # the body's last chunk went to the caller with the whole chunks before it
        self._reusable: Connection | None = None  # back to the pool once the parser is done with the read
        self._extra = False  # bytes after the answer's end: the connection is not fit for another
        self._interim = False  # a 1xx answer is being read: the real one follows on the same connection
        connection.reader = self

    # -- the parser's callbacks ----------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._complete:
            self._extra = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._complete or self.head.done():  # trailers after a chunked body do not change the headers
            return
        self._head_bytes += len(name) + len(value)
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        known = self._fields.get(key)
        self._fields[key] = text if known is None else f"{known}, {text}"

    def on_headers_complete(self) -> None:
        if self._complete or self._parser is None:
            return
        status = self._parser.get_status_code()
        if self._head_bytes > _HEADER_LIMIT:
            self._fail(UpstreamError(f"an answer head longer than {_HEADER_LIMIT} bytes"))
            return
        if status == 101:  # not HTTP any more (the parser then stops too)
            self._fail(UpstreamError("the upstream switched protocols"))
            return
        if 100 <= status < 200:  # informational (RFC 9110 §15.2): the final answer follows
            self._interim, self._fields, self._head_bytes = True, {}, 0
            return
        self.status_code = status
        self.headers = self._fields
        coding = self._fields.get("content-encoding", "identity").strip().lower()
        transfer = [c.strip().lower() for c in self._fields.get("transfer-encoding", "").split(",") if c.strip()]
        if transfer and transfer != ["chunked"]:
            self._fail(UpstreamError(f"unsupported transfer-encoding {', '.join(transfer)!r}"))
            return
        if coding in _DECODERS:
            self._decoder = zlib.decompressobj(_DECODERS[coding])
        elif coding != "identity":
            self._undecodable = coding  # an answer without a body (a 429, say) still reads fine
        self._spliceable = bool(transfer) and coding == "identity"
        no_body = self.status_code in (204, 304)
        self._until_close = not transfer and "content-length" not in self._fields and not no_body
        if not self.head.done():
            self.head.set_result(None)

    def on_chunk_header(self) -> None:
        self._between_chunks = False

    def on_chunk_complete(self) -> None:
        self._between_chunks = True

    def on_body(self, body: bytes) -> None:
        if self._complete or self._failed is not None:
            return
        if self._undecodable is not None:
            self._fail(UpstreamError(f"unsupported content-encoding {self._undecodable!r}"))
            return
        if self._decoder is not None:
            self._coded = True
            try:
                body = self._decoder.decompress(body)
            except zlib.error as exc:
                self._fail(UpstreamError("a body its content-encoding does not describe"), exc)
                return
            if not body:
                return
        self._piece(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            return
        if self._complete or self._failed is not None or self._parser is None:
            return
        keep = self._parser.should_keep_alive()
        if self._decoder is not None:
            try:
                rest, whole = self._decoder.flush(), self._decoder.eof
            except zlib.error as exc:
                self._fail(UpstreamError("a body its content-encoding does not describe"), exc)
                return
            if self._coded and not whole:  # (an answer without a body, a 429 say, has nothing to decode)
                self._fail(UpstreamError("a coded body cut short"))
                return
            if rest:
                self._piece(rest)
                if self._failed is not None:
                    return
        self._complete = True
        self._release(keep)
        self._ended(None)

    # -- the connection's side -----------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        if self._failed is not None or self._complete:
            return
        if self._waiting_since is not None:
            self._waiting_since = self._loop.time()
        if self._partial:
            data, self._partial = self._partial + data, b""
        if not self._taking or self._waiting_since is None:  # paused: what was held must go out first
            self._taking = False
            self._parse(data)
            return
        end = len(data)
        pos = whole_chunks(data)
        # The body's end right after whole chunks goes out with them, in one write: the parser still reads it.
        last = end - pos == len(_END) and data.endswith(_END)
        if pos or last:
            assert self._splice is not None
            try:
                self._splice.pass_on(data if pos == end or last else data[:pos])
            except Exception as exc:
                self._fail(exc)
                return
        if pos == end:
            self._take()
            return
        if last:
            self._end_passed = True
            self._taking = False
            self._parse(_END)
            return
        rest = data[pos:]
        if len(rest) <= PARTIAL_LIMIT and unfinished(rest):
            self._partial = rest
        else:
            self._taking = False
            self._parse(rest)

    def _parse(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            return
        self._between_chunks = False
        try:
            parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            if self._complete:
                self._extra = True  # bytes after a whole answer: the answer stands, the connection does not
            elif isinstance(exc, httptools.HttpParserCallbackError):  # a bug of ours in a callback: fail, not hang
                self._fail(exc.__context__ or exc)
            elif isinstance(exc, httptools.HttpParserUpgrade):  # a 101: not HTTP any more
                self._fail(UpstreamError("the upstream switched protocols"), exc)
            else:
                self._fail(UpstreamError(f"the upstream broke HTTP/1.1 ({exc})"), exc)
        finally:
            reusable, self._reusable = self._reusable, None
            if reusable is not None:
                if self._extra:
                    reusable.close()
                else:
                    self._pool.give(self._key, reusable, self._loop)
        if self._failed is not None:
            return
        if not self.head.done():
            # httptools hands a header over only once whole: a head that never ends is cut off here.
            self._head_read += len(data)
            if self._head_read > _HEADER_LIMIT:
                self._fail(UpstreamError(f"an answer head longer than {_HEADER_LIMIT} bytes"))
                return
        # With the parser between two chunks (llhttp reports a chunk's end after its CRLF) the next read is taken.
        self._at_chunk = self._between_chunks and data.endswith(b"\r\n")
        if self._at_chunk and self._splice is not None and self._waiting_since is not None and not self._complete:
            self._take()

    def _take(self) -> None:
        """The next read may be whole chunks. Unless part of one is held, reads go to a `Splice` from now on, and
        come back through `set_aside` when they are anything else."""
        self._taking = True
        connection = self._connection
        if self._spliced or self._partial or self._splice is None or connection is None or connection.transport is None:
            return
        self._spliced = True
        connection.transport.set_protocol(self._splice)

    def _unsplice(self) -> None:
        connection = self._connection
        if self._spliced and connection is not None and connection.transport is not None:
            connection.transport.set_protocol(connection)
        self._spliced = False

    @property
    def ended_on_caller(self) -> bool:
        """The body's last chunk went to the caller's socket with the chunks before it: the server must not write
        one. (Only at a chunk boundary, where the parser then always reads it as the end.)"""
        return self._end_passed

    def set_aside(self, data: bytes) -> None:
        self._unsplice()
        self.feed(data)

    def broke(self, exc: Exception) -> None:
        self._fail(exc)

    def lost(self, exc: Exception | None) -> None:
        self._connection = None
        if self._complete or self._failed is not None:
            return
        if self.head.done() and self._until_close and exc is None:
            self.on_message_complete()  # such a body ends with its connection, closed cleanly
        else:
            self._fail(UpstreamError("the upstream closed the connection"))

    # -- taking the body -----------------------------------------------------------------------------------------

    def _piece(self, data: bytes) -> None:
        sink = self._sink
        if sink is None:
            self._held.append(data)
            self._held_size += len(data)
            if self._held_size > _EARLY_LIMIT and self._done is None and not self._held_paused:
                self._held_paused = True
                self.pause()
            return
        try:
            sink(data)
        except Exception as exc:
            if self._complete:  # what was held when the relay started: the answer had already ended
                self._ended(exc)
            else:
                self._fail(exc)

    async def aread(self) -> bytes:
        """The whole body (not for a body being relayed)."""
        if self._done is not None:
            raise RuntimeError("the body is already being read")
        self._done = self._loop.create_future()
        self._read_on()
        if self._complete or self._failed is not None:
            self._ended(self._failed)
        await self._done
        body, self._held = b"".join(self._held), []
        return body

    def relay(self, sink: Callable[[bytes], None], caller: Caller | None = None) -> asyncio.Future[None]:
        """From now on every piece of the body goes to `sink` as the connection reads it, called from the read
        callback itself. The future ends with the body: None at its end; UpstreamTimeout after an upstream
        silence longer than the upstream timeout; UpstreamError when the connection fails or is closed; or the
        exception `sink` raised, which also closes the connection. A sink that cannot take more calls `pause`.
        With `caller`, a body sent in HTTP/1.1 chunks and not content-coded goes to its socket in whole chunks,
        framing included, whenever it can, and its end too when that comes right after them (`ended_on_caller`);
        what does not still goes to `sink`, in order."""
        if self._done is not None:
            raise RuntimeError("the body is already being relayed")
        self._done = self._loop.create_future()
        if caller is not None and self._spliceable and self._connection is not None:
            self._splice = Splice(self._connection, caller, self)
        self._read_on()  # the sink decides from here; nothing new is read before this returns
        early, self._held, self._held_size = b"".join(self._held), [], 0
        self._sink = sink
        if early:
            self._piece(early)  # what came with the headers, or before the relay started
        if self._splice is not None and self._at_chunk and self._waiting_since is not None:
            self._take()
        if self._complete or self._failed is not None:
            self._ended(self._failed)
        return self._done

    def _read_on(self) -> None:
        """Someone takes the body now: reading resumes if it stopped for a body held too long unread."""
        if self._held_paused:
            self._held_paused = False
            self.resume()

    def pause(self) -> None:
        """Stop reading the upstream (the caller is not taking what was sent); time paused is not silence.
        Pieces of the read being handled still arrive; the next read waits for `resume`."""
        self._waiting_since = None
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.pause_reading()

    def resume(self) -> None:
        self._waiting_since = self._loop.time()
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.resume_reading()

    # -- endings -------------------------------------------------------------------------------------------------

    def silent_since(self) -> float | None:
        splice = self._splice
        if splice is not None and splice.fresh and self._waiting_since is not None:
            splice.fresh = False  # read since the last look: its time is taken now, at most a tick late
            self._waiting_since = self._loop.time()
        return self._waiting_since

    def silenced(self) -> None:
        assert self._silence is not None
        limit = self._silence.limit
        self._fail(UpstreamTimeout(f"nothing for {limit:g} s" if self.head.done() else f"no answer within {limit:g} s"))

    def _release(self, keep: bool) -> None:
        """The body has ended: the connection goes back to the pool, or is closed."""
        if self._silence is not None:
            self._silence.unwatch(self)
            self._silence = None
        self._unsplice()
        connection, self._connection = self._connection, None
        if connection is None:
            return
        transport = connection.transport
        # Not reused with our request still being written (the server answered early, a 413 say): the next
        # request would queue behind the rest of this one's body.
        if not keep or transport is None or not connection.alive or transport.get_write_buffer_size():
            connection.close()
            return
        if self._waiting_since is None:
            transport.resume_reading()  # paused for this answer's caller, not for the next one
        self._reusable = connection  # given back when the parser has finished with this read (`_parse`)

    def _fail(self, exc: BaseException, cause: BaseException | None = None) -> None:
        """The answer cannot be read on: the connection closes, and whoever waits gets `exc`."""
        if self._failed is not None or self._complete:
            return
        if cause is not None:
            exc.__cause__ = cause
        self._failed = exc
        self._release(keep=False)
        if not self.head.done():
            self.head.set_exception(exc)
            self.head.exception()  # retrieved: `send` raises it, or nobody is waiting any more
        self._ended(exc)

    def _ended(self, exc: BaseException | None) -> None:
        # The sinks hold their relay, the parser this response's callbacks: no cycle is left for the collector.
        self._sink = _no_sink if self._sink is not None else None
        self._parser, self._decoder, self._partial, self._splice = None, None, b"", None
        done = self._done
        if done is None or done.done():
            return
        if exc is None:
            done.set_result(None)
        else:
            done.set_exception(exc)

    def close(self) -> None:
        """Done with this answer: one not read to its end closes its connection."""
        self._fail(UpstreamError("closed before the answer ended"))

    async def aclose(self) -> None:
        self.close()
