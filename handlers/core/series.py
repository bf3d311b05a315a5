"""One metric day by day over a stretch of days, with the goal that judges a day: what the
web dashboard's line charts and `/stats METRIC chart` both draw (one computation, so a
chart in chat and the dashboard's show the same figures).

Figures are the sums of domain/kpi.py combined per metric, exactly as `/stats` computes
them; the goal for one day judges each point and the goal for a period that long the
whole (handlers/core/metrics.goal_for).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.fmt import fmt_value, goal_met
from domain.kpi import ZERO, Sums, combine
from handlers.core.metrics import goal_for, goal_text, short_name, sum_days
from storage.models import Goal as GoalRow
from storage.models import Metric


@dataclass(frozen=True)
class Goal:
    op: str
    target: float
    text: str  # `≤ 5:00 /day`


@dataclass(frozen=True)
class Series:
    """One metric per day over the chosen period, with the goal that judges one day."""

    key: str
    label: str
    unit: str
    higher_is_better: bool
    days: tuple[dt.date, ...]
    values: tuple[float | None, ...]
    texts: tuple[str, ...]  # each value as shown (the table alternative)
    goal: Goal | None
    period_value: str  # the whole period's figure, as shown
    period_met: bool | None  # against the goal for a period that long
    period_goal: str

    def chart(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "x": [epoch(d) for d in self.days],
            "y": list(self.values),
            "goal": None
            if self.goal is None
            else {"op": self.goal.op, "target": self.goal.target, "text": self.goal.text},
        }


def epoch(d: dt.date) -> int:
    """A day as epoch seconds (noon UTC, so every zone draws it on that day)."""
    return int(dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.UTC).timestamp())


def days_of(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from `start` to `end`, both included."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def as_goal(metric: Metric, g: GoalRow | None) -> Goal | None:
    """A stored goal as a chart draws it (its op, target and how it reads)."""
    if g is None:
        return None
    return Goal(g.op, g.target, goal_text(metric, g))


def series_for(
    metric: Metric,
    per_day: dict[dt.date, Sums],
    start: dt.date,
    end: dt.date,
    goals_: Sequence[GoalRow],
) -> Series:
    """One metric's daily line from `start` to `end`, and its figure for the whole."""
    days = days_of(start, end)
    values = tuple(combine(metric.aggregation, per_day.get(d, ZERO)) for d in days)
    daily = goal_for(goals_, metric.key, 1)
    whole = goal_for(goals_, metric.key, len(days))
    total = combine(metric.aggregation, sum_days(per_day, start, end))
    met = None if whole is None else goal_met(whole.op, whole.target, total, unit=metric.unit)
    return Series(
        key=metric.key,
        label=short_name(metric),
        unit=metric.unit,
        higher_is_better=metric.higher_is_better,
        days=tuple(days),
        values=tuple(None if v is None else round(v, 4) for v in values),
        texts=tuple(fmt_value(metric.unit, v) for v in values),
        goal=as_goal(metric, daily),
        period_value=fmt_value(metric.unit, total),
        period_met=met,
        period_goal=goal_text(metric, whole),
    )
