"""Anthropic Messages bodies and the event sequence of a streamed message, as Claude on Foundry answers (§5.3)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

from skygate_emulator.generate import Reply, Turn, split_text
from skygate_emulator.openai_wire import sse

__all__ = ["anthropic_error", "messages_body", "messages_stream", "messages_turn"]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _tool_result(message: dict[str, Any]) -> str | None:
    content = message.get("content")
    if message.get("role") != "user" or not isinstance(content, list):
        return None
    for block in content:
        if isinstance(block, dict) and block.get("type") == "tool_result":
            inner = block.get("content")
            return _text(inner) if not isinstance(inner, str) else inner
    return None


def messages_turn(body: dict[str, Any]) -> Turn:
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    users = [m for m in messages if m.get("role") == "user" and _text(m.get("content"))]
    system = body.get("system")
    prompt = " ".join([_text(system) if system else ""] + [_text(m.get("content")) for m in messages])
    return Turn(
        text=_text(users[-1].get("content")) if users else "",
        prompt_text=prompt.strip(),
        tools=[str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict)],
        tool_result=_tool_result(messages[-1]) if messages else None,
        max_tokens=body.get("max_tokens"),
    )


def _content(reply: Reply) -> list[dict[str, Any]]:
    if reply.tool_call:
        call = reply.tool_call
        return [
            {
                "type": "tool_use",
                "id": "toolu_" + uuid.uuid4().hex[:24],
                "name": call.name,
                "input": json.loads(call.arguments),
            }
        ]
    return [{"type": "text", "text": reply.text}]


_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def messages_body(turn: Turn, reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": "msg_" + uuid.uuid4().hex[:24],
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _content(reply),
        "stop_reason": _STOP[reply.finish],
        "stop_sequence": None,
        "usage": {
            "input_tokens": turn.prompt_tokens,
            "output_tokens": reply.completion_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def messages_stream(turn: Turn, reply: Reply, model: str) -> Iterator[bytes]:
    """message_start, content_block_start, ping, deltas, content_block_stop, message_delta, message_stop."""
    final = messages_body(turn, reply, model)
    start = {**final, "content": [], "stop_reason": None, "usage": {**final["usage"], "output_tokens": 1}}
    yield sse({"type": "message_start", "message": start}, event="message_start")
    [block] = final["content"]
    if block["type"] == "tool_use":
        opening = {**block, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": piece} for piece in split_text(json.dumps(block["input"]))
        ]
    else:
        opening = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in split_text(block["text"])]
    yield sse({"type": "content_block_start", "index": 0, "content_block": opening}, event="content_block_start")
    yield sse({"type": "ping"}, event="ping")
    for delta in deltas:
        yield sse({"type": "content_block_delta", "index": 0, "delta": delta}, event="content_block_delta")
    yield sse({"type": "content_block_stop", "index": 0}, event="content_block_stop")
    yield sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": final["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": reply.completion_tokens},
        },
        event="message_delta",
    )
    yield sse({"type": "message_stop"}, event="message_stop")


def anthropic_error(status: int, kind: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"type": "error", "error": {"type": kind, "message": message}}
