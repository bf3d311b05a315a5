"""Which dashboard pages a person has, from their current role (as chat decides it):
the navigation, the landing page, the period choices."""

from __future__ import annotations

import datetime as dt

from domain.errors import NotFound
from domain.localtime import local_today
from domain.periods import day_range_text
from domain.roles import Role
from domain.types import Actor
from handlers.core.access import require_team_view, visible_team_ids
from handlers.core.context import HandlerContext
from handlers.dashboard.models import Landing, NavLink, Page, Period
from storage import people
from storage.models import Team

BASE = "/dashboard"
PERIOD_DAYS = (7, 14, 30, 90, 365)
DEFAULT_DAYS = 30
PULSE_WEEKS = (4, 8, 12, 26, 52)
DEFAULT_WEEKS = 12


def period(now: dt.datetime, tz: str, days: int) -> Period:
    """The chosen number of days ending today (local); unknown choices read as 30."""
    if days not in PERIOD_DAYS:
        days = DEFAULT_DAYS
    end = local_today(now, tz)
    start = end - dt.timedelta(days=days - 1)
    return Period(days, start, end, day_range_text(start, end), PERIOD_DAYS)


async def visible_team(ctx: HandlerContext, actor: Actor, team_id: int) -> Team:
    """The team of a team page, when the viewer may see it (NotAllowed as in chat)."""
    team = await people.get_team(ctx.db, team_id=team_id)
    if team is None:
        raise NotFound("There is no such team.")
    await require_team_view(ctx, actor, team)
    return team


async def landing(ctx: HandlerContext, actor: Actor) -> Landing:
    """A manager's first page is the teams side by side, a lead's their team, anyone
    else's their own figures."""
    if actor.role is Role.manager:
        return Landing(f"{BASE}/manager")
    if actor.role is Role.lead:
        teams = sorted(await visible_team_ids(ctx, actor))
        if teams:
            return Landing(f"{BASE}/team/{teams[0]}")
    return Landing(f"{BASE}/me")


async def page(
    ctx: HandlerContext, actor: Actor, title: str, here: str, *, team_id: int | None = None
) -> Page:
    """The frame of a page: its title and this person's navigation."""
    links: list[tuple[str, str]] = []
    if actor.role is Role.manager:
        links += [("Teams", f"{BASE}/manager"), ("Pulse, all teams", f"{BASE}/pulse")]
    team = team_id
    if team is None and actor.role is Role.lead:
        visible = sorted(await visible_team_ids(ctx, actor))
        team = visible[0] if visible else None
    if team is not None and actor.role in (Role.lead, Role.manager):
        links += [
            ("Team", f"{BASE}/team/{team}"),
            ("Pulse", f"{BASE}/pulse?team={team}"),
            ("Kudos", f"{BASE}/team/{team}/kudos"),
            ("Action items", f"{BASE}/team/{team}/actions"),
        ]
    links.append(("My figures", f"{BASE}/me"))
    nav = tuple(NavLink(label, href, current=href == here) for label, href in links)
    return Page(title=title, nav=nav, viewer=actor.name, role=actor.role.value)
