"""What every settings page shares: templates, the runtime, the signed-in check and CSRF."""

from __future__ import annotations

import hmac
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from skygate.domain.records import Principal
from skygate.errors import Forbidden, Unauthorized
from skygate.services.keys import authenticate_admin_hash
from skygate.services.runtime import Runtime
from skygate.web.forms import AUTH_METHODS, FORMATS, MODEL_ROWS
from skygate.web.session import Session, read_session

__all__ = ["PROVIDERS", "csrf_ok", "form_of", "problem", "render", "runtime", "signed_in", "submitted", "to_login"]

_templates = Environment(loader=PackageLoader("skygate.web", "templates"), autoescape=select_autoescape(["html"]))
PROVIDERS = "/settings/ai-providers"
_EXPIRED = "The form expired: reload the page and try again."


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    page = {"auth_methods": AUTH_METHODS, "formats": FORMATS, "model_rows": MODEL_ROWS} | context
    return HTMLResponse(_templates.get_template(name).render(**page), status_code=status)


def problem(message: str, status: int) -> PlainTextResponse:
    """Errors outside a form, as plain text: messages can quote what the caller sent (an id in the URL)."""
    return PlainTextResponse(message, status_code=status)


def to_login() -> RedirectResponse:
    return RedirectResponse("/settings/login", status_code=303)


async def form_of(request: Request) -> dict[str, str]:
    form = await request.form(max_files=0, max_fields=200)
    return {k: v for k, v in form.items() if isinstance(v, str)}


def csrf_ok(expected: str | None, form: dict[str, str]) -> bool:
    given = form.get("csrf", "")
    return bool(expected) and bool(given) and hmac.compare_digest(given, expected or "")


async def signed_in(request: Request) -> tuple[Session, Principal] | None:
    rt = runtime(request)
    session = read_session(rt, request)
    if session is None:
        return None
    try:
        return session, await authenticate_admin_hash(rt, session.token_hash)
    except (Unauthorized, Forbidden):
        return None  # revoked or demoted since sign-in: the session ends with it


async def submitted(request: Request) -> tuple[Session, Principal, dict[str, str]] | Response:
    """A signed-in user's form post with its CSRF token; otherwise the response to send instead."""
    signed = await signed_in(request)
    if signed is None:
        return to_login()
    form = await form_of(request)
    if not csrf_ok(signed[0].csrf, form):
        return problem(_EXPIRED, 400)
    return signed[0], signed[1], form
