"""`/stats METRIC chart [PERIOD]`: one metric's trend over a period as a chart, for a team
or a person, with its goal; the same figures as `/stats METRIC PERIOD`.

The line is the web dashboard's (handlers/core/series.py: a point a day, each judged by
the daily goal); past DAILY_POINTS days it is a point a week, each week's figure combined
from its sums (never an average of days). The reply always carries the text answer: the
period's figure against its goal and the change from the period before (as
`/stats METRIC PERIOD` says it), the chart's alt text, and its figures as a table (a row a
day up to TABLE_DAYS days, else a row a week), so a screen reader, a notification or a
client without charts reads the same numbers. With CHARTS_ENABLED off, only the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from domain.errors import UsageError
from domain.fmt import fmt_value
from domain.kpi import Sums, combine
from domain.periods import Period, day_range_text, day_text
from domain.types import Block, Chart, ChartSeries, Context, Header, Reply, Table, Text
from handlers.core.metrics import enough, goal_for, goal_text, short_name, sum_days
from handlers.core.series import as_goal, series_for
from handlers.stats.figures import PerDay, delta_cell, few_note, judge, make_figure, value_cell
from handlers.stats.render import no_data
from storage.models import Goal, Metric

CHART_DEFAULT_PERIOD = "30d"  # a chart without a period: the last 30 days
DAILY_POINTS = 92  # up to this many days a point a day; beyond, a point a week
TABLE_DAYS = 31  # up to this many days a table row a day; beyond, a row a week
WEEK = 7


@dataclass(frozen=True)
class _Bucket:
    start: dt.date
    end: dt.date
    sums: Sums

    @property
    def label(self) -> str:
        return day_text(self.start) if self.start == self.end else f"w/c {day_text(self.start)}"


def needs_two_days(metric: Metric) -> UsageError:
    """A one-day period has nothing to draw a trend through."""
    return UsageError(
        f"A chart needs at least two days: try `/stats {metric.key} chart week` "
        f"or `/stats {metric.key} chart month`."
    )


def _buckets(per_day: PerDay, period: Period, size: int) -> list[_Bucket]:
    """The period cut into `size` days, counted back from its end: the latest bucket is
    whole, the first may be shorter (and its label says where it starts)."""
    out = []
    end = period.end
    while end >= period.start:
        start = max(end - dt.timedelta(days=size - 1), period.start)
        out.append(_Bucket(start, end, sum_days(per_day, start, end)))
        end = start - dt.timedelta(days=1)
    return out[::-1]


def _goal_above(g: Goal | None) -> bool | None:
    if g is None:
        return None
    return g.op.startswith(">")


def _alt_text(
    metric: Metric, subject: str, period: Period, chart: Chart, on_goal: tuple[int, int] | None
) -> str:
    [line] = chart.series
    per = "day" if chart.labels and len(chart.labels) == period.days else "week"
    points = [(lab, v, t) for lab, v, t in zip(chart.labels, line.values, line.texts, strict=True)]
    present = [(lab, v, t) for lab, v, t in points if v is not None]
    text = f"Line chart of {metric.name} per {per} for {subject}, {period.range_text}."
    if present:
        low = min(present, key=lambda p: p[1] or 0.0)
        high = max(present, key=lambda p: p[1] or 0.0)
        text += (
            f" From {present[0][2]} ({present[0][0]}) to {present[-1][2]} ({present[-1][0]});"
            f" lowest {low[2]} ({low[0]}), highest {high[2]} ({high[0]})."
        )
    missing = len(points) - len(present)
    if missing:
        text += f" No figures for {missing} of {len(points)} {per}s."
    if chart.goal_text:
        text += f" Goal {chart.goal_text}"
        if on_goal is not None and on_goal[1]:
            text += f": {on_goal[0]} of {on_goal[1]} {per}s on goal"
        text += "."
    return text


def _on_goal(metric: Metric, buckets: Sequence[_Bucket], g: Goal | None, minimum: int) -> int:
    return sum(
        1
        for b in buckets
        if enough(metric, b.sums, minimum)
        and judge(g, combine(metric.aggregation, b.sums), metric) is True
    )


def _judged(metric: Metric, buckets: Sequence[_Bucket], minimum: int) -> int:
    return sum(1 for b in buckets if enough(metric, b.sums, minimum))


def _table(metric: Metric, buckets: Sequence[_Bucket], first: str) -> Table:
    rows = tuple(
        (b.label, fmt_value(metric.unit, combine(metric.aggregation, b.sums)), f"{b.sums.w:,.0f}")
        for b in buckets
    )
    return Table((first, short_name(metric), "contacts"), rows, ("l", "r", "r"))


def build_chart(
    metric: Metric,
    per_day: PerDay,
    period: Period,
    goals_: Sequence[Goal],
    *,
    subject: str,
    minimum: int,
) -> Chart:
    """The neutral chart of `metric` over `period`, its alt text and its table."""
    if period.days <= DAILY_POINTS:
        s = series_for(metric, per_day, period.start, period.end, goals_)
        points = _buckets(per_day, period, 1)
        labels = tuple(day_text(d) for d in s.days)
        line = ChartSeries(s.label, s.values, s.texts)
        g = goal_for(goals_, metric.key, 1)
    else:
        points = _buckets(per_day, period, WEEK)
        values = tuple(combine(metric.aggregation, b.sums) for b in points)
        labels = tuple(b.label for b in points)
        line = ChartSeries(
            short_name(metric),
            tuple(None if v is None else round(v, 4) for v in values),
            tuple(fmt_value(metric.unit, v) for v in values),
        )
        g = goal_for(goals_, metric.key, WEEK)
    rows = points if period.days <= TABLE_DAYS else _buckets(per_day, period, WEEK)
    goal = as_goal(metric, g)
    chart = Chart(
        shape="line",
        title=f"{metric.name} · {subject} · {period.range_text}",
        labels=labels,
        series=(line,),
        unit=metric.unit,
        goal=goal.target if goal else None,
        goal_text=goal.text if goal else "",
        goal_above=_goal_above(g),
        table=_table(metric, rows, "day" if period.days <= TABLE_DAYS else "week"),
    )
    judged = _judged(metric, points, minimum)
    on = (_on_goal(metric, points, g, minimum), judged) if g is not None else None
    return replace(chart, alt_text=_alt_text(metric, subject, period, chart, on))


def chart_reply(
    metric: Metric,
    per_day: PerDay,
    period: Period,
    goals_: Sequence[Goal],
    *,
    subject: str,
    minimum: int,
    charts_enabled: bool,
) -> Reply:
    """`/stats METRIC chart PERIOD` for a team or a person whose sums per day are given
    (read over `figures.window(period)`, for the change from the period before)."""
    f = make_figure(metric, per_day, period, goals_, min_sample=minimum)
    if f.value is None and f.prev is None:
        return no_data(f"{subject} ({metric.name})", period.start)
    chart = build_chart(metric, per_day, period, goals_, subject=subject, minimum=minimum)
    title = f"{metric.name} · {subject} · {period.label}"
    summary = (
        f"*{value_cell(f)}* over {period.range_text}"
        + (f" (goal {goal_text(metric, f.goal)})" if f.goal else "")
        + f", {delta_cell(f)} vs {day_range_text(period.prev_start, period.prev_end)}."
    )
    blocks: list[Block] = [Header(title), Text(summary)]
    if charts_enabled:
        blocks.append(chart)
    else:
        assert chart.table is not None
        blocks += [chart.table, Context("Charts are turned off here (CHARTS_ENABLED).")]
    note = few_note([(period.label, f)], minimum)
    if note is not None:
        blocks.append(note)
    text = f"{title}: {fmt_value(metric.unit, f.value)}. {chart.alt_text}"
    return Reply(blocks=blocks, text=text)
