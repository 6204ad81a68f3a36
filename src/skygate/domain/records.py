"""The records the store returns and the services hand to the web layers, with their public JSON views."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

__all__ = ["AuditEvent", "GatewayKey", "Org", "Principal", "Project", "Provider", "iso"]

KeyRole = Literal["admin", "invoke"]


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is acting: the instance admin, an org admin key, or a local CLI operator."""

    kind: Literal["instance_admin", "org_admin", "cli"]
    label: str
    org_id: str | None = None

    @property
    def is_instance_admin(self) -> bool:
        return self.kind in ("instance_admin", "cli")

    def sees(self, org_id: str) -> bool:
        """Org admin keys see their own organization only; everything else answers as if it did not exist."""
        return self.org_id is None or self.org_id == org_id


@dataclass(slots=True, frozen=True)
class Org:
    id: str
    name: str
    gateway_enabled: bool
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "gateway_enabled": self.gateway_enabled,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(slots=True, frozen=True)
class Project:
    id: str
    org_id: str
    name: str
    created_at: datetime

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "org_id": self.org_id, "name": self.name, "created_at": iso(self.created_at)}


@dataclass(slots=True, frozen=True)
class GatewayKey:
    id: str
    org_id: str
    project_id: str | None
    name: str
    role: KeyRole
    prefix: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org_id": self.org_id,
            "project_id": self.project_id,
            "name": self.name,
            "role": self.role,
            "prefix": self.prefix,
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
        }


@dataclass(slots=True, frozen=True)
class Provider:
    """A stored provider. `config` holds every non-secret setting; the secret is only ever sealed."""

    id: str
    org_id: str
    project_id: str | None
    name: str
    type: str
    config: dict[str, Any]
    sealed_secret: str | None
    secret_preview: str | None
    secret_fingerprint: str | None
    secret_updated_at: datetime | None
    secret_updated_by: str | None
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    @property
    def scope(self) -> Literal["org", "project"]:
        return "project" if self.project_id else "org"

    def public(self) -> dict[str, Any]:
        auth = dict(self.config["auth"])
        auth.update(
            secret_preview=self.secret_preview,
            secret_fingerprint=self.secret_fingerprint,
            secret_updated_at=iso(self.secret_updated_at),
            secret_updated_by=self.secret_updated_by,
        )
        return {
            "id": self.id,
            "name": self.name,
            "type": self.type,
            "scope": self.scope,
            "org_id": self.org_id,
            "project_id": self.project_id,
            "api_base": self.config["api_base"],
            "api_base_input": self.config["api_base_input"],
            "auth": auth,
            "include_default_registry": self.config["include_default_registry"],
            "models": self.config["models"],
            "api_version": self.config["api_version"],
            "additional_headers": self.config["additional_headers"],
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "updated_at": iso(self.updated_at),
            "updated_by": self.updated_by,
        }


@dataclass(slots=True, frozen=True)
class AuditEvent:
    id: str
    org_id: str | None
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "org_id": self.org_id,
            "at": iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "details": self.details,
        }
