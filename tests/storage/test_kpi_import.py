"""The streamed import's merge (storage/kpi_import.py) on both stores: what it counts as
new, changed and unchanged, repeated keys anywhere in the batches, all or nothing; on
PostgreSQL, reads go on during the merge while other writers wait for it."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa
from sqlmodel import select

from storage.db import Database
from storage.kpi_import import Duplicate, StageRow, import_stream
from storage.models import MetricValue, Person, Team
from tests.conftest import fresh_store, make_person, make_team

DAY = dt.date(2026, 11, 16)


def _day(db: Database, day: dt.date) -> object:
    return day.isoformat() if db.dialect == "sqlite" else day  # how each stages a DATE


def _rows(db: Database, people: list[Person], team: Team, days: int) -> list[StageRow]:
    """Two metrics per person and day, and the team's service level, lines from 2 on."""
    out: list[StageRow] = []
    line = 2
    for i in range(days):
        day = _day(db, DAY - dt.timedelta(days=i))
        for p in people:
            for metric, value in (("aht", 300.0 + i), ("csat", 90.0)):
                out.append((line, p.id, team.id, metric, day, value, 10.0, None, None))
                line += 1
        out.append((line, None, team.id, "service_level", day, 80.0, 400.0, 320.0, 400.0))
        line += 1
    return out


def _batches(rows: list[StageRow], size: int) -> list[list[StageRow]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


async def _stored(db: Database) -> dict[tuple[object, ...], tuple[float, float]]:
    async with db.session() as s:
        values = (await s.execute(select(MetricValue))).scalars()
        return {(v.person_id, v.team_id, v.metric_key, v.day): (v.value, v.weight) for v in values}


async def _setup(db: Database) -> tuple[list[Person], Team]:
    team = await make_team(db)
    people = [await make_person(db, f"agent.{n}", team=team) for n in ("one", "two", "three")]
    return people, team


async def test_counts_new_changed_and_unchanged(any_db: Database) -> None:
    people, team = await _setup(any_db)
    rows = _rows(any_db, people, team, days=10)  # 70 rows
    first = await import_stream(any_db, _batches(rows, 16), clean=lambda: True)
    assert first.counts is not None
    assert (first.counts.created, first.counts.updated, first.counts.unchanged) == (70, 0, 0)
    again = await import_stream(any_db, _batches(rows, 16), clean=lambda: True)
    assert again.counts is not None
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 70)
    # Change one person row's value and one team row's weight; add two days of new rows.
    changed = list(rows)
    changed[0] = (*rows[0][:5], 999.0, *rows[0][6:])
    changed[6] = (*rows[6][:6], 500.0, *rows[6][7:])
    assert changed[6][1] is None  # the team row of the first day
    more = _rows(any_db, people, team, days=12)[70:]
    third = await import_stream(any_db, _batches(changed + more, 16), clean=lambda: True)
    assert third.counts is not None
    assert (third.counts.created, third.counts.updated, third.counts.unchanged) == (14, 2, 68)
    stored = await _stored(any_db)
    assert len(stored) == 84
    assert stored[(people[0].id, team.id, "aht", DAY)] == (999.0, 10.0)
    assert stored[(None, team.id, "service_level", DAY)] == (80.0, 500.0)


@pytest.mark.parametrize("size", [1000, 5], ids=["same-batch", "across-batches"])
async def test_a_repeated_key_anywhere_writes_nothing(any_db: Database, size: int) -> None:
    people, team = await _setup(any_db)
    rows = _rows(any_db, people, team, days=4)
    await import_stream(any_db, _batches(rows[:7], 100), clean=lambda: True)  # day one exists
    before = await _stored(any_db)
    again = (99, *rows[3][1:])  # line 99 repeats line 5: an existing key
    fresh = (100, *rows[20][1:])  # line 100 repeats line 22: a team's new key
    outcome = await import_stream(any_db, _batches([*rows, again, fresh], size), clean=lambda: True)
    assert outcome.counts is None
    assert outcome.duplicates == [Duplicate(99, 5, True), Duplicate(100, 22, False)]
    assert await _stored(any_db) == before


async def test_a_bad_row_found_by_the_caller_writes_nothing(any_db: Database) -> None:
    people, team = await _setup(any_db)
    outcome = await import_stream(
        any_db, _batches(_rows(any_db, people, team, days=3), 10), clean=lambda: False
    )
    assert outcome == type(outcome)(None, [])
    assert await _stored(any_db) == {}


@pytest.fixture
async def pg_db() -> AsyncIterator[Database]:
    """PostgreSQL: the merge's lock and concurrent sessions (SQLite has one writer)."""
    async with fresh_store("postgres") as database:
        yield database


@pytest.mark.postgres
async def test_postgres_merge_lets_reads_through_and_makes_writers_wait(pg_db: Database) -> None:
    people, team = await _setup(pg_db)
    rows = _rows(pg_db, people, team, days=5)
    await import_stream(pg_db, [rows[:7]], clean=lambda: True)  # one day already stored
    url = pg_db.url.replace("postgresql+asyncpg://", "postgresql://")
    holder, reader, writer = [await asyncpg.connect(url) for _ in range(3)]
    try:
        # Hold one person FOR UPDATE: the import's reference check (FOR KEY SHARE) waits
        # on it inside the merge, with metricvalue locked against writers.
        hold = holder.transaction()
        await hold.start()
        await holder.execute("SELECT 1 FROM person WHERE id = $1 FOR UPDATE", people[0].id)
        task = asyncio.ensure_future(import_stream(pg_db, [rows], clean=lambda: True))
        for _ in range(100):
            locks = await reader.fetchval(
                "SELECT count(*) FROM pg_locks WHERE relation = 'metricvalue'::regclass "
                "AND mode = 'ShareRowExclusiveLock' AND granted"
            )
            if locks:
                break
            await asyncio.sleep(0.05)
        assert locks == 1
        assert not task.done()
        # A reader sees the committed values at once...
        assert await reader.fetchval("SELECT count(*) FROM metricvalue", timeout=2) == 7
        # ...a writer waits for the import.
        await writer.execute("SET lock_timeout = '300ms'")
        with pytest.raises(asyncpg.LockNotAvailableError):
            await writer.execute(
                "UPDATE metricvalue SET value = 1 WHERE person_id = $1", people[1].id
            )
        await hold.rollback()
        outcome = await asyncio.wait_for(task, 30)
    finally:
        for conn in (holder, reader, writer):
            await conn.close()
    assert outcome.counts is not None
    assert (outcome.counts.created, outcome.counts.unchanged) == (28, 7)
    async with pg_db.session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(MetricValue)) == 35
