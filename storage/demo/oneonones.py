"""The demo's 1:1s: each lead's recurring one-on-ones, past meetings with notes, agendas."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from domain.localtime import local_to_utc
from domain.shifts import parse_time
from storage.models import AgendaItem, OneOnOne, OneOnOneOccurrence, Person, Team

NOTES = (
    "Talked through AHT on refund calls; try the new macro. Celebrated the CSAT streak.",
    "Career chat: interested in QA. Agreed to shadow a QA session next week.",
    "Adherence dipped after the schedule change; swapped to the earlier shift.",
    "Went through two difficult calls; good de-escalation. No blockers.",
)


def _next_weekday_at(now: dt.datetime, weekday: int, at: str, tz: str) -> dt.datetime:
    local_today = now.astimezone(dt.UTC).date()
    for offset in range(0, 8):
        day = local_today + dt.timedelta(days=offset)
        if day.weekday() == weekday:
            when = local_to_utc(day, parse_time(at), tz)
            if when > now:
                return when
    return local_to_utc(local_today + dt.timedelta(days=7), parse_time(at), tz)


async def seed(
    s: AsyncSession,
    team: Team,
    lead: Person,
    agents: list[Person],
    now: dt.datetime,
) -> None:
    """Fortnightly 1:1s of the lead with five agents: three past meetings each, an agenda."""
    for i, agent in enumerate(agents[:5]):
        weekday = i % 5
        local_time = ("10:00", "11:30", "14:00", "15:30", "09:30")[i]
        next_at = _next_weekday_at(now, weekday, local_time, team.timezone)
        o = OneOnOne(
            lead_id=lead.id or 0,
            agent_id=agent.id or 0,
            cadence_weeks=2,
            weekday=weekday,
            local_time=local_time,
            timezone=team.timezone,
            next_at=next_at,
            created_at=now - dt.timedelta(days=70),
        )
        s.add(o)
        await s.flush()
        assert o.id is not None
        for k in range(1, 4):
            when = next_at - dt.timedelta(weeks=2 * k)
            skipped = i == 3 and k == 1
            s.add(
                OneOnOneOccurrence(
                    one_on_one_id=o.id,
                    scheduled_at=when,
                    status="skipped" if skipped else "held",
                    notes=None if skipped else NOTES[(i + k) % len(NOTES)],
                    reason="agent off sick" if skipped else None,
                    updated_at=when + dt.timedelta(minutes=35),
                )
            )
        if i < 2:
            s.add(
                AgendaItem(
                    one_on_one_id=o.id, author_id=agent.id or 0, text="Shift swap for next month"
                )
            )
            s.add(
                AgendaItem(
                    one_on_one_id=o.id, author_id=lead.id or 0, text="Review last week's CSAT dip"
                )
            )
