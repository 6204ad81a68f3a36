"""uvicorn's response cycle behind an ASGI `send`, for the two places that write to its socket themselves: a stream,
whose head goes out with its first piece and whose whole chunks go out as read (gateway/relay.py), and a whole
answer in one write (gateway/whole_answer.py).

Both rely on the cycle's attributes (transport, flow, flags) as uvicorn's httptools implementation has them; the
version is pinned below the next minor release in pyproject.toml, and tests compare what they write with what
uvicorn's own `send` writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.types import Send
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

try:
    from uvicorn.protocols.http.httptools_impl import HEADER_VALUE_RE, STATUS_LINE
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle as _HttpToolsCycle
except ImportError:  # pragma: no cover - uvicorn without httptools: everything goes through `send`
    _HttpToolsCycle = None  # type: ignore[assignment,misc]
    STATUS_LINE: dict[int, bytes] = {}  # type: ignore[no-redef]
    HEADER_VALUE_RE = None  # type: ignore[assignment]

__all__ = ["end_response", "server_cycle", "start_head"]


def server_cycle(send: Send) -> Any:
    """The httptools response cycle whose bound `send` this is, or None (another server, or a wrapped `send`)."""
    cycle = getattr(send, "__self__", None)
    return cycle if _HttpToolsCycle is not None and type(cycle) is _HttpToolsCycle else None


def start_head(cycle: Any, status: int, headers: Iterable[tuple[bytes, bytes]], *, chunked: bool) -> bytes:
    """What uvicorn's `send` writes for `http.response.start`, for headers of our own making (lower-case names,
    checked by nobody here) that set no framing or connection, and a status that has a body (not 1xx, 204 or
    304); the cycle is left as `send` leaves it, `chunked` saying the body's length is not known. The caller
    writes the bytes (with body bytes after them, which is the point)."""
    scope = cycle.scope
    cycle.response_started, cycle.waiting_for_100_continue = True, False
    if cycle.access_log:
        cycle.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), scope["method"],
                                 get_path_with_query_string(scope), scope["http_version"], status)  # fmt: skip
    parts = [STATUS_LINE[status]]
    for name, value in (*cycle.default_headers, *headers):
        if HEADER_VALUE_RE.search(value):  # what uvicorn's `send` refuses (control characters)
            raise RuntimeError("Invalid HTTP header value.")  # as uvicorn: the app fails, the connection closes
        parts += (name, b": ", value, b"\r\n")
    if not cycle.keep_alive:
        parts.append(b"connection: close\r\n")
    if chunked:
        cycle.chunked_encoding, cycle.expected_content_length = True, 0
        parts.append(b"transfer-encoding: chunked\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def end_response(cycle: Any) -> None:
    """What uvicorn's `send` does once a response's last bytes are written: the next request on the connection
    may start, or the connection closes."""
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
