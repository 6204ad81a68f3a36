"""Features that cross formats: images, JSON mode, reasoning ⇄ thinking, stop sequences, limits, tool_choice,
errors; and the features that cannot cross, refused by name before anything is sent."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest

from tests.gateway.conftest import DataPlane
from tests.gateway.test_sdk_calls import claude, oai

PIXEL = base64.b64encode(b"\x89PNG\r\n\x1a\n-not-really-a-png").decode()
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def test_images_cross_as_urls_and_base64(dp: DataPlane) -> None:
    content = [{"type": "text", "text": "what is this"},
               {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}}]  # fmt: skip
    done = oai(dp).chat.completions.create(model="claude-sonnet-4-5", messages=[{"role": "user", "content": content}])  # type: ignore[misc]
    assert (
        done.choices[0].message.content
        == "Hello from the Azure emulator (claude-sonnet-4-5). You said: what is this [1 image]"
    )
    block = dp.recorded()[-1].body["messages"][0]["content"][1]
    assert block == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}}

    image = {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}
    message = claude(dp).messages.create(model="gpt-35-turbo", max_tokens=50,
        messages=[{"role": "user", "content": [{"type": "text", "text": "and this"}, image]}])  # type: ignore[list-item]  # fmt: skip
    assert message.content[0].text.endswith("You said: and this [1 image]")  # type: ignore[union-attr]
    part = dp.recorded()[-1].body["messages"][0]["content"][1]
    assert part == {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}

    response = oai(dp).responses.create(model="claude-sonnet-4-5", input=[{"role": "user", "content": [
        {"type": "input_text", "text": "one more"},
        {"type": "input_image", "image_url": f"data:image/jpeg;base64,{PIXEL}", "detail": "auto"}]}])  # fmt: skip
    assert response.output_text.endswith("You said: one more [1 image]")
    assert dp.recorded()[-1].body["messages"][0]["content"][1]["source"]["media_type"] == "image/jpeg"


@pytest.mark.parametrize("stream", [False, True])
def test_json_mode_on_claude_is_a_forced_tool_whose_input_is_the_answer(dp: DataPlane, stream: bool) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "result", "schema": schema}}
    messages = [{"role": "user", "content": 'reply with {"answer": 42}'}]
    if stream:
        chunks = list(oai(dp).chat.completions.create(model="claude-sonnet-4-5", messages=messages,  # type: ignore[arg-type]
                                                      response_format=fmt, stream=True))  # type: ignore[arg-type]  # fmt: skip
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
        assert all(not c.choices[0].delta.tool_calls for c in chunks if c.choices)
    else:
        done = oai(dp).chat.completions.create(model="claude-sonnet-4-5", messages=messages, response_format=fmt)  # type: ignore[arg-type]
        text, finish = done.choices[0].message.content or "", done.choices[0].finish_reason
        assert done.choices[0].message.tool_calls is None
    assert json.loads(text) == {"answer": 42}
    assert finish == "stop"
    sent = dp.recorded()[-1].body
    assert sent["tool_choice"] == {"type": "tool", "name": "json_response"}
    assert sent["tools"][0]["input_schema"] == schema


def test_reasoning_effort_and_thinking_budget_map_both_ways(dp: DataPlane) -> None:
    done = oai(dp).chat.completions.create(
        model="claude-sonnet-4-5",
        reasoning_effort="high",
        max_tokens=1000,
        messages=[{"role": "user", "content": "why"}],
    )
    sent = dp.recorded()[-1].body
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 24576}
    assert sent["max_tokens"] > 24576  # Anthropic wants the budget to fit under max_tokens
    assert (done.choices[0].message.model_extra or {})["reasoning_content"] == "Considering: why"

    thinking: Any = {"type": "enabled", "budget_tokens": 5000}
    claude(dp).messages.create(model="gpt-35-turbo", max_tokens=9000, thinking=thinking, messages=X)  # type: ignore[arg-type]
    assert dp.recorded()[-1].body["reasoning_effort"] == "medium"

    with oai(dp).responses.stream(model="claude-sonnet-4-5", input="why", reasoning={"effort": "low"}) as events:
        final = events.get_final_response()
    assert dp.recorded()[-1].body["thinking"]["budget_tokens"] == 2048
    [reasoning] = [item for item in final.output if item.type == "reasoning"]
    assert reasoning.summary[0].text == "Considering: why"
    assert final.output_text.endswith("You said: why")


def test_sampling_limits_and_stop_sequences_cross(dp: DataPlane) -> None:
    done = oai(dp).chat.completions.create(
        model="claude-sonnet-4-5",
        max_tokens=3,
        temperature=0.2,
        top_p=0.9,
        stop=["END"],
        messages=[{"role": "user", "content": "a long question"}],
    )
    sent = dp.recorded()[-1].body
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"], sent["stop_sequences"]) == (3, 0.2, 0.9, ["END"])
    assert done.choices[0].finish_reason == "length"

    message = claude(dp).messages.create(
        model="gpt-5-codex", max_tokens=3, messages=[{"role": "user", "content": "long"}]
    )
    assert dp.recorded()[-1].body["max_output_tokens"] == 3
    assert dp.recorded()[-1].body["store"] is False  # nothing kept at Azure for a translated call
    assert message.stop_reason == "max_tokens"

    # anthropic 2.14 dropped `temperature` from its signature; older clients still send it.
    claude(dp).messages.create(
        model="gpt-35-turbo", max_tokens=20, stop_sequences=["STOP"], extra_body={"temperature": 0.5}, messages=X
    )
    sent = dp.recorded()[-1].body
    assert (sent["stop"], sent["temperature"], sent["max_tokens"]) == (["STOP"], 0.5, 20)


def test_tool_choice_and_parallel_flag_cross(dp: DataPlane) -> None:
    time_tool = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}
    done = oai(dp).chat.completions.create(
        model="claude-sonnet-4-5", tools=[WEATHER, time_tool], parallel_tool_calls=False,  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        messages=[{"role": "user", "content": "what time is it"}],
    )  # fmt: skip
    assert dp.recorded()[-1].body["tool_choice"] == {"type": "tool", "name": "get_time",
                                                     "disable_parallel_tool_use": True}  # fmt: skip
    [call] = done.choices[0].message.tool_calls or []
    assert call.function.name == "get_time"  # type: ignore[union-attr]

    claude(dp).messages.create(model="gpt-5-codex", max_tokens=50, tool_choice={"type": "any"},
                               tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
                               messages=[{"role": "user", "content": "weather"}])  # fmt: skip
    assert dp.recorded()[-1].body["tool_choice"] == "required"


X = [{"role": "user", "content": "x"}]
DOCUMENT = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
AUDIO = {"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}


def _chat(dp: DataPlane, model: str, **extra: Any) -> object:
    return oai(dp).chat.completions.create(model=model, messages=extra.pop("messages", X), **extra)


def _messages(dp: DataPlane, model: str, **extra: Any) -> object:
    return claude(dp).messages.create(model=model, max_tokens=5, messages=extra.pop("messages", X), **extra)


def _responses(dp: DataPlane, **extra: Any) -> object:
    return oai(dp).responses.create(model="claude-sonnet-4-5", input="x", **extra)


REFUSED: dict[str, tuple[Callable[[DataPlane], object], str]] = {
    "stop→responses": (lambda dp: _chat(dp, "gpt-5-codex", stop=["x"]), "stop"),
    "n→claude": (lambda dp: _chat(dp, "claude-sonnet-4-5", n=2), "n"),
    "logprobs→claude": (lambda dp: _chat(dp, "claude-sonnet-4-5", logprobs=True), "logprobs"),
    "audio→claude": (
        lambda dp: _chat(dp, "claude-sonnet-4-5", messages=[{"role": "user", "content": [AUDIO]}]),
        "messages[0].content[0]",
    ),
    "top_k→openai": (lambda dp: _messages(dp, "gpt-35-turbo", extra_body={"top_k": 5}), "top_k"),
    "stop_sequences→responses": (lambda dp: _messages(dp, "gpt-5-codex", stop_sequences=["x"]), "stop_sequences"),
    "document→openai": (
        lambda dp: _messages(dp, "gpt-35-turbo", messages=[{"role": "user", "content": [DOCUMENT]}]),
        "messages[0].content[0]",
    ),
    "builtin-tool→claude": (lambda dp: _responses(dp, tools=[{"type": "web_search_preview"}]), "tools[0]"),
    "previous_response_id→claude": (
        lambda dp: _responses(dp, previous_response_id="resp_1"),
        "previous_response_id",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_what_cannot_cross_is_a_400_naming_the_field(dp: DataPlane, case: str) -> None:
    call, field = REFUSED[case]
    with pytest.raises((openai.BadRequestError, anthropic.BadRequestError)) as refused:
        call(dp)
    assert f"{field}:" in str(refused.value)
    assert refused.value.status_code == 400
    assert dp.recorded() == [], "nothing reaches Azure when the request cannot be translated faithfully"


def test_upstream_errors_come_back_in_the_callers_format(dp: DataPlane) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        claude(dp).messages.create(model="gpt-35-turbo", max_tokens=20,
                                   messages=[{"role": "user", "content": "EMULATOR_CONTENT_FILTER"}])  # fmt: skip
    assert refused.value.body["type"] == "error"  # type: ignore[index]
    assert "content management policy" in str(refused.value) or "filtered" in str(refused.value)
    with pytest.raises(openai.BadRequestError) as bad:
        oai(dp).responses.create(model="claude-sonnet-4-5", input="EMULATOR_CONTENT_FILTER")
    assert bad.value.status_code == 400


def test_anthropic_headers_reach_claude_only(dp: DataPlane) -> None:
    beta = {"anthropic-beta": "tools-2024-04-04"}
    claude(dp).messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=X, extra_headers=beta)  # type: ignore[arg-type]
    assert dp.recorded()[-1].headers["anthropic-beta"] == "tools-2024-04-04"
    claude(dp).messages.create(model="gpt-35-turbo", max_tokens=5, messages=X, extra_headers=beta)  # type: ignore[arg-type]
    upstream = dp.recorded()[-1]
    assert upstream.path == "/openai/v1/chat/completions"
    assert not any(name.startswith("anthropic-") for name in upstream.headers)
