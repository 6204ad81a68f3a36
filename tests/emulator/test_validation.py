"""Odd requests get a 400 naming the field, never a 500 (reviewed input shapes), and the control routes check
what they are given."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from skygate_emulator.server import RunningEmulator
from tests.emulator.support import DEMO_KEY, raw_client

CHAT = "/openai/v1/chat/completions"
OK_MESSAGES = [{"role": "user", "content": "hi"}]

BAD = [
    (CHAT, {"model": "gpt-4o", "messages": None}, "messages"),
    (CHAT, {"model": "gpt-4o", "messages": "hi"}, "messages"),
    (CHAT, {"model": "gpt-4o", "messages": OK_MESSAGES, "max_tokens": "5"}, "max_tokens"),
    (CHAT, {"model": "gpt-4o", "messages": OK_MESSAGES, "max_tokens": -1}, "max_tokens"),
    (CHAT, {"model": "gpt-4o", "messages": OK_MESSAGES, "max_tokens": True}, "max_tokens"),
    (CHAT, {"model": "gpt-4o", "messages": OK_MESSAGES, "tools": [{"function": "x"}]}, "tools"),
    (CHAT, {"model": "gpt-4o", "messages": OK_MESSAGES, "tools": [{"function": {"name": 5}}]}, "tools"),
    (CHAT, {"model": "gpt-4o", "messages": OK_MESSAGES, "stream": True, "stream_options": "x"}, "stream_options"),
    ("/openai/v1/responses", {"model": "gpt-4o", "input": 5}, "input"),
    ("/openai/v1/responses", {"model": "gpt-4o", "input": None}, "input"),
    ("/openai/v1/responses", {"model": "gpt-4o", "input": "x", "max_output_tokens": "3"}, "max_output_tokens"),
    ("/openai/v1/embeddings", {"model": "text-embedding-3-small", "input": 5}, "input"),
    ("/openai/v1/embeddings", {"model": "text-embedding-3-small", "input": "a", "dimensions": "abc"}, "dimensions"),
    ("/openai/v1/embeddings", {"model": "text-embedding-3-small", "input": "a", "dimensions": 0}, "dimensions"),
    ("/openai/v1/embeddings", {"model": "text-embedding-3-small", "input": "a", "dimensions": 3_000_000}, "dimensions"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_odd_openai_requests_are_400s(emulator: RunningEmulator, path: str, body: dict[str, Any], field: str) -> None:
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.post(path, headers={"api-key": DEMO_KEY}, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(f"{field}:")


@pytest.mark.parametrize("max_tokens", [True, -10, "10", None])
def test_odd_anthropic_requests_are_400s(emulator: RunningEmulator, max_tokens: object) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": max_tokens, "messages": OK_MESSAGES}
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.post("/anthropic/v1/messages", headers={"x-api-key": DEMO_KEY}, json=body)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: must be an integer of at least 1",
    }


def test_a_lone_surrogate_is_a_400(emulator: RunningEmulator) -> None:
    raw = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "\\ud800"}]}'
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.post(CHAT, headers={"api-key": DEMO_KEY, "content-type": "application/json"}, content=raw)
    assert response.status_code == 400


def test_tool_arguments_are_the_first_json_object(emulator: RunningEmulator) -> None:
    body = {
        "model": "gpt-4o",
        "tools": [{"type": "function", "function": {"name": "x"}}],
        "messages": [{"role": "user", "content": 'call x {"a": 1} and then {"b": 2}'}],
    }
    with raw_client(emulator.ca_file, emulator.url) as client:
        message = client.post(CHAT, headers={"api-key": DEMO_KEY}, json=body).json()["choices"][0]["message"]
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"a": 1}


def test_streams_carry_usage_only_when_asked_and_supported(emulator: RunningEmulator) -> None:
    def last_data(path: str, body: dict[str, Any]) -> str:
        with raw_client(emulator.ca_file, emulator.url) as client:
            text = client.post(path, headers={"api-key": DEMO_KEY}, json=body).text
        events = [line for line in text.splitlines() if line.startswith("data: ")]
        assert events[-1] == "data: [DONE]"
        return events[-2]

    stream = {"model": "gpt-4o", "messages": OK_MESSAGES, "stream": True}
    assert '"usage"' not in last_data(CHAT, stream)
    asked = stream | {"stream_options": {"include_usage": True}}
    assert '"usage":{' in last_data(CHAT, asked)
    old = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01"
    assert '"usage":{' not in last_data(old, asked)


@pytest.mark.parametrize("kind", ["expired", "foreign key", "malformed"])
def test_bad_bearer_tokens_are_the_token_401(emulator: RunningEmulator, kind: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = emulator.ctx.signing_key
    claims = {"aud": "https://cognitiveservices.azure.com", "tid": "x", "oid": "y", "exp": 1}
    if kind == "expired":
        token = jwt.encode(claims, key.private_key, algorithm="RS256")
    elif kind == "foreign key":
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        token = jwt.encode(claims | {"exp": 2_000_000_000}, stranger, algorithm="RS256")
    else:
        token = "not.a.jwt"
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.post(
            CHAT, headers={"authorization": f"Bearer {token}"}, json={"model": "gpt-4o", "messages": OK_MESSAGES}
        )
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


def test_control_routes_check_their_input(emulator: RunningEmulator) -> None:
    faults = "/_emulator/resources/emulator/deployments/flaky/faults"
    with raw_client(emulator.ca_file, emulator.url) as client:
        assert client.put("/_emulator/state", json=[]).status_code == 400
        assert client.put(faults, content=b"not json").status_code == 400
        assert client.put(faults, json={"status": "abc"}).status_code == 400
        assert client.put(faults, json={"status": 200}).status_code == 400
        assert client.put(faults, json={"count": "2"}).status_code == 400
        options = client.put("/_emulator/options", json={"token_lifetime_seconds": 60, "clock_offset_seconds": 5})
        assert options.json() == {"token_lifetime_seconds": 60, "clock_offset_seconds": 5, "allow_http_issuers": False}
        assert client.put("/_emulator/options", json={"token_lifetime_seconds": 0}).status_code == 400
        assert (
            client.post(
                CHAT, headers={"api-key": DEMO_KEY}, json={"model": "flaky", "messages": OK_MESSAGES}
            ).status_code
            == 200
        )
    emulator.ctx.options.token_lifetime_seconds = 3599
    emulator.ctx.options.clock_offset_seconds = 0
