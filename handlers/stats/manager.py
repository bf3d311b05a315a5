"""A manager's teams side by side (`/stats` from a manager of several teams)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.fmt import DASH
from domain.localtime import local_today
from domain.periods import Period, make_period
from domain.types import Block, Command, Context, Header, Reply, Table
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from handlers.core.metrics import goals_first, short_name, team_per_day
from handlers.stats.figures import make_figure, value_cell, window
from storage import goals, kpis, people
from storage.models import Goal, Metric, Team

MANAGER_COLUMNS = 5
# After the metrics some team has a goal on, the usual headline metrics fill the columns.
_HEADLINE = ("csat", "aht", "fcr", "service_level", "nps")


async def side_by_side_teams(ctx: HandlerContext, cmd: Command) -> list[Team] | None:
    """The teams to show side by side: a manager's, when they see several and the command
    doesn't come from one of those teams' channels; else None."""
    visible = await visible_team_ids(ctx, cmd.actor)
    if len(visible) > 1 and cmd.channel_team_id not in visible:
        return [t for t in await people.list_teams(ctx.db) if t.id in visible]
    return None


def _columns(metrics: Sequence[Metric], all_goals: Sequence[Goal]) -> list[Metric]:
    goal_keys = {g.metric_key for g in all_goals}
    keys = [m.key for m in goals_first(metrics, all_goals) if m.key in goal_keys]
    keys += [k for k in _HEADLINE if k not in keys]
    by_key = {m.key: m for m in metrics}
    return [by_key[k] for k in keys if k in by_key][:MANAGER_COLUMNS]


async def manager_overview(
    ctx: HandlerContext,
    teams: Sequence[Team],
    metrics: Sequence[Metric],
    period: Period | None,
) -> Reply:
    """A manager's teams side by side over a period (default the last 7 days)."""
    all_goals = await goals.list_goals(ctx.db, team_ids=[t.id for t in teams if t.id])
    cols = _columns(metrics, all_goals)
    rows: list[tuple[str, ...]] = []
    label = ""
    for team in teams:
        p = period or make_period("week", local_today(ctx.now(), team.timezone))
        label = p.label
        rows.append(await _team_row(ctx, team, cols, p, all_goals))
    title = f"Your teams · {label}"
    blocks: list[Block] = [
        Header(title),
        Table(
            ("team", "goals met", *(short_name(m) for m in cols)),
            tuple(rows),
            ("l", "r", *("r" for _ in cols)),
        ),
        Context(
            "✓ on the team's goal · ✗ missed · one team in detail: `/stats team NAME`, "
            "its agents: `/stats team NAME aht`"
        ),
    ]
    text = title + "\n" + "\n".join(" · ".join(r) for r in rows)
    return Reply(blocks=blocks, text=text)


async def _team_row(
    ctx: HandlerContext,
    team: Team,
    cols: Sequence[Metric],
    period: Period,
    all_goals: Sequence[Goal],
) -> tuple[str, ...]:
    assert team.id is not None
    tg = [g for g in all_goals if g.team_id == team.id]
    start, end = window(period)
    ds = await kpis.team_day_sums(
        ctx.db, team_id=team.id, metric_keys=[m.key for m in cols], start=start, end=end
    )
    minimum = ctx.settings.stats_min_contacts
    figs = [make_figure(m, team_per_day(ds, m.key), period, tg, min_sample=minimum) for m in cols]
    judged = [f for f in figs if f.hit is not None]
    won = sum(1 for f in judged if f.hit)
    return (
        team.name,
        f"{won}/{len(judged)}" if judged else DASH,
        *(value_cell(f) for f in figs),
    )
