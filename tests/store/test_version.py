"""The config version the gateway polls: every committed change is seen, and on SQLite it is read in place."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from skygate.store.engine import create_engine, writer
from skygate.store.migrate import upgrade
from skygate.store.version import VersionProbe, bump_version
from tests.support import fresh_database


async def _bump(engine: AsyncEngine) -> None:
    async with writer(engine).begin() as conn:
        await bump_version(conn)


def _without_waiting(read: Coroutine[Any, Any, int]) -> int:
    """The read's value if it finished without handing control to the event loop once."""
    with pytest.raises(StopIteration) as finished:
        read.send(None)
    return int(finished.value.value)


def test_the_probe_sees_every_committed_change(backend: str, tmp_path: Path) -> None:
    async def run(url: str) -> list[int]:
        engine = create_engine(url)
        probe = VersionProbe(engine)
        try:
            seen = [await probe.read()]
            for _ in range(2):
                await _bump(engine)
                seen.append(await probe.read())
            return seen
        finally:
            probe.close()
            await engine.dispose()

    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        first, *later = asyncio.run(run(url))
        assert later == [first + 1, first + 2]


def test_on_sqlite_the_probe_reads_in_place_and_falls_back_while_the_file_is_locked(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'skygate.db'}"
    upgrade(url)

    async def run() -> tuple[int, int, float, int]:
        engine = create_engine(url)
        probe = VersionProbe(engine)
        try:
            await _bump(engine)
            in_place = _without_waiting(probe.read())
            # A connection in exclusive locking mode keeps every other reader out, WAL or not; it can take that
            # lock only when no other connection is open.
            probe.close()
            await engine.dispose()
            locker = sqlite3.connect(tmp_path / "skygate.db", check_same_thread=False)
            locker.execute("PRAGMA locking_mode=EXCLUSIVE")
            locker.execute("BEGIN EXCLUSIVE")
            threading.Timer(0.3, locker.close).start()
            started = time.monotonic()
            while_locked = await probe.read()  # through the engine, which waits for the lock
            waited = time.monotonic() - started
            return in_place, while_locked, waited, _without_waiting(probe.read())
        finally:
            probe.close()
            await engine.dispose()

    in_place, while_locked, waited, after = asyncio.run(run())
    assert in_place == while_locked == after == 1
    assert waited >= 0.25  # the lock held that read up: it went to the engine and waited there
