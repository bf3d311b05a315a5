"""One metric over one period, with what a reader needs around it: the period before,
the goal that judges it and a sparkline.

A figure resting on fewer than STATS_MIN_CONTACTS contacts (handlers/core/metrics.py,
the minimum-sample rule) is shown but never compared: no change from the period before,
no goal mark; `few_note` names such figures under the table ("only 12 contacts").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from domain.fmt import fmt_delta, fmt_value, goal_met, mark, sparkline
from domain.kpi import ZERO, Sums, combine
from domain.periods import Period
from domain.types import Context
from handlers.core.metrics import (
    SPARK_DAYS,
    enough,
    goal_for,
    sample_of,
    sample_text,
    short_name,
    sum_days,
)
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
    hit: bool | None  # None without a goal, a value, or enough contacts to judge
    few: str | None = None  # "only 12 contacts" when the figure rests on too few
    prev_few: bool = False  # the period before rests on too few

    @property
    def delta(self) -> float | None:
        """The change from the period before; None unless both rest on enough contacts."""
        if self.value is None or self.prev is None or self.few or self.prev_few:
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


def make_figure(
    metric: Metric,
    per_day: PerDay,
    period: Period,
    goals_: Sequence[Goal],
    *,
    min_sample: int,
) -> Figure:
    """The figure of `metric` over `period` from its sums per day, compared (with the
    period before, with its goal) only when it rests on `min_sample` contacts."""
    cur = sum_days(per_day, period.start, period.end)
    prev = sum_days(per_day, period.prev_start, period.prev_end)
    value = combine(metric.aggregation, cur)
    few = None
    if value is not None and not enough(metric, cur, min_sample):
        few = sample_text(metric, sample_of(metric, cur))
    g = goal_for(goals_, metric.key, period.days)
    return Figure(
        metric=metric,
        value=value,
        prev=combine(metric.aggregation, prev),
        volume=cur.w,
        spark=bucket_spark(metric, per_day, period.start, period.end),
        goal=g,
        hit=None if few else judge(g, value, metric),
        few=few,
        prev_few=not enough(metric, prev, min_sample),
    )


def few_note(figs: Sequence[tuple[str, Figure]], min_sample: int) -> Context | None:
    """`Too few contacts to compare or judge (30 needed): FCR yesterday (only 12 contacts).`
    `figs` pairs each figure with how to name its period (`yesterday`, `over the week`)."""
    parts: list[str] = []
    for label, f in figs:
        if f.few:
            parts.append(f"{short_name(f.metric)} {label} ({f.few})")
        elif f.prev_few and f.value is not None and f.prev is not None:
            parts.append(f"{short_name(f.metric)} {label} (the period before it)")
    if not parts:
        return None
    return Context(
        f"Too few contacts to compare or judge ({min_sample:,} needed): " + ", ".join(parts) + "."
    )


def by_metric(raw: dict[tuple[str, dt.date], Sums]) -> dict[str, PerDay]:
    """Sums keyed by (metric, day) regrouped per metric."""
    out: dict[str, PerDay] = {}
    for (key, day), s in raw.items():
        out.setdefault(key, {})[day] = s
    return out


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
