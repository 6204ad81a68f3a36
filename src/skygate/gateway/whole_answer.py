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

from skygate.gateway.server_cycle import end_response, server_cycle, start_head

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
    head = start_head(cycle, response.status_code, response.raw_headers, chunked=False)
    body = response.body
    if len(body) < _LARGE:
        cycle.transport.write(head + body)
    else:
        cycle.transport.writelines([head, body])
    end_response(cycle)
