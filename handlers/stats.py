"""`/stats`: a team's KPIs against its goals, a person's own figures, per-agent breakdowns.

- `/stats` (leads, managers): the team, yesterday and the last 7 days vs goals, the change
  from the 7 days before and a 14-day sparkline. Agents get their own figures.
- `/stats me`, `/stats @person`, `/stats team NAME`, each with an optional period
  (handlers/periods.py) and an optional metric: `/stats aht week` ranks the team's agents
  on that metric, best first (lower is better for AHT), the worst flagged.

Figures come from storage.kpis sums, combined per metric by storage.kpis.combine.
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from domain.errors import NotAllowed, NotFound, UsageError
from domain.fmt import DASH, fmt_delta, fmt_goal, fmt_value, goal_met, mark, sparkline
from domain.kpi import ZERO, DaySums, Sums, combine
from domain.localtime import local_today
from domain.periods import (
    Period,
    day_range_text,
    day_text,
    is_period_word,
    make_period,
    parse_period,
    periods_help,
)
from domain.roles import Role
from domain.types import (
    Actor,
    Block,
    Command,
    Context,
    Fields,
    Header,
    Mention,
    Reply,
    Table,
    Text,
    UnresolvedMention,
)
from handlers.core.access import require_person_view, require_team_view, visible_team_ids
from handlers.core.context import CommandSpec, HandlerContext
from storage import catalogue, goals, kpis, people
from storage.db import Database
from storage.models import Goal, Metric, Person, Team

SPARK_DAYS = 14
MAX_BREAKDOWN_ROWS = 30

METRIC_ALIASES = {
    "sl": "service_level",
    "service": "service_level",
    "servicelevel": "service_level",
    "abandon": "abandon_rate",
    "abandonment": "abandon_rate",
    "abandoned": "abandon_rate",
    "qa": "qa_score",
    "quality": "qa_score",
    "adh": "adherence",
    "occ": "occupancy",
    "handle": "aht",
    "speed": "asa",
}

SHORT_NAMES = {
    "csat": "CSAT",
    "nps": "NPS",
    "fcr": "FCR",
    "aht": "AHT",
    "service_level": "Service level",
    "asa": "ASA",
    "abandon_rate": "Abandoned",
    "occupancy": "Occupancy",
    "adherence": "Adherence",
    "qa_score": "QA score",
}

# Which goal period judges a figure over a period of N days, in order of preference.
_GOAL_PREF_DAY = ("daily", "weekly", "monthly")
_GOAL_PREF_WEEK = ("weekly", "daily", "monthly")
_GOAL_PREF_LONG = ("monthly", "weekly", "daily")


# --- shared helpers (also used by /goal and the daily goal update) ----------------------


def resolve_metric(word: str, metrics: Sequence[Metric]) -> Metric | None:
    """A metric by key, alias (`sl`, `qa`, ...) or name, case-insensitive."""
    w = word.strip().lower().replace("-", "_")
    w = METRIC_ALIASES.get(w, w)
    for m in metrics:
        if m.key == w or m.name.lower() == w.replace("_", " "):
            return m
    return None


def short_name(metric: Metric) -> str:
    """A table-friendly label: `AHT`, `Service level`, or the name cut to 16 characters."""
    return SHORT_NAMES.get(metric.key) or (
        metric.name if len(metric.name) <= 16 else metric.name[:15] + "…"
    )


def metrics_help(metrics: Sequence[Metric]) -> str:
    return "Metrics: " + ", ".join(m.key for m in metrics) + "."


def goal_for(goals_: Sequence[Goal], metric_key: str, days: int) -> Goal | None:
    """The goal that judges a figure over `days` days (a daily goal for one day, ...)."""
    pref = _GOAL_PREF_DAY if days <= 1 else _GOAL_PREF_WEEK if days <= 7 else _GOAL_PREF_LONG
    mine = {g.period: g for g in goals_ if g.metric_key == metric_key}
    for p in pref:
        if p in mine:
            return mine[p]
    return None


def goal_text(metric: Metric, g: Goal | None, *, with_period: bool = True) -> str:
    if g is None:
        return ""
    text = fmt_goal(metric.unit, g.op, g.target)
    if with_period:
        text += {"daily": " /day", "weekly": " /wk", "monthly": " /mo"}.get(g.period, "")
    return text


def spark_days(end: dt.date, n: int = SPARK_DAYS) -> list[dt.date]:
    return [end - dt.timedelta(days=n - 1 - i) for i in range(n)]


def bucket_spark(metric: Metric, per_day: dict[dt.date, Sums], start: dt.date, end: dt.date) -> str:
    """A sparkline over a period: one bar a day up to 14 days, else 14 equal buckets."""
    days = (end - start).days + 1
    if days <= SPARK_DAYS:
        seq = spark_days(end, SPARK_DAYS)
        return sparkline([combine(metric.aggregation, per_day.get(d, ZERO)) for d in seq])
    values: list[float | None] = []
    for i in range(SPARK_DAYS):
        a = start + dt.timedelta(days=days * i // SPARK_DAYS)
        b = start + dt.timedelta(days=days * (i + 1) // SPARK_DAYS - 1)
        total = ZERO
        d = a
        while d <= b:
            total = total + per_day.get(d, ZERO)
            d += dt.timedelta(days=1)
        values.append(combine(metric.aggregation, total))
    return sparkline(values)


def _sum_days(per_day: dict[dt.date, Sums], start: dt.date, end: dt.date) -> Sums:
    total = ZERO
    for d, s in per_day.items():
        if start <= d <= end:
            total = total + s
    return total


def latest_day(yesterday: Period, days_with_data: Sequence[dt.date]) -> tuple[Period, str]:
    """Yesterday, or the last day with figures before it (Friday, seen on a Monday).

    Returns the one-day period and its column heading.
    """
    last = max((d for d in days_with_data if d <= yesterday.end), default=None)
    if last is None or last == yesterday.end:
        return yesterday, "yesterday"
    one = dt.timedelta(days=1)
    return Period("day", last, last, day_text(last), last - one, last - one), day_text(last)


def _window(period: Period) -> tuple[dt.date, dt.date]:
    """The days to read for a period: it, the one before, and the sparkline's days."""
    return min(period.prev_start, period.end - dt.timedelta(days=SPARK_DAYS - 1)), period.end


