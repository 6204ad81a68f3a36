"""Every caller format reaches every model format through the gateway and the emulator, with the official SDKs'
own helpers: parallel tool calls in the stream, tool results handed back, usage, and the upstream request in
the model's own format."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

from tests.gateway.callers import SYSTEM, Caller, ChatCaller, MessagesCaller, ResponsesCaller
from tests.gateway.conftest import DataPlane

# One model per upstream API: gpt-35-turbo serves only chat completions, gpt-5-codex only Responses (both
# from the built-in registry), claude-sonnet-4-5 is a custom `messages` deployment.
MODELS = {"chat_completions": "gpt-35-turbo", "responses": "gpt-5-codex", "messages": "claude-sonnet-4-5"}
PATHS = {
    "chat_completions": "/openai/v1/chat/completions",
    "responses": "/openai/v1/responses",
    "messages": "/anthropic/v1/messages",
}
CALLERS = ("chat", "responses", "messages")


def caller_for(name: str, dp: DataPlane) -> Caller:
    if name == "messages":
        return MessagesCaller(anthropic.Anthropic(base_url=dp.gateway.base_url, api_key=dp.invoke_key, max_retries=0))
    client = openai.OpenAI(base_url=f"{dp.gateway.base_url}/v1", api_key=dp.invoke_key, max_retries=0)
    return ChatCaller(client) if name == "chat" else ResponsesCaller(client)


def result_ids(api: str, body: dict[str, Any]) -> list[str]:
    """The tool-call ids the model got its results under, read from the upstream request."""
    if api == "chat_completions":
        return [m["tool_call_id"] for m in body["messages"] if m["role"] == "tool"]
    if api == "responses":
        return [i["call_id"] for i in body["input"] if i.get("type") == "function_call_output"]
    return [b["tool_use_id"] for m in body["messages"] if isinstance(m["content"], list)
            for b in m["content"] if b["type"] == "tool_result"]  # fmt: skip


def system_of(api: str, body: dict[str, Any]) -> str:
    if api == "messages":
        return str(body["system"])
    if api == "responses" and body.get("instructions"):
        return str(body["instructions"])
    key = "messages" if api == "chat_completions" else "input"
    [system] = [m["content"] for m in body[key] if m.get("role") == "system"]
    return str(system)


def tool_names(api: str, body: dict[str, Any]) -> list[str]:
    if api == "chat_completions":
        return [t["function"]["name"] for t in body["tools"]]
    return [t["name"] for t in body["tools"]]


@pytest.mark.parametrize("stream", [True, False], ids=["stream", "whole"])
@pytest.mark.parametrize("upstream", list(MODELS))
@pytest.mark.parametrize("caller_name", CALLERS)
def test_parallel_tool_calls_cross_every_pair(dp: DataPlane, caller_name: str, upstream: str, stream: bool) -> None:
    caller, model = caller_for(caller_name, dp), MODELS[upstream]

    first = caller.first(model, stream)
    assert [name for _, name, _ in first.calls] == ["get_weather", "get_time"]
    assert [arguments for *_, arguments in first.calls] == [{"city": "Paris"}] * 2
    assert first.finish == "tool"
    assert first.input_tokens > 0
    assert first.output_tokens > 0
    sent = dp.recorded()[-1]
    assert sent.path == PATHS[upstream]
    assert tool_names(upstream, sent.body) == ["get_weather", "get_time"]
    assert system_of(upstream, sent.body) == SYSTEM

    second = caller.second(model, stream, first)
    assert second.text == "The tool returned: sunny; 12:00"
    assert second.finish == "stop"
    # The results reached the model in its own format, under the ids it gave its calls.
    assert result_ids(upstream, dp.recorded()[-1].body) == [call_id for call_id, *_ in first.calls]
    if stream:
        ending = {"chat": "usage", "responses": "response.completed", "messages": "message_stop"}[caller_name]
        assert second.events[-1] == ending
        assert len(second.events) > 4, "the answer arrived in pieces, not as one buffered event"


@pytest.mark.parametrize("upstream", list(MODELS))
@pytest.mark.parametrize("caller_name", CALLERS)
def test_plain_text_streams_across_every_pair(dp: DataPlane, caller_name: str, upstream: str) -> None:
    outcome = caller_for(caller_name, dp).first(MODELS[upstream], True, prompt="hello there")
    assert outcome.text == f"Hello from the Azure emulator ({MODELS[upstream]}). You said: hello there"
    assert outcome.calls == []
    assert outcome.finish == "stop"
