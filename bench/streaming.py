"""The streaming part of the bench: many concurrent SSE streams from a paced stand-in, straight to it ("direct"),
through an nginx proxy hop, through a bare uvloop pipe (the least a Python relay can cost) and through skygate,
with time to first chunk, each chunk's delivery time and the CPU each relay spends per chunk, over interleaved
rounds; and the memory soak (streams for minutes, RSS sampled as they run).

The stand-in and the load (both bare uvloop protocols, bench/sse_standin.py and bench/stream_load.py) share
core 1; the relay under test — skygate, the nginx hop or the pipe — has core 0 to itself."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import MODEL, ROOT, free_port, median, nginx, pinned, python_server, rss_mib, stop, wait_port

REQUEST = json.dumps({"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "Count slowly."}]})

HOP = """
  upstream standin {{ server 127.0.0.1:{upstream}; keepalive 2048; }}
  server {{
    listen 127.0.0.1:{hop} backlog=4096;
    location / {{
      proxy_pass http://standin; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}
"""


@dataclass
class StreamResult:
    target: str
    streams: int
    chunks_per_second: float
    ttft_p50_us: float
    ttft_p99_us: float
    chunk_p50_us: float
    chunk_p99_us: float
    cpu_us_per_chunk: float
    errors: int
    # Against direct: set by `medians`, from each round's difference with direct in the same round.
    added_ttft_p50_us: float = math.nan
    added_chunk_p50_us: float = math.nan
    added_chunk_p99_us: float = math.nan


def standin(interval_ms: float, chunks: int) -> AbstractContextManager[tuple[int, int]]:
    """The paced SSE stand-in on core 1; yields its port and pid."""
    return python_server(1, "bench.sse_standin", "--chunks", str(chunks), "--interval-ms", str(interval_ms))


def pipe_relay(upstream: int) -> AbstractContextManager[tuple[int, int]]:
    """The uvloop pipe (bench/pipe_relay.py) to the stand-in on core 0; yields its port and pid."""
    return python_server(0, "bench.pipe_relay", "--upstream", str(upstream))


@contextmanager
def nginx_hop(tmp: Path, upstream: int) -> Iterator[tuple[int, int]]:
    """An nginx proxy hop to the stand-in on core 0, buffering off; yields its port and pid."""
    hop = free_port()
    process = nginx(tmp, "nginx-stream", 0, HOP.format(upstream=upstream, hop=hop))
    try:
        wait_port(hop, time.monotonic() + 10)
        yield hop, process.pid
    finally:
        stop([process])


def _load_command(url: str, key: str, pid: int, streams: int, seconds: float, warmup: float) -> list[str]:
    return pinned(1, [sys.executable, "-m", "bench.stream_load", "--url", url, "--key", key, "--body", REQUEST,
                      "--streams", str(streams), "--seconds", str(seconds), "--warmup", str(warmup),
                      "--pid", str(pid)])  # fmt: skip


def measure(target: str, url: str, key: str, pid: int, streams: int, seconds: float, warmup: float) -> StreamResult:
    ran = subprocess.run(_load_command(url, key, pid, streams, seconds, warmup), capture_output=True, text=True,
                         check=True, cwd=ROOT)  # fmt: skip
    r = json.loads(ran.stdout)
    return StreamResult(target, streams, r["chunks_per_second"], r["ttft_p50_us"], r["ttft_p99_us"],
                        r["chunk_p50_us"], r["chunk_p99_us"], r["cpu_us_per_chunk"], int(r["errors"]))  # fmt: skip


def medians(rounds: list[dict[str, StreamResult]]) -> list[StreamResult]:
    """Each target's median over the rounds, in the first round's order. The added times are the medians of each
    round's difference from direct in that round: paired, so the host's drift between rounds (which moves every
    row) mostly cancels, where a difference between two single runs minutes apart carried it whole."""

    direct = [measured["direct"] for measured in rounds]
    results = []
    for target in rounds[0]:
        rows = [measured[target] for measured in rounds]
        results.append(StreamResult(
            target, rows[0].streams, median(r.chunks_per_second for r in rows),
            median(r.ttft_p50_us for r in rows), median(r.ttft_p99_us for r in rows),
            median(r.chunk_p50_us for r in rows), median(r.chunk_p99_us for r in rows),
            median(r.cpu_us_per_chunk for r in rows), sum(r.errors for r in rows),
            median(r.ttft_p50_us - d.ttft_p50_us for r, d in zip(rows, direct, strict=True)),
            median(r.chunk_p50_us - d.chunk_p50_us for r, d in zip(rows, direct, strict=True)),
            median(r.chunk_p99_us - d.chunk_p99_us for r, d in zip(rows, direct, strict=True)),
        ))  # fmt: skip
    return results


def soak(url: str, key: str, pid: int, streams: int, minutes: float, every: float = 30.0) -> list[tuple[float, float]]:
    """Streams for `minutes`; skygate's RSS every `every` seconds as (minute, MiB)."""
    started = time.monotonic()
    samples = []
    command = _load_command(url, key, pid, streams, minutes * 60, 0)
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) as process:
        due = 0.0
        while process.poll() is None:
            if time.monotonic() - started >= due:
                samples.append(((time.monotonic() - started) / 60, rss_mib(pid)))
                due += every
            time.sleep(0.2)
        if process.returncode != 0:
            sys.exit("bench: the soak's load failed")
        errors = int(json.loads(process.stdout.read() if process.stdout else "{}").get("errors", 0))
    samples.append(((time.monotonic() - started) / 60, rss_mib(pid)))
    if errors:
        sys.exit(f"bench: {errors} streams failed during the soak")
    return samples


def stream_table(results: list[StreamResult], interval_ms: float, chunks: int, rounds: int) -> str:
    lines = [
        f"Streaming: {results[0].streams:,} concurrent streams, a chunk every {interval_ms:g} ms on each, {chunks} "
        f"chunks a stream; each target's median of {rounds} interleaved round{'s' if rounds > 1 else ''}, and the "
        "added times the median of its difference from direct within each round.",
        "",
        "| target | chunks/s | first chunk p50 | p99 | added p50 | chunk delivery p50 | p99 | added p50 | added p99 "
        "| CPU per chunk |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        added = r.target != "direct"
        lines.append(
            f"| {r.target} | {r.chunks_per_second:,.0f} | {_us(r.ttft_p50_us)} | {_us(r.ttft_p99_us)} | "
            f"{_us(r.added_ttft_p50_us) if added else ''} | {_us(r.chunk_p50_us)} | {_us(r.chunk_p99_us)} | "
            f"{_us(r.added_chunk_p50_us) if added else ''} | {_us(r.added_chunk_p99_us) if added else ''} | "
            f"{_us(r.cpu_us_per_chunk, 1)} |"
        )
    lines.append(f"\nstream errors: {sum(r.errors for r in results)} (direct's CPU is the stand-in's own)")
    return "\n".join(lines)


def _us(value: float, decimals: int = 0) -> str:
    # No stream starts inside a measured window when streams outlast it (--stream-chunks): no first chunks.
    return "—" if math.isnan(value) else f"{value:,.{decimals}f} µs"


def soak_table(samples: list[tuple[float, float]]) -> str:
    settled = next((s for s in samples if s[0] >= 1.0), samples[0])  # after a minute: pools and caches are full
    last = samples[-1]
    growth = (last[1] - settled[1]) / settled[1]
    points = ", ".join(f"{minute:.1f} min {mib:.0f}" for minute, mib in samples)
    return (
        f"Soak: skygate RSS {settled[1]:.0f} MiB at {settled[0]:.1f} min, {last[1]:.0f} MiB at {last[0]:.1f} min: "
        f"growth {growth:+.1%} (peak {max(m for _, m in samples):.0f} MiB)\nRSS samples (MiB): {points}"
    )
