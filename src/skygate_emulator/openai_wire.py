"""OpenAI-format bodies as Azure returns them: chat completions (with Azure's content-filter annotations and
streaming quirks, reference §6), the Responses API, and embeddings."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

from skygate_emulator.generate import Reply, Turn, count_tokens, forced_tool, split_text

__all__ = [
    "chat_body",
    "chat_stream",
    "chat_turn",
    "embeddings_body",
    "responses_body",
    "responses_stream",
    "responses_turn",
    "sse",
]

_SAFE = {name: {"filtered": False, "severity": "safe"} for name in ("hate", "self_harm", "sexual", "violence")}
_PROMPT_FILTER = [
    {"prompt_index": 0, "content_filter_results": {**_SAFE, "jailbreak": {"filtered": False, "detected": False}}}
]


def sse(data: dict[str, Any] | str, event: str | None = None) -> bytes:
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return (f"event: {event}\n" if event else "").encode() + f"data: {payload}\n\n".encode()


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p["text"]) for p in content if isinstance(p, dict) and "text" in p)
    return ""


def _images(content: Any, kind: str) -> int:
    return sum(1 for p in content if isinstance(p, dict) and p.get("type") == kind) if isinstance(content, list) else 0


def _trailing(items: list[dict[str, Any]], is_result: Any, value: Any) -> list[str]:
    """The results at the end of a conversation (parallel calls give several), oldest first."""
    results: list[str] = []
    for item in reversed(items):
        if not is_result(item):
            break
        results.insert(0, value(item))
    return results


def chat_turn(body: dict[str, Any]) -> Turn:
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    users = [m for m in messages if m.get("role") == "user"]
    tools = [t["function"]["name"] for t in body.get("tools") or [] if isinstance(t, dict) and "function" in t]
    return Turn(
        text=_text(users[-1].get("content")) if users else "",
        prompt_text=" ".join(_text(m.get("content")) for m in messages),
        tools=tools,
        tool_results=_trailing(messages, lambda m: m.get("role") == "tool", lambda m: _text(m.get("content"))),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        images=_images(users[-1].get("content"), "image_url") if users else 0,
        forced=forced_tool(body.get("tool_choice"), tools),
    )


def _usage(turn: Turn, reply: Reply) -> dict[str, Any]:
    return {
        "prompt_tokens": turn.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": turn.prompt_tokens + reply.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in reply.tool_calls
    ]


def chat_body(turn: Turn, reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None, "annotations": []}
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls(reply)
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:29],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_emulator",
        "prompt_filter_results": _PROMPT_FILTER,
        "choices": [
            {
                "index": 0,
                "finish_reason": reply.finish,
                "logprobs": None,
                "message": message,
                "content_filter_results": _SAFE if reply.text else {},
            }
        ],
        "usage": _usage(turn, reply),
    }


def chat_stream(turn: Turn, reply: Reply, model: str, include_usage: bool) -> Iterator[bytes]:
    """§6.2: an annotation-only first chunk with empty `choices`, a role chunk with empty filter results,
    content chunks with filter results, the finish chunk, the usage chunk when asked, then [DONE]."""
    yield sse(
        {"choices": [], "created": 0, "id": "", "model": "", "object": "", "prompt_filter_results": _PROMPT_FILTER}
    )
    base = {
        "id": "chatcmpl-" + uuid.uuid4().hex[:29],
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_emulator",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, filters: dict[str, Any] | None = None) -> bytes:
        choice = {
            "index": 0,
            "delta": delta,
            "finish_reason": finish,
            "logprobs": None,
            "content_filter_results": {} if filters is None else filters,
        }
        return sse({**base, "choices": [choice], **({"usage": None} if include_usage else {})})

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    for index, call in enumerate(_tool_calls(reply)):
        name = call["function"]["name"]
        opening = {"index": index, "id": call["id"], "type": "function", "function": {"name": name, "arguments": ""}}
        yield chunk({"tool_calls": [opening]})
        for piece in split_text(call["function"]["arguments"], 2):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    for piece in split_text(reply.text):
        yield chunk({"content": piece}, filters=_SAFE)
    yield chunk({}, finish=reply.finish)
    if include_usage:
        yield sse({**base, "choices": [], "usage": _usage(turn, reply)})
    yield sse("[DONE]")


def responses_turn(body: dict[str, Any]) -> Turn:
    raw = body.get("input", "")
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else [i for i in raw if isinstance(i, dict)]
    users = [i for i in items if i.get("role") == "user"]
    tools = [str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict) and t.get("type") == "function"]
    prompt = " ".join(
        [str(body.get("instructions") or "")] + [_text(i.get("content")) or str(i.get("output", "")) for i in items]
    )
    return Turn(
        text=_text(users[-1].get("content")) if users else "",
        prompt_text=prompt.strip(),
        tools=tools,
        tool_results=_trailing(
            items, lambda i: i.get("type") == "function_call_output", lambda i: str(i.get("output"))
        ),
        max_tokens=body.get("max_output_tokens"),
        images=_images(users[-1].get("content"), "input_image") if users else 0,
        forced=forced_tool(body.get("tool_choice"), tools),
    )


def _response_items(reply: Reply) -> list[dict[str, Any]]:
    if reply.tool_calls:
        return [
            {
                "type": "function_call",
                "id": "fc_" + uuid.uuid4().hex[:24],
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
                "status": "completed",
            }
            for call in reply.tool_calls
        ]
    return [
        {
            "type": "message",
            "id": "msg_" + uuid.uuid4().hex[:24],
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": reply.text, "annotations": [], "logprobs": []}],
        }
    ]


def responses_body(
    body: dict[str, Any],
    turn: Turn,
    reply: Reply,
    model: str,
    response_id: str | None = None,
    output: list[dict[str, Any]] | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    finished = status or ("incomplete" if reply.finish == "length" else "completed")
    return {
        "id": response_id or "resp_" + uuid.uuid4().hex,
        "object": "response",
        "created_at": int(time.time()),
        "status": finished,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if finished == "incomplete" else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model,
        "output": _response_items(reply) if output is None else output,
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": None
        if status == "in_progress"
        else {
            "input_tokens": turn.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": reply.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": turn.prompt_tokens + reply.completion_tokens,
        },
        "user": None,
        "metadata": body.get("metadata") or {},
    }


def responses_stream(body: dict[str, Any], turn: Turn, reply: Reply, model: str) -> Iterator[bytes]:
    """The Responses API's typed SSE events, each with a `sequence_number`."""
    response_id = "resp_" + uuid.uuid4().hex
    final = responses_body(body, turn, reply, model, response_id)
    sequence = iter(range(1_000_000))

    def event(kind: str, **fields: Any) -> bytes:
        return sse({"type": kind, "sequence_number": next(sequence), **fields}, event=kind)

    opening = responses_body(body, turn, reply, model, response_id, output=[], status="in_progress")
    yield event("response.created", response=opening)
    yield event("response.in_progress", response=opening)
    for index, item in enumerate(final["output"]):
        yield from _item_events(event, index, item, reply.text)
    kind = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield event(kind, response=final)


