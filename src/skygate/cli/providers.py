"""`skygate providers …`: AI providers, from flags or from a JSON body shaped like the admin API's."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from skygate.cli.runner import cli_principal, emit, fail, parse_input, run_service
from skygate.domain.inputs import ProviderCreate, ProviderPatch
from skygate.domain.records import Provider
from skygate.gateway.connection_test import run_connection_test
from skygate.gateway.upstream_client import create_upstream_client
from skygate.services import providers
from skygate.services.runtime import Runtime
from skygate.services.signing_keys import load_signing_keys

__all__ = ["providers_app"]

providers_app = typer.Typer(help="AI providers (Azure OpenAI / Azure AI Foundry).", no_args_is_help=True)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]
FromFile = Annotated[
    str | None, typer.Option("--from-file", help="JSON body as the admin API takes it ('-' reads stdin).")
]
ApiBase = Annotated[str | None, typer.Option(help="Azure endpoint; Foundry project endpoints are normalised.")]
Method = Annotated[str | None, typer.Option(help="api_key | entra_client_secret | workload_identity.")]
ApiKey = Annotated[str | None, typer.Option(envvar="SKYGATE_PROVIDER_API_KEY", help="Write-only.")]
ClientSecret = Annotated[str | None, typer.Option(envvar="SKYGATE_PROVIDER_CLIENT_SECRET", help="Write-only.")]
Models = Annotated[
    list[str] | None,
    typer.Option("--model", help="DEPLOYMENT:API[:ALIAS], API = chat_completions|responses|messages."),
]
Headers = Annotated[list[str] | None, typer.Option("--header", help="NAME=VALUE sent upstream.")]
DefaultRegistry = Annotated[bool | None, typer.Option("--default-registry/--no-default-registry")]


def _read_body(source: str | None) -> dict[str, Any]:
    if source is None:
        return {}
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text()
        body = json.loads(text)
    except OSError as exc:
        fail(f"--from-file: cannot read {source}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"--from-file: not valid JSON ({exc})")
    if not isinstance(body, dict):
        fail("--from-file: must hold a JSON object")
    return body


def _model(spec: str) -> dict[str, str]:
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        fail(f"--model {spec!r}: expected DEPLOYMENT:API or DEPLOYMENT:API:ALIAS")
    entry = {"deployment": parts[0], "api": parts[1]}
    return entry | ({"alias": parts[2]} if len(parts) == 3 else {})


def _header(spec: str) -> tuple[str, str]:
    name, sep, value = spec.partition("=")
    if not sep or not name:
        fail(f"--header {spec!r}: expected NAME=VALUE")
    return name, value


_AUTH_FLAGS = (
    "auth_method",
    "api_key",
    "tenant_id",
    "client_id",
    "client_secret",
    "scope",
    "subject_suffix",
    "authority_host",
)


def _request_body(from_file: str | None, flags: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the command's flags describe, over --from-file. Only flags that were given take part,
    so an update stays a partial PATCH."""
    body = _read_body(from_file)
    top = {
        "name": flags.get("name"),
        "api_base": flags["api_base"],
        "include_default_registry": flags["default_registry"],
        "models": [_model(m) for m in flags["model"]] if flags["model"] else None,
        "api_version": flags["api_version"],
        "additional_headers": dict(_header(h) for h in flags["header"]) if flags["header"] else None,
    }
    body.update({k: v for k, v in top.items() if v is not None})
    auth = {("method" if f == "auth_method" else f): flags[f] for f in _AUTH_FLAGS if flags[f] is not None}
    if auth:
        body["auth"] = {**body.get("auth", {}), **auth}
    return body


def _line(p: dict[str, Any]) -> str:
    secret = f"…{p['auth']['secret_preview']}" if p["auth"].get("secret_preview") else "-"
    return f"{p['id']}  {p['name']}  {p['scope']}  {p['auth']['method']}  {p['api_base']}  secret={secret}"


