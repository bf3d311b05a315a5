"""Yesterday's incidents for the daily goal post: count, longest, worst queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.alerts import duration_text
from domain.localtime import local_to_utc
from handlers.alerts.render import summary_of
from handlers.core.context import HandlerContext
from storage import alerts
from storage.models import Team


@dataclass(frozen=True)
class IncidentDigest:
    count: int
    longest: dt.timedelta | None
    worst_queue: str | None  # the queue with the most incidents (ties: by name)


async def yesterday_incidents(ctx: HandlerContext, team: Team, *, today: dt.date) -> IncidentDigest:
    """The incidents of `team` opened on the local day before `today`."""
    assert team.id is not None
    day = today - dt.timedelta(days=1)
    start = local_to_utc(day, dt.time(0, 0), team.timezone)
    end = local_to_utc(today, dt.time(0, 0), team.timezone)
    found = await alerts.incidents_between(ctx.db, team_ids=[team.id], start=start, end=end)
    s = summary_of(found, now=ctx.now())
    return IncidentDigest(s.count, s.longest, s.worst_queue)


def incidents_line(d: IncidentDigest) -> str | None:
    """`Yesterday: 3 queue alerts, the longest 42 min; most on Billing voice.` (None: none)."""
    if d.count == 0:
        return None
    longest = f", the longest {duration_text(d.longest)}" if d.longest else ""
    where = (
        f"; most on {d.worst_queue}"
        if d.worst_queue and d.count > 1
        else (f" on {d.worst_queue}" if d.worst_queue else "")
    )
    noun = "queue alert" if d.count == 1 else "queue alerts"
    return f"Yesterday: {d.count} {noun}{longest}{where}. `/alert history` has the details."
