"""The in-memory routing snapshot: keys by hash, and per organization and project the routes serving each
model name. Built from the store in one pass; the hot path reads it without touching the database."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from typing import Any

from skygate.crypto import open_secret
from skygate.domain.records import Provider
from skygate.gateway.errors import GatewayError
from skygate.gateway.http1 import Target
from skygate.identity.entra_tokens import TokenRequest
from skygate.identity.signing import SigningKeySet, workload_subject
from skygate.providers.azure.endpoints import EndpointError, normalise_api_base
from skygate.providers.azure.routes import Api
from skygate.registry.azure import AzureRegistry
from skygate.services.runtime import Keyring
from skygate.store.snapshot import StoredConfig
from skygate.translate.plan import upstream_api

__all__ = ["KeyEntry", "Route", "RouteAuth", "Snapshot", "build_snapshot", "routes_of"]

log = logging.getLogger(__name__)

_REGISTRY_APIS: dict[str, Api] = {"chat": "chat_completions", "responses": "responses", "embeddings": "embeddings"}


@dataclass(slots=True, frozen=True)
class KeyEntry:
    id: str
    org_id: str
    project_id: str | None
    role: str
    revoked: bool


@dataclass(slots=True, frozen=True)
class RouteAuth:
    """How to authenticate upstream: the API key, or what to ask Entra for."""

    method: str
    api_key: str | None = field(default=None, repr=False)
    token_request: TokenRequest | None = None


@dataclass(slots=True, frozen=True)
class Route:
    """One provider's way to serve one model name."""

    provider_id: str
    provider_name: str
    base: str
    deployment: str
    apis: frozenset[str]
    api_version: str | None
    auth: RouteAuth
    headers: tuple[tuple[str, str], ...]
    # Upstream request heads built for this route, by API, for its current credential (gateway/proxy.py): they
    # live and go with the snapshot, so a changed provider never meets a head built for its old settings.
    starts: dict[tuple[str, str], tuple[Target, bytes]] = field(default_factory=dict, compare=False, repr=False)


ModelTable = dict[str, list[Route]]


@dataclass(slots=True)
class OrgTables:
    gateway_enabled: bool
    models: ModelTable = field(default_factory=dict)
    projects: dict[str, ModelTable] = field(default_factory=dict)
    project_ids: dict[str, str] = field(default_factory=dict)  # id or name -> id


@dataclass(slots=True)
class Snapshot:
    version: int
    keys: dict[str, KeyEntry]
    orgs: dict[str, OrgTables]
    signing_keys: SigningKeySet

    def project_for(self, key: KeyEntry, header: str | None) -> str | None:
        """The key's binding wins; otherwise `x-skygate-project` (id or name) picks one of the org's projects."""
        if key.project_id is not None:
            return key.project_id
        if not header:
            return None
        project_id = self.orgs[key.org_id].project_ids.get(header)
        if project_id is None:
            raise GatewayError(
                400, "project_not_found", f"x-skygate-project: no project {header!r} in this organization"
            )
        return project_id

    def table(self, key: KeyEntry, project_id: str | None, model: str) -> list[Route]:
        """Project providers override the organization's for the models they serve (SPEC §5)."""
        org = self.orgs[key.org_id]
        if project_id is not None and model in org.projects.get(project_id, {}):
            return org.projects[project_id][model]
        return org.models.get(model, [])

    def resolve(self, key: KeyEntry, project_header: str | None, model: str, api: Api, pin: str | None) -> list[Route]:
        routes = self.table(key, self.project_for(key, project_header), model)
        if pin:
            routes = [r for r in routes if r.provider_name == pin]
            if not routes:
                raise GatewayError(
                    404, "model_not_found", f"provider {pin!r} (x-skygate-provider) does not serve model {model!r} here"
                )
        if not routes:
            raise GatewayError(
                404,
                "model_not_found",
                f"The model {model!r} does not exist or you do not have access to it.",
                param="model",
            )
        usable = [r for r in routes if _reachable(api, r.apis)]
        if not usable:
            served = ", ".join(sorted({a for r in routes for a in r.apis}))
            raise GatewayError(
                400,
                "unsupported_api",
                f"model {model!r} is served through the {served} API, which {api} calls cannot reach",
            )
        # Routes that speak the caller's API first (no translation, nothing to refuse), then the others; each
        # group starts at a random provider to spread load, the rest being the failover order.
        native = [r for r in usable if api in r.apis]
        return _spread(native) + _spread([r for r in usable if api not in r.apis])

    def models_for(self, key: KeyEntry, project_header: str | None) -> dict[str, list[Route]]:
        org = self.orgs[key.org_id]
        project_id = self.project_for(key, project_header)
        visible = dict(org.models)
        if project_id is not None:
            visible.update(org.projects.get(project_id, {}))
        return visible


