"""The data-plane endpoints: authenticate from the snapshot, read the body once, resolve routes, forward."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route as StarletteRoute

from skygate.crypto import hash_token
from skygate.gateway.errors import CallerFormat, GatewayError, render_error
from skygate.gateway.proxy import Call, forward
from skygate.gateway.relay import StreamRelay
from skygate.gateway.snapshot import KeyEntry, Snapshot
from skygate.gateway.state import GatewayState
from skygate.providers.azure.routes import Api

__all__ = ["gateway_routes"]

Reply = Response | StreamRelay


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def _headers(request: Request) -> dict[str, str]:
    """The request's headers by lowercase name, the first of a repeated one winning (as Starlette's `get`): one
    pass over the list, where each of Starlette's lookups scans it again (a call makes about ten)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(request.scope["headers"])}


def _authenticate(state: GatewayState, snapshot: Snapshot, headers: Mapping[str, str]) -> KeyEntry:
    """`Authorization: Bearer` (OpenAI SDKs, and anthropic's own client) or `x-api-key` (Anthropic SDKs)."""
    header = headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else headers.get("x-api-key", "")
    if not token:
        raise GatewayError(
            401, "missing_api_key", "send your skygate key as 'Authorization: Bearer sk-sg-…' or 'x-api-key: sk-sg-…'"
        )
    entry = snapshot.keys.get(hash_token(state.runtime.keyring.pepper, token))
    if entry is None or entry.revoked:
        raise GatewayError(401, "invalid_api_key", "invalid or revoked API key")
    if entry.role != "invoke":
        raise GatewayError(403, "wrong_key_role", "admin keys manage the organization; call models with an invoke key")
    if not snapshot.orgs[entry.org_id].gateway_enabled:
        raise GatewayError(403, "gateway_disabled", "the gateway is disabled for this organization")
    return entry


async def _body(request: Request, headers: Mapping[str, str], limit: int) -> dict[str, Any]:
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise GatewayError(413, "request_too_large", f"the request body exceeds {limit} bytes")
    chunks, size, more = [], 0, True
    while more:  # the server's messages as they come (Starlette's `stream` wraps this in an async generator)
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk, more = message.get("body", b""), message.get("more_body", False)
        size += len(chunk)
        if size > limit:
            raise GatewayError(413, "request_too_large", f"the request body exceeds {limit} bytes")
        chunks.append(chunk)
    try:
        body = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise GatewayError(400, "invalid_json", f"the request body is not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise GatewayError(400, "invalid_request", "the request body must be a JSON object")
    return body


def _check_fields(body: dict[str, Any]) -> tuple[str, bool]:
    model, stream = body.get("model"), body.get("stream", False)
    if not isinstance(model, str) or not model:
        raise GatewayError(400, "invalid_request", "model: required, a non-empty string", param="model")
    if not isinstance(stream, bool):
        raise GatewayError(400, "invalid_request", "stream: must be true or false", param="stream")
    return model, stream


async def _serve(request: Request, fmt: CallerFormat, api: Api) -> Reply:
    started = time.perf_counter()
    state = _state(request)
    snapshot = state.snapshot  # one snapshot for the whole request, even if a newer one lands meanwhile
    try:
        headers = _headers(request)
        key = _authenticate(state, snapshot, headers)
        body = await _body(request, headers, state.runtime.settings.max_request_bytes)
        model, stream = _check_fields(body)
        pin = headers.get("x-skygate-provider")
        routes = snapshot.resolve(key, headers.get("x-skygate-project"), model, api, pin)
        call = Call(fmt, api, model, body, stream and api != "embeddings", headers, started)
        return await forward(state.upstream, state.tokens, call, routes)
    except GatewayError as exc:
        overhead = {"x-skygate-overhead-ms": f"{(time.perf_counter() - started) * 1000:.2f}"}
        return render_error(fmt, exc.status, exc.code, exc.message, exc.param, headers=overhead)


async def chat_completions(request: Request) -> Reply:
    return await _serve(request, "openai", "chat_completions")


async def responses(request: Request) -> Reply:
    return await _serve(request, "openai", "responses")


async def embeddings(request: Request) -> Reply:
    return await _serve(request, "openai", "embeddings")


async def messages(request: Request) -> Reply:
    return await _serve(request, "anthropic", "messages")


async def models(request: Request) -> Response:
    """The models the caller can reach; Anthropic's shape when the caller speaks Anthropic (anthropic-version)."""
    started = time.perf_counter()
    state = _state(request)
    snapshot = state.snapshot
    headers = _headers(request)
    fmt: CallerFormat = "anthropic" if "anthropic-version" in headers else "openai"
    try:
        key = _authenticate(state, snapshot, headers)
        visible = snapshot.models_for(key, headers.get("x-skygate-project"))
    except GatewayError as exc:
        return render_error(fmt, exc.status, exc.code, exc.message, exc.param)
    names = sorted(visible)
    # Which configuration this process serves: operators (and tests) can see an admin change arrive.
    version = {
        "x-skygate-config-version": str(snapshot.version),
        "x-skygate-overhead-ms": f"{(time.perf_counter() - started) * 1000:.2f}",
    }
    if fmt == "anthropic":
        data = [{"type": "model", "id": n, "display_name": n, "created_at": "1970-01-01T00:00:00Z"} for n in names]
        first, last = (names[0], names[-1]) if names else (None, None)
        return JSONResponse({"data": data, "has_more": False, "first_id": first, "last_id": last}, headers=version)
    listed: list[dict[str, object]] = [
        {"id": n, "object": "model", "created": 0, "owned_by": visible[n][0].provider_name} for n in names
    ]
    return JSONResponse({"object": "list", "data": listed}, headers=version)


def gateway_routes() -> list[StarletteRoute]:
    return [
        StarletteRoute("/v1/chat/completions", chat_completions, methods=["POST"]),
        StarletteRoute("/v1/responses", responses, methods=["POST"]),
        StarletteRoute("/v1/embeddings", embeddings, methods=["POST"]),
        StarletteRoute("/v1/messages", messages, methods=["POST"]),
        StarletteRoute("/v1/models", models, methods=["GET"]),
    ]
