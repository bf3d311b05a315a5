"""The kudos page: the leaderboard by period, values, who recognises whom (by role,
counts only), and the quiet achievers, which only the team's lead sees (as the weekly
job sends them only to the lead, or to the manager of a team without one)."""

from __future__ import annotations

import datetime as dt

from domain.localtime import local_date, local_to_utc, local_today
from domain.roles import Role
from domain.types import Actor
from handlers.core.context import HandlerContext
from handlers.dashboard.models import KudosPage, Ranked
from handlers.dashboard.nav import BASE, page, visible_team
from storage import dashboard as store
from storage import kudos, people
from storage.models import Team

PERIODS = ("week", "month", "quarter", "year")
QUIET_WEEKS = 4  # as the weekly job's private list to the lead
TREND_WEEKS = 12
_ROLE_LABEL = {
    "agent": "agents",
    "lead": "leads",
    "manager": "managers",
    "admin": "admins",
    "leadbot": "leadbot (suggested)",
}


def period_start(now: dt.datetime, tz: str, period: str) -> tuple[dt.datetime, str]:
    """Start (UTC) of the current local week/month/quarter/year and a label for it, as
    `/kudos top` counts them."""
    today = local_today(now, tz)
    if period == "week":
        day = today - dt.timedelta(days=today.weekday())
        label = f"week of {day:%d %b}"
    elif period == "quarter":
        day = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        label = f"Q{(today.month - 1) // 3 + 1} {today.year}"
    elif period == "year":
        day = today.replace(month=1, day=1)
        label = str(today.year)
    else:
        day = today.replace(day=1)
        label = f"{today:%B %Y}"
    return local_to_utc(day, dt.time(0, 0), tz), label


def sees_quiet(actor: Actor, team: Team) -> bool:
    """The team's lead; the manager only for a team without a lead."""
    if team.lead_id is not None:
        return team.lead_id == actor.person_id
    return actor.role is Role.manager and team.manager_id == actor.person_id


async def kudos_page(ctx: HandlerContext, actor: Actor, team_id: int, period: str) -> KudosPage:
    """Recognition in one team over the current week, month, quarter or year."""
    team = await visible_team(ctx, actor, team_id)
    if period not in PERIODS:
        period = "month"
    now = ctx.now()
    since, label = period_start(now, team.timezone, period)
    board = await kudos.leaderboard(ctx.db, team_ids=[team_id], since=since, until=now)
    names = await people.get_people(ctx.db, person_ids=[pid for pid, _ in board.by_person])
    ranked = []
    rank, last = 0, -1
    for i, (pid, n) in enumerate(board.by_person[:20]):
        if n != last:
            rank, last = i + 1, n
        p = names.get(pid)
        ranked.append(Ranked(rank, p.display_name if p else "(removed)", n))
    tags = {v.key: v.name for v in await kudos.all_value_tags(ctx.db)}
    values = tuple(
        (tags.get(k, k) if k else "(no value)", n, f"{100 * n / board.total:.0f}%")
        for k, n in board.by_value
    )
    flows = await store.kudos_flows(ctx.db, team_ids=[team_id], since=since, until=now)
    grid: dict[tuple[str, str], list[int]] = {}
    for f in flows:
        cell = grid.setdefault((f.giver_role, f.receiver_role), [0, 0])
        cell[0 if f.same_team else 1] += f.count
    flow_rows = tuple(
        (_ROLE_LABEL.get(g, g), _ROLE_LABEL.get(r, r), same, other)
        for (g, r), (same, other) in sorted(grid.items(), key=lambda kv: -sum(kv[1]))
    )
    quiet = await _quiet(ctx, team, now) if sees_quiet(actor, team) else None
    weeks = await _weekly(ctx, team, now)
    frame = await page(
        ctx, actor, f"{team.name}: kudos", f"{BASE}/team/{team_id}/kudos", team_id=team_id
    )
    return KudosPage(
        page=frame,
        team_id=team_id,
        team_name=team.name,
        period=period,
        period_label=label,
        choices=PERIODS,
        total=board.total,
        leaderboard=tuple(ranked),
        values=values,
        flows=flow_rows,
        quiet=quiet,
        weeks=weeks,
        data_url=f"{BASE}/api/team/{team_id}/kudos",
    )


async def _weekly(
    ctx: HandlerContext, team: Team, now: dt.datetime
) -> tuple[tuple[dt.date, int], ...]:
    """Kudos received in the team per local week (Monday to Sunday), the last TREND_WEEKS."""
    assert team.id is not None
    today = local_today(now, team.timezone)
    first = today - dt.timedelta(days=today.weekday(), weeks=TREND_WEEKS - 1)
    since = local_to_utc(first, dt.time(0, 0), team.timezone)
    counts = dict.fromkeys((first + dt.timedelta(weeks=i) for i in range(TREND_WEEKS)), 0)
    for r in await kudos.in_range(ctx.db, team_ids=[team.id], since=since, until=now):
        day = local_date(r.created_at, team.timezone)
        monday = day - dt.timedelta(days=day.weekday())
        if monday in counts:
            counts[monday] += 1
    return tuple(counts.items())


async def _quiet(ctx: HandlerContext, team: Team, now: dt.datetime) -> tuple[tuple[str, str], ...]:
    """Active agents not recognised in the last QUIET_WEEKS weeks, never-recognised first."""
    assert team.id is not None
    agents = await kudos.team_agents(ctx.db, team_id=team.id)
    last = await kudos.last_recognised(ctx.db, person_ids=[p.id for p in agents if p.id])
    cutoff = now - dt.timedelta(weeks=QUIET_WEEKS)
    quiet = [(p, last.get(p.id or 0)) for p in agents if (last.get(p.id or 0) or cutoff) <= cutoff]
    quiet.sort(key=lambda pw: (pw[1] is not None, pw[1] or now, pw[0].display_name))
    return tuple((p.display_name, f"{w:%d %b %Y}" if w else "never") for p, w in quiet)