def _item_events(event: Any, index: int, item: dict[str, Any], text: str) -> Iterator[bytes]:
    if item["type"] == "function_call":
        yield event(
            "response.output_item.added", output_index=index, item={**item, "arguments": "", "status": "in_progress"}
        )
        for piece in split_text(item["arguments"], 2):
            yield event("response.function_call_arguments.delta", item_id=item["id"], output_index=index, delta=piece)
        yield event(
            "response.function_call_arguments.done",
            item_id=item["id"],
            output_index=index,
            arguments=item["arguments"],
            name=item["name"],
        )
    else:
        yield event(
            "response.output_item.added", output_index=index, item={**item, "status": "in_progress", "content": []}
        )
        part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        where = {"item_id": item["id"], "output_index": index, "content_index": 0}
        yield event("response.content_part.added", **where, part=part)
        for piece in split_text(text):
            yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
        yield event("response.output_text.done", **where, text=text, logprobs=[])
        yield event("response.content_part.done", **where, part={**part, "text": text})
    yield event("response.output_item.done", output_index=index, item=item)


def _vector(text: str, dimensions: int) -> list[float]:
    rng = random.Random(hashlib.sha256(text.encode()).digest())  # noqa: S311 - deterministic test vectors
    raw = [rng.gauss(0, 1) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def embeddings_body(body: dict[str, Any], model: str) -> dict[str, Any]:
    raw = body.get("input", "")
    inputs = [raw] if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int)) else raw
    dimensions = int(body.get("dimensions") or (3072 if "large" in model else 1536))
    data = []
    for index, item in enumerate(inputs):
        text = item if isinstance(item, str) else json.dumps(item)
        vector = _vector(text, dimensions)
        encoded: Any = vector
        if body.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(count_tokens(i if isinstance(i, str) else json.dumps(i)) for i in inputs)
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
