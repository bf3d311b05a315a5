"""The team page's curve of the day.

With a KPI connector (docs/admin/kpi-sources.md), the team's 15- or 30-minute intervals
of the day for the metric are its curve (`kind="intraday"`): its queues' intervals, or its
agents' when no queue of the team has the metric, each interval's value computed from its
summed counts exactly as the day's value is (`domain.sources.day_row`). On a day without
intervals (CSV-only centers) the curve falls back to the daily figures of the last two
weeks (`kind="daily"`), and the page says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.fmt import fmt_value
from domain.kpi import ZERO, Sums, combine
from domain.localtime import local_to_utc, stored_zone
from domain.periods import day_text
from domain.sources import DayCounts, day_row
from handlers.core.context import HandlerContext
from handlers.core.metrics import SPARK_DAYS, short_name, team_per_day
from handlers.dashboard.models import DayCurve
from storage import intervals, kpis
from storage.models import Metric, Team

# The metric the curve shows, first that the team has data for: contact-center leads
# watch the queue through the day.
CURVE_METRICS = ("service_level", "asa", "abandon_rate", "aht")


async def _intervals(
    ctx: HandlerContext, team: Team, metric: Metric, day: dt.date
) -> list[tuple[dt.datetime, float]]:
    """The team's interval values of its local `day`: (local start, value), oldest first."""
    assert team.id is not None
    start = local_to_utc(day, dt.time(0), team.timezone)
    end = local_to_utc(day + dt.timedelta(days=1), dt.time(0), team.timezone)
    counts = await intervals.team_interval_counts(
        ctx.db, team_id=team.id, metric_key=metric.key, start=start, end=end
    )
    zone = stored_zone(team.timezone)
    out: list[tuple[dt.datetime, float]] = []
    for at, n, d, c in counts:
        row = day_row(DayCounts(day, metric.key, None, team.id, n, d, c), metric.aggregation)
        if row is not None:
            out.append((at.astimezone(zone), row.value))
    return out


async def day_curve(
    ctx: HandlerContext,
    team: Team,
    day: dt.date,
    metrics: Sequence[Metric],
    *,
    known: tuple[dt.date, dict[str, dict[dt.date, Sums]]] | None = None,
) -> DayCurve | None:
    """The day's intraday curve when intervals exist, else the last two weeks per day
    (from `known`, the page's own per-day sums from a start day, when they cover them)."""
    chosen = next((m for k in CURVE_METRICS for m in metrics if m.key == k), None)
    if chosen is None and metrics:
        chosen = metrics[0]
    if chosen is None:
        return None
    label = short_name(chosen)
    points = await _intervals(ctx, team, chosen, day)
    if points:
        return DayCurve(
            title=f"{label} through {day_text(day)}",
            note="Per interval, in the team's time zone.",
            label=label,
            unit=chosen.unit,
            kind="intraday",
            x=tuple(int(at.timestamp()) for at, _ in points),
            labels=tuple(f"{at:%H:%M}" for at, _ in points),
            values=tuple(v for _, v in points),
            texts=tuple(fmt_value(chosen.unit, v) for _, v in points),
        )
    assert team.id is not None
    start = day - dt.timedelta(days=SPARK_DAYS - 1)
    if known is not None and known[0] <= start and chosen.key in known[1]:
        per_day = known[1][chosen.key]
    else:
        ds = await kpis.team_day_sums(
            ctx.db, team_id=team.id, metric_keys=[chosen.key], start=start, end=day
        )
        per_day = team_per_day(ds, chosen.key)
    days = [start + dt.timedelta(days=i) for i in range(SPARK_DAYS)]
    values = [combine(chosen.aggregation, per_day.get(d, ZERO)) for d in days]
    return DayCurve(
        title=f"{label}, the last {SPARK_DAYS} days",
        note=(
            "No intraday intervals are stored for this team, so this shows one figure per "
            "day; with interval data it shows the curve of the day."
        ),
        label=label,
        unit=chosen.unit,
        kind="daily",
        x=tuple(int(local_to_utc(d, dt.time(12), team.timezone).timestamp()) for d in days),
        labels=tuple(day_text(d) for d in days),
        values=tuple(None if v is None else round(v, 4) for v in values),
        texts=tuple(fmt_value(chosen.unit, v) for v in values),
    )