@dataclass(frozen=True)
class Figure:
    """One metric over one period for a team or a person, with its context."""

    metric: Metric
    value: float | None
    prev: float | None
    volume: float
    spark: str
    goal: Goal | None
    hit: bool | None

    @property
    def delta(self) -> float | None:
        if self.value is None or self.prev is None:
            return None
        return self.value - self.prev


def make_figure(
    metric: Metric,
    per_day: dict[dt.date, Sums],
    period: Period,
    goals_: Sequence[Goal],
) -> Figure:
    cur = _sum_days(per_day, period.start, period.end)
    prev = _sum_days(per_day, period.prev_start, period.prev_end)
    value = combine(metric.aggregation, cur)
    g = goal_for(goals_, metric.key, period.days)
    return Figure(
        metric=metric,
        value=value,
        prev=combine(metric.aggregation, prev),
        volume=cur.w,
        spark=bucket_spark(metric, per_day, period.start, period.end),
        goal=g,
        hit=goal_met(g.op, g.target, value, unit=metric.unit) if g else None,
    )


def team_per_day(ds: DaySums, metric_key: str) -> dict[dt.date, Sums]:
    days = {d for (k, d) in ds.team if k == metric_key} | {
        d for (k, d) in ds.people if k == metric_key
    }
    return {d: ds.chosen(metric_key, d) for d in days}


def value_cell(f: Figure) -> str:
    text = fmt_value(f.metric.unit, f.value)
    m = mark(f.hit)
    return f"{text} {m}" if m else text


def delta_cell(f: Figure) -> str:
    return fmt_delta(f.metric.unit, f.delta, higher_is_better=f.metric.higher_is_better)


# --- the command -----------------------------------------------------------------------


@dataclass
class _Request:
    person: Person | None = None  # a person's figures (me or @someone)
    team: Team | None = None
    period: Period | None = None
    metric: Metric | None = None
    me: bool = False


_METRICS_TTL = 60.0
_metrics_cache: weakref.WeakKeyDictionary[Database, tuple[float, list[Metric]]] = (
    weakref.WeakKeyDictionary()
)


