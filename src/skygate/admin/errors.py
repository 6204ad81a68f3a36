"""Every admin API failure as `{"error": {"code", "message", "fields"?}}` with its status; never a stack trace."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from skygate.domain.inputs import describe_validation_errors
from skygate.errors import FieldError, MalformedRequest, SkygateError, ValidationFailed

__all__ = ["ERROR_RESPONSES", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)


class _FieldProblem(BaseModel):
    field: str
    message: str


class _ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[_FieldProblem] | None = None


class ErrorBody(BaseModel):
    """The shape of every admin API error (documented in OpenAPI for each status below)."""

    error: _ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (400, "Malformed JSON"),
        (401, "Missing or invalid credentials"),
        (403, "Not allowed for this key"),
        (404, "Not found, or belongs to another organization"),
        (409, "Name already taken"),
        (413, "Body too large"),
        (415, "Body is not JSON"),
        (422, "A rule was broken; `fields` names each field and rule"),
    ]
}

_HTTP_CODES = {
    400: "malformed_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
}  # fmt: skip


class _AsciiJSONResponse(JSONResponse):
    """Error messages quote what the client sent (a field name, an id), which may be text that cannot be
    encoded as UTF-8 (a lone surrogate); escaping to ASCII renders anything."""

    def render(self, content: object) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(status: int, code: str, message: str, fields: list[FieldError] | None = None) -> JSONResponse:
    body: dict[str, object] = {"code": code, "message": message}
    if fields:
        body["fields"] = [{"field": f.field, "message": f.message} for f in fields]
    headers = {"www-authenticate": "Bearer"} if status == 401 else None
    return _AsciiJSONResponse({"error": body}, status_code=status, headers=headers)


def _render(exc: SkygateError) -> JSONResponse:
    fields = exc.errors if isinstance(exc, ValidationFailed) else None
    return error_response(exc.status, exc.code, exc.message, fields)


async def _on_skygate_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SkygateError)
    return _render(exc)


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "application/json").split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if not _is_json(request.headers.get("content-type")) and any(e.get("loc") == ("body",) for e in errors):
        return error_response(
            415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json"
        )
    broken_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if broken_json is not None:
        detail = (broken_json.get("ctx") or {}).get("error", "")
        return _render(MalformedRequest(f"the request body is not valid JSON ({detail})"))
    # The first location element says where the value came from (body, query, path); not a field name.
    return _render(ValidationFailed(describe_validation_errors(errors, skip_loc=1)))


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = str(exc.detail)
    if exc.status_code == 400:
        # Starlette's own body-parsing failures (invalid UTF-8, oversized integers).
        message = "the request body could not be read as JSON; send a UTF-8 JSON object"
    return error_response(exc.status_code, _HTTP_CODES.get(exc.status_code, "error"), message)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SkygateError, _on_skygate_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
