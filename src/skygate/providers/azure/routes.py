"""Where a call goes on Azure and what it carries: the upstream URL per API, the auth headers, and the body
changes Azure needs (SPEC §4; reference azure-behaviour.md §2, §3, §5.3; braintrust-gateway.md §2, §9)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote

__all__ = ["Api", "auth_headers", "prepare_body", "upstream_url"]

Api = Literal["chat_completions", "responses", "messages", "embeddings"]

ANTHROPIC_VERSION = "2023-06-01"
# Reasoning models refuse `max_tokens` and want `max_completion_tokens` (braintrust-gateway.md §2c, §9).
_REASONING = re.compile(r"^(o\d|gpt-5)", re.IGNORECASE)


@lru_cache(maxsize=4096)  # per provider, model and API: computed once, not per call
def upstream_url(base: str, api: Api, deployment: str, api_version: str | None) -> str:
    """v1 routes by default; the classic deployment routes when the provider pins a dated api-version (§2, §3)."""
    if api == "messages":
        return f"{base}/anthropic/v1/messages"  # §5.3: Claude on Foundry has no api-version
    if api_version is None:
        path = {"chat_completions": "chat/completions", "responses": "responses", "embeddings": "embeddings"}[api]
        return f"{base}/openai/v1/{path}"
    if api == "responses":
        # The Responses API is not deployment-scoped even on classic routes; the deployment goes in `model` (§2.1).
        return f"{base}/openai/responses?api-version={api_version}"
    operation = "chat/completions" if api == "chat_completions" else "embeddings"
    return f"{base}/openai/deployments/{quote(deployment, safe='')}/{operation}?api-version={api_version}"


def auth_headers(api: Api, credential: str, *, token: bool = False) -> dict[str, str]:
    """An Entra access token as `Authorization: Bearer`. A key as `api-key` on OpenAI routes; both `x-api-key` and
    `api-key` on /anthropic, as the anthropic Foundry client sends them (§5.3: `api-key` alone is refused there)."""
    if token:
        return {"authorization": f"Bearer {credential}"}
    if api == "messages":
        return {"x-api-key": credential, "api-key": credential}
    return {"api-key": credential}


def prepare_body(api: Api, body: dict[str, Any], deployment: str, model: str) -> dict[str, Any]:
    """A copy of the client's body as Azure wants it: `model` is the deployment name (§3)."""
    prepared = dict(body)
    prepared["model"] = deployment
    if api == "responses":
        # Azure's Responses API refuses `stream_options` (braintrust-gateway.md §9).
        prepared.pop("stream_options", None)
    if (
        api == "chat_completions"
        and "max_tokens" in prepared
        and (_REASONING.match(model) or _REASONING.match(deployment))
    ):
        prepared.setdefault("max_completion_tokens", prepared.pop("max_tokens"))
        prepared.pop("max_tokens", None)
    return prepared
