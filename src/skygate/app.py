"""Builds the ASGI application: the data plane at /v1, the admin API at /api/v1 (OIDC and UI later); owns start-up."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, Router
from starlette.types import ASGIApp

from skygate.admin.app import build_admin_app
from skygate.admin.body_limit import BodyLimit
from skygate.gateway.dispatch import DataPlaneDispatch
from skygate.gateway.endpoints import gateway_routes
from skygate.gateway.state import GatewayState
from skygate.identity.oidc import oidc_routes
from skygate.observability.logging import configure_logging
from skygate.services.runtime import open_runtime
from skygate.settings import Settings
from skygate.web.pages import settings_routes

__all__ = ["create_app", "create_app_from_env"]


async def _healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings) -> ASGIApp:
    """The database must already be migrated (`skygate serve` does it before starting workers)."""
    admin = build_admin_app()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings) as runtime:
            app.state.runtime = admin.state.runtime = runtime
            app.state.gateway = admin.state.gateway = gateway = await GatewayState.start(runtime)
            # Everything built at start-up lives as long as the process: keep it out of the collector's
            # full passes, which otherwise scan it all and stall every open stream, and run those passes less
            # often (docs/performance.md).
            thresholds = gc.get_threshold()
            gc.collect()
            gc.freeze()
            gc.set_threshold(10_000, 10, 10)
            try:
                yield
            finally:
                gc.set_threshold(*thresholds)
                gc.unfreeze()
                await gateway.close()

    data_plane = gateway_routes()
    routes = [
        *data_plane,
        *oidc_routes(),
        Route("/healthz", _healthz),
        Mount("/api/v1", app=BodyLimit(admin, settings.admin_max_body_bytes)),
        Mount("/settings", app=BodyLimit(Router(settings_routes()), settings.admin_max_body_bytes)),
    ]
    return DataPlaneDispatch(Starlette(routes=routes, lifespan=lifespan), data_plane)


def create_app_from_env() -> ASGIApp:
    """Factory for uvicorn workers: each worker process reads the same environment and sets up its own logging."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)
