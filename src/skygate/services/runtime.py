"""What a running instance holds: settings, the database engine and the keyring; built once at start-up."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from skygate.crypto import MasterKey, open_secret, parse_master_key, seal_secret
from skygate.errors import Conflict, StartupError
from skygate.registry.azure import AzureRegistry, load_azure_registry
from skygate.settings import Settings
from skygate.store.engine import create_engine
from skygate.store.instance import get_instance_secret, insert_instance_secret

__all__ = ["Keyring", "Runtime", "load_master_key", "open_runtime"]

log = logging.getLogger(__name__)

_PEPPER = "key_pepper"
MASTER_KEY_FILE = "master.key"


@dataclass(slots=True, frozen=True)
class Keyring:
    """The master key (seals secrets) and the pepper (hashes gateway keys)."""

    master: MasterKey
    pepper: bytes

    @property
    def masters(self) -> dict[str, MasterKey]:
        return {self.master.key_id: self.master}


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
            async with self.engine.begin() as conn:
                yield conn
        except IntegrityError as exc:
            raise Conflict("a record with that name already exists") from exc


def _write_key_file(path: Path, key: MasterKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.encoded() + "\n")


def load_master_key(settings: Settings) -> MasterKey:
    """SKYGATE_MASTER_KEY, else the key file in the data dir, created (mode 0600) on first use."""
    if settings.master_key is not None:
        return parse_master_key(settings.master_key.get_secret_value())
    path = settings.data_dir / MASTER_KEY_FILE
    if not path.exists():
        log.warning(
            "SKYGATE_MASTER_KEY is not set: generated a master key in %s. Back it up, or set "
            "SKYGATE_MASTER_KEY; without it the stored provider secrets cannot be read.",
            path,
        )
        with contextlib.suppress(FileExistsError):  # another process created it first: read theirs
            _write_key_file(path, MasterKey.generate())
    try:
        return parse_master_key(path.read_text())
    except OSError as exc:
        raise StartupError(f"cannot read the master key file {path}: {exc.strerror}") from exc


async def _load_pepper(engine: AsyncEngine, master: MasterKey) -> bytes:
    context = "instance:" + _PEPPER
    async with engine.begin() as conn:
        sealed = await get_instance_secret(conn, _PEPPER)
    if sealed is None:
        try:
            async with engine.begin() as conn:
                pepper = secrets.token_hex(32)
                await insert_instance_secret(conn, _PEPPER, seal_secret(master, pepper, context), master.key_id)
        except IntegrityError:
            pass  # a concurrent start created it; read the winner's
        async with engine.begin() as conn:
            sealed = await get_instance_secret(conn, _PEPPER)
    assert sealed is not None
    return bytes.fromhex(open_secret({master.key_id: master}, sealed, context))


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    master = load_master_key(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        keyring = Keyring(master, await _load_pepper(engine, master))
        yield Runtime(settings, engine, keyring, load_azure_registry())
    finally:
        await engine.dispose()
