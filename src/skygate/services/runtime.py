"""What a running instance holds: settings, the database engine and the keyring; built once at start-up."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from skygate.crypto import MasterKey, open_secret, seal_secret
from skygate.errors import Conflict
from skygate.registry.azure import AzureRegistry, load_azure_registry
from skygate.services.master_keys import load_master_keys
from skygate.settings import Settings
from skygate.store.engine import create_engine, writer
from skygate.store.instance import get_instance_secret, insert_instance_secret
from skygate.store.version import bump_version

__all__ = ["Keyring", "Runtime", "open_runtime"]

log = logging.getLogger(__name__)

_PEPPER = "key_pepper"


@dataclass(slots=True, frozen=True)
class Keyring:
    """The master keys (the first seals, all open) and the pepper (hashes gateway keys)."""

    master: MasterKey
    masters: dict[str, MasterKey]
    pepper: bytes

    @classmethod
    def of(cls, keys: list[MasterKey], pepper: bytes) -> Keyring:
        return cls(keys[0], {key.key_id: key for key in keys}, pepper)


@dataclass(slots=True, frozen=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    keyring: Keyring
    registry: AzureRegistry

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One change, one transaction: it commits whole or not at all. A lost unique race becomes a 409."""
        try:
            async with writer(self.engine).begin() as conn:
                yield conn
                await bump_version(conn)
        except IntegrityError as exc:
            if not _is_unique_violation(exc):
                raise
            raise Conflict("a record with that name already exists") from exc


def _is_unique_violation(exc: IntegrityError) -> bool:
    # asyncpg reports SQLSTATE 23505; SQLite says so in its message.
    return getattr(exc.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(exc.orig)


async def _load_pepper(engine: AsyncEngine, keys: list[MasterKey]) -> bytes:
    context = "instance:" + _PEPPER
    async with engine.begin() as conn:
        sealed = await get_instance_secret(conn, _PEPPER)
    if sealed is None:
        try:
            async with engine.begin() as conn:
                pepper = secrets.token_hex(32)
                await insert_instance_secret(conn, _PEPPER, seal_secret(keys[0], pepper, context), keys[0].key_id)
        except IntegrityError:
            pass  # a concurrent start created it; read the winner's
        async with engine.begin() as conn:
            sealed = await get_instance_secret(conn, _PEPPER)
    assert sealed is not None
    return bytes.fromhex(open_secret({key.key_id: key for key in keys}, sealed, context))


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    keys = load_master_keys(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        keyring = Keyring.of(keys, await _load_pepper(engine, keys))
        yield Runtime(settings, engine, keyring, load_azure_registry())
    finally:
        await engine.dispose()
