"""The settings pages' routes (`/settings`): sign-in, the AI providers page and its forms, the stylesheet."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from skygate.web import key_pages as kp
from skygate.web import provider_pages as pp
from skygate.web.auth_pages import login, login_page, logout
from skygate.web.render import PROVIDERS

__all__ = ["settings_routes"]


async def index(_request: Request) -> Response:
    return RedirectResponse(PROVIDERS, status_code=303)


def settings_routes() -> list[Route | Mount]:
    return [
        Route("/", index),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/ai-providers", pp.providers_page, methods=["GET"]),
        Route("/ai-providers/new", pp.new_provider_page, methods=["GET"]),
        Route("/ai-providers/new", pp.create_provider, methods=["POST"]),
        Route("/ai-providers/normalise", pp.normalised_api_base, methods=["GET"]),
        Route("/ai-providers/workload-identity", pp.workload_identity_values, methods=["GET"]),
        Route("/ai-providers/{provider_id}", pp.edit_provider_page, methods=["GET"]),
        Route("/ai-providers/{provider_id}", pp.update_provider, methods=["POST"]),
        Route("/ai-providers/{provider_id}/test", pp.test_provider, methods=["POST"]),
        Route("/ai-providers/{provider_id}/delete", pp.delete_provider, methods=["POST"]),
        Route("/keys", kp.keys_page, methods=["GET"]),
        Route("/keys", kp.create_key, methods=["POST"]),
        Route("/keys/{key_id}/revoke", kp.revoke_key, methods=["POST"]),
        Mount("/static", app=StaticFiles(packages=[("skygate.web", "static")]), name="static"),
    ]
