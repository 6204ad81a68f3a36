"""Fixtures: one emulator over HTTPS for the session, reset before each test; a test OIDC issuer it trusts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from skygate_emulator.server import RunningEmulator, running_emulator
from tests.emulator.support import FakeIssuer, emulator_state, running_issuer


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-tls")


@pytest.fixture(scope="session")
def issuer(tls_dir: Path) -> Iterator[FakeIssuer]:
    with running_issuer(tls_dir) as running:
        yield running


@pytest.fixture(scope="session")
def running(tls_dir: Path, issuer: FakeIssuer) -> Iterator[RunningEmulator]:
    with running_emulator(tls_dir, emulator_state(issuer.url)) as emu:
        yield emu


@pytest.fixture
def emulator(running: RunningEmulator, issuer: FakeIssuer, monkeypatch: pytest.MonkeyPatch) -> RunningEmulator:
    """The session's emulator with fresh state and an empty recording; azure-identity trusts its CA."""
    fresh = emulator_state(issuer.url)
    state = running.ctx.state
    state.tenants, state.apps, state.resources = fresh.tenants, fresh.apps, fresh.resources
    running.ctx.recorder.clear()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.ca_file))
    return running
