"""Sending a call upstream: build the Azure request, fail over before the first byte (connection errors, 429,
5xx), then relay the answer — streamed chunk by chunk, or whole — with `x-skygate-*` headers."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.responses import Response

from skygate import __version__
from skygate.gateway.errors import CallerFormat, GatewayError, render_error
from skygate.gateway.http1 import Target, request_start, target
from skygate.gateway.relay import StreamRelay
from skygate.gateway.snapshot import Route
from skygate.gateway.upstream import (
    UpstreamClient,
    UpstreamConnectError,
    UpstreamError,
    UpstreamResponse,
    UpstreamTimeout,
)
from skygate.identity.entra_tokens import EntraTokenCache, EntraTokenError
from skygate.providers.azure.routes import ANTHROPIC_VERSION, Api, auth_headers, prepare_body, upstream_url
from skygate.translate.errors import UnreadableAnswer, Untranslatable
from skygate.translate.plan import Plan, plan_for, upstream_api

__all__ = ["Call", "forward"]

log = logging.getLogger(__name__)

# Client headers that carry meaning for the upstream API; everything else (auth, cookies, x-forwarded-*,
# x-skygate-*) stays here (SPEC §4).
_FORWARDED = ("anthropic-version", "anthropic-beta", "x-ms-client-request-id")
# What every upstream call sends; identity encoding so streams are relayed as they come.
_BASE_HEADERS = {
    "content-type": "application/json",
    "accept-encoding": "identity",
    "user-agent": f"skygate/{__version__}",
}
# How long a 429's retry-after may hold a call before we give up on the provider.
MAX_RETRY_WAIT_SECONDS = 5.0


@dataclass(slots=True)
class Call:
    fmt: CallerFormat
    api: Api
    model: str
    body: dict[str, Any]
    stream: bool
    client_headers: Mapping[str, str]
    started: float
    upstream_seconds: float = 0.0

    def headers(self, route: Route) -> dict[str, str]:
        overhead = (time.perf_counter() - self.started - self.upstream_seconds) * 1000
        return {"x-skygate-provider": route.provider_name, "x-skygate-overhead-ms": f"{max(overhead, 0):.2f}"}


async def _credential(tokens: EntraTokenCache, route: Route) -> str:
    """The key for key providers; for Entra providers a cached (or freshly fetched) access token."""
    auth = route.auth
    if auth.token_request is not None:
        return await tokens.token(auth.token_request)
    return auth.api_key or ""


def _plan(call: Call, route: Route) -> Plan | None:
    """The translation to the API this route's model serves; None when it serves the caller's own."""
    if call.api == "embeddings" or call.api in route.apis:
        return None
    upstream = upstream_api(call.api, route.apis)
    assert upstream is not None  # the snapshot only offers routes a call can reach
    return plan_for(call.api, upstream, call.model)


def _translated_body(call: Call, plan: Plan | None) -> dict[str, Any]:
    if plan is None:
        return call.body
    try:
        return plan.request(call.body)
    except Untranslatable as exc:
        raise GatewayError(400, "unsupported_feature", str(exc), param=exc.field) from exc


def _start(route: Route, call: Call, api: Api, credential: str) -> tuple[Target, bytes]:
    """Where the call goes and its head up to the content-length. Without forwarded client headers (most calls)
    the head depends only on the route, the API and the credential, and is built once for them."""
    # anthropic-* headers mean something only to Claude; a translated call leaves them here.
    forwarded = [n for n in _FORWARDED if n in call.client_headers and (api == "messages" or "anthropic" not in n)]
    if forwarded:
        return _build_start(route, api, credential, {name: call.client_headers[name] for name in forwarded})
    key = (api, credential)
    start = route.starts.get(key)
    if start is None:
        if any(known != credential for _, known in route.starts):
            route.starts.clear()  # built with a token since refreshed: no old token is kept here
        start = route.starts[key] = _build_start(route, api, credential, {})
    return start


def _build_start(route: Route, api: Api, credential: str, forwarded: dict[str, str]) -> tuple[Target, bytes]:
    headers = _BASE_HEADERS | dict(route.headers)
    headers.update(forwarded)
    if api == "messages":
        headers.setdefault("anthropic-version", ANTHROPIC_VERSION)
    headers.update(auth_headers(api, credential, token=route.auth.token_request is not None))
    where = target(upstream_url(route.base, api, route.deployment, route.api_version))
    return where, request_start(where, headers)


def _retry_after(response: UpstreamResponse) -> float:
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


def _relay(call: Call, route: Route, upstream: UpstreamResponse, plan: Plan | None) -> StreamRelay:
    if plan is None:
        media_type = upstream.headers.get("content-type", "text/event-stream")
        return StreamRelay(upstream, media_type, call.headers(route), route.provider_name)
    return StreamRelay(upstream, "text/event-stream", call.headers(route), route.provider_name, plan.stream())


def _translated_answer(call: Call, route: Route, plan: Plan, raw: bytes) -> Response:
    try:
        answer = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise GatewayError(
            502, "upstream_failed", f"provider {route.provider_name!r} answered with invalid JSON"
        ) from exc
    try:
        body = plan.answer(answer)
    except UnreadableAnswer as exc:
        log.warning("provider %s: %s", route.provider_name, exc)
        raise GatewayError(
            502, "upstream_failed", f"provider {route.provider_name!r} answered in an unexpected shape"
        ) from exc
    return Response(orjson.dumps(body), media_type="application/json", headers=call.headers(route))


async def _attempt(
    client: UpstreamClient, tokens: EntraTokenCache, route: Route, call: Call
) -> tuple[UpstreamResponse, Plan | None]:
    plan = _plan(call, route)
    body = _translated_body(call, plan)
    api: Api = plan.upstream if plan is not None else call.api
    where, start = _start(route, call, api, await _credential(tokens, route))
    content = orjson.dumps(prepare_body(api, body, route.deployment, call.model))
    sent = time.perf_counter()
    try:
        return await client.send_start(where, start, content), plan
    finally:
        call.upstream_seconds += time.perf_counter() - sent


def _token_failure(route: Route, error: EntraTokenError) -> tuple[Route, int, bytes, dict[str, str]]:
    # Callers get the code and where to look; the full Entra text (tenant, app, trace ids) stays in the
    # connection test and the log.
    message = (
        f"provider {route.provider_name!r} could not get an Entra token ({error.code or 'no AADSTS code'}); "
        "run the provider's connection test for the fix"
    )
    return route, 502, orjson.dumps({"message": message}), {}


async def _read_whole(upstream: UpstreamResponse, call: Call) -> bytes:
    reading = time.perf_counter()
    try:
        return await upstream.aread()
    finally:
        await upstream.aclose()
        call.upstream_seconds += time.perf_counter() - reading


def _failed(route: Route, exc: UpstreamError, when: str) -> GatewayError:
    status = 504 if isinstance(exc, UpstreamTimeout) else 502
    return GatewayError(status, "upstream_failed", f"provider {route.provider_name!r}: {exc} {when}")


async def forward(
    client: UpstreamClient, tokens: EntraTokenCache, call: Call, routes: list[Route]
) -> Response | StreamRelay:
    # One provider still gets one retry: a 429 with a short retry-after, or a passing 5xx, often clears at once.
    attempts = routes if len(routes) > 1 else routes * 2
    failure: tuple[Route, int, bytes, dict[str, str]] | None = None
    unreachable: list[str] = []
    refused: GatewayError | None = None
    for index, route in enumerate(attempts):
        try:
            upstream, plan = await _attempt(client, tokens, route, call)
        except GatewayError as exc:
            if exc.code != "unsupported_feature":
                raise
            refused = refused or exc  # this route's API cannot carry the request; another route's may
            continue
        except EntraTokenError as exc:
            failure = _token_failure(route, exc)
            continue
        except UpstreamConnectError as exc:
            # The request never reached Azure: the next provider may take it.
            unreachable.append(f"{route.provider_name}: {exc}")
            continue
        except UpstreamError as exc:
            # After the request was sent a retry could run (and bill) it twice.
            raise _failed(route, exc, "after the request was sent; not retried") from exc
        status = upstream.status_code
        try:
            if status == 429 or status >= 500:
                raw = await _read_whole(upstream, call)
                extra = {k: upstream.headers[k] for k in ("retry-after", "retry-after-ms") if k in upstream.headers}
                failure = (route, status, raw, extra)
                following = attempts[index + 1] if index + 1 < len(attempts) else None
                if status == 429 and following is route:
                    wait = _retry_after(upstream)
                    if not 0 <= wait <= MAX_RETRY_WAIT_SECONDS:
                        break  # longer than a caller should wait here: give them the 429 and its retry-after
                    await asyncio.sleep(wait)
                continue
            if status >= 400 or not call.stream:
                raw = await _read_whole(upstream, call)
                if status >= 400:
                    return _upstream_error(call, route, status, raw, {})
                if plan is not None:
                    return _translated_answer(call, route, plan, raw)
                media_type = upstream.headers.get("content-type", "application/json")
                return Response(raw, status_code=status, media_type=media_type, headers=call.headers(route))
        except UpstreamError as exc:
            raise _failed(route, exc, "while reading the answer") from exc
        return _relay(call, route, upstream, plan)
    if failure is not None:
        return _upstream_error(call, *failure)
    if refused is not None and not unreachable:
        raise refused
    raise GatewayError(502, "upstream_unreachable", "could not reach the provider(s): " + "; ".join(unreachable))
