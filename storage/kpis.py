"""KPI values: upserts (imports, HTTP pulls) and the reads behind stats and goals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import MetricValue, utcnow
from storage.outbox import insert_ignore

CHUNK = 500


@dataclass(frozen=True)
class KpiRow:
    """One validated value: a person's (team_id = their team) or a whole team's (no person)."""

    day: dt.date
    metric_key: str
    value: float
    person_id: int | None = None
    team_id: int | None = None
    weight: float = 1.0
    numerator: float | None = None
    denominator: float | None = None


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
