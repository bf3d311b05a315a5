"""Pieces of the `/stats` replies that several views share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.fmt import fmt_value
from domain.periods import Period, day_range_text, day_text
from domain.types import Block, Context, Header, Reply, Table, Text
from handlers.core.metrics import goal_text, short_name
from handlers.stats.figures import Figure, delta_cell, few_note, value_cell

_QUEUE_METRICS = ("service_level", "asa", "abandon_rate")


def no_data(subject: str, since: dt.date) -> Reply:
    """There are no figures for `subject`: say so, and where figures come from."""
    text = f"No figures for {subject} since {day_text(since)}."
    return Reply(
        blocks=[
            Text(text),
            Context(
                "KPIs arrive from `leadbot import kpis FILE.csv` or the KPI source "
                "(KPI_SOURCE_URL); ask your admin if they should be there."
            ),
        ],
        text=text,
    )


def notes(figs: Sequence[Figure], prev_label: str) -> Context:
    """The legend under a table of figures."""
    parts = [f"Δ vs {prev_label}", "✓ on goal · ✗ missed", "! change for the worse"]
    if any(f.metric.key in _QUEUE_METRICS for f in figs):
        parts.append("queue metrics use the team's own rows when the source sends them")
    return Context(" · ".join(parts))


def period_reply(title: str, period: Period, figs: Sequence[Figure], min_sample: int) -> Reply:
    """Every metric over one period (a team's or a person's), against the period before
    (only where both rest on `min_sample` contacts: the others are named under it)."""
    if not figs:
        return no_data(title.split(" · ")[0], period.start)
    prev_text = day_range_text(period.prev_start, period.prev_end)
    rows = tuple(
        (
            short_name(f.metric),
            value_cell(f),
            fmt_value(f.metric.unit, f.prev),
            delta_cell(f),
            goal_text(f.metric, f.goal),
            f.spark,
        )
        for f in figs
    )
    if period.key != "range" and period.range_text != period.label:
        title += f" ({period.range_text})"
    blocks: list[Block] = [
        Header(title),
        Table(
            ("metric", "value", "before", "Δ", "goal", "trend"),
            rows,
            ("l", "r", "r", "r", "r", "l"),
        ),
        notes(figs, prev_text),
    ]
    text = title + "\n" + "\n".join(f"{r[0]}: {r[1]} ({r[3]}) {r[4]}" for r in rows)
    few = few_note([(period.label, f) for f in figs], min_sample)
    if few is not None:
        blocks.append(few)
        text += "\n" + few.text
    return Reply(blocks=blocks, text=text)


def overview_row(day: Figure, week: Figure) -> tuple[str, ...]:
    """One metric's row of an overview: the day, the 7 days, the change, goal, trend."""
    m = week.metric
    return (
        short_name(m),
        value_cell(day),
        value_cell(week),
        delta_cell(week),
        goal_text(m, day.goal or week.goal),
        week.spark,
    )
