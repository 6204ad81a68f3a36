"""The emulated Entra ID with the official azure-identity credentials, and each AADSTS error body."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientAssertionCredential, ClientSecretCredential

from skygate_emulator.server import RunningEmulator
from tests.emulator.support import (
    DEMO_CLIENT,
    DEMO_OBJECT,
    DEMO_SECRET,
    DEMO_TENANT,
    FIC_SUBJECT,
    WI_CLIENT,
    FakeIssuer,
    raw_client,
)

SCOPE = "https://cognitiveservices.azure.com/.default"


def _secret_credential(
    emulator: RunningEmulator, secret: str = DEMO_SECRET, client: str = DEMO_CLIENT, tenant: str = DEMO_TENANT
) -> ClientSecretCredential:
    return ClientSecretCredential(tenant, client, secret, authority=emulator.url, disable_instance_discovery=True)


def test_client_secret_credential_gets_a_v1_access_token(emulator: RunningEmulator) -> None:
    token = _secret_credential(emulator).get_token(SCOPE)
    assert token.expires_on > time.time() + 3000
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["aud"] == "https://cognitiveservices.azure.com"
    assert claims["iss"] == f"https://sts.windows.net/{DEMO_TENANT}/"
    assert claims["tid"] == DEMO_TENANT
    assert claims["oid"] == DEMO_OBJECT
    assert claims["appid"] == DEMO_CLIENT
    assert claims["appidacr"] == "1"
    assert claims["ver"] == "1.0"
    assert jwt.get_unverified_header(token.token)["alg"] == "RS256"
    # MSAL asked discovery first, then the token endpoint (reference §10).
    paths = [r.path for r in emulator.ctx.recorder.all()]
    assert paths == [f"/{DEMO_TENANT}/v2.0/.well-known/openid-configuration", f"/{DEMO_TENANT}/oauth2/v2.0/token"]
    form = emulator.ctx.recorder.all()[1].body
    assert form["client_secret"] != DEMO_SECRET
    assert form["client_secret"].startswith("***")


def test_the_tenant_may_be_named_by_domain(emulator: RunningEmulator) -> None:
    assert _secret_credential(emulator, tenant="emulator.onmicrosoft.com").get_token(SCOPE).token


def test_access_tokens_verify_against_the_published_jwks(emulator: RunningEmulator) -> None:
    token = _secret_credential(emulator).get_token(SCOPE).token
    with raw_client(emulator.ca_file, emulator.url) as client:
        jwks = client.get(f"/{DEMO_TENANT}/discovery/v2.0/keys").json()
        discovery = client.get(f"/{DEMO_TENANT}/v2.0/.well-known/openid-configuration").json()
    assert discovery["jwks_uri"].endswith(f"/{DEMO_TENANT}/discovery/v2.0/keys")
    assert discovery["token_endpoint"].startswith("https://")
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="https://cognitiveservices.azure.com")
    assert claims["oid"] == DEMO_OBJECT


def test_wrong_secret_is_aadsts7000215_through_the_credential(emulator: RunningEmulator) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        _secret_credential(emulator, secret="not-the-secret").get_token(SCOPE)


def test_unknown_client_is_aadsts700016_through_the_credential(emulator: RunningEmulator) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):
        _secret_credential(emulator, client="12345678-1234-4234-8234-123456789012").get_token(SCOPE)


def _token(emulator: RunningEmulator, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.post(f"/{tenant}/oauth2/v2.0/token", data=form)
    return response.status_code, response.json()


BASE = {"grant_type": "client_credentials", "client_id": DEMO_CLIENT, "scope": SCOPE}

ERRORS = [
    (
        "unknown tenant",
        "00000000-0000-4000-8000-000000000000",
        BASE | {"client_secret": DEMO_SECRET},
        90002,
        "invalid_tenant",
        400,
        "Tenant '00000000-0000-4000-8000-000000000000' not found",
    ),
    (
        "wrong secret",
        DEMO_TENANT,
        BASE | {"client_secret": "nope"},
        7000215,
        "invalid_client",
        401,
        f"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not "
        f"the client secret ID, for a secret added to app '{DEMO_CLIENT}'.",
    ),
    (
        "no secret",
        DEMO_TENANT,
        BASE,
        7000218,
        "invalid_client",
        401,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
    (
        "unknown client",
        DEMO_TENANT,
        BASE | {"client_id": "abc", "client_secret": "x"},
        700016,
        "unauthorized_client",
        400,
        f"Application with identifier 'abc' was not found in the directory '{DEMO_TENANT}'.",
    ),
    (
        "scope without .default",
        DEMO_TENANT,
        BASE | {"scope": "https://cognitiveservices.azure.com", "client_secret": DEMO_SECRET},
        1002012,
        "invalid_scope",
        400,
        "Client credential flows must have a scope value with /.default suffixed",
    ),
    (
        "two scopes",
        DEMO_TENANT,
        BASE | {"scope": SCOPE + " https://ai.azure.com/.default", "client_secret": DEMO_SECRET},
        70011,
        "invalid_scope",
        400,
        "The provided value for the input parameter 'scope' is not valid.",
    ),
    (
        "no grant type",
        DEMO_TENANT,
        {"client_id": DEMO_CLIENT, "scope": SCOPE},
        900144,
        "invalid_request",
        400,
        "The request body must contain the following parameter: 'grant_type'.",
    ),
    (
        "wrong grant type",
        DEMO_TENANT,
        BASE | {"grant_type": "password"},
        70003,
        "unsupported_grant_type",
        400,
        "The app requested an unsupported grant type 'password'.",
    ),
]


@pytest.mark.parametrize(
    ("case", "tenant", "form", "code", "error", "status", "text"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_token_endpoint_error_bodies(
    emulator: RunningEmulator,
    case: str,
    tenant: str,
    form: dict[str, str],
    code: int,
    error: str,
    status: int,
    text: str,
) -> None:
    got_status, body = _token(emulator, tenant, form)
    assert got_status == status
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert text in body["error_description"]
    assert "Trace ID:" in body["error_description"]
    assert "Correlation ID:" in body["error_description"]
    assert set(body) >= {"timestamp", "trace_id", "correlation_id"}


def test_unknown_tenant_discovery_is_a_400(emulator: RunningEmulator) -> None:
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.get("/00000000-0000-4000-8000-000000000000/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def _assertion_credential(emulator: RunningEmulator, assertion: str) -> ClientAssertionCredential:
    return ClientAssertionCredential(DEMO_TENANT, WI_CLIENT, lambda: assertion, authority=emulator.url)


def test_client_assertion_credential_exchanges_a_federated_assertion(
    emulator: RunningEmulator, issuer: FakeIssuer
) -> None:
    token = _assertion_credential(emulator, issuer.assertion()).get_token(SCOPE)
    claims = jwt.decode(token.token, options={"verify_signature": False})
    assert claims["appid"] == WI_CLIENT
    assert claims["appidacr"] == "2"
    form = emulator.ctx.recorder.all()[-1].body
    assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert form["client_assertion"].startswith("***")


FEDERATION_ERRORS = [
    (
        "issuer",
        {"iss": "https://other-issuer.example"},
        700211,
        "presented assertion issuer 'https://other-issuer.example'",
    ),
    ("issuer trailing slash", {"iss": "__ISSUER__/"}, 700211, "presented assertion issuer"),
    ("subject", {"sub": "skygate:org:org_test:azure:other"}, 700213, "presented assertion subject"),
    ("subject case", {"sub": FIC_SUBJECT.upper()}, 700213, "presented assertion subject"),
    ("audience", {"aud": "api://SomethingElse"}, 700212, "presented assertion audience 'api://SomethingElse'"),
    (
        "expired",
        {"exp": int(time.time()) - 60, "nbf": int(time.time()) - 600},
        700024,
        "Client assertion is not within its valid time range.",
    ),
    ("not yet valid", {"nbf": int(time.time()) + 600, "exp": int(time.time()) + 900}, 700024, "valid time range"),
]


@pytest.mark.parametrize(("case", "claims", "code", "text"), FEDERATION_ERRORS, ids=[e[0] for e in FEDERATION_ERRORS])
def test_federated_assertion_errors(
    emulator: RunningEmulator, issuer: FakeIssuer, case: str, claims: dict[str, Any], code: int, text: str
) -> None:
    claims = {k: (issuer.url + "/" if v == "__ISSUER__/" else v) for k, v in claims.items()}
    with pytest.raises(ClientAuthenticationError, match=f"AADSTS{code}") as raised:
        _assertion_credential(emulator, issuer.assertion(**claims)).get_token(SCOPE)
    assert text in str(raised.value)


def test_a_key_the_issuer_does_not_publish_is_aadsts7000272(emulator: RunningEmulator, issuer: FakeIssuer) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000272") as raised:
        _assertion_credential(emulator, issuer.assertion(kid="unpublished-kid")).get_token(SCOPE)
    assert "unpublished-kid" in str(raised.value)


def test_a_forged_signature_is_refused(emulator: RunningEmulator, issuer: FakeIssuer) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        _assertion_credential(emulator, issuer.foreign_assertion()).get_token(SCOPE)


def test_an_unreachable_issuer_is_aadsts50166(emulator: RunningEmulator, issuer: FakeIssuer) -> None:
    dead = "https://127.0.0.1:9"
    emulator.state.apps[-1].federated_credentials[0].issuer = dead
    with pytest.raises(ClientAuthenticationError, match="AADSTS50166") as raised:
        _assertion_credential(emulator, issuer.assertion(iss=dead)).get_token(SCOPE)
    assert "Request to External OIDC endpoint failed." in str(raised.value)


@pytest.mark.parametrize("tenant", ["common", "consumers"])
def test_client_credentials_are_refused_on_multi_tenant_endpoints(emulator: RunningEmulator, tenant: str) -> None:
    status, body = _token(emulator, tenant, BASE | {"client_secret": DEMO_SECRET})
    assert status == 400
    assert body["error_codes"] == [9001023]


def test_token_responses_carry_entras_headers(emulator: RunningEmulator) -> None:
    with raw_client(emulator.ca_file, emulator.url) as client:
        response = client.post(f"/{DEMO_TENANT}/oauth2/v2.0/token", data=BASE | {"client_secret": DEMO_SECRET})
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.headers["cache-control"] == "no-store, no-cache"
    assert response.headers["pragma"] == "no-cache"
    assert "strict-transport-security" in response.headers
    assert response.json()["token_type"] == "Bearer"
