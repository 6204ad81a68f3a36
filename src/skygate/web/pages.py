"""The settings pages: sign-in, the AI providers page (organization and project providers), add and delete.
Handlers parse the form, call the same services as the admin API, and render; every POST checks CSRF."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from skygate.crypto import hash_token
from skygate.domain.records import Principal, Project, Provider
from skygate.errors import Conflict, Forbidden, NotFound, SkygateError, Unauthorized, ValidationFailed
from skygate.services import orgs, providers
from skygate.services.keys import authenticate_admin, authenticate_admin_hash
from skygate.services.runtime import Runtime
from skygate.web.forms import AUTH_METHODS, FORMATS, MODEL_ROWS, errors_by_input, parse, provider_body
from skygate.web.session import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    MAX_AGE_SECONDS,
    Session,
    read_session,
    session_cookie,
    set_cookie,
)

__all__ = ["settings_routes"]

_templates = Environment(loader=PackageLoader("skygate.web", "templates"), autoescape=select_autoescape(["html"]))
_PROVIDERS = "/settings/ai-providers"


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    labels = {"auth_methods": AUTH_METHODS, "formats": FORMATS, "model_rows": MODEL_ROWS}
    return HTMLResponse(_templates.get_template(name).render(**labels, **context), status_code=status)


def _to_login() -> RedirectResponse:
    return RedirectResponse("/settings/login", status_code=303)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=200)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _csrf_ok(expected: str | None, form: dict[str, str]) -> bool:
    given = form.get("csrf", "")
    return bool(expected) and bool(given) and hmac.compare_digest(given, expected or "")


async def _signed_in(request: Request) -> tuple[Session, Principal] | None:
    rt = _runtime(request)
    session = read_session(rt, request)
    if session is None:
        return None
    try:
        return session, await authenticate_admin_hash(rt, session.token_hash)
    except (Unauthorized, Forbidden):
        return None  # revoked or demoted since sign-in: the session ends with it


async def index(_request: Request) -> Response:
    return RedirectResponse(_PROVIDERS, status_code=303)


async def login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = _render("login.html", status, csrf=token, error=error)
    set_cookie(_runtime(request), request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


async def login(request: Request) -> Response:
    rt = _runtime(request)
    form = await _form(request)
    if not _csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form):
        return await login_page(request, "The form expired; sign in again.", 400)
    key = form.get("key", "").strip()
    if not key:
        return await login_page(request, "Enter an admin key (sk-sg-…) or the instance admin token.", 400)
    try:
        await authenticate_admin(rt, key)
    except (Unauthorized, Forbidden) as exc:
        return await login_page(request, str(exc), 401)
    response = RedirectResponse(_PROVIDERS, status_code=303)
    session = Session.start(hash_token(rt.keyring.pepper, key))
    set_cookie(rt, request, response, COOKIE, session_cookie(rt, session), MAX_AGE_SECONDS)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/settings")
    return response


async def logout(request: Request) -> Response:
    rt = _runtime(request)
    session = read_session(rt, request)
    form = await _form(request)
    if session is None or not _csrf_ok(session.csrf, form):
        return _to_login()
    response = _to_login()
    response.delete_cookie(COOKIE, path="/settings")
    return response


async def _org_view(rt: Runtime, principal: Principal, ref: str | None) -> dict[str, Any]:
    """The organization switcher's choices and the chosen organization with its projects."""
    visible = await orgs.list_orgs(rt, principal)
    chosen = next((o for o in visible if ref in (o.id, o.name)), visible[0] if visible else None)
    projects = await orgs.list_projects(rt, principal, chosen.id) if chosen else []
    return {"orgs": visible, "org": chosen, "projects": projects}


async def providers_page(request: Request) -> Response:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return _to_login()
    session, principal = signed_in
    rt = _runtime(request)
    view = await _org_view(rt, principal, request.query_params.get("org"))
    org_providers: list[tuple[Project | None, Provider]] = []
    project_providers: list[tuple[Project | None, Provider]] = []
    if view["org"] is not None:
        listed = await providers.list_providers(rt, principal, org_ref=view["org"].id)
        org_providers = [(None, p) for p in listed]
        for project in view["projects"]:
            listed = await providers.list_providers(rt, principal, project_ref=project.id)
            project_providers += [(project, p) for p in listed]
    return _render("providers.html", csrf=session.csrf, principal=principal, org_providers=org_providers,
                   project_providers=project_providers, notice=request.query_params.get("notice"), **view)  # fmt: skip


async def new_provider_page(request: Request) -> Response:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return _to_login()
    session, principal = signed_in
    view = await _org_view(_runtime(request), principal, request.query_params.get("org"))
    values = {"auth_method": "api_key", "include_default_registry": "on", "owner": "org"}
    return _render("provider_form.html", csrf=session.csrf, principal=principal, values=values, errors={}, **view)


async def create_provider(request: Request) -> Response:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return _to_login()
    session, principal = signed_in
    rt = _runtime(request)
    form = await _form(request)
    if not _csrf_ok(session.csrf, form):
        return HTMLResponse("The form expired: reload the page and try again.", status_code=400)
    view = await _org_view(rt, principal, form.get("org"))
    owner = form.get("owner", "org")
    try:
        body = parse(provider_body(form))
        if owner == "org":
            await providers.create_provider(rt, principal, body, org_ref=form.get("org", ""))
        else:
            await providers.create_provider(rt, principal, body, project_ref=owner)
    except ValidationFailed as exc:
        errors = errors_by_input(exc.errors)
    except Conflict as exc:
        errors = {"name": [str(exc)]}
    except (NotFound, Forbidden) as exc:
        errors = {"owner": [str(exc)]}
    else:
        org = view["org"].id if view["org"] else ""
        return RedirectResponse(f"{_PROVIDERS}?org={org}&notice=created", status_code=303)
    # Secrets are never sent back into the page: the user types them again.
    values = {k: v for k, v in form.items() if k not in ("api_key", "client_secret", "csrf")}
    return _render(
        "provider_form.html", 422, csrf=session.csrf, principal=principal, values=values, errors=errors, **view
    )


async def delete_provider(request: Request) -> Response:
    signed_in = await _signed_in(request)
    if signed_in is None:
        return _to_login()
    session, principal = signed_in
    form = await _form(request)
    if not _csrf_ok(session.csrf, form):
        return HTMLResponse("The form expired: reload the page and try again.", status_code=400)
    try:
        await providers.delete_provider(_runtime(request), principal, request.path_params["provider_id"])
    except SkygateError as exc:
        return HTMLResponse(str(exc), status_code=exc.status)
    return RedirectResponse(f"{_PROVIDERS}?org={form.get('org', '')}&notice=deleted", status_code=303)


def settings_routes() -> list[Route | Mount]:
    return [
        Route("/", index),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/ai-providers", providers_page, methods=["GET"]),
        Route("/ai-providers/new", new_provider_page, methods=["GET"]),
        Route("/ai-providers/new", create_provider, methods=["POST"]),
        Route("/ai-providers/{provider_id}/delete", delete_provider, methods=["POST"]),
        Mount("/static", app=StaticFiles(packages=[("skygate.web", "static")]), name="static"),
    ]
