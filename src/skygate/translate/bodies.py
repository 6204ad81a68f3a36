"""Whole (non-streamed) answers between the three formats, through the chat completion shape."""

from __future__ import annotations

import json
import uuid
from typing import Any

from skygate.translate.content import (
    anthropic_usage_to_chat,
    chat_tool_call,
    chat_usage_to_anthropic,
    chat_usage_to_responses,
    responses_usage_to_chat,
)
from skygate.translate.context import TranslationContext

__all__ = [
    "ANTHROPIC_STOP",
    "CHAT_FINISH",
    "anthropic_to_chat_body",
    "chat_to_anthropic_body",
    "chat_to_responses_body",
    "responses_finish",
    "responses_to_chat_body",
    "suffix",
]

# Anthropic stop_reason → chat finish_reason, and back (braintrust-gateway.md §5).
CHAT_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "model_context_window_exceeded": "length",
}
ANTHROPIC_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}


def suffix(upstream_id: Any) -> str:
    """The unique part of an upstream id, so a translated id still identifies the upstream answer."""
    text = str(upstream_id or "")
    for prefix in ("chatcmpl-", "msg_", "resp_"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text or uuid.uuid4().hex


def _chat(
    ctx: TranslationContext, upstream_id: Any, message: dict[str, Any], finish: str, usage: Any
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-" + suffix(upstream_id),
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": usage,
    }


def anthropic_to_chat_body(body: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    finish = CHAT_FINISH.get(str(body.get("stop_reason")), "stop")
    for block in body.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "thinking":
            reasoning.append(str(block.get("thinking", "")))
        elif kind == "tool_use" and block.get("name") == ctx.json_tool:
            texts.append(json.dumps(block.get("input"), separators=(",", ":")))  # JSON mode's answer
            if body.get("stop_reason") == "tool_use":
                finish = "stop"  # a truncated answer keeps its "length"
        elif kind == "tool_use":
            calls.append(chat_tool_call(block))
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None, "refusal": None}
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = calls
    return _chat(ctx, body.get("id"), message, finish, anthropic_usage_to_chat(body.get("usage") or {}))


def chat_to_anthropic_body(body: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    if message.get("reasoning_content"):
        content.append({"type": "thinking", "thinking": message["reasoning_content"], "signature": ""})
    text = message.get("content") or message.get("refusal")
    if text:
        content.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        try:
            arguments = json.loads(function.get("arguments") or "{}")
        except ValueError:
            arguments = {"_raw": function.get("arguments")}  # keep what the model produced, visibly
        content.append({"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": arguments})
    return {
        "id": "msg_" + suffix(body.get("id")),
        "type": "message",
        "role": "assistant",
        "model": ctx.model,
        "content": content,
        "stop_reason": ANTHROPIC_STOP.get(str(choice.get("finish_reason")), "end_turn"),
        "stop_sequence": None,
        "usage": chat_usage_to_anthropic(body.get("usage")),
    }


def responses_finish(body: dict[str, Any]) -> str:
    """A Responses status (and its output) as a chat finish_reason."""
    reason = (body.get("incomplete_details") or {}).get("reason")
    if body.get("status") == "incomplete":
        return "content_filter" if reason == "content_filter" else "length"
    if any(item.get("type") == "function_call" for item in body.get("output") or []):
        return "tool_calls"
    return "stop"


def responses_to_chat_body(body: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    texts: list[str] = []
    refusals: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in body.get("output") or []:
        kind = item.get("type")
        if kind == "message":
            for part in item.get("content") or []:
                if part.get("type") == "output_text":
                    texts.append(str(part.get("text", "")))
                elif part.get("type") == "refusal":
                    refusals.append(str(part.get("refusal", "")))
        elif kind == "function_call":
            calls.append(
                {
                    "id": item.get("call_id"),
                    "type": "function",
                    "function": {"name": item.get("name"), "arguments": item.get("arguments") or ""},
                }
            )
        elif kind == "reasoning":
            reasoning.extend(str(s.get("text", "")) for s in item.get("summary") or [])
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) or None,
        "refusal": "".join(refusals) or None,
    }
    if reasoning:
        message["reasoning_content"] = "\n\n".join(reasoning)
    if calls:
        message["tool_calls"] = calls
    return _chat(ctx, body.get("id"), message, responses_finish(body), responses_usage_to_chat(body.get("usage")))


def response_object(
    ctx: TranslationContext,
    response_id: str,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    reason: str | None = None,
) -> dict[str, Any]:
    """A Responses `response` object (the SDK's model needs every one of these keys)."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "error": None,
        "incomplete_details": {"reason": reason} if reason else None,
        "instructions": None,
        "max_output_tokens": None,
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": [part]}


def reasoning_item(item_id: str, text: str) -> dict[str, Any]:
    return {"type": "reasoning", "id": item_id, "summary": [{"type": "summary_text", "text": text}]}


def function_item(item_id: str, call_id: Any, name: Any, arguments: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def responses_status(finish: str | None) -> tuple[str, str | None]:
    if finish == "length":
        return "incomplete", "max_output_tokens"
    if finish == "content_filter":
        return "incomplete", "content_filter"
    return "completed", None


def chat_to_responses_body(body: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    key = suffix(body.get("id"))
    output: list[dict[str, Any]] = []
    if message.get("reasoning_content"):
        output.append(reasoning_item(f"rs_{key}", message["reasoning_content"]))
    text = message.get("content") or message.get("refusal")
    if text:
        output.append(message_item(f"msg_{key}", text))
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") or {}
        output.append(
            function_item(f"fc_{key}_{index}", call.get("id"), function.get("name"), function.get("arguments") or "")
        )
    status, reason = responses_status(choice.get("finish_reason"))
    return response_object(ctx, f"resp_{key}", status, output, chat_usage_to_responses(body.get("usage")), reason)
