"""Whole (not streamed) data-plane answers, written in one piece past uvicorn's `send`: read off a raw socket,
they are the HTTP/1.1 uvicorn itself would write, on keep-alive, pipelined, HTTP/1.0 and HEAD requests alike."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import h11

from tests.gateway.conftest import DataPlane
from tests.gateway.server_cycles import read_answer

CHAT = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]})


def _request(method: str, path: str, *, key: str | None = None, body: str = "", extra: str = "") -> bytes:
    auth = f"authorization: Bearer {key}\r\n" if key else ""
    length = f"content-length: {len(body.encode())}\r\ncontent-type: application/json\r\n" if method == "POST" else ""
    return f"{method} {path} HTTP/1.1\r\nhost: gateway\r\n{auth}{length}{extra}\r\n{body}".encode()


Answer = tuple[h11.Response, bytes]


def _exchange(dp: DataPlane, raw: bytes, methods: list[str]) -> tuple[list[Answer], bool]:
    """Send `raw` (requests with these methods) at once; the answers read back, and whether the server then
    closed the connection."""
    address = urlsplit(dp.gateway.base_url)
    conn = h11.Connection(h11.CLIENT)
    read: list[Answer] = []
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(raw)
        closed = False

        def receive() -> bytes:
            nonlocal closed
            data = sock.recv(65536)
            closed = closed or not data
            return data

        for method in methods:
            # h11 reads one answer per request it was told of; the bytes were sent already.
            conn.send(h11.Request(method=method, target="/", headers=[("host", "gateway")]))
            conn.send(h11.EndOfMessage())
            read.append(read_answer(conn, receive))
            if conn.our_state is h11.MUST_CLOSE:
                break
            conn.start_next_cycle()
        if not closed:
            sock.settimeout(2)
            try:
                closed = sock.recv(1) == b""
            except TimeoutError:
                closed = False
    return read, closed


def _header(response: h11.Response, name: bytes) -> list[bytes]:
    return [value for key, value in response.headers if key == name]


def test_pipelined_answers_come_back_whole_and_in_order_on_one_connection(dp: DataPlane) -> None:
    raw = (
        _request("POST", "/v1/chat/completions", body=CHAT)
        + _request("POST", "/v1/chat/completions", key=dp.invoke_key, body=CHAT)
        + _request("POST", "/v1/chat/completions", key="sk-sg-not-a-key", body=CHAT)
    )
    (missing, answer, wrong), closed = _exchange(dp, raw, ["POST"] * 3)

    assert [r.status_code for r, _ in (missing, answer, wrong)] == [401, 200, 401]
    assert json.loads(missing[1])["error"]["code"] == "missing_api_key"
    assert json.loads(answer[1])["object"] == "chat.completion"
    assert json.loads(wrong[1])["error"]["code"] == "invalid_api_key"
    for response, body in (missing, answer, wrong):
        assert _header(response, b"content-length") == [str(len(body)).encode()]
        assert len(_header(response, b"date")) == len(_header(response, b"server")) == 1  # uvicorn's own headers
        assert _header(response, b"connection") == []  # keep-alive
    assert _header(answer[0], b"x-skygate-provider") != []
    assert not closed  # still open for the next request


def test_http_1_0_and_connection_close_get_connection_close_and_the_connection_ends(dp: DataPlane) -> None:
    old = _request("POST", "/v1/chat/completions", body=CHAT).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    for raw in (old, _request("POST", "/v1/chat/completions", body=CHAT, extra="connection: close\r\n")):
        [(response, body)], closed = _exchange(dp, raw, ["POST"])
        assert response.status_code == 401
        assert json.loads(body)["error"]["code"] == "missing_api_key"
        assert _header(response, b"connection") == [b"close"]
        assert closed


def test_a_head_request_gets_the_head_without_the_body(dp: DataPlane) -> None:
    raw = _request("HEAD", "/v1/models", key=dp.invoke_key) + _request("GET", "/v1/models", key=dp.invoke_key)
    (head, listed), _ = _exchange(dp, raw, ["HEAD", "GET"])

    assert head[0].status_code == listed[0].status_code == 200
    assert head[1] == b""
    assert json.loads(listed[1])["object"] == "list"  # read right after the head: no stray body came between
    assert _header(head[0], b"content-length") == _header(listed[0], b"content-length")


def test_of_a_repeated_header_the_first_counts(dp: DataPlane) -> None:
    """As Starlette's `Headers.get` reads them: the data plane reads the list into a dict of first values."""
    wrong = "authorization: Bearer sk-sg-not-a-key\r\n"
    first_valid = _request("POST", "/v1/chat/completions", key=dp.invoke_key, body=CHAT, extra=wrong)
    right = f"authorization: Bearer {dp.invoke_key}\r\n"
    first_wrong = _request("POST", "/v1/chat/completions", key="sk-sg-not-a-key", body=CHAT, extra=right)
    (valid, _), (invalid, body) = _exchange(dp, first_valid + first_wrong, ["POST", "POST"])[0]
    assert valid.status_code == 200
    assert invalid.status_code == 401
    assert json.loads(body)["error"]["code"] == "invalid_api_key"
