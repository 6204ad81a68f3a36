"""Entra client-secret and workload-identity providers end to end: the emulated Entra fetches skygate's own
discovery document and JWKS over TLS to validate each assertion, then the data plane calls Azure with the token."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest

from skygate.domain.records import Principal
from skygate.services.runtime import open_runtime
from skygate.services.signing_keys import rotate_signing_key
from skygate_emulator.server import RunningEmulator, running_emulator
from skygate_emulator.tls import ensure_test_pki
from tests.emulator.support import DEMO_CLIENT, DEMO_KEY, DEMO_TENANT, WI_CLIENT, emulator_state
from tests.support import Gateway, make_settings, running_gateway, unique

HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="session")
def entra_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningEmulator, Gateway]]:
    """Emulator and gateway on one test CA; the gateway is the OIDC issuer at its own https URL."""
    tmp = tmp_path_factory.mktemp("entra")
    pki = ensure_test_pki(tmp / "tls")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    public = f"https://127.0.0.1:{port}"
    with running_emulator(tmp / "tls", emulator_state(public)) as emulator:
        settings = make_settings(
            tmp,
            f"sqlite+aiosqlite:///{tmp / 'skygate.db'}",
            public_url=public,
            ca_bundle=pki.ca_file,
            allowed_upstream_hosts=("127.0.0.1",),
        )
        with running_gateway(settings, pki, port) as gateway:
            yield emulator, gateway


@dataclass
class Entra:
    emulator: RunningEmulator
    gateway: Gateway
    org_id: str
    invoke_key: str

    @property
    def subject(self) -> str:
        return f"skygate:org:{self.org_id}:azure:prod"

    def provider(self, auth: dict[str, Any], **fields: Any) -> dict[str, Any]:
        body = {
            "name": unique("entra"),
            "type": "azure",
            "api_base": self.emulator.url,
            "auth": {"tenant_id": DEMO_TENANT, "authority_host": self.emulator.url} | auth,
            "models": [{"deployment": "claude-sonnet-4-5", "api": "messages"}],
        } | fields
        with self.gateway.api() as api:
            before = self.version()
            response = api.post(f"/orgs/{self.org_id}/providers", json=body)
            assert response.status_code == 201, response.text
        deadline = time.monotonic() + 1
        while self.version() <= before:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        return dict(response.json())

    def secret_provider(self, secret: str | None = None, **fields: Any) -> dict[str, Any]:
        """A client-secret provider with a secret of its own, so no other test's cached token can serve it."""
        if secret is None:
            secret = unique("secret")
            self.emulator.state.apps[0].secrets.append(secret)
        return self.provider(
            {"method": "entra_client_secret", "client_id": DEMO_CLIENT, "client_secret": secret}, **fields
        )

    def wi_provider(self, **fields: Any) -> dict[str, Any]:
        return self.provider(
            {"method": "workload_identity", "client_id": WI_CLIENT, "subject_suffix": "prod"}, **fields
        )

    def version(self) -> int:
        response = httpx.get(
            f"{self.gateway.base_url}/v1/models",
            verify=self.gateway.verify,
            headers={"authorization": f"Bearer {self.invoke_key}"},
        )
        return int(response.headers.get("x-skygate-config-version", "-1"))

    def openai(self, **headers: str) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=f"{self.gateway.base_url}/v1",
            api_key=self.invoke_key,
            max_retries=0,
            http_client=httpx.Client(verify=self.gateway.verify),
            default_headers=headers or None,
        )

    def anthropic(self) -> anthropic.Anthropic:
        return anthropic.Anthropic(
            base_url=self.gateway.base_url,
            api_key=self.invoke_key,
            max_retries=0,
            http_client=httpx2.Client(verify=self.gateway.verify),
        )

    def token_requests(self) -> list[Any]:
        return [r for r in self.emulator.ctx.recorder.all() if r.path.endswith("/oauth2/v2.0/token")]

    def test_provider(self, provider_id: str) -> dict[str, Any]:
        with self.gateway.api() as api:
            response = api.post(f"/providers/{provider_id}/test")
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def entra(entra_env: tuple[RunningEmulator, Gateway]) -> Entra:
    emulator, gateway = entra_env
    assert gateway.settings.public_url is not None
    fresh = emulator_state(gateway.settings.public_url)
    emulator.state.tenants, emulator.state.apps, emulator.state.resources = fresh.tenants, fresh.apps, fresh.resources
    emulator.ctx.options.token_lifetime_seconds = 3599
    emulator.ctx.options.clock_offset_seconds = 0
    with gateway.api() as api:
        org = api.post("/orgs", json={"name": unique("org")}).json()
        key = api.post(f"/orgs/{org['id']}/keys", json={"name": "app", "role": "invoke"}).json()
    setup = Entra(emulator, gateway, org["id"], key["key"])
    deadline = time.monotonic() + 1
    while setup.version() < 0:  # the new key reaches the data plane with the next snapshot
        assert time.monotonic() < deadline
        time.sleep(0.02)
    emulator.state.apps[-1].federated_credentials[0].subject = setup.subject
    emulator.ctx.recorder.clear()
    return setup


