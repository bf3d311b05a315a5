"""Interval KPIs from the connectors, and their roll-up into the daily values people read.

`apply_window` replaces everything one source said about one window with what it says
now, in ONE transaction: the old intervals go, the new ones are written, the local days
they touch are summed again from every source's intervals, and the watermark moves. A
pull stopped half-way thus leaves whole windows only, and a re-pulled interval replaces
the earlier one, never adds to it.

A day's value is built from sums (domain/sources.day_row): a mean from the summed
seconds and the summed count, a ratio from the summed parts and wholes, so a day agrees
with the platform's own report for that day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from domain.kpi import Aggregation, KpiRow
from domain.live import WINDOW_METRICS, QueueInterval
from domain.localtime import stored_zone
from domain.sources import DayCounts, IntervalRow, Subject, SubjectKind, Window, day_row
from storage.db import Database
from storage.kpis import upsert_values_in
from storage.models import KpiInterval, Metric, MetricValue
from storage.sources import (
    SubjectKey,
    Target,
    resolve_in,
    save_subjects_in,
    set_agent_person_in,
    set_queue_team_in,
    state_in,
)

CHUNK = 2000
TargetKey = tuple[int | None, int | None]  # (person, team when no person)


@dataclass(frozen=True)
class Applied:
    """What applying one window changed."""

    replaced: int = 0  # intervals of the window there were before
    written: int = 0  # intervals written
    days_written: int = 0  # daily values written
    days_removed: int = 0  # daily values whose intervals all went


async def apply_window(
    db: Database,
    *,
    source: str,
    window: Window,
    rows: Sequence[IntervalRow],
    subjects: Sequence[Subject] = (),
    advance: bool = True,
) -> Applied:
    """Replace the source's intervals in `window` with `rows` and roll up the days (module
    doc); the watermark moves to the window's end when `advance` (never backwards)."""
    async with db.session() as s:
        await save_subjects_in(s, source, subjects)
        before = await _subjects_in_window(s, source, window)
        replaced = await _delete_window(s, source, window)
        await _insert(s, source, rows)
        touched = before | {(source, str(r.kind), r.external_id, r.metric) for r in rows}
        written, removed = await reroll_in(s, touched=touched, span=window)
        if advance:
            st = await state_in(s, source)
            if st.watermark is None or st.watermark < window.end:
                st.watermark = window.end
        return Applied(replaced, len(rows), written, removed)


async def _subjects_in_window(
    s: AsyncSession, source: str, window: Window
) -> set[tuple[str, str, str, str]]:
    t = KpiInterval.__table__.c  # type: ignore[attr-defined]
    q = (
        sa.select(t.kind, t.external_id, t.metric_key)
        .where(t.start >= window.start, t.start < window.end, t.source == source)
        .distinct()
    )
    return {(source, k, e, m) for k, e, m in (await s.execute(q)).all()}


async def _delete_window(s: AsyncSession, source: str, window: Window) -> int:
    t = KpiInterval.__table__  # type: ignore[attr-defined]
    res = await s.execute(
        sa.delete(t).where(t.c.start >= window.start, t.c.start < window.end, t.c.source == source)
    )
    return int(getattr(res, "rowcount", 0) or 0)


async def _insert(s: AsyncSession, source: str, rows: Sequence[IntervalRow]) -> None:
    t = KpiInterval.__table__  # type: ignore[attr-defined]
    for i in range(0, len(rows), CHUNK):
        await s.execute(
            sa.insert(t),
            [
                {
                    "source": source,
                    "kind": str(r.kind),
                    "external_id": r.external_id,
                    "metric_key": r.metric,
                    "start": r.start,
                    "minutes": r.minutes,
                    "numerator": r.numerator,
                    "denominator": r.denominator,
                    "contacts": r.contacts,
                }
                for r in rows[i : i + CHUNK]
            ],
        )


