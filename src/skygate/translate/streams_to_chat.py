"""Streamed answers into chat completion chunks: Anthropic Messages events and Responses events, one upstream
event at a time (nothing is buffered beyond the event in hand)."""

from __future__ import annotations

import json
from typing import Any

from skygate.translate.bodies import CHAT_FINISH, responses_finish, suffix
from skygate.translate.content import anthropic_usage_to_chat, responses_usage_to_chat
from skygate.translate.context import TranslationContext

__all__ = ["DONE", "AnthropicToChatStream", "ChatChunks", "ResponsesToChatStream"]

DONE = "[DONE]"
Hub = dict[str, Any] | str  # a chat chunk, or DONE


class ChatChunks:
    """Builds chat.completion.chunk objects for one answer."""

    def __init__(self, ctx: TranslationContext) -> None:
        self.ctx = ctx
        self.id = "chatcmpl-pending"
        self.tools = 0  # tool calls seen so far; the next one gets this index

    def chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.ctx.created,
            "model": self.ctx.model,
            "choices": [choice],
        }

    def usage(self, usage: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.ctx.created,
            "model": self.ctx.model,
            "choices": [],
            "usage": usage,
        }

    def tool_start(self, call_id: Any, name: Any) -> tuple[int, dict[str, Any]]:
        index, self.tools = self.tools, self.tools + 1
        call = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        return index, self.chunk({"tool_calls": [call]})

    def arguments(self, index: int, piece: str) -> dict[str, Any]:
        return self.chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})

    @staticmethod
    def error(message: str, kind: str) -> dict[str, Any]:
        # openai-python raises APIError for a chunk carrying `error`.
        return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class AnthropicToChatStream:
    def __init__(self, ctx: TranslationContext) -> None:
        self.out = ChatChunks(ctx)
        self.ctx = ctx
        self.blocks: dict[int, tuple[str, int]] = {}  # Anthropic block index → (kind, tool index)
        self.silent: dict[int, str] = {}  # tool blocks with no argument bytes yet → their starting input
        self.usage: dict[str, Any] = {}
        self.finish = "stop"

    def feed(self, event: dict[str, Any]) -> list[Hub]:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self.out.id = "chatcmpl-" + suffix(message.get("id"))
            self.usage = dict(message.get("usage") or {})
            return [self.out.chunk({"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            return self._start(int(event.get("index", 0)), event.get("content_block") or {})
        if kind == "content_block_delta":
            return self._delta(int(event.get("index", 0)), event.get("delta") or {})
        if kind == "message_delta":
            stop = (event.get("delta") or {}).get("stop_reason")
            json_answer = stop == "tool_use" and self.out.tools == 0 and self.ctx.json_tool is not None
            if stop and not json_answer:
                self.finish = CHAT_FINISH.get(str(stop), "stop")
            # Newer APIs repeat input and cache counts here; keep whatever is given.
            self.usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
            return []
        if kind == "message_stop":
            return [
                self.out.chunk({}, self.finish),
                self.out.usage(anthropic_usage_to_chat(self.usage)),
                DONE,
            ]
        if kind == "error":
            nested = event.get("error")
            error: dict[str, Any] = nested if isinstance(nested, dict) else event
            return [ChatChunks.error(str(error.get("message", "upstream error")), str(error.get("type", "api_error")))]
        if kind == "content_block_stop":
            # A tool called with no arguments streams none: its arguments are still a JSON object.
            index = int(event.get("index", 0))
            if index in self.silent:
                return [self.out.arguments(self.blocks[index][1], self.silent.pop(index))]
        return []  # ping and anything new

    def _start(self, index: int, block: dict[str, Any]) -> list[Hub]:
        kind = block.get("type")
        if kind == "tool_use" and block.get("name") == self.ctx.json_tool:
            self.blocks[index] = ("json", -1)
            return []
        if kind == "tool_use":
            tool, chunk = self.out.tool_start(block.get("id"), block.get("name"))
            self.blocks[index] = ("tool", tool)
            self.silent[index] = json.dumps(block.get("input") or {}, separators=(",", ":"))
            return [chunk]
        self.blocks[index] = (str(kind), -1)
        text = block.get("text") if kind == "text" else None
        return [self.out.chunk({"content": text})] if text else []

    def _delta(self, index: int, delta: dict[str, Any]) -> list[Hub]:
        kind, tool = self.blocks.get(index, ("text", -1))
        dtype = delta.get("type")
        if dtype == "text_delta":
            return [self.out.chunk({"content": delta.get("text", "")})]
        if dtype == "thinking_delta":
            return [self.out.chunk({"reasoning_content": delta.get("thinking", "")})]
        if dtype == "input_json_delta" and kind == "json" and delta.get("partial_json"):
            return [self.out.chunk({"content": delta["partial_json"]})]
        if dtype == "input_json_delta" and kind == "tool" and delta.get("partial_json"):
            self.silent.pop(index, None)
            return [self.out.arguments(tool, delta["partial_json"])]
        return []  # signature and citation deltas have no chat form


class ResponsesToChatStream:
    def __init__(self, ctx: TranslationContext) -> None:
        self.out = ChatChunks(ctx)
        self.tools: dict[str, int] = {}  # item id → tool index
        self.sent: dict[str, str] = {}  # item id → the arguments passed on so far

    def feed(self, event: dict[str, Any]) -> list[Hub]:
        kind = event.get("type")
        if kind == "response.created":
            self.out.id = "chatcmpl-" + suffix((event.get("response") or {}).get("id"))
            return [self.out.chunk({"role": "assistant", "content": ""})]
        if kind == "response.output_text.delta":
            return [self.out.chunk({"content": event.get("delta", "")})]
        if kind == "response.refusal.delta":
            return [self.out.chunk({"refusal": event.get("delta", "")})]
        if kind in ("response.reasoning_summary_text.delta", "response.reasoning_text.delta"):
            return [self.out.chunk({"reasoning_content": event.get("delta", "")})]
        if kind == "response.output_item.added":
            item = event.get("item") or {}
            if item.get("type") != "function_call":
                return []
            index, chunk = self.out.tool_start(item.get("call_id"), item.get("name"))
            self.tools[str(item.get("id"))] = index
            self.sent[str(item.get("id"))] = ""
            return [chunk, *self._arguments(str(item.get("id")), str(item.get("arguments") or ""), whole=True)]
        if kind == "response.function_call_arguments.delta":
            return self._arguments(str(event.get("item_id")), str(event.get("delta", "")), whole=False)
        if kind == "response.function_call_arguments.done":
            # Some models send the arguments only here; pass on whatever the deltas did not.
            return self._arguments(str(event.get("item_id")), str(event.get("arguments") or ""), whole=True)
        if kind == "response.output_item.done" and (event.get("item") or {}).get("type") == "function_call":
            item = event.get("item") or {}
            return self._arguments(str(item.get("id")), str(item.get("arguments") or ""), whole=True)
        if kind in ("response.completed", "response.incomplete"):
            response = event.get("response") or {}
            return [
                self.out.chunk({}, responses_finish(response)),
                self.out.usage(responses_usage_to_chat(response.get("usage"))),
                DONE,
            ]
        if kind in ("response.failed", "error"):
            error = (event.get("response") or {}).get("error") or event.get("error") or event
            return [
                ChatChunks.error(str(error.get("message", "upstream error")), str(error.get("code") or "api_error"))
            ]
        return []

    def _arguments(self, item_id: str, text: str, *, whole: bool) -> list[Hub]:
        """`text` is a piece (a delta) or the whole arguments so far (`whole`): pass on only what is new."""
        tool = self.tools.get(item_id)
        if tool is None:
            return []
        sent = self.sent.get(item_id, "")
        piece = text[len(sent) :] if whole and text.startswith(sent) else ("" if whole else text)
        if not piece:
            return []
        self.sent[item_id] = sent + piece
        return [self.out.arguments(tool, piece)]
