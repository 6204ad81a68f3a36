"""Checking a federated client assertion the way Entra does (reference §11): match the app's federated
credentials on issuer, subject and audience (exactly, case-sensitively), then fetch the issuer's discovery
document and JWKS over https and verify the RS256 signature by `kid`, then the time window."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from skygate_emulator import entra_errors as errors
from skygate_emulator.state import App

__all__ = ["verify_assertion"]

log = logging.getLogger(__name__)


def _claims_unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        return jwt.get_unverified_header(assertion), jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise errors.malformed_assertion() from exc


def _match_credential(app: App, claims: dict[str, Any]) -> None:
    issuer, subject, audience = claims.get("iss"), claims.get("sub"), claims.get("aud")
    by_issuer = [f for f in app.federated_credentials if f.issuer == issuer]
    if not by_issuer:
        raise errors.issuer_not_matched(str(issuer))
    by_subject = [f for f in by_issuer if f.subject == subject]
    if not by_subject:
        raise errors.subject_not_matched(str(subject))
    audiences = audience if isinstance(audience, list) else [audience]
    if not any(f.audience in audiences for f in by_subject):
        raise errors.audience_not_matched(", ".join(str(a) for a in audiences))


async def _fetch_json(client: httpx.AsyncClient, url: str, allow_http: bool) -> dict[str, Any]:
    if not url.startswith("https://") and not allow_http:
        log.warning("refusing to fetch %s: issuers must be https (start the emulator with --allow-http-issuers)", url)
        raise errors.oidc_unreachable()
    try:
        response = await client.get(url)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        # Entra says no more than this; the emulator's log says why, which is what a developer needs.
        log.warning("fetching %s for a federated assertion failed: %r", url, exc)
        raise errors.oidc_unreachable() from exc
    if not isinstance(body, dict):
        raise errors.oidc_unreachable()
    return body


async def verify_assertion(
    app: App,
    assertion: str,
    client: httpx.AsyncClient,
    *,
    allow_http: bool = False,
    clock_offset: float = 0.0,
) -> None:
    """Raises EntraError with the AADSTS code Entra would return; returns quietly when the assertion is good."""
    header, claims = _claims_unverified(assertion)
    _match_credential(app, claims)
    issuer = str(claims["iss"])
    discovery = await _fetch_json(client, issuer.rstrip("/") + "/.well-known/openid-configuration", allow_http)
    jwks_uri = discovery.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise errors.oidc_unreachable()
    keys = (await _fetch_json(client, jwks_uri, allow_http)).get("keys", [])
    if not isinstance(keys, list):
        raise errors.oidc_unreachable()
    # Entra keeps only the first 100 keys of the issuer's metadata (§11).
    jwk = next((k for k in keys[:100] if isinstance(k, dict) and k.get("kid") == header.get("kid")), None)
    if jwk is None:
        raise errors.signing_key_unknown(str(header.get("kid")), issuer)
    if header.get("alg") != "RS256":
        raise errors.bad_signature()
    try:
        public_key = RSAAlgorithm.from_jwk(jwk)
        if not isinstance(public_key, RSAPublicKey):
            raise errors.bad_signature()
        jwt.decode(
            assertion,
            public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_nbf": False, "verify_aud": False, "verify_iat": False},
        )
    except jwt.PyJWTError as exc:
        raise errors.bad_signature() from exc
    now = time.time() + clock_offset
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or exp <= now or (isinstance(nbf, int | float) and nbf > now):
        raise errors.assertion_out_of_time(
            now, nbf if isinstance(nbf, int | float) else None, exp if isinstance(exp, int | float) else None
        )
