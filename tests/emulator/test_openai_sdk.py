"""The official openai client, unchanged, against the emulated Azure OpenAI: classic routes with AzureOpenAI
(api key and Entra token provider), and the v1 routes with plain OpenAI(base_url=…/openai/v1)."""

from __future__ import annotations

import base64
import json
import math
import struct

import httpx
import openai
import pytest
from azure.identity import ClientSecretCredential, get_bearer_token_provider
from openai import AzureOpenAI, OpenAI

from skygate_emulator.server import RunningEmulator
from tests.emulator.support import DEMO_CLIENT, DEMO_KEY, DEMO_SECRET, DEMO_TENANT, ssl_context

API_VERSION = "2024-10-21"


def _http(emulator: RunningEmulator) -> httpx.Client:
    return httpx.Client(verify=ssl_context(emulator.ca_file))


def azure_client(emulator: RunningEmulator, **kwargs: object) -> AzureOpenAI:
    options: dict[str, object] = {"api_key": DEMO_KEY, "max_retries": 0}
    options.update(kwargs)
    return AzureOpenAI(azure_endpoint=emulator.url, api_version=API_VERSION, http_client=_http(emulator), **options)  # type: ignore[arg-type]


def v1_client(emulator: RunningEmulator) -> OpenAI:
    return OpenAI(base_url=f"{emulator.url}/openai/v1", api_key=DEMO_KEY, http_client=_http(emulator), max_retries=0)


def test_azure_openai_chat_with_an_api_key(emulator: RunningEmulator) -> None:
    completion = azure_client(emulator).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Say hi"}]
    )
    assert completion.choices[0].message.content == "Hello from the Azure emulator (gpt-4o). You said: Say hi"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    extra = completion.model_extra or {}
    assert extra["prompt_filter_results"][0]["content_filter_results"]["hate"] == {
        "filtered": False,
        "severity": "safe",
    }
    [recorded] = emulator.ctx.recorder.all()
    assert recorded.path == "/openai/deployments/gpt-4o/chat/completions"
    assert recorded.query == {"api-version": API_VERSION}
    assert recorded.headers["api-key"] == "***" + DEMO_KEY[-4:]


def test_azure_openai_chat_with_an_entra_token_provider(emulator: RunningEmulator) -> None:
    credential = ClientSecretCredential(
        DEMO_TENANT, DEMO_CLIENT, DEMO_SECRET, authority=emulator.url, disable_instance_discovery=True
    )
    provider = get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")
    client = azure_client(emulator, api_key=None, azure_ad_token_provider=provider)
    completion = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content.endswith("You said: hi")  # type: ignore[union-attr]
    recorded = emulator.ctx.recorder.all()[-1]
    assert recorded.headers["authorization"].startswith("Bearer ***")
    assert "api-key" not in recorded.headers


def test_azure_openai_streams_with_azure_quirks_and_usage(emulator: RunningEmulator) -> None:
    stream = azure_client(emulator).chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices == []
    assert (chunks[0].model_extra or {})["prompt_filter_results"]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from the Azure emulator (gpt-4o). You said: stream please"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert all((c.choices[0].model_extra or {})["content_filter_results"] for c in content_chunks)


def test_tool_calls_follow_the_documented_trigger(emulator: RunningEmulator) -> None:
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    client = azure_client(emulator)
    first = client.chat.completions.create(
        model="gpt-4o",
        tools=tools,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": 'Please call get_weather with {"city": "Paris"}'}],
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    second = client.chat.completions.create(
        model="gpt-4o",
        tools=tools,  # type: ignore[arg-type]
        messages=[
            {"role": "user", "content": "Please call get_weather"},
            {"role": "assistant", "tool_calls": [call.model_dump()]},  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
        ],
    )
    assert second.choices[0].message.content == "The tool returned: sunny, 21C"


def test_streamed_tool_calls(emulator: RunningEmulator) -> None:
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    stream = azure_client(emulator).chat.completions.create(
        model="gpt-4o",
        tools=tools,
        stream=True,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": 'call lookup {"q": 1}'}],
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    calls = [t for d in deltas for t in d.tool_calls or []]
    assert calls[0].function.name == "lookup"  # type: ignore[union-attr]
    assert "".join(t.function.arguments or "" for t in calls) == '{"q": 1}'  # type: ignore[union-attr]


def test_azure_openai_responses_on_the_classic_route(emulator: RunningEmulator) -> None:
    response = azure_client(emulator).responses.create(model="gpt-4o", input="What is up?")
    assert response.output_text == "Hello from the Azure emulator (gpt-4o). You said: What is up?"
    assert response.status == "completed"
    recorded = emulator.ctx.recorder.all()[-1]
    assert recorded.path == "/openai/responses"
    assert recorded.query == {"api-version": API_VERSION}


def test_responses_stream_events(emulator: RunningEmulator) -> None:
    with v1_client(emulator).responses.stream(model="gpt-4o", input="stream it") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created"
    assert kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert final.output_text.endswith("You said: stream it")


def test_v1_routes_with_the_plain_openai_client(emulator: RunningEmulator) -> None:
    client = v1_client(emulator)
    chat = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "v1"}])
    assert chat.choices[0].message.content.endswith("You said: v1")  # type: ignore[union-attr]
    assert {m.id for m in client.models.list()} >= {"gpt-4o", "claude-sonnet-4-5"}
    recorded = emulator.ctx.recorder.all()
    assert recorded[0].path == "/openai/v1/chat/completions"
    assert recorded[0].headers["authorization"] == "Bearer ***" + DEMO_KEY[-4:]
    assert recorded[0].query == {}


def test_embeddings_in_float_and_base64(emulator: RunningEmulator) -> None:
    result = azure_client(emulator).embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [len(d.embedding) for d in result.data] == [1536, 1536]
    assert math.isclose(sum(v * v for v in result.data[0].embedding), 1.0, rel_tol=1e-4)
    again = v1_client(emulator).embeddings.create(
        model="text-embedding-3-small", input="a", dimensions=256, encoding_format="float"
    )
    assert len(again.data[0].embedding) == 256
    with httpx.Client(verify=ssl_context(emulator.ca_file)) as raw:
        body = raw.post(
            f"{emulator.url}/openai/v1/embeddings",
            headers={"api-key": DEMO_KEY},
            json={"model": "text-embedding-3-small", "input": "a", "encoding_format": "base64"},
        ).json()
    decoded = struct.unpack("<1536f", base64.b64decode(body["data"][0]["embedding"]))
    assert math.isclose(decoded[0], result.data[0].embedding[0], rel_tol=1e-5)


def test_sdk_errors_carry_the_azure_bodies(emulator: RunningEmulator) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        azure_client(emulator).chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert missing.value.code == "DeploymentNotFound"
    with pytest.raises(openai.AuthenticationError) as denied:
        azure_client(emulator, api_key="wrong").chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}]
        )
    assert "Access denied due to invalid subscription key" in str(denied.value)
    with pytest.raises(openai.BadRequestError) as filtered:
        azure_client(emulator).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "EMULATOR_CONTENT_FILTER"}]
        )
    assert filtered.value.code == "content_filter"
