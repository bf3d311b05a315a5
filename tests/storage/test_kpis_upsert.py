"""KPI upserts: one value per subject, metric and day; all or nothing; counted imports."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from sqlmodel import select

from domain.kpi import KpiRow
from storage.db import Database
from storage.kpi_import import import_values
from storage.kpis import count_values, upsert_values
from storage.models import MetricValue
from tests.conftest import make_person, make_team

DAY = dt.date(2026, 11, 16)


async def _values(db: Database) -> list[MetricValue]:
    async with db.session() as s:
        rows = await s.execute(select(MetricValue).order_by(MetricValue.id))  # type: ignore[arg-type]
        return list(rows.scalars())


async def test_upsert_inserts_then_updates(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    row = KpiRow(DAY, "aht", 300.0, p.id, team.id, 40)
    assert await upsert_values(any_db, rows=[row]) == 1
    await upsert_values(any_db, rows=[KpiRow(DAY, "aht", 280.0, p.id, team.id, 42)])
    (v,) = await _values(any_db)
    assert (v.value, v.weight, v.team_id) == (280.0, 42, team.id)


async def test_person_and_team_rows_are_separate_subjects(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    rows = [
        KpiRow(DAY, "csat", 90.0, p.id, team.id, 10, 9, 10),
        KpiRow(DAY, "csat", 85.0, None, team.id, 200, 170, 200),
        KpiRow(DAY + dt.timedelta(days=1), "csat", 80.0, None, team.id, 100),
    ]
    assert await upsert_values(any_db, rows=rows) == 3
    assert await upsert_values(any_db, rows=rows) == 3
    assert await count_values(any_db) == 3
    team_row = next(v for v in await _values(any_db) if v.person_id is None and v.day == DAY)
    assert (team_row.numerator, team_row.denominator) == (170, 200)


async def test_a_bad_row_writes_nothing(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    good = KpiRow(DAY, "aht", 300.0, p.id, team.id, 40)
    negative = KpiRow(DAY, "fcr", 70.0, p.id, team.id, -1)  # the weight CHECK refuses it
    with pytest.raises(sa.exc.IntegrityError):
        await upsert_values(any_db, rows=[good, negative])
    assert await count_values(any_db) == 0


async def test_many_rows_in_chunks(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    rows = [
        KpiRow(DAY - dt.timedelta(days=i), "aht", 300.0 + i, p.id, team.id, 1) for i in range(1200)
    ]
    assert await upsert_values(any_db, rows=rows) == 1200
    assert await count_values(any_db) == 1200


async def test_import_values_counts_new_updated_unchanged(any_db: Database) -> None:
    team = await make_team(any_db)
    p = await make_person(any_db, "maria.lopez", team=team)
    rows = [
        KpiRow(DAY, "aht", 300.0, p.id, team.id, 40),
        KpiRow(DAY, "service_level", 81.5, None, team.id, 400, 326, 400),
    ]
    first = await import_values(any_db, rows=rows)
    assert (first.created, first.updated, first.unchanged) == (2, 0, 0)
    second = await import_values(any_db, rows=rows)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    changed = [rows[0], KpiRow(DAY, "service_level", 81.5, None, team.id, 401, 326, 401)]
    third = await import_values(any_db, rows=changed)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert await count_values(any_db) == 2
    assert (await import_values(any_db, rows=[])).created == 0
