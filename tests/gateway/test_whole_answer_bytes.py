"""`write_whole` against uvicorn's own `send`, on uvicorn's real response cycle: the same bytes in one write
instead of two, the cycle left in the same state, the same access-log line, the same refusal of a bad header."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response

from skygate.gateway.whole_answer import one_write_cycle, write_whole
from tests.gateway.server_cycles import Lines, Socket
from tests.gateway.server_cycles import recording_cycle as _cycle


async def _nothing() -> dict[str, Any]:
    return {"type": "http.disconnect"}


ANSWERS = {
    "json": lambda: JSONResponse({"object": "chat.completion", "content": "Hi"}, headers={"x-skygate-provider": "a"}),
    "429": lambda: JSONResponse({"error": {"code": "429"}}, status_code=429, headers={"retry-after": "2"}),
    "large": lambda: Response(b"x" * 200_000, media_type="application/json"),
}


@pytest.mark.parametrize("keep_alive", [True, False])
@pytest.mark.parametrize("answer", sorted(ANSWERS))
def test_one_write_holds_what_uvicorns_send_writes_in_two(answer: str, keep_alive: bool) -> None:
    async def both() -> list[tuple[Any, Socket, list[int], Lines]]:
        by_send, by_whole = _cycle(keep_alive), _cycle(keep_alive)
        await ANSWERS[answer]()(by_send[0].scope, _nothing, by_send[0].send)
        response = ANSWERS[answer]()
        assert one_write_cycle(by_whole[0].send, response) is by_whole[0]
        await write_whole(by_whole[0], response)
        return [by_send, by_whole]

    (sent, sent_socket, sent_ended, sent_lines), (whole, socket, ended, lines) = asyncio.run(both())
    assert len(sent_socket.writes) == 2  # uvicorn: the head, then the body
    assert socket.writes == [b"".join(sent_socket.writes)]
    assert socket.closed == sent_socket.closed == (not keep_alive)
    assert ended == sent_ended == [1]  # uvicorn's on_response: the next pipelined request starts
    for flag in ("response_started", "response_complete", "waiting_for_100_continue"):
        assert getattr(whole, flag) == getattr(sent, flag), flag
    assert whole.message_event.is_set()
    assert sent.message_event.is_set()
    status = 429 if answer == "429" else 200
    assert lines.lines == sent_lines.lines == [f'127.0.0.1:50000 - "POST /v1/chat/completions HTTP/1.1" {status}']


def test_a_bad_header_value_is_refused_as_uvicorn_refuses_it() -> None:
    async def both() -> list[tuple[Any, Socket, str]]:
        out = []
        for use_send in (True, False):
            cycle, socket, _, _ = _cycle(True)
            response = JSONResponse({}, headers={"x-note": "a\x01b"})
            writing = response(cycle.scope, _nothing, cycle.send) if use_send else write_whole(cycle, response)
            with pytest.raises(RuntimeError) as refused:
                await writing
            out.append((cycle, socket, str(refused.value)))
        return out

    (sent, sent_socket, sent_error), (whole, socket, error) = asyncio.run(both())
    assert error == sent_error
    assert socket.writes == sent_socket.writes == []
    assert whole.response_started == sent.response_started  # so uvicorn closes the connection, as for its own


@pytest.mark.parametrize(
    ("method", "response"),
    [
        ("HEAD", JSONResponse({})),
        ("POST", Response(status_code=204)),
        ("POST", JSONResponse({}, headers={"connection": "close"})),
    ],
)
def test_what_one_write_leaves_to_uvicorns_send(method: str, response: Response) -> None:
    async def check() -> Any:
        cycle, _, _, _ = _cycle(True, method)
        return one_write_cycle(cycle.send, response)

    assert asyncio.run(check()) is None
