"""`skygate demo`: a throw-away gateway next to the bundled Azure emulator, seeded so that it can be called."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from skygate.app import create_app
from skygate.cli.serve import prepare
from skygate.domain.inputs import KeyCreate, OrgCreate, ProjectCreate, ProviderCreate
from skygate.domain.records import Principal
from skygate.gateway.server_protocol import HTTP_PROTOCOL
from skygate.services import keys, orgs, providers
from skygate.services.runtime import open_runtime
from skygate.settings import Settings

__all__ = ["demo"]


async def _seed(settings: Settings, api_base: str, api_key: str) -> dict[str, str]:
    """The demo org: a project, an Azure provider on the emulator, an admin key and an invoke key."""
    who = Principal("cli", "cli:demo")
    async with open_runtime(settings) as rt:
        org = await orgs.create_org(rt, who, OrgCreate(name="demo"))
        project = await orgs.create_project(rt, who, org.id, ProjectCreate(name="demo-app"))
        body = ProviderCreate.model_validate({
            "name": "azure-demo", "type": "azure", "api_base": api_base,
            "auth": {"method": "api_key", "api_key": api_key},
            "models": [{"deployment": "claude-sonnet-4-5", "api": "messages"}],
        })  # fmt: skip
        provider = await providers.create_provider(rt, who, body, org_ref=org.id)
        _, admin_key = await keys.create_key(rt, who, org.id, KeyCreate(name="demo-admin", role="admin"))
        invoke = KeyCreate(name="demo-app", role="invoke", project_id=project.id)
        _, invoke_key = await keys.create_key(rt, who, org.id, invoke)
    return {"org": org.id, "provider": provider.id, "admin_key": admin_key, "invoke_key": invoke_key}


def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port of the gateway.")] = 8080,
) -> None:
    """A throw-away gateway and Azure emulator with a seeded demo organization, and how to call them."""
    # The CLI is the one place that starts the emulator; the gateway itself never imports it.
    from skygate_emulator.server import running_emulator
    from skygate_emulator.state import DEMO_KEY

    data_dir = Path(tempfile.mkdtemp(prefix="skygate-demo-"))
    with running_emulator(data_dir / "emulator-tls") as emulator:
        settings = Settings(data_dir=data_dir, database_url=None, master_key=None,
                            allowed_upstream_hosts=("127.0.0.1",), ca_bundle=emulator.ca_file)  # fmt: skip
        prepare(settings)
        seeded = asyncio.run(_seed(settings, emulator.url, DEMO_KEY))
        base = f"http://{host}:{port}/api/v1"
        bearer = f"-H 'Authorization: Bearer {seeded['admin_key']}'"
        typer.echo(f"""
skygate demo — data in {data_dir} (a temporary directory; remove it when done)

  gateway:        http://{host}:{port}
  settings pages: http://{host}:{port}/settings  (sign in with the admin key below)
  Azure emulator: {emulator.url}  (test CA: {emulator.ca_file})
  admin key (org 'demo'):  {seeded["admin_key"]}
  invoke key (demo-app):   {seeded["invoke_key"]}

Try the admin API:
  curl -s {bearer} {base}/orgs/demo/providers
  curl -s {bearer} {base}/registry/azure
  open {base}/docs for the OpenAPI browser

Call a model through the gateway (Claude on the emulated Foundry resource, GPT from the default registry):
  curl -s http://{host}:{port}/v1/chat/completions -H 'Authorization: Bearer {seeded["invoke_key"]}' \\
    -H 'content-type: application/json' -d '{{"model": "gpt-4o", "messages": [{{"role": "user", "content": "hi"}}]}}'

  python - <<'PY'
  from openai import OpenAI
  from anthropic import Anthropic
  gpt = OpenAI(base_url="http://{host}:{port}/v1", api_key="{seeded["invoke_key"]}")
  reply = gpt.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "hi"}}])
  print(reply.choices[0].message.content)
  claude = Anthropic(base_url="http://{host}:{port}", api_key="{seeded["invoke_key"]}")
  print(claude.messages.create(model="claude-sonnet-4-5", max_tokens=200,
                               messages=[{{"role": "user", "content": "hi"}}]).content[0].text)
  # any SDK reaches any model: the OpenAI SDK on Claude, the Anthropic SDK on GPT
  print(gpt.chat.completions.create(model="claude-sonnet-4-5",
                                    messages=[{{"role": "user", "content": "hi"}}]).choices[0].message.content)
  print(claude.messages.create(model="gpt-4o", max_tokens=200,
                               messages=[{{"role": "user", "content": "hi"}}]).content[0].text)
  PY
""")
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=settings.access_log,
                    http=HTTP_PROTOCOL)  # fmt: skip
