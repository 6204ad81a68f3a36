"""What every part of the bench shares: ports, pinning, the tools it needs, starting and seeding skygate."""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
MODEL = "gpt-4o-mini"
KEY = "bench-key"  # the stand-in's API key (it checks none)


NGINX = """
worker_processes 1;
daemon off;
pid {tmp}/{name}.pid;
error_log {tmp}/{name}-error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/{name}-body; proxy_temp_path {tmp}/{name}-proxy; fastcgi_temp_path {tmp}/{name}-fcgi;
  uwsgi_temp_path {tmp}/{name}-uwsgi; scgi_temp_path {tmp}/{name}-scgi;
  tcp_nodelay on;
  # A request head with an Entra token (over 1 KB) fits the first buffer, as an API-key one does: past the default
  # 1 KB nginx moves the head to a large buffer, ~3 µs a call that is the stand-in's, not the gateway's.
  client_header_buffer_size 4k;
  keepalive_requests 10000000;
{servers}
}}
"""


def nginx(tmp: Path, name: str, core: int, servers: str) -> subprocess.Popen[bytes]:
    """An nginx (one worker) serving `servers` (the http-level blocks), pinned to `core`, files in `tmp`."""
    config = tmp / f"{name}.conf"
    config.write_text(NGINX.format(tmp=tmp, name=name, servers=servers))
    return subprocess.Popen(pinned(core, [need("nginx"), "-c", str(config), "-p", str(tmp)]))


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


def tool(name: str) -> str:
    """A console script of this environment (skygate, py-spy)."""
    return str(Path(sys.executable).parent / name)


def wait_for(url: str, deadline: float, verify: Any = True) -> None:
    while True:
        try:
            httpx.get(url, timeout=1, verify=verify)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_port(port: int, deadline: float) -> None:
    """Until something listens on the port (for servers a GET would keep busy, like a paced stream)."""
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def python_server(core: int, module: str, *args: str) -> Iterator[tuple[int, int]]:
    """`python -m module --port P *args` pinned to `core`, until it listens; yields its port and pid."""
    port = free_port()
    process = subprocess.Popen(pinned(core, [sys.executable, "-m", module, "--port", str(port), *args]), cwd=ROOT)
    try:
        wait_port(port, time.monotonic() + 10)
        yield port, process.pid
    finally:
        stop([process])


def median(values: Iterable[float]) -> float:
    """The median of the values that are numbers: a round with no sample (NaN) is left out, since sorting with
    NaN in the list gives any answer. NaN when none is."""
    present = [value for value in values if not math.isnan(value)]
    return float(statistics.median(present)) if present else math.nan


def family(pid: int) -> list[int]:
    """The process and its descendants (a server's workers)."""
    children = [int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()]
    return [pid, *(p for child in children for p in family(child))]


def cpu_seconds(pid: int) -> float:
    """CPU time used so far by the process and its workers."""
    ticks = 0
    for member in family(pid):
        # utime and stime, fields 14 and 15 of /proc/<pid>/stat (after the parenthesised command name).
        fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """VmRSS now, or VmHWM (the peak)."""
    match = re.search(rf"{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else float("nan")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in reversed(processes):
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.headers["api-key"] = "bench-key"
"""
REQUEST = {"model": MODEL, "messages": [{"role": "user", "content": "Say hello."}]}


# What `Result.errors` counts, as the tables print it.
ERRORS = "errors (non-2xx, wrk socket errors, timeouts)"

# Between a warm-up and the run it prepares. A saturated uvicorn on uvloop that the warm-up's wrk leaves
# mid-request and the next wrk's connections reach at once holds some of those for ~1 s or past wrk's 2 s
# timeout (a bare app does it too; asyncio's loop does not: docs/performance.md). The pause measures steady state.
SETTLE_SECONDS = 1.0


@dataclass
class Result:
    target: str
    concurrency: int
    rps: float
    p50_us: float
    p99_us: float
    errors: int


def wrk_script(tmp: Path, key: str) -> Path:
    """The Lua script that makes wrk POST the benchmark's chat request with this key."""
    script = tmp / f"post-{key[-8:]}.lua"
    script.write_text(WRK_SCRIPT.format(body=json.dumps(REQUEST), key=key))
    return script


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
    # Failed calls: answers other than 2xx, and wrk's socket errors — a call with no answer within wrk's 2 s
    # timeout counts there and is missing from the latencies, so it must show somewhere.
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(failed.group(1)) if failed else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return Result(target, connections, rps, p50, p99, errors)


def warm_up(url: str, script: Path, connections: int, target: str) -> None:
    """A second of load (connection pools, caches, a first token), then the settling pause."""
    wrk(url, script, connections, 1.0, target)
    time.sleep(SETTLE_SECONDS)


@dataclass
class Skygate:
    base: str
    admin_token: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.base}/api/v1", headers={"authorization": f"Bearer {self.admin_token}"})

    def org(self, name: str) -> str:
        with self.api() as api:
            return str(api.post("/orgs", json={"name": name}).json()["id"])

    def org_with_key(self, name: str, provider: dict[str, Any], org: str | None = None) -> str:
        """An organization with this one provider and an invoke key; returns the key once it routes."""
        org = org or self.org(name)
        with self.api() as api:
            api.post(f"/orgs/{org}/providers", json=provider).raise_for_status()
            key = str(api.post(f"/orgs/{org}/keys", json={"name": name, "role": "invoke"}).json()["key"])
        deadline = time.monotonic() + 10
        while MODEL not in httpx.get(f"{self.base}/v1/models", headers={"authorization": f"Bearer {key}"}).text:
            if time.monotonic() > deadline:
                sys.exit("bench: the gateway never routed the benchmark model")
            time.sleep(0.1)
        return key

    def key_provider(self, name: str, upstream: int, headers: dict[str, str] | None = None) -> str:
        return self.org_with_key(name, {
            "name": name, "type": "azure", "api_base": f"http://127.0.0.1:{upstream}",
            "auth": {"method": "api_key", "api_key": KEY}, "additional_headers": headers or {},
        })  # fmt: skip


@contextmanager
def running_skygate(tmp: Path, core: int, port: int, **env: str) -> Iterator[Skygate]:
    """`skygate serve` (one worker, SQLite in `tmp`) pinned to `core`, stopped on exit."""
    admin_token = "sk-sgadmin-bench-" + secrets.token_hex(16)
    environment = {**os.environ, "SKYGATE_DATA_DIR": str(tmp / "data"), "SKYGATE_ADMIN_TOKEN": admin_token,
                   "SKYGATE_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1", "SKYGATE_LOG_LEVEL": "warning", **env}  # fmt: skip
    environment.pop("SKYGATE_DATABASE_URL", None)
    command = [tool("skygate"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(pinned(core, command), env=environment)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", time.monotonic() + 30)
        yield Skygate(base, admin_token, process)
    finally:
        stop([process])
