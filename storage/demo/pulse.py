"""The demo's pulse: each team's weekly ESAT schedule and closed rounds with answers.

Each round is answered as the bot records answers (under `hasher`'s respondent hash,
never under a person) and then closed as the bot closes rounds: `unlink_in` cuts every
tie between its answers and the people who gave them, so not even the demo's secret links
a demo answer to anyone.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy.ext.asyncio import AsyncSession

from domain.localtime import local_to_utc
from domain.shifts import parse_time
from storage.demo.common import Hasher, clamp
from storage.models import (
    Person,
    PulseDelivery,
    PulseResponse,
    PulseRound,
    PulseSchedule,
    Team,
)
from storage.pulse import unlink_in

COMMENTS = (
    "Queue was brutal on Monday but the team pulled together.",
    "Would love more time for training.",
    "Tooling keeps freezing during calls.",
    "Good week, thanks for the support.",
    "Schedule changes came too late.",
    "The new macros really help.",
)


async def seed(
    s: AsyncSession,
    rng: random.Random,
    team: Team,
    lead: Person,
    agents: list[Person],
    now: dt.datetime,
    hasher: Hasher,
) -> None:
    """A weekly pulse schedule of the team and its closed rounds of the last four weeks."""
    assert team.id is not None
    schedule = PulseSchedule(team_id=team.id, cadence="weekly", weekday=4, local_time="15:00")
    s.add(schedule)
    last_friday = now.date() - dt.timedelta(days=(now.date().weekday() - 4) % 7 or 7)
    mood = rng.uniform(3.8, 4.2)
    for k in range(4, 0, -1):
        day = last_friday - dt.timedelta(weeks=k - 1)
        opens = local_to_utc(day, parse_time("15:00"), team.timezone)
        closes = opens + dt.timedelta(hours=72)
        if closes > now:
            continue
        rnd = PulseRound(
            team_id=team.id,
            question=schedule.question,
            include_enps=k == 4,
            opens_at=opens,
            closes_at=closes,
            remind_at=opens + dt.timedelta(hours=24),
            status="closed",
            created_by_id=None,
            summary_sent=True,
        )
        s.add(rnd)
        await s.flush()
        assert rnd.id is not None
        answering = rng.randint(8, len(agents))
        responders = set(rng.sample(range(len(agents)), answering))
        for idx, agent in enumerate(agents):
            assert agent.id is not None
            answered = idx in responders
            s.add(
                PulseDelivery(
                    round_id=rnd.id,
                    person_id=agent.id,
                    answered=answered,
                    reminded=not answered or idx % 4 == 0,
                )
            )
            if not answered:
                continue
            respondent = hasher(rnd.id, agent.id)
            score = int(clamp(round(rng.gauss(mood - 0.1 * k, 0.8)), 1, 5))
            comment = COMMENTS[rng.randrange(len(COMMENTS))] if rng.random() < 0.3 else None
            s.add(
                PulseResponse(
                    round_id=rnd.id,
                    question="esat",
                    respondent_hash=respondent,
                    score=score,
                    comment=comment,
                )
            )
            if rnd.include_enps:
                enps = int(clamp(round(rng.gauss(7.4, 1.8)), 0, 10))
                s.add(
                    PulseResponse(
                        round_id=rnd.id, question="enps", respondent_hash=respondent, score=enps
                    )
                )
        await s.flush()
        await unlink_in(s, [rnd.id])
