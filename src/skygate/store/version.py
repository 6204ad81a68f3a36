"""The configuration version: bumped by every admin change, polled by the gateway's in-memory caches."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.store.tables import config_version

__all__ = ["bump_version", "read_version"]


async def bump_version(conn: AsyncConnection) -> None:
    await conn.execute(
        config_version.update().where(config_version.c.id == 1).values(version=config_version.c.version + 1)
    )


async def read_version(conn: AsyncConnection) -> int:
    value = (await conn.execute(sa.select(config_version.c.version).where(config_version.c.id == 1))).scalar_one()
    return int(value)
