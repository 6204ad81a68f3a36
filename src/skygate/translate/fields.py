"""Top-level field policy shared by the request translators: every field is either translated, dropped because
it cannot change the answer, accepted only at its neutral value, or refused by name."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from skygate.translate.errors import Untranslatable

__all__ = ["chat_max_tokens", "check_fields", "copy_present", "json_object", "obj", "objects"]


def check_fields(
    body: dict[str, Any],
    translated: Iterable[str],
    dropped: Iterable[str],
    neutral: dict[str, tuple[Any, ...]],
    target: str,
) -> None:
    """Refuse any field the translation would otherwise lose. `neutral` fields pass only at a value that
    changes nothing (e.g. `n: 1`, `presence_penalty: 0`)."""
    known = set(translated) | set(dropped)
    for name, value in body.items():
        if name in known or value is None:
            continue
        if name in neutral:
            if value in neutral[name] or value == {}:
                continue
            raise Untranslatable(name, f"{value!r} cannot be expressed for a model served through {target}")
        raise Untranslatable(name, f"not supported for a model served through {target}")


def json_object(raw: Any, field: str) -> dict[str, Any]:
    """Tool-call arguments as an object: OpenAI sends a JSON string, Anthropic wants the object."""
    if isinstance(raw, dict):
        return raw
    if raw in (None, ""):
        return {}
    try:
        value = json.loads(raw)
    except (TypeError, ValueError, RecursionError) as exc:
        raise Untranslatable(field, "must be a JSON object (as a string)") from exc
    if not isinstance(value, dict):
        raise Untranslatable(field, "must be a JSON object")
    return value


def obj(value: Any, field: str) -> dict[str, Any]:
    """A nested value the caller sent that must be an object (None reads as empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Untranslatable(field, "must be an object")
    return value


def objects(value: Any, field: str) -> list[dict[str, Any]]:
    """A nested value that must be an array of objects (None reads as empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise Untranslatable(field, "must be an array of objects")
    return value


def copy_present(body: dict[str, Any], out: dict[str, Any], names: Iterable[str]) -> None:
    """Fields that mean the same in both formats, copied when the caller set them."""
    for name in names:
        if body.get(name) is not None:
            out[name] = body[name]


def chat_max_tokens(body: dict[str, Any]) -> int | None:
    """A chat request's output limit: `max_completion_tokens` or the older `max_tokens`, the larger if both."""
    limits = [v for v in (body.get("max_tokens"), body.get("max_completion_tokens")) if isinstance(v, int)]
    return max(limits) if limits else None
