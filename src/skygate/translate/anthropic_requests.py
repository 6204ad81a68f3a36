"""Request bodies between OpenAI chat completions and Anthropic Messages (braintrust-gateway.md §5)."""

from __future__ import annotations

from typing import Any

from skygate.translate.content import anthropic_image, chat_tool_call, image_url_of, text_of
from skygate.translate.context import TranslationContext
from skygate.translate.errors import Untranslatable
from skygate.translate.fields import chat_max_tokens, check_fields, copy_present, json_object, obj, objects

__all__ = ["DEFAULT_MAX_TOKENS", "anthropic_to_chat", "chat_to_anthropic", "effort_for_budget"]

# Messages requires max_tokens; chat callers often leave it out. Enough for long answers, visible as
# stop_reason max_tokens → finish_reason length when it is not.
DEFAULT_MAX_TOKENS = 8192
# reasoning_effort → thinking budget, and back by the nearest step (Anthropic's minimum budget is 1024).
_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}
_JSON_TOOL = "json_response"

_TO_ANTHROPIC = "Anthropic Messages"
_TO_CHAT = "chat completions"


def effort_for_budget(budget: int) -> str:
    if budget < 2048:
        return "low"
    return "medium" if budget < 16384 else "high"


# --- chat → Messages ---------------------------------------------------------------------------------------


