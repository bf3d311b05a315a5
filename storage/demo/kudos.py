"""The demo's kudos: recognitions in each team, each with a value tag."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, Recognition, Team

KUDOS = (
    ("Calmed down a customer who had been double-billed and fixed it in one call", "ownership"),
    ("Shared the refund-macro shortcut with the whole team", "partnership"),
    ("Flagged the outage pattern early so we could warn customers", "communication"),
    ("Picked up the overflow queue without being asked", "action"),
    ("Planned the holiday cover so nobody was left alone on the late shift", "planning"),
    ("Took the time to coach a new starter through a tricky escalation", "partnership"),
    ("Followed up on a case after the shift to make sure it was really solved", "ownership"),
    ("Clear, kind notes on every ticket this week", "communication"),
)


async def seed(
    s: AsyncSession,
    rng: random.Random,
    team: Team,
    lead: Person,
    agents: list[Person],
    now: dt.datetime,
) -> None:
    """Six kudos in the team over the last month, from its lead and between agents."""
    for i in range(6):
        receiver = agents[(i * 5 + 1) % len(agents)]
        giver = lead if i % 2 == 0 else agents[(i * 7 + 3) % len(agents)]
        if giver.id == receiver.id:
            giver = lead
        message, tag = KUDOS[(i + (team.id or 0)) % len(KUDOS)]
        s.add(
            Recognition(
                giver_id=giver.id,
                receiver_id=receiver.id,
                team_id=team.id,
                message=message,
                value_tag=tag,
                created_at=now - dt.timedelta(days=2 + i * 5, hours=rng.randrange(8)),
            )
        )
