"""Instance-wide sealed secrets (the key-hashing pepper, later the OIDC signing keys) and master-key rotation."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.crypto import MasterKey, rewrap_secret
from skygate.store.tables import instance_secrets, providers

__all__ = ["get_instance_secret", "insert_instance_secret", "replace_instance_secret", "rewrap_all"]


async def get_instance_secret(conn: AsyncConnection, name: str) -> str | None:
    query = sa.select(instance_secrets.c.sealed).where(instance_secrets.c.name == name)
    return (await conn.execute(query)).scalar_one_or_none()


async def insert_instance_secret(conn: AsyncConnection, name: str, sealed: str, key_id: str) -> None:
    await conn.execute(
        instance_secrets.insert().values(name=name, sealed=sealed, key_id=key_id, created_at=datetime.now(UTC))
    )


async def replace_instance_secret(conn: AsyncConnection, name: str, sealed: str, key_id: str) -> None:
    await conn.execute(
        instance_secrets.update().where(instance_secrets.c.name == name).values(sealed=sealed, key_id=key_id)
    )


async def rewrap_all(conn: AsyncConnection, openers: dict[str, MasterKey], new: MasterKey) -> int:
    """Re-wrap every sealed value under `new`, in the caller's transaction; returns how many changed."""
    changed = 0
    rows = await conn.execute(sa.select(instance_secrets.c.name, instance_secrets.c.sealed))
    for name, sealed in rows.all():
        await conn.execute(
            instance_secrets.update()
            .where(instance_secrets.c.name == name)
            .values(sealed=rewrap_secret(sealed, openers, new), key_id=new.key_id)
        )
        changed += 1
    rows = await conn.execute(
        sa.select(providers.c.id, providers.c.sealed_secret).where(providers.c.sealed_secret.is_not(None))
    )
    for provider_id, sealed in rows.all():
        await conn.execute(
            providers.update()
            .where(providers.c.id == provider_id)
            .values(sealed_secret=rewrap_secret(sealed, openers, new), secret_key_id=new.key_id)
        )
        changed += 1
    return changed
