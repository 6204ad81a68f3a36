"""Anthropic Messages bodies and the event sequence of a streamed message, as Claude on Foundry answers (§5.3)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

from skygate_emulator.generate import Reply, Turn, forced_tool, split_text
from skygate_emulator.openai_wire import sse

__all__ = ["anthropic_error", "messages_body", "messages_stream", "messages_turn"]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _blocks(message: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict) and b.get("type") == kind]


def _tool_results(message: dict[str, Any]) -> list[str]:
    if message.get("role") != "user":
        return []
    results = []
    for block in _blocks(message, "tool_result"):
        inner = block.get("content")
        results.append(inner if isinstance(inner, str) else _text(inner))
    return results


def messages_turn(body: dict[str, Any]) -> Turn:
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    users = [m for m in messages if m.get("role") == "user" and _text(m.get("content"))]
    system = body.get("system")
    prompt = " ".join([_text(system) if system else ""] + [_text(m.get("content")) for m in messages])
    thinking = body.get("thinking")
    tools = [str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict)]
    return Turn(
        text=_text(users[-1].get("content")) if users else "",
        prompt_text=prompt.strip(),
        tools=tools,
        forced=forced_tool(body.get("tool_choice"), tools),
        tool_results=_tool_results(messages[-1]) if messages else [],
        max_tokens=body.get("max_tokens"),
        images=len(_blocks(users[-1], "image")) if users else 0,
        thinking=isinstance(thinking, dict) and thinking.get("type") == "enabled",
    )


def _content(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.thinking:
        signature = hashlib.sha256(reply.thinking.encode()).hexdigest()
        blocks.append({"type": "thinking", "thinking": reply.thinking, "signature": signature})
    for call in reply.tool_calls:
        use_id = "toolu_" + uuid.uuid4().hex[:24]
        blocks.append({"type": "tool_use", "id": use_id, "name": call.name, "input": json.loads(call.arguments)})
    if not reply.tool_calls:
        blocks.append({"type": "text", "text": reply.text})
    return blocks


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


def _block_events(index: int, block: dict[str, Any]) -> Iterator[bytes]:
    if block["type"] == "tool_use":
        opening: dict[str, Any] = {**block, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": piece} for piece in split_text(json.dumps(block["input"]))
        ]
    elif block["type"] == "thinking":
        opening = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in split_text(block["thinking"], 2)]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:
        opening = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in split_text(block["text"])]
    yield sse({"type": "content_block_start", "index": index, "content_block": opening}, event="content_block_start")
    if index == 0:
        yield sse({"type": "ping"}, event="ping")
    for delta in deltas:
        yield sse({"type": "content_block_delta", "index": index, "delta": delta}, event="content_block_delta")
    yield sse({"type": "content_block_stop", "index": index}, event="content_block_stop")


def messages_stream(turn: Turn, reply: Reply, model: str) -> Iterator[bytes]:
    """message_start, then per block start (a ping after the first), deltas and stop; message_delta, message_stop."""
    final = messages_body(turn, reply, model)
    start = {**final, "content": [], "stop_reason": None, "usage": {**final["usage"], "output_tokens": 1}}
    yield sse({"type": "message_start", "message": start}, event="message_start")
    for index, block in enumerate(final["content"]):
        yield from _block_events(index, block)
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
