"""Gateway keys and instance admin tokens; only their HMAC hashes are stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.domain.records import GatewayKey
from skygate.store.tables import admin_tokens, can_hold, gateway_keys

__all__ = [
    "find_admin_token",
    "find_key",
    "find_key_by_hash",
    "insert_admin_token",
    "insert_key",
    "key_from_row",
    "list_keys",
    "revoke_key",
    "touch_key",
]


def key_from_row(row: Any) -> GatewayKey:
    return GatewayKey(
        row.id, row.org_id, row.project_id, row.name, row.role, row.prefix,
        row.created_at, row.created_by, row.last_used_at, row.revoked_at,
    )  # fmt: skip


async def insert_key(conn: AsyncConnection, key: GatewayKey, key_hash: str) -> None:
    await conn.execute(
        gateway_keys.insert().values(
            id=key.id,
            org_id=key.org_id,
            project_id=key.project_id,
            name=key.name,
            role=key.role,
            key_hash=key_hash,
            prefix=key.prefix,
            created_at=key.created_at,
            created_by=key.created_by,
        )
    )


async def find_key(conn: AsyncConnection, key_id: str, *, lock: bool = False) -> GatewayKey | None:
    if not can_hold(key_id):
        return None
    query = sa.select(gateway_keys).where(gateway_keys.c.id == key_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return key_from_row(row) if row else None


async def find_key_by_hash(conn: AsyncConnection, key_hash: str) -> GatewayKey | None:
    row = (await conn.execute(sa.select(gateway_keys).where(gateway_keys.c.key_hash == key_hash))).first()
    return key_from_row(row) if row else None


async def list_keys(conn: AsyncConnection, org_id: str) -> list[GatewayKey]:
    query = sa.select(gateway_keys).where(gateway_keys.c.org_id == org_id).order_by(gateway_keys.c.created_at)
    return [key_from_row(r) for r in await conn.execute(query)]


async def revoke_key(conn: AsyncConnection, key_id: str, at: datetime) -> None:
    await conn.execute(gateway_keys.update().where(gateway_keys.c.id == key_id).values(revoked_at=at))


async def touch_key(conn: AsyncConnection, key_id: str, at: datetime) -> None:
    await conn.execute(gateway_keys.update().where(gateway_keys.c.id == key_id).values(last_used_at=at))


async def insert_admin_token(conn: AsyncConnection, token_id: str, token_hash: str, prefix: str, at: datetime) -> None:
    await conn.execute(admin_tokens.insert().values(id=token_id, token_hash=token_hash, prefix=prefix, created_at=at))


async def find_admin_token(conn: AsyncConnection, token_hash: str) -> str | None:
    """The id of the bootstrap admin token with this hash, if any."""
    query = sa.select(admin_tokens.c.id).where(admin_tokens.c.token_hash == token_hash)
    return (await conn.execute(query)).scalar_one_or_none()
