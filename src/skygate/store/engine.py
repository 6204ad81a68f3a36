"""Creating the async engine for the configured database (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["create_engine", "writer"]


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take over transaction control from the driver, so that `_sqlite_begin` decides how transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # First the wait for a lock, which the next pragmas may already need; WAL lets readers proceed during a
    # write; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads, then writes, fails at once (SQLITE_BUSY_SNAPSHOT) when another writer
    # committed in between; changes (marked `for_write`) take the write lock up front and wait their turn.
    # Plain reads (the gateway's version poll among them) stay deferred and never block a writer.
    immediate = conn.get_execution_options().get("for_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _create_private_file(path: Path) -> None:
    """The database holds sealed secrets and key hashes: owner-only, like the key file (SQLite copies the mode
    to its -wal and -shm files)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The engine for read-then-write transactions (on SQLite they take the write lock when they begin)."""
    return engine.execution_options(for_write=True)


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _create_private_file(Path(parsed.database))
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_connect)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
