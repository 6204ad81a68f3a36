"""Shared pieces of the three formats: text, images, usage and finish reasons."""

from __future__ import annotations

import json
import re
from typing import Any

from skygate.translate.errors import Untranslatable

__all__ = [
    "anthropic_image",
    "anthropic_usage_to_chat",
    "chat_tool_call",
    "chat_usage_to_anthropic",
    "chat_usage_to_responses",
    "image_url_of",
    "responses_usage_to_chat",
    "text_of",
]

_DATA_URL = re.compile(r"^data:(?P<media>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


def text_of(content: Any, field: str) -> str:
    """A message's text: a string, or text parts (`text`, `input_text`, `output_text`, `refusal`) joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise Untranslatable(field, "must be a string or an array of content parts")
    texts = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("text", "input_text", "output_text"):
            texts.append(str(part.get("text", "")))
        elif kind == "refusal":
            texts.append(str(part.get("refusal", "")))
        else:
            raise Untranslatable(f"{field}[{index}]", f"a {kind!r} part cannot be carried here; only text")
    return "".join(texts)


def chat_tool_call(block: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic `tool_use` block as a chat tool call (arguments as compact JSON text)."""
    arguments = json.dumps(block.get("input") or {}, separators=(",", ":"))
    return {"id": block.get("id"), "type": "function", "function": {"name": block.get("name"), "arguments": arguments}}


def anthropic_image(url: str) -> dict[str, Any]:
    """An OpenAI image URL (https or a base64 data URL) as an Anthropic image block."""
    match = _DATA_URL.match(url)
    if match:
        source = {"type": "base64", "media_type": match["media"], "data": match["data"]}
        return {"type": "image", "source": source}
    return {"type": "image", "source": {"type": "url", "url": url}}


def image_url_of(block: dict[str, Any], field: str) -> str:
    """An Anthropic image block's source as an OpenAI image URL."""
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "base64":
        return f"data:{source.get('media_type')};base64,{source.get('data')}"
    if isinstance(source, dict) and source.get("type") == "url":
        return str(source.get("url"))
    raise Untranslatable(f"{field}.source", "only base64 and url image sources can be carried to an OpenAI model")


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def anthropic_usage_to_chat(usage: dict[str, Any]) -> dict[str, Any]:
    """Anthropic counts cached input apart; OpenAI's prompt_tokens includes it (cached_tokens says how much)."""
    read, written = _int(usage.get("cache_read_input_tokens")), _int(usage.get("cache_creation_input_tokens"))
    prompt = _int(usage.get("input_tokens")) + read + written
    completion = _int(usage.get("output_tokens"))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": read, "cache_creation_tokens": written},
    }


def chat_usage_to_anthropic(usage: dict[str, Any] | None) -> dict[str, Any]:
    usage = usage or {}
    details = usage.get("prompt_tokens_details") or {}
    read, written = _int(details.get("cached_tokens")), _int(details.get("cache_creation_tokens"))
    return {
        "input_tokens": max(_int(usage.get("prompt_tokens")) - read - written, 0),
        "output_tokens": _int(usage.get("completion_tokens")),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
    }


def responses_usage_to_chat(usage: dict[str, Any] | None) -> dict[str, Any]:
    usage = usage or {}
    prompt, completion = _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))
    cached = _int((usage.get("input_tokens_details") or {}).get("cached_tokens"))
    reasoning = _int((usage.get("output_tokens_details") or {}).get("reasoning_tokens"))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def chat_usage_to_responses(usage: dict[str, Any] | None) -> dict[str, Any]:
    usage = usage or {}
    prompt, completion = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
    cached = _int((usage.get("prompt_tokens_details") or {}).get("cached_tokens"))
    reasoning = _int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens"))
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + completion,
    }
