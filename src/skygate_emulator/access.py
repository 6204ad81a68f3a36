"""Data-plane authentication and authorization as Azure applies them (reference §4, §5.3, §7, §12)."""

from __future__ import annotations

from typing import Literal

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse

from skygate_emulator import azure_errors as errors
from skygate_emulator.context import EmulatorContext
from skygate_emulator.state import DATA_ROLES, Resource

__all__ = ["Family", "authorize"]

Family = Literal["classic", "v1", "anthropic"]
_AUDIENCES = ("https://cognitiveservices.azure.com", "https://ai.azure.com")


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _check_token(
    ctx: EmulatorContext, resource: Resource, token: str, action: str, operation: str
) -> JSONResponse | None:
    try:
        claims = ctx.signing_key.verify(token)
    except jwt.PyJWTError:
        return errors.token_invalid()
    if claims.get("aud") not in _AUDIENCES:
        return errors.token_invalid()
    if claims.get("tid") != resource.tenant_id:
        return errors.tenant_mismatch(str(claims.get("tid")))
    oid = str(claims.get("oid"))
    # RBAC is per resource and keyed by object id, not the token's `roles` claim (§12).
    if not any(a.principal_id == oid and a.role in DATA_ROLES for a in resource.role_assignments):
        return errors.permission_denied(oid, action, operation)
    return None


def authorize(
    ctx: EmulatorContext, resource: Resource, request: Request, family: Family, action: str, operation: str
) -> JSONResponse | None:
    """None when the caller may proceed, else the exact error response Azure gives."""
    api_key, x_api_key, bearer = request.headers.get("api-key"), request.headers.get("x-api-key"), _bearer(request)
    if family == "anthropic":
        # The Foundry Claude endpoint authenticates with `x-api-key`; `api-key` alone is refused (§5.3, S7/S18).
        if x_api_key is not None:
            return None if x_api_key in resource.keys else errors.key_denied()
        if bearer is not None:
            return _check_token(ctx, resource, bearer, action, operation)
        return errors.key_denied()
    if api_key is not None:
        return None if api_key in resource.keys else errors.key_denied()
    if bearer is not None:
        # v1 also takes the key in `Authorization` (ApiKeyAuth_, §4); classic routes treat it as a token.
        if family == "v1" and bearer in resource.keys:
            return None
        return _check_token(ctx, resource, bearer, action, operation)
    return errors.key_denied()
