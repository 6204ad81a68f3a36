"""The data plane's front door: `/v1` calls go straight to their endpoint, everything else to the Starlette app.

Starlette's middleware and router took about a third of the gateway's time per call, and wrapped every streamed
chunk's `send` twice (docs/performance.md); the data plane needs none of it: its endpoints catch their own
errors and answer in the caller's format. Wrong methods and unknown paths still reach Starlette (405, 404)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from skygate.gateway.errors import CallerFormat, render_error
from skygate.gateway.whole_answer import one_write_cycle, write_whole

__all__ = ["DataPlaneDispatch"]

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[ASGIApp]]


class DataPlaneDispatch:
    def __init__(self, app: ASGIApp, routes: list[Route]) -> None:
        self._app = app
        # Matched by exact path: the data-plane routes have no path parameters.
        assert all("{" not in route.path for route in routes)
        self._endpoints: dict[tuple[str, str], Endpoint] = {
            (method, route.path): route.endpoint for route in routes for method in route.methods or ()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._endpoints.get((scope.get("method", ""), scope.get("path", "")))
        if endpoint is None or scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        scope["app"] = self._app  # what Starlette would set: endpoints reach the gateway state through it
        try:
            response = await endpoint(Request(scope, receive))
        except ClientDisconnect:
            return  # the caller left while sending its request: nobody to answer
        except Exception:
            # A bug, not a caller's mistake: logged with its traceback, answered in the caller's format.
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            fmt: CallerFormat = "anthropic" if scope["path"] == "/v1/messages" else "openai"
            response = render_error(fmt, 500, "internal_error", "the gateway failed on this request; see its log")
        if isinstance(response, Response) and (cycle := one_write_cycle(send, response)) is not None:
            await write_whole(cycle, response)
        else:
            await response(scope, receive, send)
