"""Property tests: a request translated to another format and back keeps its messages and tools.

The strategies build requests in each format's canonical shape (roles alternate where Messages requires it,
one system prompt, tool results right after the calls they answer), which is what real clients send."""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from skygate.translate.anthropic_requests import anthropic_to_chat, chat_to_anthropic
from skygate.translate.context import TranslationContext
from skygate.translate.responses_requests import chat_to_responses, responses_to_chat

text = st.text(
    st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_categories=("Cs",)), min_size=1, max_size=30
)
names = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
arguments = st.dictionaries(names, st.one_of(st.integers(-99, 99), text, st.booleans()), max_size=3)
image_urls = st.one_of(
    st.builds(lambda n: f"https://img.example.com/{n}.png", names),
    st.builds(lambda d: f"data:image/png;base64,{d}", st.from_regex(r"[A-Za-z0-9+/]{4,40}", fullmatch=True)),
)
call_ids = st.from_regex(r"call_[a-z0-9]{6}", fullmatch=True)


def ctx() -> TranslationContext:
    return TranslationContext("model")


@st.composite
def chat_tools(draw: st.DrawFn) -> list[dict[str, Any]]:
    tool_names = draw(st.lists(names, min_size=0, max_size=3, unique=True))
    return [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": draw(text),
                "parameters": {
                    "type": "object",
                    "properties": {p: {"type": "string"} for p in draw(st.lists(names, max_size=2))},
                },
            },
        }
        for name in tool_names
    ]


@st.composite
def user_content(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return draw(text)
    parts: list[dict[str, Any]] = [{"type": "text", "text": draw(text)}]
    for url in draw(st.lists(image_urls, min_size=1, max_size=2)):
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


@st.composite
def chat_conversation(draw: st.DrawFn) -> list[dict[str, Any]]:
    """system? then rounds of: user, assistant (text and/or tool calls), tool results for those calls."""
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(text)})
    for _ in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": draw(user_content())})
        ids = draw(st.lists(call_ids, max_size=3, unique=True))
        reply = draw(st.one_of(st.none(), text)) if ids else draw(text)
        assistant: dict[str, Any] = {"role": "assistant", "content": reply}
        if ids:
            assistant["tool_calls"] = [
                {"id": i, "type": "function",
                 "function": {"name": draw(names), "arguments": json.dumps(draw(arguments), separators=(",", ":"))}}
                for i in ids
            ]  # fmt: skip
        messages.append(assistant)
        messages += [{"role": "tool", "tool_call_id": i, "content": draw(text)} for i in ids]
    messages.append({"role": "user", "content": draw(user_content())})
    return messages


@settings(max_examples=150, deadline=None, derandomize=True)
@given(chat_conversation(), chat_tools(), st.integers(1, 4096), st.lists(text, max_size=3))
def test_chat_to_messages_and_back_keeps_messages_and_tools(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]], limit: int, stop: list[str]
) -> None:
    request = {"model": "m", "messages": messages, "tools": tools, "max_tokens": limit, "stop": stop}
    there = chat_to_anthropic(request, ctx())
    roles = [m["role"] for m in there["messages"]]
    assert all(a != b for a, b in itertools.pairwise(roles)), "Messages needs alternating roles"
    back = anthropic_to_chat(there, ctx())
    assert back["messages"] == messages
    assert back.get("tools", []) == tools
    assert back["max_tokens"] == limit
    assert back.get("stop", []) == stop


@settings(max_examples=150, deadline=None, derandomize=True)
@given(chat_conversation(), chat_tools(), st.integers(1, 4096))
def test_chat_to_responses_and_back_keeps_messages_and_tools(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]], limit: int
) -> None:
    request = {"model": "m", "messages": messages, "tools": tools, "max_tokens": limit, "tool_choice": "auto"}
    back = responses_to_chat(chat_to_responses(request, ctx()), ctx())
    assert back["messages"] == messages
    # Responses makes tools strict unless told; the trip says `strict: false` out loud.
    assert [
        {**t, "function": {k: v for k, v in t["function"].items() if k != "strict"}} for t in back.get("tools", [])
    ] == tools
    assert all(t["function"]["strict"] is False for t in back.get("tools", []))
    assert (back["max_tokens"], back["tool_choice"]) == (limit, "auto")


@st.composite
def anthropic_conversation(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Alternating user/assistant turns; tool results open the user turn after the calls they answer."""
    messages: list[dict[str, Any]] = []
    pending: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        blocks: list[dict[str, Any]] = [
            {"type": "tool_result", "tool_use_id": i, "content": draw(text)} for i in pending
        ]
        blocks.append({"type": "text", "text": draw(text)})
        for url in draw(st.lists(image_urls, max_size=2)):
            source = ({"type": "base64", "media_type": "image/png", "data": url.split(",", 1)[1]}
                      if url.startswith("data:") else {"type": "url", "url": url})  # fmt: skip
            blocks.append({"type": "image", "source": source})
        messages.append({"role": "user", "content": blocks})
        pending = draw(st.lists(st.from_regex(r"toolu_[a-z0-9]{6}", fullmatch=True), max_size=3, unique=True))
        reply: list[dict[str, Any]] = [] if pending and draw(st.booleans()) else [{"type": "text", "text": draw(text)}]
        reply += [{"type": "tool_use", "id": i, "name": draw(names), "input": draw(arguments)} for i in pending]
        messages.append({"role": "assistant", "content": reply})
    messages.append({"role": "user", "content": [
        *({"type": "tool_result", "tool_use_id": i, "content": draw(text)} for i in pending),
        {"type": "text", "text": draw(text)}]})  # fmt: skip
    return messages


@settings(max_examples=150, deadline=None, derandomize=True)
@given(anthropic_conversation(), st.one_of(st.none(), text))
def test_messages_to_chat_and_back_keeps_messages_and_tools(messages: list[dict[str, Any]], system: str | None) -> None:
    tools = [{"name": "lookup", "description": "find", "input_schema": {"type": "object", "properties": {}}}]
    request: dict[str, Any] = {"model": "m", "max_tokens": 100, "messages": messages, "tools": tools}
    if system:
        request["system"] = system
    back = chat_to_anthropic(anthropic_to_chat(request, ctx()), ctx())
    assert back["messages"] == messages
    assert back["tools"] == tools
    assert back.get("system") == system
