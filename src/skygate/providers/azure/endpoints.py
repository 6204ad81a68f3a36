"""Which Azure hosts we talk to and how a pasted endpoint becomes the base URL we build routes on.

Pure functions: no I/O. The facts come from ../shared/reference/azure-behaviour.md §1 (host forms) and
SPEC §2 / §4 (normalisation table and the upstream host allow-list).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = [
    "AZURE_HOST_SUFFIXES",
    "DEFAULT_AUTHORITY_HOST",
    "DEFAULT_SCOPE",
    "ENTRA_AUTHORITY_HOSTS",
    "EndpointError",
    "host_is_allowed",
    "normalise_api_base",
    "normalise_authority_host",
]

# Azure OpenAI (classic and custom-subdomain) and Foundry hosts, public cloud and sovereign clouds (§1, SPEC §4).
AZURE_HOST_SUFFIXES = (
    ".openai.azure.com",
    ".cognitiveservices.azure.com",
    ".services.ai.azure.com",
    ".openai.azure.us",
    ".cognitiveservices.azure.us",
    ".services.ai.azure.us",
    ".openai.azure.cn",
    ".cognitiveservices.azure.cn",
    ".services.ai.azure.cn",
)

# Entra login hosts: global, US Government and the 21Vianet (China) cloud.
ENTRA_AUTHORITY_HOSTS = ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")
DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://cognitiveservices.azure.com/.default"

# What people paste that is not the resource base: SDK base URLs and API family prefixes (§1, §3, §5).
_STRIPPED_SUFFIXES = ("/openai/v1", "/openai", "/models", "/anthropic")
# A Foundry project endpoint names a project inside the resource; model routes live at the resource root (§1).
_PROJECT_PATH = re.compile(r"/api/projects/[^/]+$", re.IGNORECASE)


class EndpointError(ValueError):
    """The URL breaks a rule; the message names the rule."""


def host_is_allowed(host: str, port: int | None, allowed_hosts: tuple[str, ...]) -> bool:
    """An extra host from SKYGATE_ALLOWED_UPSTREAM_HOSTS matches by name, or by `name:port`."""
    return host in allowed_hosts or (port is not None and f"{host}:{port}" in allowed_hosts)


def _strip_path(path: str) -> str:
    while True:
        before = path
        path = path.rstrip("/")
        path = _PROJECT_PATH.sub("", path)
        for suffix in _STRIPPED_SUFFIXES:
            if path.lower().endswith(suffix):
                path = path[: -len(suffix)]
        if path == before:
            return path


def _split(raw: str) -> tuple[str, str, int | None, str]:
    if not raw.strip().isprintable() or " " in raw.strip() or len(raw) > 2048:
        raise EndpointError("must be a URL of at most 2048 characters without spaces or control characters")
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError as exc:
        raise EndpointError(f"is not a valid URL ({exc})") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise EndpointError("must be an absolute https:// URL, e.g. https://my-resource.openai.azure.com")
    if parts.username or parts.password:
        raise EndpointError("must not contain a user name or password")
    if parts.query or parts.fragment:
        raise EndpointError("must not contain a query string or fragment (put the api-version in api_version)")
    return parts.scheme, parts.hostname.lower(), port, parts.path


def normalise_api_base(raw: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    """Turn a pasted Azure endpoint into the resource base URL, or raise EndpointError naming the rule."""
    scheme, host, port, path = _split(raw)
    extra = host_is_allowed(host, port, allowed_hosts)
    if scheme == "http" and not extra:
        raise EndpointError("must use https (plain http only for hosts in SKYGATE_ALLOWED_UPSTREAM_HOSTS)")
    if not extra and not host.endswith(AZURE_HOST_SUFFIXES):
        raise EndpointError(
            f"host {host!r} is not an Azure OpenAI or Foundry host (*.openai.azure.com, "
            "*.cognitiveservices.azure.com, *.services.ai.azure.com or a sovereign-cloud counterpart); "
            "add it to SKYGATE_ALLOWED_UPSTREAM_HOSTS to allow it"
        )
    netloc = host if port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}{_strip_path(path)}"


def normalise_authority_host(raw: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    """Entra authority: https only, a known Entra cloud or an allowed extra host; no path."""
    scheme, host, port, path = _split(raw)
    if scheme != "https":
        raise EndpointError("must use https")
    if host not in ENTRA_AUTHORITY_HOSTS and not host_is_allowed(host, port, allowed_hosts):
        raise EndpointError(
            f"host {host!r} is not an Entra login host ({', '.join(ENTRA_AUTHORITY_HOSTS)}); "
            "add it to SKYGATE_ALLOWED_UPSTREAM_HOSTS to allow it"
        )
    if path.strip("/"):
        raise EndpointError("must be the login host only, without a path (the tenant goes in tenant_id)")
    netloc = host if port is None else f"{host}:{port}"
    return f"https://{netloc}"
