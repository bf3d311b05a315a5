"""The daily goal update: each team's channel, at the team's posting time on working days.

What it posts (for the team's last working day, domain.periods.last_working_day, the same
day `/stats` shows: "yesterday" on Tuesday to Friday and Friday on a Monday with Mon-Fri
work days):
- every active goal with its result (daily goals: that day; weekly: the 7 days ending
  yesterday; monthly: the month to date), hit or missed, and the streak of a daily goal
  (working days in a row on target; a day without figures neither breaks nor extends it);
- a figure resting on fewer than `STATS_MIN_CONTACTS` contacts is shown with "only 12
  contacts" and judged by nothing (no ✓/✗, no streak day, no mover);
- the other metrics with figures, in one line;
- the biggest movers: agents whose figure on a goal metric improved most against their
  own previous 7 days. Only improvements are posted; declines stay with the lead
  (`/stats METRIC`), because the channel is the wrong place to single people out;
- yesterday's queue alerts, when there were any (count, the longest, the queue with the
  most: handlers.alerts' digest);
- today's goals.

No post on a day the team doesn't work. No post when the team has neither goals nor
figures in the last 14 days nor alerts yesterday; its lead is told once instead (a
Notice), how to start.
The dedupe key `goal_update:{team_id}:{local date}` makes the post happen once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from domain.fmt import fmt_change, fmt_goal, fmt_value, goal_met, is_flat, mark
from domain.kpi import ZERO, DaySums, Sums, combine
from domain.localtime import local_today
from domain.periods import (
    WEEKDAYS_MON_FRI,
    Period,
    day_text,
    last_working_day,
    make_period,
    work_days_of,
)
from domain.shifts import DAYS, parse_time
from domain.types import Block, Context, Header, Reply, Table, Text, Visibility
from handlers.alerts import incidents_line, yesterday_incidents
from handlers.core import notify
from handlers.core.access import current_lead
from handlers.core.context import HandlerContext
from handlers.core.metrics import (
    SPARK_DAYS,
    enough,
    metric_catalogue,
    sample_of,
    sample_text,
    short_name,
    sum_days,
    team_per_day,
)
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import goals, kpis, people
from storage.models import Goal, Metric, Team

log = logging.getLogger(__name__)

JOB_ID = "goals.daily_update"
STREAK_LOOKBACK_DAYS = 60
MOVERS = 3
MIN_MOVER_ROWS = 3  # an agent needs a few days before to count as having moved


def team_work_days(team: Team) -> set[int]:
    """The team's working weekdays (Monday = 0) from `Mon-Fri` / `Mon,Wed,Fri` / `Sun-Thu`."""
    try:
        return set(work_days_of(team.work_days))
    except ValueError:
        log.warning("team=%s has unreadable work_days %r; using Mon-Fri", team.id, team.work_days)
        return set(WEEKDAYS_MON_FRI)


def team_cron(team: Team) -> Cron:
    """At the team's post_time (default 09:00) local, on its working days."""
    try:
        at = parse_time(team.post_time or "09:00")
    except ValueError:
        at = dt.time(9, 0)
    days = ",".join(DAYS[d] for d in sorted(team_work_days(team)))
    return Cron(minute=str(at.minute), hour=str(at.hour), day_of_week=days, timezone=team.timezone)


@dataclass(frozen=True)
class GoalResult:
    goal: Goal
    metric: Metric
    value: float | None
    hit: bool | None
    streak: int | None  # daily goals only
    scope: str  # "Fri 20 Nov", "last 7 days", "November to date"
    few: str | None = None  # "only 12 contacts": shown, not judged


def streak_of(
    metric: Metric, goal: Goal, per_day: dict[dt.date, Sums], last: dt.date, min_sample: int
) -> int:
    """Days in a row on target ending at `last`; days without figures, or with too few
    contacts to judge (`min_sample`), are skipped: they neither break nor extend it."""
    n = 0
    for i in range(STREAK_LOOKBACK_DAYS):
        d = last - dt.timedelta(days=i)
        s = per_day.get(d)
        v = combine(metric.aggregation, s) if s else None
        if v is None or s is None or not enough(metric, s, min_sample):
            continue
        if goal_met(goal.op, goal.target, v, unit=metric.unit):
            n += 1
        else:
            break
    return n


