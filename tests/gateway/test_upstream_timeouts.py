"""The upstream timeout bounds the wait for an answer and each silence inside a stream, not a stream's length."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import anthropic
import httpx
import openai
import pytest

from skygate.gateway.upstream import UpstreamClient
from skygate.settings import Settings
from skygate_emulator.server import RunningEmulator, running_emulator
from skygate_emulator.state import Deployment
from tests.emulator.support import DEMO_KEY, emulator_state, raw_client
from tests.support import Gateway, make_settings, running_gateway, unique

LIMIT = 0.5
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningEmulator, Gateway, str]]:
    """A gateway with a half-second upstream timeout, and an invoke key whose provider serves `slow` (chat)."""
    tmp = tmp_path_factory.mktemp("timeouts")
    state = emulator_state()
    state.resources[0].deployments.append(Deployment(name="slow", model="gpt-4o"))
    with running_emulator(tmp / "tls", state) as emulator:
        settings = make_settings(tmp, f"sqlite+aiosqlite:///{tmp / 'skygate.db'}", ca_bundle=emulator.ca_file,
                                 allowed_upstream_hosts=("127.0.0.1",), upstream_timeout_seconds=LIMIT)  # fmt: skip
        with running_gateway(settings) as gateway, gateway.api() as api:
            org = api.post("/orgs", json={"name": unique("org")}).json()["id"]
            created = api.post(f"/orgs/{org}/providers", json={
                "name": "slowpoke", "type": "azure", "api_base": emulator.url,
                "auth": {"method": "api_key", "api_key": DEMO_KEY}, "include_default_registry": False,
                "models": [{"deployment": "slow", "api": "chat_completions"}],
            })  # fmt: skip
            assert created.status_code == 201, created.text
            key = api.post(f"/orgs/{org}/keys", json={"name": "app", "role": "invoke"}).json()["key"]
            deadline = time.monotonic() + 2
            while (
                "slow"
                not in httpx.get(f"{gateway.base_url}/v1/models", headers={"authorization": f"Bearer {key}"}).text
            ):
                assert time.monotonic() < deadline
                time.sleep(0.05)
            yield emulator, gateway, key


def _faults(emulator: RunningEmulator, **faults: object) -> None:
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.put("/_emulator/resources/emulator/deployments/slow/faults", json=faults)
        assert response.status_code == 200


def test_an_answer_slower_than_the_timeout_is_a_504(slow: tuple[RunningEmulator, Gateway, str]) -> None:
    emulator, gateway, key = slow
    _faults(emulator, latency_ms=2000, chunk_delay_ms=0)
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0)
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as failed:
        client.chat.completions.create(model="slow", messages=HI)
    assert failed.value.status_code == 504
    assert f"no answer within {LIMIT:g} s" in failed.value.message
    assert time.monotonic() - started < LIMIT + 1.0


def test_a_stream_silent_for_longer_than_the_timeout_ends(slow: tuple[RunningEmulator, Gateway, str]) -> None:
    emulator, gateway, key = slow
    _faults(emulator, latency_ms=0, chunk_delay_ms=2000)
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0)
    logged = len(gateway.logs.lines)
    started = time.monotonic()
    chunks = list(client.chat.completions.create(model="slow", messages=HI, stream=True))
    assert chunks, "the first chunk comes at once"
    assert all(c.choices[0].finish_reason is None for c in chunks if c.choices)  # cut, not finished
    assert time.monotonic() - started < LIMIT + 1.0
    assert any("broke off" in line and f"nothing for {LIMIT:g} s" in line for line in gateway.logs.lines[logged:])


def test_a_translated_stream_that_goes_silent_ends_with_an_error_the_sdk_raises(
    slow: tuple[RunningEmulator, Gateway, str],
) -> None:
    emulator, gateway, key = slow
    _faults(emulator, latency_ms=0, chunk_delay_ms=2000)
    client = anthropic.Anthropic(base_url=gateway.base_url, api_key=key, max_retries=0)
    with pytest.raises(anthropic.APIError) as failed:
        for _ in client.messages.create(model="slow", max_tokens=50, messages=HI, stream=True):
            pass
    assert f"the upstream stream ended early: nothing for {LIMIT:g} s" in str(failed.value)


def test_a_stream_longer_than_the_timeout_with_short_gaps_completes(
    slow: tuple[RunningEmulator, Gateway, str],
) -> None:
    emulator, gateway, key = slow
    _faults(emulator, latency_ms=0, chunk_delay_ms=200)
    client = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0)
    started = time.monotonic()
    chunks = list(client.chat.completions.create(model="slow", messages=HI, stream=True))
    assert time.monotonic() - started > LIMIT  # longer than the timeout in all ...
    assert chunks[-1].choices[0].finish_reason == "stop"  # ... yet whole: the limit is on silence


def test_a_caller_slow_to_take_chunks_does_not_count_as_upstream_silence(
    slow: tuple[RunningEmulator, Gateway, str],
) -> None:
    """The timeout is on the upstream's silence: a relay held up on its caller (a full socket to a slow client)
    for longer than the limit must not end a stream the upstream keeps sending."""
    emulator, _, _ = slow
    _faults(emulator, latency_ms=0, chunk_delay_ms=50)

    async def read_slowly() -> list[bytes]:
        client = UpstreamClient(Settings(ca_bundle=emulator.ca_file, upstream_timeout_seconds=LIMIT))
        try:
            body = b'{"model": "slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
            upstream = await client.send(f"{emulator.url}/openai/v1/chat/completions",
                                         {"api-key": DEMO_KEY, "content-type": "application/json"}, body)  # fmt: skip
            chunks: list[bytes] = []

            def take(chunk: bytes) -> None:
                chunks.append(chunk)
                if len(chunks) == 1:  # the caller's socket is full; the upstream keeps going
                    upstream.pause()
                    asyncio.get_running_loop().call_later(LIMIT * 2, upstream.resume)

            await upstream.relay(take)
            await upstream.aclose()
            return chunks
        finally:
            await client.aclose()

    body = b"".join(asyncio.run(read_slowly()))
    assert body.rstrip().endswith(b"data: [DONE]")
