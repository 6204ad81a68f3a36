"""The settings pages' session: a signed, HttpOnly cookie holding the admin credential's hash (never the
credential) and the session's CSRF token. Every request checks the credential again, so revoking the key ends
the session at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from skygate.crypto import hash_token
from skygate.services.runtime import Runtime

__all__ = ["COOKIE", "LOGIN_CSRF_COOKIE", "MAX_AGE_SECONDS", "Session", "read_session", "session_cookie", "set_cookie"]

COOKIE = "skygate_session"
LOGIN_CSRF_COOKIE = "skygate_login_csrf"
MAX_AGE_SECONDS = 12 * 3600


@dataclass(frozen=True)
class Session:
    token_hash: str
    csrf: str

    @classmethod
    def start(cls, token_hash: str) -> Session:
        return cls(token_hash, secrets.token_urlsafe(32))


def signer(rt: Runtime) -> URLSafeTimedSerializer:
    # A key of its own, derived from the sealed pepper: stable across restarts and instances, never stored.
    return URLSafeTimedSerializer(hash_token(rt.keyring.pepper, "settings-session-signing"), salt="skygate-session")


def read_session(rt: Runtime, request: Request) -> Session | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data = signer(rt).loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("h"), str) or not isinstance(data.get("c"), str):
        return None
    return Session(data["h"], data["c"])


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    """HttpOnly and SameSite=Lax always; Secure whenever the page was served over TLS."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/settings",
    )


def session_cookie(rt: Runtime, session: Session) -> str:
    return signer(rt).dumps({"h": session.token_hash, "c": session.csrf})
