"""`skygate serve` as users run it: a real process, migrations on start, several workers, HTTPS."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import trustme

from tests.support import skygate_executable

ADMIN = "sk-sgadmin-serve-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_and_call(tmp_path: Path, args: list[str], verify: ssl.SSLContext | bool, **env: str) -> str:
    """Start `skygate serve` with `args`, create an org and read it back six times, stop it; its output."""
    port = _free_port()
    environment = os.environ | {"SKYGATE_DATA_DIR": str(tmp_path / "data"), "SKYGATE_ADMIN_TOKEN": ADMIN} | env
    environment.pop("SKYGATE_DATABASE_URL", None)
    scheme = "https" if "--tls-cert" in args else "http"
    command = [skygate_executable(), "serve", "--port", str(port), *args]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with httpx.Client(verify=verify, base_url=f"{scheme}://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    health = client.get("/healthz")
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.stdout.read() if process.stdout else ""
                    assert time.monotonic() < deadline, "skygate serve did not come up"
                    time.sleep(0.2)
            assert health.json() == {"status": "ok"}
            headers = {"authorization": f"Bearer {ADMIN}"}
            created = client.post("/api/v1/orgs", json={"name": "served"}, headers=headers)
            assert created.status_code == 201
            # Whichever worker answers, it sees the same store.
            for _ in range(6):
                assert client.get("/api/v1/orgs/served", headers=headers).status_code == 200
            # A data-plane answer, written whole past uvicorn's `send`, with or without the access log.
            refused = client.get("/v1/models")
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "missing_api_key"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    return output


def test_serve_migrates_and_answers_over_tls_with_two_workers(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    pem = str(tmp_path / "server.pem")
    verify = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    output = _serve_and_call(tmp_path, ["--workers", "2", "--tls-cert", pem, "--tls-key", pem], verify)
    assert (tmp_path / "data" / "skygate.db").exists()
    assert "Running upgrade" in output or "initial schema" in output
    # At the default INFO level, still no line per request: that would be log I/O on every call.
    assert "Application startup complete" in output
    assert "uvicorn.access" not in output
    assert "/api/v1/orgs/served" not in output


def test_serve_logs_each_request_when_the_access_log_is_on(tmp_path: Path) -> None:
    output = _serve_and_call(tmp_path, [], True, SKYGATE_ACCESS_LOG="true")
    assert output.count('"GET /api/v1/orgs/served HTTP/1.1" 200') == 6
    assert output.count('"GET /v1/models HTTP/1.1" 401') == 1  # data-plane answers are logged too
    assert ADMIN not in output


def test_serve_refuses_a_certificate_without_its_key(tmp_path: Path) -> None:
    exe = skygate_executable()
    result = subprocess.run(
        [exe, "serve", "--tls-cert", str(tmp_path / "c.pem")],
        env=os.environ | {"SKYGATE_DATA_DIR": str(tmp_path)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "--tls-cert and --tls-key go together" in result.stderr
