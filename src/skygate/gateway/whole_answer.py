"""A whole answer (not streamed) in one socket write.

uvicorn writes an ASGI response's head when the app sends `http.response.start` and its body when it sends
`http.response.body`: two writes, two segments, and a caller that wakes for the head and again for the body.
For a data-plane answer whose body is already whole, this writes both at once to uvicorn's connection, and moves
uvicorn's response cycle to where its own `send` would leave it, access-log line included (docs/performance.md).
Anything else — another server, a HEAD request, a body-less status — goes through `send` as before."""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response
from starlette.types import Send

try:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE as _STATUS_LINE
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle as _HttpToolsCycle
    from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string
except ImportError:  # pragma: no cover - uvicorn without httptools: every answer goes through `send`
    _HttpToolsCycle = None  # type: ignore[assignment,misc]
    _STATUS_LINE = {}

__all__ = ["one_write_cycle", "write_whole"]

# What uvicorn's `send` refuses in a header value (control characters): refused here the same way.
_BAD_VALUE = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")


def one_write_cycle(send: Send, response: Response) -> Any:
    """uvicorn's httptools response cycle behind `send`, if this answer can go out through it in one write."""
    cycle = getattr(send, "__self__", None)
    if _HttpToolsCycle is None or type(cycle) is not _HttpToolsCycle:
        return None
    if cycle.response_started or cycle.scope["method"] == "HEAD":
        return None
    # Only what Starlette's own `Response.__call__` sends (JSONResponse, say): a start and the whole body.
    if type(response).__call__ is not Response.__call__ or response.background is not None:
        return None
    if response.status_code < 200 or response.status_code in (204, 304):
        return None
    return cycle


async def write_whole(cycle: Any, response: Response) -> None:
    """What uvicorn's `send` does for `http.response.start` and a last `http.response.body`, in one write."""
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()
    if cycle.disconnected:
        return
    scope, status = cycle.scope, response.status_code
    if cycle.access_log:  # uvicorn's line, as its `send` writes it
        cycle.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), scope["method"],
                                 get_path_with_query_string(scope), scope["http_version"], status)  # fmt: skip
    parts = [_STATUS_LINE[status]]
    for name, value in (*cycle.default_headers, *response.raw_headers):
        if _BAD_VALUE.search(value):
            raise RuntimeError("Invalid HTTP header value.")  # as uvicorn: the server answers 500
        parts += (name, b": ", value, b"\r\n")
    if not cycle.keep_alive:
        parts.append(b"connection: close\r\n")
    parts += (b"\r\n", bytes(response.body))  # (bytes already: the same object)
    cycle.response_started = cycle.response_complete = True
    cycle.transport.write(b"".join(parts))
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
