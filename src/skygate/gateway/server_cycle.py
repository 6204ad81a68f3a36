"""uvicorn's response cycle behind an ASGI `send`, for the two places that write to its socket themselves: whole
chunks of a stream (gateway/relay.py) and a whole answer in one write (gateway/whole_answer.py).

Both rely on the cycle's attributes (transport, flow, flags) as uvicorn's httptools implementation has them; the
version is pinned below the next minor release in pyproject.toml, and tests compare what they write with what
uvicorn's own `send` writes."""

from __future__ import annotations

from typing import Any

from starlette.types import Send

try:
    from uvicorn.protocols.http.httptools_impl import HEADER_VALUE_RE, STATUS_LINE
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle as _HttpToolsCycle
except ImportError:  # pragma: no cover - uvicorn without httptools: everything goes through `send`
    _HttpToolsCycle = None  # type: ignore[assignment,misc]
    STATUS_LINE: dict[int, bytes] = {}  # type: ignore[no-redef]
    HEADER_VALUE_RE = None  # type: ignore[assignment]

__all__ = ["HEADER_VALUE_RE", "STATUS_LINE", "server_cycle"]


def server_cycle(send: Send) -> Any:
    """The httptools response cycle whose bound `send` this is, or None (another server, or a wrapped `send`)."""
    cycle = getattr(send, "__self__", None)
    return cycle if _HttpToolsCycle is not None and type(cycle) is _HttpToolsCycle else None
