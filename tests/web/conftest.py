"""A gateway (SQLite: the pages sit on the same services as the admin API, whose store tests cover both
backends) with an organization, a project and an org admin key made through the admin API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from skygate_emulator.server import RunningEmulator, running_emulator
from tests.emulator.support import emulator_state
from tests.support import Gateway, fresh_database, make_settings, running_gateway, unique


@dataclass
class Site:
    gateway: Gateway
    org_id: str
    org_name: str
    project_id: str
    admin_key: str

    @property
    def url(self) -> str:
        return f"{self.gateway.base_url}/settings"


@pytest.fixture(scope="module")
def site_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, RunningEmulator]]:
    """A gateway that trusts an emulator, so the Test button runs the real chain."""
    tmp = tmp_path_factory.mktemp("web")
    with fresh_database("sqlite", tmp) as url, running_emulator(tmp / "tls", emulator_state()) as emulator:
        settings = make_settings(tmp, url, ca_bundle=emulator.ca_file)
        with running_gateway(settings) as gateway:
            yield gateway, emulator


@pytest.fixture(scope="module")
def site_gateway(site_env: tuple[Gateway, RunningEmulator]) -> Gateway:
    return site_env[0]


@pytest.fixture(scope="module")
def emulator(site_env: tuple[Gateway, RunningEmulator]) -> RunningEmulator:
    return site_env[1]


@pytest.fixture
def site(site_gateway: Gateway) -> Site:
    with site_gateway.api() as api:
        org = api.post("/orgs", json={"name": unique("org")}).json()
        project = api.post(f"/orgs/{org['id']}/projects", json={"name": "web"}).json()
        admin = api.post(f"/orgs/{org['id']}/keys", json={"name": "ops", "role": "admin"}).json()
    return Site(site_gateway, org["id"], org["name"], project["id"], admin["key"])
