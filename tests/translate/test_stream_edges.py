"""Stream and answer edge cases found in review: tool calls without arguments, arguments sent only at the end,
streams cut short, text after a tool call, and combinations Claude refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skygate.translate.errors import UnreadableAnswer, Untranslatable
from skygate.translate.plan import plan_for


def events(out: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in out.decode().splitlines() if line.startswith("data: {")]


def feed_all(chain: Any, upstream: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for item in upstream for e in events(chain.feed(json.dumps(item)))]


def test_a_claude_tool_call_without_arguments_reaches_chat_as_an_empty_object() -> None:
    chain = plan_for("chat_completions", "messages", "m").stream()
    out = feed_all(chain, [
        {"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 1}}},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "t", "name": "now", "input": {}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ""}},
        {"type": "content_block_stop", "index": 0},
    ])  # fmt: skip
    pieces = [
        c["function"].get("arguments", "")
        for e in out
        for ch in e["choices"]
        for c in ch["delta"].get("tool_calls", [])
    ]
    assert "".join(pieces) == "{}"


def test_responses_arguments_sent_only_when_done_still_arrive() -> None:
    chain = plan_for("chat_completions", "responses", "m").stream()
    item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "f", "arguments": ""}
    out = feed_all(chain, [
        {"type": "response.created", "response": {"id": "resp_1"}},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.function_call_arguments.done", "item_id": "fc_1", "arguments": '{"a":1}'},
        {"type": "response.output_item.done", "output_index": 0, "item": {**item, "arguments": '{"a":1}'}},
    ])  # fmt: skip
    pieces = [
        c["function"].get("arguments", "")
        for e in out
        for ch in e["choices"]
        for c in ch["delta"].get("tool_calls", [])
    ]
    assert "".join(pieces) == '{"a":1}'  # once, not twice


@pytest.mark.parametrize("caller", ["messages", "responses", "chat_completions"])
def test_a_stream_cut_short_ends_with_an_error_in_the_callers_format(caller: str) -> None:
    chain = plan_for(caller, "messages" if caller != "messages" else "chat_completions", "m").stream()  # type: ignore[arg-type]
    if caller == "messages":
        chain.feed(json.dumps({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}))
    else:
        chain.feed(json.dumps({"type": "message_start", "message": {"id": "msg_1", "usage": {}}}))
    closing = events(chain.close("connection reset"))
    assert "ended early" in json.dumps(closing)
    assert chain.close("again") == b""


def test_a_finished_stream_needs_no_closing_error() -> None:
    chain = plan_for("messages", "chat_completions", "m").stream()
    chain.feed(
        json.dumps({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"}]})
    )
    chain.feed("[DONE]")
    assert chain.close("eof") == b""


def test_text_after_a_tool_call_opens_a_new_block() -> None:
    chain = plan_for("messages", "chat_completions", "m").stream()
    out = feed_all(chain, [
        {"id": "c1", "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 0, "id": "t", "function": {"name": "f", "arguments": "{}"}}]}}]},
        {"id": "c1", "choices": [{"index": 0, "delta": {"content": " after"}}]},
    ])  # fmt: skip
    stopped: set[int] = set()
    for event in out:
        if event["type"] == "content_block_stop":
            stopped.add(event["index"])
        if event["type"] == "content_block_delta":
            assert event["index"] not in stopped, "a delta went to a block that was already closed"
    starts = [e["content_block"]["type"] for e in out if e["type"] == "content_block_start"]
    assert starts == ["text", "tool_use", "text"]


def test_claude_refusals_are_caught_before_sending() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "reasoning_effort": "high",
            "response_format": {"type": "json_object"}}  # fmt: skip
    with pytest.raises(Untranslatable) as refused:
        plan_for("chat_completions", "messages", "m").request(body)
    assert refused.value.field == "reasoning_effort"


def test_a_truncated_json_mode_answer_keeps_length() -> None:
    plan = plan_for("chat_completions", "messages", "m")
    plan.request(
        {"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}}
    )
    answer = {"id": "msg_1", "content": [{"type": "tool_use", "id": "t", "name": "json_response", "input": {}}],
              "stop_reason": "max_tokens", "usage": {}}  # fmt: skip
    assert plan.answer(answer)["choices"][0]["finish_reason"] == "length"


def test_an_answer_that_is_not_an_object_is_unreadable() -> None:
    with pytest.raises(UnreadableAnswer):
        plan_for("messages", "chat_completions", "m").answer(["not", "an", "object"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"instructions": ["a"]}, "instructions"), ({"include": ["message.output_text.logprobs"]}, "include")],
)
def test_responses_fields_that_would_change_meaning_are_refused(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(Untranslatable) as refused:
        plan_for("responses", "chat_completions", "m").request({"model": "m", "input": "x", **extra})
    assert refused.value.field == field