def _user_blocks(content: Any, field: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        raise Untranslatable(field, "must be a string or an array of content parts")
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": str(part["text"])})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                raise Untranslatable(f"{field}[{index}].image_url.url", "required, a string")
            blocks.append(anthropic_image(url))
        else:
            raise Untranslatable(f"{field}[{index}]", f"a {kind!r} part cannot be sent to an Anthropic model")
    return blocks


def _assistant_blocks(message: dict[str, Any], field: str) -> list[dict[str, Any]]:
    text = text_of(message.get("content"), f"{field}.content")
    blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    for index, call in enumerate(objects(message.get("tool_calls"), f"{field}.tool_calls")):
        where = f"{field}.tool_calls[{index}]"
        function = obj(call.get("function"), f"{where}.function")
        if call.get("type", "function") != "function":
            raise Untranslatable(where, "only function tool calls can be sent to an Anthropic model")
        arguments = json_object(function.get("arguments"), f"{where}.function.arguments")
        blocks.append({"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": arguments})
    return blocks


def _tool_result(message: dict[str, Any], field: str) -> dict[str, Any]:
    return {
        "type": "tool_result",
        "tool_use_id": message.get("tool_call_id"),
        "content": text_of(message.get("content"), f"{field}.content"),
    }


def _chat_messages(messages: Any) -> tuple[list[str], list[dict[str, Any]]]:
    if not isinstance(messages, list):
        raise Untranslatable("messages", "must be an array of messages")
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        field = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role in ("system", "developer"):
            # Messages has one system prompt; system turns are gathered into it in order.
            system.append(text_of(message.get("content"), f"{field}.content"))
            continue
        if role == "user":
            target, blocks = "user", _user_blocks(message.get("content"), f"{field}.content")
        elif role == "assistant":
            target, blocks = "assistant", _assistant_blocks(message, field)
        elif role == "tool":
            target, blocks = "user", [_tool_result(message, field)]
        else:
            raise Untranslatable(f"{field}.role", f"{role!r} cannot be sent to an Anthropic model")
        if not blocks:
            continue
        # Messages alternates roles: consecutive turns of one role (parallel tool results) become one.
        if out and out[-1]["role"] == target:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": target, "content": blocks})
    return system, out


def _chat_tools(tools: Any) -> list[dict[str, Any]]:
    out = []
    for index, tool in enumerate(objects(tools, "tools")):
        if tool.get("type", "function") != "function":
            raise Untranslatable(f"tools[{index}]", "only function tools can be sent to an Anthropic model")
        function = obj(tool.get("function"), f"tools[{index}].function")
        entry = {
            "name": function.get("name"),
            "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
        }
        if function.get("description"):
            entry["description"] = function["description"]
        out.append(entry)
    return out


def _chat_tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None and parallel is not False:
        return None
    if choice in (None, "auto"):
        result: dict[str, Any] = {"type": "auto"}
    elif choice == "required":
        result = {"type": "any"}
    elif choice == "none":
        return {"type": "none"}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        result = {"type": "tool", "name": obj(choice.get("function"), "tool_choice.function").get("name")}
    else:
        raise Untranslatable("tool_choice", f"{choice!r} cannot be expressed for an Anthropic model")
    if parallel is False:
        result["disable_parallel_tool_use"] = True
    return result


def _json_mode(body: dict[str, Any], out: dict[str, Any], ctx: TranslationContext) -> None:
    """JSON mode as a forced tool whose input is the answer (Messages has no response_format)."""
    fmt = obj(body.get("response_format"), "response_format")
    if fmt.get("type") in (None, "text"):
        return
    if out.get("tools"):
        raise Untranslatable("response_format", "cannot be combined with tools on an Anthropic model")
    if fmt.get("type") == "json_object":
        schema: dict[str, Any] = {"type": "object"}
    elif fmt.get("type") == "json_schema":
        schema = obj(fmt.get("json_schema"), "response_format.json_schema").get("schema") or {"type": "object"}
    else:
        raise Untranslatable("response_format.type", f"{fmt.get('type')!r} is not a known format")
    out["tools"] = [{"name": _JSON_TOOL, "description": "Reply with the answer as this JSON.", "input_schema": schema}]
    out["tool_choice"] = {"type": "tool", "name": _JSON_TOOL}
    ctx.json_tool = _JSON_TOOL


def chat_to_anthropic(body: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    check_fields(
        body,
        translated=(
            "model",
            "messages",
            "max_tokens",
            "max_completion_tokens",
            "temperature",
            "top_p",
            "stop",
            "stream",
            "stream_options",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "response_format",
            "reasoning_effort",
            "user",
        ),
        dropped=("seed", "service_tier", "store", "metadata", "prompt_cache_key", "safety_identifier"),
        neutral={
            "n": (1,),
            "presence_penalty": (0,),
            "frequency_penalty": (0,),
            "logprobs": (False,),
            "verbosity": ("medium",),
        },
        target=_TO_ANTHROPIC,
    )
    system, messages = _chat_messages(body.get("messages"))
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    if system:
        out["system"] = "\n\n".join(system)
    out["max_tokens"] = chat_max_tokens(body) or DEFAULT_MAX_TOKENS
    copy_present(body, out, ("temperature", "top_p", "stream"))
    stop = body.get("stop")
    if isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    elif stop is not None:
        raise Untranslatable("stop", "must be a string or an array of strings")
    if body.get("tools"):
        out["tools"] = _chat_tools(body["tools"])
    choice = _chat_tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
    if choice is not None and (out.get("tools") or choice["type"] == "none"):
        out["tool_choice"] = choice
    _json_mode(body, out, ctx)
    effort = body.get("reasoning_effort")
    if effort is not None and effort != "none":
        if not isinstance(effort, str) or effort not in _BUDGETS:
            raise Untranslatable("reasoning_effort", f"must be one of {sorted(_BUDGETS)}")
        budget = _BUDGETS[effort]
        if out.get("tool_choice", {}).get("type") in ("any", "tool"):
            # Claude refuses thinking with a forced tool (which JSON mode is, here).
            raise Untranslatable("reasoning_effort", "cannot be combined with a forced tool or JSON mode on Claude")
        out["thinking"] = {"type": "enabled", "budget_tokens": budget}
        out["max_tokens"] = max(out["max_tokens"], budget + 1024)  # the budget must fit under max_tokens
    if body.get("user"):
        out["metadata"] = {"user_id": str(body["user"])}
    ctx.caller_usage = bool(obj(body.get("stream_options"), "stream_options").get("include_usage"))
    return out


# --- Messages → chat ---------------------------------------------------------------------------------------


def _anthropic_content(content: Any, field: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise Untranslatable(field, "must be a string or an array of content blocks")
    return [b if isinstance(b, dict) else {"type": None} for b in content]


def _anthropic_user(message: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """One user turn: its tool results become `tool` messages (first, as OpenAI wants them right after the
    assistant's calls), its text and images one user message."""
    results: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for index, block in enumerate(_anthropic_content(message.get("content"), f"{field}.content")):
        where = f"{field}.content[{index}]"
        kind = block.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image":
            parts.append({"type": "image_url", "image_url": {"url": image_url_of(block, where)}})
        elif kind == "tool_result":
            text = text_of(block.get("content"), f"{where}.content")
            if block.get("is_error"):
                text = f"[tool error] {text}"  # chat has no error flag; the model still needs to know
            results.append({"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": text})
        else:
            raise Untranslatable(where, f"a {kind!r} block cannot be sent to an OpenAI model")
    if parts:
        only_text = all(p["type"] == "text" for p in parts)
        content: Any = "".join(p["text"] for p in parts) if only_text else parts
        results.append({"role": "user", "content": content})
    return results


def _anthropic_assistant(message: dict[str, Any], field: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for index, block in enumerate(_anthropic_content(message.get("content"), f"{field}.content")):
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind == "tool_use":
            calls.append(chat_tool_call(block))
        elif kind in ("thinking", "redacted_thinking"):
            continue  # signed for Claude only; an OpenAI model cannot read it (README matrix)
        else:
            raise Untranslatable(f"{field}.content[{index}]", f"a {kind!r} block cannot be sent to an OpenAI model")
    out: dict[str, Any] = {"role": "assistant", "content": "".join(texts) or None}
    if calls:
        out["tool_calls"] = calls
    return out


def _anthropic_tools(tools: Any) -> list[dict[str, Any]]:
    out = []
    for index, tool in enumerate(objects(tools, "tools")):
        if tool.get("type", "custom") != "custom":
            raise Untranslatable(f"tools[{index}]", f"the {tool.get('type')!r} tool runs on Anthropic's side only")
        function: dict[str, Any] = {"name": tool.get("name"), "parameters": tool.get("input_schema") or {}}
        if tool.get("description"):
            function["description"] = tool["description"]
        out.append({"type": "function", "function": function})
    return out


def _anthropic_tool_choice(choice: Any, out: dict[str, Any]) -> None:
    if choice is None:
        return
    choice = obj(choice, "tool_choice")
    kind = choice.get("type")
    mapped = {"auto": "auto", "any": "required", "none": "none"}.get(str(kind))
    if kind == "tool":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif mapped is not None:
        out["tool_choice"] = mapped
    else:
        raise Untranslatable("tool_choice.type", f"{kind!r} is not a known tool choice")
    if choice.get("disable_parallel_tool_use"):
        out["parallel_tool_calls"] = False


def anthropic_to_chat(body: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    check_fields(
        body,
        translated=(
            "model",
            "messages",
            "system",
            "max_tokens",
            "temperature",
            "top_p",
            "stop_sequences",
            "stream",
            "tools",
            "tool_choice",
            "thinking",
            "metadata",
        ),
        dropped=("service_tier",),
        neutral={},
        target=_TO_CHAT,
    )
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": text_of(system, "system")})
    raw = body.get("messages")
    if not isinstance(raw, list):
        raise Untranslatable("messages", "must be an array of messages")
    for index, message in enumerate(raw):
        field = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role == "user":
            messages.extend(_anthropic_user(message, field))
        elif role == "assistant":
            messages.append(_anthropic_assistant(message, field))
        else:
            raise Untranslatable(f"{field}.role", "must be user or assistant")
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    copy_present(body, out, ("max_tokens", "temperature", "top_p", "stream"))
    stops = body.get("stop_sequences")
    if stops:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise Untranslatable("stop_sequences", "must be an array of strings")
        out["stop"] = list(stops)
    if body.get("tools"):
        out["tools"] = _anthropic_tools(body["tools"])
    if out.get("tools"):
        _anthropic_tool_choice(body.get("tool_choice"), out)  # OpenAI refuses tool_choice without tools
    thinking = obj(body.get("thinking"), "thinking")
    if thinking.get("type") not in (None, "enabled", "disabled"):
        raise Untranslatable("thinking.type", f"{thinking.get('type')!r} has no OpenAI equivalent; use enabled")
    if thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or isinstance(budget, bool):
            raise Untranslatable("thinking.budget_tokens", "must be an integer")
        out["reasoning_effort"] = effort_for_budget(budget)
    user = obj(body.get("metadata"), "metadata").get("user_id")
    if user:
        out["user"] = str(user)
    return out
