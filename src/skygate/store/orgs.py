"""Organizations and projects."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.domain.records import Org, Project
from skygate.store.tables import can_hold, orgs, projects

__all__ = [
    "find_org",
    "find_project",
    "insert_org",
    "insert_project",
    "list_orgs",
    "list_projects",
    "org_from_row",
    "project_from_row",
    "update_org",
]


def org_from_row(row: Any) -> Org:
    return Org(row.id, row.name, row.gateway_enabled, row.created_at, row.updated_at)


def project_from_row(row: Any) -> Project:
    return Project(row.id, row.org_id, row.name, row.created_at)


async def insert_org(conn: AsyncConnection, org: Org) -> None:
    await conn.execute(
        orgs.insert().values(
            id=org.id,
            name=org.name,
            gateway_enabled=org.gateway_enabled,
            created_at=org.created_at,
            updated_at=org.updated_at,
        )
    )


async def update_org(conn: AsyncConnection, org: Org) -> None:
    await conn.execute(
        orgs.update()
        .where(orgs.c.id == org.id)
        .values(name=org.name, gateway_enabled=org.gateway_enabled, updated_at=org.updated_at)
    )


async def find_org(conn: AsyncConnection, id_or_name: str, *, lock: bool = False) -> Org | None:
    """Ids are tried first; names never look like ids (`org_` + 22 base62 characters).

    `lock` holds the row until the transaction ends (PostgreSQL; SQLite transactions already hold the write lock).
    """
    if not can_hold(id_or_name):
        return None
    for column in (orgs.c.id, orgs.c.name):
        query = sa.select(orgs).where(column == id_or_name)
        row = (await conn.execute(query.with_for_update() if lock else query)).first()
        if row is not None:
            return org_from_row(row)
    return None


async def list_orgs(conn: AsyncConnection, only_id: str | None = None) -> list[Org]:
    query = sa.select(orgs).order_by(orgs.c.name)
    if only_id is not None:
        query = query.where(orgs.c.id == only_id)
    return [org_from_row(r) for r in await conn.execute(query)]


async def insert_project(conn: AsyncConnection, project: Project) -> None:
    await conn.execute(
        projects.insert().values(id=project.id, org_id=project.org_id, name=project.name, created_at=project.created_at)
    )


async def find_project(conn: AsyncConnection, id_or_name: str, org_id: str | None = None) -> Project | None:
    """By id anywhere, or by name within `org_id` (names are only unique inside an org)."""
    if not can_hold(id_or_name):
        return None
    row = (await conn.execute(sa.select(projects).where(projects.c.id == id_or_name))).first()
    if row is None and org_id is not None:
        query = sa.select(projects).where(projects.c.org_id == org_id, projects.c.name == id_or_name)
        row = (await conn.execute(query)).first()
    return project_from_row(row) if row else None


async def list_projects(conn: AsyncConnection, org_id: str) -> list[Project]:
    query = sa.select(projects).where(projects.c.org_id == org_id).order_by(projects.c.name)
    return [project_from_row(r) for r in await conn.execute(query)]
