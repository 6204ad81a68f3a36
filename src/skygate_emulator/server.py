"""Running the emulator: in a thread for tests (`running_emulator`) or in the foreground (`serve`)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from skygate_emulator.app import create_emulator_app
from skygate_emulator.context import EmulatorContext, EmulatorOptions
from skygate_emulator.state import EmulatorState, default_state
from skygate_emulator.tls import ensure_test_pki

__all__ = ["RunningEmulator", "running_emulator", "serve_in_thread"]


@contextmanager
def serve_in_thread(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_cert: Path | None = None,
    ssl_key: Path | None = None,
    access_log: bool = True,
    **options: Any,
) -> Iterator[int]:
    """Serve `app` with uvicorn on an ephemeral port in a daemon thread; yields the port. `options` go to
    uvicorn's Config (the gateway's tests pass its server protocol)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.bind((host, port))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        log_config=None,
        lifespan="on",
        ssl_certfile=ssl_cert,
        ssl_keyfile=ssl_key,
        timeout_graceful_shutdown=2,
        access_log=access_log,
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@dataclass
class RunningEmulator:
    url: str
    ca_file: Path
    ctx: EmulatorContext

    @property
    def state(self) -> EmulatorState:
        return self.ctx.state


@contextmanager
def running_emulator(
    tls_dir: Path, state: EmulatorState | None = None, options: EmulatorOptions | None = None
) -> Iterator[RunningEmulator]:
    """The emulator over real HTTPS on 127.0.0.1, with a test CA in `tls_dir` that clients must trust."""
    pki = ensure_test_pki(tls_dir)
    options = options or EmulatorOptions(outbound_ca=pki.ca_file)
    app, ctx = create_emulator_app(state or default_state(), options)
    with serve_in_thread(app, ssl_cert=pki.cert_file, ssl_key=pki.key_file) as port:
        yield RunningEmulator(f"https://127.0.0.1:{port}", pki.ca_file, ctx)
