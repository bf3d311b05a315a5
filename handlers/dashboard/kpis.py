"""The KPI pages: a team's KPIs against their goals with the agent x metric heatmap, one
person's own trends, and a manager's teams side by side.

Figures are computed the way `/stats` computes them: the sums of domain/kpi.py combined
per metric, a team's queue rows preferred (handlers/core/metrics.team_per_day), each day
judged by the team's daily goal and a whole period by the goal for a period that long
(goal_for). Access is handlers/core/access.py's, exactly as in chat.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import NotAllowed
from domain.fmt import fmt_value, goal_met, mark
from domain.kpi import combine
from domain.roles import Role
from domain.types import Actor
from handlers.core.access import require_person_view, visible_team_ids
from handlers.core.context import HandlerContext
from handlers.core.metrics import (
    goal_for,
    goal_text,
    goals_first,
    metric_catalogue,
    short_name,
    sum_days,
    team_per_day,
)
from handlers.core.series import series_for
from handlers.dashboard import intraday
from handlers.dashboard.models import (
    AgentPage,
    Cell,
    Heatmap,
    HeatRow,
    Level,
    ManagerMetric,
    ManagerPage,
    Period,
    TeamColumn,
    TeamPage,
)
from handlers.dashboard.nav import BASE, page, period, visible_team
from storage import dashboard as store
from storage import goals, kpis, people
from storage.models import Goal as GoalRow
from storage.models import Metric, Person, Team

NEAR_SHARE = 0.05  # within 5 % of the target (on the wrong side) reads as "near"


def level(metric: Metric, g: GoalRow | None, value: float | None) -> Level:
    """good (meets the goal), near (misses by under 5 %), bad, or none (no value/goal)."""
    if g is None or value is None:
        return "none"
    if goal_met(g.op, g.target, value, unit=metric.unit):
        return "good"
    scale = abs(g.target) or 1.0
    return "near" if abs(value - g.target) <= NEAR_SHARE * scale else "bad"


async def team_page(
    ctx: HandlerContext, actor: Actor, team_id: int, days: int, *, heatmap: bool = True
) -> TeamPage:
    """A team's KPIs against their goals, the agent x metric heatmap and the day's curve
    (the data endpoint, which draws only the charts, passes heatmap=False)."""
    team = await visible_team(ctx, actor, team_id)
    p = period(ctx.now(), team.timezone, days)
    metrics = await metric_catalogue(ctx.db)
    team_goals = await goals.list_goals(ctx.db, team_ids=[team_id])
    ordered = goals_first(metrics, team_goals)
    keys = [m.key for m in ordered]
    ds = await kpis.team_day_sums(
        ctx.db, team_id=team_id, metric_keys=keys, start=p.start, end=p.end
    )
    per_metric = {m.key: team_per_day(ds, m.key) for m in ordered}
    series = [series_for(m, per_metric[m.key], p.start, p.end, team_goals) for m in ordered]
    with_data = [s for s in series if any(v is not None for v in s.values)]
    shown = [m for m in ordered if m.key in {s.key for s in with_data}]
    heat = await _heatmap(ctx, team, shown, p, team_goals) if heatmap else Heatmap((), (), ())
    curve = await intraday.day_curve(ctx, team, p.end, shown, known=(p.start, per_metric))
    frame = await page(ctx, actor, f"{team.name}: KPIs", f"{BASE}/team/{team_id}", team_id=team_id)
    return TeamPage(
        page=frame,
        team_id=team_id,
        team_name=team.name,
        period=p,
        series=tuple(with_data),
        heatmap=heat,
        curve=curve,
        data_url=f"{BASE}/api/team/{team_id}?days={p.days}",
    )


async def _heatmap(
    ctx: HandlerContext,
    team: Team,
    metrics: Sequence[Metric],
    p: Period,
    team_goals: Sequence[GoalRow],
) -> Heatmap:
    assert team.id is not None
    sums = await store.people_metric_sums(
        ctx.db, team_id=team.id, metric_keys=[m.key for m in metrics], start=p.start, end=p.end
    )
    # Queue metrics (service level, ASA, abandonment) come per team, not per agent.
    metrics = [m for m in metrics if any(k == m.key for _, k in sums)]
    person_ids = sorted({pid for pid, _ in sums})
    names = await people.get_people(ctx.db, person_ids=person_ids)
    judged = [goal_for(team_goals, m.key, p.days) for m in metrics]
    rows = []
    for pid in sorted(person_ids, key=lambda i: names[i].display_name if i in names else ""):
        cells = []
        for m, g in zip(metrics, judged, strict=True):
            s = sums.get((pid, m.key))
            v = combine(m.aggregation, s) if s is not None else None
            hit = None if g is None else goal_met(g.op, g.target, v, unit=m.unit)
            cells.append(Cell(fmt_value(m.unit, v), level(m, g, v), mark(hit)))
        person = names.get(pid)
        rows.append(HeatRow(pid, person.display_name if person else "(removed)", tuple(cells)))
    return Heatmap(
        columns=tuple(short_name(m) for m in metrics),
        goals=tuple(goal_text(m, g) for m, g in zip(metrics, judged, strict=True)),
        rows=tuple(rows),
    )


async def agent_page(
    ctx: HandlerContext, actor: Actor, person_id: int | None, days: int
) -> AgentPage:
    """One person's own trends (an agent: only their own), judged by their team's goals."""
    pid = actor.person_id if person_id is None else person_id
    person = await people.get_person(ctx.db, person_id=pid)
    try:
        if person is None:
            raise NotAllowed("no such person")
        await require_person_view(ctx, actor, person)
    except NotAllowed:
        # Chat's message names the person; a URL holds only an id, so it says less, and
        # the same for an id nobody has.
        raise NotAllowed("That person isn't in a team of yours.") from None
    p = period(ctx.now(), person.timezone, days)
    team = await people.get_team(ctx.db, team_id=person.team_id) if person.team_id else None
    team_goals = await goals.list_goals(ctx.db, team_ids=[team.id]) if team and team.id else []
    ordered = goals_first(await metric_catalogue(ctx.db), team_goals)
    raw = await kpis.person_day_sums(
        ctx.db, person_id=pid, metric_keys=[m.key for m in ordered], start=p.start, end=p.end
    )
    series = [
        series_for(m, {d: s for (k, d), s in raw.items() if k == m.key}, p.start, p.end, team_goals)
        for m in ordered
    ]
    mine = pid == actor.person_id
    here = f"{BASE}/me" if mine else f"{BASE}/agent/{pid}"
    frame = await page(
        ctx,
        actor,
        "My figures" if mine else f"{person.display_name}: figures",
        here,
        team_id=None if mine or team is None else team.id,
    )
    data = f"{BASE}/api/me?days={p.days}" if mine else f"{BASE}/api/agent/{pid}?days={p.days}"
    return AgentPage(
        page=frame,
        person_id=pid,
        name=person.display_name,
        team_name=team.name if team else "no team",
        period=p,
        series=tuple(s for s in series if any(v is not None for v in s.values)),
        data_url=data,
    )


async def manager_page(ctx: HandlerContext, actor: Actor, days: int) -> ManagerPage:
    """The teams under a manager side by side: each metric's period figure per team, and
    one line per team for each metric."""
    if actor.role is not Role.manager:
        raise NotAllowed("The teams side by side are for managers.")
    ids = sorted(await visible_team_ids(ctx, actor))
    teams = [t for t in await people.list_teams(ctx.db) if t.id in ids]
    teams.sort(key=lambda t: t.name)
    tz = actor.timezone
    p = period(ctx.now(), tz, days)
    team_ids = [t.id for t in teams if t.id is not None]
    metrics = await metric_catalogue(ctx.db)
    all_goals = await goals.list_goals(ctx.db, team_ids=team_ids)
    ordered = goals_first(metrics, all_goals)
    sums = await store.teams_day_sums(
        ctx.db, team_ids=team_ids, metric_keys=[m.key for m in ordered], start=p.start, end=p.end
    )
    by_team = {tid: [g for g in all_goals if g.team_id == tid] for tid in team_ids}
    rows = []
    for m in ordered:
        series = [
            series_for(m, team_per_day(sums[tid], m.key), p.start, p.end, by_team[tid])
            for tid in team_ids
        ]
        if not any(v is not None for s in series for v in s.values):
            continue
        cells = []
        for tid, s in zip(team_ids, series, strict=True):
            g = goal_for(by_team[tid], m.key, p.days)
            total = combine(m.aggregation, sum_days(team_per_day(sums[tid], m.key), p.start, p.end))
            cells.append(Cell(s.period_value, level(m, g, total), mark(s.period_met)))
        rows.append(
            ManagerMetric(
                key=m.key,
                label=short_name(m),
                unit=m.unit,
                cells=tuple(cells),
                goals=tuple(s.period_goal for s in series),
                days=series[0].days,
                lines=tuple(s.values for s in series),
            )
        )
    columns = await _columns(ctx, teams)
    frame = await page(ctx, actor, "Teams side by side", f"{BASE}/manager")
    return ManagerPage(
        page=frame,
        period=p,
        teams=columns,
        metrics=tuple(rows),
        data_url=f"{BASE}/api/manager?days={p.days}",
    )


async def _columns(ctx: HandlerContext, teams: Sequence[Team]) -> tuple[TeamColumn, ...]:
    everyone = await people.list_people(ctx.db)
    by_id: dict[int, Person] = {p.id: p for p in everyone if p.id is not None}
    cols = []
    for t in teams:
        assert t.id is not None
        lead = by_id.get(t.lead_id or 0)
        agents = sum(1 for p in everyone if p.team_id == t.id and p.role is Role.agent and p.active)
        cols.append(TeamColumn(t.id, t.name, lead.display_name if lead else "no lead", agents))
    return tuple(cols)
