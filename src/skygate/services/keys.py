"""Gateway keys and instance admin tokens: minting, listing, revoking, and turning a bearer token into a Principal."""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from skygate.crypto import generate_token, hash_token, new_id
from skygate.domain.inputs import KeyCreate
from skygate.domain.records import GatewayKey, Principal
from skygate.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from skygate.services.audit import record
from skygate.services.orgs import resolve_org
from skygate.services.runtime import Runtime
from skygate.store import keys as store
from skygate.store.orgs import find_project

__all__ = [
    "ADMIN_TOKEN_PREFIX",
    "KEY_PREFIX",
    "authenticate_admin",
    "create_admin_token",
    "create_key",
    "list_keys",
    "revoke_key",
]

KEY_PREFIX = "sk-sg-"
ADMIN_TOKEN_PREFIX = "sk-sgadmin-"
_DISPLAY_CHARS = 12
# last_used_at is informative; writing it on every call would turn reads into writes.
_TOUCH_INTERVAL = timedelta(minutes=1)


async def create_key(rt: Runtime, principal: Principal, org_ref: str, body: KeyCreate) -> tuple[GatewayKey, str]:
    """Returns the record and the full key, which exists only in this return value."""
    token = generate_token(KEY_PREFIX)
    async with rt.transaction() as conn:
        org = await resolve_org(conn, principal, org_ref)
        if body.project_id is not None and body.role == "admin":
            raise ValidationFailed.one(
                "project_id", "only invoke keys can be bound to a project; admin keys manage the whole organization"
            )
        if body.project_id is not None:
            project = await find_project(conn, body.project_id)
            if project is None or project.org_id != org.id:
                raise ValidationFailed.one("project_id", f"no project {body.project_id!r} in organization {org.name!r}")
        key = GatewayKey(
            new_id("key"), org.id, body.project_id, body.name, body.role, token[:_DISPLAY_CHARS],
            datetime.now(UTC), principal.label, None, None,
        )  # fmt: skip
        await store.insert_key(conn, key, hash_token(rt.keyring.pepper, token))
        await record(
            conn,
            principal,
            org.id,
            "key.create",
            ("key", key.id),
            {"name": key.name, "role": key.role, "project_id": key.project_id, "prefix": key.prefix},
        )
    return key, token


async def list_keys(rt: Runtime, principal: Principal, org_ref: str) -> list[GatewayKey]:
    async with rt.engine.connect() as conn:
        org = await resolve_org(conn, principal, org_ref)
        return await store.list_keys(conn, org.id)


async def revoke_key(rt: Runtime, principal: Principal, key_id: str) -> GatewayKey:
    async with rt.transaction() as conn:
        key = await store.find_key(conn, key_id, lock=True)
        if key is None or not principal.sees(key.org_id):
            raise NotFound(f"key {key_id!r} not found")
        if key.revoked_at is not None:
            return key
        now = datetime.now(UTC)
        await store.revoke_key(conn, key.id, now)
        await record(conn, principal, key.org_id, "key.revoke", ("key", key.id), {"name": key.name})
    return replace(key, revoked_at=now)


async def create_admin_token(rt: Runtime) -> str:
    """`skygate admin bootstrap`: a new instance admin token, stored only as its hash."""
    token = generate_token(ADMIN_TOKEN_PREFIX)
    async with rt.transaction() as conn:
        token_id = new_id("adm")
        await store.insert_admin_token(
            conn, token_id, hash_token(rt.keyring.pepper, token), token[: len(ADMIN_TOKEN_PREFIX) + 4],
            datetime.now(UTC),
        )  # fmt: skip
        await record(conn, Principal("cli", "cli"), None, "admin_token.create", ("admin_token", token_id))
    return token


async def authenticate_admin(rt: Runtime, token: str) -> Principal:
    """Who may use /api: the instance admin token or an org admin key. Invoke keys only call models."""
    configured = rt.settings.admin_token
    if configured is not None and hmac.compare_digest(token.encode(), configured.get_secret_value().encode()):
        return Principal("instance_admin", "admin-token")
    token_hash = hash_token(rt.keyring.pepper, token)
    if token.startswith(ADMIN_TOKEN_PREFIX):
        async with rt.engine.connect() as conn:
            token_id = await store.find_admin_token(conn, token_hash)
        if token_id is not None:
            return Principal("instance_admin", f"admin-token:{token_id}")
        raise Unauthorized("invalid admin token")
    return await authenticate_admin_hash(rt, token_hash)


async def authenticate_admin_hash(rt: Runtime, token_hash: str) -> Principal:
    """The same check from the token's hash, which is all a settings-page session keeps."""
    configured = rt.settings.admin_token
    if configured is not None and hmac.compare_digest(
        token_hash, hash_token(rt.keyring.pepper, configured.get_secret_value())
    ):
        return Principal("instance_admin", "admin-token")
    async with rt.engine.connect() as conn:
        token_id = await store.find_admin_token(conn, token_hash)
        key = None if token_id is not None else await store.find_key_by_hash(conn, token_hash)
    if token_id is not None:
        return Principal("instance_admin", f"admin-token:{token_id}")
    if key is None:
        raise Unauthorized("invalid API key: send 'Authorization: Bearer <admin token or org admin key>'")
    if key.revoked_at is not None:
        raise Unauthorized(f"the key {key.prefix}… was revoked")
    if key.role != "admin":
        raise Forbidden("invoke keys can only call models; the admin API needs an org admin key")
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at > _TOUCH_INTERVAL:
        async with rt.engine.begin() as conn:
            await store.touch_key(conn, key.id, now)
    return Principal("org_admin", f"key:{key.id}", org_id=key.org_id)