@dataclass(frozen=True)
class Mover:
    name: str
    metric: Metric
    before: float
    after: float
    score: float  # relative improvement, to rank moves on different metrics together


def _score(metric: Metric, before: float, after: float) -> float:
    delta = after - before
    if not metric.higher_is_better:
        delta = -delta
    if metric.unit in ("%", "pts"):
        return delta / 100.0  # points out of a 100-point scale
    return delta / max(abs(before), 1.0)


async def biggest_movers(
    ctx: HandlerContext, team: Team, metrics: Sequence[Metric], last: dt.date
) -> list[Mover]:
    """Agents whose figure on `last` improved most against their 7 days before it; both
    figures need STATS_MIN_CONTACTS contacts (one agent's quiet Sunday moves nobody)."""
    assert team.id is not None
    minimum = ctx.settings.stats_min_contacts
    found: list[Mover] = []
    week_start = last - dt.timedelta(days=7)
    for m in metrics:
        now = await kpis.people_sums(
            ctx.db, team_id=team.id, metric_key=m.key, start=last, end=last
        )
        before = await kpis.people_sums(
            ctx.db,
            team_id=team.id,
            metric_key=m.key,
            start=week_start,
            end=last - dt.timedelta(days=1),
        )
        for (pid, _), s in now.items():
            b = before.get((pid, None))
            if b is None or b.c < MIN_MOVER_ROWS:
                continue
            if not (enough(m, s, minimum) and enough(m, b, minimum)):
                continue
            v_now, v_before = combine(m.aggregation, s), combine(m.aggregation, b)
            if v_now is None or v_before is None or is_flat(m.unit, v_now - v_before):
                continue
            score = _score(m, v_before, v_now)
            if score > 0:
                found.append(Mover(str(pid), m, v_before, v_now, score))
    found.sort(key=lambda mv: -mv.score)
    # One line per agent: their biggest improvement.
    seen: set[str] = set()
    top: list[Mover] = []
    for mv in found:
        if mv.name in seen:
            continue
        seen.add(mv.name)
        top.append(mv)
        if len(top) == MOVERS:
            break
    names = await people.get_people(ctx.db, person_ids=[int(mv.name) for mv in top])
    return [
        Mover(
            names[int(mv.name)].display_name if int(mv.name) in names else "someone",
            mv.metric,
            mv.before,
            mv.after,
            mv.score,
        )
        for mv in top
    ]


async def build_update(ctx: HandlerContext, team: Team, today: dt.date) -> Reply | None:
    """The post for `today` (a local date), or None when there is nothing to say."""
    assert team.id is not None
    metrics = await metric_catalogue(ctx.db)
    by_key = {m.key: m for m in metrics}
    team_goals = [
        g for g in await goals.list_goals(ctx.db, team_ids=[team.id]) if g.metric_key in by_key
    ]
    last = last_working_day(team_work_days(team), today)
    week = make_period("week", today)
    month = make_period("month", today)
    start = min(month.start, week.start, last - dt.timedelta(days=STREAK_LOOKBACK_DAYS))
    ds = await kpis.team_day_sums(
        ctx.db,
        team_id=team.id,
        metric_keys=list(by_key),
        start=start,
        end=today - dt.timedelta(days=1),
    )
    recent = [
        d for (_k, d) in (*ds.team, *ds.people) if d > today - dt.timedelta(days=SPARK_DAYS + 1)
    ]
    incidents = incidents_line(await yesterday_incidents(ctx, team, today=today))
    if not team_goals and not recent and incidents is None:
        return None

    minimum = ctx.settings.stats_min_contacts
    results = [
        _goal_result(
            g, by_key[g.metric_key], team_per_day(ds, g.metric_key), (week, month, last), minimum
        )
        for g in team_goals
    ]
    post = _Post(f"{team.name} · daily goals · {day_text(today)}")
    if results:
        post.add(Text(_headline(results, last)))
        _results_table(post, results, ctx.settings.streak_days)
    goal_keys = {g.metric_key for g in team_goals}
    others = _other_figures([m for m in metrics if m.key not in goal_keys], ds, last, minimum)
    if others:
        label = "Also" if results else f"Results for {day_text(last)}"
        post.add(Text(f"*{label}:* {others}"), f"{label}: {others}")
    mover_metrics = [by_key[k] for k in sorted(goal_keys)] or list(metrics)
    movers = await biggest_movers(ctx, team, mover_metrics, last)
    if movers:
        post.add(Text(_movers_text(movers)))
    if incidents is not None:
        post.add(Text(incidents))
    _closing(post, team_goals, by_key)
    return Reply(blocks=post.blocks, text="\n".join(post.lines), visibility=Visibility.channel)