def _serves_chat_and_claude(entra: Entra) -> None:
    chat = entra.openai().chat.completions.create(model="gpt-4o", messages=HI)
    assert chat.choices[0].message.content.endswith("You said: hi")  # type: ignore[union-attr]
    claude = entra.anthropic().messages.create(model="claude-sonnet-4-5", max_tokens=20, messages=HI)  # type: ignore[arg-type]
    assert claude.content[0].text.endswith("You said: hi")  # type: ignore[union-attr]


def test_client_secret_provider_serves_chat_and_claude(entra: Entra) -> None:
    entra.secret_provider()
    _serves_chat_and_claude(entra)
    upstream = [r for r in entra.emulator.ctx.recorder.all() if r.path.startswith(("/openai", "/anthropic"))]
    assert all(r.headers["authorization"].startswith("Bearer ***") for r in upstream)
    assert all("api-key" not in r.headers for r in upstream)
    assert len(entra.token_requests()) == 1  # one token for both calls (same scope and credential)


def test_workload_identity_provider_serves_chat_and_claude(entra: Entra) -> None:
    entra.wi_provider()
    _serves_chat_and_claude(entra)
    [token] = entra.token_requests()
    assert token.body["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert "client_secret" not in token.body


def test_the_issuer_publishes_discovery_and_jwks(entra: Entra) -> None:
    with httpx.Client(verify=entra.gateway.verify, base_url=entra.gateway.base_url) as client:
        discovery = client.get("/.well-known/openid-configuration").json()
        jwks = client.get("/.well-known/jwks.json").json()
    assert discovery["issuer"] == entra.gateway.settings.public_url
    assert discovery["jwks_uri"] == f"{entra.gateway.settings.public_url}/.well-known/jwks.json"
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["kid"] for k in jwks["keys"])
    assert all("d" not in k for k in jwks["keys"])  # public parts only


def test_many_concurrent_calls_on_a_cold_cache_make_one_token_request(entra: Entra) -> None:
    entra.secret_provider()

    async def burst() -> list[int]:
        async with httpx.AsyncClient(verify=entra.gateway.verify, timeout=60) as client:
            calls = [
                client.post(
                    f"{entra.gateway.base_url}/v1/chat/completions",
                    headers={"authorization": f"Bearer {entra.invoke_key}"},
                    json={"model": "gpt-4o", "messages": HI},
                )
                for _ in range(100)
            ]
            return [r.status_code for r in await asyncio.gather(*calls)]

    assert asyncio.run(burst()) == [200] * 100
    assert len(entra.token_requests()) == 1


def test_tokens_are_refreshed_before_they_expire(entra: Entra) -> None:
    entra.emulator.ctx.options.token_lifetime_seconds = 2
    entra.secret_provider()
    client = entra.openai()
    client.chat.completions.create(model="gpt-4o", messages=HI)
    client.chat.completions.create(model="gpt-4o", messages=HI)
    assert len(entra.token_requests()) == 1
    time.sleep(1.2)  # past half the lifetime: the next call refreshes
    client.chat.completions.create(model="gpt-4o", messages=HI)
    assert len(entra.token_requests()) == 2


def test_an_expired_token_is_never_sent_again(entra: Entra) -> None:
    """Upstream heads are kept per route and credential: after the token has expired (the emulator refuses an
    expired one with 401), calls carry the new token."""
    entra.emulator.ctx.options.token_lifetime_seconds = 2
    entra.secret_provider()
    client = entra.openai()
    client.chat.completions.create(model="gpt-4o", messages=HI)
    time.sleep(2.2)
    client.chat.completions.create(model="gpt-4o", messages=HI)  # a 401 (the old token) would raise here
    client.chat.completions.create(model="gpt-4o", messages=HI)
    assert len(entra.token_requests()) >= 2  # a third if the new token came due for refresh meanwhile


def test_a_token_in_its_last_seconds_is_not_sent(entra: Entra) -> None:
    """azure-identity's assertion credential hands back its cached token to the token's last second; one sent then
    can expire on the way (the emulator's 401). The cache asks again through a fresh credential instead."""
    entra.emulator.ctx.options.token_lifetime_seconds = 3
    entra.wi_provider()
    client = entra.openai()
    client.chat.completions.create(model="gpt-4o", messages=HI)
    time.sleep(1.7)  # past half the lifetime, with under two seconds left: the next call refreshes
    client.chat.completions.create(model="gpt-4o", messages=HI)
    assert len(entra.token_requests()) == 2  # not the cached token, with its last second or so left


