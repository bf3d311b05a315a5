"""One person's figures (`/stats me`, `/stats @person`), judged by their team's goals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.errors import NotFound
from domain.fmt import fmt_value, mark
from domain.kpi import combine
from domain.localtime import local_today
from domain.periods import (
    WEEKDAYS_MON_FRI,
    Period,
    day_range_text,
    day_text,
    make_period,
    shift_days_of,
    working_day_period,
)
from domain.types import Actor, Block, Context, Header, Reply, Table, Text
from handlers.core.access import require_person_view
from handlers.core.context import HandlerContext
from handlers.core.metrics import SPARK_DAYS, enough, goal_text, goals_first
from handlers.stats.chart import CHART_DEFAULT_PERIOD, chart_reply, needs_two_days
from handlers.stats.figures import (
    Figure,
    PerDay,
    by_metric,
    delta_cell,
    few_note,
    judge,
    make_figure,
    value_cell,
    window,
)
from handlers.stats.render import no_data, notes, overview_row, period_reply
from handlers.stats.request import StatsRequest
from storage import goals, kpis, people
from storage.models import Goal, Metric, Person


async def person_stats(
    ctx: HandlerContext, actor: Actor, req: StatsRequest, metrics: Sequence[Metric]
) -> Reply:
    """The asker's own figures (`me`) or someone's they may see: every metric, or one."""
    person = req.person if req.person is not None else await _myself(ctx, actor)
    await require_person_view(ctx, actor, person)
    today = local_today(ctx.now(), person.timezone)
    team_goals = await _team_goals(ctx, person)
    if req.metric is not None and req.chart:
        period = req.period or make_period(CHART_DEFAULT_PERIOD, today)
        return await _person_chart(ctx, person, req.metric, period, team_goals)
    if req.metric is not None:
        period = req.period or make_period("week", today)
        return await _person_metric(ctx, person, req.metric, period, team_goals)
    ordered = goals_first(metrics, team_goals)
    return await _person_overview(ctx, person, ordered, req.period, today, team_goals)


async def _myself(ctx: HandlerContext, actor: Actor) -> Person:
    person = await people.get_person(ctx.db, person_id=actor.person_id)
    if person is None:
        raise NotFound("I can't find you on the roster; ask your admin to add you.")
    return person


async def _team_goals(ctx: HandlerContext, person: Person) -> list[Goal]:
    team = await people.get_team(ctx.db, team_id=person.team_id) if person.team_id else None
    return await goals.list_goals(ctx.db, team_ids=[team.id]) if team and team.id else []


async def _person_figures(
    ctx: HandlerContext, person: Person, metrics: Sequence[Metric], start: dt.date, end: dt.date
) -> dict[str, PerDay]:
    assert person.id is not None
    raw = await kpis.person_day_sums(
        ctx.db, person_id=person.id, metric_keys=[m.key for m in metrics], start=start, end=end
    )
    return by_metric(raw)


async def _person_overview(
    ctx: HandlerContext,
    person: Person,
    metrics: Sequence[Metric],
    period: Period | None,
    today: dt.date,
    team_goals: Sequence[Goal],
) -> Reply:
    if period is not None:
        return await _person_period(ctx, person, metrics, period, team_goals)
    day = working_day_period(_working_days(person), today)
    week = make_period("week", today)
    start = today - dt.timedelta(days=SPARK_DAYS)
    data = await _person_figures(ctx, person, metrics, min(start, day.prev_start), week.end)
    minimum = ctx.settings.stats_min_contacts
    rows: list[tuple[str, ...]] = []
    figs: list[Figure] = []
    few: list[tuple[str, Figure]] = []
    for m in metrics:
        if m.key not in data:
            continue
        fy = make_figure(m, data[m.key], day, team_goals, min_sample=minimum)
        fw = make_figure(m, data[m.key], week, team_goals, min_sample=minimum)
        figs.append(fw)
        few += [(day.label if day.label == "yesterday" else f"on {day.label}", fy)]
        few += [("over the last 7 days", fw)]
        rows.append(overview_row(fy, fw))
    if not figs:
        return no_data(person.display_name, start)
    title = f"{person.display_name} · {day_text(day.end)} and last 7 days"
    blocks: list[Block] = [
        Header(title),
        Table(
            ("metric", day.label, "7 days", "Δ prior 7d", "team goal", "14 days"),
            tuple(rows),
            ("l", "r", "r", "r", "r", "l"),
        ),
        notes(figs, "the 7 days before"),
    ]
    text = title + "\n" + "\n".join(f"{r[0]}: {r[1]} / {r[2]} ({r[3]})" for r in rows)
    note = few_note(few, minimum)
    if note is not None:
        blocks.append(note)
        text += "\n" + note.text
    return Reply(blocks=blocks, text=text)


def _working_days(person: Person) -> frozenset[int]:
    """The weekdays the person works (their shift pattern), Mon-Fri when unreadable."""
    try:
        return shift_days_of(person.work_hours)
    except ValueError:
        return WEEKDAYS_MON_FRI


async def _person_period(
    ctx: HandlerContext,
    person: Person,
    metrics: Sequence[Metric],
    period: Period,
    team_goals: Sequence[Goal],
) -> Reply:
    start, end = window(period)
    data = await _person_figures(ctx, person, metrics, start, end)
    minimum = ctx.settings.stats_min_contacts
    pfigs = [
        make_figure(m, data[m.key], period, team_goals, min_sample=minimum)
        for m in metrics
        if m.key in data
    ]
    pfigs = [f for f in pfigs if f.value is not None or f.prev is not None]
    return period_reply(f"{person.display_name} · {period.label}", period, pfigs, minimum)


async def _person_metric(
    ctx: HandlerContext,
    person: Person,
    metric: Metric,
    period: Period,
    team_goals: Sequence[Goal],
) -> Reply:
    """One person, one metric: the period's figure and its days (or weeks)."""
    start, end = window(period)
    data = (await _person_figures(ctx, person, [metric], start, end)).get(metric.key, {})
    minimum = ctx.settings.stats_min_contacts
    f = make_figure(metric, data, period, team_goals, min_sample=minimum)
    if f.value is None and f.prev is None:
        return no_data(f"{person.display_name} ({metric.name})", period.start)
    title = f"{person.display_name} · {metric.name} · {period.label}"
    summary = (
        f"*{value_cell(f)}* over {period.range_text}"
        + (f" (goal {goal_text(metric, f.goal)})" if f.goal else "")
        + f", {delta_cell(f)} vs {day_range_text(period.prev_start, period.prev_end)}."
    )
    rows = _day_rows(metric, data, period, f.goal, minimum) if period.days <= 31 else []
    blocks: list[Block] = [Header(title), Text(summary)]
    if rows:
        blocks.append(Table(("day", metric.key, "contacts"), tuple(rows), ("l", "r", "r")))
    blocks.append(Context(f"trend {f.spark} · {metric.description}"))
    note = few_note([(period.label, f)], minimum)
    if note is not None:
        blocks.append(note)
    return Reply(blocks=blocks, text=f"{title}: {fmt_value(metric.unit, f.value)}")