class _Post:
    """The blocks of the post and, line by line, its text fallback."""

    def __init__(self, title: str) -> None:
        self.blocks: list[Block] = [Header(title)]
        self.lines: list[str] = [title]

    def add(self, block: Text, line: str | None = None) -> None:
        self.blocks.append(block)
        self.lines.append(block.text.replace("*", "") if line is None else line)


def _goal_result(
    g: Goal,
    m: Metric,
    per_day: dict[dt.date, Sums],
    when: tuple[Period, Period, dt.date],
    min_sample: int,
) -> GoalResult:
    """A goal judged over its period: the last working day (with the streak), the 7 days
    ending yesterday, or the month to date; not judged on too few contacts."""
    week, month, last = when
    streak: int | None = None
    if g.period == "weekly":
        total, scope = sum_days(per_day, week.start, week.end), "last 7 days"
    elif g.period == "monthly":
        total, scope = sum_days(per_day, month.start, month.end), month.label
    else:
        total, scope = per_day.get(last, ZERO), day_text(last)
        streak = streak_of(m, g, per_day, last, min_sample)
    value = combine(m.aggregation, total)
    few = None
    if value is not None and not enough(m, total, min_sample):
        few = sample_text(m, sample_of(m, total))
    hit = None if few else goal_met(g.op, g.target, value, unit=m.unit)
    return GoalResult(g, m, value, hit, streak, scope, few)


def _headline(results: Sequence[GoalResult], last: dt.date) -> str:
    judged = [r for r in results if r.hit is not None]
    daily = [r for r in judged if r.goal.period == "daily"]
    if daily:
        won = sum(1 for r in daily if r.hit)
        head = f"*{won} of {len(daily)}* daily goals hit on {day_text(last)}"
        return head + ("." if won < len(daily) else ". Great work, everyone!")
    if judged:
        won = sum(1 for r in judged if r.hit)
        return f"*{won} of {len(judged)}* goals on target."
    return f"No results for {day_text(last)} yet."


def _streak_text(streak: int | None, star_from: int) -> str:
    if not streak:
        return ""
    return f"{streak} day" + ("s" if streak != 1 else "") + (" ★" if streak >= star_from else "")


def _results_table(post: _Post, results: Sequence[GoalResult], star_from: int) -> None:
    rows: list[tuple[str, ...]] = []
    for r in results:
        result = fmt_value(r.metric.unit, r.value) + (
            f" {mark(r.hit)}" if r.hit is not None else ""
        )
        row = (
            short_name(r.metric),
            result + (f" ({r.few})" if r.few else ""),
            fmt_goal(r.metric.unit, r.goal.op, r.goal.target),
            r.scope,
            _streak_text(r.streak, star_from),
        )
        rows.append(row)
        post.lines.append(f"{row[0]}: {row[1]} (goal {row[2]}, {r.scope})")
    post.blocks.append(
        Table(
            ("goal", "result", "target", "over", "streak"),
            tuple(rows),
            ("l", "r", "r", "l", "l"),
        )
    )


