"""Routes for AI providers at organization and project scope."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from skygate.admin.auth import Caller, RuntimeDep
from skygate.domain.inputs import ProviderCreate, ProviderPatch
from skygate.gateway.connection_test import run_connection_test
from skygate.services import providers

__all__ = ["router"]

router = APIRouter(tags=["providers"])


@router.post("/orgs/{org}/providers", status_code=201)
async def create_org_provider(org: str, body: ProviderCreate, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await providers.create_provider(rt, caller, body, org_ref=org)).public()


@router.post("/projects/{project}/providers", status_code=201)
async def create_project_provider(project: str, body: ProviderCreate, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await providers.create_provider(rt, caller, body, project_ref=project)).public()


@router.get("/orgs/{org}/providers")
async def list_org_providers(org: str, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return {"data": [p.public() for p in await providers.list_providers(rt, caller, org_ref=org)]}


@router.get("/projects/{project}/providers")
async def list_project_providers(project: str, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return {"data": [p.public() for p in await providers.list_providers(rt, caller, project_ref=project)]}


@router.get("/providers/{provider_id}")
async def get_provider(provider_id: str, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await providers.get_provider(rt, caller, provider_id)).public()


@router.patch("/providers/{provider_id}")
async def update_provider(provider_id: str, body: ProviderPatch, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await providers.update_provider(rt, caller, provider_id, body)).public()


@router.post("/providers/{provider_id}/test")
async def test_provider(provider_id: str, request: Request, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    """Runs configuration → Entra token → a minimal upstream call; each stage says what to fix."""
    provider = await providers.get_provider(rt, caller, provider_id)
    gateway = request.app.state.gateway
    return await run_connection_test(rt, provider, gateway.client, gateway.snapshot.signing_keys)


@router.delete("/providers/{provider_id}", status_code=204)
async def delete_provider(provider_id: str, rt: RuntimeDep, caller: Caller) -> Response:
    await providers.delete_provider(rt, caller, provider_id)
    return Response(status_code=204)
