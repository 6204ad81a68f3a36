"""Everything the gateway's in-memory routing needs, read in one pass (four queries, whatever the size)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.domain.records import GatewayKey, Org, Project, Provider
from skygate.store.keys import key_from_row
from skygate.store.orgs import org_from_row, project_from_row
from skygate.store.providers import provider_from_row
from skygate.store.tables import gateway_keys, orgs, projects, providers
from skygate.store.version import read_version

__all__ = ["StoredConfig", "load_config"]


@dataclass(slots=True, frozen=True)
class StoredConfig:
    version: int
    orgs: list[Org]
    projects: list[Project]
    keys: list[tuple[GatewayKey, str]]  # with the key hash
    providers: list[Provider]


async def load_config(conn: AsyncConnection) -> StoredConfig:
    version = await read_version(conn)
    key_rows = (await conn.execute(sa.select(gateway_keys))).all()
    return StoredConfig(
        version=version,
        orgs=[org_from_row(r) for r in await conn.execute(sa.select(orgs))],
        projects=[project_from_row(r) for r in await conn.execute(sa.select(projects))],
        keys=[(key_from_row(r), r.key_hash) for r in key_rows],
        providers=[provider_from_row(r) for r in await conn.execute(sa.select(providers))],
    )
