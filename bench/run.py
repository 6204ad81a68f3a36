"""The gateway benchmark, in one command (`make bench`; `make bench ARGS=--smoke` for a quick check).

In one run, on this machine:
- non-streaming chat: an Azure stand-in that is never the bottleneck (nginx answering a canned chat
  completion), the same request straight to it ("direct"), through an nginx proxy hop ("nginx hop"), and
  through skygate (one worker, API-key provider); wrk drives each at several concurrencies;
- provider auth: the same through API-key, Entra client-secret and workload-identity providers, and an API-key
  provider whose requests are as large as the Entra ones (bench/entra.py);
- streaming: concurrent SSE streams from a paced stand-in, direct, through an nginx hop, through a bare uvloop
  pipe and through skygate (bench/streaming.py); with --soak-minutes, skygate's memory under streams for that long.
skygate (and the streaming nginx hop and pipe) are pinned to core 0; stand-ins and load generators to core 1.
Results are printed as Markdown tables, and as JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from bench import entra, streaming
from bench.harness import (
    ERRORS,
    Result,
    Skygate,
    free_port,
    nginx,
    rss_mib,
    running_skygate,
    stop,
    tool,
    wait_for,
    warm_up,
    wrk,
    wrk_script,
)

ANSWER = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1764300000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "Hello from the benchmark stand-in."}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17},
}  # fmt: skip

SERVERS = """
  upstream azure {{ server 127.0.0.1:{upstream}; keepalive 512; }}
  server {{
    listen 127.0.0.1:{upstream} backlog=4096;
    location / {{ default_type application/json; return 200 '{answer}'; }}
  }}
  server {{
    listen 127.0.0.1:{hop} backlog=4096;
    location / {{ proxy_pass http://azure; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
{tls_front}
"""


def py_spy(pid: int, delay: float, seconds: float, output: Path) -> threading.Thread:
    """py-spy on `pid` for `seconds`, starting after `delay` (past a warm-up), in the background."""

    def record() -> None:
        time.sleep(delay)
        subprocess.run([tool("py-spy"), "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
                        "--format", "raw", "--output", str(output), "--nonblocking"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # fmt: skip

    thread = threading.Thread(target=record, daemon=True)
    thread.start()
    return thread


def top_frames(collapsed: str, count: int = 15) -> str:
    """py-spy's collapsed stacks as the frames with the most samples: where the time is spent (self) and
    what it is spent under (inclusive)."""
    own: dict[str, int] = {}
    under: dict[str, int] = {}
    total = 0
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        frames, n = stack.split(";"), int(samples)
        total += n
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            under[frame] = under.get(frame, 0) + n
    lines = [f"py-spy, {total} samples. Self time:"]
    lines += [f"  {n / total:6.1%}  {f}" for f, n in sorted(own.items(), key=lambda x: -x[1])[:count]]
    lines.append("Inclusive (skygate and the libraries it calls):")
    interesting = [(f, n) for f, n in under.items() if any(k in f for k in ("skygate", "aiohttp", "starlette",
                   "uvicorn", "orjson"))]  # fmt: skip
    lines += [f"  {n / total:6.1%}  {f}" for f, n in sorted(interesting, key=lambda x: -x[1])[:count]]
    return "\n".join(lines)


def table(results: list[Result], rss: float) -> str:
    by = {(r.target, r.concurrency): r for r in results}
    lines = [
        "| target | c | rps | p50 | p99 | added p50 vs direct | added p99 vs direct | rps vs nginx hop |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in results:
        direct, hop = by[("direct", r.concurrency)], by[("nginx hop", r.concurrency)]
        added = "" if r.target == "direct" else f"{r.p50_us - direct.p50_us:,.0f} µs"
        added99 = "" if r.target == "direct" else f"{r.p99_us - direct.p99_us:,.0f} µs"
        ratio = f"{r.rps / hop.rps:.2f}×" if hop.rps else ""
        lines.append(f"| {r.target} | {r.concurrency} | {r.rps:,.0f} | {r.p50_us:,.0f} µs | {r.p99_us:,.0f} µs | "
                     f"{added} | {added99} | {ratio} |")  # fmt: skip
    failed = sum(r.errors for r in results)
    lines.append(f"\nskygate peak RSS: {rss:.0f} MiB; {ERRORS}: {failed}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each wrk run")
    parser.add_argument("--concurrency", default="1,32,256", help="comma-separated connection counts")
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds of the auth comparison")
    parser.add_argument("--round-seconds", type=float, default=1.0, help="duration of each auth round")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent streams")
    parser.add_argument("--interval-ms", type=float, default=100.0, help="time between a stream's chunks")
    parser.add_argument("--stream-seconds", type=float, default=10.0,
                        help="streaming time measured per target and round")  # fmt: skip
    parser.add_argument("--stream-rounds", type=int, default=5, help="interleaved rounds of the streaming targets")
    parser.add_argument("--stream-chunks", type=int, default=0,
                        help="chunks per stream (default: about five seconds' worth)")  # fmt: skip
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="stream this long, sampling skygate's RSS")
    parser.add_argument("--parts", default="http,auth,stream", help="which parts to run (comma-separated)")
    parser.add_argument("--smoke", action="store_true", help="a quick run that checks the bench works")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--profile", action="store_true", help="py-spy the gateway at c=32 and while streaming")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.concurrency, args.rounds = 1.0, "1,8", 1
        args.streams, args.interval_ms, args.stream_seconds, args.stream_rounds = 50, 50.0, 2.0, 2
        args.soak_minutes = min(args.soak_minutes, 0.1)
    parts = set(args.parts.split(","))
    if not parts <= {"http", "auth", "stream"}:
        parser.error(f"--parts: choose from http, auth, stream (got {args.parts})")
    if args.stream_rounds < 1 or args.rounds < 1:
        parser.error("--rounds and --stream-rounds: at least 1")
    levels = [int(c) for c in args.concurrency.split(",")] if "http" in parts else []

    tmp = Path(tempfile.mkdtemp(prefix="skygate-bench-"))
    upstream, hop, front, port = free_port(), free_port(), free_port(), free_port()
    certs = entra.pki(tmp)
    tls_front = entra.TLS_FRONT.format(port=front, cert=certs.cert_file, key=certs.key_file, skygate=port)
    answer = json.dumps(ANSWER, separators=(",", ":"))
    servers = SERVERS.format(upstream=upstream, hop=hop, answer=answer, tls_front=tls_front)
    public_url = f"https://127.0.0.1:{front}"
    stand_in = nginx(tmp, "nginx", 1, servers)
    try:
        with (
            entra.entra(tmp) as emulator,
            running_skygate(tmp, 0, port, SKYGATE_PUBLIC_URL=public_url, SKYGATE_CA_BUNDLE=str(certs.ca_file)) as gw,
        ):
            wait_for(f"http://127.0.0.1:{hop}/", time.monotonic() + 10)
            keys = entra.keys(gw, emulator, public_url, upstream)
            script = wrk_script(tmp, keys["api key"])
            targets = {
                "direct": f"http://127.0.0.1:{upstream}/openai/v1/chat/completions",
                "nginx hop": f"http://127.0.0.1:{hop}/openai/v1/chat/completions",
                "skygate": f"{gw.base}/v1/chat/completions",
            }
            results: list[Result] = []
            profile = None
            for level in levels:
                for target, url in targets.items():
                    warm_up(url, script, level, target)
                    spy = None
                    if args.profile and target == "skygate" and level == 32:
                        profile = tmp / "profile.txt"
                        spy = py_spy(gw.pid, 0, args.seconds, profile)
                    results.append(wrk(url, script, level, args.seconds, target))
                    if spy is not None:
                        spy.join(timeout=60)
            rss = rss_mib(gw.pid, "VmHWM")
            auths: list[entra.AuthResult] = []
            streamed: list[streaming.StreamResult] = []
            samples: list[tuple[float, float]] = []
            if "auth" in parts:
                auth_levels = [8] if args.smoke else [1, 32]
                auths = entra.parity(
                    tmp, targets["skygate"], gw.pid, keys, auth_levels, args.rounds, args.round_seconds
                )
            if "stream" in parts:
                streamed, samples = run_streaming(tmp, gw, args)
        print(f"# skygate benchmark — {os.cpu_count()} cores, {args.seconds:g} s per run\n")
        if results:
            print(table(results, rss))
        if profile is not None and profile.exists():
            print("\nNon-streaming, c=32: " + top_frames(profile.read_text()))
        if auths:
            print("\n" + entra.parity_table(auths, args.rounds))
        if streamed:
            print("\n" + streaming.stream_table(streamed, args.interval_ms, stream_chunks(args), args.stream_rounds))
            if (tmp / "stream-profile.txt").exists():
                print("\nStreaming: " + top_frames((tmp / "stream-profile.txt").read_text()))
        if samples:
            print("\n" + streaming.soak_table(samples))
        if args.json:
            print(json.dumps({"results": [asdict(r) for r in results], "peak_rss_mib": rss,
                              "auth": [asdict(r) for r in auths], "streaming": [asdict(r) for r in streamed],
                              "soak_rss": samples}))  # fmt: skip
    finally:
        stop([stand_in])
        shutil.rmtree(tmp, ignore_errors=True)


def stream_chunks(args: argparse.Namespace) -> int:
    # Streams of about five seconds (half a second in a smoke run), each followed by the next on its connection.
    return int(args.stream_chunks or max(5, round((500 if args.smoke else 5_000) / args.interval_ms)))


def run_streaming(
    tmp: Path, gw: Skygate, args: argparse.Namespace
) -> tuple[list[streaming.StreamResult], list[tuple[float, float]]]:
    chunks = stream_chunks(args)
    warmup = 2.0 if args.smoke else 5.0
    with streaming.standin(args.interval_ms, chunks) as (standin, standin_pid):
        key = gw.key_provider("bench-stream", standin)
        with streaming.nginx_hop(tmp, standin) as (hop, hop_pid), streaming.pipe_relay(standin) as (pipe, pipe_pid):
            relays = [
                ("direct", f"http://127.0.0.1:{standin}/openai/v1/chat/completions", "bench", standin_pid),
                ("nginx hop", f"http://127.0.0.1:{hop}/openai/v1/chat/completions", "bench", hop_pid),
                ("uvloop pipe", f"http://127.0.0.1:{pipe}/openai/v1/chat/completions", "bench", pipe_pid),
                ("skygate", f"{gw.base}/v1/chat/completions", key, gw.pid),
            ]
            rounds: list[dict[str, streaming.StreamResult]] = []
            for turn in range(args.stream_rounds):
                # Each round starts with the next target, so no target always runs first or right after another.
                order = relays[turn % len(relays) :] + relays[: turn % len(relays)]
                measured = {}
                for target, url, k, pid in order:
                    spy = None
                    if args.profile and target == "skygate" and turn == 0:
                        spy = py_spy(pid, warmup + 2, args.stream_seconds - 3, tmp / "stream-profile.txt")
                    measured[target] = streaming.measure(target, url, k, pid, args.streams, args.stream_seconds, warmup)
                    if spy is not None:
                        spy.join(timeout=60)
                rounds.append({target: measured[target] for target, *_ in relays})
            results = streaming.medians(rounds)
        samples = []
        if args.soak_minutes > 0:
            samples = streaming.soak(relays[-1][1], key, gw.pid, args.streams, args.soak_minutes,
                                     every=5.0 if args.smoke else 30.0)  # fmt: skip
    return results, samples


if __name__ == "__main__":
    main()
