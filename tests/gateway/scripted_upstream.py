"""An upstream that answers every request with the same HTTP/1.1 response, written in exactly the pieces a test
gives and a pause between them, so each piece reaches the gateway as a read of its own: how a test controls where
reads split a chunked body. Plain TCP, blocking sockets in a thread; it counts the connections it accepted."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
END = b"0\r\n\r\n"  # a chunked body's end, no trailers


def chunk(data: bytes, extension: bytes = b"") -> bytes:
    return b"%x%s\r\n%s\r\n" % (len(data), extension, data)


def dechunk(framed: bytes) -> list[bytes]:
    """The chunks of `framed`, which must be whole chunks and nothing else, but for the body's end (`0\r\n\r\n`,
    the last chunk without trailers) as its very last bytes: strict on purpose."""
    chunks, pos = [], 0
    while pos < len(framed):
        eol = framed.index(b"\r\n", pos)
        size = int(framed[pos:eol].split(b";")[0], 16)
        if size == 0:
            assert framed[pos:] == END, "only the body's end, without trailers, and only as the last bytes"
            break
        data_end = eol + 2 + size
        assert framed[data_end : data_end + 2] == b"\r\n", "a chunk without its CRLF"
        chunks.append(framed[eol + 2 : data_end])
        pos = data_end + 2
    return chunks


class CallerSocket(asyncio.Transport):
    """The caller's connection as a relay to a `Caller` writes whole chunks to it: each write goes to `take`; its
    buffer holds `buffered` bytes (0, unless a test plays a caller that stops reading)."""

    def __init__(self, take: Callable[[bytes], None]) -> None:
        super().__init__()
        self.take, self.buffered, self.closing = take, 0, False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.take(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return self.buffered


@dataclass
class ScriptedUpstream:
    url: str
    connections: int = 0
    requests: int = 0
    finished_at: float | None = None  # time.monotonic() when the last piece of the last answer was sent
    heads: list[bytes] = field(default_factory=list)  # each request's request line and headers, as received
    _stop: threading.Event = field(default_factory=threading.Event)


def _read_request(conn: socket.socket, buffered: bytes) -> tuple[bytes, bytes] | None:
    """One request off `conn` (headers and a Content-Length body): its head and what follows it; None when the
    peer closed."""
    data = buffered
    while b"\r\n\r\n" not in data:
        more = conn.recv(65536)
        if not more:
            return None
        data += more
    head, rest = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        more = conn.recv(65536)
        if not more:
            return None
        rest += more
    return head, rest[length:]


@contextmanager
def scripted_upstream(
    pieces: Sequence[bytes], gap: float = 0.03, close_after: bool = False, head: bytes = HEAD
) -> Iterator[ScriptedUpstream]:
    """Serve `head` then `pieces`, `gap` seconds apart, for every request; with `close_after`, close the
    connection after the last piece (a body cut short, when the pieces do not end it)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    upstream = ScriptedUpstream(f"http://127.0.0.1:{listener.getsockname()[1]}")

    def answer(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffered = b""
        with conn:
            while not upstream._stop.is_set():
                request = _read_request(conn, buffered)
                if request is None:
                    return
                received, buffered = request
                upstream.heads.append(received)
                upstream.requests += 1
                try:
                    conn.sendall(head)
                    for piece in pieces:
                        time.sleep(gap)
                        conn.sendall(piece)  # blocks while the gateway is not reading
                except OSError:
                    return
                upstream.finished_at = time.monotonic()
                if close_after:
                    return

    def accept() -> None:
        while not upstream._stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            upstream.connections += 1
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        upstream._stop.set()
        thread.join(timeout=5)
        listener.close()
