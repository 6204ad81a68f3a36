"""Migrations from an empty database on SQLite and PostgreSQL reach exactly the schema the code declares."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from skygate.store.engine import create_engine
from skygate.store.migrate import alembic_config, current_revision, head_revision, upgrade
from skygate.store.tables import metadata
from tests.support import fresh_database

TABLES = {
    "orgs",
    "projects",
    "gateway_keys",
    "admin_tokens",
    "providers",
    "instance_secrets",
    "audit_events",
    "config_version",
}


def _inspect(url: str) -> tuple[str | None, set[str], list[object]]:
    def read(conn: Connection) -> tuple[str | None, set[str], list[object]]:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        return current_revision(conn), set(inspect(conn).get_table_names()), diffs

    async def run() -> tuple[str | None, set[str], list[object]]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(read)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_migrations_from_empty_match_the_declared_tables(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        revision, tables, _ = _inspect(url)
        assert revision is None
        assert not tables & TABLES
        upgrade(url)
        revision, tables, diffs = _inspect(url)
        assert revision == head_revision(url)
        assert tables >= TABLES | {"alembic_version"}
        assert diffs == []


def test_upgrade_is_idempotent_and_downgrade_returns_to_empty(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        upgrade(url)
        upgrade(url)
        assert _inspect(url)[0] == head_revision(url)
        command.downgrade(alembic_config(url), "base")
        revision, tables, _ = _inspect(url)
        assert revision is None
        assert not tables & TABLES
        upgrade(url)
        assert _inspect(url)[0] == head_revision(url)
