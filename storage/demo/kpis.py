"""The demo's KPIs: 90 days of every built-in metric for each agent and each team's queue.

Each agent has a skill and a trend (improving, flat, declining), each team one outage day
and each agent one bad day, so the figures have outliers to find. Maria Lopez is the
steady quiet achiever, on target every day lately. The draws come from the one seeded
`rng`, in a fixed order: the same seed gives the same figures.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from domain.kpi import KpiRow
from domain.shifts import is_working_day
from storage.demo.common import SeededTeam, clamp
from storage.models import MetricValue, Person, Team

DAYS = 90


@dataclass(frozen=True)
class _Agent:
    """An agent's traits, the same every day."""

    person: Person
    team_id: int | None
    skill: float
    trend: float


async def seed(
    s: AsyncSession, rng: random.Random, today: dt.date, teams: list[SeededTeam]
) -> None:
    """The KPI values of the DAYS days before `today`."""
    rows: list[KpiRow] = []
    first = today - dt.timedelta(days=DAYS)
    for t_index, (team, _lead, agents) in enumerate(teams):
        # One bad day per team (a phone-system outage) makes a visible outlier.
        outage = today - dt.timedelta(days=20 + 17 * t_index)
        team_contacts: dict[dt.date, int] = {}
        for a_index, agent in enumerate(agents):
            rows += _agent_rows(rng, team, agent, a_index, first, outage, team_contacts)
        rows += _team_rows(rng, team, outage, team_contacts)
    await _insert(s, rows)


def _agent_rows(
    rng: random.Random,
    team: Team,
    agent: Person,
    a_index: int,
    first: dt.date,
    outage: dt.date,
    team_contacts: dict[dt.date, int],
) -> list[KpiRow]:
    """One agent's values (and their contacts added to `team_contacts`)."""
    rows: list[KpiRow] = []
    skill = rng.gauss(0, 1)
    if agent.display_name == "Maria Lopez":
        skill = 1.4  # a steady quiet achiever, on target every day lately
    trend = rng.choice((-1.0, 0.0, 0.0, 0.5, 1.0))  # improving / flat / declining
    bad_day = first + dt.timedelta(days=rng.randrange(DAYS))
    a = _Agent(person=agent, team_id=team.id, skill=skill, trend=trend)
    for d in range(DAYS):
        day = first + dt.timedelta(days=d)
        if not is_working_day(agent.work_hours, day):
            continue
        progress = d / DAYS
        weekday_load = 1.15 if day.weekday() == 0 else 1.0
        contacts = max(8, int(rng.gauss(34, 5) * weekday_load))
        odd = day in (outage, bad_day)
        team_contacts[day] = team_contacts.get(day, 0) + contacts
        rows += _agent_day(rng, a, d, day, contacts, odd)
        # QA evaluates a couple of contacts a week per agent.
        if (d + a_index) % 3 == 0:
            qa = clamp(rng.gauss(86 + 3 * skill + 3 * trend * progress, 4), 40, 100)
            rows.append(KpiRow(day, "qa_score", round(qa, 1), agent.id, team.id, 1))
    return rows


