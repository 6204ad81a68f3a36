"""Request checks before an answer is made up: wrong shapes get the 400 a real service gives, never a 500.
Azure's exact texts for these are not in the reference; the shape is OpenAI's (or Anthropic's on /anthropic)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["problem_in"]

# Embedding widths (text-embedding-3-large is 3072, the others 1536); `dimensions` may only shrink them.
_MAX_DIMENSIONS = {"large": 3072}


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _tools(tools: Any, *, nested: bool) -> str | None:
    if tools is None:
        return None
    if not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools):
        return "tools: must be an array of objects"
    for tool in tools:
        holder = tool.get("function") if nested else tool
        if nested and tool.get("type", "function") != "function":
            continue
        if not isinstance(holder, dict) or not isinstance(holder.get("name"), str) or not holder["name"]:
            return "tools: each tool needs a string name" + (" under `function`" if nested else "")
    return None


def _messages(body: dict[str, Any]) -> str | None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        return "messages: must be a non-empty array of message objects"
    return None


def _chat(body: dict[str, Any]) -> str | None:
    for field in ("max_tokens", "max_completion_tokens"):
        if field in body and body[field] is not None and not _positive_int(body[field]):
            return f"{field}: must be an integer of at least 1"
    if "stream_options" in body and body["stream_options"] is not None and not isinstance(body["stream_options"], dict):
        return "stream_options: must be an object"
    return _messages(body) or _tools(body.get("tools"), nested=True)


def _responses(body: dict[str, Any]) -> str | None:
    raw = body.get("input")
    if not (isinstance(raw, str) or (isinstance(raw, list) and all(isinstance(i, dict) for i in raw))):
        return "input: must be a string or an array of input items"
    limit = body.get("max_output_tokens")
    if limit is not None and not _positive_int(limit):
        return "max_output_tokens: must be an integer of at least 1"
    tools = [t for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    return _tools(tools if isinstance(body.get("tools"), list) else body.get("tools"), nested=False)


def _embeddings(body: dict[str, Any], model: str) -> str | None:
    raw = body.get("input")
    valid = (
        isinstance(raw, str)
        or (isinstance(raw, list) and raw and all(isinstance(i, str | int) and not isinstance(i, bool) for i in raw))
        or (isinstance(raw, list) and raw and all(isinstance(i, list) for i in raw))
    )
    if not valid:
        return "input: must be a string or a non-empty array of strings or token arrays"
    widest = next((width for name, width in _MAX_DIMENSIONS.items() if name in model), 1536)
    dimensions = body.get("dimensions")
    if dimensions is not None and not (_positive_int(dimensions) and dimensions <= widest):
        return f"dimensions: must be an integer from 1 to {widest}"
    return None


def _messages_api(body: dict[str, Any]) -> str | None:
    if not _positive_int(body.get("max_tokens")):
        return "max_tokens: must be an integer of at least 1"
    return _messages(body) or _tools(body.get("tools"), nested=False)


def problem_in(operation: str, body: dict[str, Any], model: str) -> str | None:
    """The first thing wrong with `body` for `operation`, or None."""
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "the body holds text that is not valid Unicode (a lone surrogate)"
    checks = {
        "chat/completions": lambda: _chat(body),
        "responses": lambda: _responses(body),
        "embeddings": lambda: _embeddings(body, model),
        "messages": lambda: _messages_api(body),
    }
    return checks[operation]()
