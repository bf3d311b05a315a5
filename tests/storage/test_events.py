"""ProcessedEvent keys: a delivery is recorded once, even when two arrive together."""

from __future__ import annotations

import asyncio

from storage import events
from storage.db import Database


async def test_record_once_is_true_only_the_first_time(any_db: Database) -> None:
    assert await events.record_once(any_db, key="slack:event:Ev1") is True
    assert await events.record_once(any_db, key="slack:event:Ev1") is False
    assert await events.record_once(any_db, key="slack:event:Ev2") is True
    assert await events.count(any_db) == 2
    assert await events.count(any_db, prefix="slack:event:Ev1") == 1


async def test_concurrent_deliveries_record_once(concurrent_db: Database) -> None:
    results = await asyncio.gather(
        *(events.record_once(concurrent_db, key="teams:act:1") for _ in range(8))
    )
    assert sorted(results) == [False] * 7 + [True]


async def test_long_keys_are_cut_to_the_column(any_db: Database) -> None:
    key = "k" * 500
    assert await events.record_once(any_db, key=key) is True
    assert await events.record_once(any_db, key=key) is False