async def metric_catalogue(ctx: HandlerContext) -> list[Metric]:
    """The metric catalogue, cached for a minute per database (admins rarely change it,
    and every /stats needs it before anything else)."""
    hit = _metrics_cache.get(ctx.db)
    now = time.monotonic()
    if hit is not None and now - hit[0] < _METRICS_TTL:
        return hit[1]
    metrics = sorted(await catalogue.list_metrics(ctx.db), key=_catalogue_position)
    _metrics_cache[ctx.db] = (now, metrics)
    return metrics


_POSITION = {row[0]: i for i, row in enumerate(catalogue.BUILTIN_METRICS)}


def _catalogue_position(m: Metric) -> tuple[int, str]:
    """The built-in metrics in the catalogue's order (CSAT, NPS, FCR, AHT, ...), then others."""
    return (_POSITION.get(m.key, len(_POSITION)), m.key)


def goals_first(metrics: Sequence[Metric], goals_: Sequence[Goal]) -> list[Metric]:
    """Metrics with a goal first (what the team works towards), the catalogue order kept."""
    keys = {g.metric_key for g in goals_}
    return sorted(metrics, key=lambda m: m.key not in keys)


async def stats(cmd: Command, ctx: HandlerContext) -> Reply:
    metrics = await metric_catalogue(ctx)
    req = await _parse(cmd, ctx, metrics)
    actor = cmd.actor

    if req.me or req.person is not None:
        person = req.person
        if person is None:
            person = await people.get_person(ctx.db, person_id=actor.person_id)
            if person is None:
                raise NotFound("I can't find you on the roster; ask your admin to add you.")
        await require_person_view(ctx, actor, person)
        today = local_today(ctx.now(), person.timezone)
        team = await people.get_team(ctx.db, team_id=person.team_id) if person.team_id else None
        team_goals = await goals.list_goals(ctx.db, team_ids=[team.id]) if team and team.id else []
        if req.metric is not None:
            period = req.period or make_period("week", today)
            return await _person_metric(ctx, person, req.metric, period, team_goals)
        ordered = goals_first(metrics, team_goals)
        return await _person_overview(ctx, person, ordered, req.period, today, team_goals)

    if actor.role not in (Role.lead, Role.manager):
        if actor.role is Role.agent:
            if req.team is not None:
                raise NotAllowed("Agents can see their own figures only (try `/stats me`).")
            # A bare /stats (with a period or metric) is about oneself for an agent.
            req.me = True
            req.person = None
            return await stats(_as_me(cmd), ctx)
        raise NotAllowed("Only leads and managers can see team figures (try `/stats me`).")

    team = req.team
    extra: list[str] = []
    if team is None and actor.role is Role.manager and req.metric is None:
        visible = await visible_team_ids(ctx, actor)
        if len(visible) > 1 and cmd.channel_team_id not in visible:
            teams = [t for t in await people.list_teams(ctx.db) if t.id in visible]
            return await _manager_overview(ctx, teams, metrics, req.period)
    if team is None:
        team, extra = await default_team(ctx, cmd)
    else:
        await require_team_view(ctx, actor, team)
    assert team.id is not None
    today = local_today(ctx.now(), team.timezone)
    team_goals = await goals.list_goals(ctx.db, team_ids=[team.id])
    if req.metric is not None:
        period = req.period or make_period("week", today)
        reply = await _breakdown(ctx, team, req.metric, period, team_goals)
    elif req.period is not None:
        reply = await _team_period(ctx, team, metrics, req.period, team_goals)
    else:
        reply = await _team_overview(ctx, team, metrics, today, team_goals)
    if extra:
        reply.blocks.append(Context(" ".join(extra)))
    return reply


def _as_me(cmd: Command) -> Command:
    return Command(
        actor=cmd.actor,
        verb=cmd.verb,
        args=("me", *cmd.args),
        raw=cmd.raw,
        platform=cmd.platform,
        channel_team_id=cmd.channel_team_id,
    )


