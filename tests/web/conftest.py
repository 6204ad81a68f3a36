"""A gateway (SQLite: the pages sit on the same services as the admin API, whose store tests cover both
backends) with an organization, a project and an org admin key made through the admin API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

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
def site_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("web")
    with fresh_database("sqlite", tmp) as url, running_gateway(make_settings(tmp, url)) as gateway:
        yield gateway


@pytest.fixture
def site(site_gateway: Gateway) -> Site:
    with site_gateway.api() as api:
        org = api.post("/orgs", json={"name": unique("org")}).json()
        project = api.post(f"/orgs/{org['id']}/projects", json={"name": "web"}).json()
        admin = api.post(f"/orgs/{org['id']}/keys", json={"name": "ops", "role": "admin"}).json()
    return Site(site_gateway, org["id"], org["name"], project["id"], admin["key"])
