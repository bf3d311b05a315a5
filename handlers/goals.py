"""`/goal`: a team's SMART goals, one metric, one number, one period.

    /goal set aht <= 300s daily        (also 5:00, 5m, 5m30s for seconds)
    /goal set csat >= 90%              (daily unless a period is given)
    /goal set nps >= +30 monthly team Billing
    /goal list [team NAME]
    /goal clear aht [daily|weekly|monthly] [team NAME]

Leads set goals for their own team, managers for the teams they manage. A target is read
in the metric's unit and checked against its range; a comparison against the metric's
direction (`aht >= 300s`: a higher handle time is worse) is accepted, since a floor can
be deliberate (e.g. AHT too low hints at rushed calls), but the answer warns about it.
One goal per team, metric and period: setting it again replaces it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from domain.errors import NotFound, UsageError
from domain.fmt import OPS_TEXT, fmt_goal, fmt_value, goal_met, mark
from domain.kpi import ZERO, Sums, combine
from domain.localtime import local_today
from domain.parsing import Args, token_text
from domain.periods import make_period
from domain.roles import Role, require_role
from domain.types import Block, Command, Context, Header, Reply, Table, Text
from handlers.core.access import require_team_view, visible_team_ids
from handlers.core.context import CommandSpec, HandlerContext
from handlers.stats import (
    default_team,
    metrics_help,
    resolve_metric,
    short_name,
    team_per_day,
)
from storage import catalogue, goals, kpis, people
from storage.models import Goal, Metric, Team

PERIODS = ("daily", "weekly", "monthly")
_OPS = {
    ">=": ">=",
    "=>": ">=",
    "≥": ">=",
    "<=": "<=",
    "=<": "<=",
    "≤": "<=",
    ">": ">",
    "<": "<",
}
_OP_RE = re.compile(r"^(>=|=>|≥|<=|=<|≤|>|<)(.*)$")
_NUM = r"(\d+(?:\.\d+)?)"


def parse_op(word: str) -> str:
    op = _OPS.get(word.strip())
    if op is None:
        raise UsageError(f"{word!r} is not a comparison; use >=, <=, > or <.")
    return op


def parse_target(text: str, metric: Metric) -> float:
    """A target in the metric's unit (`300s`, `5:00`, `5m`, `90%`, `+30`), range-checked."""
    t = text.strip().lower().replace(",", "")
    value: float | None = None
    unit = metric.unit
    if unit == "s":
        if m := re.fullmatch(_NUM + r"\s*(s|sec|secs)?", t):
            value = float(m.group(1))
        elif m := re.fullmatch(r"(\d+):([0-5]\d)", t):
            value = int(m.group(1)) * 60 + int(m.group(2))
        elif m := re.fullmatch(_NUM + r"\s*(m|min|mins)(?:(\d+)s?)?", t):
            value = float(m.group(1)) * 60 + (int(m.group(3)) if m.group(3) else 0)
        hint = "seconds, e.g. 300s, 5:00 or 5m"
    elif unit == "%":
        if m := re.fullmatch(_NUM + r"\s*%?", t):
            value = float(m.group(1))
        hint = "a percentage, e.g. 90%"
    elif unit == "pts":
        if m := re.fullmatch(r"([+-]?\d+(?:\.\d+)?)\s*(pts?|points?)?", t.replace("\u2212", "-")):
            value = float(m.group(1))
        hint = "points, e.g. +30 or -10"
    else:
        if m := re.fullmatch(r"([+-]?\d+(?:\.\d+)?)", t):
            value = float(m.group(1))
        hint = "a number"
    if value is None:
        raise UsageError(f"{text!r} doesn't read as a {metric.name} target: use {hint}.")
    lo, hi = metric.min_value, metric.max_value
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if lo is not None and hi is not None:
            rng = f"between {fmt_value(unit, lo)} and {fmt_value(unit, hi)}"
        elif lo is not None:
            rng = f"at least {fmt_value(unit, lo)}"
        else:
            rng = f"at most {fmt_value(unit, hi)}"
        raise UsageError(f"A {metric.name} target must be {rng}.")
    if unit == "s" and value > 24 * 3600:
        raise UsageError(f"{fmt_value(unit, value)} is more than a day; check the target.")
    return value


def direction_warning(metric: Metric, op: str) -> str | None:
    """A warning when the comparison asks for the metric to get worse."""
    asks_higher = op in (">=", ">")
    if asks_higher == metric.higher_is_better:
        return None
    better = "higher" if metric.higher_is_better else "lower"
    want = "at least" if asks_higher else "at most"
    flip = "<=" if asks_higher else ">="
    return (
        f"Note: {better} {metric.name} is better, and this goal asks for {want} the target "
        f"(a {'floor' if asks_higher else 'ceiling'}). If you meant the usual goal, use "
        f"`{flip}` instead."
    )