async def _parse(cmd: Command, ctx: HandlerContext, metrics: Sequence[Metric]) -> _Request:
    req = _Request()
    toks = list(cmd.args)
    i = 0
    period_word: str | None = None
    while i < len(toks):
        tok = toks[i]
        i += 1
        if isinstance(tok, UnresolvedMention):
            raise UsageError(f"I don't know {tok.text}: {tok.reason}.")
        if isinstance(tok, Mention):
            if req.person is not None or req.me or req.team is not None:
                raise UsageError("Ask about one person or one team at a time.")
            req.person = await people.get_person(ctx.db, person_id=tok.person_id)
            if req.person is None:
                raise NotFound(f"I can't find {tok.name} on the roster.")
            continue
        word = tok.lower()
        if word == "me":
            if req.person is not None or req.team is not None:
                raise UsageError("Ask about one person or one team at a time.")
            req.me = True
            continue
        if word == "team":
            if req.person is not None or req.me or req.team is not None:
                raise UsageError("Ask about one person or one team at a time.")
            name_words: list[str] = []
            while i < len(toks):
                nxt = toks[i]
                if not isinstance(nxt, str) or is_period_word(nxt) or resolve_metric(nxt, metrics):
                    break
                name_words.append(nxt)
                i += 1
            if not name_words:
                raise UsageError("Name the team, e.g. `/stats team Billing`.")
            name = " ".join(name_words)
            team = await people.get_team_by_name(ctx.db, name=name)
            if team is None:
                teams = await people.list_teams(ctx.db)
                known = ", ".join(t.name for t in teams) or "none yet"
                raise NotFound(f"There is no team called {name!r}. Teams: {known}.")
            req.team = team
            continue
        if is_period_word(word):
            if period_word is not None:
                raise UsageError("Give one period at a time. " + periods_help())
            period_word = word
            continue
        m = resolve_metric(word, metrics)
        if m is not None:
            if req.metric is not None:
                raise UsageError("Give one metric at a time. " + metrics_help(metrics))
            req.metric = m
            continue
        raise UsageError(f"I don't know {tok!r}. {metrics_help(metrics)} {periods_help()}")
    if period_word is not None:
        if req.person is not None:
            tz = req.person.timezone
        elif req.team is not None:
            tz = req.team.timezone
        else:
            tz = cmd.actor.timezone
            if not req.me and cmd.actor.team_id is not None:
                own = await people.get_team(ctx.db, team_id=cmd.actor.team_id)
                tz = own.timezone if own else tz
        req.period = parse_period(period_word, local_today(ctx.now(), tz))
    return req


async def default_team(ctx: HandlerContext, cmd: Command) -> tuple[Team, list[str]]:
    """The lead's own team; for a manager their home team or the first they manage."""
    visible = await visible_team_ids(ctx, cmd.actor)
    if not visible:
        raise NotFound(
            "You aren't the lead or manager of a team yet; ask your admin "
            "(`/leadbot team add @you TEAM as lead`)."
        )
    preferred = cmd.channel_team_id if cmd.channel_team_id in visible else None
    if preferred is None and cmd.actor.team_id in visible:
        preferred = cmd.actor.team_id
    teams = [t for t in await people.list_teams(ctx.db) if t.id in visible]
    team = next((t for t in teams if t.id == preferred), teams[0])
    others = [t.name for t in teams if t.id != team.id]
    extra = [f"Your other teams: {', '.join(others)} (`/stats team NAME`)."] if others else []
    return team, extra


MANAGER_COLUMNS = 5


async def _manager_overview(
    ctx: HandlerContext,
    teams: Sequence[Team],
    metrics: Sequence[Metric],
    period: Period | None,
) -> Reply:
    """A manager's teams side by side over a period (default the last 7 days)."""
    all_goals = await goals.list_goals(ctx.db, team_ids=[t.id for t in teams if t.id])
    # The columns: metrics some team has a goal on, then the usual headline metrics.
    keys = [
        m.key for m in goals_first(metrics, all_goals) if m.key in {g.metric_key for g in all_goals}
    ]
    for k in ("csat", "aht", "fcr", "service_level", "nps"):
        if k not in keys:
            keys.append(k)
    by_key = {m.key: m for m in metrics}
    cols = [by_key[k] for k in keys if k in by_key][:MANAGER_COLUMNS]
    rows: list[tuple[str, ...]] = []
    label = ""
    for team in teams:
        assert team.id is not None
        p = period or make_period("week", local_today(ctx.now(), team.timezone))
        label = p.label
        tg = [g for g in all_goals if g.team_id == team.id]
        start, end = _window(p)
        ds = await kpis.team_day_sums(
            ctx.db, team_id=team.id, metric_keys=[m.key for m in cols], start=start, end=end
        )
        figs = [make_figure(m, team_per_day(ds, m.key), p, tg) for m in cols]
        judged = [f for f in figs if f.hit is not None]
        won = sum(1 for f in judged if f.hit)
        rows.append(
            (
                team.name,
                f"{won}/{len(judged)}" if judged else DASH,
                *(value_cell(f) for f in figs),
            )
        )
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


