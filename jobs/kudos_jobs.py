"""Recognition jobs: the weekly shout-out digest (with the lead's private "quiet achievers"
list) and recognition suggestions found in the KPIs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from domain.fmt import fmt_goal, fmt_value
from domain.localtime import stored_zone
from domain.shifts import is_working_day
from domain.types import Block, Context, Header, Reply, Table, Text, Visibility
from handlers.core import notify
from handlers.core.context import HandlerContext
from handlers.kudos import suggestion_reply
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import kudos as store
from storage import people
from storage.catalogue import list_value_tags
from storage.models import Goal, Metric, Person, Recognition, Team, ValueTag
from storage.outbox import OutboxNew

log = logging.getLogger(__name__)

QUIET_WEEKS = 4
BEST_MIN_HISTORY = 20  # days of data before a "personal best" means something
IMPROVE_MIN_DAYS = 8  # days of data in each month compared
IMPROVE_SHARE = 0.10  # a "big improvement": 10 % of last month's level, in the good direction


def _leader_of(team: Team, by_id: dict[int, Person]) -> Person | None:
    """Who gets a team's private lead messages: the lead, else the manager."""
    return by_id.get(team.lead_id or 0) or by_id.get(team.manager_id or 0)


# --- weekly digest -----------------------------------------------------------------------------


