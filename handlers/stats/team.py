"""A team's figures (`/stats`, `/stats team NAME`, with a period or a metric), for the
leads and managers who may see them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.localtime import local_today
from domain.periods import Period, day_text, make_period, work_days_or_default, working_day_period
from domain.roles import Role
from domain.types import Block, Command, Context, Header, Reply, Table, Text
from handlers.core.access import default_team, require_team_view
from handlers.core.context import HandlerContext
from handlers.core.metrics import SPARK_DAYS, goals_first, team_per_day
from handlers.stats.breakdown import breakdown
from handlers.stats.chart import CHART_DEFAULT_PERIOD, chart_reply, needs_two_days
from handlers.stats.figures import Figure, few_note, make_figure, window
from handlers.stats.manager import manager_overview, side_by_side_teams
from handlers.stats.render import no_data, notes, overview_row, period_reply
from handlers.stats.request import StatsRequest
from storage import goals, kpis
from storage.models import Goal, Metric, Team


async def team_stats(
    ctx: HandlerContext, cmd: Command, req: StatsRequest, metrics: Sequence[Metric]
) -> Reply:
    """A team's overview, its figures over a period, or its agents on one metric."""
    if req.team is None and cmd.actor.role is Role.manager and req.metric is None:
        teams = await side_by_side_teams(ctx, cmd)
        if teams is not None:
            return await manager_overview(ctx, teams, metrics, req.period)
    extra: list[str] = []
    if req.team is None:
        team, extra = await _default_team(ctx, cmd)
    else:
        team = req.team
        await require_team_view(ctx, cmd.actor, team)
    assert team.id is not None
    today = local_today(ctx.now(), team.timezone)
    team_goals = await goals.list_goals(ctx.db, team_ids=[team.id])
    reply = await _team_view(ctx, team, req, metrics, today, team_goals)
    if extra:
        reply.blocks.append(Context(" ".join(extra)))
    return reply


async def _default_team(ctx: HandlerContext, cmd: Command) -> tuple[Team, list[str]]:
    """The team the leader means, and a note naming their other teams, if any."""
    team, others = await default_team(ctx, cmd.actor, cmd.channel_team_id)
    names = ", ".join(t.name for t in others)
    return team, [f"Your other teams: {names} (`/stats team NAME`)."] if others else []


async def _team_view(
    ctx: HandlerContext,
    team: Team,
    req: StatsRequest,
    metrics: Sequence[Metric],
    today: dt.date,
    team_goals: Sequence[Goal],
) -> Reply:
    if req.metric is not None and req.chart:
        period = req.period or make_period(CHART_DEFAULT_PERIOD, today)
        return await _team_chart(ctx, team, req.metric, period, team_goals)
    if req.metric is not None:
        period = req.period or make_period("week", today)
        return await breakdown(ctx, team, req.metric, period, team_goals)
    if req.period is not None:
        return await _team_period(ctx, team, metrics, req.period, team_goals)
    return await _team_overview(ctx, team, metrics, today, team_goals)


async def _team_chart(
    ctx: HandlerContext, team: Team, metric: Metric, period: Period, team_goals: Sequence[Goal]
) -> Reply:
    """The team's figure on one metric over the period, charted (handlers/stats/chart.py)."""
    assert team.id is not None
    if period.days < 2:
        raise needs_two_days(metric)
    start, end = window(period)
    ds = await kpis.team_day_sums(
        ctx.db, team_id=team.id, metric_keys=[metric.key], start=start, end=end
    )
    return chart_reply(
        metric,
        team_per_day(ds, metric.key),
        period,
        team_goals,
        subject=team.name,
        minimum=ctx.settings.stats_min_contacts,
        charts_enabled=ctx.settings.charts_enabled,
    )


async def _team_overview(
    ctx: HandlerContext,
    team: Team,
    metrics: Sequence[Metric],
    today: dt.date,
    team_goals: Sequence[Goal],
) -> Reply:
    """The team's last working day (the day the daily goal update reports) and the last 7
    days, against the goals."""
    assert team.id is not None
    day = working_day_period(work_days_or_default(team.work_days), today)
    week = make_period("week", today)
    start = today - dt.timedelta(days=SPARK_DAYS)
    ds = await kpis.team_day_sums(
        ctx.db,
        team_id=team.id,
        metric_keys=[m.key for m in metrics],
        start=min(start, day.prev_start),
        end=week.end,
    )
    goal_keys = {g.metric_key for g in team_goals}
    minimum = ctx.settings.stats_min_contacts
    rows: list[tuple[str, ...]] = []
    figs: list[Figure] = []
    few: list[tuple[str, Figure]] = []
    for m in goals_first(metrics, team_goals):
        per_day = team_per_day(ds, m.key)
        if not per_day and m.key not in goal_keys:
            continue
        fy = make_figure(m, per_day, day, team_goals, min_sample=minimum)
        fw = make_figure(m, per_day, week, team_goals, min_sample=minimum)
        figs.append(fw)
        few += [(day.label if day.label == "yesterday" else f"on {day.label}", fy)]
        few += [("over the last 7 days", fw)]
        rows.append(overview_row(fy, fw))
    if not figs:
        return no_data(team.name, start)
    reply = _overview_reply(team, day, day.label, rows, figs)
    note = few_note(few, minimum)
    if note is not None:
        reply.blocks.insert(-1, note)
        reply.text += "\n" + note.text
    return reply


def _overview_reply(
    team: Team,
    day: Period,
    day_head: str,
    rows: list[tuple[str, ...]],
    figs: Sequence[Figure],
) -> Reply:
    hits = [f for f in figs if f.hit is not None]
    title = f"{team.name} · {day_text(day.end)} and last 7 days"
    blocks: list[Block] = [Header(title)]
    if hits:
        won = sum(1 for f in hits if f.hit)
        blocks.append(Text(f"*{won} of {len(hits)}* goals on target over the last 7 days."))
    blocks.append(
        Table(
            ("metric", day_head, "7 days", "Δ prior 7d", "goal", "14 days"),
            tuple(rows),
            ("l", "r", "r", "r", "r", "l"),
        )
    )
    blocks.append(notes(figs, "the 7 days before"))
    blocks.append(
        Context(
            "Per agent: `/stats aht week` · one person: `/stats @name` · periods: "
            "today, yesterday, week, month, 30d, YYYY-MM-DD..YYYY-MM-DD"
        )
    )
    text = title + "\n" + "\n".join(f"{r[0]}: {r[1]} / {r[2]} ({r[3]}) {r[4]}" for r in rows)
    return Reply(blocks=blocks, text=text)


async def _team_period(
    ctx: HandlerContext,
    team: Team,
    metrics: Sequence[Metric],
    period: Period,
    team_goals: Sequence[Goal],
) -> Reply:
    assert team.id is not None
    start, end = window(period)
    ds = await kpis.team_day_sums(
        ctx.db, team_id=team.id, metric_keys=[m.key for m in metrics], start=start, end=end
    )
    minimum = ctx.settings.stats_min_contacts
    figs = [
        make_figure(m, team_per_day(ds, m.key), period, team_goals, min_sample=minimum)
        for m in goals_first(metrics, team_goals)
    ]
    goal_keys = {g.metric_key for g in team_goals}
    figs = [
        f for f in figs if f.value is not None or f.prev is not None or f.metric.key in goal_keys
    ]
    return period_reply(f"{team.name} · {period.label}", period, figs, minimum)
