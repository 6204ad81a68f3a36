"""`skygate demo` (what `make demo` runs) starts, seeds, prints working credentials, and serves them."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time

import httpx

from tests.support import skygate_executable


def test_demo_prints_keys_that_work(tmp_path: object) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKYGATE_")}
    process = subprocess.Popen(
        [skygate_executable(), "demo", "--port", str(port)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output = ""
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        while not output.rstrip().endswith("PY"):
            assert time.monotonic() < deadline, output
            line = process.stdout.readline()
            assert line or process.poll() is None, output
            output += line
        admin_key = re.search(r"admin key \(org 'demo'\):\s+(sk-sg-\w+)", output)
        assert admin_key, output
        headers = {"authorization": f"Bearer {admin_key.group(1)}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", headers=headers) as client:
            while True:
                try:
                    providers = client.get("/orgs/demo/providers")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
        assert providers.status_code == 200
        [provider] = providers.json()["data"]
        assert provider["name"] == "azure-demo"
        assert provider["api_base"].startswith("https://127.0.0.1:")
        assert f"curl -s -H 'Authorization: Bearer {admin_key.group(1)}'" in output
        # The printed Python snippet works as printed: GPT and Claude through the gateway and the emulator, each
        # also from the other vendor's SDK.
        snippet = textwrap.dedent(output.split("python - <<'PY'\n", 1)[1].rsplit("PY", 1)[0])
        ran = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60, check=False)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.splitlines() == [
            "Hello from the Azure emulator (gpt-4o). You said: hi",
            "Hello from the Azure emulator (claude-sonnet-4-5). You said: hi",
            "Hello from the Azure emulator (claude-sonnet-4-5). You said: hi",
            "Hello from the Azure emulator (gpt-4o). You said: hi",
        ]
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
