"""Alembic migrations, run in code: `leadbot db upgrade` and every command that needs
the schema call `upgrade()` first."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from storage.catalogue import ensure_reference_data
from storage.db import Database, normalize_url

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


async def upgrade(db: Database) -> None:
    """Bring the schema to the newest revision and add missing reference data."""
    cfg = alembic_config(db.url)
    async with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        await conn.run_sync(lambda sync_conn: _upgrade(cfg, sync_conn))
    await ensure_reference_data(db)


def _upgrade(cfg: Config, sync_conn: object) -> None:
    cfg.attributes["connection"] = sync_conn
    command.upgrade(cfg, "head")


def upgrade_sync(url: str) -> None:
    """Upgrade from synchronous code (CLI)."""

    async def run() -> None:
        db = Database(url)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(run())
