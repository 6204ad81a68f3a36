"""Sign-in with an admin key, and sign-out."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from skygate.crypto import hash_token
from skygate.errors import Forbidden, Unauthorized
from skygate.services.keys import authenticate_admin
from skygate.web.render import PROVIDERS, csrf_ok, form_of, render, runtime, to_login
from skygate.web.session import (
    COOKIE,
    LOGIN_CSRF_COOKIE,
    MAX_AGE_SECONDS,
    Session,
    read_session,
    session_cookie,
    set_cookie,
)

__all__ = ["login", "login_page", "logout"]


async def login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    # Sign-in has no session yet: its CSRF token is a double-submit cookie.
    token = secrets.token_urlsafe(32)
    response = render("login.html", status, csrf=token, error=error)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token, 3600)
    return response


async def login(request: Request) -> Response:
    rt = runtime(request)
    form = await form_of(request)
    if not csrf_ok(request.cookies.get(LOGIN_CSRF_COOKIE), form):
        return await login_page(request, "The form expired; sign in again.", 400)
    key = form.get("key", "").strip()
    if not key:
        return await login_page(request, "Enter an admin key (sk-sg-…) or the instance admin token.", 400)
    try:
        await authenticate_admin(rt, key)
    except (Unauthorized, Forbidden) as exc:
        return await login_page(request, str(exc), 401)
    response = RedirectResponse(PROVIDERS, status_code=303)
    session = Session.start(hash_token(rt.keyring.pepper, key))
    set_cookie(request, response, COOKIE, session_cookie(rt, session), MAX_AGE_SECONDS)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/settings")
    return response


async def logout(request: Request) -> Response:
    session = read_session(runtime(request), request)
    form = await form_of(request)
    response = to_login()
    if session is not None and csrf_ok(session.csrf, form):
        response.delete_cookie(COOKIE, path="/settings")
    return response
