"""The KPI section of the home view: an agent's own last 7 days, a lead's team's."""

from __future__ import annotations

from collections.abc import Sequence

from domain.localtime import local_today
from domain.periods import Period, make_period
from domain.roles import Role
from domain.types import Actor, Block, Context, Fields, Header, Text
from handlers.core.context import HandlerContext
from handlers.core.metrics import metric_catalogue, short_name, team_per_day
from handlers.stats.figures import Figure, PerDay, by_metric, delta_cell, make_figure, value_cell
from storage import goals, kpis, people
from storage.models import Metric, Team

# Without goals, the section shows these.
_DEFAULT_KEYS = frozenset({"aht", "csat", "fcr"})


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """KPIs at a glance: an agent's own last 7 days, a lead's team against its goals."""
    if actor.team_id is None or actor.role is Role.admin:
        return []
    team = await people.get_team(ctx.db, team_id=actor.team_id)
    if team is None or team.id is None:
        return []
    metrics = await metric_catalogue(ctx.db)
    team_goals = await goals.list_goals(ctx.db, team_ids=[team.id])
    keys = {g.metric_key for g in team_goals} or _DEFAULT_KEYS
    shown = [m for m in metrics if m.key in keys]
    if actor.role is Role.agent:
        week = make_period("week", local_today(ctx.now(), actor.timezone))
        per = await _own_days(ctx, actor, shown, week)
        title = "Your KPIs"
    else:
        week = make_period("week", local_today(ctx.now(), team.timezone))
        per = await _team_days(ctx, team, shown, week)
        title = f"{team.name} KPIs"
    minimum = ctx.settings.stats_min_contacts
    figs = [
        make_figure(m, per[m.key], week, team_goals, min_sample=minimum)
        for m in shown
        if per.get(m.key)
    ]
    figs = [f for f in figs if f.value is not None]
    if not figs:
        return []
    return _section(actor, title, figs)


async def _own_days(
    ctx: HandlerContext, actor: Actor, shown: Sequence[Metric], week: Period
) -> dict[str, PerDay]:
    raw = await kpis.person_day_sums(
        ctx.db,
        person_id=actor.person_id,
        metric_keys=[m.key for m in shown],
        start=week.prev_start,
        end=week.end,
    )
    return by_metric(raw)


async def _team_days(
    ctx: HandlerContext, team: Team, shown: Sequence[Metric], week: Period
) -> dict[str, PerDay]:
    assert team.id is not None
    ds = await kpis.team_day_sums(
        ctx.db,
        team_id=team.id,
        metric_keys=[m.key for m in shown],
        start=week.prev_start,
        end=week.end,
    )
    return {m.key: team_per_day(ds, m.key) for m in shown}


def _section(actor: Actor, title: str, figs: Sequence[Figure]) -> list[Block]:
    pairs = tuple(
        (short_name(f.metric), f"{value_cell(f)}  {delta_cell(f)}".rstrip()) for f in figs
    )
    judged = [f for f in figs if f.hit is not None]
    blocks: list[Block] = [Header(title)]
    agent = actor.role is Role.agent
    if judged:
        won = sum(1 for f in judged if f.hit)
        if agent:
            blocks.append(Text(f"You're on target for *{won} of {len(judged)}* team goals."))
        else:
            blocks.append(Text(f"*{won} of {len(judged)}* goals on target."))
    blocks.append(Fields(pairs))
    hint = "`/stats me` for the details" if agent else "`/stats` for more"
    blocks.append(Context(f"last 7 days, vs the 7 days before · {hint}"))
    return blocks