def test_signing_key_rotation_fails_no_request(entra: Entra) -> None:
    entra.emulator.ctx.options.token_lifetime_seconds = 2  # every call past 1 s needs a fresh assertion
    entra.wi_provider()
    statuses: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        with httpx.Client(verify=entra.gateway.verify, timeout=30) as client:
            while not stop.is_set():
                response = client.post(
                    f"{entra.gateway.base_url}/v1/chat/completions",
                    headers={"authorization": f"Bearer {entra.invoke_key}"},
                    json={"model": "gpt-4o", "messages": HI},
                )
                statuses.append(response.status_code)
                time.sleep(0.1)

    worker = threading.Thread(target=traffic)
    worker.start()
    time.sleep(1.0)

    async def rotate() -> None:
        async with open_runtime(entra.gateway.settings) as rt:
            await rotate_signing_key(rt, Principal("cli", "cli:test"), overlap_seconds=1.0)

    asyncio.run(rotate())
    time.sleep(3.0)  # through the overlap and well past it, on the new key
    stop.set()
    worker.join()
    assert len(statuses) > 15
    assert set(statuses) == {200}
    assert len(entra.token_requests()) >= 3  # assertions were signed before, during and after the overlap
    with httpx.Client(verify=entra.gateway.verify) as client:
        assert len(client.get(f"{entra.gateway.base_url}/.well-known/jwks.json").json()["keys"]) == 2


def test_a_failing_token_endpoint_is_a_fast_502_naming_the_code(entra: Entra) -> None:
    entra.secret_provider(secret="wrong-secret-value")
    with pytest.raises(openai.APIStatusError) as failed:
        entra.openai().chat.completions.create(model="gpt-4o", messages=HI)
    assert failed.value.status_code == 502
    assert "AADSTS7000215" in failed.value.message
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError):
        entra.openai().chat.completions.create(model="gpt-4o", messages=HI)
    assert time.monotonic() - started < 0.5
    assert len(entra.token_requests()) == 1  # the failure is remembered briefly, Entra is not hammered


def test_setup_values_for_workload_identity(entra: Entra) -> None:
    entra.wi_provider(api_base=entra.emulator.url)
    with entra.gateway.api() as api:
        values = api.get(f"/orgs/{entra.org_id}/workload-identity", params={"subject_suffix": "prod"}).json()
        bad = api.get(f"/orgs/{entra.org_id}/workload-identity", params={"subject_suffix": "no/slash"})
    assert values["issuer"] == entra.gateway.settings.public_url
    assert values["subject"] == entra.subject
    assert values["audience"] == "api://AzureADTokenExchange"
    create, assign = values["az_commands"]
    assert create.startswith(f"az ad app federated-credential create --id {WI_CLIENT} --parameters ")
    assert entra.subject in create
    assert '--role "Cognitive Services OpenAI User"' in assign
    assert bad.status_code == 422


def _failed_stage(report: dict[str, Any]) -> dict[str, Any]:
    assert report["ok"] is False
    return next(s for s in report["stages"] if not s["ok"])


def test_connection_test_passes_for_a_good_provider(entra: Entra) -> None:
    report = entra.test_provider(entra.wi_provider()["id"])
    assert report["ok"] is True
    assert [s["name"] for s in report["stages"]] == ["config", "token", "upstream"]


@pytest.mark.parametrize(
    ("breakage", "stage", "fix"),
    [
        ("issuer", "token", "set the federated credential's Issuer to https://127.0.0.1:"),
        ("subject", "token", "set the federated credential's Value (subject identifier) to skygate:org:"),
        ("audience", "token", "set the federated credential's Audience to api://AzureADTokenExchange"),
        ("expired", "token", "check this server's clock"),
        ("missing role", "upstream", "'Cognitive Services OpenAI User' role"),
    ],
)
def test_connection_test_names_the_fix_for_each_mismatch(entra: Entra, breakage: str, stage: str, fix: str) -> None:
    provider = entra.wi_provider()
    credential = entra.emulator.state.apps[-1].federated_credentials[0]
    if breakage == "issuer":
        credential.issuer = "https://issuer.elsewhere.example"
    elif breakage == "subject":
        credential.subject = entra.subject + "-other"
    elif breakage == "audience":
        credential.audience = "api://SomethingElse"
    elif breakage == "expired":
        entra.emulator.ctx.options.clock_offset_seconds = 3600
    else:
        entra.emulator.state.resources[0].role_assignments = [
            a for a in entra.emulator.state.resources[0].role_assignments if not a.principal_id.startswith("9999")
        ]
    failed = _failed_stage(entra.test_provider(provider["id"]))
    assert failed["name"] == stage
    assert fix in failed["fix"]
    if breakage == "subject":
        assert entra.subject in failed["fix"]


