"""Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from storage import integrity
from storage.db import Database
from storage.migrate import upgrade


def _diff(sync_conn: Any) -> list[Any]:
    include = integrity.include_object(sync_conn.dialect.name)
    ctx = MigrationContext.configure(
        sync_conn, opts={"compare_type": True, "include_object": include}
    )
    return list(compare_metadata(ctx, SQLModel.metadata))


def _state(sync_conn: Any) -> tuple[list[str], list[str]]:
    insp = sa.inspect(sync_conn)
    version = [r[0] for r in sync_conn.execute(sa.text("SELECT version_num FROM alembic_version"))]
    return sorted(insp.get_table_names()), version


async def _check(url: str) -> None:
    db = Database(url)
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
            tables, version = await conn.run_sync(_state)
        assert set(SQLModel.metadata.tables) <= set(tables)
        assert len(version) == 1
        async with db.engine.connect() as conn:
            metrics = await conn.scalar(sa.text("SELECT count(*) FROM metric"))
        assert metrics == 10  # the built-in catalogue
        # A second upgrade is a no-op: same revision, same tables, no duplicate reference data.
        await upgrade(db)
        async with db.engine.connect() as conn:
            assert await conn.run_sync(_state) == (tables, version)
            assert await conn.scalar(sa.text("SELECT count(*) FROM metric")) == 10
            assert await conn.run_sync(_diff) == []
    finally:
        await db.dispose()


async def test_upgrade_fresh_sqlite_file_matches_models(tmp_path: Path) -> None:
    await _check(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")


async def test_upgrade_postgres_matches_models(pg_url: str) -> None:
    await _check(pg_url)
