"""The in-memory SQLite store refuses overlapping transactions (tests/conftest.py): it
has one shared connection, so a test relying on concurrent sessions there would prove
nothing. Such tests use `concurrent_db` (a file store, or PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storage.db import Database
from tests.conftest import OverlappingTransactions


async def test_overlapping_transactions_on_the_memory_store_fail_loudly(db: Database) -> None:
    async with db.session() as s:
        await s.execute(sa.text("SELECT 1"))
        with pytest.raises(OverlappingTransactions):
            async with db.session():
                pass
    async with db.session() as s:  # one after the other is fine
        assert await s.scalar(sa.text("SELECT 1")) == 1