def test_connection_test_for_key_and_secret_mistakes(entra: Entra) -> None:
    secret = _failed_stage(entra.test_provider(entra.secret_provider(secret="wrong-secret-value")["id"]))
    assert secret["name"] == "token"
    assert "Value (not its Secret ID)" in secret["fix"]
    assert "AADSTS7000215" in secret["detail"]
    with entra.gateway.api() as api:
        wrong_key = api.post(
            f"/orgs/{entra.org_id}/providers",
            json={
                "name": unique("key"),
                "type": "azure",
                "api_base": entra.emulator.url,
                "auth": {"method": "api_key", "api_key": "not-the-right-key-0"},
                "models": [{"deployment": "gpt-4o", "api": "chat_completions"}],
            },
        ).json()
        missing = api.post(
            f"/orgs/{entra.org_id}/providers",
            json={
                "name": unique("key"),
                "type": "azure",
                "api_base": entra.emulator.url,
                "auth": {"method": "api_key", "api_key": DEMO_KEY},
                "models": [{"deployment": "no-such-deployment", "api": "chat_completions"}],
            },
        ).json()
    key_stage = _failed_stage(entra.test_provider(wrong_key["id"]))
    assert key_stage["name"] == "upstream"
    assert "copy Key 1" in key_stage["fix"]
    deployment_stage = _failed_stage(entra.test_provider(missing["id"]))
    assert "no deployment 'no-such-deployment'" in deployment_stage["fix"]


def test_the_cli_runs_the_same_connection_test(entra: Entra) -> None:
    from typer.testing import CliRunner

    from skygate.cli.main import app

    settings = entra.gateway.settings
    env = {
        "SKYGATE_DATA_DIR": str(settings.data_dir),
        "SKYGATE_DATABASE_URL": settings.effective_database_url,
        "SKYGATE_PUBLIC_URL": settings.public_url or "",
        "SKYGATE_CA_BUNDLE": str(settings.ca_bundle),
        "SKYGATE_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1",
        "SKYGATE_MASTER_KEY": "",
    }
    good = entra.wi_provider()
    broken = entra.secret_provider(secret="wrong-secret-value")
    runner = CliRunner()
    passed = runner.invoke(app, ["providers", "test", good["name"], "--org", entra.org_id], env=env)
    assert passed.exit_code == 0, passed.output
    assert "ok   upstream" in passed.stdout
    failed = runner.invoke(app, ["providers", "test", broken["id"]], env=env)
    assert failed.exit_code == 1
    assert "FAIL token" in failed.stdout
    assert "fix: the client secret is wrong" in failed.stdout


def test_connection_test_explains_a_signing_key_the_issuer_does_not_publish(entra: Entra, tmp_path: Path) -> None:
    """Another installation (its own database, so its own signing keys) claims this gateway's public URL: its
    assertions carry a `kid` the issuer's JWKS does not have, AADSTS7000272, and the fix says where to look."""
    from typer.testing import CliRunner

    from skygate.cli.main import app

    settings = entra.gateway.settings
    env = {
        "SKYGATE_DATA_DIR": str(tmp_path),
        "SKYGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'other.db'}",
        "SKYGATE_PUBLIC_URL": settings.public_url or "",
        "SKYGATE_CA_BUNDLE": str(settings.ca_bundle),
        "SKYGATE_ALLOWED_UPSTREAM_HOSTS": "127.0.0.1",
        "SKYGATE_MASTER_KEY": "",
    }
    runner = CliRunner()

    def cli(*args: str) -> Any:
        result = runner.invoke(app, [*args, "--json"], env=env)
        return json.loads(result.stdout) if result.stdout.strip().startswith(("{", "[")) else result

    org = cli("orgs", "create", "elsewhere")
    provider = cli(
        "providers",
        "create",
        "wi",
        "--org",
        "elsewhere",
        "--api-base",
        entra.emulator.url,
        "--auth-method",
        "workload_identity",
        "--tenant-id",
        DEMO_TENANT,
        "--client-id",
        WI_CLIENT,
        "--subject-suffix",
        "prod",
        "--authority-host",
        entra.emulator.url,
    )
    entra.emulator.state.apps[-1].federated_credentials[0].subject = f"skygate:org:{org['id']}:azure:prod"
    report = cli("providers", "test", provider["id"])
    assert isinstance(report, dict), report
    failed = _failed_stage(report)
    assert failed["name"] == "token"
    assert "AADSTS7000272" in failed["detail"]
    assert f"{settings.public_url}/.well-known/jwks.json" in failed["fix"]
