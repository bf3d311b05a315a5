"""One metric over one period, with what a reader needs around it: the period before,
the goal that judges it and a sparkline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from domain.fmt import fmt_delta, fmt_value, goal_met, mark, sparkline
from domain.kpi import ZERO, Sums, combine
from domain.periods import Period, day_text
from handlers.core.metrics import SPARK_DAYS, goal_for, sum_days
from storage.models import Goal, Metric

PerDay = dict[dt.date, Sums]


@dataclass(frozen=True)
class Figure:
    """One metric over one period for a team or a person, with its context."""

    metric: Metric
    value: float | None
    prev: float | None
    volume: float
    spark: str
    goal: Goal | None
    hit: bool | None

    @property
    def delta(self) -> float | None:
        if self.value is None or self.prev is None:
            return None
        return self.value - self.prev


def judge(goal: Goal | None, value: float | None, metric: Metric) -> bool | None:
    """Whether `value` meets `goal` (None without a goal or a value)."""
    return goal_met(goal.op, goal.target, value, unit=metric.unit) if goal else None


def spark_days(end: dt.date, n: int = SPARK_DAYS) -> list[dt.date]:
    """The `n` days ending at `end`, oldest first."""
    return [end - dt.timedelta(days=n - 1 - i) for i in range(n)]


def bucket_spark(metric: Metric, per_day: PerDay, start: dt.date, end: dt.date) -> str:
    """A sparkline over a period: one bar a day up to 14 days, else 14 equal buckets."""
    days = (end - start).days + 1
    if days <= SPARK_DAYS:
        seq = spark_days(end, SPARK_DAYS)
        return sparkline([combine(metric.aggregation, per_day.get(d, ZERO)) for d in seq])
    values: list[float | None] = []
    for i in range(SPARK_DAYS):
        a = start + dt.timedelta(days=days * i // SPARK_DAYS)
        b = start + dt.timedelta(days=days * (i + 1) // SPARK_DAYS - 1)
        values.append(combine(metric.aggregation, _day_by_day(per_day, a, b)))
    return sparkline(values)


def _day_by_day(per_day: PerDay, start: dt.date, end: dt.date) -> Sums:
    # Added in date order, as the bars always were (float sums depend on the order).
    total = ZERO
    d = start
    while d <= end:
        total = total + per_day.get(d, ZERO)
        d += dt.timedelta(days=1)
    return total


def make_figure(metric: Metric, per_day: PerDay, period: Period, goals_: Sequence[Goal]) -> Figure:
    """The figure of `metric` over `period` from its sums per day."""
    cur = sum_days(per_day, period.start, period.end)
    prev = sum_days(per_day, period.prev_start, period.prev_end)
    value = combine(metric.aggregation, cur)
    g = goal_for(goals_, metric.key, period.days)
    return Figure(
        metric=metric,
        value=value,
        prev=combine(metric.aggregation, prev),
        volume=cur.w,
        spark=bucket_spark(metric, per_day, period.start, period.end),
        goal=g,
        hit=judge(g, value, metric),
    )


def by_metric(raw: dict[tuple[str, dt.date], Sums]) -> dict[str, PerDay]:
    """Sums keyed by (metric, day) regrouped per metric."""
    out: dict[str, PerDay] = {}
    for (key, day), s in raw.items():
        out.setdefault(key, {})[day] = s
    return out


def latest_day(yesterday: Period, days_with_data: Sequence[dt.date]) -> tuple[Period, str]:
    """Yesterday, or the last day with figures before it (Friday, seen on a Monday).

    Returns the one-day period and its column heading.
    """
    last = max((d for d in days_with_data if d <= yesterday.end), default=None)
    if last is None or last == yesterday.end:
        return yesterday, "yesterday"
    one = dt.timedelta(days=1)
    return Period("day", last, last, day_text(last), last - one, last - one), day_text(last)


def window(period: Period) -> tuple[dt.date, dt.date]:
    """The days to read for a period: it, the one before, and the sparkline's days."""
    return min(period.prev_start, period.end - dt.timedelta(days=SPARK_DAYS - 1)), period.end


def value_cell(f: Figure) -> str:
    """The value with its goal mark: `5:08 ✓`."""
    text = fmt_value(f.metric.unit, f.value)
    m = mark(f.hit)
    return f"{text} {m}" if m else text


def delta_cell(f: Figure) -> str:
    """The change from the period before, direction-aware (`▼ -8s`, `▲ +8s !`)."""
    return fmt_delta(f.metric.unit, f.delta, higher_is_better=f.metric.higher_is_better)
