"""uvicorn's real response cycle (httptools), writing to a socket that records each write: how tests compare what
skygate writes past uvicorn's `send` with what `send` itself writes; and an answer read back as a client reads it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import h11
import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

DEFAULT_HEADERS = [(b"server", b"uvicorn"), (b"date", b"Sun, 29 Nov 2026 20:00:00 GMT")]


class Socket:
    """What uvicorn writes to: each write's bytes, and whether the connection was closed."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def writelines(self, parts: list[bytes]) -> None:
        self.writes.append(b"".join(parts))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0  # all written: a caller that keeps up

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def recording_cycle(keep_alive: bool, method: str = "POST") -> tuple[Any, Socket, list[int], Lines]:
    """A cycle for a request that asked for `100 Continue` and is answered before its body was read."""
    socket, ended, lines = Socket(), [], Lines()
    access = logging.Logger(f"access-{id(lines)}")  # a logger of its own: nothing else writes to it
    access.addHandler(lines)
    scope = {"type": "http", "method": method, "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions",
             "query_string": b"", "root_path": "", "http_version": "1.1", "client": ("127.0.0.1", 50000),
             "headers": []}  # fmt: skip
    cycle = RequestResponseCycle(
        scope=scope, transport=socket, flow=FlowControl(socket), logger=logging.getLogger("uvicorn.error"),  # type: ignore[arg-type]
        access_logger=access, access_log=True, default_headers=DEFAULT_HEADERS, message_event=asyncio.Event(),
        expect_100_continue=True, keep_alive=keep_alive, on_response=lambda: ended.append(1),
    )  # fmt: skip
    return cycle, socket, ended, lines


def read_answer(conn: h11.Connection, more: Callable[[], bytes]) -> tuple[h11.Response, bytes]:
    """One answer off a client `conn` whose request was sent, fed `more()` whenever it needs bytes (b"" for the
    connection's end); the test fails if the connection ends first."""
    response, body = None, b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(more())
        elif isinstance(event, h11.Response):
            response = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            break
        elif isinstance(event, h11.ConnectionClosed):
            pytest.fail("the connection closed before the answer ended")
    assert response is not None
    return response, body