@providers_app.command("create")
def create(
    name: Annotated[str | None, typer.Argument(help="Provider name (or give it in --from-file).")] = None,
    org: Annotated[str | None, typer.Option(help="Organization id or name (org-level provider).")] = None,
    project: Annotated[str | None, typer.Option(help="Project id (project-level provider).")] = None,
    api_base: ApiBase = None,
    auth_method: Method = None,
    api_key: ApiKey = None,
    tenant_id: str | None = None,
    client_id: str | None = None,
    client_secret: ClientSecret = None,
    scope: str | None = None,
    subject_suffix: str | None = None,
    authority_host: str | None = None,
    default_registry: DefaultRegistry = None,
    model: Models = None,
    api_version: str | None = None,
    header: Headers = None,
    from_file: FromFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an organization or project provider."""
    flags = dict(locals())
    if (org is None) == (project is None):
        fail("give exactly one of --org (organization provider) or --project (project provider)")
    body = parse_input(ProviderCreate, {"type": "azure"} | _request_body(from_file, flags))
    created = run_service(
        lambda rt: providers.create_provider(rt, cli_principal(), body, org_ref=org, project_ref=project)
    )
    emit(created.public(), as_json, _line)


@providers_app.command("update")
def update(
    provider_id: str,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    api_base: ApiBase = None,
    auth_method: Method = None,
    api_key: ApiKey = None,
    tenant_id: str | None = None,
    client_id: str | None = None,
    client_secret: ClientSecret = None,
    scope: str | None = None,
    subject_suffix: str | None = None,
    authority_host: str | None = None,
    default_registry: DefaultRegistry = None,
    model: Models = None,
    api_version: str | None = None,
    header: Headers = None,
    from_file: FromFile = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a provider; omitted settings, and the secret, are kept."""
    flags = dict(locals())
    patch = parse_input(ProviderPatch, _request_body(from_file, flags))
    updated = run_service(lambda rt: providers.update_provider(rt, cli_principal(), provider_id, patch))
    emit(updated.public(), as_json, _line)


@providers_app.command("list")
def list_(
    org: Annotated[str | None, typer.Option(help="Organization id or name.")] = None,
    project: Annotated[str | None, typer.Option(help="Project id.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Organization providers (--org) or a project's own providers (--project)."""
    if (org is None) == (project is None):
        fail("give exactly one of --org or --project")
    rows = run_service(lambda rt: providers.list_providers(rt, cli_principal(), org_ref=org, project_ref=project))
    emit([p.public() for p in rows], as_json, lambda rs: "\n".join(_line(r) for r in rs) or "(none)")


@providers_app.command("get")
def get(provider_id: str, as_json: JsonFlag = False) -> None:
    emit(
        run_service(lambda rt: providers.get_provider(rt, cli_principal(), provider_id)).public(),
        as_json,
        _line,
    )


@providers_app.command("delete")
def delete(provider_id: str, as_json: JsonFlag = False) -> None:
    run_service(lambda rt: providers.delete_provider(rt, cli_principal(), provider_id))
    emit({"id": provider_id, "deleted": True}, as_json, lambda d: f"deleted {d['id']}")


async def _resolve(rt: Runtime, ref: str, org: str | None) -> Provider:
    if org is None:
        return await providers.get_provider(rt, cli_principal(), ref)
    for provider in await providers.list_providers(rt, cli_principal(), org_ref=org):
        if provider.name == ref or provider.id == ref:
            return provider
    fail(f"no organization provider named {ref!r} in {org!r}")


@providers_app.command("test")
def check_connection(
    provider: Annotated[str, typer.Argument(help="Provider id, or its name with --org.")],
    org: Annotated[str | None, typer.Option(help="Organization id or name, to find the provider by name.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Run the real chain (configuration, Entra token, a minimal upstream call) and say what to fix."""

    async def run(rt: Runtime) -> dict[str, Any]:
        found = await _resolve(rt, provider, org)
        async with create_upstream_client(rt.settings) as client:
            return await run_connection_test(rt, found, client, await load_signing_keys(rt))

    report = run_service(run)

    def human(r: dict[str, Any]) -> str:
        lines = [
            f"{'ok  ' if s['ok'] else 'FAIL'} {s['name']}: {s['detail']}"
            + (f"\n     fix: {s['fix']}" if s["fix"] else "")
            for s in r["stages"]
        ]
        return "\n".join(lines)

    emit(report, as_json, human)
    if not report["ok"]:
        raise typer.Exit(1)
