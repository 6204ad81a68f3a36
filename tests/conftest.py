"""Session fixtures: a gateway per store backend (SQLite and PostgreSQL), and a fresh organization per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Gateway, OrgFixture, fresh_database, make_org, make_settings, running_gateway


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def gateway(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """One gateway per backend for the whole session; tests use unique names so they do not collide."""
    tmp = tmp_path_factory.mktemp(f"gateway-{backend}")
    with fresh_database(backend, tmp) as url, running_gateway(make_settings(tmp, url)) as gw:
        yield gw


@pytest.fixture
def org(gateway: Gateway) -> OrgFixture:
    return make_org(gateway)
