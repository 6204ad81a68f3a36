"""What to fix, for each way an Azure or Entra call fails (reference §7, §9.5, §11, §12). Pure: the
connection test hands in what it saw and gets one sentence back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ProviderFacts", "fix_for_aadsts", "fix_for_upstream"]


@dataclass(frozen=True)
class ProviderFacts:
    api_base: str
    tenant_id: str | None
    client_id: str | None
    issuer: str | None
    subject: str | None
    deployment: str | None


def fix_for_aadsts(code: str | None, facts: ProviderFacts) -> str:
    fixes = {
        "AADSTS7000215": f"the client secret is wrong: paste the secret's Value (not its Secret ID) from "
        f"Certificates & secrets of app {facts.client_id} into auth.client_secret",
        "AADSTS7000222": "the client secret has expired: create a new one and put it in auth.client_secret",
        "AADSTS7000218": "no credential was sent: set auth.client_secret",
        "AADSTS700016": f"there is no app {facts.client_id} in tenant {facts.tenant_id}: check auth.client_id "
        "(Application (client) ID) and auth.tenant_id (Directory (tenant) ID)",
        "AADSTS90002": f"tenant {facts.tenant_id} does not exist in this cloud: check auth.tenant_id and "
        "auth.authority_host",
        "AADSTS70011": "auth.scope is not a valid scope: use https://cognitiveservices.azure.com/.default",
        "AADSTS1002012": "auth.scope must end in /.default, e.g. https://cognitiveservices.azure.com/.default",
        "AADSTS500011": "auth.scope names a resource this tenant does not know: use https://cognitiveservices.azure.com/.default",
        "AADSTS700211": f"set the federated credential's Issuer to {facts.issuer} (exactly, no trailing slash)",
        "AADSTS700212": "set the federated credential's Audience to api://AzureADTokenExchange",
        "AADSTS700213": f"set the federated credential's Value (subject identifier) to {facts.subject}",
        "AADSTS70021": f"no federated credential matches issuer {facts.issuer} and subject {facts.subject}; "
        "if you just created it, wait a few minutes for it to propagate",
        "AADSTS700024": "the assertion was outside its validity window: check this server's clock (NTP)",
        "AADSTS7000272": f"Entra did not find skygate's signing key at {facts.issuer}/.well-known/jwks.json: make sure "
        "that URL serves the current keys (after a key rotation, wait for the overlap to pass)",
        "AADSTS700027": "Entra could not verify the assertion's signature: check that SKYGATE_PUBLIC_URL serves this "
        "instance's JWKS",
        "AADSTS50166": f"Entra could not fetch {facts.issuer}/.well-known/openid-configuration: "
        "SKYGATE_PUBLIC_URL must be reachable from the internet over https with a publicly trusted certificate",
    }
    return fixes.get(
        code or "", "see the Entra error above; https://login.microsoftonline.com/error?code=<n> explains it"
    )


def _error(body: Any) -> dict[str, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def fix_for_upstream(status: int, body: Any, facts: ProviderFacts) -> str:
    error = _error(body)
    code, message = str(error.get("code", "")), str(error.get("message", ""))
    host = urlsplit(facts.api_base).hostname
    if status == 401 and code == "PermissionDenied":
        return (
            f"grant app {facts.client_id} the 'Cognitive Services OpenAI User' role on the resource at {host} "
            "(Access control (IAM) > Add role assignment)"
        )
    if status == 401 and isinstance(body, dict) and body.get("statusCode") == 401:
        return (
            "Azure refused the access token: check auth.scope (https://cognitiveservices.azure.com/.default) and "
            "that the tenant and app belong to the resource's directory"
        )
    # Azure's API-key refusal names the subscription key (reference §7); check it before the Entra case so a
    # key-auth provider is never told about app access.
    if status == 401 and ("subscription key" in message or facts.client_id is None):
        return (
            f"the API key is wrong for {host}: copy Key 1 from the resource's Keys and Endpoint page into auth.api_key"
        )
    if status == 401:
        return f"Azure refused the Entra token at {host}: check that the app has access to this resource"
    if status == 400 and "does not match resource tenant" in message:
        return "the token's tenant is not the resource's: set auth.tenant_id to the tenant that owns the resource"
    if status == 404 and code == "DeploymentNotFound":
        return (
            f"there is no deployment {facts.deployment!r} on {host}: models[].deployment must be the deployment "
            "name shown in the Foundry portal, not the model name"
        )
    if status == 404:
        return "api_base does not look like an Azure OpenAI / Foundry resource, or api_version is not supported there"
    if status == 429:
        return "the deployment is rate limited right now; the credentials work"
    return f"Azure answered {status}: {message or 'see detail'}"