def _no_data(subject: str, since: dt.date) -> Reply:
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


def _notes(figs: Sequence[Figure], prev_label: str) -> Context:
    parts = [f"Δ vs {prev_label}", "✓ on goal · ✗ missed", "! change for the worse"]
    if any(f.metric.key in ("service_level", "asa", "abandon_rate") for f in figs):
        parts.append("queue metrics use the team's own rows when the source sends them")
    return Context(" · ".join(parts))


async def _team_overview(
    ctx: HandlerContext,
    team: Team,
    metrics: Sequence[Metric],
    today: dt.date,
    team_goals: Sequence[Goal],
) -> Reply:
    assert team.id is not None
    yesterday = make_period("yesterday", today)
    week = make_period("week", today)
    start = today - dt.timedelta(days=SPARK_DAYS)
    ds = await kpis.team_day_sums(
        ctx.db,
        team_id=team.id,
        metric_keys=[m.key for m in metrics],
        start=start,
        end=yesterday.end,
    )
    goal_keys = {g.metric_key for g in team_goals}
    metrics = goals_first(metrics, team_goals)
    yesterday, day_head = latest_day(yesterday, [d for (_k, d) in (*ds.team, *ds.people)])
    rows: list[tuple[str, ...]] = []
    figs: list[Figure] = []
    for m in metrics:
        per_day = team_per_day(ds, m.key)
        if not per_day and m.key not in goal_keys:
            continue
        fy = make_figure(m, per_day, yesterday, team_goals)
        fw = make_figure(m, per_day, week, team_goals)
        figs.append(fw)
        g = fy.goal or fw.goal
        rows.append(
            (
                short_name(m),
                value_cell(fy),
                value_cell(fw),
                delta_cell(fw),
                goal_text(m, g),
                fw.spark,
            )
        )
    if not figs:
        return _no_data(team.name, start)
    hits = [f for f in figs if f.hit is not None]
    title = f"{team.name} · {day_text(yesterday.end)} and last 7 days"
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
    blocks.append(_notes(figs, "the 7 days before"))
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
    start, end = _window(period)
    ds = await kpis.team_day_sums(
        ctx.db, team_id=team.id, metric_keys=[m.key for m in metrics], start=start, end=end
    )
    figs = [
        make_figure(m, team_per_day(ds, m.key), period, team_goals)
        for m in goals_first(metrics, team_goals)
    ]
    goal_keys = {g.metric_key for g in team_goals}
    figs = [
        f for f in figs if f.value is not None or f.prev is not None or f.metric.key in goal_keys
    ]
    return _period_reply(f"{team.name} · {period.label}", period, figs)


def _period_reply(title: str, period: Period, figs: Sequence[Figure]) -> Reply:
    if not figs:
        return _no_data(title.split(" · ")[0], period.start)
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
        _notes(figs, prev_text),
    ]
    text = title + "\n" + "\n".join(f"{r[0]}: {r[1]} ({r[3]}) {r[4]}" for r in rows)
    return Reply(blocks=blocks, text=text)


async def _person_figures(
    ctx: HandlerContext,
    person: Person,
    metrics: Sequence[Metric],
    start: dt.date,
    end: dt.date,
) -> dict[str, dict[dt.date, Sums]]:
    assert person.id is not None
    raw = await kpis.person_day_sums(
        ctx.db, person_id=person.id, metric_keys=[m.key for m in metrics], start=start, end=end
    )
    out: dict[str, dict[dt.date, Sums]] = {}
    for (key, day), s in raw.items():
        out.setdefault(key, {})[day] = s
    return out


