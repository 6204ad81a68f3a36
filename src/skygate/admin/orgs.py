"""Routes for organizations, their projects and their audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from skygate.admin.auth import Caller, RuntimeDep
from skygate.domain.inputs import OrgCreate, OrgPatch, ProjectCreate
from skygate.services import orgs
from skygate.services.workload_identity import setup_values

__all__ = ["router"]

router = APIRouter(tags=["organizations"])


@router.post("/orgs", status_code=201)
async def create_org(body: OrgCreate, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await orgs.create_org(rt, caller, body)).public()


@router.get("/orgs")
async def list_orgs(rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return {"data": [o.public() for o in await orgs.list_orgs(rt, caller)]}


@router.get("/orgs/{org}")
async def get_org(org: str, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await orgs.get_org(rt, caller, org)).public()


@router.patch("/orgs/{org}")
async def update_org(org: str, body: OrgPatch, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await orgs.update_org(rt, caller, org, body)).public()


@router.post("/orgs/{org}/projects", status_code=201, tags=["projects"])
async def create_project(org: str, body: ProjectCreate, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await orgs.create_project(rt, caller, org, body)).public()


@router.get("/orgs/{org}/projects", tags=["projects"])
async def list_projects(org: str, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return {"data": [p.public() for p in await orgs.list_projects(rt, caller, org)]}


@router.get("/orgs/{org}/audit", tags=["audit"])
async def list_audit(
    org: str, rt: RuntimeDep, caller: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    return {"data": [e.public() for e in await orgs.list_audit(rt, caller, org, limit)]}


@router.get("/orgs/{org}/workload-identity", tags=["providers"])
async def workload_identity(org: str, subject_suffix: str, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    """The issuer, subject and audience for an Entra federated credential, and the `az` commands to create it."""
    return await setup_values(rt, caller, org, subject_suffix)
