"""Which upstream API a call uses, and the chain of translators between the caller's format and it.

Chat completions is the hub: a Responses caller on a Claude deployment is translated Responses → chat →
Messages, and the answer back the other way. A model is called through the caller's own API whenever it
serves it, so translation happens only where it must."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from skygate.translate import anthropic_requests, bodies, responses_requests
from skygate.translate.context import TranslationContext
from skygate.translate.errors import UnreadableAnswer, Untranslatable
from skygate.translate.streams_from_chat import ChatToAnthropicStream, ChatToResponsesStream
from skygate.translate.streams_to_chat import DONE, AnthropicToChatStream, ResponsesToChatStream

__all__ = ["GENERATION_APIS", "Plan", "StreamChain", "Wire", "plan_for", "upstream_api"]

Wire = Literal["chat_completions", "responses", "messages"]
GENERATION_APIS: tuple[Wire, ...] = ("chat_completions", "responses", "messages")

# For each caller API, the upstream APIs in order of preference: its own first, then the hub.
_PREFERENCE: dict[Wire, tuple[Wire, ...]] = {
    "chat_completions": ("chat_completions", "responses", "messages"),
    "responses": ("responses", "chat_completions", "messages"),
    "messages": ("messages", "chat_completions", "responses"),
}

Convert = Callable[[dict[str, Any], TranslationContext], dict[str, Any]]
_TO_HUB: dict[Wire, Convert] = {
    "responses": responses_requests.responses_to_chat,
    "messages": anthropic_requests.anthropic_to_chat,
}
_FROM_HUB: dict[Wire, Convert] = {
    "responses": responses_requests.chat_to_responses,
    "messages": anthropic_requests.chat_to_anthropic,
}
_BODY_TO_HUB: dict[Wire, Convert] = {
    "responses": bodies.responses_to_chat_body,
    "messages": bodies.anthropic_to_chat_body,
}
_BODY_FROM_HUB: dict[Wire, Convert] = {
    "responses": bodies.chat_to_responses_body,
    "messages": bodies.chat_to_anthropic_body,
}
# A field refused by the second step of a chain is named as the caller wrote it.
_CALLER_NAMES: dict[Wire, dict[str, str]] = {
    "messages": {"stop": "stop_sequences", "reasoning_effort": "thinking"},
    "responses": {
        "response_format": "text.format",
        "reasoning_effort": "reasoning.effort",
        "verbosity": "text.verbosity",
        "max_tokens": "max_output_tokens",
        "messages": "input",
    },
}


def upstream_api(caller: Wire, served: Iterable[str]) -> Wire | None:
    """The API to call a model on: the caller's when the model serves it, else the nearest it does."""
    available = set(served)
    return next((api for api in _PREFERENCE[caller] if api in available), None)


def _caller_field(caller: Wire, field: str) -> str:
    head = field.split("[", 1)[0].split(".", 1)[0]
    renamed = _CALLER_NAMES.get(caller, {}).get(head)
    return field if renamed is None else renamed + field[len(head) :]


