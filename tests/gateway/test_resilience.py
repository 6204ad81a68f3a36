"""Failover and retries before the first byte, and a client that leaves mid-stream."""

from __future__ import annotations

import socket
import time

import anthropic
import httpx
import openai
import pytest

from tests.emulator.support import raw_client
from tests.gateway.conftest import DataPlane
from tests.gateway.test_sdk_calls import oai

HI = [{"role": "user", "content": "hi"}]


def _faults(dp: DataPlane, deployment: str, **faults: object) -> None:
    with raw_client(dp.emulator.ca_file, dp.emulator.url) as client:
        path = f"/_emulator/resources/emulator/deployments/{deployment}/faults"
        assert client.put(path, json=faults).status_code == 200


def _upstream_paths(dp: DataPlane) -> list[str]:
    return [str(r.body.get("model")) for r in dp.recorded() if r.path == "/openai/v1/chat/completions"]


def test_failover_from_a_failing_deployment(dp: DataPlane) -> None:
    _faults(dp, "flaky", status=500, count=-1)
    dp.provider("broken", include_default_registry=False, models=[{"deployment": "flaky", "api": "chat_completions",
                                                                    "alias": "shared"}])  # fmt: skip
    dp.provider("healthy", include_default_registry=False, models=[{"deployment": "gpt-4o", "api": "chat_completions",
                                                                     "alias": "shared"}])  # fmt: skip
    used = set()
    for _ in range(12):
        raw = oai(dp).chat.completions.with_raw_response.create(model="shared", messages=HI)
        assert raw.status_code == 200
        used.add(raw.headers["x-skygate-provider"])
    assert used == {"healthy"}
    # The broken deployment was tried (and failed over from), not silently skipped.
    assert "flaky" in _upstream_paths(dp)


def test_a_single_failing_provider_returns_the_upstream_error(dp: DataPlane) -> None:
    _faults(dp, "flaky", status=503, count=-1)
    dp.provider("broken", include_default_registry=False, models=[{"deployment": "flaky", "api": "chat_completions"}])
    with pytest.raises(openai.InternalServerError) as failed:
        oai(dp).chat.completions.create(model="flaky", messages=HI)
    assert failed.value.status_code == 503
    assert failed.value.code == "ServiceUnavailable"
    assert failed.value.response.headers["x-skygate-provider"] == "broken"
    assert _upstream_paths(dp) == ["flaky", "flaky"]  # one retry, then the upstream's own error


def test_a_429_with_retry_after_ms_is_waited_out_and_retried(dp: DataPlane) -> None:
    _faults(dp, "flaky", status=429, count=1, retry_after=1)
    dp.provider("limited", include_default_registry=False, models=[{"deployment": "flaky", "api": "chat_completions"}])
    started = time.monotonic()
    completion = oai(dp).chat.completions.create(model="flaky", messages=HI)
    assert completion.choices[0].message.content
    assert time.monotonic() - started >= 1.0  # retry-after-ms: 1000 was honoured
    assert _upstream_paths(dp) == ["flaky", "flaky"]


def test_connection_errors_fail_over(dp: DataPlane) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    dp.provider("dead", api_base=f"https://127.0.0.1:{dead_port}", include_default_registry=False,
                models=[{"deployment": "gpt-4o", "api": "chat_completions", "alias": "both"}])  # fmt: skip
    dp.provider("alive", include_default_registry=False,
                models=[{"deployment": "gpt-4o", "api": "chat_completions", "alias": "both"}])  # fmt: skip
    for _ in range(6):
        raw = oai(dp).chat.completions.with_raw_response.create(model="both", messages=HI)
        assert raw.headers["x-skygate-provider"] == "alive"


