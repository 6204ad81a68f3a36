"""The three caller formats, each driven by its official SDK the way an application would: a first turn that
offers tools, and a second turn that hands the tool results back. Each returns an `Outcome` so one test can
compare every pair of caller and model format."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

import anthropic
import openai

SYSTEM = "Answer briefly."
TOOL_PROMPT = 'Please call get_weather and call get_time for {"city": "Paris"}'
RESULTS = {"get_weather": "sunny", "get_time": "12:00"}
SCHEMAS = {
    "get_weather": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "get_time": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@dataclass
class Outcome:
    text: str
    calls: list[tuple[str, str, dict[str, Any]]]  # (id, name, arguments)
    finish: str  # "stop", "tool" or "length", whatever the caller's own word for it
    input_tokens: int
    output_tokens: int
    events: list[str] = field(default_factory=list)  # streamed event or chunk kinds, in order


class Caller(Protocol):
    name: str

    def first(self, model: str, stream: bool, prompt: str = TOOL_PROMPT) -> Outcome: ...

    def second(self, model: str, stream: bool, first: Outcome) -> Outcome: ...


class ChatCaller:
    """openai `chat.completions.create`, streamed with `stream=True` and `include_usage`."""

    name = "chat"

    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client
        self.tools: Any = [
            {"type": "function", "function": {"name": n, "description": f"{n} for a city", "parameters": s}}
            for n, s in SCHEMAS.items()
        ]

    def _call(self, model: str, stream: bool, messages: list[dict[str, Any]]) -> Outcome:
        if not stream:
            done = self.client.chat.completions.create(model=model, messages=messages, tools=self.tools)  # type: ignore[arg-type]
            message = done.choices[0].message
            calls = [(c.id, c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []]  # type: ignore[union-attr]
            usage = done.usage
            assert usage is not None
            finish = {"tool_calls": "tool"}.get(done.choices[0].finish_reason, done.choices[0].finish_reason)
            return Outcome(message.content or "", calls, finish, usage.prompt_tokens, usage.completion_tokens)
        chunks = list(
            self.client.chat.completions.create(
                model=model, messages=messages, tools=self.tools, stream=True,  # type: ignore[arg-type]
                stream_options={"include_usage": True},
            )
        )  # fmt: skip
        text, finish, calls = "", "", {}  # type: ignore[var-annotated]
        for chunk in chunks:
            for choice in chunk.choices:
                text += choice.delta.content or ""
                finish = choice.finish_reason or finish
                for call in choice.delta.tool_calls or []:
                    entry = calls.setdefault(call.index, ["", "", ""])
                    entry[0] = call.id or entry[0]
                    entry[1] = (call.function and call.function.name) or entry[1]
                    entry[2] += (call.function and call.function.arguments) or ""
        usage = chunks[-1].usage
        assert usage is not None, "the usage chunk is last"
        parsed = [(i, n, json.loads(a)) for i, n, a in (calls[k] for k in sorted(calls))]
        kinds = ["usage" if not c.choices else "chunk" for c in chunks]
        finish = {"tool_calls": "tool"}.get(finish, finish)
        return Outcome(text, parsed, finish, usage.prompt_tokens, usage.completion_tokens, kinds)

    def messages(self, prompt: str) -> list[dict[str, Any]]:
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]

    def first(self, model: str, stream: bool, prompt: str = TOOL_PROMPT) -> Outcome:
        return self._call(model, stream, self.messages(prompt))

    def second(self, model: str, stream: bool, first: Outcome) -> Outcome:
        calls = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for i, n, a in first.calls
        ]
        history = [*self.messages(TOOL_PROMPT), {"role": "assistant", "content": None, "tool_calls": calls}]
        history += [{"role": "tool", "tool_call_id": i, "content": RESULTS[n]} for i, n, _ in first.calls]
        return self._call(model, stream, history)


class ResponsesCaller:
    """openai `responses.create`, streamed with the `responses.stream` helper."""

    name = "responses"

    def __init__(self, client: openai.OpenAI) -> None:
        self.client = client
        self.tools: Any = [
            {"type": "function", "name": n, "description": f"{n} for a city", "parameters": s, "strict": False}
            for n, s in SCHEMAS.items()
        ]

    def _call(self, model: str, stream: bool, items: list[dict[str, Any]]) -> Outcome:
        kinds: list[str] = []
        if stream:
            with self.client.responses.stream(
                model=model,
                instructions=SYSTEM,
                input=items,
                tools=self.tools,  # type: ignore[arg-type]
            ) as events:
                kinds = [event.type for event in events]
                final = events.get_final_response()
        else:
            final = self.client.responses.create(model=model, instructions=SYSTEM, input=items, tools=self.tools)  # type: ignore[arg-type]
        calls = [(o.call_id, o.name, json.loads(o.arguments)) for o in final.output if o.type == "function_call"]
        finish = "tool" if calls else ("length" if final.status == "incomplete" else "stop")
        usage = final.usage
        assert usage is not None
        return Outcome(final.output_text, calls, finish, usage.input_tokens, usage.output_tokens, kinds)

    def first(self, model: str, stream: bool, prompt: str = TOOL_PROMPT) -> Outcome:
        return self._call(model, stream, [{"role": "user", "content": prompt}])

    def second(self, model: str, stream: bool, first: Outcome) -> Outcome:
        items: list[dict[str, Any]] = [{"role": "user", "content": TOOL_PROMPT}]
        items += [
            {"type": "function_call", "call_id": i, "name": n, "arguments": json.dumps(a)} for i, n, a in first.calls
        ]
        items += [{"type": "function_call_output", "call_id": i, "output": RESULTS[n]} for i, n, _ in first.calls]
        return self._call(model, stream, items)


class MessagesCaller:
    """anthropic `messages.create`, streamed with the `messages.stream` helper."""

    name = "messages"

    def __init__(self, client: anthropic.Anthropic) -> None:
        self.client = client
        self.tools: Any = [{"name": n, "description": f"{n} for a city", "input_schema": s} for n, s in SCHEMAS.items()]

    def _call(self, model: str, stream: bool, messages: list[dict[str, Any]]) -> Outcome:
        kinds: list[str] = []
        common: Any = {"model": model, "max_tokens": 256, "system": SYSTEM, "messages": messages, "tools": self.tools}
        if stream:
            with self.client.messages.stream(**common) as events:
                kinds = [event.type for event in events]
                final = events.get_final_message()
        else:
            final = self.client.messages.create(**common)
        text = "".join(b.text for b in final.content if b.type == "text")
        calls = [(b.id, b.name, dict(b.input)) for b in final.content if b.type == "tool_use"]  # type: ignore[arg-type]
        finish = {"tool_use": "tool", "end_turn": "stop", "max_tokens": "length"}[str(final.stop_reason)]
        self.last = final
        return Outcome(text, calls, finish, final.usage.input_tokens, final.usage.output_tokens, kinds)

    def first(self, model: str, stream: bool, prompt: str = TOOL_PROMPT) -> Outcome:
        return self._call(model, stream, [{"role": "user", "content": prompt}])

    def second(self, model: str, stream: bool, first: Outcome) -> Outcome:
        uses = [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in first.calls]
        results = [{"type": "tool_result", "tool_use_id": i, "content": RESULTS[n]} for i, n, _ in first.calls]
        messages = [
            {"role": "user", "content": TOOL_PROMPT},
            {"role": "assistant", "content": uses},
            {"role": "user", "content": results},
        ]
        return self._call(model, stream, messages)
