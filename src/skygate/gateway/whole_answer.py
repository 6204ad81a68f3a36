"""A whole answer (not streamed) in one socket write.

uvicorn writes an ASGI response's head when the app sends `http.response.start` and its body when it sends
`http.response.body`: two passes through its `send`, two writes, two segments, and a caller that may wake for
each. For a data-plane answer whose body is already whole, this writes both at once to uvicorn's connection and
leaves uvicorn's response cycle where its own `send` would (docs/performance.md, "Four cuts to the request
path"); `tests/gateway/test_whole_answer.py` compares the bytes and the cycle's state with `send`'s. Anything
else — another server, a HEAD request, a body-less status, a response that sets its own framing — goes through
`send` as before."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.types import Send
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from skygate.gateway.server_cycle import HEADER_VALUE_RE, STATUS_LINE, server_cycle

__all__ = ["one_write_cycle", "write_whole"]

# Headers uvicorn's `send` reads for the framing or the connection: a response setting them gets `send` itself.
_FRAMING = frozenset((b"connection", b"transfer-encoding"))
_LARGE = 64 * 1024  # a body this large goes out without being copied next to its head


def one_write_cycle(send: Send, response: Response) -> Any:
    """uvicorn's httptools response cycle behind `send`, if this answer can go out through it in one write."""
    cycle = server_cycle(send)
    if cycle is None or cycle.response_started or cycle.scope["method"] == "HEAD":
        return None
    # Only what Starlette's own `Response.__call__` sends (JSONResponse, say): a start and the whole body.
    if type(response).__call__ is not Response.__call__ or response.background is not None:
        return None
    if response.status_code < 200 or response.status_code in (204, 304):
        return None
    if any(name in _FRAMING for name, _ in response.raw_headers):
        return None
    return cycle


async def write_whole(cycle: Any, response: Response) -> None:
    """What uvicorn's `send` does for `http.response.start` and then a last `http.response.body`, in one write."""
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()
    if cycle.disconnected:
        return
    scope, status = cycle.scope, response.status_code
    cycle.response_started, cycle.waiting_for_100_continue = True, False
    if cycle.access_log:
        cycle.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), scope["method"],
                                 get_path_with_query_string(scope), scope["http_version"], status)  # fmt: skip
    parts = [STATUS_LINE[status]]
    for name, value in (*cycle.default_headers, *response.raw_headers):
        if HEADER_VALUE_RE.search(value):  # what uvicorn's `send` refuses (control characters)
            raise RuntimeError("Invalid HTTP header value.")  # as uvicorn: the app fails, the connection closes
        parts += (name, b": ", value, b"\r\n")
    if not cycle.keep_alive:
        parts.append(b"connection: close\r\n")
    parts.append(b"\r\n")
    body = response.body
    if len(body) < _LARGE:
        cycle.transport.write(b"".join(parts) + body)
    else:
        cycle.transport.writelines([b"".join(parts), body])
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()
