"""skygate as an OIDC issuer (SPEC §3): the discovery document and JWKS that Entra fetches to validate the
assertions skygate signs for workload identity (reference §11)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["oidc_routes"]

_NO_ISSUER = {
    "error": {
        "code": "no_issuer",
        "message": "this instance has no SKYGATE_PUBLIC_URL, so it is not an "
        "OIDC issuer (workload identity is unavailable)",
    }
}


async def discovery(request: Request) -> Response:
    issuer = request.app.state.runtime.settings.public_url
    if not issuer:
        return JSONResponse(_NO_ISSUER, status_code=404)
    return JSONResponse(
        {
            "issuer": issuer,
            "jwks_uri": f"{issuer}/.well-known/jwks.json",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"],
        },
        headers={"cache-control": "public, max-age=300"},
    )


async def jwks(request: Request) -> Response:
    if not request.app.state.runtime.settings.public_url:
        return JSONResponse(_NO_ISSUER, status_code=404)
    keys = request.app.state.gateway.snapshot.signing_keys
    return JSONResponse(keys.jwks(), headers={"cache-control": "public, max-age=300"})


def oidc_routes() -> list[Route]:
    return [
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    ]
