"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.crypto import new_id
from skygate.domain.records import AuditEvent, Principal
from skygate.store import audit as audit_store

__all__ = ["record"]


async def record(
    conn: AsyncConnection,
    actor: Principal,
    org_id: str | None,
    action: str,
    target: tuple[str, str],
    details: dict[str, Any] | None = None,
) -> None:
    """Append one event in the caller's transaction, so the change and its record commit together."""
    event = AuditEvent(
        new_id("aud"), org_id, datetime.now(UTC), actor.label, action, target[0], target[1], details or {}
    )
    await audit_store.insert_event(conn, event)
