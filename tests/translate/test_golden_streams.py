"""Golden transcripts for the tricky chunks: an upstream stream (tests/golden/<case>/upstream.sse) goes through
the same SSE decoder and translator chain as the gateway's, and must give exactly `expected.sse`, whatever
sizes the bytes arrive in.

Set SKYGATE_UPDATE_GOLDEN=1 to rewrite the expected files after a deliberate change, then read the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skygate.gateway.upstream import SSEDecoder
from skygate.translate.plan import plan_for

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "upstream.sse").is_file())


def translate(case: Path, piece: int = 7) -> str:
    config = json.loads((case / "case.json").read_text())
    plan = plan_for(config["caller"], config["upstream"], config["model"])
    plan.ctx.created = 1764300000
    plan.ctx.caller_usage = config.get("caller_usage", False)
    raw, chain, decoder = (case / "upstream.sse").read_bytes(), plan.stream(), SSEDecoder()
    # Odd-sized pieces, so events and even UTF-8 characters are split across reads as on a real socket.
    pieces = [raw[i : i + piece] for i in range(0, len(raw), piece)]
    events = [data for p in pieces for data in decoder.feed(p)] + decoder.end()
    return b"".join(chain.feed(data) for data in events).decode()


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 6


@pytest.mark.parametrize("name", CASES)
def test_stream_matches_its_golden_transcript(name: str) -> None:
    case = GOLDEN / name
    produced = translate(case)
    expected = case / "expected.sse"
    if os.environ.get("SKYGATE_UPDATE_GOLDEN") == "1":
        expected.write_text(produced)
    assert produced == expected.read_text(), f"{name}: translation changed; see the module docstring"
    assert translate(case, piece=1) == produced  # byte by byte
    assert translate(case, piece=1 << 20) == produced  # all at once
