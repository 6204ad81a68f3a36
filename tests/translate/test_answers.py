"""Whole answers between formats: usage with cached tokens, stop reasons, tool calls and reasoning."""

from __future__ import annotations

from typing import Any

import pytest

from skygate.translate.errors import Untranslatable
from skygate.translate.plan import plan_for

CLAUDE_ANSWER: dict[str, Any] = {
    "id": "msg_01X",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 10,
        "output_tokens": 20,
        "cache_creation_input_tokens": 5,
        "cache_read_input_tokens": 100,
    },
}


def test_claude_usage_counts_cached_input_in_prompt_tokens() -> None:
    chat = plan_for("chat_completions", "messages", "alias").answer(CLAUDE_ANSWER)
    assert chat["usage"]["prompt_tokens"] == 115
    assert chat["usage"]["prompt_tokens_details"] == {"cached_tokens": 100, "cache_creation_tokens": 5}
    assert chat["usage"]["total_tokens"] == 135
    assert chat["model"] == "alias"
    assert chat["id"] == "chatcmpl-01X"
    choice = chat["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Checking."
    assert choice["message"]["reasoning_content"] == "hmm"
    assert choice["message"]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}


def test_claude_answer_to_responses_keeps_order_usage_and_call_ids() -> None:
    response = plan_for("responses", "messages", "alias").answer(CLAUDE_ANSWER)
    assert [item["type"] for item in response["output"]] == ["reasoning", "message", "function_call"]
    assert response["output"][2]["call_id"] == "toolu_1"
    assert response["usage"]["input_tokens"] == 115
    assert response["usage"]["input_tokens_details"] == {"cached_tokens": 100}
    assert response["status"] == "completed"


def test_cached_tokens_survive_the_trip_to_anthropic() -> None:
    chat_answer = {
        "id": "chatcmpl-1",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 768}},
    }
    message = plan_for("messages", "chat_completions", "alias").answer(chat_answer)
    assert message["usage"] == {
        "input_tokens": 232,
        "output_tokens": 7,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 768,
    }
    assert message["stop_reason"] == "max_tokens"
    assert message["content"] == [{"type": "text", "text": "hi"}]


@pytest.mark.parametrize(
    ("finish", "stop_reason"),
    [("stop", "end_turn"), ("length", "max_tokens"), ("tool_calls", "tool_use"), ("content_filter", "refusal")],
)
def test_finish_reasons_map_to_stop_reasons(finish: str, stop_reason: str) -> None:
    answer = {"id": "c", "choices": [{"message": {"content": "x"}, "finish_reason": finish}], "usage": {}}
    assert plan_for("messages", "chat_completions", "m").answer(answer)["stop_reason"] == stop_reason


def test_incomplete_responses_become_length_and_content_filter() -> None:
    for reason, finish in (("max_output_tokens", "length"), ("content_filter", "content_filter")):
        answer = {"id": "resp_1", "status": "incomplete", "incomplete_details": {"reason": reason}, "output": []}
        assert plan_for("chat_completions", "responses", "m").answer(answer)["choices"][0]["finish_reason"] == finish


def test_json_mode_tool_becomes_the_text_of_a_chat_answer() -> None:
    plan = plan_for("chat_completions", "messages", "m")
    plan.request({"model": "m", "messages": [{"role": "user", "content": "x"}],
                  "response_format": {"type": "json_object"}})  # fmt: skip
    answer = {**CLAUDE_ANSWER, "content": [{"type": "tool_use", "id": "t", "name": "json_response", "input": {"a": 1}}]}
    choice = plan.answer(answer)["choices"][0]
    assert (choice["message"]["content"], choice["finish_reason"]) == ('{"a":1}', "stop")
    assert "tool_calls" not in choice["message"]


def test_a_chained_refusal_names_the_callers_own_field() -> None:
    with pytest.raises(Untranslatable) as refused:
        plan_for("messages", "responses", "m").request(
            {"model": "m", "max_tokens": 5, "stop_sequences": ["x"], "messages": [{"role": "user", "content": "x"}]}
        )
    assert refused.value.field == "stop_sequences"