def digest_reply(
    team: Team,
    recs: Sequence[Recognition],
    names: dict[int, str],
    value_names: dict[str, str],
    week_label: str,
) -> Reply:
    """The channel post: who was recognised for what, and counts by value."""
    title = f"🎉 Kudos this week in {team.name}"
    if not recs:
        text = (
            "No kudos this week. Who helped you out? Say thanks with `/kudos @name #value message`."
        )
        return Reply(blocks=[Header(title), Text(text)], text=text, visibility=Visibility.channel)
    groups: dict[str, list[Recognition]] = {}
    for r in sorted(recs, key=lambda r: (r.created_at, r.id or 0)):
        groups.setdefault(r.group_key or str(r.id), []).append(r)
    lines = []
    for rs in groups.values():
        r = rs[0]
        who = ", ".join(names.get(x.receiver_id or 0, "?") for x in rs)
        by = names.get(r.giver_id or 0, "leadbot")
        value = f" ({value_names.get(r.value_tag, r.value_tag)})" if r.value_tag else ""
        msg = r.message if len(r.message) <= 120 else r.message[:119] + "…"
        lines.append(f"• *{who}*{value}, from {by}: {msg}")
    counts: dict[str, int] = {}
    for r in recs:
        label = value_names.get(r.value_tag, r.value_tag) if r.value_tag else "(no value)"
        counts[label] = counts.get(label, 0) + 1
    people_count = len({r.receiver_id for r in recs})
    blocks: list[Block] = [
        Header(title),
        Context(f"{week_label} · {len(recs)} kudos to {people_count} people"),
        Text("\n".join(lines)),
        Text("*By value*"),
        Table(
            ("value", "kudos"),
            tuple((k, str(n)) for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
            ("l", "r"),
        ),
    ]
    text = f"{title}: {len(recs)} kudos to {people_count} people"
    return Reply(blocks=blocks, text=text, visibility=Visibility.channel)


def quiet_reply(
    team: Team, quiet: Sequence[tuple[Person, dt.datetime | None]], pending: int
) -> Reply:
    """The lead's private list of agents not recognised in the last four weeks."""
    title = f"Quiet achievers in {team.name}"
    blocks: list[Block] = [Header(title)]
    if quiet:
        blocks.append(
            Text(
                f"These agents haven't been recognised in the last {QUIET_WEEKS} weeks. "
                "Anything they did well that deserves a word?"
            )
        )
        blocks.append(
            Table(
                ("agent", "last kudos"),
                tuple((p.display_name, f"{when:%d %b}" if when else "never") for p, when in quiet),
            )
        )
    else:
        blocks.append(
            Text(f"Everyone in {team.name} was recognised in the last {QUIET_WEEKS} weeks. 👏")
        )
    if pending:
        blocks.append(Context(f"{pending} kudos suggestion(s) from the KPIs are waiting for you."))
    blocks.append(Context("Only you see this list."))
    return Reply(blocks=blocks, text=f"{title}: {len(quiet)} agent(s)")


async def weekly_digest(ctx: HandlerContext, run: JobRunInfo) -> None:
    """Post the team's week of kudos; send the lead their quiet achievers."""
    if run.team_id is None:
        return
    team = await people.get_team(ctx.db, team_id=run.team_id)
    if team is None:
        return
    end = run.fire_time
    start = end - dt.timedelta(days=7)
    recs = await store.in_range(ctx.db, team_ids=[run.team_id], since=start, until=end)
    agents = await store.team_agents(ctx.db, team_id=run.team_id)
    ids = {r.giver_id for r in recs if r.giver_id} | {r.receiver_id for r in recs if r.receiver_id}
    ids |= {p.id for p in agents if p.id is not None}
    ids |= {i for i in (team.lead_id, team.manager_id) if i}
    by_id = await people.get_people(ctx.db, person_ids=list(ids))
    names = {pid: p.display_name for pid, p in by_id.items()}
    value_names = {v.key: v.name for v in await store.all_value_tags(ctx.db)}
    tz = stored_zone(team.timezone)
    week_label = f"{start.astimezone(tz):%d %b} to {end.astimezone(tz):%d %b}"
    day = f"{end.astimezone(tz):%Y-%m-%d}"
    msgs: list[OutboxNew] = [
        notify.team_message(
            run.team_id,
            digest_reply(team, recs, names, value_names, week_label),
            dedupe_key=f"kudos:digest:{run.team_id}:{day}",
        )
    ]
    leader = _leader_of(team, by_id)
    if leader is not None:
        last = await store.last_recognised(
            ctx.db, person_ids=[p.id for p in agents if p.id is not None]
        )
        cutoff = end - dt.timedelta(weeks=QUIET_WEEKS)
        quiet = [
            (p, last.get(p.id or 0))
            for p in agents
            if last.get(p.id or 0) is None or last[p.id or 0] < cutoff
        ]
        quiet.sort(key=lambda pw: (pw[1] is not None, pw[1] or end, pw[0].display_name))
        pending = len(await store.pending_suggestions(ctx.db, team_id=run.team_id))
        msgs.append(
            notify.person_message(
                ctx,
                leader,
                quiet_reply(team, quiet, pending),
                dedupe_key=f"kudos:quiet:{run.team_id}:{day}",
            )
        )
    await notify.send(ctx, msgs)


# --- suggestions from the KPIs ----------------------------------------------------------------


def _meets(value: float, op: str, target: float) -> bool:
    return {
        ">=": value >= target,
        "<=": value <= target,
        ">": value > target,
        "<": value < target,
    }.get(op, False)


def streak_run(
    values: dict[dt.date, tuple[float, float]],
    goal: Goal,
    work_hours: str,
    last_day: dt.date,
) -> tuple[int, dt.date | None]:
    """Working days in a row, ending on the last working day at or before `last_day`, on
    which the person met the goal: (length, first day of the run).

    A working day without data ends the run (they were off, or nothing was imported).
    """
    day = last_day
    for _ in range(14):
        if _safe_working_day(work_hours, day):
            break
        day -= dt.timedelta(days=1)
    n = 0
    start: dt.date | None = None
    for _ in range(120):
        if _safe_working_day(work_hours, day):
            got = values.get(day)
            if got is None or not _meets(got[0], goal.op, goal.target):
                break
            n += 1
            start = day
        day -= dt.timedelta(days=1)
    return n, start


def _safe_working_day(work_hours: str, day: dt.date) -> bool:
    try:
        return is_working_day(work_hours, day)
    except ValueError:
        return day.weekday() < 5


def _better(a: float, b: float, higher_is_better: bool) -> bool:
    return a > b if higher_is_better else a < b


def _weighted(values: Sequence[tuple[float, float]]) -> float | None:
    w = sum(x[1] for x in values)
    if w <= 0:
        return sum(x[0] for x in values) / len(values) if values else None
    return sum(x[0] * x[1] for x in values) / w


def find_suggestions(
    person: Person,
    goal: Goal,
    metric: Metric,
    values: dict[dt.date, tuple[float, float]],
    yesterday: dt.date,
    streak_days: int,
) -> list[tuple[str, str, str]]:
    """(key, kind, detail) for each suggestion this person earns on this goal."""
    out: list[tuple[str, str, str]] = []
    pid = person.id
    goal_text = fmt_goal(metric.unit, goal.op, goal.target)
    n, start = streak_run(values, goal, person.work_hours, yesterday)
    if n >= streak_days and start is not None:
        out.append(
            (
                f"streak:{pid}:{metric.key}:{start.isoformat()}",
                "streak",
                f"{n} working days in a row on target for {metric.name} (goal {goal_text})",
            )
        )
    latest = max((d for d in values if d <= yesterday), default=None)
    if latest is not None and latest >= yesterday - dt.timedelta(days=3):
        value, weight = values[latest]
        history = [(d, v) for d, v in values.items() if d < latest]
        typical = _weighted([(w, 1.0) for _, (_, w) in history]) or 0.0
        if (
            len(history) >= BEST_MIN_HISTORY
            and weight >= 0.5 * typical
            and all(_better(value, v[0], metric.higher_is_better) for _, v in history)
            and _meets(value, goal.op, goal.target)
        ):
            iso = latest.isocalendar()
            out.append(
                (
                    f"best:{pid}:{metric.key}:{iso.year}-W{iso.week:02d}",
                    "personal_best",
                    f"a personal best {metric.name} of {fmt_value(metric.unit, value)} "
                    f"on {latest:%a %d %b}",
                )
            )
    this_month = yesterday.replace(day=1)
    last_month_end = this_month - dt.timedelta(days=1)
    last_month = last_month_end.replace(day=1)
    before_end = last_month - dt.timedelta(days=1)
    before = before_end.replace(day=1)
    cur = [v for d, v in values.items() if last_month <= d <= last_month_end]
    prev = [v for d, v in values.items() if before <= d <= before_end]
    if len(cur) >= IMPROVE_MIN_DAYS and len(prev) >= IMPROVE_MIN_DAYS:
        a, b = _weighted(cur), _weighted(prev)
        if a is not None and b is not None:
            gain = (a - b) if metric.higher_is_better else (b - a)
            if gain > 0 and gain >= IMPROVE_SHARE * max(abs(b), 1.0):
                out.append(
                    (
                        f"improve:{pid}:{metric.key}:{last_month:%Y-%m}",
                        "improvement",
                        f"{metric.name} improved from {fmt_value(metric.unit, b)} in {before:%B} "
                        f"to {fmt_value(metric.unit, a)} in {last_month:%B}",
                    )
                )
    return out


_KIND_VALUE = {"streak": "ownership", "personal_best": "action", "improvement": "planning"}


@dataclass(frozen=True)
class _Round:
    """What one team's suggestion run proposes from, and to whom."""

    team_id: int
    team: Team
    lead: Person
    agents: dict[int | None, Person]
    value_tags: dict[str, ValueTag]
    yesterday: dt.date
    now: dt.datetime


async def suggestions(ctx: HandlerContext, run: JobRunInfo) -> None:
    """Find streaks, personal bests and big improvements; propose each once to the lead."""
    if run.team_id is None:
        return
    team = await people.get_team(ctx.db, team_id=run.team_id)
    if team is None:
        return
    goals = await store.team_goals(ctx.db, team_id=run.team_id)
    if not goals:
        return
    by_id = await people.get_people(
        ctx.db, person_ids=[i for i in (team.lead_id, team.manager_id) if i]
    )
    leader = _leader_of(team, by_id)
    if leader is None:
        return
    agents = {p.id: p for p in await store.team_agents(ctx.db, team_id=run.team_id)}
    yesterday = run.fire_time.astimezone(stored_zone(team.timezone)).date() - dt.timedelta(days=1)
    since = (yesterday.replace(day=1) - dt.timedelta(days=65)).replace(day=1)
    since = min(since, yesterday - dt.timedelta(days=120))
    value_tags = {v.key: v for v in await list_value_tags(ctx.db)}
    r = _Round(run.team_id, team, leader, agents, value_tags, yesterday, ctx.now())
    made = 0
    for goal, metric in goals:
        data = await store.daily_values(
            ctx.db, team_id=run.team_id, metric_key=metric.key, since=since, until=yesterday
        )
        made += await _propose(ctx, r, goal, metric, data)
    if made:
        log.info("kudos suggestions team=%s new=%d", run.team_id, made)


async def _propose(
    ctx: HandlerContext,
    r: _Round,
    goal: Goal,
    metric: Metric,
    data: dict[int, dict[dt.date, tuple[float, float]]],
) -> int:
    """Record each suggestion the team's agents earn on one goal (each key once) and DM
    the new ones to the lead; how many were new."""
    made = 0
    for pid, values in data.items():
        person = r.agents.get(pid)
        if person is None:
            continue
        for key, kind, detail in find_suggestions(
            person, goal, metric, values, r.yesterday, ctx.settings.streak_days
        ):
            tag = r.value_tags.get(_KIND_VALUE[kind])

            def build(
                sid: int, person: Person = person, detail: str = detail, tag: ValueTag | None = tag
            ) -> list[OutboxNew]:
                reply = suggestion_reply(sid, person.display_name, detail, tag, r.team.name)
                return [
                    notify.person_message(ctx, r.lead, reply, dedupe_key=f"kudos:suggest:{sid}")
                ]

            sid = await store.create_suggestion(
                ctx.db,
                key=key,
                team_id=r.team_id,
                person_id=pid,
                kind=kind,
                detail=detail,
                value_tag=tag.key if tag else None,
                at=r.now,
                messages=build,
            )
            made += sid is not None
    return made


WEEKLY_DIGEST = JobSpec(
    id="kudos.weekly_digest",
    description="Friday 16:00 local: the team's kudos of the week; the lead's quiet achievers",
    run=weekly_digest,
    team_cron=lambda team: Cron(minute="0", hour="16", day_of_week="fri", timezone=team.timezone),
)

SUGGESTIONS = JobSpec(
    id="kudos.suggestions",
    description="Weekdays 08:30 local: kudos suggestions from the KPIs, to the lead",
    run=suggestions,
    team_cron=lambda team: Cron(
        minute="30", hour="8", day_of_week="mon-fri", timezone=team.timezone
    ),
)

JOBS = (WEEKLY_DIGEST, SUGGESTIONS)
