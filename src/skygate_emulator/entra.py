"""Entra ID v2: tenant discovery, JWKS and the client-credentials token endpoint (reference §9-§11)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from skygate_emulator import entra_errors as errors
from skygate_emulator.assertions import verify_assertion
from skygate_emulator.context import EmulatorContext
from skygate_emulator.entra_errors import EntraError
from skygate_emulator.state import App, Tenant

__all__ = ["entra_routes"]

_JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Resources whose `/.default` scope yields a token (§4, §5.1, §12).
_KNOWN_RESOURCES = ("https://cognitiveservices.azure.com", "https://ai.azure.com", "https://ml.azure.com")
_NO_STORE = {
    "cache-control": "no-store, no-cache",
    "pragma": "no-cache",
    "expires": "-1",
    "strict-transport-security": "max-age=31536000; includeSubDomains",
}


def _ctx(request: Request) -> EmulatorContext:
    ctx: EmulatorContext = request.app.state.ctx
    return ctx


def _tenant(request: Request) -> Tenant:
    tenant = _ctx(request).state.tenant(request.path_params["tenant"])
    if tenant is None:
        raise errors.invalid_tenant(request.path_params["tenant"])
    return tenant


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def discovery(request: Request) -> Response:
    try:
        tenant = _tenant(request)
    except EntraError as exc:
        return exc.response()
    base, name = _base(request), request.path_params["tenant"]
    return JSONResponse(
        {
            "token_endpoint": f"{base}/{name}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tenant.id}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tenant.id}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{base}/{name}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{name}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "end_session_endpoint": f"{base}/{name}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver", "oid"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
        }
    )


async def jwks(request: Request) -> Response:
    try:
        _tenant(request)
    except EntraError as exc:
        return exc.response()
    return JSONResponse(_ctx(request).signing_key.jwks())


def _form(body: bytes) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def _basic_auth(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return unquote(user), unquote(password)


def _audience(scope: str, tenant: Tenant) -> str:
    scopes = scope.split()
    if len(scopes) != 1:
        raise errors.invalid_scope(scope)
    if not scopes[0].endswith("/.default"):
        raise errors.scope_without_default(scope)
    resource = scopes[0].removesuffix("/.default")
    if resource not in _KNOWN_RESOURCES:
        raise errors.unknown_resource(resource, tenant.id)
    return resource


async def _authenticate_client(request: Request, app: App, form: dict[str, str]) -> str:
    """Returns `appidacr`: "1" for a secret, "2" for an assertion (§12)."""
    basic = _basic_auth(request)
    secret = form.get("client_secret") or (basic[1] if basic else None)
    assertion = form.get("client_assertion")
    if secret:
        if secret not in app.secrets:
            raise errors.wrong_secret(app.client_id)
        return "1"
    if assertion:
        if form.get("client_assertion_type") != _JWT_BEARER:
            raise errors.missing_parameter("client_assertion_type")
        ctx = _ctx(request)
        await verify_assertion(
            app,
            assertion,
            ctx.http,
            allow_http=ctx.options.allow_http_issuers,
            clock_offset=ctx.options.clock_offset_seconds,
        )
        return "2"
    raise errors.no_credential()


async def _issue(request: Request) -> Response:
    if request.path_params["tenant"].lower() in ("common", "consumers"):
        raise errors.multi_tenant_endpoint()
    tenant = _tenant(request)
    form = _form(await request.body())
    grant = form.get("grant_type")
    if not grant:
        raise errors.missing_parameter("grant_type")
    if grant != "client_credentials":
        raise errors.unsupported_grant(grant)
    basic = _basic_auth(request)
    client_id = form.get("client_id") or (basic[0] if basic else "")
    if not client_id:
        raise errors.missing_parameter("client_id")
    if "scope" not in form:
        raise errors.missing_parameter("scope")
    app = _ctx(request).state.app(tenant.id, client_id)
    if app is None:
        raise errors.unknown_client(client_id, request.path_params["tenant"])
    audience = _audience(form["scope"], tenant)
    appidacr = await _authenticate_client(request, app, form)
    ctx = _ctx(request)
    lifetime = ctx.options.token_lifetime_seconds
    token = ctx.signing_key.access_token(tenant.id, app.client_id, app.object_id, audience, appidacr, lifetime)
    body = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token}
    return JSONResponse(body, headers=_NO_STORE, media_type="application/json; charset=utf-8")


async def token(request: Request) -> Response:
    try:
        return await _issue(request)
    except EntraError as exc:
        return exc.response()


def entra_routes() -> list[Route]:
    return [
        Route("/{tenant}/v2.0/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/{tenant}/discovery/v2.0/keys", jwks, methods=["GET"]),
        Route("/{tenant}/discovery/keys", jwks, methods=["GET"]),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
    ]
