"""What `/goal` answers: the confirmation of a new goal, and the goals of some teams with
their current figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.fmt import OPS_TEXT, fmt_goal, fmt_value, goal_met, mark
from domain.kpi import combine
from domain.localtime import local_today
from domain.periods import make_period, work_days_or_default, working_day_period
from domain.types import Block, Context, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from handlers.core.metrics import (
    enough,
    sample_of,
    sample_text,
    short_name,
    sum_days,
    team_per_day,
)
from handlers.goals.targets import NewGoal, direction_warning
from storage import kpis
from storage.models import Goal, Metric, Person, Team


def set_reply(team: Team, new: NewGoal, old: Goal | None) -> Reply:
    """The goal set, what it replaced, and a warning when it asks for worse figures."""
    metric = new.metric
    text = (
        f"Goal set for *{team.name}*: {metric.name} "
        f"{fmt_goal(metric.unit, new.op, new.target)} {new.period}."
    )
    blocks: list[Block] = [Text(text)]
    if old is not None:
        blocks.append(
            Context(f"It replaces {fmt_goal(metric.unit, old.op, old.target)} {old.period}.")
        )
    warning = direction_warning(metric, new.op)
    if warning:
        blocks.append(Text("⚠ " + warning))
    blocks.append(Context("The team sees it in the daily goal update; `/goal list` shows all."))
    return Reply(blocks=blocks, text=text + (f"\n{warning}" if warning else ""))


async def current_values(
    ctx: HandlerContext, team: Team, goals_: Sequence[Goal], metrics: dict[str, Metric]
) -> dict[int, tuple[float | None, str | None]]:
    """Each goal's current figure, and `only 12 contacts` when it rests on too few to be
    judged: the team's last working day (daily goals, the day the daily goal update
    reports), the last 7 days (weekly), the month to date (monthly)."""
    assert team.id is not None
    today = local_today(ctx.now(), team.timezone)
    periods = {
        "daily": working_day_period(work_days_or_default(team.work_days), today),
        "weekly": make_period("week", today),
        "monthly": make_period("month", today),
    }
    start = min(p.start for p in periods.values())
    keys = sorted({g.metric_key for g in goals_})
    ds = await kpis.team_day_sums(
        ctx.db, team_id=team.id, metric_keys=keys, start=start, end=today - dt.timedelta(days=1)
    )
    out: dict[int, tuple[float | None, str | None]] = {}
    for g in goals_:
        p = periods.get(g.period, periods["daily"])
        m = metrics[g.metric_key]
        total = sum_days(team_per_day(ds, g.metric_key), p.start, p.end)
        value = combine(m.aggregation, total)
        few = None
        if value is not None and not enough(m, total, ctx.settings.stats_min_contacts):
            few = sample_text(m, sample_of(m, total))
        out[g.id or 0] = (value, few)
    return out


async def list_reply(
    ctx: HandlerContext,
    teams: Sequence[Team],
    all_goals: Sequence[Goal],
    metrics: dict[str, Metric],
    setters: dict[int, Person],
) -> Reply:
    """Every team's goals with the current figure, on target or not, and who set them."""
    blocks: list[Block] = [Header("Goals")]
    lines: list[str] = []
    for team in teams:
        tg = [g for g in all_goals if g.team_id == team.id]
        if not tg:
            blocks.append(Text(f"*{team.name}*: no goals yet."))
            lines.append(f"{team.name}: no goals yet")
            continue
        now = await current_values(ctx, team, tg, metrics)
        rows = [
            _goal_row(g, metrics[g.metric_key], now.get(g.id or 0, (None, None)), setters)
            for g in tg
        ]
        lines += [
            f"{team.name}: {g.metric_key} {OPS_TEXT[g.op]} {g.target:g} {g.period}" for g in tg
        ]
        if len(teams) > 1:
            blocks.append(Text(f"*{team.name}*"))
        blocks.append(
            Table(
                ("metric", "goal", "period", "now", "set"),
                tuple(rows),
                ("l", "r", "l", "r", "l"),
            )
        )
    blocks.append(
        Context(
            "now: the last working day for daily goals, the last 7 days for weekly, the "
            "month to date for monthly; a figure on too few contacts isn't judged · "
            "`/goal set METRIC OP TARGET [daily|weekly|monthly]`"
        )
    )
    title = f"Goals of {teams[0].name}" if len(teams) == 1 else "Goals"
    blocks[0] = Header(title)
    return Reply(blocks=blocks, text=title + "\n" + "\n".join(lines))


def _goal_row(
    g: Goal, m: Metric, now: tuple[float | None, str | None], setters: dict[int, Person]
) -> tuple[str, ...]:
    value, few = now
    hit = None if few else goal_met(g.op, g.target, value, unit=m.unit)
    who = setters.get(g.set_by_id or 0)
    since = g.since.astimezone(dt.UTC).date()
    return (
        short_name(m),
        fmt_goal(m.unit, g.op, g.target),
        g.period,
        fmt_value(m.unit, value)
        + (f" {mark(hit)}" if hit is not None else "")
        + (f" ({few})" if few else ""),
        f"{since:%d %b}" + (f" by {who.display_name}" if who else ""),
    )
