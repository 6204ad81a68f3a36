"""The configuration version: bumped by every admin change, polled by the gateway's in-memory caches."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from skygate.store.tables import config_version

__all__ = ["VersionProbe", "bump_version", "read_version"]

_READ = sa.select(config_version.c.version).where(config_version.c.id == 1)
_READ_SQLITE = str(_READ.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


async def bump_version(conn: AsyncConnection) -> None:
    await conn.execute(
        config_version.update().where(config_version.c.id == 1).values(version=config_version.c.version + 1)
    )


async def read_version(conn: AsyncConnection) -> int:
    value = (await conn.execute(_READ)).scalar_one()
    return int(value)


def _sqlite_file(url: URL) -> str | None:
    """The SQLite file behind `url` as a URI that opens it only if it exists; None for anything else (another
    database, memory, a URL with its own URI or options)."""
    name = url.database
    if url.get_backend_name() != "sqlite" or url.query or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).absolute().as_uri() + "?mode=rw"


class VersionProbe:
    """The version for the gateway's poll, which every worker runs four times a second whether or not calls come.

    On a SQLite file it is read in place, on the event loop's thread: a one-row read of a WAL database takes
    ~9 µs and never waits for a writer, where a round through the async engine (SQLAlchemy's pool, aiosqlite's
    thread and back, a rollback) cost ~1.2 ms of CPU (docs/performance.md). Elsewhere, or when that read fails
    (the file locked by another connection, a read error), the engine reads it: it waits its turn and reports
    what is wrong."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._file = _sqlite_file(engine.url)
        self._db: sqlite3.Connection | None = None

    async def read(self) -> int:
        if self._file is not None:
            try:
                if self._db is None:
                    # Autocommit with no busy wait: each read is its own transaction, and one the file's lock would
                    # hold up fails at once instead of stalling the loop.
                    self._db = sqlite3.connect(self._file, uri=True, timeout=0, isolation_level=None)
                rows = self._db.execute(_READ_SQLITE).fetchall()  # to the end: no read transaction stays open
                if rows:
                    return int(rows[0][0])
            except sqlite3.Error:
                self.close()  # opened again next time
        async with self._engine.connect() as conn:
            return await read_version(conn)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
