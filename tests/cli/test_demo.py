"""`skygate demo` (what `make demo` runs) starts, seeds, prints working credentials, and serves them."""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
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
        while "content-type: application/json" not in output:
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
        # The printed emulator call works as printed.
        ca_file = re.search(r"test CA: (\S+)\)", output)
        emulator_url = re.search(r"Azure emulator: (\S+)", output)
        assert ca_file, output
        assert emulator_url, output
        with httpx.Client(verify=ssl.create_default_context(cafile=ca_file.group(1))) as client:
            chat = client.post(
                f"{emulator_url.group(1)}/openai/v1/chat/completions",
                headers={"api-key": "emulatorkey0000000000000000000001"},
                json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
            )
        assert chat.json()["choices"][0]["message"]["content"].endswith("You said: hi")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
