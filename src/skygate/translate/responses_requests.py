"""Request bodies between OpenAI chat completions and the OpenAI Responses API."""

from __future__ import annotations

from typing import Any

from skygate.translate.content import text_of
from skygate.translate.context import TranslationContext
from skygate.translate.errors import Untranslatable
from skygate.translate.fields import chat_max_tokens, check_fields, copy_present, obj, objects

__all__ = ["chat_to_responses", "responses_to_chat"]

_TO_RESPONSES = "the Responses API"
_TO_CHAT = "chat completions"
# Fields with the same name and meaning in chat completions and Responses.
_SAME_NAMED = ("temperature", "top_p", "stream", "parallel_tool_calls", "user", "safety_identifier",
               "prompt_cache_key", "service_tier")  # fmt: skip


# --- chat → Responses --------------------------------------------------------------------------------------


def _input_parts(content: Any, field: str) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise Untranslatable(field, "must be a string or an array of content parts")
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append({"type": "input_text", "text": str(part.get("text", ""))})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            detail = image.get("detail", "auto") if isinstance(image, dict) else "auto"
            parts.append({"type": "input_image", "image_url": url, "detail": detail})
        else:
            raise Untranslatable(f"{field}[{index}]", f"a {kind!r} part cannot be sent to the Responses API here")
    return parts


def _chat_input(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list):
        raise Untranslatable("messages", "must be an array of messages")
    items: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        field = f"messages[{index}]"
        role = message.get("role") if isinstance(message, dict) else None
        if role in ("system", "developer", "user"):
            content = _input_parts(message.get("content"), f"{field}.content")
            items.append({"type": "message", "role": role, "content": content})
        elif role == "assistant":
            text = text_of(message.get("content"), f"{field}.content")
            if text:
                items.append(
                    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}
                )
            for number, call in enumerate(objects(message.get("tool_calls"), f"{field}.tool_calls")):
                function = obj(call.get("function"), f"{field}.tool_calls[{number}].function")
                if call.get("type", "function") != "function":
                    raise Untranslatable(f"{field}.tool_calls[{number}]", "only function tool calls are supported")
                items.append(
                    {
                        "type": "function_call",
                        "call_id": call.get("id"),
                        "name": function.get("name"),
                        "arguments": function.get("arguments") or "{}",
                    }
                )
        elif role == "tool":
            output = text_of(message.get("content"), f"{field}.content")
            items.append({"type": "function_call_output", "call_id": message.get("tool_call_id"), "output": output})
        else:
            raise Untranslatable(f"{field}.role", f"{role!r} cannot be sent to the Responses API")
    return items


def _chat_tools(tools: Any) -> list[dict[str, Any]]:
    out = []
    for index, tool in enumerate(objects(tools, "tools")):
        if tool.get("type", "function") != "function":
            raise Untranslatable(f"tools[{index}]", "only function tools are supported")
        function = obj(tool.get("function"), f"tools[{index}].function")
        entry: dict[str, Any] = {
            "type": "function",
            "name": function.get("name"),
            "parameters": function.get("parameters") or {"type": "object", "properties": {}},
            # Responses makes function tools strict by default; chat does not.
            "strict": bool(function.get("strict", False)),
        }
        if function.get("description"):
            entry["description"] = function["description"]
        out.append(entry)
    return out


def _text_format(raw: Any) -> dict[str, Any] | None:
    fmt = obj(raw, "response_format")
    if fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if fmt.get("type") == "json_schema":
        schema = obj(fmt.get("json_schema"), "response_format.json_schema")
        out = {"type": "json_schema", "name": schema.get("name", "response"), "schema": schema.get("schema") or {}}
        for key in ("strict", "description"):
            if key in schema:
                out[key] = schema[key]
        return out
    raise Untranslatable("response_format.type", f"{fmt.get('type')!r} is not a known format")


def chat_to_responses(body: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    check_fields(
        body,
        translated=(
            *_SAME_NAMED,
            "model",
            "messages",
            "max_tokens",
            "max_completion_tokens",
            "stream_options",
            "tools",
            "tool_choice",
            "response_format",
            "reasoning_effort",
            "verbosity",
        ),
        dropped=("seed", "store", "metadata"),
        neutral={
            "n": (1,),
            "presence_penalty": (0,),
            "frequency_penalty": (0,),
            "logprobs": (False,),
            "stop": ([],),
        },
        target=_TO_RESPONSES,
    )
    # A translated call is stateless for the caller: nothing is kept at Azure on its behalf.
    out: dict[str, Any] = {"model": body.get("model"), "input": _chat_input(body.get("messages")), "store": False}
    if chat_max_tokens(body) is not None:
        out["max_output_tokens"] = chat_max_tokens(body)
    copy_present(body, out, _SAME_NAMED)
    if body.get("tools"):
        out["tools"] = _chat_tools(body["tools"])
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function":
        out["tool_choice"] = {
            "type": "function",
            "name": obj(choice.get("function"), "tool_choice.function").get("name"),
        }
    elif choice in ("auto", "none", "required"):
        out["tool_choice"] = choice
    elif choice is not None:
        raise Untranslatable("tool_choice", f"{choice!r} cannot be expressed for the Responses API")
    text: dict[str, Any] = {}
    fmt = _text_format(body.get("response_format"))
    if fmt is not None:
        text["format"] = fmt
    if body.get("verbosity") is not None:
        text["verbosity"] = body["verbosity"]
    if text:
        out["text"] = text
    if body.get("reasoning_effort") is not None:
        out["reasoning"] = {"effort": body["reasoning_effort"]}
    ctx.caller_usage = bool(obj(body.get("stream_options"), "stream_options").get("include_usage"))
    return out


# --- Responses → chat --------------------------------------------------------------------------------------


def _chat_parts(content: Any, field: str) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise Untranslatable(field, "must be a string or an array of content parts")
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            image = {"url": part["image_url"]}
            if part.get("detail") not in (None, "auto"):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        else:
            reason = "only text and image URLs (not file ids) can be carried to this model"
            raise Untranslatable(f"{field}[{index}]", f"a {kind!r} part: {reason}")
    if all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)
    return parts


