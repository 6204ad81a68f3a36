"""Rules for an Azure provider's settings: per-method auth fields, URL normalisation, models and headers.

Pure: takes the request and the instance's context, returns the config to store or every broken rule at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from skygate.domain.inputs import AuthInput, ModelEntry, ProviderCreate, ProviderPatch
from skygate.domain.records import Provider
from skygate.errors import FieldError, ValidationFailed
from skygate.providers.azure.endpoints import (
    DEFAULT_AUTHORITY_HOST,
    DEFAULT_SCOPE,
    EndpointError,
    normalise_api_base,
    normalise_authority_host,
)

__all__ = ["METHOD_FIELDS", "ProviderContext", "ValidatedProvider", "validate_create", "validate_patch"]

# Which auth fields each method takes, which it needs, and which one is its write-only secret.
METHOD_FIELDS: dict[str, frozenset[str]] = {
    "api_key": frozenset({"api_key"}),
    "entra_client_secret": frozenset({"tenant_id", "client_id", "client_secret", "scope", "authority_host"}),
    "workload_identity": frozenset({"tenant_id", "client_id", "scope", "subject_suffix", "authority_host"}),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "api_key": ("api_key",),
    "entra_client_secret": ("tenant_id", "client_id", "client_secret"),
    "workload_identity": ("tenant_id", "client_id", "subject_suffix"),
}
_SECRET_FIELD = {"api_key": "api_key", "entra_client_secret": "client_secret"}
_SECRET_FIELDS = frozenset({"api_key", "client_secret"})

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+")
_SUBJECT_SUFFIX = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SCOPE = re.compile(r"[\x21-\x7e]+/\.default")
_SECRET_TEXT = re.compile(r"[\x21-\x7e]{1,1024}")
_DEPLOYMENT = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ALIAS = re.compile(r"[A-Za-z0-9._:/@-]{1,128}")
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}")
# Headers skygate owns: auth, framing and our own namespace (SPEC §4).
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]{0,4096}")
_RESERVED_HEADERS = frozenset(
    {
        "authorization",
        "api-key",
        "x-api-key",
        "host",
        "content-length",
        "content-type",
        "transfer-encoding",
        "connection",
        "cookie",
        "te",
        "upgrade",
        "proxy-authorization",
    }
)


@dataclass(slots=True, frozen=True)
class ProviderContext:
    """What the rules need to know beyond the request itself."""

    scope: Literal["org", "project"]
    org_gateway_enabled: bool
    public_issuer: bool
    allowed_hosts: tuple[str, ...]


@dataclass(slots=True, frozen=True)
class ValidatedProvider:
    name: str
    config: dict[str, Any]
    new_secret: str | None
    """Plaintext to seal, when the request brought one; None keeps (or, with `drop_secret`, clears) the old one."""
    drop_secret: bool


def _auth_fields_set(auth: AuthInput) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in auth.model_fields_set - {"method"}:
        value = getattr(auth, field)
        values[field] = value.get_secret_value() if field in _SECRET_FIELDS and value is not None else value
    return values


def _check_auth_field(field: str, value: str, allowed_hosts: tuple[str, ...]) -> tuple[str, str | None]:
    """Returns the value to keep and the broken rule, if any."""
    if field == "tenant_id" and not (_GUID.fullmatch(value) or _DOMAIN.fullmatch(value)):
        return value, "must be the Directory (tenant) ID: a GUID, or a domain such as contoso.onmicrosoft.com"
    if field == "client_id" and not _GUID.fullmatch(value):
        return value, "must be the Application (client) ID, a GUID"
    if field in _SECRET_FIELDS and not _SECRET_TEXT.fullmatch(value):
        return value, "must be 1-1024 printable characters without spaces"
    if field == "scope" and not _SCOPE.fullmatch(value):
        return value, "must end in '/.default', e.g. https://cognitiveservices.azure.com/.default"
    if field == "subject_suffix" and not _SUBJECT_SUFFIX.fullmatch(value):
        return value, "must be 1-64 characters of letters, digits, '.', '_' or '-'"
    if field == "authority_host":
        try:
            return normalise_authority_host(value, allowed_hosts), None
        except EndpointError as exc:
            return value, str(exc)
    return value, None


def _check_method_rules(method: str, ctx: ProviderContext) -> list[FieldError]:
    if method != "workload_identity":
        return []
    errors = []
    if ctx.scope != "org":
        errors.append(
            "is only allowed for organization providers; project providers must use api_key or entra_client_secret"
        )
    if not ctx.org_gateway_enabled:
        errors.append("needs the organization's gateway_enabled setting to be true")
    if not ctx.public_issuer:
        errors.append(
            "needs a public https issuer (SKYGATE_PUBLIC_URL); an instance without one must use "
            "api_key or entra_client_secret"
        )
    return [FieldError("auth.method", f"workload_identity {rule}") for rule in errors]


def _build_auth(
    method: str, fields: dict[str, Any], keep_secret: bool, ctx: ProviderContext
) -> tuple[dict[str, Any], str | None, list[FieldError]]:
    errors = _check_method_rules(method, ctx)
    allowed = METHOD_FIELDS[method]
    for field in sorted(set(fields) - allowed):
        owners = [m for m, f in METHOD_FIELDS.items() if field in f]
        errors.append(
            FieldError(
                f"auth.{field}",
                f"is not used by auth method {method!r} (it belongs to {' / '.join(owners)}); remove it",
            )
        )
    stored: dict[str, Any] = {"method": method}
    for field in sorted(allowed):
        value = fields.get(field)
        if value is None or value == "":
            secret_kept = field == _SECRET_FIELD.get(method) and keep_secret
            if field in _REQUIRED[method] and not secret_kept:
                errors.append(FieldError(f"auth.{field}", f"is required for auth method {method!r}"))
            continue
        value, problem = _check_auth_field(field, value, ctx.allowed_hosts)
        if problem:
            errors.append(FieldError(f"auth.{field}", problem))
        stored[field] = value
    if method != "api_key":
        stored.setdefault("scope", DEFAULT_SCOPE)
        stored.setdefault("authority_host", DEFAULT_AUTHORITY_HOST)
    secret_field = _SECRET_FIELD.get(method)
    new_secret = stored.pop(secret_field, None) if secret_field else None
    return stored, new_secret, errors


def _check_models(models: list[ModelEntry]) -> tuple[list[dict[str, Any]], list[FieldError]]:
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    out = []
    for i, entry in enumerate(models):
        deployment = entry.deployment.strip()
        if not deployment:
            errors.append(FieldError(f"models.{i}.deployment", "must not be empty"))
        elif not _DEPLOYMENT.fullmatch(deployment):
            errors.append(
                FieldError(f"models.{i}.deployment", "must be 1-64 characters of letters, digits, '.', '_' or '-'")
            )
        if entry.alias is not None and not _ALIAS.fullmatch(entry.alias):
            errors.append(
                FieldError(f"models.{i}.alias", "must be 1-128 characters of letters, digits and . _ : / @ -")
            )
        served_as = entry.alias or deployment
        if served_as in seen:
            field = "alias" if entry.alias else "deployment"
            errors.append(
                FieldError(
                    f"models.{i}.{field}",
                    f"{served_as!r} is already served by models.{seen[served_as]}; aliases must be unique per provider",
                )
            )
        seen.setdefault(served_as, i)
        out.append({**entry.model_dump(), "deployment": deployment})
    return out, errors


def _check_headers(headers: dict[str, str]) -> list[FieldError]:
    errors = []
    for name, value in headers.items():
        field = f"additional_headers.{name}"
        if not _HEADER_NAME.fullmatch(name):
            errors.append(FieldError(field, "is not a valid HTTP header name"))
        elif name.lower() in _RESERVED_HEADERS or name.lower().startswith("x-skygate-"):
            errors.append(FieldError(field, "is set by skygate and cannot be overridden"))
        if not _HEADER_VALUE.fullmatch(value):
            errors.append(FieldError(field, "must be printable ASCII without line breaks"))
    return errors


def _netloc(url: str) -> str:
    return urlsplit(url).netloc


def _check_destination(previous: dict[str, Any], api_base: str, auth: dict[str, Any]) -> list[FieldError]:
    """A kept secret must not follow the provider to a new host or identity: whoever can edit a provider
    could otherwise send the stored key somewhere they read, without ever knowing it."""
    secret_field = _SECRET_FIELD.get(auth["method"])
    if secret_field is None:
        return []
    if _netloc(api_base) != _netloc(previous["api_base"]):
        reason = "api_base now points at another host"
    elif any(auth.get(k) != previous["auth"].get(k) for k in ("tenant_id", "client_id", "authority_host")):
        reason = "the tenant, client or authority changed"
    else:
        return []
    return [FieldError(f"auth.{secret_field}", f"must be sent again because {reason}; a stored secret is never "
                       "sent to a new destination")]  # fmt: skip


def _finish(
    name: str,
    api_base_input: str,
    method: str,
    auth_fields: dict[str, Any],
    previous: dict[str, Any] | None,
    rest: dict[str, Any],
    ctx: ProviderContext,
) -> ValidatedProvider:
    """`previous` is the stored config on PATCH; its secret is kept only if the method and destination stay."""
    keep_secret = previous is not None and previous["auth"]["method"] == method
    errors: list[FieldError] = []
    try:
        api_base = normalise_api_base(api_base_input, ctx.allowed_hosts)
    except EndpointError as exc:
        api_base = api_base_input
        errors.append(FieldError("api_base", str(exc)))
    auth, new_secret, auth_errors = _build_auth(method, auth_fields, keep_secret, ctx)
    errors += auth_errors
    if keep_secret and new_secret is None and previous is not None and not auth_errors:
        errors += _check_destination(previous, api_base, auth)
    models, model_errors = _check_models(rest["models"])
    errors += model_errors
    errors += _check_headers(rest["additional_headers"])
    if rest["api_version"] is not None and not _API_VERSION.fullmatch(rest["api_version"]):
        errors.append(FieldError("api_version", "must be a dated api-version such as 2024-10-21 or 2025-04-01-preview"))
    if errors:
        raise ValidationFailed(errors)
    config = {
        "api_base": api_base,
        "api_base_input": api_base_input.strip(),
        "auth": auth,
        "include_default_registry": rest["include_default_registry"],
        "models": models,
        "api_version": rest["api_version"],
        "additional_headers": rest["additional_headers"],
    }
    return ValidatedProvider(name, config, new_secret, drop_secret=method not in _SECRET_FIELD)


def validate_create(body: ProviderCreate, ctx: ProviderContext) -> ValidatedProvider:
    if body.auth.method is None:
        raise ValidationFailed.one("auth.method", "is required: api_key, entra_client_secret or workload_identity")
    rest = {
        "models": body.models,
        "additional_headers": body.additional_headers,
        "api_version": body.api_version,
        "include_default_registry": body.include_default_registry,
    }
    return _finish(body.name, body.api_base, body.auth.method, _auth_fields_set(body.auth), None, rest, ctx)


def validate_patch(stored: Provider, patch: ProviderPatch, ctx: ProviderContext) -> ValidatedProvider:
    """Merge `patch` over `stored` and check the result as a whole; an omitted secret is kept."""
    old = stored.config
    old_method: str = old["auth"]["method"]
    given = _auth_fields_set(patch.auth) if patch.auth else {}
    method = patch.auth.method if patch.auth and patch.auth.method else old_method
    # Fields of the old method that the new one also takes carry over (tenant, client id, ...).
    fields = {k: v for k, v in old["auth"].items() if k != "method" and k in METHOD_FIELDS[method]}
    fields.update(given)
    sent = patch.model_fields_set
    rest = {
        "models": patch.models if patch.models is not None else [ModelEntry(**m) for m in old["models"]],
        "additional_headers": patch.additional_headers
        if "additional_headers" in sent and patch.additional_headers is not None
        else old["additional_headers"],
        "api_version": patch.api_version if "api_version" in sent else old["api_version"],
        "include_default_registry": old["include_default_registry"]
        if patch.include_default_registry is None
        else patch.include_default_registry,
    }
    name = patch.name or stored.name
    api_base_input = patch.api_base if patch.api_base is not None else old["api_base_input"]
    return _finish(name, api_base_input, method, fields, old, rest, ctx)
