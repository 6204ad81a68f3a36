"""AI providers: non-secret config as JSON, the secret only as a sealed envelope."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.domain.records import Provider
from skygate.store.tables import can_hold, providers

__all__ = [
    "delete_provider",
    "find_provider",
    "list_providers",
    "provider_from_row",
    "save_provider",
    "scope_name_taken",
]


def provider_from_row(row: Any) -> Provider:
    return Provider(
        row.id, row.org_id, row.project_id, row.name, row.type, row.config, row.sealed_secret,
        row.secret_preview, row.secret_fingerprint, row.secret_updated_at, row.secret_updated_by,
        row.created_at, row.created_by, row.updated_at, row.updated_by,
    )  # fmt: skip


def _values(provider: Provider) -> dict[str, Any]:
    return {
        "org_id": provider.org_id,
        "project_id": provider.project_id,
        "scope_key": provider.project_id or "org",
        "name": provider.name,
        "type": provider.type,
        "config": provider.config,
        "sealed_secret": provider.sealed_secret,
        "secret_key_id": provider.sealed_secret.split(":")[1] if provider.sealed_secret else None,
        "secret_preview": provider.secret_preview,
        "secret_fingerprint": provider.secret_fingerprint,
        "secret_updated_at": provider.secret_updated_at,
        "secret_updated_by": provider.secret_updated_by,
        "updated_at": provider.updated_at,
        "updated_by": provider.updated_by,
    }


async def save_provider(conn: AsyncConnection, provider: Provider, *, new: bool) -> None:
    if new:
        values = _values(provider) | {
            "id": provider.id, "created_at": provider.created_at, "created_by": provider.created_by,
        }  # fmt: skip
        await conn.execute(providers.insert().values(**values))
    else:
        await conn.execute(providers.update().where(providers.c.id == provider.id).values(**_values(provider)))


async def find_provider(conn: AsyncConnection, provider_id: str, *, lock: bool = False) -> Provider | None:
    """`lock` holds the row until the transaction ends, so concurrent PATCHes apply one after the other."""
    if not can_hold(provider_id):
        return None
    query = sa.select(providers).where(providers.c.id == provider_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return provider_from_row(row) if row else None


async def list_providers(conn: AsyncConnection, org_id: str, project_id: str | None = None) -> list[Provider]:
    """Org-scope providers when `project_id` is None, else that project's own."""
    scope_key = project_id or "org"
    query = (
        sa.select(providers)
        .where(providers.c.org_id == org_id, providers.c.scope_key == scope_key)
        .order_by(providers.c.name)
    )
    return [provider_from_row(r) for r in await conn.execute(query)]


async def scope_name_taken(conn: AsyncConnection, provider: Provider) -> bool:
    query = sa.select(providers.c.id).where(
        providers.c.org_id == provider.org_id,
        providers.c.scope_key == (provider.project_id or "org"),
        providers.c.name == provider.name,
        providers.c.id != provider.id,
    )
    return (await conn.execute(query)).first() is not None


async def delete_provider(conn: AsyncConnection, provider_id: str) -> None:
    await conn.execute(providers.delete().where(providers.c.id == provider_id))
