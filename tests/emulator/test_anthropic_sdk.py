"""The official anthropic Foundry client, unchanged, against the emulated Claude deployment (/anthropic)."""

from __future__ import annotations

import anthropic
import httpx2
import pytest
from anthropic import AnthropicFoundry
from azure.identity import ClientSecretCredential, get_bearer_token_provider

from skygate_emulator.server import RunningEmulator
from tests.emulator.support import DEMO_CLIENT, DEMO_KEY, DEMO_SECRET, DEMO_TENANT, ssl_context


def foundry(emulator: RunningEmulator, **kwargs: object) -> AnthropicFoundry:
    options: dict[str, object] = {"api_key": DEMO_KEY, "max_retries": 0}
    options.update(kwargs)
    return AnthropicFoundry(
        base_url=f"{emulator.url}/anthropic", http_client=httpx2.Client(verify=ssl_context(emulator.ca_file)), **options
    )  # type: ignore[arg-type]


def test_foundry_client_messages_with_a_key(emulator: RunningEmulator) -> None:
    message = foundry(emulator).messages.create(
        model="claude-sonnet-4-5", max_tokens=200, messages=[{"role": "user", "content": "Hello Claude"}]
    )
    assert message.content[0].text == "Hello from the Azure emulator (claude-sonnet-4-5). You said: Hello Claude"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    [recorded] = emulator.ctx.recorder.all()
    assert recorded.path == "/anthropic/v1/messages"
    # The Foundry client sends both headers (reference §5.3).
    assert recorded.headers["x-api-key"] == "***" + DEMO_KEY[-4:]
    assert recorded.headers["api-key"] == "***" + DEMO_KEY[-4:]


def test_foundry_client_streams_the_anthropic_event_sequence(emulator: RunningEmulator) -> None:
    with foundry(emulator).messages.stream(
        model="claude-sonnet-4-5", max_tokens=200, messages=[{"role": "user", "content": "stream"}]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[0] == "message_start"
    assert "content_block_delta" in kinds
    assert kinds[-1] == "message_stop"
    assert final.content[0].text.endswith("You said: stream")  # type: ignore[union-attr]


def test_foundry_client_tool_use(emulator: RunningEmulator) -> None:
    tools = [{"name": "get_weather", "input_schema": {"type": "object"}}]
    first = foundry(emulator).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=200,
        tools=tools,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": 'call get_weather {"city": "Oslo"}'}],
    )
    assert first.stop_reason == "tool_use"
    [use] = first.content
    assert use.type == "tool_use"
    assert use.input == {"city": "Oslo"}  # type: ignore[union-attr]
    second = foundry(emulator).messages.create(
        model="claude-sonnet-4-5",
        max_tokens=200,
        tools=tools,  # type: ignore[arg-type]
        messages=[
            {"role": "user", "content": "call get_weather"},
            {"role": "assistant", "content": [use.model_dump()]},  # type: ignore[list-item]
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "snow"}]},  # type: ignore[union-attr]
        ],
    )
    assert second.content[0].text == "The tool returned: snow"  # type: ignore[union-attr]


def test_foundry_client_with_an_entra_token_provider(emulator: RunningEmulator) -> None:
    credential = ClientSecretCredential(
        DEMO_TENANT, DEMO_CLIENT, DEMO_SECRET, authority=emulator.url, disable_instance_discovery=True
    )
    provider = get_bearer_token_provider(credential, "https://cognitiveservices.azure.com/.default")
    message = foundry(emulator, api_key=None, azure_ad_token_provider=provider).messages.create(
        model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "token"}]
    )
    assert message.content[0].text.endswith("You said: token")  # type: ignore[union-attr]


def test_foundry_client_errors(emulator: RunningEmulator) -> None:
    with pytest.raises(anthropic.AuthenticationError, match="Access denied due to invalid subscription key"):
        foundry(emulator, api_key="wrong").messages.create(
            model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(anthropic.NotFoundError) as missing:
        foundry(emulator).messages.create(model="gpt-4o", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
