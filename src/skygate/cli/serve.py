"""`skygate serve` and `skygate demo`: migrate, then run the ASGI app under uvicorn."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from skygate.app import create_app
from skygate.domain.inputs import KeyCreate, OrgCreate, ProjectCreate, ProviderCreate
from skygate.domain.records import Principal
from skygate.errors import SkygateError
from skygate.observability.logging import configure_logging
from skygate.services import keys, orgs, providers
from skygate.services.master_keys import load_master_keys
from skygate.services.runtime import open_runtime
from skygate.settings import Settings
from skygate.store.migrate import upgrade

__all__ = ["demo", "serve"]

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="TCP port.")]


def _prepare(settings: Settings) -> None:
    """Once, before any worker starts: logging, master key file, migrations."""
    configure_logging(settings.log_level)
    try:
        load_master_keys(settings)
        upgrade(settings.effective_database_url)
    except SkygateError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8080,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate chain for HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for HTTPS.")] = None,
) -> None:
    """Run the gateway (admin API, and the data plane as it lands)."""
    if (tls_cert is None) != (tls_key is None):
        typer.echo("error: --tls-cert and --tls-key go together", err=True)
        raise typer.Exit(1)
    _prepare(Settings())
    uvicorn.run(
        "skygate.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
        ssl_certfile=tls_cert, ssl_keyfile=tls_key, log_config=None, proxy_headers=False,
    )  # fmt: skip


async def _seed(settings: Settings) -> dict[str, str]:
    """The demo org: a project, an Azure provider, an admin key and an invoke key."""
    who = Principal("cli", "cli:demo")
    async with open_runtime(settings) as rt:
        org = await orgs.create_org(rt, who, OrgCreate(name="demo"))
        project = await orgs.create_project(rt, who, org.id, ProjectCreate(name="demo-app"))
        provider = await providers.create_provider(rt, who, ProviderCreate.model_validate({
            "name": "azure-demo", "type": "azure",
            "api_base": "https://demo-resource.services.ai.azure.com/api/projects/demo",
            "auth": {"method": "api_key", "api_key": secrets.token_hex(16)},
            "models": [{"deployment": "claude-sonnet-4-5", "api": "messages"}],
        }), org_ref=org.id)  # fmt: skip
        _, admin_key = await keys.create_key(rt, who, org.id, KeyCreate(name="demo-admin", role="admin"))
        _, invoke_key = await keys.create_key(
            rt, who, org.id, KeyCreate(name="demo-app", role="invoke", project_id=project.id)
        )
    return {"org": org.id, "provider": provider.id, "admin_key": admin_key, "invoke_key": invoke_key}


def demo(host: Host = "127.0.0.1", port: Port = 8080) -> None:
    """A throw-away instance with a seeded demo organization, and how to call it."""
    data_dir = Path(tempfile.mkdtemp(prefix="skygate-demo-"))
    settings = Settings(data_dir=data_dir, database_url=None, master_key=None)
    _prepare(settings)
    seeded = asyncio.run(_seed(settings))
    base = f"http://{host}:{port}/api/v1"
    typer.echo(f"""
skygate demo — data in {data_dir} (a temporary directory; remove it when done)

  admin key (org 'demo'):  {seeded["admin_key"]}
  invoke key (demo-app):   {seeded["invoke_key"]}

Try the admin API:
  curl -s -H 'Authorization: Bearer {seeded["admin_key"]}' {base}/orgs/demo/providers
  curl -s -H 'Authorization: Bearer {seeded["admin_key"]}' {base}/registry/azure
  open {base}/docs for the OpenAPI browser

The model endpoints (/v1/chat/completions, /v1/messages, ...) and the bundled Azure emulator come with
the next milestones; the demo provider points at a placeholder resource until then.
""")
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
