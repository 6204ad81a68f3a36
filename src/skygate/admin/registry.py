"""Route for the built-in Azure model registry."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from skygate.admin.auth import Caller, RuntimeDep

__all__ = ["router"]

router = APIRouter(tags=["registry"])


@router.get("/registry/azure")
async def azure_registry(rt: RuntimeDep, _caller: Caller) -> dict[str, Any]:
    registry = rt.registry
    return {"source": registry.source, "data": [m.public() for m in registry.models]}
