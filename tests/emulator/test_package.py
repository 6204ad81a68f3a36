"""The emulator is a separate package: the gateway never imports it, and `skygate emulator` runs it alone."""

from __future__ import annotations

import ast
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.emulator.support import DEMO_KEY, ssl_context
from tests.support import skygate_executable

SRC = Path(__file__).resolve().parents[2] / "src" / "skygate"


def test_the_gateway_never_imports_the_emulator() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        # The CLI starts the emulator (`skygate emulator`, `skygate demo`) with imports inside the command
        # functions only; everywhere else no import of it is allowed at all.
        nodes = tree.body if path.parent.name == "cli" else list(ast.walk(tree))
        for node in nodes:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] == "skygate_emulator"]
    assert offenders == []


def test_skygate_emulator_runs_alone_with_a_tls_dir(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [skygate_executable(), "emulator", "--port", str(port), "--tls-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ca.pem").exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        with httpx.Client(verify=ssl_context(tmp_path / "ca.pem"), base_url=f"https://127.0.0.1:{port}") as client:
            while True:
                try:
                    response = client.get("/openai/v1/models", headers={"api-key": DEMO_KEY})
                    break
                except httpx.TransportError:
                    assert process.poll() is None
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
        assert response.status_code == 200
        assert "gpt-4o" in {m["id"] for m in response.json()["data"]}
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


def test_skygate_emulator_refuses_to_serve_plain_http(tmp_path: Path) -> None:
    result = subprocess.run(
        [skygate_executable(), "emulator", "--port", "0"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "HTTPS only" in result.stderr


def test_state_files_round_trip_and_bad_ones_are_refused(tmp_path: Path) -> None:
    import json

    from skygate_emulator.state import default_state, load_state

    path = tmp_path / "state.json"
    path.write_text(json.dumps(default_state().to_json()))
    loaded = load_state(path)
    assert loaded.to_json() == default_state().to_json()
    assert loaded.resources[0].deployment("claude-sonnet-4-5").format == "anthropic"  # type: ignore[union-attr]
    path.write_text('{"tenants": [{"identifier": "x"}]}')
    result = subprocess.run(
        [skygate_executable(), "emulator", "--state", str(path), "--tls-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert f"--state {path}" in result.stderr
