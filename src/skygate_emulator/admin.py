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


async def put_state(request: Request) -> Response:
    try:
        new = EmulatorState.from_json(await request.json())
    except (ValueError, TypeError, KeyError) as exc:
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
    body: Any = await request.json()
    known = {f.name for f in fields(Faults)}
    if not isinstance(body, dict) or set(body) - known:
        return JSONResponse({"error": f"faults take only {sorted(known)}"}, status_code=400)
    deployment.faults = Faults(**body)
    return JSONResponse(asdict(deployment.faults))


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
        Route("/_emulator/requests", get_requests, methods=["GET"]),
        Route("/_emulator/requests", clear_requests, methods=["DELETE"]),
    ]
