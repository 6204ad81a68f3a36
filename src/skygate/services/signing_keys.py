"""The OIDC signing key set: created sealed on first start, rotated on demand (every process picks the new set
up through the configuration version)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from skygate.crypto import open_secret, seal_secret
from skygate.domain.records import Principal
from skygate.identity.signing import SigningKeySet
from skygate.services.audit import record
from skygate.services.runtime import Runtime
from skygate.store.instance import get_instance_secret, insert_instance_secret, replace_instance_secret

__all__ = ["load_signing_keys", "rotate_signing_key"]

_NAME = "oidc_signing_keys"
_CONTEXT = "instance:" + _NAME


async def _read(rt: Runtime, conn: AsyncConnection) -> SigningKeySet | None:
    sealed = await get_instance_secret(conn, _NAME)
    return SigningKeySet.parse(open_secret(rt.keyring.masters, sealed, _CONTEXT)) if sealed else None


async def load_signing_keys(rt: Runtime) -> SigningKeySet:
    async with rt.engine.connect() as conn:
        keys = await _read(rt, conn)
    if keys is not None:
        return keys
    keys = SigningKeySet.first()
    try:
        async with rt.engine.begin() as conn:
            master = rt.keyring.master
            await insert_instance_secret(conn, _NAME, seal_secret(master, keys.serialise(), _CONTEXT), master.key_id)
    except IntegrityError:
        pass  # another process created the first key at the same moment: use theirs
    async with rt.engine.connect() as conn:
        stored = await _read(rt, conn)
    assert stored is not None
    return stored


async def rotate_signing_key(rt: Runtime, principal: Principal, overlap_seconds: float) -> SigningKeySet:
    """Publish a new key now; it signs after `overlap_seconds`, so verifiers that cached the old JWKS have time
    to see it. The previous key stays published until the next rotation."""
    await load_signing_keys(rt)
    async with rt.transaction() as conn:
        current = await _read(rt, conn)
        assert current is not None
        rotated = current.rotated(overlap_seconds)
        master = rt.keyring.master
        await replace_instance_secret(conn, _NAME, seal_secret(master, rotated.serialise(), _CONTEXT), master.key_id)
        await record(
            conn,
            principal,
            None,
            "signing_key.rotate",
            ("signing_key", rotated.keys[-1].kid),
            {"published": [k.kid for k in rotated.keys]},
        )
    return rotated
