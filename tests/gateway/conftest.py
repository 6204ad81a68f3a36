"""A gateway in front of the emulator over real HTTPS, with an org, a project, a provider and an invoke key
created through the admin API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from skygate_emulator.server import RunningEmulator, running_emulator
from skygate_emulator.state import Deployment
from tests.emulator.support import DEMO_KEY, emulator_state
from tests.support import Gateway, fresh_database, make_settings, running_gateway, unique


@dataclass
class DataPlane:
    gateway: Gateway
    emulator: RunningEmulator
    org_id: str
    project_id: str
    invoke_key: str
    admin_key: str

    def config_version(self) -> int:
        response = httpx.get(
            f"{self.gateway.base_url}/v1/models", headers={"authorization": f"Bearer {self.invoke_key}"}
        )
        return int(response.headers.get("x-skygate-config-version", "-1"))

    def settle(self, since: int) -> None:
        """Wait (at most 1 s, the promise) until the data plane serves a configuration newer than `since`."""
        deadline = time.monotonic() + 1.0
        while self.config_version() <= since:
            assert time.monotonic() < deadline, "an admin change took more than 1 s to reach the data plane"
            time.sleep(0.02)

    def provider(self, name: str | None = None, *, project: bool = False, **fields: Any) -> dict[str, Any]:
        """Create a provider through the admin API and wait until the data plane routes with it."""
        before = self.config_version()
        body = {"name": name or unique("azure"), "type": "azure", "api_base": self.emulator.url,
                "auth": {"method": "api_key", "api_key": DEMO_KEY}} | fields  # fmt: skip
        path = f"/projects/{self.project_id}/providers" if project else f"/orgs/{self.org_id}/providers"
        with self.gateway.api() as api:
            response = api.post(path, json=body)
        assert response.status_code == 201, response.text
        self.settle(before)
        return dict(response.json())

    def recorded(self) -> list[Any]:
        return [r for r in self.emulator.ctx.recorder.all() if not r.path.startswith("/_emulator")]


def _state() -> Any:
    state = emulator_state()
    state.resources[0].deployments.append(Deployment(name="o3", model="o3"))
    state.resources[0].deployments.append(Deployment(name="slow", model="gpt-4o"))
    # One model per upstream API for the translation matrix: chat-only, Responses-only (and Claude).
    state.resources[0].deployments.append(Deployment(name="gpt-35-turbo", model="gpt-35-turbo"))
    state.resources[0].deployments.append(Deployment(name="gpt-5-codex", model="gpt-5-codex", kind="responses"))
    return state


@pytest.fixture(scope="session")
def data_plane_env(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningEmulator, Gateway]]:
    """Per store backend: the snapshot is read from SQLite or PostgreSQL like everything else."""
    tmp = tmp_path_factory.mktemp(f"data-plane-{backend}")
    with fresh_database(backend, tmp) as url, running_emulator(tmp / "tls", _state()) as emulator:
        settings = make_settings(tmp, url, ca_bundle=emulator.ca_file, allowed_upstream_hosts=("127.0.0.1",))
        with running_gateway(settings) as gateway:
            yield emulator, gateway


@pytest.fixture
def dp(data_plane_env: tuple[RunningEmulator, Gateway]) -> DataPlane:
    """A fresh org (with one default provider on the emulator) per test; emulator state and recording reset."""
    emulator, gateway = data_plane_env
    fresh = _state()
    emulator.state.tenants, emulator.state.apps, emulator.state.resources = fresh.tenants, fresh.apps, fresh.resources
    with gateway.api() as api:
        org = api.post("/orgs", json={"name": unique("org")}).json()
        project = api.post(f"/orgs/{org['id']}/projects", json={"name": "web"}).json()
        invoke = api.post(f"/orgs/{org['id']}/keys", json={"name": "app", "role": "invoke"}).json()
        admin = api.post(f"/orgs/{org['id']}/keys", json={"name": "ops", "role": "admin"}).json()
    plane = DataPlane(gateway, emulator, org["id"], project["id"], invoke["key"], admin["key"])
    plane.provider("main", models=[{"deployment": "claude-sonnet-4-5", "api": "messages"},
                                   {"deployment": "ghost", "api": "chat_completions", "alias": "ghost"}])  # fmt: skip
    wait_for_snapshot(plane)
    emulator.ctx.recorder.clear()
    return plane


def wait_for_snapshot(plane: DataPlane, model: str = "gpt-4o", present: bool = True) -> None:
    """Admin changes reach the data plane through the snapshot poller; wait (at most 1 s) until they do."""
    import time

    import httpx

    deadline = time.monotonic() + 1.0
    headers = {"authorization": f"Bearer {plane.invoke_key}"}
    while True:
        response = httpx.get(f"{plane.gateway.base_url}/v1/models", headers=headers)
        ids = {m["id"] for m in response.json().get("data", [])} if response.status_code == 200 else set()
        if (model in ids) == present:
            return
        assert time.monotonic() < deadline, f"the data plane did not see the change within 1 s: {response.text}"
        time.sleep(0.05)
