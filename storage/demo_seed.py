"""The demo contact center (`leadbot demo`): three teams, their people, 90 days of KPIs,
goals, kudos, action items, 1:1s and pulse rounds. Seeded once, in one transaction."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from domain.items import ActionStatus
from domain.kpi import KpiRow
from domain.localtime import local_to_utc
from domain.roles import Role
from domain.shifts import is_working_day, parse_time
from storage.db import Database
from storage.models import (
    ActionItem,
    ActionItemEvent,
    AgendaItem,
    Goal,
    MetricValue,
    Notice,
    OneOnOne,
    OneOnOneOccurrence,
    Person,
    PulseDelivery,
    PulseResponse,
    PulseRound,
    PulseSchedule,
    Recognition,
    Team,
)
from storage.people import name_key

DOMAIN = "example.com"
DEFAULT_USER_EMAIL = f"sam.carter@{DOMAIN}"  # the Billing lead; the console's default user
MARKER = "demo-seed:v1"
SEED = 20240611
DAYS = 90

Hasher = Callable[[int, int], str]  # (round id, person id) -> respondent hash


@dataclass(frozen=True)
class TeamPlan:
    name: str
    timezone: str
    lead: str
    agents: tuple[str, ...]


TEAMS = (
    TeamPlan(
        "Billing",
        "Europe/London",
        "Sam Carter",
        (
            "Maria Lopez",
            "Oliver Bennett",
            "Amelia Hughes",
            "Harry Patel",
            "Isla Murray",
            "George Okafor",
            "Chloe Davies",
            "Jack Thompson",
            "Priya Shah",
            "Noah Williams",
            "Emily Clarke",
            "Liam O'Brien",
        ),
    ),
    TeamPlan(
        "Tech Support",
        "America/New_York",
        "Priya Nair",
        (
            "Marcus Johnson",
            "Sofia Ramirez",
            "Ethan Brooks",
            "Aisha Green",
            "Daniel Kim",
            "Grace Miller",
            "Tyler Robinson",
            "Hannah Lee",
            "Carlos Mendoza",
            "Jasmine Wright",
            "Kevin Nguyen",
            "Rachel Cohen",
        ),
    ),
    TeamPlan(
        "Retention",
        "Europe/Berlin",
        "Jonas Weber",
        (
            "Lena Fischer",
            "Lukas Becker",
            "Anna Schmidt",
            "Felix Wagner",
            "Mia Hoffmann",
            "Paul Schulz",
            "Leonie Koch",
            "Elias Richter",
            "Emma Klein",
            "Ben Wolf",
            "Sophie Neumann",
            "Yusuf Demir",
        ),
    ),
)
MANAGER = ("Alex Morgan", "Europe/London")
ADMIN = ("Jordan Lee", "Europe/London")

SHIFTS = (
    "Mon-Fri 09:00-17:00",
    "Mon-Fri 08:00-16:00",
    "Mon-Fri 11:00-19:00",
    "Tue-Sat 10:00-18:00",
    "Mon-Thu 07:00-17:30",
    "Sun-Thu 12:00-20:00",
)

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
COMMENTS = (
    "Queue was brutal on Monday but the team pulled together.",
    "Would love more time for training.",
    "Tooling keeps freezing during calls.",
    "Good week, thanks for the support.",
    "Schedule changes came too late.",
    "The new macros really help.",
)
NOTES = (
    "Talked through AHT on refund calls; try the new macro. Celebrated the CSAT streak.",
    "Career chat: interested in QA. Agreed to shadow a QA session next week.",
    "Adherence dipped after the schedule change; swapped to the earlier shift.",
    "Went through two difficult calls; good de-escalation. No blockers.",
)


def _email(name: str) -> str:
    local = name.lower().replace("'", "").replace(" ", ".")
    return f"{local}@{DOMAIN}"


async def is_seeded(db: Database) -> bool:
    async with db.session() as s:
        return await s.get(Notice, MARKER) is not None


async def seed_demo(db: Database, *, now: dt.datetime, hasher: Hasher) -> bool:
    """Seed the demo center unless it is already there; True when it was seeded now."""
    async with db.session() as s:
        if await s.get(Notice, MARKER) is not None:
            return False
        await _seed(s, now=now, hasher=hasher)
        s.add(Notice(key=MARKER, created_at=now))
        return True


async def table_counts(db: Database) -> dict[str, int]:
    """Rows per demo-relevant table (shown after seeding; equal on a second run)."""
    tables: tuple[tuple[str, type[SQLModel]], ...] = (
        ("teams", Team),
        ("people", Person),
        ("KPI values", MetricValue),
        ("goals", Goal),
        ("kudos", Recognition),
        ("action items", ActionItem),
        ("1:1s", OneOnOne),
        ("pulse rounds", PulseRound),
        ("pulse answers", PulseResponse),
    )
    out: dict[str, int] = {}
    async with db.session() as s:
        for label, t in tables:
            n = await s.scalar(sa.select(sa.func.count()).select_from(t))
            out[label] = int(n or 0)
    return out


async def _seed(s: AsyncSession, *, now: dt.datetime, hasher: Hasher) -> None:
    rng = random.Random(SEED)
    today = now.date()
    manager = Person(
        email=_email(MANAGER[0]), display_name=MANAGER[0], role=Role.manager, timezone=MANAGER[1]
    )
    admin = Person(
        email=_email(ADMIN[0]), display_name=ADMIN[0], role=Role.admin, timezone=ADMIN[1]
    )
    s.add_all([manager, admin])
    await s.flush()
    teams: list[tuple[Team, Person, list[Person]]] = []
    for plan in TEAMS:
        team = Team(name=plan.name, name_key=name_key(plan.name), timezone=plan.timezone)
        team.manager_id = manager.id
        s.add(team)
        await s.flush()
        lead = Person(
            email=_email(plan.lead),
            display_name=plan.lead,
            role=Role.lead,
            team_id=team.id,
            manager_id=manager.id,
            timezone=plan.timezone,
        )
        s.add(lead)
        await s.flush()
        team.lead_id = lead.id
        agents = []
        for i, name in enumerate(plan.agents):
            shift = SHIFTS[0] if name == "Maria Lopez" else SHIFTS[(i * 5 + len(name)) % 6]
            agents.append(
                Person(
                    email=_email(name),
                    display_name=name,
                    role=Role.agent,
                    team_id=team.id,
                    manager_id=lead.id,
                    timezone=plan.timezone,
                    work_hours=shift,
                )
            )
        s.add_all(agents)
        await s.flush()
        teams.append((team, lead, agents))
    if manager.id is not None:
        manager.team_id = teams[0][0].id
        admin.team_id = None

    await _kpis(s, rng, today, teams)
    for team, lead, agents in teams:
        assert team.id is not None
        await _goals(s, team, lead, now)
        await _kudos(s, rng, team, lead, agents, now)
        await _actions(s, rng, team, lead, agents, now)
        await _one_on_ones(s, rng, team, lead, agents, now)
        await _pulses(s, rng, team, lead, agents, now, hasher)


# --- KPIs --------------------------------------------------------------------------------


def _clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


async def _kpis(
    s: AsyncSession,
    rng: random.Random,
    today: dt.date,
    teams: list[tuple[Team, Person, list[Person]]],
) -> None:
    rows: list[KpiRow] = []
    first = today - dt.timedelta(days=DAYS)
    for t_index, (team, _lead, agents) in enumerate(teams):
        # One bad day per team (a phone-system outage) makes a visible outlier.
        outage = today - dt.timedelta(days=20 + 17 * t_index)
        team_contacts: dict[dt.date, int] = {}
        for a_index, agent in enumerate(agents):
            skill = rng.gauss(0, 1)
            if agent.display_name == "Maria Lopez":
                skill = 1.4  # a steady quiet achiever, on target every day lately
            trend = rng.choice((-1.0, 0.0, 0.0, 0.5, 1.0))  # improving / flat / declining
            bad_day = first + dt.timedelta(days=rng.randrange(DAYS))
            for d in range(DAYS):
                day = first + dt.timedelta(days=d)
                if not is_working_day(agent.work_hours, day):
                    continue
                progress = d / DAYS
                weekday_load = 1.15 if day.weekday() == 0 else 1.0
                contacts = max(8, int(rng.gauss(34, 5) * weekday_load))
                odd = day in (outage, bad_day)
                team_contacts[day] = team_contacts.get(day, 0) + contacts
                aht = _clamp(
                    rng.gauss(318 - 22 * skill - 25 * trend * progress, 18) + (95 if odd else 0),
                    150,
                    900,
                )
                surveyed = max(3, contacts // 4)
                csat_p = _clamp(
                    0.84 + 0.035 * skill + 0.04 * trend * progress - (0.12 if odd else 0), 0.4, 1
                )
                if agent.display_name == "Maria Lopez" and d >= DAYS - 10:
                    csat_p = 0.93
                satisfied = sum(1 for _ in range(surveyed) if rng.random() < csat_p)
                fcr_p = _clamp(0.72 + 0.03 * skill + 0.03 * trend * progress, 0.4, 0.95)
                resolved = sum(1 for _ in range(contacts) if rng.random() < fcr_p)
                nps_answers = max(2, contacts // 6)
                promoters = sum(1 for _ in range(nps_answers) if rng.random() < 0.45 + 0.05 * skill)
                detractors = sum(1 for _ in range(nps_answers - promoters) if rng.random() < 0.35)
                scheduled = 480.0
                adherent = _clamp(rng.gauss(0.92 + 0.015 * skill, 0.025), 0.7, 1.0) * scheduled
                staffed = scheduled
                handling = _clamp(rng.gauss(0.8, 0.04) + (0.1 if odd else 0), 0.5, 0.98) * staffed
                pid, tid = agent.id, team.id
                rows += [
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
                # QA evaluates a couple of contacts a week per agent.
                if (d + a_index) % 3 == 0:
                    qa = _clamp(rng.gauss(86 + 3 * skill + 3 * trend * progress, 4), 40, 100)
                    rows.append(KpiRow(day, "qa_score", round(qa, 1), pid, tid, 1))
        for day, handled in sorted(team_contacts.items()):
            odd = day == outage
            offered = int(handled * rng.uniform(1.03, 1.07)) + (40 if odd else 0)
            sl = _clamp(
                rng.gauss(82, 4) - (27 if odd else 0) - 2.5 * math.sin(day.toordinal()), 30, 99
            )
            within = round(offered * sl / 100)
            abandon = _clamp(rng.gauss(3.5, 0.8) + (6 if odd else 0), 0.2, 30)
            abandoned = round(offered * abandon / 100)
            answered = offered - abandoned
            asa = _clamp(rng.gauss(24, 5) + (70 if odd else 0), 3, 400)
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


# --- goals, kudos, action items ----------------------------------------------------------


async def _goals(s: AsyncSession, team: Team, lead: Person, now: dt.datetime) -> None:
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


async def _kudos(
    s: AsyncSession,
    rng: random.Random,
    team: Team,
    lead: Person,
    agents: list[Person],
    now: dt.datetime,
) -> None:
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


def _event(
    item: ActionItem, actor: Person | None, kind: str, detail: str, at: dt.datetime
) -> ActionItemEvent:
    assert item.id is not None
    return ActionItemEvent(
        item_id=item.id,
        actor_id=actor.id if actor else None,
        kind=kind,
        detail=detail,
        created_at=at,
    )


async def _actions(
    s: AsyncSession,
    rng: random.Random,
    team: Team,
    lead: Person,
    agents: list[Person],
    now: dt.datetime,
) -> None:
    today = now.date()
    plans: tuple[tuple[str, int, ActionStatus, int, str, str | None], ...] = (
        # title, owner index (-1: the lead), status, due in days, source, metric
        ("Shadow a senior agent on refund calls", 1, ActionStatus.open, 5, "one_on_one", "aht"),
        ("Update the outage FAQ macro", 4, ActionStatus.in_progress, 2, "meeting", None),
        ("Finish the de-escalation e-learning", 6, ActionStatus.open, -3, "one_on_one", None),
        ("Review the schedule-change process with WFM", -1, ActionStatus.open, -1, "pulse", None),
        (
            "Clean up the knowledge-base article on direct debits",
            8,
            ActionStatus.done,
            -6,
            "manual",
            None,
        ),
        ("Practise the new hold script", 2, ActionStatus.done, -10, "one_on_one", "csat"),
    )
    for title, owner_i, status, due_in, source, metric in plans:
        owner = lead if owner_i < 0 else agents[owner_i % len(agents)]
        created = now - dt.timedelta(days=14 + rng.randrange(5))
        item = ActionItem(
            title=title,
            owner_id=owner.id,
            assigned_by_id=lead.id,
            team_id=team.id,
            due_date=today + dt.timedelta(days=due_in),
            status=status,
            source=source,
            metric_key=metric,
            metric_op="<=" if metric == "aht" else (">=" if metric else None),
            metric_target=300.0 if metric == "aht" else (85.0 if metric else None),
            created_at=created,
            updated_at=created,
        )
        s.add(item)
        await s.flush()
        events = [_event(item, lead, "created", f"assigned to {owner.display_name}", created)]
        if owner is not lead and status in (ActionStatus.in_progress, ActionStatus.done):
            events.append(_event(item, owner, "accepted", "", created + dt.timedelta(hours=3)))
        if status is ActionStatus.in_progress:
            events.append(
                _event(
                    item, owner, "due_changed", "moved by two days", created + dt.timedelta(days=2)
                )
            )
        if due_in < 0 and status is not ActionStatus.done:
            due = today + dt.timedelta(days=due_in)
            events.append(
                _event(
                    item,
                    None,
                    "reminder_sent",
                    f"reminder to {owner.display_name}: due {due.isoformat()}",
                    now + dt.timedelta(days=due_in - 1),
                )
            )
            events.append(
                _event(
                    item,
                    None,
                    "nudge_sent",
                    f"overdue nudge to {owner.display_name}",
                    now + dt.timedelta(days=due_in + 1),
                )
            )
        if status is ActionStatus.done:
            closed = now + dt.timedelta(days=due_in - 1)
            item.closed_at = closed
            item.updated_at = closed
            events.append(_event(item, owner, "done", "", closed))
        s.add_all(events)


# --- one-on-ones and pulses --------------------------------------------------------------


def _next_weekday_at(now: dt.datetime, weekday: int, at: str, tz: str) -> dt.datetime:
    local_today = now.astimezone(dt.UTC).date()
    for offset in range(0, 8):
        day = local_today + dt.timedelta(days=offset)
        if day.weekday() == weekday:
            when = local_to_utc(day, parse_time(at), tz)
            if when > now:
                return when
    return local_to_utc(local_today + dt.timedelta(days=7), parse_time(at), tz)


async def _one_on_ones(
    s: AsyncSession,
    rng: random.Random,
    team: Team,
    lead: Person,
    agents: list[Person],
    now: dt.datetime,
) -> None:
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


async def _pulses(
    s: AsyncSession,
    rng: random.Random,
    team: Team,
    lead: Person,
    agents: list[Person],
    now: dt.datetime,
    hasher: Hasher,
) -> None:
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
            score = int(_clamp(round(rng.gauss(mood - 0.1 * k, 0.8)), 1, 5))
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
                enps = int(_clamp(round(rng.gauss(7.4, 1.8)), 0, 10))
                s.add(
                    PulseResponse(
                        round_id=rnd.id, question="enps", respondent_hash=respondent, score=enps
                    )
                )
