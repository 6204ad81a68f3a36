"""The one exception hierarchy: each error has a stable `code`, an HTTP status and a message that says how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "Conflict",
    "FieldError",
    "Forbidden",
    "MalformedRequest",
    "NotFound",
    "PayloadTooLarge",
    "SkygateError",
    "StartupError",
    "Unauthorized",
    "ValidationFailed",
]


class SkygateError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True, frozen=True)
class FieldError:
    """One broken rule: `field` is a dotted path into the request body (`auth.scope`, `models.1.api`)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class ValidationFailed(SkygateError):
    code = "validation_error"
    status = 422

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])


class MalformedRequest(SkygateError):
    code = "malformed_request"
    status = 400


class Unauthorized(SkygateError):
    code = "unauthorized"
    status = 401


class Forbidden(SkygateError):
    code = "forbidden"
    status = 403


class NotFound(SkygateError):
    code = "not_found"
    status = 404


class Conflict(SkygateError):
    code = "conflict"
    status = 409


class PayloadTooLarge(SkygateError):
    code = "payload_too_large"
    status = 413


class StartupError(SkygateError):
    """Configuration that prevents the instance from starting (bad master key, unreadable data dir)."""

    code = "startup_error"
