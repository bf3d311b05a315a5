"""KPI values: upserts (imports, HTTP pulls) and the reads behind stats and goals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kpi import DaySums, KpiRow, Sums
from storage.db import Database
from storage.models import MetricValue, utcnow
from storage.outbox import insert_ignore

CHUNK = 500


async def upsert_values_in(session: AsyncSession, rows: Sequence[KpiRow]) -> int:
    """Insert or update values inside the caller's transaction; returns rows written."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    table = MetricValue.__table__  # type: ignore[attr-defined]
    now = utcnow()
    written = 0
    person_rows = [r for r in rows if r.person_id is not None]
    team_rows = [r for r in rows if r.person_id is None]
    for subset, keys, where in (
        (person_rows, ["person_id", "metric_key", "day"], sa.text("person_id IS NOT NULL")),
        (team_rows, ["team_id", "metric_key", "day"], sa.text("person_id IS NULL")),
    ):
        for i in range(0, len(subset), CHUNK):
            chunk = subset[i : i + CHUNK]
            stmt = insert_ignore(dialect, table).values(
                [
                    {
                        "metric_key": r.metric_key,
                        "person_id": r.person_id,
                        "team_id": r.team_id,
                        "day": r.day,
                        "value": r.value,
                        "weight": r.weight,
                        "numerator": r.numerator,
                        "denominator": r.denominator,
                        "updated_at": now,
                    }
                    for r in chunk
                ]
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=keys,
                index_where=where,
                set_={
                    "value": stmt.excluded.value,
                    "weight": stmt.excluded.weight,
                    "numerator": stmt.excluded.numerator,
                    "denominator": stmt.excluded.denominator,
                    "team_id": stmt.excluded.team_id,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            await session.execute(stmt)
            written += len(chunk)
    return written


async def upsert_values(db: Database, *, rows: Sequence[KpiRow]) -> int:
    """Insert or update KPI values in one transaction (all or nothing)."""
    async with db.session() as s:
        return await upsert_values_in(s, rows)


async def count_values(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(sa.select(sa.func.count()).select_from(MetricValue)) or 0)


# --- aggregation: the sums of domain/kpi.py, one GROUP BY per query ----------------


def _has_counts() -> sa.ColumnElement[bool]:
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    return sa.and_(mv.numerator.is_not(None), mv.denominator.is_not(None))


def _sum_columns() -> list[Any]:
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    counts = _has_counts()
    return [
        sa.func.sum(sa.case((counts, mv.numerator), else_=mv.value * mv.weight / 100.0)),
        sa.func.sum(sa.case((counts, mv.denominator), else_=mv.weight)),
        sa.func.sum(mv.value * mv.weight),
        sa.func.sum(mv.weight),
        sa.func.sum(mv.value),
        sa.func.count(),
    ]


def _sums(row: Any, at: int) -> Sums:
    vals = [float(x or 0) for x in row[at : at + 5]]
    return Sums(vals[0], vals[1], vals[2], vals[3], vals[4], int(row[at + 5] or 0))


async def team_day_sums(
    db: Database, *, team_id: int, metric_keys: Sequence[str], start: dt.date, end: dt.date
) -> DaySums:
    """Per-day sums of a team's values (its people's rows and its queue rows), one query."""
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    is_team = mv.person_id.is_(None)
    q = (
        sa.select(mv.metric_key, mv.day, is_team, *_sum_columns())
        .where(
            mv.team_id == team_id,
            mv.metric_key.in_(list(metric_keys)),
            mv.day >= start,
            mv.day <= end,
        )
        .group_by(mv.metric_key, mv.day, is_team)
    )
    team: dict[tuple[str, dt.date], Sums] = {}
    ppl: dict[tuple[str, dt.date], Sums] = {}
    async with db.session() as s:
        for row in (await s.execute(q)).all():
            target = team if row[2] else ppl
            target[(row[0], row[1])] = _sums(row, 3)
    return DaySums(team=team, people=ppl)


async def person_day_sums(
    db: Database, *, person_id: int, metric_keys: Sequence[str], start: dt.date, end: dt.date
) -> dict[tuple[str, dt.date], Sums]:
    """Per metric and day: one person's values (as sums, so they combine like a team's)."""
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    q = (
        sa.select(mv.metric_key, mv.day, *_sum_columns())
        .where(
            mv.person_id == person_id,
            mv.metric_key.in_(list(metric_keys)),
            mv.day >= start,
            mv.day <= end,
        )
        .group_by(mv.metric_key, mv.day)
    )
    async with db.session() as s:
        return {(r[0], r[1]): _sums(r, 2) for r in (await s.execute(q)).all()}


async def people_sums(
    db: Database,
    *,
    team_id: int,
    metric_key: str,
    start: dt.date,
    end: dt.date,
    by_day: bool = False,
) -> dict[tuple[int, dt.date | None], Sums]:
    """Per person (and per day with `by_day`) of a team: one metric's sums over a range."""
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    keys: list[Any] = [mv.person_id]
    if by_day:
        keys.append(mv.day)
    q = (
        sa.select(*keys, *_sum_columns())
        .where(
            mv.team_id == team_id,
            mv.metric_key == metric_key,
            mv.day >= start,
            mv.day <= end,
            mv.person_id.is_not(None),
        )
        .group_by(*keys)
    )
    out: dict[tuple[int, dt.date | None], Sums] = {}
    async with db.session() as s:
        for r in (await s.execute(q)).all():
            pid: Any = r[0]
            day: Any = r[1] if by_day else None
            out[(int(pid), day)] = _sums(r, len(keys))
    return out


async def has_any_values(db: Database, *, team_id: int) -> bool:
    """True when the team has at least one stored value (its people's or its own)."""
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    async with db.session() as s:
        found = await s.scalar(sa.select(mv.id).where(mv.team_id == team_id).limit(1))
        return found is not None


async def metric_days_by_person(
    db: Database, *, team_id: int, metric_key: str, start: dt.date, end: dt.date
) -> dict[tuple[int | None, dt.date], Sums]:
    """One metric of a team per person and day (person None: the team's own rows).

    Everything a per-agent breakdown needs (the period, the one before, the sparkline,
    the team's figure) in one indexed query.
    """
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    q = (
        sa.select(mv.person_id, mv.day, *_sum_columns())
        .where(
            mv.team_id == team_id,
            mv.metric_key == metric_key,
            mv.day >= start,
            mv.day <= end,
        )
        .group_by(mv.person_id, mv.day)
    )
    out: dict[tuple[int | None, dt.date], Sums] = {}
    async with db.session() as s:
        for r in (await s.execute(q)).all():
            pid: Any = r[0]
            day: Any = r[1]
            out[(None if pid is None else int(pid), day)] = _sums(r, 2)
    return out
