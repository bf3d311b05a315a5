"""metricvalue's references hold on both stores: declared foreign keys on SQLite, the
per-statement checks of storage/integrity.py on PostgreSQL (also under concurrency)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from domain.kpi import KpiRow
from storage.db import Database
from storage.kpis import upsert_values
from storage.migrate import upgrade
from storage.models import MetricValue
from tests.conftest import fresh_store, make_person, make_team

DAY = dt.date(2026, 11, 16)
TABLE = MetricValue.__table__  # type: ignore[attr-defined]


async def _insert(db: Database, **values: object) -> None:
    row = {"metric_key": "aht", "day": DAY, "value": 300.0, "weight": 1.0, **values}
    async with db.session() as s:
        await s.execute(sa.insert(TABLE).values(updated_at=dt.datetime.now(dt.UTC), **row))


async def _count(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(sa.select(sa.func.count()).select_from(TABLE)) or 0)


@pytest.mark.parametrize(
    "bad",
    [{"person_id": 999_999}, {"team_id": 999_999}, {"metric_key": "no_such_metric"}],
    ids=["person", "team", "metric"],
)
async def test_a_value_must_refer_to_existing_rows(
    any_db: Database, bad: dict[str, object]
) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    with pytest.raises(IntegrityError):
        await _insert(any_db, **{"person_id": p.id, "team_id": team.id, **bad})
    assert await _count(any_db) == 0


async def test_a_bulk_statement_with_one_bad_row_writes_nothing(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    rows = [KpiRow(DAY - dt.timedelta(days=i), "aht", 300.0, p.id, team.id, 1) for i in range(50)]
    rows.append(KpiRow(DAY, "csat", 90.0, 999_999, team.id, 1))
    with pytest.raises(IntegrityError):
        await upsert_values(any_db, rows=rows)
    assert await _count(any_db) == 0
    assert await upsert_values(any_db, rows=rows[:-1]) == 50  # the good ones alone are fine


async def test_an_update_may_not_point_a_value_elsewhere(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    await _insert(any_db, person_id=p.id, team_id=team.id)
    with pytest.raises(IntegrityError):
        async with any_db.session() as s:
            await s.execute(sa.update(TABLE).values(team_id=999_999))
    async with any_db.session() as s:
        assert (await s.execute(sa.select(TABLE.c.team_id))).scalar_one() == team.id


@pytest.mark.parametrize("parent", ["person", "team", "metric"])
async def test_a_referenced_row_cannot_be_deleted(any_db: Database, parent: str) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    other = await make_person(any_db, "sam.okafor", team=team)
    await _insert(any_db, person_id=p.id, team_id=team.id)
    key, value = {"person": ("id", p.id), "team": ("id", team.id), "metric": ("key", "aht")}[parent]
    if parent == "team":  # people refer to their team too; move them off it first
        async with any_db.session() as s:
            await s.execute(sa.text("UPDATE person SET team_id = NULL"))
    delete = sa.text(f"DELETE FROM {parent} WHERE {key} = :v")  # noqa: S608 (test constants)
    with pytest.raises(IntegrityError):
        async with any_db.session() as s:
            await s.execute(delete, {"v": value})
    assert await _count(any_db) == 1
    # Unreferenced rows delete as before.
    async with any_db.session() as s:
        await s.execute(sa.text("DELETE FROM person WHERE id = :v"), {"v": other.id})
        assert await s.scalar(sa.text("SELECT count(*) FROM person")) == 1


@pytest.fixture
async def pg_db() -> AsyncIterator[Database]:
    """A PostgreSQL store: the interleavings below need concurrent writers, which SQLite
    (one writer at a time) cannot have."""
    async with fresh_store("postgres") as database:
        yield database


@pytest.mark.postgres
async def test_migrated_postgres_checks_per_statement_not_per_row(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        await upgrade(db)
        async with db.session() as s:
            fks = await s.execute(
                sa.text(
                    "SELECT conname FROM pg_constraint "
                    "WHERE conrelid = 'metricvalue'::regclass AND contype = 'f'"
                )
            )
            assert fks.all() == []
            triggers = await s.execute(
                sa.text(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid = 'metricvalue'::regclass ORDER BY tgname"
                )
            )
            assert [t for (t,) in triggers] == [
                "metricvalue_refs_insert",
                "metricvalue_refs_update",
            ]
        team = await make_team(db)
        with pytest.raises(IntegrityError):
            await _insert(db, person_id=424_242, team_id=team.id)
    finally:
        await db.dispose()


INSERT_VALUE = (
    "INSERT INTO metricvalue (metric_key, person_id, team_id, day, value, weight, "
    "updated_at) VALUES ('aht', $1, $2, $3, 300, 1, now())"
)


@pytest.mark.postgres
@pytest.mark.parametrize("first", ["insert", "delete"])
async def test_a_concurrent_insert_and_delete_never_leave_an_orphan(
    pg_db: Database, first: str
) -> None:
    """Whichever of the two comes first holds the person; the other waits for it to
    commit, then is refused: the value stays with its person, or neither is left."""
    team = await make_team(pg_db)
    p = await make_person(pg_db, "maria.lopez", team=team)
    url = pg_db.url.replace("postgresql+asyncpg://", "postgresql://")
    one, two = await asyncpg.connect(url), await asyncpg.connect(url)
    statements = {
        "insert": (INSERT_VALUE, (p.id, team.id, DAY)),
        "delete": ("DELETE FROM person WHERE id = $1", (p.id,)),
    }
    second = "delete" if first == "insert" else "insert"
    try:
        tx = one.transaction()
        await tx.start()
        sql, args = statements[first]
        await one.execute(sql, *args)
        sql, args = statements[second]
        waiting = asyncio.ensure_future(two.execute(sql, *args))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # it waits for the first transaction...
        await tx.commit()
        with pytest.raises(asyncpg.ForeignKeyViolationError):  # ...then sees it and is refused
            await waiting
    finally:
        await one.close()
        await two.close()
    assert await _count(pg_db) == (1 if first == "insert" else 0)
