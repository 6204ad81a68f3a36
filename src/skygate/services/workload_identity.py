"""The values an Azure admin enters for workload identity (SPEC §2), with ready-to-paste `az` commands."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any
from urllib.parse import urlsplit

from skygate.domain.records import Principal
from skygate.errors import ValidationFailed
from skygate.identity.signing import ASSERTION_AUDIENCE, workload_subject
from skygate.services.orgs import resolve_org
from skygate.services.runtime import Runtime
from skygate.store.providers import list_providers

__all__ = ["setup_values"]

_SUFFIX = re.compile(r"[A-Za-z0-9._-]{1,64}")


async def setup_values(rt: Runtime, principal: Principal, org_ref: str, subject_suffix: str) -> dict[str, Any]:
    if not _SUFFIX.fullmatch(subject_suffix):
        raise ValidationFailed.one("subject_suffix", "must be 1-64 characters of letters, digits, '.', '_' or '-'")
    if not rt.settings.has_public_issuer:
        raise ValidationFailed.one(
            "subject_suffix", "workload identity needs a public https issuer: set SKYGATE_PUBLIC_URL on this instance"
        )
    async with rt.engine.connect() as conn:
        org = await resolve_org(conn, principal, org_ref)
        providers = await list_providers(conn, org.id)
    issuer = rt.settings.public_url or ""
    subject = workload_subject(org.id, subject_suffix)
    match = next((p for p in providers if p.config["auth"].get("subject_suffix") == subject_suffix), None)
    client_id = match.config["auth"]["client_id"] if match else "<application-client-id>"
    resource = (urlsplit(match.config["api_base"]).hostname or "").split(".")[0] if match else "<resource-name>"
    credential = {
        "name": f"skygate-{subject_suffix}",
        "issuer": issuer,
        "subject": subject,
        "audiences": [ASSERTION_AUDIENCE],
    }
    scope = (
        f"$(az cognitiveservices account show --name {resource} --resource-group <resource-group> --query id -o tsv)"
    )
    parameters = shlex.quote(json.dumps(credential))
    return {
        "issuer": issuer,
        "subject": subject,
        "audience": ASSERTION_AUDIENCE,
        "provider_id": match.id if match else None,
        "az_commands": [
            f"az ad app federated-credential create --id {client_id} --parameters {parameters}",
            f'az role assignment create --assignee {client_id} --role "Cognitive Services OpenAI User" --scope {scope}',
        ],
        "gateway_enabled": org.gateway_enabled,
    }
