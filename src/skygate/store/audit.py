"""The append-only audit log: who changed what, when. Details never carry secret values."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.domain.records import AuditEvent
from skygate.store.tables import audit_events

__all__ = ["insert_event", "list_events"]


async def insert_event(conn: AsyncConnection, event: AuditEvent) -> None:
    await conn.execute(
        audit_events.insert().values(
            id=event.id,
            org_id=event.org_id,
            at=event.at,
            actor=event.actor,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            details=event.details,
        )
    )


async def list_events(conn: AsyncConnection, org_id: str, limit: int = 100) -> list[AuditEvent]:
    query = (
        sa.select(audit_events)
        .where(audit_events.c.org_id == org_id)
        .order_by(audit_events.c.at.desc(), audit_events.c.id.desc())
        .limit(limit)
    )
    return [
        AuditEvent(r.id, r.org_id, r.at, r.actor, r.action, r.target_type, r.target_id, r.details)
        for r in await conn.execute(query)
    ]