async def _target_team(ctx: HandlerContext, cmd: Command, team_words: list[str]) -> Team:
    if team_words:
        name = " ".join(team_words)
        team = await people.get_team_by_name(ctx.db, name=name)
        if team is None:
            raise NotFound(f"There is no team called {name!r}.")
        await require_team_view(ctx, cmd.actor, team)
        return team
    visible = await visible_team_ids(ctx, cmd.actor)
    if cmd.actor.role is Role.manager and len(visible) > 1 and cmd.actor.team_id not in visible:
        names = ", ".join(t.name for t in await people.list_teams(ctx.db) if t.id in visible)
        raise UsageError(f"Say which team: add `team NAME` ({names}).")
    team, _ = await default_team(ctx, cmd)
    return team


def _split_team(args: Args) -> tuple[list[str], list[str]]:
    """(words before `team`, the team name words)."""
    words = [token_text(t) for t in args.rest()]
    lowered = [w.lower() for w in words]
    if "team" in lowered:
        i = lowered.index("team")
        name = words[i + 1 :]
        if not name:
            raise UsageError("Name the team after `team`.")
        return words[:i], name
    return words, []


async def goal(cmd: Command, ctx: HandlerContext) -> Reply:
    args = Args(cmd.args)
    sub = args.take_if("set", "list", "clear", "ls", "remove", "rm", "delete")
    if sub is None:
        if args:
            raise UsageError(f"I don't know `/goal {args.rest_text()}`.")
        sub = "list"
    if sub in ("list", "ls"):
        return await _list(cmd, ctx, args)
    require_role(cmd.actor, Role.lead, Role.manager, doing="set or clear team goals")
    if sub == "set":
        return await _set(cmd, ctx, args)
    return await _clear(cmd, ctx, args)


async def _set(cmd: Command, ctx: HandlerContext, args: Args) -> Reply:
    words, team_words = _split_team(args)
    metrics = await catalogue.list_metrics(ctx.db)
    if not words:
        raise UsageError("Say which metric, e.g. `/goal set aht <= 300s daily`.")
    metric = resolve_metric(words[0], metrics)
    if metric is None:
        raise UsageError(f"I don't know the metric {words[0]!r}. {metrics_help(metrics)}")
    rest = words[1:]
    if not rest:
        raise UsageError("Give a comparison and a target, e.g. `>= 90%`.")
    # The comparison may be glued to the target: `<=300s`.
    m = _OP_RE.match(rest[0])
    if m and m.group(2):
        rest = [m.group(1), m.group(2), *rest[1:]]
    op = parse_op(rest[0])
    if len(rest) < 2:
        raise UsageError("Give a target after the comparison, e.g. `>= 90%`.")
    # A target may be written with a space before its unit: `300 s`, `90 %`.
    target_text = rest[1]
    tail = rest[2:]
    if tail and tail[0].lower() in ("s", "sec", "secs", "%", "pts", "pt", "points", "m", "min"):
        target_text += tail[0]
        tail = tail[1:]
    target = parse_target(target_text, metric)
    period = "daily"
    if tail:
        if tail[0].lower() not in PERIODS:
            raise UsageError(f"The period must be daily, weekly or monthly, not {tail[0]!r}.")
        period = tail[0].lower()
        tail = tail[1:]
    if tail:
        raise UsageError(f"I didn't understand {' '.join(tail)!r}.")
    team = await _target_team(ctx, cmd, team_words)
    assert team.id is not None
    _new, old = await goals.set_goal(
        ctx.db,
        team_id=team.id,
        metric_key=metric.key,
        op=op,
        target=target,
        period=period,
        set_by_id=cmd.actor.person_id,
    )
    text = (
        f"Goal set for *{team.name}*: {metric.name} {fmt_goal(metric.unit, op, target)} {period}."
    )
    blocks: list[Block] = [Text(text)]
    if old is not None:
        blocks.append(
            Context(f"It replaces {fmt_goal(metric.unit, old.op, old.target)} {old.period}.")
        )
    warning = direction_warning(metric, op)
    if warning:
        blocks.append(Text("⚠ " + warning))
    blocks.append(Context("The team sees it in the daily goal update; `/goal list` shows all."))
    return Reply(blocks=blocks, text=text + (f"\n{warning}" if warning else ""))


async def _clear(cmd: Command, ctx: HandlerContext, args: Args) -> Reply:
    words, team_words = _split_team(args)
    metrics = await catalogue.list_metrics(ctx.db)
    if not words:
        raise UsageError("Say which metric's goal to clear, e.g. `/goal clear aht`.")
    metric = resolve_metric(words[0], metrics)
    if metric is None:
        raise UsageError(f"I don't know the metric {words[0]!r}. {metrics_help(metrics)}")
    period: str | None = None
    if len(words) > 1:
        if words[1].lower() not in PERIODS:
            raise UsageError(f"The period must be daily, weekly or monthly, not {words[1]!r}.")
        period = words[1].lower()
    if len(words) > 2:
        raise UsageError(f"I didn't understand {' '.join(words[2:])!r}.")
    team = await _target_team(ctx, cmd, team_words)
    assert team.id is not None
    cleared = await goals.clear_goals(ctx.db, team_id=team.id, metric_key=metric.key, period=period)
    if not cleared:
        which = f"{period} " if period else ""
        text = f"{team.name} has no {which}{metric.name} goal; nothing changed."
        return Reply(blocks=[Text(text)], text=text, ok=False)
    parts = ", ".join(f"{fmt_goal(metric.unit, g.op, g.target)} {g.period}" for g in cleared)
    text = f"Cleared {team.name}'s {metric.name} goal ({parts})."
    return Reply(blocks=[Text(text)], text=text)


