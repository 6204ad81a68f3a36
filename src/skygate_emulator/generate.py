"""Deterministic, realistic model behaviour, independent of wire format.

The reply echoes the last user text. Tool calls follow a documented trigger: when the request offers tools
and the last user message contains `call <tool name>`, the model calls that tool, with the first JSON object
in the message (or `{}`) as arguments. After a tool result the model reports what the tool returned.
Two more triggers exist for tests: `EMULATOR_CONTENT_FILTER` in a prompt gives the content-filter 400.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

__all__ = ["CONTENT_FILTER_TRIGGER", "Reply", "ToolCall", "Turn", "count_tokens", "reply_to"]

CONTENT_FILTER_TRIGGER = "EMULATOR_CONTENT_FILTER"


def count_tokens(text: str) -> int:
    """A stable stand-in for a tokenizer: about four characters a token, never zero for text."""
    return (len(text) + 3) // 4 if text else 0


@dataclass
class Turn:
    """What a request asks, whatever its format."""

    text: str
    prompt_text: str
    tools: list[str] = field(default_factory=list)
    tool_result: str | None = None
    max_tokens: int | None = None

    @property
    def prompt_tokens(self) -> int:
        return max(1, count_tokens(self.prompt_text))


@dataclass
class ToolCall:
    name: str
    arguments: str
    id: str = field(default_factory=lambda: "call_" + uuid.uuid4().hex[:24])


@dataclass
class Reply:
    text: str
    tool_call: ToolCall | None
    finish: str  # stop | length | tool_calls
    completion_tokens: int


def _first_json_object(text: str) -> dict[str, object] | None:
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char == "{":
            try:
                value, _ = decoder.raw_decode(text, start)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _tool_call(turn: Turn) -> ToolCall | None:
    lowered = turn.text.lower()
    for name in turn.tools:
        if f"call {name.lower()}" in lowered:
            return ToolCall(name, json.dumps(_first_json_object(turn.text) or {}))
    return None


def reply_to(turn: Turn, model: str) -> Reply:
    if turn.tool_result is None and turn.tools:
        call = _tool_call(turn)
        if call is not None:
            return Reply("", call, "tool_calls", count_tokens(call.name + call.arguments) + 5)
    if turn.tool_result is not None:
        text = f"The tool returned: {turn.tool_result}"
    else:
        text = f"Hello from the Azure emulator ({model}). You said: {turn.text}"
    tokens = count_tokens(text)
    if turn.max_tokens is not None and tokens > turn.max_tokens:
        return Reply(text[: max(turn.max_tokens, 1) * 4], None, "length", turn.max_tokens)
    return Reply(text, None, "stop", tokens)


def split_text(text: str, pieces: int = 3) -> list[str]:
    """Azure streams in buffered content chunks rather than token by token (§6.2)."""
    if not text:
        return []
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]