def _other_figures(metrics: Sequence[Metric], ds: DaySums, last: dt.date, min_sample: int) -> str:
    """The last working day's figures of the metrics without a goal, in one line."""
    others = []
    for m in metrics:
        s = team_per_day(ds, m.key).get(last)
        v = combine(m.aggregation, s) if s else None
        if v is not None and s is not None:
            few = "" if enough(m, s, min_sample) else f" ({sample_text(m, sample_of(m, s))})"
            others.append(f"{short_name(m)} {fmt_value(m.unit, v)}{few}")
    return " · ".join(others)


def _movers_text(movers: Sequence[Mover]) -> str:
    return "*Biggest movers* 🚀\n" + "\n".join(
        f"• {mv.name}: {short_name(mv.metric)} {fmt_value(mv.metric.unit, mv.before)} → "
        f"{fmt_value(mv.metric.unit, mv.after)} "
        f"({fmt_change(mv.metric.unit, mv.after - mv.before)})"
        for mv in movers
    )


def _closing(post: _Post, team_goals: Sequence[Goal], by_key: dict[str, Metric]) -> None:
    """Today's goals and the legend; without goals, how to set one."""
    if not team_goals:
        post.blocks.append(
            Context("No goals yet: a lead can set one, e.g. `/goal set aht <= 300s daily`.")
        )
        return
    today_goals = " · ".join(
        f"{short_name(m)} {fmt_goal(m.unit, g.op, g.target)}"
        + ("" if g.period == "daily" else f" ({g.period})")
        for g in team_goals
        for m in (by_key[g.metric_key],)
    )
    post.add(Text(f"*Today's goals:* {today_goals}"), f"Today's goals: {today_goals}")
    post.blocks.append(
        Context(
            "Movers: best improvement vs their previous 7 days · streak: days with figures "
            "in a row on target · a figure with fewer than the minimum contacts is shown, "
            "not judged · `/stats` for the details"
        )
    )


def hint_reply(team: Team) -> Reply:
    text = (
        f"*{team.name}*'s daily goals post has nothing to show yet: "
        "there are no goals and no KPI figures. Add a goal with `/goal set aht <= 300s daily` "
        "(or `/goal set csat >= 90%`), and ask your admin to connect the KPIs "
        "(`leadbot import kpis FILE.csv` or KPI_SOURCE_URL)."
    )
    return Reply(blocks=[Text(text)], text=text)


async def run(ctx: HandlerContext, info: JobRunInfo) -> None:
    """One team's post for the local day of the fire time."""
    if info.team_id is None:
        return
    team = await people.get_team(ctx.db, team_id=info.team_id)
    if team is None or team.id is None:
        return
    # The fire time, not "now": a run that starts late still posts for its own day.
    today = local_today(info.fire_time, team.timezone)
    if today.weekday() not in team_work_days(team):
        log.info("goal update team=%s day=%s: not a working day, no post", team.id, today)
        return
    reply = await build_update(ctx, team, today)
    if reply is None:
        # Whoever leads the team now (a recorded lead since demoted gets nothing).
        lead = current_lead(team, await people.list_people(ctx.db, team_id=team.id))
        if lead is None:
            log.info("goal update team=%s: no goals, no data and no lead; nothing to do", team.id)
            return
        msg = notify.person_message(
            ctx, lead, hint_reply(team), dedupe_key=f"goal_update_hint:{team.id}"
        )
        sent = await goals.send_once(ctx.db, key=f"goal_update_hint:{team.id}", messages=[msg])
        log.info("goal update team=%s: no goals and no data; hint to lead sent=%s", team.id, sent)
        return
    key = f"goal_update:{team.id}:{today.isoformat()}"
    added = await notify.send(ctx, [notify.team_message(team.id, reply, dedupe_key=key)])
    log.info("goal update team=%s day=%s queued=%d", team.id, today, added)


SPEC = JobSpec(
    id=JOB_ID,
    description="Team post_time local on working days: yesterday vs goals, streaks, movers",
    run=run,
    team_cron=team_cron,
)