async def _person_chart(
    ctx: HandlerContext,
    person: Person,
    metric: Metric,
    period: Period,
    team_goals: Sequence[Goal],
) -> Reply:
    """One person, one metric, charted (handlers/stats/chart.py)."""
    if period.days < 2:
        raise needs_two_days(metric)
    start, end = window(period)
    data = (await _person_figures(ctx, person, [metric], start, end)).get(metric.key, {})
    return chart_reply(
        metric,
        data,
        period,
        team_goals,
        subject=person.display_name,
        minimum=ctx.settings.stats_min_contacts,
        charts_enabled=ctx.settings.charts_enabled,
    )


def _day_rows(
    metric: Metric, data: PerDay, period: Period, goal: Goal | None, minimum: int
) -> list[tuple[str, ...]]:
    """A row a day: the figure (judged when the goal is a daily one and the day has enough
    contacts) and its contacts."""
    daily = goal if goal and goal.period == "daily" else None
    rows: list[tuple[str, ...]] = []
    d = period.start
    while d <= period.end:
        s = data.get(d)
        v = combine(metric.aggregation, s) if s else None
        hit = judge(daily, v, metric) if s is not None and enough(metric, s, minimum) else None
        rows.append(
            (
                day_text(d),
                fmt_value(metric.unit, v) + (f" {mark(hit)}" if hit is not None else ""),
                f"{s.w:,.0f}" if s else "",
            )
        )
        d += dt.timedelta(days=1)
    return rows
