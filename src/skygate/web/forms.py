"""The provider form: its fields as a ProviderCreate body, and rule violations mapped back to the inputs."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from skygate.domain.inputs import describe_validation_errors
from skygate.domain.records import Provider
from skygate.errors import FieldError, ValidationFailed

Model = TypeVar("Model", bound=BaseModel)

__all__ = ["AUTH_METHODS", "FORMATS", "MODEL_ROWS", "errors_by_input", "parse", "provider_body", "values_of"]

# The seed's labels, verbatim (SPEC §7; braintrust-gateway.md §1).
AUTH_METHODS = {
    "api_key": "API Key",
    "entra_client_secret": "Entra API (Azure AD)",
    "workload_identity": "Microsoft Entra Workload Identity",
}
AUTH_FIELDS = {
    "api_key": ("api_key",),
    "entra_client_secret": ("client_id", "tenant_id", "client_secret", "scope"),
    "workload_identity": ("client_id", "tenant_id", "scope", "subject_suffix"),
}
# API type → the format the seed names beside it.
FORMATS = {
    "chat_completions": ("Chat completion", "OpenAI"),
    "responses": ("Responses", "OpenAI"),
    "messages": ("Messages", "Anthropic"),
}
MODEL_ROWS = 3


def provider_body(form: dict[str, str]) -> dict[str, Any]:
    method = form.get("auth_method", "")
    auth: dict[str, Any] = {"method": method}
    for name in AUTH_FIELDS.get(method, ()):
        if form.get(name, "").strip():
            auth[name] = form[name].strip()
    models = []
    rows = sorted(int(k.rsplit("_", 1)[1]) for k in form if k.startswith("model_deployment_") and k[17:].isdigit())
    for row in rows:
        deployment = form.get(f"model_deployment_{row}", "").strip()
        if deployment:
            entry = {"deployment": deployment, "api": form.get(f"model_api_{row}", "")}
            if form.get(f"model_alias_{row}", "").strip():
                entry["alias"] = form[f"model_alias_{row}"].strip()
            models.append(entry)
    return {
        "name": form.get("name", "").strip(),
        "type": "azure",
        "api_base": form.get("api_base", "").strip(),
        "auth": auth,
        "include_default_registry": form.get("include_default_registry") == "on",
        "models": models,
    }


def parse(body: dict[str, Any], shape: type[Model]) -> Model:
    try:
        return shape.model_validate(body)
    except ValidationError as exc:
        raise ValidationFailed(describe_validation_errors([dict(e) for e in exc.errors()])) from exc


def _input_for(field: str) -> str:
    """`auth.scope` → `scope`, `models.1.deployment` → `model_deployment_1`; other fields keep their name."""
    parts = field.split(".")
    if parts[0] == "auth" and len(parts) > 1:
        return "auth_method" if parts[1] == "method" else parts[1]
    if parts[0] == "models" and len(parts) > 2:
        return f"model_{parts[2]}_{parts[1]}"
    return parts[0]


def errors_by_input(errors: list[FieldError]) -> dict[str, list[str]]:
    by_input: dict[str, list[str]] = {}
    for error in errors:
        by_input.setdefault(_input_for(error.field), []).append(str(error.message))
    return by_input


def values_of(provider: Provider) -> dict[str, Any]:
    """A stored provider as the form's values (never its secret)."""
    config, auth = provider.config, provider.config["auth"]
    values: dict[str, Any] = {
        "name": provider.name,
        "owner": provider.project_id or "org",
        "auth_method": auth["method"],
        "api_base": config["api_base"],
        "include_default_registry": "on" if config["include_default_registry"] else "",
    }
    for name in ("client_id", "tenant_id", "scope", "subject_suffix"):
        if auth.get(name):
            values[name] = auth[name]
    for row, entry in enumerate(config["models"]):
        values[f"model_deployment_{row}"] = entry["deployment"]
        values[f"model_api_{row}"] = entry["api"]
        values[f"model_alias_{row}"] = entry.get("alias") or ""
    return values
