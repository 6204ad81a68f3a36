"""`/_emulator/*`: read and change the state at run time, set faults, read the request recording. Test-only;
it has no authentication, so bind the emulator to loopback."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from skygate_emulator.context import EmulatorContext
from skygate_emulator.state import EmulatorState, Faults

__all__ = ["admin_routes"]


def _ctx(request: Request) -> EmulatorContext:
    ctx: EmulatorContext = request.app.state.ctx
    return ctx


async def get_state(request: Request) -> Response:
    return JSONResponse(_ctx(request).state.to_json())


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


async def put_state(request: Request) -> Response:
    body = await _json(request)
    try:
        if not isinstance(body, dict):
            raise TypeError("the state must be a JSON object")
        new = EmulatorState.from_json(body)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return JSONResponse({"error": f"invalid state: {exc}"}, status_code=400)
    ctx = _ctx(request)
    ctx.state.tenants, ctx.state.apps, ctx.state.resources = new.tenants, new.apps, new.resources
    return JSONResponse(ctx.state.to_json())


async def set_faults(request: Request) -> Response:
    ctx = _ctx(request)
    resource = next((r for r in ctx.state.resources if r.name == request.path_params["resource"]), None)
    deployment = resource.deployment(request.path_params["deployment"]) if resource else None
    if deployment is None:
        return JSONResponse({"error": "no such resource or deployment"}, status_code=404)
    body = await _json(request)
    problem = _faults_problem(body)
    if problem:
        return JSONResponse({"error": problem}, status_code=400)
    deployment.faults = Faults(**body)
    return JSONResponse(asdict(deployment.faults))


def _whole(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _faults_problem(body: Any) -> str | None:
    known = {f.name for f in fields(Faults)}
    if not isinstance(body, dict) or set(body) - known:
        return f"faults take a JSON object with only {sorted(known)}"
    status = body.get("status")
    if status is not None and not (status == 429 or (_whole(status, 500) and status <= 599)):
        return "status: 429 or 500-599"
    for name in ("retry_after", "latency_ms", "chunk_delay_ms"):
        if name in body and not _whole(body[name], 0):
            return f"{name}: an integer of at least 0"
    if "count" in body and not _whole(body["count"], -1):
        return "count: an integer, -1 for every request"
    if body.get("drop_after_chunks") is not None and not _whole(body["drop_after_chunks"], 0):
        return "drop_after_chunks: an integer of at least 0"
    if "content_filter" in body and not isinstance(body["content_filter"], bool):
        return "content_filter: true or false"
    return None


async def set_options(request: Request) -> Response:
    """Token lifetime, Entra's clock offset and http issuers, for runs of the emulator outside the tests."""
    body = await _json(request)
    options = _ctx(request).options
    allowed = {"token_lifetime_seconds": int, "clock_offset_seconds": (int, float), "allow_http_issuers": bool}
    if not isinstance(body, dict) or set(body) - set(allowed):
        return JSONResponse({"error": f"options take only {sorted(allowed)}"}, status_code=400)
    for name, value in body.items():
        if not isinstance(value, allowed[name]) or (name == "token_lifetime_seconds" and value < 1):  # type: ignore[arg-type]
            return JSONResponse({"error": f"{name}: wrong type or value"}, status_code=400)
    for name, value in body.items():
        setattr(options, name, value)
    return JSONResponse({name: getattr(options, name) for name in allowed})


async def get_requests(request: Request) -> Response:
    return JSONResponse({"data": [r.public() for r in _ctx(request).recorder.all()]})


async def clear_requests(request: Request) -> Response:
    _ctx(request).recorder.clear()
    return Response(status_code=204)


def admin_routes() -> list[Route]:
    return [
        Route("/_emulator/state", get_state, methods=["GET"]),
        Route("/_emulator/state", put_state, methods=["PUT"]),
        Route("/_emulator/resources/{resource}/deployments/{deployment}/faults", set_faults, methods=["PUT"]),
        Route("/_emulator/options", set_options, methods=["PUT"]),
        Route("/_emulator/requests", get_requests, methods=["GET"]),
        Route("/_emulator/requests", clear_requests, methods=["DELETE"]),
    ]
