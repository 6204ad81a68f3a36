"""Builds the admin API (FastAPI) mounted at /api/v1; OpenAPI is served at /api/v1/openapi.json."""

from __future__ import annotations

from fastapi import FastAPI

from skygate import __version__
from skygate.admin import keys, orgs, providers, registry
from skygate.admin.errors import ERROR_RESPONSES, install_error_handlers

__all__ = ["build_admin_app"]


def build_admin_app() -> FastAPI:
    app = FastAPI(
        title="skygate admin API",
        version=__version__,
        description="Manage organizations, projects, gateway keys and AI providers. "
        "Authenticate with `Authorization: Bearer <instance admin token or org admin key>`.",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        # A JSON body without a Content-Type header (a bare `curl --data-binary`) is still read as JSON.
        strict_content_type=False,
    )
    install_error_handlers(app)
    for module in (orgs, keys, providers, registry):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    return app
