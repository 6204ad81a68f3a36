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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_migrates_and_answers_over_tls_with_two_workers(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    port = _free_port()
    exe = skygate_executable()
    env = os.environ | {"SKYGATE_DATA_DIR": str(tmp_path / "data"), "SKYGATE_ADMIN_TOKEN": "sk-sgadmin-serve-test"}
    env.pop("SKYGATE_DATABASE_URL", None)
    command = [exe, "serve", "--port", str(port), "--workers", "2",
               "--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.pem")]  # fmt: skip
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with httpx.Client(
            verify=ssl.create_default_context(cafile=str(tmp_path / "ca.pem")), base_url=f"https://127.0.0.1:{port}"
        ) as client:
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
            headers = {"authorization": "Bearer sk-sgadmin-serve-test"}
            created = client.post("/api/v1/orgs", json={"name": "served"}, headers=headers)
            assert created.status_code == 201
            # Whichever worker answers, it sees the same store.
            for _ in range(6):
                assert client.get("/api/v1/orgs/served", headers=headers).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert (tmp_path / "data" / "skygate.db").exists()
    assert "Running upgrade" in output or "initial schema" in output


def test_serve_refuses_a_certificate_without_its_key(tmp_path: Path) -> None:
    exe = skygate_executable()
    result = subprocess.run(
        [exe, "serve", "--tls-cert", str(tmp_path / "c.pem")],
        env=os.environ | {"SKYGATE_DATA_DIR": str(tmp_path)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert "--tls-cert and --tls-key go together" in result.stderr