def test_an_unreachable_only_provider_is_a_502(dp: DataPlane) -> None:
    dp.provider("dead", api_base="https://127.0.0.1:9", include_default_registry=False,
                models=[{"deployment": "gpt-4o", "api": "chat_completions", "alias": "gone"}])  # fmt: skip
    response = httpx.post(f"{dp.gateway.base_url}/v1/chat/completions", json={"model": "gone", "messages": HI},
                          headers={"authorization": f"Bearer {dp.invoke_key}"})  # fmt: skip
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unreachable"


def test_a_client_leaving_mid_stream_closes_the_upstream_stream(dp: DataPlane) -> None:
    _faults(dp, "slow", chunk_delay_ms=400)
    dp.provider("slowpoke", include_default_registry=False, models=[{"deployment": "slow", "api": "chat_completions"}])
    body = {"model": "slow", "messages": HI, "stream": True}
    headers = {"authorization": f"Bearer {dp.invoke_key}"}
    with (
        httpx.Client(base_url=dp.gateway.base_url, timeout=30) as client,
        client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as response,
    ):
        # Hold the iterator: an abandoned one is closed when the garbage collector gets to it, which would end
        # the stream before the client means to leave.
        chunks = response.iter_raw()
        first = next(chunks)
        assert first.startswith(b"data: ")
        assert dp.emulator.ctx.streams.open["slow"] == 1
    left = time.monotonic()
    while dp.emulator.ctx.streams.open["slow"]:
        assert time.monotonic() - left < 1.0, "the upstream stream outlived the client by more than 1 s"
        time.sleep(0.02)


def test_a_long_retry_after_is_returned_at_once_not_waited_out(dp: DataPlane) -> None:
    _faults(dp, "flaky", status=429, count=1, retry_after=30)
    dp.provider("limited", include_default_registry=False, models=[{"deployment": "flaky", "api": "chat_completions"}])
    started = time.monotonic()
    with pytest.raises(openai.RateLimitError) as limited:
        oai(dp).chat.completions.create(model="flaky", messages=HI)
    assert time.monotonic() - started < 2
    assert limited.value.response.headers["retry-after"] == "30"
    assert _upstream_paths(dp) == ["flaky"]


def _long_text() -> str:
    """9 MB of numbered words: the emulator echoes them back in three pieces, more than the kernel holds between
    the gateway and a client that is not reading (a send buffer of at most 4 MB by default on Linux, and a receive
    window that does not grow while nothing is read), so the server has to hold writes back and the relay to
    pause the upstream: checked by hand with a probe in StreamRelay._write when this test was written."""
    return " ".join(f"w{n:07d}" for n in range(1_000_000))


def test_a_client_reading_slowly_gets_the_whole_stream_in_order(dp: DataPlane) -> None:
    text = _long_text()
    client = openai.OpenAI(base_url=f"{dp.gateway.base_url}/v1", api_key=dp.invoke_key, max_retries=0,
                           timeout=30)  # fmt: skip
    events = iter(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}],
                                                 stream=True))  # fmt: skip
    parts = [next(events)]
    time.sleep(1.0)  # the client's socket fills; the server's writes wait; the relay stops reading upstream
    parts.extend(events)
    echoed = "".join(p.choices[0].delta.content or "" for p in parts if p.choices)
    assert text in echoed
    assert [p.choices[0].finish_reason for p in parts if p.choices and p.choices[0].finish_reason] == ["stop"]


def test_a_translated_stream_to_a_slow_reader_arrives_whole_and_in_order(dp: DataPlane) -> None:
    text = _long_text()
    client = anthropic.Anthropic(base_url=dp.gateway.base_url, api_key=dp.invoke_key, max_retries=0,
                                 timeout=30)  # fmt: skip
    messages = [{"role": "user", "content": text}]
    with client.messages.stream(model="gpt-4o", max_tokens=len(text), messages=messages) as stream:
        events = iter(stream)
        next(events)
        time.sleep(1.0)
        for _ in events:
            pass
        message = stream.get_final_message()
    echoed = "".join(block.text for block in message.content if block.type == "text")
    assert text in echoed
    assert message.stop_reason == "end_turn"
