"""Organizations and projects, and who may see them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.crypto import new_id
from skygate.domain.inputs import OrgCreate, OrgPatch, ProjectCreate
from skygate.domain.records import AuditEvent, Org, Principal, Project
from skygate.errors import Conflict, Forbidden, NotFound, ValidationFailed
from skygate.services.audit import record
from skygate.services.runtime import Runtime
from skygate.store import orgs as store
from skygate.store.audit import list_events
from skygate.store.providers import list_providers

__all__ = [
    "create_org",
    "create_project",
    "get_org",
    "list_audit",
    "list_orgs",
    "list_projects",
    "resolve_org",
    "resolve_project",
    "update_org",
]


async def resolve_org(conn: AsyncConnection, principal: Principal, ref: str, *, lock: bool = False) -> Org:
    """By id or name. Another org's key gets the same 404 as a missing org: ids are not an oracle."""
    org = await store.find_org(conn, ref, lock=lock)
    if org is None or not principal.sees(org.id):
        raise NotFound(f"organization {ref!r} not found")
    return org


async def resolve_project(conn: AsyncConnection, principal: Principal, ref: str) -> Project:
    project = await store.find_project(conn, ref)
    if project is None or not principal.sees(project.org_id):
        raise NotFound(f"project {ref!r} not found")
    return project


async def create_org(rt: Runtime, principal: Principal, body: OrgCreate) -> Org:
    if not principal.is_instance_admin:
        raise Forbidden("only the instance admin token can create organizations")
    now = datetime.now(UTC)
    org = Org(new_id("org"), body.name, body.gateway_enabled, now, now)
    async with rt.transaction() as conn:
        if await store.find_org(conn, body.name):
            raise Conflict(f"name: an organization named {body.name!r} already exists")
        await store.insert_org(conn, org)
        await record(
            conn,
            principal,
            org.id,
            "org.create",
            ("org", org.id),
            {"name": org.name, "gateway_enabled": org.gateway_enabled},
        )
    return org


async def list_orgs(rt: Runtime, principal: Principal) -> list[Org]:
    async with rt.engine.connect() as conn:
        return await store.list_orgs(conn, only_id=principal.org_id)


async def get_org(rt: Runtime, principal: Principal, ref: str) -> Org:
    async with rt.engine.connect() as conn:
        return await resolve_org(conn, principal, ref)


async def update_org(rt: Runtime, principal: Principal, ref: str, patch: OrgPatch) -> Org:
    async with rt.transaction() as conn:
        # Locked: provider creation locks the org too, so the workload-identity check below cannot race one.
        org = await resolve_org(conn, principal, ref, lock=True)
        changes = patch.model_dump(exclude_unset=True, exclude_none=True)
        if changes.get("name", org.name) != org.name and await store.find_org(conn, changes["name"]):
            # Deliberately vague: an org admin must not learn which names other organizations use.
            raise Conflict(f"name: {changes['name']!r} is not available")
        if changes.get("gateway_enabled") is False:
            wi = [
                p.name for p in await list_providers(conn, org.id) if p.config["auth"]["method"] == "workload_identity"
            ]
            if wi:
                raise ValidationFailed.one(
                    "gateway_enabled",
                    "cannot be false while workload_identity providers exist "
                    f"({', '.join(wi)}); switch them to another auth method first",
                )
        updated = replace(org, **changes, updated_at=datetime.now(UTC))
        await store.update_org(conn, updated)
        await record(conn, principal, org.id, "org.update", ("org", org.id), {"changed": sorted(changes)})
    return updated


async def create_project(rt: Runtime, principal: Principal, org_ref: str, body: ProjectCreate) -> Project:
    async with rt.transaction() as conn:
        org = await resolve_org(conn, principal, org_ref)
        if await store.find_project(conn, body.name, org_id=org.id):
            raise Conflict(f"name: a project named {body.name!r} already exists in {org.name!r}")
        project = Project(new_id("proj"), org.id, body.name, datetime.now(UTC))
        await store.insert_project(conn, project)
        await record(conn, principal, org.id, "project.create", ("project", project.id), {"name": project.name})
    return project


async def list_projects(rt: Runtime, principal: Principal, org_ref: str) -> list[Project]:
    async with rt.engine.connect() as conn:
        org = await resolve_org(conn, principal, org_ref)
        return await store.list_projects(conn, org.id)


async def list_audit(rt: Runtime, principal: Principal, org_ref: str, limit: int = 100) -> list[AuditEvent]:
    async with rt.engine.connect() as conn:
        org = await resolve_org(conn, principal, org_ref)
        return await list_events(conn, org.id, limit)
