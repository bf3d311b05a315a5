"""The demo's goals: each team's targets for AHT, CSAT, service level and FCR."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Goal, Person, Team


async def seed(s: AsyncSession, team: Team, lead: Person, now: dt.datetime) -> None:
    """Four goals of the team, set by its lead 60 days ago."""
    assert team.id is not None
    since = now - dt.timedelta(days=60)
    for metric, op, target, period in (
        ("aht", "<=", 300.0, "daily"),
        ("csat", ">=", 85.0, "daily"),
        ("service_level", ">=", 80.0, "daily"),
        ("fcr", ">=", 75.0, "weekly"),
    ):
        s.add(
            Goal(
                team_id=team.id,
                metric_key=metric,
                op=op,
                target=target,
                period=period,
                set_by_id=lead.id,
                since=since,
            )
        )
