"""Fault injection per deployment, run-time state changes through /_emulator, and the request recording."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from skygate_emulator.server import RunningEmulator
from tests.emulator.support import DEMO_KEY, raw_client
from tests.emulator.test_openai_sdk import azure_client

FAULTS = "/_emulator/resources/emulator/deployments/flaky/faults"
MESSAGES = [{"role": "user", "content": "hi"}]


def _set_faults(emulator: RunningEmulator, **faults: object) -> dict[str, object]:
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.put(FAULTS, json=faults)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_429_carries_retry_after_headers_and_the_sdk_retries_past_it(emulator: RunningEmulator) -> None:
    _set_faults(emulator, status=429, count=1, retry_after=1)
    with pytest.raises(openai.RateLimitError) as limited:
        azure_client(emulator).chat.completions.create(model="flaky", messages=MESSAGES)  # type: ignore[arg-type]
    assert limited.value.response.headers["retry-after"] == "1"
    assert limited.value.response.headers["retry-after-ms"] == "1000"
    assert "have exceeded token rate limit" in limited.value.message
    _set_faults(emulator, status=429, count=1, retry_after=1)
    completion = azure_client(emulator, max_retries=1).chat.completions.create(model="flaky", messages=MESSAGES)  # type: ignore[arg-type]
    assert completion.choices[0].message.content
    assert len([r for r in emulator.ctx.recorder.all() if r.path.endswith("/chat/completions")]) == 3


@pytest.mark.parametrize(("status", "code"), [(500, "InternalServerError"), (503, "ServiceUnavailable")])
def test_server_errors(emulator: RunningEmulator, status: int, code: str) -> None:
    _set_faults(emulator, status=status, count=-1)
    with pytest.raises(openai.InternalServerError) as failed:
        azure_client(emulator).chat.completions.create(model="flaky", messages=MESSAGES)  # type: ignore[arg-type]
    assert failed.value.status_code == status
    assert failed.value.code == code


def test_latency_before_the_first_byte_and_between_chunks(emulator: RunningEmulator) -> None:
    _set_faults(emulator, latency_ms=300, chunk_delay_ms=100)
    started = time.monotonic()
    stream = azure_client(emulator).chat.completions.create(model="flaky", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    first = next(iter(stream))
    first_byte = time.monotonic() - started
    rest = list(stream)
    total = time.monotonic() - started
    assert first.choices == []
    assert first_byte >= 0.3
    assert total - first_byte >= 0.1 * (len(rest) - 1)


def test_a_dropped_connection_mid_stream(emulator: RunningEmulator) -> None:
    _set_faults(emulator, drop_after_chunks=2)
    stream = azure_client(emulator).chat.completions.create(model="flaky", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    received = []

    def consume() -> None:
        received.extend(stream)

    with pytest.raises((httpx.RemoteProtocolError, openai.APIConnectionError, openai.APIError)):
        consume()
    assert len(received) == 2


def test_content_filter_fault(emulator: RunningEmulator) -> None:
    _set_faults(emulator, content_filter=True)
    with pytest.raises(openai.BadRequestError) as filtered:
        azure_client(emulator).chat.completions.create(model="flaky", messages=MESSAGES)  # type: ignore[arg-type]
    assert filtered.value.code == "content_filter"


def test_unknown_fault_fields_are_refused(emulator: RunningEmulator) -> None:
    with raw_client(emulator.ca_file, emulator.url) as client:
        assert client.put(FAULTS, json={"explode": True}).status_code == 400
        assert client.put("/_emulator/resources/emulator/deployments/nope/faults", json={}).status_code == 404


def test_state_can_be_changed_at_run_time(emulator: RunningEmulator) -> None:
    with raw_client(emulator.ca_file, emulator.url) as client:
        state = client.get("/_emulator/state").json()
        state["resources"][0]["deployments"].append({"name": "grok-3", "model": "grok-3"})
        state["resources"][0]["keys"] = ["rotated-key-000000000000000000001"]
        assert client.put("/_emulator/state", json=state).status_code == 200
        ok = client.post(
            "/openai/v1/chat/completions",
            headers={"api-key": "rotated-key-000000000000000000001"},
            json={"model": "grok-3", "messages": MESSAGES},
        )
        old_key = client.post(
            "/openai/v1/chat/completions", headers={"api-key": DEMO_KEY}, json={"model": "grok-3", "messages": MESSAGES}
        )
        assert client.put("/_emulator/state", json={"tenants": "nope"}).status_code == 400
    assert ok.status_code == 200
    assert old_key.status_code == 401


def test_the_recording_masks_credentials_and_can_be_cleared(emulator: RunningEmulator) -> None:
    azure_client(emulator).chat.completions.create(model="gpt-4o", messages=MESSAGES)  # type: ignore[arg-type]
    with raw_client(emulator.ca_file, emulator.url) as client:
        recorded = client.get("/_emulator/requests").json()["data"]
        assert DEMO_KEY not in str(recorded)
        assert recorded[0]["body"]["model"] == "gpt-4o"
        assert client.delete("/_emulator/requests").status_code == 204
        assert client.get("/_emulator/requests").json()["data"] == []
