"""Test support: fresh databases on each backend, a real gateway on a loopback port, and request builders."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from skygate.app import create_app
from skygate.gateway.server_protocol import HTTP_PROTOCOL
from skygate.settings import Settings
from skygate.store.migrate import upgrade
from skygate_emulator.server import serve_in_thread
from skygate_emulator.tls import TestPKI

PUBLIC_URL = "https://gateway.example.test"


def _postgres_url() -> str | None:
    return os.environ.get("SKYGATE_TEST_DATABASE_URL") or None


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _pg_admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def fresh_database(backend: str, tmp: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL database created (and dropped) for the run."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'skygate.db'}"
        return
    base = _postgres_url()
    if base is None:
        pytest.skip("SKYGATE_TEST_DATABASE_URL is not set")
    name = f"sg_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_pg_admin(base, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL at SKYGATE_TEST_DATABASE_URL is not reachable: {exc}")
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class LogCapture(logging.Handler):
    """Every log line the server emitted, unredacted: canary tests must see what the code itself wrote."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@dataclass
class Gateway:
    base_url: str
    settings: Settings
    admin_token: str
    logs: LogCapture
    responses: list[httpx.Response] = field(default_factory=list)
    verify: ssl.SSLContext | bool = True

    def api(self, token: str | None = None, *, anonymous: bool = False) -> httpx.Client:
        """A client for /api/v1 with the admin token (or `token`); every response is kept for canary checks."""
        headers = {} if anonymous else {"authorization": f"Bearer {token or self.admin_token}"}
        return httpx.Client(
            verify=self.verify,
            base_url=f"{self.base_url}/api/v1",
            headers=headers,
            timeout=30,
            event_hooks={"response": [lambda r: (r.read(), self.responses.append(r))[0]]},
        )


def make_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "admin_token": "sk-sgadmin-test-" + secrets.token_hex(16),
        "public_url": PUBLIC_URL,
        "allowed_upstream_hosts": ("127.0.0.1", "localhost"),
        "master_key": None,
    }
    values.update(overrides)
    return Settings(**values)


@contextmanager
def running_gateway(settings: Settings, pki: TestPKI | None = None, port: int = 0) -> Iterator[Gateway]:
    """Migrate, then serve the real app with uvicorn on an ephemeral loopback port in a thread."""
    upgrade(settings.effective_database_url)
    logs = LogCapture()
    root = logging.getLogger()
    root.addHandler(logs)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    assert settings.admin_token is not None
    try:
        tls = {"ssl_cert": pki.cert_file, "ssl_key": pki.key_file} if pki else {}
        # As `skygate serve` runs it: no access log unless the settings ask.
        with serve_in_thread(create_app(settings), port=port, access_log=settings.access_log, http=HTTP_PROTOCOL,
                             **tls) as bound:  # fmt: skip
            scheme = "https" if pki else "http"
            verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(pki.ca_file)) if pki else True
            token = settings.admin_token.get_secret_value()
            yield Gateway(f"{scheme}://127.0.0.1:{bound}", settings, token, logs, verify=verify)
    finally:
        root.removeHandler(logs)
        root.setLevel(previous_level)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class OrgFixture:
    id: str
    name: str
    admin_key: str
    invoke_key: str
    project_id: str


def make_org(gw: Gateway, *, gateway_enabled: bool = True) -> OrgFixture:
    """A fresh organization with a project, an admin key and an invoke key, created through the API."""
    with gw.api() as api:
        org = api.post("/orgs", json={"name": unique("org"), "gateway_enabled": gateway_enabled}).json()
        project = api.post(f"/orgs/{org['id']}/projects", json={"name": "web"}).json()
        admin = api.post(f"/orgs/{org['id']}/keys", json={"name": "ops", "role": "admin"}).json()
        invoke = api.post(f"/orgs/{org['id']}/keys", json={"name": "app", "role": "invoke"}).json()
    return OrgFixture(org["id"], org["name"], admin["key"], invoke["key"], project["id"])


def azure_key_provider(name: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name or unique("azure"),
        "type": "azure",
        "api_base": "https://contoso.openai.azure.com/",
        "auth": {"method": "api_key", "api_key": "k" * 28 + "WXYZ"},
    }
    body.update(overrides)
    return body


TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0b5e3a61-2d0c-4a39-9a3f-6f2b35d0c9a1"


def skygate_executable() -> str:
    """The installed console script, as users run it."""
    return shutil.which("skygate") or str(Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "skygate")


def stored_secret(settings: Settings, provider_id: str) -> str | None:
    """Open a provider's sealed secret the way the gateway will: proves what is stored, not just its fingerprint."""
    from skygate.crypto import open_secret
    from skygate.services.runtime import open_runtime
    from skygate.store.providers import find_provider

    async def read() -> str | None:
        async with open_runtime(settings) as rt, rt.engine.connect() as conn:
            provider = await find_provider(conn, provider_id)
            assert provider is not None
            if provider.sealed_secret is None:
                return None
            return open_secret(rt.keyring.masters, provider.sealed_secret, f"provider:{provider_id}:secret")

    return asyncio.run(read())
