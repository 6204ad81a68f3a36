"""Routes for gateway keys: the full key is in the creation response and nowhere else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from skygate.admin.auth import Caller, RuntimeDep
from skygate.domain.inputs import KeyCreate
from skygate.services import keys

__all__ = ["router"]

router = APIRouter(tags=["keys"])


@router.post("/orgs/{org}/keys", status_code=201)
async def create_key(org: str, body: KeyCreate, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    record, token = await keys.create_key(rt, caller, org, body)
    return record.public() | {"key": token}


@router.get("/orgs/{org}/keys")
async def list_keys(org: str, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return {"data": [k.public() for k in await keys.list_keys(rt, caller, org)]}


@router.delete("/keys/{key_id}")
async def revoke_key(key_id: str, rt: RuntimeDep, caller: Caller) -> dict[str, Any]:
    return (await keys.revoke_key(rt, caller, key_id)).public()