async def _person_overview(
    ctx: HandlerContext,
    person: Person,
    metrics: Sequence[Metric],
    period: Period | None,
    today: dt.date,
    team_goals: Sequence[Goal],
) -> Reply:
    if period is not None:
        start, end = _window(period)
        data = await _person_figures(ctx, person, metrics, start, end)
        pfigs = [make_figure(m, data[m.key], period, team_goals) for m in metrics if m.key in data]
        pfigs = [f for f in pfigs if f.value is not None or f.prev is not None]
        return _period_reply(f"{person.display_name} · {period.label}", period, pfigs)
    yesterday = make_period("yesterday", today)
    week = make_period("week", today)
    start = today - dt.timedelta(days=SPARK_DAYS)
    data = await _person_figures(ctx, person, metrics, start, yesterday.end)
    yesterday, day_head = latest_day(yesterday, [d for per in data.values() for d in per])
    rows: list[tuple[str, ...]] = []
    figs: list[Figure] = []
    for m in metrics:
        if m.key not in data:
            continue
        fy = make_figure(m, data[m.key], yesterday, team_goals)
        fw = make_figure(m, data[m.key], week, team_goals)
        figs.append(fw)
        rows.append(
            (
                short_name(m),
                value_cell(fy),
                value_cell(fw),
                delta_cell(fw),
                goal_text(m, fy.goal or fw.goal),
                fw.spark,
            )
        )
    if not figs:
        return _no_data(person.display_name, start)
    title = f"{person.display_name} · {day_text(yesterday.end)} and last 7 days"
    blocks: list[Block] = [
        Header(title),
        Table(
            ("metric", day_head, "7 days", "Δ prior 7d", "team goal", "14 days"),
            tuple(rows),
            ("l", "r", "r", "r", "r", "l"),
        ),
        _notes(figs, "the 7 days before"),
    ]
    text = title + "\n" + "\n".join(f"{r[0]}: {r[1]} / {r[2]} ({r[3]})" for r in rows)
    return Reply(blocks=blocks, text=text)


async def _person_metric(
    ctx: HandlerContext,
    person: Person,
    metric: Metric,
    period: Period,
    team_goals: Sequence[Goal],
) -> Reply:
    """One person, one metric: the period's figure and its days (or weeks)."""
    start, end = _window(period)
    data = (await _person_figures(ctx, person, [metric], start, end)).get(metric.key, {})
    f = make_figure(metric, data, period, team_goals)
    if f.value is None and f.prev is None:
        return _no_data(f"{person.display_name} ({metric.name})", period.start)
    title = f"{person.display_name} · {metric.name} · {period.label}"
    summary = (
        f"*{value_cell(f)}* over {period.range_text}"
        + (f" (goal {goal_text(metric, f.goal)})" if f.goal else "")
        + f", {delta_cell(f)} vs {day_range_text(period.prev_start, period.prev_end)}."
    )
    rows: list[tuple[str, ...]] = []
    d = period.start
    if period.days <= 31:
        while d <= period.end:
            s = data.get(d)
            v = combine(metric.aggregation, s) if s else None
            hit = (
                goal_met(f.goal.op, f.goal.target, v, unit=metric.unit)
                if f.goal and f.goal.period == "daily"
                else None
            )
            rows.append(
                (
                    day_text(d),
                    fmt_value(metric.unit, v) + (f" {mark(hit)}" if hit is not None else ""),
                    f"{s.w:,.0f}" if s else "",
                )
            )
            d += dt.timedelta(days=1)
    blocks: list[Block] = [Header(title), Text(summary)]
    if rows:
        blocks.append(Table(("day", metric.key, "contacts"), tuple(rows), ("l", "r", "r")))
    blocks.append(Context(f"trend {f.spark} · {metric.description}"))
    return Reply(blocks=blocks, text=f"{title}: {fmt_value(metric.unit, f.value)}")


