"""The shapes accepted at the admin boundary (API, CLI): types, required fields, no unknown fields.

Rules that need more than one field or the instance's context live in `azure_rules.py`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from skygate.errors import FieldError

__all__ = [
    "ApiType",
    "AuthInput",
    "AuthMethod",
    "KeyCreate",
    "ModelEntry",
    "OrgCreate",
    "OrgPatch",
    "ProjectCreate",
    "ProviderCreate",
    "ProviderPatch",
    "describe_validation_errors",
]

AuthMethod = Literal["api_key", "entra_client_secret", "workload_identity"]
ApiType = Literal["chat_completions", "responses", "messages"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _check_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


Name = Annotated[str, AfterValidator(_check_name)]


def _check_label(value: str) -> str:
    if not value.strip() or not value.isprintable():
        raise ValueError("must be 1-128 printable characters")
    return value


Label = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_check_label)]


class StrictModel(BaseModel):
    """Unknown fields are refused (a typo must not be silently dropped) and JSON types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class OrgCreate(StrictModel):
    name: Name
    gateway_enabled: bool = True


class OrgPatch(StrictModel):
    name: Name | None = None
    gateway_enabled: bool | None = None


class ProjectCreate(StrictModel):
    name: Name


class KeyCreate(StrictModel):
    name: Label
    role: Literal["admin", "invoke"]
    project_id: str | None = None


class ModelEntry(StrictModel):
    deployment: str
    api: ApiType
    alias: str | None = None
    input_cost_per_mtok: Annotated[float, Field(ge=0)] | None = None
    output_cost_per_mtok: Annotated[float, Field(ge=0)] | None = None


class AuthInput(StrictModel):
    """All auth fields of all methods; which ones a method takes is checked with the method in hand."""

    method: AuthMethod | None = None
    api_key: SecretStr | None = None
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    scope: str | None = None
    subject_suffix: str | None = None
    authority_host: str | None = None


class ProviderCreate(StrictModel):
    name: Name
    type: Literal["azure"]
    api_base: str
    auth: AuthInput
    include_default_registry: bool = True
    models: list[ModelEntry] = Field(default_factory=list, max_length=500)
    api_version: str | None = None
    additional_headers: dict[str, str] = Field(default_factory=dict, max_length=50)


class ProviderPatch(StrictModel):
    """A merge patch: only the fields present change; `auth` merges field by field and keeps the secret."""

    name: Name | None = None
    type: Literal["azure"] | None = None
    api_base: str | None = None
    auth: AuthInput | None = None
    include_default_registry: bool | None = None
    models: list[ModelEntry] | None = Field(default=None, max_length=500)
    api_version: str | None = None
    additional_headers: dict[str, str] | None = Field(default=None, max_length=50)


def describe_validation_errors(errors: list[dict[str, Any]], skip_loc: int = 0) -> list[FieldError]:
    """Pydantic errors as FieldErrors. Only the location and rule are used: inputs may hold secrets."""
    described = []
    for error in errors:
        loc = error.get("loc", ())[skip_loc:]
        field = ".".join(str(part) for part in loc)
        kind = error.get("type")
        if kind == "extra_forbidden":
            message = "is not a known field; remove it (check the spelling)"
        elif kind == "missing":
            message = "is required"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = "must be a JSON object"
        else:
            message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
            message = message[:1].lower() + message[1:]
        described.append(FieldError(field or "body", message))
    return described
