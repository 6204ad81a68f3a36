"""Chat completion chunks into Anthropic Messages events and Responses events, one chunk at a time.

Azure's chunks need care (reference §6.2): the first has empty `choices` (prompt filter results), asynchronous
filter annotations have a choice without `delta`, and usage comes last in a chunk of its own."""

from __future__ import annotations

from typing import Any

from skygate.translate.bodies import (
    ANTHROPIC_STOP,
    function_item,
    message_item,
    reasoning_item,
    response_object,
    responses_status,
    suffix,
)
from skygate.translate.content import chat_usage_to_anthropic, chat_usage_to_responses
from skygate.translate.context import TranslationContext
from skygate.translate.streams_to_chat import DONE

__all__ = ["ChatToAnthropicStream", "ChatToResponsesStream"]

Event = dict[str, Any]


def _parts(chunk: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """Choice 0's delta (None for annotation-only chunks) and finish_reason."""
    for choice in chunk.get("choices") or []:
        if choice.get("index", 0) == 0:
            return choice.get("delta"), choice.get("finish_reason")
    return None, None


class ChatToAnthropicStream:
    def __init__(self, ctx: TranslationContext) -> None:
        self.ctx = ctx
        self.started = False
        self.open: int | None = None  # the Anthropic block being written
        self.count = 0
        self.kinds: dict[str, int] = {}  # "text", "thinking" or "tool:<i>" → block index
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None

    def feed(self, chunk: dict[str, Any] | str) -> list[Event]:
        if chunk == DONE:
            return self._end()
        assert isinstance(chunk, dict)
        if "error" in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            return [{"type": "error", "error": {"type": "api_error", "message": str(error.get("message", ""))}}]
        events = [] if self.started else self._start(chunk)
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        delta, finish = _parts(chunk)
        if finish:
            self.finish = finish
        if not delta:
            return events
        if delta.get("reasoning_content"):
            events += self._block("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            events.append(self._delta("thinking", {"type": "thinking_delta", "thinking": delta["reasoning_content"]}))
        text = delta.get("content") or delta.get("refusal")
        if text:
            events += self._block("text", {"type": "text", "text": ""})
            events.append(self._delta("text", {"type": "text_delta", "text": text}))
        for call in delta.get("tool_calls") or []:
            key = f"tool:{call.get('index', 0)}"
            function = call.get("function") or {}
            if key not in self.kinds:
                block = {"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": {}}
                events += self._block(key, block)
            if function.get("arguments"):
                events.append(self._delta(key, {"type": "input_json_delta", "partial_json": function["arguments"]}))
        return events

    def _start(self, chunk: dict[str, Any]) -> list[Event]:
        if not chunk.get("id"):
            return []  # Azure's annotation-only first chunk has no id: start with the first real one
        self.started = True
        message: dict[str, Any] = {
            "id": "msg_" + suffix(chunk.get("id")),
            "type": "message",
            "role": "assistant",
            "model": self.ctx.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            # Chat streams count tokens only at the end; message_delta carries the real numbers.
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return [{"type": "message_start", "message": message}]

    def _block(self, key: str, block: dict[str, Any]) -> list[Event]:
        if key in self.kinds and (self.kinds[key] == self.open or key.startswith("tool:")):
            return []  # still writing it (a tool's arguments may also come back to a closed block)
        # New, or text/thinking again after another block: Messages blocks are written one after another.
        events = self._close()
        self.kinds[key] = self.open = self.count
        self.count += 1
        return [*events, {"type": "content_block_start", "index": self.open, "content_block": block}]

    def _delta(self, key: str, delta: dict[str, Any]) -> Event:
        return {"type": "content_block_delta", "index": self.kinds[key], "delta": delta}

    def _close(self) -> list[Event]:
        if self.open is None:
            return []
        index, self.open = self.open, None
        return [{"type": "content_block_stop", "index": index}]

    def _end(self) -> list[Event]:
        events = [] if self.started else self._start({"id": "chatcmpl-empty"})
        usage = chat_usage_to_anthropic(self.usage)
        stop = ANTHROPIC_STOP.get(str(self.finish), "end_turn")
        return [
            *events,
            *self._close(),
            {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage},
            {"type": "message_stop"},
        ]


class ChatToResponsesStream:
    def __init__(self, ctx: TranslationContext) -> None:
        self.ctx = ctx
        self.id: str | None = None
        self.sequence = 0
        self.output: list[dict[str, Any]] = []  # items in output order, completed as they close
        self.message: int | None = None  # output index of the open message item
        self.reasoning: int | None = None
        self.tools: dict[int, int] = {}  # chat tool index → output index
        self.finish: str | None = None
        self.usage: dict[str, Any] | None = None

    def _event(self, kind: str, **fields: Any) -> Event:
        event = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return event

    def _response(self, status: str, usage: dict[str, Any] | None = None, reason: str | None = None) -> Event:
        assert self.id is not None
        return response_object(self.ctx, self.id, status, [dict(i) for i in self.output], usage, reason)

    def feed(self, chunk: dict[str, Any] | str) -> list[Event]:
        if chunk == DONE:
            return self._end()
        assert isinstance(chunk, dict)
        if "error" in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            code = error.get("code") or error.get("type")
            return [self._event("error", code=code, message=str(error.get("message", "")), param=None)]
        events: list[Event] = []
        if self.id is None and chunk.get("id"):
            self.id = "resp_" + suffix(chunk["id"])
            opening = self._response("in_progress")
            events += [
                self._event("response.created", response=opening),
                self._event("response.in_progress", response=opening),
            ]
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        delta, finish = _parts(chunk)
        if finish:
            self.finish = finish
        if not delta or self.id is None:
            return events
        if delta.get("reasoning_content"):
            events += self._reasoning(delta["reasoning_content"])
        text = delta.get("content") or delta.get("refusal")
        if text:
            events += self._text(text)
        for call in delta.get("tool_calls") or []:
            events += self._tool(call)
        return events

    def _add(self, item: dict[str, Any]) -> tuple[int, list[Event]]:
        index = len(self.output)
        self.output.append(item)
        return index, [self._event("response.output_item.added", output_index=index, item=dict(item))]

    def _reasoning(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self.reasoning is None:
            self.reasoning, events = self._add({"type": "reasoning", "id": f"rs_{self.id}", "summary": []})
            events.append(
                self._event(
                    "response.reasoning_summary_part.added",
                    item_id=f"rs_{self.id}",
                    output_index=self.reasoning,
                    summary_index=0,
                    part={"type": "summary_text", "text": ""},
                )
            )
        item = self.output[self.reasoning]
        item["text"] = item.get("text", "") + text
        events.append(
            self._event(
                "response.reasoning_summary_text.delta",
                item_id=item["id"],
                output_index=self.reasoning,
                summary_index=0,
                delta=text,
            )
        )
        return events

    def _text(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self.message is None:
            item = message_item(f"msg_{self.id}_{len(self.output)}", "", status="in_progress")
            part = item["content"][0]
            item["content"] = []
            self.message, events = self._add(item)
            events.append(
                self._event(
                    "response.content_part.added",
                    item_id=item["id"],
                    output_index=self.message,
                    content_index=0,
                    part=dict(part),
                )
            )
            item["content"] = [part]
        item = self.output[self.message]
        item["content"][0]["text"] += text
        events.append(
            self._event(
                "response.output_text.delta",
                item_id=item["id"],
                output_index=self.message,
                content_index=0,
                delta=text,
                logprobs=[],
            )
        )
        return events

    def _tool(self, call: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        number = int(call.get("index", 0))
        function = call.get("function") or {}
        if number not in self.tools:
            events += self._close_message()
            item = function_item(
                f"fc_{self.id}_{len(self.output)}", call.get("id"), function.get("name"), "", status="in_progress"
            )
            self.tools[number], added = self._add(item)
            events += added
        index = self.tools[number]
        piece = function.get("arguments") or ""
        if piece:
            item = self.output[index]
            item["arguments"] += piece
            events.append(
                self._event(
                    "response.function_call_arguments.delta", item_id=item["id"], output_index=index, delta=piece
                )
            )
        return events

    def _close_message(self) -> list[Event]:
        if self.message is None:
            return []
        index, self.message = self.message, None
        item = self.output[index]
        item["status"] = "completed"
        part = item["content"][0]
        return [
            self._event(
                "response.output_text.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                text=part["text"],
                logprobs=[],
            ),
            self._event(
                "response.content_part.done", item_id=item["id"], output_index=index, content_index=0, part=dict(part)
            ),
            self._event("response.output_item.done", output_index=index, item=item),
        ]

    def _close_reasoning(self) -> list[Event]:
        if self.reasoning is None:
            return []
        index, self.reasoning = self.reasoning, None
        item = self.output[index]
        text = item.pop("text", "")
        self.output[index] = reasoning_item(item["id"], text)
        return [
            self._event(
                "response.reasoning_summary_text.done",
                item_id=item["id"],
                output_index=index,
                summary_index=0,
                text=text,
            ),
            self._event("response.output_item.done", output_index=index, item=self.output[index]),
        ]

    def _end(self) -> list[Event]:
        events: list[Event] = []
        if self.id is None:
            self.id = "resp_empty"
            opening = self._response("in_progress")
            events += [self._event("response.created", response=opening)]
        events += self._close_reasoning() + self._close_message()
        for index in sorted(self.tools.values()):
            item = self.output[index]
            item["status"] = "completed"
            events += [
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    arguments=item["arguments"],
                    name=item["name"],
                ),
                self._event("response.output_item.done", output_index=index, item=dict(item)),
            ]
        status, reason = responses_status(self.finish)
        final = self._response(status, chat_usage_to_responses(self.usage), reason)
        kind = "response.completed" if status == "completed" else "response.incomplete"
        return [*events, self._event(kind, response=final)]
