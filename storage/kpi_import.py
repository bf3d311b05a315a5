"""KPI imports that know what they changed: new, updated and unchanged values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from domain.kpi import KpiRow
from storage.db import Database
from storage.kpis import upsert_values_in
from storage.models import MetricValue

Key = tuple[int | None, int | None, str, dt.date]  # (person, team when no person, metric, day)


@dataclass(frozen=True)
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _key(person_id: int | None, team_id: int | None, metric: str, day: dt.date) -> Key:
    return (person_id, None if person_id is not None else team_id, metric, day)


def _same(a: MetricValue, r: KpiRow) -> bool:
    return (
        a.value == r.value
        and a.weight == r.weight
        and a.numerator == r.numerator
        and a.denominator == r.denominator
        and a.team_id == r.team_id
    )


async def _existing(s: AsyncSession, rows: Sequence[KpiRow]) -> dict[Key, MetricValue]:
    if not rows:
        return {}
    first = min(r.day for r in rows)
    last = max(r.day for r in rows)
    metrics = sorted({r.metric_key for r in rows})
    out: dict[Key, MetricValue] = {}
    person_ids = sorted({r.person_id for r in rows if r.person_id is not None})
    team_ids = sorted({r.team_id for r in rows if r.person_id is None and r.team_id is not None})
    base = select(MetricValue).where(
        col(MetricValue.day) >= first,
        col(MetricValue.day) <= last,
        col(MetricValue.metric_key).in_(metrics),
    )
    for i in range(0, len(person_ids), 500):
        q = base.where(col(MetricValue.person_id).in_(person_ids[i : i + 500]))
        for v in (await s.execute(q)).scalars():
            out[_key(v.person_id, v.team_id, v.metric_key, v.day)] = v
    if team_ids:
        q = base.where(col(MetricValue.person_id).is_(None), col(MetricValue.team_id).in_(team_ids))
        for v in (await s.execute(q)).scalars():
            out[_key(None, v.team_id, v.metric_key, v.day)] = v
    return out


async def import_values(db: Database, *, rows: Sequence[KpiRow]) -> ImportCounts:
    """Upsert `rows` in one transaction, writing only what is new or different."""
    async with db.session() as s:
        have = await _existing(s, rows)
        created = updated = unchanged = 0
        write: list[KpiRow] = []
        for r in rows:
            old = have.get(_key(r.person_id, r.team_id, r.metric_key, r.day))
            if old is None:
                created += 1
                write.append(r)
            elif _same(old, r):
                unchanged += 1
            else:
                updated += 1
                write.append(r)
        await upsert_values_in(s, write)
        return ImportCounts(created, updated, unchanged)
