"""Turn the bearer token of an admin request into a Principal (FastAPI dependency)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from skygate.domain.records import Principal
from skygate.errors import Unauthorized
from skygate.services.keys import authenticate_admin
from skygate.services.runtime import Runtime

__all__ = ["Caller", "RuntimeDep"]

_bearer = HTTPBearer(auto_error=False, description="The instance admin token or an org admin key (sk-sg-…)")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


async def _principal(
    runtime: RuntimeDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized("missing credentials: send 'Authorization: Bearer <admin token or org admin key>'")
    return await authenticate_admin(runtime, credentials.credentials)


Caller = Annotated[Principal, Depends(_principal)]
