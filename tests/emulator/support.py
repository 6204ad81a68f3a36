"""Helpers for the emulator tests: a richer state, TLS-trusting clients, and a small test OIDC issuer."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from skygate_emulator.server import serve_in_thread
from skygate_emulator.signing import SigningKey
from skygate_emulator.state import DEMO_CLIENT, DEMO_KEY, DEMO_OBJECT, DEMO_SECRET, DEMO_TENANT, EmulatorState
from skygate_emulator.tls import ensure_test_pki

__all__ = [
    "DEMO_CLIENT",
    "DEMO_KEY",
    "DEMO_OBJECT",
    "DEMO_SECRET",
    "DEMO_TENANT",
    "FIC_SUBJECT",
    "NOROLE_CLIENT",
    "OTHER_CLIENT",
    "OTHER_SECRET",
    "OTHER_TENANT",
    "WI_CLIENT",
    "FakeIssuer",
    "emulator_state",
    "running_issuer",
    "ssl_context",
]

OTHER_TENANT = "44444444-4444-4444-8444-444444444444"
OTHER_CLIENT = "55555555-5555-4555-8555-555555555555"
OTHER_SECRET = "other-tenant-secret-0001"
NOROLE_CLIENT = "66666666-6666-4666-8666-666666666666"
WI_CLIENT = "77777777-7777-4777-8777-777777777777"
FIC_SUBJECT = "skygate:org:org_test:azure:prod"


def emulator_state(issuer: str = "https://127.0.0.1:1") -> EmulatorState:
    """The default tenant and resource, plus: an app of another tenant, an app without the OpenAI role, and a
    workload-identity app whose federated credential trusts `issuer`."""
    return EmulatorState.from_json(
        {
            "tenants": [{"id": DEMO_TENANT, "domains": ["emulator.onmicrosoft.com"]}, {"id": OTHER_TENANT}],
            "apps": [
                {
                    "tenant_id": DEMO_TENANT,
                    "client_id": DEMO_CLIENT,
                    "object_id": DEMO_OBJECT,
                    "secrets": [DEMO_SECRET],
                },
                {
                    "tenant_id": OTHER_TENANT,
                    "client_id": OTHER_CLIENT,
                    "object_id": str(uuid.uuid4()),
                    "secrets": [OTHER_SECRET],
                },
                {
                    "tenant_id": DEMO_TENANT,
                    "client_id": NOROLE_CLIENT,
                    "object_id": "88888888-0000-4000-8000-000000000000",
                    "secrets": [DEMO_SECRET],
                },
                {
                    "tenant_id": DEMO_TENANT,
                    "client_id": WI_CLIENT,
                    "object_id": "99999999-0000-4000-8000-000000000000",
                    "federated_credentials": [{"name": "skygate", "issuer": issuer, "subject": FIC_SUBJECT}],
                },
            ],
            "resources": [
                {
                    "name": "emulator",
                    "tenant_id": DEMO_TENANT,
                    "keys": [DEMO_KEY],
                    "role_assignments": [
                        {"principal_id": DEMO_OBJECT},
                        {"principal_id": "99999999-0000-4000-8000-000000000000"},
                        {"principal_id": "88888888-0000-4000-8000-000000000000", "role": "Owner"},
                    ],
                    "deployments": [
                        {"name": "gpt-4o", "model": "gpt-4o"},
                        {"name": "text-embedding-3-small", "model": "text-embedding-3-small", "kind": "embeddings"},
                        {"name": "claude-sonnet-4-5", "model": "claude-sonnet-4-5", "format": "anthropic"},
                        {"name": "flaky", "model": "gpt-4o-mini"},
                    ],
                }
            ],
        }
    )


def ssl_context(ca_file: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file))


@dataclass
class FakeIssuer:
    """A stand-in for skygate's own OIDC issuer: discovery, JWKS, and RS256 assertions it signs."""

    url: str
    key: SigningKey

    def assertion(self, *, kid: str | None = None, **overrides: Any) -> str:
        """An assertion for the workload-identity app; a claim overridden with None is left out."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": FIC_SUBJECT,
            "aud": "api://AzureADTokenExchange",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        present = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(present, self.key.private_key, algorithm="RS256", headers={"kid": kid or self.key.kid})

    def foreign_assertion(self) -> str:
        """Signed by a key the issuer does not publish, under the published kid."""
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": FIC_SUBJECT,
            "aud": "api://AzureADTokenExchange",
            "iat": now,
            "exp": now + 300,
        }
        return jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": self.key.kid})


@contextmanager
def running_issuer(tls_dir: Path) -> Iterator[FakeIssuer]:
    pki = ensure_test_pki(tls_dir)
    key = SigningKey.generate()
    holder: dict[str, str] = {}

    async def discovery(_request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": holder["url"],
                "jwks_uri": holder["url"] + "/.well-known/jwks.json",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def jwks(_request: Request) -> JSONResponse:
        return JSONResponse(key.jwks())

    app = Starlette(
        routes=[Route("/.well-known/openid-configuration", discovery), Route("/.well-known/jwks.json", jwks)]
    )
    with serve_in_thread(app, ssl_cert=pki.cert_file, ssl_key=pki.key_file) as port:
        holder["url"] = f"https://127.0.0.1:{port}"
        yield FakeIssuer(holder["url"], key)


def raw_client(ca_file: Path, base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, verify=ssl_context(ca_file), timeout=30)
