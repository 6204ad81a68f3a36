"""`POST /providers/{id}/test`: the real chain — configuration, Entra token, a minimal upstream call — with
each stage's outcome and, when it fails, the concrete fix (SPEC §6)."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import orjson

from skygate.crypto import open_secret
from skygate.domain.records import Provider
from skygate.gateway.snapshot import Route, routes_of
from skygate.identity.entra_tokens import EntraTokenCache, EntraTokenError
from skygate.identity.signing import SigningKeySet, workload_subject
from skygate.providers.azure.diagnosis import ProviderFacts, fix_for_aadsts, fix_for_upstream
from skygate.providers.azure.routes import ANTHROPIC_VERSION, Api, auth_headers, prepare_body, upstream_url
from skygate.services.runtime import Runtime
from skygate.trust import combined_ca_file

__all__ = ["Stage", "run_connection_test"]

_PROBES: dict[str, dict[str, Any]] = {
    "chat_completions": {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1},
    "messages": {"messages": [{"role": "user", "content": "ping"}], "max_tokens": 1},
    "responses": {"input": "ping", "max_output_tokens": 16},
    "embeddings": {"input": "ping"},
}


@dataclass
class Stage:
    name: str
    ok: bool
    detail: str
    fix: str | None = None
    elapsed_ms: float = 0.0


def _facts(rt: Runtime, provider: Provider, deployment: str | None) -> ProviderFacts:
    auth = provider.config["auth"]
    subject = workload_subject(provider.org_id, auth["subject_suffix"]) if "subject_suffix" in auth else None
    return ProviderFacts(
        provider.config["api_base"],
        auth.get("tenant_id"),
        auth.get("client_id"),
        rt.settings.public_url,
        subject,
        deployment,
    )


def _probe_target(provider: Provider, routes: dict[str, list[Route]]) -> tuple[Route, Api] | None:
    """The first custom deployment (its own API), else none: then the model list checks the credentials."""
    for entry in provider.config["models"]:
        name = entry["alias"] or entry["deployment"]
        return routes[name][0], entry["api"]
    return None


async def _token_stage(
    rt: Runtime, route: Route, signing: SigningKeySet, facts: ProviderFacts
) -> tuple[Stage, str | None]:
    request = route.auth.token_request
    assert request is not None
    issuer = rt.settings.public_url or ""
    # A fresh cache: the test must really ask Entra, not reuse what the data plane holds.
    tokens = EntraTokenCache(combined_ca_file(rt.settings), lambda subject: signing.assertion(issuer, subject))
    started = time.perf_counter()
    try:
        token = await tokens.token(request)
    except EntraTokenError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return Stage("token", False, exc.message, fix_for_aadsts(exc.code, facts), elapsed), None
    elapsed = (time.perf_counter() - started) * 1000
    return Stage("token", True, f"Entra issued a token for {request.scope}", None, elapsed), token


async def _upstream_stage(
    client: httpx.AsyncClient, route: Route, api: Api | None, token: str | None, facts: ProviderFacts
) -> Stage:
    headers = dict(route.headers)
    headers.update(auth_headers(api or "chat_completions", token or route.auth.api_key or "", token=bool(token)))
    if api is None:
        url, method, content = f"{route.base}/openai/v1/models", "GET", None
    else:
        url, method = upstream_url(route.base, api, route.deployment, route.api_version), "POST"
        # The same body rules as real calls (reasoning deployments take max_completion_tokens).
        content = orjson.dumps(prepare_body(api, _PROBES[api], route.deployment, route.deployment))
        headers["content-type"] = "application/json"
        if api == "messages":
            headers["anthropic-version"] = ANTHROPIC_VERSION
    started = time.perf_counter()
    try:
        response = await client.request(method, url, content=content, headers=headers)
    except httpx.TransportError as exc:
        return Stage(
            "upstream",
            False,
            f"{type(exc).__name__} calling {url}",
            "check api_base, DNS and firewalls; a private CA goes in SKYGATE_CA_BUNDLE",
            (time.perf_counter() - started) * 1000,
        )
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code < 400:
        return Stage("upstream", True, f"{method} {url} answered {response.status_code}", None, elapsed)
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    detail = f"{method} {url} answered {response.status_code}: {str(body)[:500]}"
    return Stage("upstream", False, detail, fix_for_upstream(response.status_code, body, facts), elapsed)


async def run_connection_test(
    rt: Runtime, provider: Provider, client: httpx.AsyncClient, signing: SigningKeySet
) -> dict[str, Any]:
    secret = None
    if provider.sealed_secret is not None:
        secret = open_secret(rt.keyring.masters, provider.sealed_secret, f"provider:{provider.id}:secret")
    routes = routes_of(provider, secret, rt.registry, rt.settings.allowed_upstream_hosts)
    stages: list[Stage] = []
    if provider.config["auth"]["method"] == "workload_identity" and not rt.settings.has_public_issuer:
        stages.append(
            Stage(
                "config",
                False,
                "workload identity needs this instance to be an OIDC issuer",
                "set SKYGATE_PUBLIC_URL to this instance's public https URL",
            )
        )
        return {"ok": False, "stages": [asdict(s) for s in stages]}
    if not routes:
        stages.append(
            Stage(
                "config",
                False,
                "the provider serves no model, or its api_base host is not allowed",
                "add models or include_default_registry; check api_base against SKYGATE_ALLOWED_UPSTREAM_HOSTS",
            )
        )
        return {"ok": False, "stages": [asdict(s) for s in stages]}
    target = _probe_target(provider, routes)
    route, api = target if target else (next(iter(routes.values()))[0], None)
    facts = _facts(rt, provider, route.deployment if api else None)
    stages.append(Stage("config", True, f"{len(routes)} model names routed to {route.base}"))
    token = None
    if route.auth.token_request is not None:
        stage, token = await _token_stage(rt, route, signing, facts)
        stages.append(stage)
        if not stage.ok:
            return {"ok": False, "stages": [asdict(s) for s in stages]}
    stages.append(await _upstream_stage(client, route, api, token, facts))
    return {"ok": all(s.ok for s in stages), "stages": [asdict(s) for s in stages]}
