"""Deterministic, realistic model behaviour, independent of wire format.

The reply echoes the last user text, and says how many images that message held. Tool calls follow a
documented trigger: when the request offers tools and the last user message contains `call <tool name>`, the
model calls that tool, with the first JSON object in the message (or `{}`) as arguments; naming several tools
calls them all, in parallel, in the order named; a forced tool choice (`required`/`any` or a named tool) calls
the named or first tool whatever the text says. After tool results the model reports what the tools returned.
When asked to think (Anthropic `thinking`), the answer starts with a thinking block. `EMULATOR_CONTENT_FILTER`
in a prompt gives the content-filter 400.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

__all__ = ["CONTENT_FILTER_TRIGGER", "Reply", "ToolCall", "Turn", "count_tokens", "forced_tool", "reply_to"]

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
    tool_results: list[str] = field(default_factory=list)
    max_tokens: int | None = None
    images: int = 0
    thinking: bool = False
    forced: str | None = None  # the tool a tool_choice forces

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
    tool_calls: list[ToolCall]
    finish: str  # stop | length | tool_calls
    completion_tokens: int
    thinking: str | None = None


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


def forced_tool(choice: object, tools: list[str]) -> str | None:
    """The tool a tool_choice forces, in any of the three formats."""
    if choice in ("required", "any") or (isinstance(choice, dict) and choice.get("type") == "any"):
        return tools[0] if tools else None
    if isinstance(choice, dict) and choice.get("type") in ("function", "tool"):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else choice.get("name")
        return str(name) if name else None
    return None


def _tool_calls(turn: Turn) -> list[ToolCall]:
    if turn.forced:
        return [ToolCall(turn.forced, json.dumps(_first_json_object(turn.text) or {}))]
    lowered = turn.text.lower()
    named = [(lowered.find(f"call {name.lower()}"), name) for name in turn.tools]
    arguments = json.dumps(_first_json_object(turn.text) or {})
    return [ToolCall(name, arguments) for at, name in sorted(named) if at >= 0]


def reply_to(turn: Turn, model: str) -> Reply:
    thinking = f"Considering: {turn.text}" if turn.thinking else None
    if not turn.tool_results and turn.tools:
        calls = _tool_calls(turn)
        if calls:
            tokens = sum(count_tokens(c.name + c.arguments) + 5 for c in calls)
            return Reply("", calls, "tool_calls", tokens, thinking)
    if turn.tool_results:
        text = "The tool returned: " + "; ".join(turn.tool_results)
    else:
        text = f"Hello from the Azure emulator ({model}). You said: {turn.text}"
        if turn.images:
            text += f" [{turn.images} image{'s' if turn.images > 1 else ''}]"
    tokens = count_tokens(text)
    if turn.max_tokens is not None and tokens > turn.max_tokens:
        return Reply(text[: max(turn.max_tokens, 1) * 4], [], "length", turn.max_tokens, thinking)
    return Reply(text, [], "stop", tokens, thinking)


def split_text(text: str, pieces: int = 3) -> list[str]:
    """Azure streams in buffered content chunks rather than token by token (§6.2)."""
    if not text:
        return []
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]