async def _breakdown(
    ctx: HandlerContext,
    team: Team,
    metric: Metric,
    period: Period,
    team_goals: Sequence[Goal],
) -> Reply:
    """Every agent of the team on one metric, best first (direction-aware)."""
    assert team.id is not None
    spark_start = period.end - dt.timedelta(days=SPARK_DAYS - 1)
    raw = await kpis.metric_days_by_person(
        ctx.db,
        team_id=team.id,
        metric_key=metric.key,
        start=min(period.prev_start, spark_start),
        end=period.end,
    )
    # Fold the per-person, per-day sums into what the view needs, in one pass.
    cur: dict[tuple[int, None], Sums] = {}
    prev: dict[tuple[int, None], Sums] = {}
    daily: dict[tuple[int, dt.date], Sums] = {}
    team_rows: dict[dt.date, Sums] = {}
    people_rows: dict[dt.date, Sums] = {}
    for (pid, day), sums in raw.items():
        if pid is None:
            team_rows[day] = sums
            continue
        people_rows[day] = people_rows.get(day, ZERO) + sums
        if period.start <= day <= period.end:
            cur[(pid, None)] = cur.get((pid, None), ZERO) + sums
        if period.prev_start <= day <= period.prev_end:
            prev[(pid, None)] = prev.get((pid, None), ZERO) + sums
        if day >= spark_start:
            daily[(pid, day)] = sums
    ds = DaySums(
        team={(metric.key, d): v for d, v in team_rows.items()},
        people={(metric.key, d): v for d, v in people_rows.items()},
    )
    team_fig = make_figure(metric, team_per_day(ds, metric.key), period, team_goals)
    roster = await people.list_people(ctx.db, team_id=team.id)
    names = {p.id: p for p in roster if p.id is not None}
    ids = {pid for (pid, _) in cur} | {p.id for p in roster if p.role is Role.agent and p.id}
    if ids - names.keys():  # people who have since left the team
        names.update(await people.get_people(ctx.db, person_ids=list(ids - names.keys())))
    g = team_fig.goal

    ranked: list[tuple[float, str, Figure]] = []
    missing: list[str] = []
    for pid in ids:
        p = names.get(pid)
        name = p.display_name if p else f"#{pid}"
        s = cur.get((pid, None))
        value = combine(metric.aggregation, s) if s else None
        if value is None:
            missing.append(name)
            continue
        ps = prev.get((pid, None))
        days = spark_days(period.end)
        spark = sparkline([combine(metric.aggregation, daily.get((pid, d), ZERO)) for d in days])
        fig = Figure(
            metric=metric,
            value=value,
            prev=combine(metric.aggregation, ps) if ps else None,
            volume=s.w if s else 0,
            spark=spark,
            goal=g,
            hit=goal_met(g.op, g.target, value, unit=metric.unit) if g else None,
        )
        ranked.append((value, name, fig))
    if not ranked:
        if team_fig.value is not None:
            text = (
                f"{metric.name} for {team.name} is {fmt_value(metric.unit, team_fig.value)} "
                f"over {period.label}; it is measured for the queue, not per agent."
            )
            return Reply(blocks=[Header(f"{metric.name} · {team.name}"), Text(text)], text=text)
        return _no_data(f"{team.name} ({metric.name})", period.start)
    ranked.sort(key=lambda r: (-r[0] if metric.higher_is_better else r[0], r[1]))
    n = len(ranked)
    shown = list(enumerate(ranked, start=1))
    cut = 0
    if n > MAX_BREAKDOWN_ROWS:
        half = MAX_BREAKDOWN_ROWS // 2
        cut = n - 2 * half
        shown = shown[:half] + shown[-half:]
    rows: list[tuple[str, ...]] = []
    for rank, (_v, name, fig) in shown:
        flag = ""
        if n > 1 and rank == 1:
            flag = "best"
        elif n > 1 and rank == n:
            flag = "⚠ lowest"
        rows.append(
            (
                str(rank),
                name,
                value_cell(fig),
                f"{fig.volume:,.0f}",
                delta_cell(fig),
                fig.spark,
                flag,
            )
        )
    title = f"{metric.name} · {team.name} · {period.label}"
    if period.key != "range":
        title += f" ({period.range_text})"
    summary = f"Team *{value_cell(team_fig)}*"
    if g is not None:
        summary += f" (goal {goal_text(metric, g)})"
    summary += f", {delta_cell(team_fig)} vs the period before."
    better = "lower" if not metric.higher_is_better else "higher"
    if g is not None:
        on = sum(1 for _, _, f in ranked if f.hit)
        summary += f" {on} of {n} agents on goal."
    blocks: list[Block] = [
        Header(title),
        Text(summary),
        Table(
            ("#", "agent", metric.key, "contacts", "Δ", "14 days", ""),
            tuple(rows),
            ("r", "l", "r", "r", "r", "l", "l"),
        ),
    ]
    notes = [f"Best first ({better} is better)."]
    if cut:
        notes.append(f"{cut} agents in the middle not shown.")
    if missing:
        notes.append("No figures: " + ", ".join(sorted(missing)) + ".")
    blocks.append(Context(" ".join(notes)))
    text = title + "\n" + "\n".join(f"{r[0]}. {r[1]}: {r[2]} {r[6]}".rstrip() for r in rows)
    return Reply(blocks=blocks, text=text)