def _agent_day(
    rng: random.Random, a: _Agent, d: int, day: dt.date, contacts: int, odd: bool
) -> list[KpiRow]:
    """Day `d`'s values of one agent; `odd` on the team's outage or the agent's bad day."""
    skill, trend, progress = a.skill, a.trend, d / DAYS
    aht = clamp(
        rng.gauss(318 - 22 * skill - 25 * trend * progress, 18) + (95 if odd else 0),
        150,
        900,
    )
    surveyed = max(3, contacts // 4)
    csat_p = clamp(0.84 + 0.035 * skill + 0.04 * trend * progress - (0.12 if odd else 0), 0.4, 1)
    if a.person.display_name == "Maria Lopez" and d >= DAYS - 10:
        csat_p = 0.93
    satisfied = sum(1 for _ in range(surveyed) if rng.random() < csat_p)
    fcr_p = clamp(0.72 + 0.03 * skill + 0.03 * trend * progress, 0.4, 0.95)
    resolved = sum(1 for _ in range(contacts) if rng.random() < fcr_p)
    nps_answers = max(2, contacts // 6)
    promoters = sum(1 for _ in range(nps_answers) if rng.random() < 0.45 + 0.05 * skill)
    detractors = sum(1 for _ in range(nps_answers - promoters) if rng.random() < 0.35)
    scheduled = 480.0
    adherent = clamp(rng.gauss(0.92 + 0.015 * skill, 0.025), 0.7, 1.0) * scheduled
    staffed = scheduled
    handling = clamp(rng.gauss(0.8, 0.04) + (0.1 if odd else 0), 0.5, 0.98) * staffed
    pid, tid = a.person.id, a.team_id
    return [
        KpiRow(day, "aht", round(aht, 1), pid, tid, contacts),
        KpiRow(
            day,
            "csat",
            round(100 * satisfied / surveyed, 1),
            pid,
            tid,
            surveyed,
            satisfied,
            surveyed,
        ),
        KpiRow(
            day,
            "fcr",
            round(100 * resolved / contacts, 1),
            pid,
            tid,
            contacts,
            resolved,
            contacts,
        ),
        KpiRow(
            day,
            "nps",
            round(100 * (promoters - detractors) / nps_answers, 1),
            pid,
            tid,
            nps_answers,
            promoters - detractors,
            nps_answers,
        ),
        KpiRow(
            day,
            "adherence",
            round(100 * adherent / scheduled, 1),
            pid,
            tid,
            scheduled,
            round(adherent, 1),
            scheduled,
        ),
        KpiRow(
            day,
            "occupancy",
            round(100 * handling / staffed, 1),
            pid,
            tid,
            staffed,
            round(handling, 1),
            staffed,
        ),
    ]


def _team_rows(
    rng: random.Random, team: Team, outage: dt.date, team_contacts: dict[dt.date, int]
) -> list[KpiRow]:
    """The queue's own values (service level, ASA, abandon rate) of each day it had contacts."""
    rows: list[KpiRow] = []
    for day, handled in sorted(team_contacts.items()):
        odd = day == outage
        offered = int(handled * rng.uniform(1.03, 1.07)) + (40 if odd else 0)
        sl = clamp(rng.gauss(82, 4) - (27 if odd else 0) - 2.5 * math.sin(day.toordinal()), 30, 99)
        within = round(offered * sl / 100)
        abandon = clamp(rng.gauss(3.5, 0.8) + (6 if odd else 0), 0.2, 30)
        abandoned = round(offered * abandon / 100)
        answered = offered - abandoned
        asa = clamp(rng.gauss(24, 5) + (70 if odd else 0), 3, 400)
        rows += [
            KpiRow(
                day,
                "service_level",
                round(100 * within / offered, 1),
                None,
                team.id,
                offered,
                within,
                offered,
            ),
            KpiRow(day, "asa", round(asa, 1), None, team.id, answered),
            KpiRow(
                day,
                "abandon_rate",
                round(100 * abandoned / offered, 1),
                None,
                team.id,
                offered,
                abandoned,
                offered,
            ),
        ]
    return rows


async def _insert(s: AsyncSession, rows: list[KpiRow]) -> None:
    # A plain executemany insert: the people are new in this transaction, so nothing can
    # conflict, and it is several times faster than the upsert's multi-row VALUES.
    now_ts = dt.datetime.now(dt.UTC)
    await s.execute(
        sa.insert(MetricValue.__table__),  # type: ignore[attr-defined]
        [
            {
                "metric_key": r.metric_key,
                "person_id": r.person_id,
                "team_id": r.team_id,
                "day": r.day,
                "value": r.value,
                "weight": r.weight,
                "numerator": r.numerator,
                "denominator": r.denominator,
                "updated_at": now_ts,
            }
            for r in rows
        ],
    )
