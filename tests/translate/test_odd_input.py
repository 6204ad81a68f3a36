"""Whatever a caller sends, translation either succeeds or refuses with a named field: never another
exception (which would be a 500)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skygate.translate.errors import UnreadableAnswer, Untranslatable
from skygate.translate.plan import Wire, plan_for

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
# Keys each format really uses, so the fuzzing reaches deep into the translators.
KEYS = ["model", "messages", "input", "system", "instructions", "tools", "tool_choice", "max_tokens", "stop",
        "response_format", "text", "reasoning", "thinking", "metadata", "stream_options", "role", "content", "type",
        "text", "image_url", "url", "source", "tool_calls", "function", "name", "arguments", "tool_call_id",
        "tool_use_id", "input_schema", "parameters", "call_id", "output", "stop_sequences",
        "reasoning_effort"]  # fmt: skip
shaped = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["user", "assistant", "tool", "text", "function",
                                                                      "image_url", "tool_use", "tool_result", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip
PAIRS: list[tuple[Wire, Wire]] = [
    (caller, upstream)
    for caller in ("chat_completions", "responses", "messages")
    for upstream in ("chat_completions", "responses", "messages")
    if caller != upstream
]


def outcome(call: Callable[[], dict[str, Any]]) -> dict[str, Any] | Exception:
    try:
        return call()
    except (Untranslatable, UnreadableAnswer) as expected:
        return expected


@pytest.mark.parametrize(("caller", "upstream"), PAIRS)
@settings(max_examples=300, deadline=None, derandomize=True)
@given(body=st.dictionaries(st.sampled_from(KEYS), shaped, max_size=6) | st.dictionaries(st.text(), json_values))
def test_requests_translate_or_refuse_by_name(caller: Wire, upstream: Wire, body: dict[str, Any]) -> None:
    result = outcome(lambda: plan_for(caller, upstream, "m").request(body))
    if isinstance(result, Untranslatable):
        assert str(result).startswith(f"{result.field}: ")
        assert result.field != "body", f"the shape checks missed a case the safety net caught: {result}"
    else:
        assert isinstance(result, dict)


@pytest.mark.parametrize(("caller", "upstream"), PAIRS)
@settings(max_examples=200, deadline=None, derandomize=True)
@given(answer=st.dictionaries(st.sampled_from([*KEYS, "choices", "usage", "output", "status", "id"]), shaped))
def test_odd_answers_become_a_named_upstream_failure(caller: Wire, upstream: Wire, answer: dict[str, Any]) -> None:
    result = outcome(lambda: plan_for(caller, upstream, "m").answer(answer))
    assert isinstance(result, dict) or "unexpected shape" in str(result)