class StreamChain:
    """Upstream SSE events in, the caller's SSE bytes out, one event at a time."""

    def __init__(self, plan: Plan) -> None:
        ctx = plan.ctx
        self.caller, self.upstream, self.ctx = plan.caller, plan.upstream, ctx
        self.to_hub: AnthropicToChatStream | ResponsesToChatStream | None = None
        if plan.upstream == "messages":
            self.to_hub = AnthropicToChatStream(ctx)
        elif plan.upstream == "responses":
            self.to_hub = ResponsesToChatStream(ctx)
        self.from_hub: ChatToAnthropicStream | ChatToResponsesStream | None = None
        if plan.caller == "messages":
            self.from_hub = ChatToAnthropicStream(ctx)
        elif plan.caller == "responses":
            self.from_hub = ChatToResponsesStream(ctx)

    finished = False  # the caller's format has had its closing event

    def feed(self, data: str) -> bytes:
        try:
            return self._feed(data)
        except _SHAPE_ERRORS as exc:
            raise UnreadableAnswer(f"an upstream {self.upstream} event had an unexpected shape: {exc!r}") from exc

    def close(self, reason: str) -> bytes:
        """The end of the upstream stream. One that ended before its closing event gets an error event in the
        caller's format, so the caller's SDK reports a failure instead of waiting or keeping half an answer."""
        if self.finished:
            return b""
        self.finished = True
        message = f"the upstream stream ended early: {reason}"
        if self.caller == "chat_completions":
            error: dict[str, Any] = {
                "error": {"message": message, "type": "api_error", "param": None, "code": "upstream_failed"}
            }
            return b"data: " + orjson.dumps(error) + b"\n\n"
        event: dict[str, Any] = {"type": "error", "error": {"type": "api_error", "message": message}}
        if self.caller == "responses":
            event = {"type": "error", "code": "upstream_failed", "message": message, "param": None}
        return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"

    def _feed(self, data: str) -> bytes:
        if self.upstream == "chat_completions":
            hub: list[dict[str, Any] | str] = [DONE] if data.strip() == DONE else [_load(data)]
        else:
            event = _load(data)
            assert self.to_hub is not None
            hub = self.to_hub.feed(event)
        out = bytearray()
        for item in hub:
            if self.from_hub is None:
                self.finished = self.finished or item == DONE
                out += self._chat(item)
                continue
            for event in self.from_hub.feed(item):
                self.finished = self.finished or event["type"] in _CLOSING
                out += b"event: " + str(event["type"]).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
        return bytes(out)

    def _chat(self, item: dict[str, Any] | str) -> bytes:
        if item == DONE:
            return b"data: [DONE]\n\n"
        assert isinstance(item, dict)
        if item.get("choices") == [] and "usage" in item and not self.ctx.caller_usage:
            return b""  # a chat caller gets the usage chunk only when it asked (stream_options.include_usage)
        return b"data: " + orjson.dumps(item) + b"\n\n"


_CLOSING = frozenset({"message_stop", "response.completed", "response.incomplete", "response.failed", "error"})
# What reading a wrongly shaped JSON document raises in the translators.
_SHAPE_ERRORS = (AttributeError, TypeError, ValueError, KeyError, IndexError, RecursionError)


def _load(data: str) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return {"type": "error", "error": {"message": f"unreadable event from upstream: {data[:200]}"}}
    return value if isinstance(value, dict) else {}


@dataclass(slots=True)
class Plan:
    caller: Wire
    upstream: Wire
    ctx: TranslationContext

    @property
    def translated(self) -> bool:
        return self.caller != self.upstream

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """The caller's body in the upstream format (the caller's own when no translation is needed)."""
        if not self.translated:
            return body
        try:
            hub = body if self.caller == "chat_completions" else _TO_HUB[self.caller](body, self.ctx)
            try:
                out = hub if self.upstream == "chat_completions" else _FROM_HUB[self.upstream](hub, self.ctx)
            except Untranslatable as exc:
                if self.caller == "chat_completions":
                    raise
                field = _caller_field(self.caller, exc.field)
                raise Untranslatable(field, str(exc).partition(": ")[2]) from exc
        except _SHAPE_ERRORS as exc:
            # The translators check the shapes they read; this is the net under them, still a 400.
            raise Untranslatable("body", f"a value has the wrong type for the {self.caller} API ({exc})") from exc
        if self.upstream == "chat_completions" and out.get("stream"):
            # The caller's format reports usage at the end; Azure sends it in a chat stream only when asked.
            out["stream_options"] = {"include_usage": True}
        return out

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """A whole upstream answer in the caller's format."""
        if not isinstance(body, dict):
            raise UnreadableAnswer(f"the upstream {self.upstream} answer was not a JSON object")
        try:
            hub = body if self.upstream == "chat_completions" else _BODY_TO_HUB[self.upstream](body, self.ctx)
            return hub if self.caller == "chat_completions" else _BODY_FROM_HUB[self.caller](hub, self.ctx)
        except _SHAPE_ERRORS as exc:
            raise UnreadableAnswer(f"the upstream {self.upstream} answer had an unexpected shape: {exc!r}") from exc

    def stream(self) -> StreamChain:
        return StreamChain(self)


def plan_for(caller: Wire, upstream: Wire, model: str) -> Plan:
    return Plan(caller, upstream, TranslationContext(model))