def local_days(span: Window, zone: str) -> list[dt.date]:
    """The local days of `zone` that `span` touches."""
    tz = stored_zone(zone)
    first = span.start.astimezone(tz).date()
    last = (span.end - dt.timedelta(microseconds=1)).astimezone(tz).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def day_bounds(day: dt.date, zone: str) -> tuple[dt.datetime, dt.datetime]:
    """A local day of `zone` as a UTC span (23 or 25 hours on DST days)."""
    tz = stored_zone(zone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start, end.astimezone(dt.UTC)


async def reroll_in(
    s: AsyncSession, *, touched: set[tuple[str, str, str, str]], span: Window
) -> tuple[int, int]:
    """Sum the local days `span` touches again for the targets of the `touched` subjects
    (source, kind, id, metric), from every source's intervals; returns (written, removed)."""
    targets = await resolve_in(s)
    wanted: dict[str, set[TargetKey]] = defaultdict(set)  # zone -> targets to redo
    before: set[tuple[TargetKey, str]] = set()  # (target, metric) that had intervals
    for src, kind, ext, metric in touched:
        t = targets.get((src, kind, ext))
        if t is not None:
            wanted[t.zone].add(t.key)
            before.add((t.key, metric))
    aggs = await _aggregations(s)
    written = removed = 0
    for zone, keys in wanted.items():
        days = local_days(span, zone)
        rows = await _day_rows(s, targets, zone, keys, days, aggs)
        written += await upsert_values_in(s, rows)
        fresh = {
            ((r.person_id, None if r.person_id else r.team_id), r.metric_key, r.day) for r in rows
        }
        removed += await _remove_stale(s, before, keys, days, fresh)
    return written, removed


async def _aggregations(s: AsyncSession) -> dict[str, Aggregation]:
    rows = await s.execute(sa.select(Metric.key, Metric.aggregation))  # type: ignore[call-overload]
    return {k: Aggregation(a) for k, a in rows.all()}


async def _day_rows(
    s: AsyncSession,
    targets: dict[SubjectKey, Target],
    zone: str,
    keys: set[TargetKey],
    days: Iterable[dt.date],
    aggs: dict[str, Aggregation],
) -> list[KpiRow]:
    t = KpiInterval.__table__.c  # type: ignore[attr-defined]
    out: list[KpiRow] = []
    for day in days:
        lo, hi = day_bounds(day, zone)
        q = (
            sa.select(
                t.source,
                t.kind,
                t.external_id,
                t.metric_key,
                sa.func.sum(t.numerator),
                sa.func.sum(t.denominator),
                sa.func.sum(t.contacts),
            )
            .where(t.start >= lo, t.start < hi)
            .group_by(t.source, t.kind, t.external_id, t.metric_key)
        )
        sums: dict[tuple[TargetKey, str], list[float]] = {}
        team_of: dict[TargetKey, int | None] = {}
        for src, kind, ext, metric, n, d, c in (await s.execute(q)).all():
            target = targets.get((src, kind, ext))
            if target is None or target.zone != zone or target.key not in keys:
                continue
            acc = sums.setdefault((target.key, metric), [0.0, 0.0, 0.0])
            acc[0] += float(n or 0)
            acc[1] += float(d or 0)
            acc[2] += float(c or 0)
            team_of[target.key] = target.team_id
        for (key, metric), (n, d, c) in sums.items():
            counts = DayCounts(day, metric, key[0], team_of[key], n, d, c)
            row = day_row(counts, aggs.get(metric, Aggregation.weighted_mean))
            if row is not None:
                out.append(row)
    return out


async def _remove_stale(
    s: AsyncSession,
    before: set[tuple[TargetKey, str]],
    keys: set[TargetKey],
    days: list[dt.date],
    fresh: set[tuple[TargetKey, str, dt.date]],
) -> int:
    """Daily values whose intervals are all gone (a re-pull said there were none)."""
    mv = MetricValue.__table__.c  # type: ignore[attr-defined]
    metrics = sorted({m for k, m in before if k in keys})
    if not metrics:
        return 0
    people = sorted({k[0] for k in keys if k[0] is not None})
    teams = sorted({k[1] for k in keys if k[0] is None and k[1] is not None})
    conds = []
    if people:
        conds.append(mv.person_id.in_(people))
    if teams:
        conds.append(sa.and_(mv.person_id.is_(None), mv.team_id.in_(teams)))
    q = sa.select(mv.id, mv.person_id, mv.team_id, mv.metric_key, mv.day).where(
        sa.or_(*conds), mv.metric_key.in_(metrics), mv.day >= days[0], mv.day <= days[-1]
    )
    stale: list[int] = []
    for vid, pid, tid, metric, day in (await s.execute(q)).all():
        key: TargetKey = (pid, None if pid is not None else tid)
        if (key, metric) in before and (key, metric, day) not in fresh:
            stale.append(int(vid))
    for i in range(0, len(stale), 500):
        await s.execute(sa.delete(MetricValue.__table__).where(mv.id.in_(stale[i : i + 500])))  # type: ignore[attr-defined]
    return len(stale)


async def _reroll_subject_in(
    s: AsyncSession, source: str, kind: str, external_id: str, previous: Target | None
) -> tuple[int, int]:
    """Roll up again every stored interval of one subject after its mapping changed
    (and the days of the target it had before, which lose its figures)."""
    t = KpiInterval.__table__.c  # type: ignore[attr-defined]
    span_q = sa.select(sa.func.min(t.start), sa.func.max(t.start)).where(
        t.source == source, t.kind == kind, t.external_id == external_id
    )
    lo, hi = (await s.execute(span_q)).one()
    metrics_q = (
        sa.select(t.metric_key)
        .where(t.source == source, t.kind == kind, t.external_id == external_id)
        .distinct()
    )
    metrics = [m for (m,) in (await s.execute(metrics_q)).all()]
    if lo is None or not metrics:
        return 0, 0
    lo, hi = _aware(lo), _aware(hi) + dt.timedelta(days=1)
    touched = {(source, kind, external_id, m) for m in metrics}
    written, removed = await reroll_in(s, touched=touched, span=Window(lo, hi))
    if previous is not None:
        w2, r2 = await _reroll_target(s, previous, metrics, Window(lo, hi))
        written, removed = written + w2, removed + r2
    return written, removed


async def _reroll_target(
    s: AsyncSession, target: Target, metrics: list[str], span: Window
) -> tuple[int, int]:
    """Redo a target's days from whatever still maps to it."""
    targets = await resolve_in(s)
    aggs = await _aggregations(s)
    days = local_days(span, target.zone)
    rows = await _day_rows(s, targets, target.zone, {target.key}, days, aggs)
    written = await upsert_values_in(s, rows)
    fresh = {((r.person_id, None if r.person_id else r.team_id), r.metric_key, r.day) for r in rows}
    before = {(target.key, m) for m in metrics}
    removed = await _remove_stale(s, before, {target.key}, days, fresh)
    return written, removed


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


async def prune(db: Database, *, before: dt.datetime) -> int:
    """Delete intervals older than `before` (their days stay in the daily values)."""
    t = KpiInterval.__table__  # type: ignore[attr-defined]
    async with db.session() as s:
        res = await s.execute(sa.delete(t).where(t.c.start < before))
        return int(getattr(res, "rowcount", 0) or 0)


async def count_intervals(db: Database, *, source: str | None = None) -> int:
    t = KpiInterval.__table__  # type: ignore[attr-defined]
    q = sa.select(sa.func.count()).select_from(t)
    if source is not None:
        q = q.where(t.c.source == source)
    async with db.session() as s:
        return int(await s.scalar(q) or 0)


async def list_intervals(db: Database, *, source: str) -> list[tuple[object, ...]]:
    """Every stored interval of a source as plain tuples, in a stable order (tests)."""
    t = KpiInterval.__table__.c  # type: ignore[attr-defined]
    q = (
        sa.select(
            t.kind,
            t.external_id,
            t.metric_key,
            t.start,
            t.minutes,
            t.numerator,
            t.denominator,
            t.contacts,
        )
        .where(t.source == source)
        .order_by(t.kind, t.external_id, t.metric_key, t.start)
    )
    async with db.session() as s:
        return [tuple(r) for r in (await s.execute(q)).all()]


async def map_subject(
    db: Database,
    *,
    source: str,
    kind: str,
    external_id: str,
    team_id: int | None = None,
    person_id: int | None = None,
) -> tuple[int, int]:
    """Map a queue to a team (or an agent to a person by hand; None: by email again), then
    roll up its stored intervals again, in one transaction; returns (written, removed)."""
    async with db.session() as s:
        if kind == "queue":
            before = await set_queue_team_in(
                s, source=source, external_id=external_id, team_id=team_id
            )
        else:
            before = await set_agent_person_in(
                s, source=source, external_id=external_id, person_id=person_id
            )
        return await _reroll_subject_in(s, source, kind, external_id, before)


async def recent_queue_intervals(
    db: Database, *, queue_ids: Iterable[str], since: dt.datetime
) -> dict[str, list[QueueInterval]]:
    """The service level, abandonment and ASA intervals of these queues (any source)
    starting at `since` or later, by queue id: what the live figures' window is made of."""
    ids = sorted(set(queue_ids))
    if not ids:
        return {}
    c = KpiInterval
    async with db.session() as s:
        rows = await s.execute(
            sa.select(
                col(c.external_id),
                col(c.start),
                col(c.minutes),
                col(c.metric_key),
                col(c.numerator),
                col(c.denominator),
            ).where(
                col(c.kind) == SubjectKind.queue.value,
                col(c.external_id).in_(ids),
                col(c.metric_key).in_(WINDOW_METRICS),
                col(c.start) >= since,
            )
        )
        out: dict[str, list[QueueInterval]] = defaultdict(list)
        for ext, start, minutes, metric, num, den in rows:
            out[ext].append(QueueInterval(_aware(start), minutes, metric, num, den))
    return dict(out)