COMMAND = CommandSpec(
    verb="stats",
    summary="Team KPIs against goals, your own figures, per-agent breakdowns",
    usage=(
        "/stats [PERIOD]                       your team (leads, managers); your own (agents)",
        "/stats me [METRIC] [PERIOD]",
        "/stats @person [METRIC] [PERIOD]",
        "/stats team NAME [METRIC] [PERIOD]",
        "/stats METRIC [PERIOD]                every agent on one metric, best first",
        "PERIOD: today | yesterday | week | month | 30d | YYYY-MM-DD[..YYYY-MM-DD]",
    ),
    handler=lambda cmd, _args, ctx: stats(cmd, ctx),  # TEMP shim
    examples=("/stats", "/stats aht week", "/stats me month", "/stats team Billing csat 30d"),
)


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """KPIs at a glance: an agent's own last 7 days, a lead's team against its goals."""
    if actor.team_id is None or actor.role is Role.admin:
        return []
    team = await people.get_team(ctx.db, team_id=actor.team_id)
    if team is None or team.id is None:
        return []
    metrics = await metric_catalogue(ctx)
    team_goals = await goals.list_goals(ctx.db, team_ids=[team.id])
    keys = {g.metric_key for g in team_goals} or {"aht", "csat", "fcr"}
    shown = [m for m in metrics if m.key in keys]
    if actor.role is Role.agent:
        today = local_today(ctx.now(), actor.timezone)
        week = make_period("week", today)
        raw = await kpis.person_day_sums(
            ctx.db,
            person_id=actor.person_id,
            metric_keys=[m.key for m in shown],
            start=week.prev_start,
            end=week.end,
        )
        per: dict[str, dict[dt.date, Sums]] = {}
        for (key, day), s in raw.items():
            per.setdefault(key, {})[day] = s
        title, scope = "Your KPIs", "last 7 days"
    else:
        today = local_today(ctx.now(), team.timezone)
        week = make_period("week", today)
        ds = await kpis.team_day_sums(
            ctx.db,
            team_id=team.id,
            metric_keys=[m.key for m in shown],
            start=week.prev_start,
            end=week.end,
        )
        per = {m.key: team_per_day(ds, m.key) for m in shown}
        title, scope = f"{team.name} KPIs", "last 7 days"
    figs = [make_figure(m, per[m.key], week, team_goals) for m in shown if per.get(m.key)]
    figs = [f for f in figs if f.value is not None]
    if not figs:
        return []
    pairs = tuple(
        (short_name(f.metric), f"{value_cell(f)}  {delta_cell(f)}".rstrip()) for f in figs
    )
    judged = [f for f in figs if f.hit is not None]
    blocks: list[Block] = [Header(title)]
    if judged:
        won = sum(1 for f in judged if f.hit)
        if actor.role is Role.agent:
            blocks.append(Text(f"You're on target for *{won} of {len(judged)}* team goals."))
        else:
            blocks.append(Text(f"*{won} of {len(judged)}* goals on target."))
    blocks.append(Fields(pairs))
    hint = "`/stats me` for the details" if actor.role is Role.agent else "`/stats` for more"
    blocks.append(Context(f"{scope}, vs the 7 days before · {hint}"))
    return blocks
