"""Builds the emulator's ASGI app: Entra, the Azure data plane, and the /_emulator control routes."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from skygate_emulator import azure_errors
from skygate_emulator.admin import admin_routes
from skygate_emulator.context import EmulatorContext, EmulatorOptions
from skygate_emulator.dataplane import dataplane_routes
from skygate_emulator.entra import entra_routes
from skygate_emulator.recorder import RecordingMiddleware
from skygate_emulator.signing import SigningKey
from skygate_emulator.state import EmulatorState

__all__ = ["EmulatorOptions", "create_emulator_app"]


async def _not_found(_request: Request) -> Response:
    return azure_errors.resource_not_found()


def _outbound_client(options: EmulatorOptions) -> httpx.AsyncClient:
    context = ssl.create_default_context()
    if options.outbound_ca is not None:
        context.load_verify_locations(cafile=str(options.outbound_ca))
    return httpx.AsyncClient(verify=context, timeout=10, follow_redirects=False)


def create_emulator_app(
    state: EmulatorState, options: EmulatorOptions | None = None
) -> tuple[ASGIApp, EmulatorContext]:
    """The app, and the context tests use to look at or change what it holds."""
    options = options or EmulatorOptions()
    ctx = EmulatorContext(state, SigningKey.generate(), options, _outbound_client(options))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await ctx.http.aclose()

    routes = [
        *admin_routes(),
        *dataplane_routes(),
        *entra_routes(),
        Route("/{path:path}", _not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.ctx = ctx
    return RecordingMiddleware(app, ctx.recorder), ctx