def _spread(routes: list[Route]) -> list[Route]:
    if not routes:
        return routes
    start = random.randrange(len(routes))  # noqa: S311 - load spreading, not security
    return routes[start:] + routes[:start]


def _reachable(api: Api, served: frozenset[str]) -> bool:
    """Generation calls reach any generation API through translation; embeddings only embeddings."""
    if api == "embeddings":
        return api in served
    return upstream_api(api, served) is not None


def _route_auth(provider: Provider, secret: str | None) -> RouteAuth:
    auth: dict[str, Any] = provider.config["auth"]
    method = auth["method"]
    if method == "api_key":
        return RouteAuth(method, api_key=secret)
    common = {
        "method": method,
        "authority": auth["authority_host"],
        "tenant_id": auth["tenant_id"],
        "client_id": auth["client_id"],
        "scope": auth["scope"],
    }
    if method == "workload_identity":
        subject = workload_subject(provider.org_id, auth["subject_suffix"])
        return RouteAuth(method, token_request=TokenRequest(**common, credential_id=subject, subject=subject))
    fingerprint = provider.secret_fingerprint or ""
    return RouteAuth(method, token_request=TokenRequest(**common, credential_id=fingerprint, secret=secret))


def routes_of(provider: Provider, secret: str | None, registry: AzureRegistry, allowed: tuple[str, ...]) -> ModelTable:
    config: dict[str, Any] = provider.config
    try:
        base = normalise_api_base(config["api_base"], allowed)
    except EndpointError as exc:
        log.warning("provider %s skipped: api_base %s", provider.id, exc)
        return {}
    common = {
        "provider_id": provider.id,
        "provider_name": provider.name,
        "base": base,
        "api_version": config["api_version"],
        "auth": _route_auth(provider, secret),
        "headers": tuple(sorted(config["additional_headers"].items())),
    }
    table: ModelTable = {}
    if config["include_default_registry"]:
        for model in registry.models:
            apis = frozenset(_REGISTRY_APIS[a] for a in model.apis)
            table[model.name] = [Route(deployment=model.name, apis=apis, **common)]
    for entry in config["models"]:
        table[entry["alias"] or entry["deployment"]] = [
            Route(deployment=entry["deployment"], apis=frozenset({entry["api"]}), **common)
        ]
    return table


def _merge(into: ModelTable, table: ModelTable) -> None:
    for model, routes in table.items():
        into.setdefault(model, []).extend(routes)


def build_snapshot(
    config: StoredConfig,
    keyring: Keyring,
    registry: AzureRegistry,
    allowed: tuple[str, ...],
    signing: SigningKeySet,
    issuer: bool = True,
) -> Snapshot:
    orgs = {o.id: OrgTables(o.gateway_enabled) for o in config.orgs}
    for project in config.projects:
        tables = orgs[project.org_id]
        tables.projects[project.id] = {}
        tables.project_ids[project.id] = tables.project_ids[project.name] = project.id
    for provider in config.providers:
        if provider.config["auth"]["method"] == "workload_identity" and not issuer:
            log.warning("provider %s skipped: workload identity needs SKYGATE_PUBLIC_URL", provider.id)
            continue
        try:
            secret = None
            if provider.sealed_secret is not None:
                secret = open_secret(keyring.masters, provider.sealed_secret, f"provider:{provider.id}:secret")
            table = routes_of(provider, secret, registry, allowed)
        except Exception:
            # One broken provider must not freeze routing (and key revocation) for everyone else.
            log.exception("provider %s skipped: its stored configuration could not be used", provider.id)
            continue
        org = orgs[provider.org_id]
        _merge(org.projects[provider.project_id] if provider.project_id else org.models, table)
    keys = {
        key_hash: KeyEntry(key.id, key.org_id, key.project_id, key.role, key.revoked_at is not None)
        for key, key_hash in config.keys
    }
    return Snapshot(config.version, keys, orgs, signing)
