"""Every provider rule refuses with a 422 that names the field and the rule, and stores nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import (
    CLIENT,
    PUBLIC_URL,
    TENANT,
    Gateway,
    OrgFixture,
    azure_key_provider,
    make_org,
    make_settings,
    running_gateway,
)

ENTRA = {"method": "entra_client_secret", "tenant_id": TENANT, "client_id": CLIENT, "client_secret": "s" * 40}
WI = {"method": "workload_identity", "tenant_id": TENANT, "client_id": CLIENT, "subject_suffix": "prod-eastus"}


def _with_auth(**auth: Any) -> dict[str, Any]:
    return azure_key_provider(auth=auth)


CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("http api_base", azure_key_provider(api_base="http://contoso.openai.azure.com"), "api_base", "must use https"),
    ("foreign host", azure_key_provider(api_base="https://api.openai.com"), "api_base", "not an Azure"),
    ("query in api_base", azure_key_provider(api_base="https://c.openai.azure.com/?api-version=1"), "api_base",
     "query string"),
    ("no method", _with_auth(api_key="k" * 20), "auth.method", "is required"),
    ("bad method", _with_auth(method="password"), "auth.method", "'api_key'"),
    ("api_key missing", _with_auth(method="api_key"), "auth.api_key", "is required for auth method 'api_key'"),
    ("api_key blank", _with_auth(method="api_key", api_key=""), "auth.api_key", "is required"),
    ("api_key with spaces", _with_auth(method="api_key", api_key="abc def"), "auth.api_key", "without spaces"),
    ("tenant on api_key", _with_auth(method="api_key", api_key="k" * 20, tenant_id=TENANT), "auth.tenant_id",
     "is not used by auth method 'api_key'"),
    ("client_secret on WI", _with_auth(**WI, client_secret="x" * 20), "auth.client_secret",
     "is not used by auth method 'workload_identity'"),
    ("api_key on entra", _with_auth(**ENTRA, api_key="x" * 20), "auth.api_key", "belongs to api_key"),
    ("subject_suffix on entra", _with_auth(**ENTRA, subject_suffix="a"), "auth.subject_suffix", "not used"),
    ("entra without secret", _with_auth(**{k: v for k, v in ENTRA.items() if k != "client_secret"}),
     "auth.client_secret", "is required for auth method 'entra_client_secret'"),
    ("entra without tenant", _with_auth(**{k: v for k, v in ENTRA.items() if k != "tenant_id"}), "auth.tenant_id",
     "is required"),
    ("WI without suffix", _with_auth(**{k: v for k, v in WI.items() if k != "subject_suffix"}),
     "auth.subject_suffix", "is required"),
    ("bad tenant", _with_auth(**ENTRA | {"tenant_id": "not a tenant"}), "auth.tenant_id", "Directory (tenant) ID"),
    ("bad client", _with_auth(**ENTRA | {"client_id": "abc"}), "auth.client_id", "Application (client) ID"),
    ("scope without .default", _with_auth(**ENTRA | {"scope": "https://cognitiveservices.azure.com"}),
     "auth.scope", "must end in '/.default'"),
    ("suffix charset", _with_auth(**WI | {"subject_suffix": "prod/eastus"}), "auth.subject_suffix",
     "letters, digits"),
    ("suffix too long", _with_auth(**WI | {"subject_suffix": "a" * 65}), "auth.subject_suffix", "1-64"),
    ("authority http", _with_auth(**ENTRA | {"authority_host": "http://login.microsoftonline.com"}),
     "auth.authority_host", "must use https"),
    ("authority foreign", _with_auth(**ENTRA | {"authority_host": "https://login.example.com"}),
     "auth.authority_host", "not an Entra login host"),
    ("empty deployment", azure_key_provider(models=[{"deployment": " ", "api": "messages"}]),
     "models.0.deployment", "must not be empty"),
    ("bad api", azure_key_provider(models=[{"deployment": "claude", "api": "completions"}]), "models.0.api",
     "'chat_completions'"),
    ("duplicate alias", azure_key_provider(models=[
        {"deployment": "claude-a", "api": "messages", "alias": "claude"},
        {"deployment": "claude-b", "api": "messages", "alias": "claude"},
    ]), "models.1.alias", "aliases must be unique per provider"),
    ("alias clashes with deployment", azure_key_provider(models=[
        {"deployment": "grok-3", "api": "chat_completions"},
        {"deployment": "grok-3-east", "api": "chat_completions", "alias": "grok-3"},
    ]), "models.1.alias", "unique"),
    ("negative cost", azure_key_provider(models=[{"deployment": "d", "api": "responses", "input_cost_per_mtok": -1}]),
     "models.0.input_cost_per_mtok", "greater than or equal to 0"),
    ("api_version format", azure_key_provider(api_version="latest"), "api_version", "dated api-version"),
    ("reserved header", azure_key_provider(additional_headers={"Authorization": "x"}),
     "additional_headers.Authorization", "set by skygate"),
    ("skygate header", azure_key_provider(additional_headers={"x-skygate-provider": "x"}),
     "additional_headers.x-skygate-provider", "set by skygate"),
    ("bad header name", azure_key_provider(additional_headers={"bad header": "x"}),
     "additional_headers.bad header", "not a valid HTTP header name"),
    ("header line break", azure_key_provider(additional_headers={"x-team": "a\r\nb: c"}),
     "additional_headers.x-team", "without line breaks"),
    ("bad name", azure_key_provider(name="has space"), "name", "letters, digits"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "field", "rule"), CASES, ids=[c[0] for c in CASES])
def test_provider_rule_refusals(
    gateway: Gateway, org: OrgFixture, case: str, body: dict[str, Any], field: str, rule: str
) -> None:
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json=body)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        messages = {f["field"]: f["message"] for f in error["fields"]}
        assert field in messages, messages
        assert rule in messages[field]
        assert field in error["message"]
        assert api.get(f"/orgs/{org.id}/providers").json()["data"] == []


def test_all_broken_rules_are_reported_at_once(gateway: Gateway, org: OrgFixture) -> None:
    body = azure_key_provider(api_base="http://x.example", api_version="v2")
    body["auth"] = {"method": "entra_client_secret", "tenant_id": "?", "client_id": CLIENT, "scope": "x"}
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json=body)
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert fields == {"api_base", "api_version", "auth.tenant_id", "auth.client_secret", "auth.scope"}


def test_workload_identity_is_refused_for_project_providers(gateway: Gateway, org: OrgFixture) -> None:
    with gateway.api() as api:
        response = api.post(f"/projects/{org.project_id}/providers", json=_with_auth(**WI))
        assert response.status_code == 422
        [error] = response.json()["error"]["fields"]
        assert error["field"] == "auth.method"
        assert "only allowed for organization providers" in error["message"]
        assert api.get(f"/projects/{org.project_id}/providers").json()["data"] == []


def test_workload_identity_needs_gateway_enabled(gateway: Gateway) -> None:
    disabled = make_org(gateway, gateway_enabled=False)
    with gateway.api() as api:
        response = api.post(f"/orgs/{disabled.id}/providers", json=_with_auth(**WI))
    assert response.status_code == 422
    assert "gateway_enabled" in response.json()["error"]["fields"][0]["message"]


def test_gateway_enabled_cannot_be_turned_off_under_a_workload_identity_provider(
    gateway: Gateway, org: OrgFixture
) -> None:
    with gateway.api() as api:
        assert api.post(f"/orgs/{org.id}/providers", json=_with_auth(**WI)).status_code == 201
        response = api.patch(f"/orgs/{org.id}", json={"gateway_enabled": False})
        assert response.status_code == 422
        assert response.json()["error"]["fields"][0]["field"] == "gateway_enabled"
        assert api.get(f"/orgs/{org.id}").json()["gateway_enabled"] is True


@pytest.mark.parametrize("public_url", [None, "http://gateway.internal:8080"])
def test_workload_identity_needs_a_public_https_issuer(tmp_path: Any, public_url: str | None) -> None:
    settings = make_settings(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}", public_url=public_url)
    with running_gateway(settings) as gw:
        org = make_org(gw)
        with gw.api() as api:
            response = api.post(f"/orgs/{org.id}/providers", json=_with_auth(**WI))
            assert response.status_code == 422
            message = response.json()["error"]["fields"][0]["message"]
            assert "SKYGATE_PUBLIC_URL" in message
            # Key and client-secret providers are fine without an issuer.
            assert api.post(f"/orgs/{org.id}/providers", json=_with_auth(**ENTRA)).status_code == 201


def test_workload_identity_is_accepted_at_org_scope_with_an_issuer(gateway: Gateway, org: OrgFixture) -> None:
    assert gateway.settings.public_url == PUBLIC_URL
    with gateway.api() as api:
        response = api.post(f"/orgs/{org.id}/providers", json=_with_auth(**WI))
    assert response.status_code == 201, response.text
    auth = response.json()["auth"]
    assert auth == {
        "method": "workload_identity",
        "tenant_id": TENANT,
        "client_id": CLIENT,
        "subject_suffix": "prod-eastus",
        "scope": "https://cognitiveservices.azure.com/.default",
        "authority_host": "https://login.microsoftonline.com",
        "secret_preview": None,
        "secret_fingerprint": None,
        "secret_updated_at": None,
        "secret_updated_by": None,
    }
