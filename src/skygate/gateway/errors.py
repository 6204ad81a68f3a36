"""Data-plane errors in the caller's own format: OpenAI `{"error": {...}}` or Anthropic `{"type": "error", ...}`."""

from __future__ import annotations

from typing import Literal

import orjson
from starlette.responses import Response

__all__ = ["CallerFormat", "GatewayError", "render_error"]

CallerFormat = Literal["openai", "anthropic"]

_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    504: "api_error",
    529: "overloaded_error",
}
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class GatewayError(Exception):
    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param


def render_error(
    fmt: CallerFormat,
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if fmt == "anthropic":
        body: dict[str, object] = {
            "type": "error",
            "error": {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message},
        }
    else:
        body = {
            "error": {"message": message, "type": _OPENAI_TYPES.get(status, "api_error"), "param": param, "code": code}
        }
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)
