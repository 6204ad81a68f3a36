"""`skygate admin …` and `skygate db …`: instance set-up and maintenance."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from skygate.cli.runner import emit, fail, parse_input, run_service
from skygate.crypto import MasterKey, parse_master_key
from skygate.domain.inputs import KeyCreate, OrgCreate
from skygate.domain.records import Principal
from skygate.errors import SkygateError
from skygate.services import keys, orgs
from skygate.services.rotation import rotate_master_key
from skygate.services.runtime import Runtime
from skygate.services.signing_keys import rotate_signing_key
from skygate.settings import Settings
from skygate.store.migrate import upgrade

__all__ = ["admin_app", "db_app"]

admin_app = typer.Typer(help="Instance administration.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (skygate serve also does this on start)."""
    settings = Settings()
    upgrade(settings.effective_database_url)
    typer.echo("database is at the latest schema")


@admin_app.command("bootstrap")
def bootstrap(
    org: Annotated[str | None, typer.Option(help="Also create this organization and an admin key for it.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create an instance admin token (printed once), and optionally a first organization with an admin key."""
    org_body = parse_input(OrgCreate, {"name": org}) if org else None

    async def run(rt: Runtime) -> dict[str, object]:
        result: dict[str, object] = {"admin_token": await keys.create_admin_token(rt)}
        if org_body is not None:
            principal = Principal("cli", "cli:bootstrap")
            created = await orgs.create_org(rt, principal, org_body)
            _, token = await keys.create_key(rt, principal, created.id, KeyCreate(name="bootstrap", role="admin"))
            result |= {"org": created.public(), "org_admin_key": token}
        return result

    result = run_service(run)
    emit(
        result,
        as_json,
        lambda r: (
            "\n".join(f"{k}: {v['id'] if isinstance(v, dict) else v}" for k, v in r.items())
            + "\nStore these now: they are not shown again."
        ),
    )


@admin_app.command("rotate-signing-key")
def rotate_signing(
    overlap_seconds: Annotated[
        float, typer.Option(min=0, help="Publish the new key this long before it signs (verifiers refresh JWKS).")
    ] = 600,
) -> None:
    """Add a new OIDC signing key; the previous one stays published, so no assertion in flight fails."""
    rotated = run_service(lambda rt: rotate_signing_key(rt, Principal("cli", "cli:rotate"), overlap_seconds))
    newest = rotated.keys[-1]
    typer.echo(f"published {len(rotated.keys)} keys; {newest.kid} signs from {overlap_seconds:g} s from now")


@admin_app.command("rotate-master-key")
def rotate(
    new_key: Annotated[
        str | None,
        typer.Option(
            envvar="SKYGATE_NEW_MASTER_KEY",
            help="The new key (base64 or hex, 32 bytes); generated if omitted.",
        ),
    ] = None,
) -> None:
    """Re-wrap every stored secret's data key under a new master key, in one transaction."""
    settings = Settings()
    try:
        key = parse_master_key(new_key) if new_key else MasterKey.generate()
        upgrade(settings.effective_database_url)
        changed, key_file = asyncio.run(rotate_master_key(settings, key))
    except SkygateError as exc:
        fail(exc.message)
    typer.echo(f"re-wrapped {changed} sealed values under master key {key.key_id}")
    if key_file is not None:
        typer.echo(f"the new key is in {key_file}")
    elif new_key is None:
        typer.echo(f"set SKYGATE_MASTER_KEY={key.encoded()} on every instance (shown once)")
    else:
        typer.echo("set SKYGATE_MASTER_KEY to the new key on every instance")
