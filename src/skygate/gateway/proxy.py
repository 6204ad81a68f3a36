"""Sending a call upstream: build the Azure request, fail over before the first byte (connection errors, 429,
5xx), then relay the answer — streamed chunk by chunk, or whole — with `x-skygate-*` headers."""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from starlette.background import BackgroundTask
from starlette.datastructures import Headers
from starlette.responses import Response, StreamingResponse

from skygate import __version__
from skygate.gateway.errors import CallerFormat, GatewayError, render_error
from skygate.gateway.snapshot import Route
from skygate.identity.entra_tokens import EntraTokenCache, EntraTokenError
from skygate.providers.azure.routes import ANTHROPIC_VERSION, Api, auth_headers, prepare_body, upstream_url

__all__ = ["Call", "forward"]

# Client headers that carry meaning for the upstream API; everything else (auth, cookies, x-forwarded-*,
# x-skygate-*) stays here (SPEC §4).
_FORWARDED = ("anthropic-version", "anthropic-beta", "x-ms-client-request-id")
# How long a 429's retry-after may hold a call before we give up on the provider.
MAX_RETRY_WAIT_SECONDS = 5.0


@dataclass(slots=True)
class Call:
    fmt: CallerFormat
    api: Api
    model: str
    body: dict[str, Any]
    stream: bool
    client_headers: Headers
    started: float
    upstream_seconds: float = 0.0

    def headers(self, route: Route) -> dict[str, str]:
        overhead = (time.perf_counter() - self.started - self.upstream_seconds) * 1000
        return {"x-skygate-provider": route.provider_name, "x-skygate-overhead-ms": f"{max(overhead, 0):.2f}"}


async def _upstream_auth(tokens: EntraTokenCache, route: Route, api: Api) -> dict[str, str]:
    """The key for key providers; for Entra providers a cached (or freshly fetched) access token."""
    auth = route.auth
    if auth.token_request is not None:
        return {"authorization": f"Bearer {await tokens.token(auth.token_request)}"}
    return auth_headers(api, auth.api_key or "")


def _request(client: httpx.AsyncClient, route: Route, call: Call, auth: dict[str, str]) -> httpx.Request:
    headers = {
        "content-type": "application/json",
        "accept-encoding": "identity",
        "user-agent": f"skygate/{__version__}",
    }
    headers.update(route.headers)
    headers.update({name: call.client_headers[name] for name in _FORWARDED if name in call.client_headers})
    if call.api == "messages":
        headers.setdefault("anthropic-version", ANTHROPIC_VERSION)
    headers.update(auth)
    url = upstream_url(route.base, call.api, route.deployment, route.api_version)
    body = prepare_body(call.api, call.body, route.deployment, call.model)
    return client.build_request("POST", url, content=orjson.dumps(body), headers=headers)


def _retry_after(response: httpx.Response) -> float:
    """retry-after-ms first, then retry-after in seconds or as an HTTP date (as openai-python reads them)."""
    try:
        if "retry-after-ms" in response.headers:
            return float(response.headers["retry-after-ms"]) / 1000
        value = response.headers.get("retry-after", "1")
        if value.replace(".", "", 1).isdigit():
            return float(value)
        moment = email.utils.parsedate_to_datetime(value)
        return max(moment.timestamp() - time.time(), 0.0)
    except (ValueError, TypeError):
        return 1.0


def _message(data: Any, raw: bytes, status: int) -> tuple[str, str]:
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or f"upstream returned {status}"), str(
                error.get("code") or "upstream_error"
            )
        if "message" in data:
            return str(data["message"]), "upstream_error"
    text = raw.decode("utf-8", "replace").strip()[:500]
    return text or f"upstream returned {status}", "upstream_error"


def _upstream_error(call: Call, route: Route, status: int, raw: bytes, extra: dict[str, str]) -> Response:
    """The upstream status and message, in the caller's format; a body already in that format passes as is."""
    headers = call.headers(route) | extra
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        data = None
    native = isinstance(data, dict) and (
        isinstance(data.get("error"), dict) if call.fmt == "openai" else data.get("type") == "error"
    )
    if native:
        return Response(raw, status_code=status, media_type="application/json", headers=headers)
    message, code = _message(data, raw, status)
    return render_error(call.fmt, status, code, message, headers=headers)


def _relay_stream(call: Call, route: Route, upstream: httpx.Response) -> Response:
    headers = call.headers(route)
    media_type = upstream.headers.get("content-type", "text/event-stream")
    # Chunk by chunk as Azure sends them; on client disconnect Starlette stops iterating and the
    # background task closes the upstream response, which frees its connection at once.
    return StreamingResponse(upstream.aiter_raw(), status_code=upstream.status_code, media_type=media_type,
                                 headers=headers | {"cache-control": "no-cache", "x-accel-buffering": "no"},
                                 background=BackgroundTask(upstream.aclose))  # fmt: skip


async def _attempt(client: httpx.AsyncClient, tokens: EntraTokenCache, route: Route, call: Call) -> httpx.Response:
    request = _request(client, route, call, await _upstream_auth(tokens, route, call.api))
    sent = time.perf_counter()
    try:
        return await client.send(request, stream=True)
    finally:
        call.upstream_seconds += time.perf_counter() - sent


def _token_failure(route: Route, error: EntraTokenError) -> tuple[Route, int, bytes, dict[str, str]]:
    message = f"provider {route.provider_name!r} could not get an Entra token: {error.message}"
    return route, 502, orjson.dumps({"message": message}), {}


async def forward(client: httpx.AsyncClient, tokens: EntraTokenCache, call: Call, routes: list[Route]) -> Response:
    # One provider still gets one retry: a 429 with retry-after, or a passing 5xx, often clears at once.
    attempts = routes if len(routes) > 1 else routes * 2
    failure: tuple[Route, int, bytes, dict[str, str]] | None = None
    unreachable: list[str] = []
    for index, route in enumerate(attempts):
        try:
            upstream = await _attempt(client, tokens, route, call)
        except EntraTokenError as exc:
            failure = _token_failure(route, exc)
            continue
        except httpx.TransportError as exc:
            unreachable.append(f"{route.provider_name}: {type(exc).__name__}")
            continue
        status = upstream.status_code
        if status == 429 or status >= 500:
            raw = await upstream.aread()
            await upstream.aclose()
            extra = {k: upstream.headers[k] for k in ("retry-after", "retry-after-ms") if k in upstream.headers}
            failure = (route, status, raw, extra)
            following = attempts[index + 1] if index + 1 < len(attempts) else None
            if status == 429 and following is route:
                await asyncio.sleep(min(_retry_after(upstream), MAX_RETRY_WAIT_SECONDS))
            continue
        if status >= 400 or not call.stream:
            reading = time.perf_counter()
            raw = await upstream.aread()
            await upstream.aclose()
            call.upstream_seconds += time.perf_counter() - reading
            if status >= 400:
                return _upstream_error(call, route, status, raw, {})
            media_type = upstream.headers.get("content-type", "application/json")
            return Response(raw, status_code=status, media_type=media_type, headers=call.headers(route))
        return _relay_stream(call, route, upstream)
    if failure is not None:
        return _upstream_error(call, *failure)
    raise GatewayError(502, "upstream_unreachable", "could not reach the provider(s): " + "; ".join(unreachable))
