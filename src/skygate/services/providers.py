"""AI providers: create, read, update, delete, with the secret sealed on the way in and never read back out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.crypto import new_id, seal_secret, secret_fingerprint
from skygate.domain.azure_rules import ProviderContext, ValidatedProvider, validate_create, validate_patch
from skygate.domain.inputs import ProviderCreate, ProviderPatch
from skygate.domain.records import Org, Principal, Provider
from skygate.errors import Conflict, NotFound
from skygate.services.audit import record
from skygate.services.orgs import resolve_org, resolve_project
from skygate.services.runtime import Runtime
from skygate.store import orgs as org_store
from skygate.store import providers as store

__all__ = ["create_provider", "delete_provider", "get_provider", "list_providers", "update_provider"]

# Previews of short secrets would give away too much of them.
_PREVIEW_MIN_LENGTH = 12


def _context(rt: Runtime, org: Org, project_id: str | None) -> ProviderContext:
    return ProviderContext(
        scope="project" if project_id else "org",
        org_gateway_enabled=org.gateway_enabled,
        public_issuer=rt.settings.has_public_issuer,
        allowed_hosts=rt.settings.allowed_upstream_hosts,
    )


def _apply(rt: Runtime, provider: Provider, valid: ValidatedProvider, actor: str, now: datetime) -> Provider:
    updated = replace(provider, name=valid.name, config=valid.config, updated_at=now, updated_by=actor)
    if valid.new_secret is not None:
        secret = valid.new_secret
        return replace(
            updated,
            sealed_secret=seal_secret(rt.keyring.master, secret, f"provider:{provider.id}:secret"),
            secret_preview=secret[-4:] if len(secret) >= _PREVIEW_MIN_LENGTH else None,
            secret_fingerprint=secret_fingerprint(rt.keyring.pepper, secret),
            secret_updated_at=now,
            secret_updated_by=actor,
        )
    if valid.drop_secret and provider.sealed_secret is not None:
        return replace(
            updated,
            sealed_secret=None,
            secret_preview=None,
            secret_fingerprint=None,
            secret_updated_at=now,
            secret_updated_by=actor,
        )
    return updated


def _changed_fields(old: dict[str, Any], new: dict[str, Any], secret_changed: bool) -> list[str]:
    changed = [k for k in new if k != "auth" and old.get(k) != new[k]]
    auth_old, auth_new = old.get("auth", {}), new["auth"]
    changed += [f"auth.{k}" for k in sorted(set(auth_old) | set(auth_new)) if auth_old.get(k) != auth_new.get(k)]
    return sorted(changed + (["auth.secret"] if secret_changed else []))


async def _owner(
    conn: AsyncConnection, principal: Principal, org_ref: str | None, project_ref: str | None, *, lock: bool = False
) -> tuple[Org, str | None]:
    """The org (locked when writing: its gateway_enabled decides what is allowed) and the project id, if any."""
    if project_ref is not None:
        project = await resolve_project(conn, principal, project_ref)
        org = await org_store.find_org(conn, project.org_id, lock=lock)
        assert org is not None
        return org, project.id
    assert org_ref is not None
    return await resolve_org(conn, principal, org_ref, lock=lock), None


async def _ensure_name_free(conn: AsyncConnection, provider: Provider) -> None:
    if await store.scope_name_taken(conn, provider):
        where = "this project" if provider.project_id else "this organization"
        raise Conflict(f"name: a provider named {provider.name!r} already exists in {where}")


async def create_provider(
    rt: Runtime, principal: Principal, body: ProviderCreate, *, org_ref: str | None = None,
    project_ref: str | None = None,
) -> Provider:  # fmt: skip
    """Under an organization (`org_ref`) or a project (`project_ref`); the URL decides the scope."""
    async with rt.transaction() as conn:
        org, project_id = await _owner(conn, principal, org_ref, project_ref, lock=True)
        valid = validate_create(body, _context(rt, org, project_id))
        now = datetime.now(UTC)
        blank = Provider(
            new_id("prov"),
            org.id,
            project_id,
            valid.name,
            body.type,
            {},
            None,
            None,
            None,
            None,
            None,
            now,
            principal.label,
            now,
            principal.label,
        )
        provider = _apply(rt, blank, valid, principal.label, now)
        await _ensure_name_free(conn, provider)
        await store.save_provider(conn, provider, new=True)
        await record(conn, principal, org.id, "provider.create", ("provider", provider.id), {
            "name": provider.name, "scope": provider.scope, "auth_method": valid.config["auth"]["method"],
            "api_base": valid.config["api_base"],
        })  # fmt: skip
    return provider


async def list_providers(
    rt: Runtime, principal: Principal, *, org_ref: str | None = None, project_ref: str | None = None
) -> list[Provider]:
    async with rt.engine.connect() as conn:
        org, project_id = await _owner(conn, principal, org_ref, project_ref)
        return await store.list_providers(conn, org.id, project_id)


async def _visible(conn: AsyncConnection, principal: Principal, provider_id: str, *, lock: bool = False) -> Provider:
    provider = await store.find_provider(conn, provider_id, lock=lock)
    if provider is None or not principal.sees(provider.org_id):
        raise NotFound(f"provider {provider_id!r} not found")
    return provider


async def get_provider(rt: Runtime, principal: Principal, provider_id: str) -> Provider:
    async with rt.engine.connect() as conn:
        return await _visible(conn, principal, provider_id)


async def update_provider(rt: Runtime, principal: Principal, provider_id: str, patch: ProviderPatch) -> Provider:
    async with rt.transaction() as conn:
        stored = await _visible(conn, principal, provider_id, lock=True)
        org = await org_store.find_org(conn, stored.org_id, lock=True)
        assert org is not None
        valid = validate_patch(stored, patch, _context(rt, org, stored.project_id))
        provider = _apply(rt, stored, valid, principal.label, datetime.now(UTC))
        await _ensure_name_free(conn, provider)
        await store.save_provider(conn, provider, new=False)
        secret_changed = provider.secret_fingerprint != stored.secret_fingerprint or (
            valid.new_secret is not None and stored.sealed_secret is not None
        )
        changed = _changed_fields(stored.config, provider.config, secret_changed)
        if provider.name != stored.name:
            changed.append("name")
        await record(
            conn,
            principal,
            org.id,
            "provider.update",
            ("provider", provider.id),
            {"name": provider.name, "changed": sorted(changed)},
        )
    return provider


async def delete_provider(rt: Runtime, principal: Principal, provider_id: str) -> None:
    async with rt.transaction() as conn:
        provider = await _visible(conn, principal, provider_id)
        await store.delete_provider(conn, provider.id)
        await record(
            conn,
            principal,
            provider.org_id,
            "provider.delete",
            ("provider", provider.id),
            {"name": provider.name, "scope": provider.scope},
        )
