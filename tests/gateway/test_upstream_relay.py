"""`UpstreamResponse.relay` against the emulator over real HTTPS: what arrived before the relay started — enough to
pause the connection, or a body that already failed — is neither lost nor let through as anything but an
UpstreamError."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from skygate.gateway.upstream import SSEDecoder, UpstreamClient, UpstreamError
from skygate.settings import Settings
from skygate_emulator.server import RunningEmulator, running_emulator
from tests.emulator.support import DEMO_KEY, emulator_state, raw_client

HEADERS = {"api-key": DEMO_KEY, "content-type": "application/json"}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    with running_emulator(tmp_path_factory.mktemp("relay") / "tls", emulator_state()) as running:
        yield running


def _faults(emulator: RunningEmulator, deployment: str, **faults: object) -> None:
    with raw_client(emulator.ca_file, emulator.url) as client:
        path = f"/_emulator/resources/emulator/deployments/{deployment}/faults"
        assert client.put(path, json=faults).status_code == 200


def _request(deployment: str, text: str) -> bytes:
    return json.dumps({"model": deployment, "stream": True, "messages": [{"role": "user", "content": text}]}).encode()


async def _relayed(
    ca_file: Path, url: str, body: bytes, wait: float, hold_first: float = 0.0
) -> tuple[list[bytes], BaseException | None]:
    """The pieces `relay` hands over when it starts `wait` seconds after the headers, and how it ended; with
    `hold_first`, the sink pauses the upstream for that long on taking the first piece (a caller not reading)."""
    client = UpstreamClient(Settings(ca_bundle=ca_file, upstream_timeout_seconds=1))
    try:
        upstream = await client.send(url, HEADERS, body)
        await asyncio.sleep(wait)  # the body keeps arriving meanwhile, held until the relay takes it
        pieces: list[bytes] = []

        def take(piece: bytes) -> None:
            pieces.append(piece)
            if hold_first and len(pieces) == 1:
                upstream.pause()
                asyncio.get_running_loop().call_later(hold_first, upstream.resume)

        try:
            await upstream.relay(take)
        except UpstreamError as exc:
            return pieces, exc
        finally:
            await upstream.aclose()
        return pieces, None
    finally:
        await client.aclose()


def _content(raw: bytes) -> str:
    decoder = SSEDecoder()
    events = [*decoder.feed(raw), *decoder.end()]
    chunks = [json.loads(e) for e in events if e != "[DONE]"]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def test_a_body_that_filled_the_buffer_before_the_relay_started_arrives_whole(emulator: RunningEmulator) -> None:
    # 3 MB echoed in three pieces: past the 1 MiB held for a body nobody reads yet, which pauses the connection;
    # the relay resumes it and must pick up what follows.
    text = " ".join(f"w{n:07d}" for n in range(300_000))
    url = f"{emulator.url}/openai/v1/chat/completions"
    pieces, ended = asyncio.run(_relayed(emulator.ca_file, url, _request("gpt-4o", text), wait=0.5))
    assert ended is None
    raw = b"".join(pieces)
    assert text in _content(raw)  # every word, in order (the emulator puts a greeting before the echo)
    assert raw.rstrip().endswith(b"data: [DONE]")


def test_a_pause_on_the_first_piece_holds_the_upstream_and_loses_nothing(emulator: RunningEmulator) -> None:
    # The first chunk is already held when the relay starts, so the sink's pause comes outside the read callback;
    # the rest comes 50 ms apart, and the pause (1.5 s) is longer than the upstream timeout (1 s).
    _faults(emulator, "flaky", chunk_delay_ms=50)
    try:
        url = f"{emulator.url}/openai/v1/chat/completions"
        body = _request("flaky", "one two three")
        pieces, ended = asyncio.run(_relayed(emulator.ca_file, url, body, wait=0.2, hold_first=1.5))
    finally:
        _faults(emulator, "flaky")
    assert ended is None  # not an upstream timeout: time paused for the caller is not silence
    raw = b"".join(pieces)
    assert "one two three" in _content(raw)
    assert raw.rstrip().endswith(b"data: [DONE]")


def test_a_body_that_failed_before_the_relay_started_ends_it_as_an_upstream_error(emulator: RunningEmulator) -> None:
    _faults(emulator, "flaky", drop_after_chunks=1)
    try:
        url = f"{emulator.url}/openai/v1/chat/completions"
        pieces, ended = asyncio.run(_relayed(emulator.ca_file, url, _request("flaky", "hi"), wait=0.5))
    finally:
        _faults(emulator, "flaky")
    # What arrived before the drop is handed over, then the failure, as for a body that fails mid-relay.
    assert isinstance(ended, UpstreamError)
    assert len(pieces) == 1
    assert pieces[0].startswith(b"data: ")
    assert b"[DONE]" not in pieces[0]
