"""The gateway benchmark, in one command (`make bench`; `make bench ARGS=--smoke` for a quick check).

In one run, on this machine: an Azure stand-in that is never the bottleneck (nginx answering a canned chat
completion), the same request straight to it ("direct"), through an nginx proxy hop ("nginx hop"), and through
skygate (one worker, API-key provider). wrk drives each at several concurrencies. The gateway is pinned to
core 0; nginx and wrk share core 1. Results are printed as a Markdown table, and as JSON with --json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

MODEL = "gpt-4o-mini"
ANSWER = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 1764300000,
    "model": "gpt-4o-mini-2024-07-18",
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "Hello from the benchmark stand-in."}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17},
}  # fmt: skip
REQUEST = {"model": MODEL, "messages": [{"role": "user", "content": "Say hello."}]}

NGINX = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  tcp_nodelay on;
  keepalive_requests 10000000;
  upstream azure {{ server 127.0.0.1:{upstream}; keepalive 512; }}
  server {{
    listen 127.0.0.1:{upstream} backlog=4096;
    location / {{ default_type application/json; return 200 '{answer}'; }}
  }}
  server {{
    listen 127.0.0.1:{hop} backlog=4096;
    location / {{ proxy_pass http://azure; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
}}
"""

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["api-key"] = "bench-key"
"""


@dataclass
class Result:
    target: str
    concurrency: int
    rps: float
    p50_us: float
    p99_us: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def need(tool: str) -> str:
    found = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if found is None:
        sys.exit(f"bench: {tool} is missing: apt-get install nginx wrk (Debian packages)")
    return found


def pinned(core: int, command: list[str]) -> list[str]:
    # Pin when the machine has the cores to pin to; on one core everything shares it.
    return ["taskset", "-c", str(core), *command] if (os.cpu_count() or 1) > 1 and shutil.which("taskset") else command


def _micros(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 1, "ms": 1_000, "s": 1_000_000}[unit]


def wrk(url: str, script: Path, connections: int, seconds: float, target: str) -> Result:
    command = pinned(
        1, [need("wrk"), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), url]
    )
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _micros(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    p99 = _micros(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Result(target, connections, rps, p50, p99, int(errors.group(1)) if errors else 0)


def wait_for(url: str, deadline: float) -> None:
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def seed(base: str, admin_token: str, upstream: int) -> str:
    """An organization, an API-key provider on the stand-in, and an invoke key; returns the key."""
    with httpx.Client(base_url=f"{base}/api/v1", headers={"authorization": f"Bearer {admin_token}"}) as api:
        org = api.post("/orgs", json={"name": "bench"}).json()["id"]
        api.post(f"/orgs/{org}/providers", json={
            "name": "standin", "type": "azure", "api_base": f"http://127.0.0.1:{upstream}",
            "auth": {"method": "api_key", "api_key": "bench-key"},
        }).raise_for_status()  # fmt: skip
        key = str(api.post(f"/orgs/{org}/keys", json={"name": "bench", "role": "invoke"}).json()["key"])
    deadline = time.monotonic() + 10
    while MODEL not in httpx.get(f"{base}/v1/models", headers={"authorization": f"Bearer {key}"}).text:
        if time.monotonic() > deadline:
            sys.exit("bench: the gateway never routed the benchmark model")
        time.sleep(0.1)
    return key


def peak_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else float("nan")


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
    interesting = [(f, n) for f, n in under.items() if any(k in f for k in ("skygate", "httpx", "httpcore",
                   "starlette", "uvicorn", "orjson", "h11"))]  # fmt: skip
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
    lines.append(f"\nskygate peak RSS: {rss:.0f} MiB; errors (non-2xx): {sum(r.errors for r in results)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each wrk run")
    parser.add_argument("--concurrency", default="1,32,256", help="comma-separated connection counts")
    parser.add_argument("--smoke", action="store_true", help="a quick run that checks the bench works")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--profile", action="store_true", help="py-spy the gateway during its c=32 run")
    args = parser.parse_args()
    seconds = 1.0 if args.smoke else args.seconds
    levels = [1, 8] if args.smoke else [int(c) for c in args.concurrency.split(",")]

    tmp = Path(tempfile.mkdtemp(prefix="skygate-bench-"))
    upstream, hop, port = free_port(), free_port(), free_port()
    answer = json.dumps(ANSWER, separators=(",", ":"))
    (tmp / "nginx.conf").write_text(NGINX.format(tmp=tmp, upstream=upstream, hop=hop, answer=answer))
    admin_token = "sk-sgadmin-bench-" + secrets.token_hex(16)
    env = {**os.environ, "SKYGATE_DATA_DIR": str(tmp / "data"), "SKYGATE_ADMIN_TOKEN": admin_token,
           "SKYGATE_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1", "SKYGATE_LOG_LEVEL": "warning"}  # fmt: skip
    env.pop("SKYGATE_DATABASE_URL", None)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        processes.append(subprocess.Popen(pinned(1, [need("nginx"), "-c", str(tmp / "nginx.conf"), "-p", str(tmp)])))
        skygate = [str(Path(sys.executable).parent / "skygate"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        gateway = subprocess.Popen(pinned(0, skygate), env=env)
        processes.append(gateway)
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", time.monotonic() + 30)
        wait_for(f"http://127.0.0.1:{hop}/", time.monotonic() + 10)
        key = seed(base, admin_token, upstream)
        script = tmp / "post.lua"
        script.write_text(WRK_SCRIPT.format(body=json.dumps(REQUEST), key=key))
        targets = {
            "direct": f"http://127.0.0.1:{upstream}/openai/v1/chat/completions",
            "nginx hop": f"http://127.0.0.1:{hop}/openai/v1/chat/completions",
            "skygate": f"{base}/v1/chat/completions",
        }
        results = []
        profile = None
        for level in levels:
            for target, url in targets.items():
                wrk(url, script, level, min(seconds, 1.0), target)  # warm-up: connection pools, caches
                spy = None
                if args.profile and target == "skygate" and level == 32:
                    profile = tmp / "profile.txt"
                    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                                            str(gateway.pid), "--duration", str(max(1, round(seconds))), "--format",
                                            "raw", "--output", str(profile), "--nonblocking"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
                results.append(wrk(url, script, level, seconds, target))
                if spy is not None:
                    spy.wait(timeout=60)
        rss = peak_rss_mib(gateway.pid)
        print(f"# skygate benchmark — {os.cpu_count()} cores, {seconds:g} s per run\n")
        print(table(results, rss))
        if profile is not None and profile.exists():
            print("\n" + top_frames(profile.read_text()))
        if args.json:
            print(json.dumps({"results": [asdict(r) for r in results], "peak_rss_mib": rss}))
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