def _responses_messages(raw: Any) -> list[dict[str, Any]]:
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise Untranslatable("input", "must be a string or an array of input items")
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        field = f"input[{index}]"
        kind = item.get("type", "message") if isinstance(item, dict) else None
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "system", "developer", "assistant"):
                raise Untranslatable(f"{field}.role", "must be user, system, developer or assistant")
            content = _chat_parts(item.get("content"), f"{field}.content")
            if role == "assistant":
                content = text_of(content, f"{field}.content") if not isinstance(content, str) else content
            messages.append({"role": role, "content": content})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments") or "{}"},
            }
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)  # parallel calls share one assistant turn
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else text_of(output, f"{field}.output")
            messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": text})
        elif kind == "reasoning":
            continue  # the model's own encrypted reasoning; another model cannot read it (README matrix)
        else:
            raise Untranslatable(field, f"a {kind!r} item only works on a Responses model")
    return messages


def _responses_tools(tools: Any) -> list[dict[str, Any]]:
    out = []
    for index, tool in enumerate(objects(tools, "tools")):
        kind = tool.get("type")
        if kind != "function":
            raise Untranslatable(f"tools[{index}]", f"the built-in {kind!r} tool only works on a Responses model")
        function: dict[str, Any] = {"name": tool.get("name"), "parameters": tool.get("parameters") or {}}
        for key in ("description", "strict"):
            if tool.get(key) is not None:
                function[key] = tool[key]
        out.append({"type": "function", "function": function})
    return out


def _response_format(text: Any) -> dict[str, Any] | None:
    fmt = obj(obj(text, "text").get("format"), "text.format")
    if fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_object":
        return {"type": "json_object"}
    if fmt.get("type") == "json_schema":
        schema = {"name": fmt.get("name", "response"), "schema": fmt.get("schema") or {}}
        for key in ("strict", "description"):
            if key in fmt:
                schema[key] = fmt[key]
        return {"type": "json_schema", "json_schema": schema}
    raise Untranslatable("text.format.type", f"{fmt.get('type')!r} is not a known format")


def responses_to_chat(body: dict[str, Any], ctx: TranslationContext) -> dict[str, Any]:
    check_fields(
        body,
        translated=(
            *_SAME_NAMED,
            "model",
            "input",
            "instructions",
            "max_output_tokens",
            "tools",
            "tool_choice",
            "text",
            "reasoning",
        ),
        # `store`/`include` shape what Azure keeps or adds, not the answer; the summary is shown when there is one.
        dropped=("store", "include", "metadata", "stream_options"),
        neutral={"truncation": ("disabled", "auto"), "background": (False,)},
        target=_TO_CHAT,
    )
    messages = _responses_messages(body.get("input"))
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise Untranslatable("instructions", "must be a string")
    if instructions:
        messages.insert(0, {"role": "system", "content": instructions})
    include = body.get("include") or []
    if any("logprobs" in str(entry) for entry in (include if isinstance(include, list) else [include])):
        raise Untranslatable("include", "logprobs are only available from a Responses model")
    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    if body.get("max_output_tokens") is not None:
        out["max_tokens"] = body["max_output_tokens"]
    copy_present(body, out, _SAME_NAMED)
    if body.get("tools"):
        out["tools"] = _responses_tools(body["tools"])
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function":
        out["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    elif choice in ("auto", "none", "required"):
        out["tool_choice"] = choice
    elif choice is not None:
        raise Untranslatable("tool_choice", f"{choice!r} only works on a Responses model")
    fmt = _response_format(body.get("text"))
    if fmt is not None:
        out["response_format"] = fmt
    verbosity = obj(body.get("text"), "text").get("verbosity")
    if verbosity is not None:
        out["verbosity"] = verbosity
    effort = obj(body.get("reasoning"), "reasoning").get("effort")
    if effort is not None:
        out["reasoning_effort"] = effort
    return out