async def current_values(
    ctx: HandlerContext, team: Team, goals_: Sequence[Goal], metrics: dict[str, Metric]
) -> dict[int, float | None]:
    """Each goal's current figure: yesterday (daily), last 7 days (weekly), month to date."""
    assert team.id is not None
    today = local_today(ctx.now(), team.timezone)
    periods = {p: make_period(w, today) for p, w in (("daily", "yesterday"), ("weekly", "week"))}
    periods["monthly"] = make_period("month", today)
    start = min(p.start for p in periods.values())
    keys = sorted({g.metric_key for g in goals_})
    ds = await kpis.team_day_sums(
        ctx.db, team_id=team.id, metric_keys=keys, start=start, end=today - dt.timedelta(days=1)
    )
    out: dict[int, float | None] = {}
    for g in goals_:
        per_day = team_per_day(ds, g.metric_key)
        p = periods.get(g.period, periods["daily"])
        total: Sums = ZERO
        for d, s in per_day.items():
            if p.start <= d <= p.end:
                total = total + s
        out[g.id or 0] = combine(metrics[g.metric_key].aggregation, total)
    return out


async def _list(cmd: Command, ctx: HandlerContext, args: Args) -> Reply:
    words, team_words = _split_team(args)
    if words:
        raise UsageError(f"I didn't understand {' '.join(words)!r}.")
    actor = cmd.actor
    if team_words:
        name = " ".join(team_words)
        team = await people.get_team_by_name(ctx.db, name=name)
        if team is None:
            raise NotFound(f"There is no team called {name!r}.")
        if actor.team_id != team.id:
            await require_team_view(ctx, actor, team)
        teams = [team]
    elif actor.role in (Role.lead, Role.manager):
        ids = await visible_team_ids(ctx, actor)
        teams = [t for t in await people.list_teams(ctx.db) if t.id in ids]
    else:
        # Everyone may see their own team's goals: they are what the team works towards.
        own = await people.get_team(ctx.db, team_id=actor.team_id) if actor.team_id else None
        teams = [own] if own else []
    if not teams:
        text = "You aren't in a team yet, so there are no goals to show."
        return Reply(blocks=[Text(text)], text=text)
    metrics = {m.key: m for m in await catalogue.list_metrics(ctx.db)}
    all_goals = await goals.list_goals(ctx.db, team_ids=[t.id for t in teams if t.id])
    names = await people.get_people(
        ctx.db, person_ids=[g.set_by_id for g in all_goals if g.set_by_id]
    )
    blocks: list[Block] = [Header("Goals")]
    lines: list[str] = []
    for team in teams:
        tg = [g for g in all_goals if g.team_id == team.id]
        if not tg:
            blocks.append(Text(f"*{team.name}*: no goals yet."))
            lines.append(f"{team.name}: no goals yet")
            continue
        now = await current_values(ctx, team, tg, metrics)
        rows = []
        for g in tg:
            m = metrics[g.metric_key]
            v = now.get(g.id or 0)
            hit = goal_met(g.op, g.target, v, unit=m.unit)
            who = names.get(g.set_by_id or 0)
            since = g.since.astimezone(dt.UTC).date()
            rows.append(
                (
                    short_name(m),
                    fmt_goal(m.unit, g.op, g.target),
                    g.period,
                    (fmt_value(m.unit, v) + (f" {mark(hit)}" if hit is not None else "")),
                    f"{since:%d %b}" + (f" by {who.display_name}" if who else ""),
                )
            )
            lines.append(f"{team.name}: {m.key} {OPS_TEXT[g.op]} {g.target:g} {g.period}")
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
            "now: yesterday for daily goals, the last 7 days for weekly, the month to date "
            "for monthly · `/goal set METRIC OP TARGET [daily|weekly|monthly]`"
        )
    )
    title = f"Goals of {teams[0].name}" if len(teams) == 1 else "Goals"
    blocks[0] = Header(title)
    return Reply(blocks=blocks, text=title + "\n" + "\n".join(lines))


COMMAND = CommandSpec(
    verb="goal",
    summary="Set, list and clear your team's KPI goals",
    usage=(
        "/goal set METRIC OP TARGET [daily|weekly|monthly] [team NAME]",
        "/goal list [team NAME]",
        "/goal clear METRIC [daily|weekly|monthly] [team NAME]",
        "OP: >= <= > <   TARGET: 300s, 5:00, 5m, 90%, +30",
    ),
    handler=lambda cmd, _args, ctx: goal(cmd, ctx),  # TEMP shim
    examples=(
        "/goal set aht <= 300s daily",
        "/goal set csat >= 90%",
        "/goal set nps >= +30 monthly",
        "/goal clear aht",
    ),
)
