"""The demo center's people and teams: a manager, an admin, and three teams of a lead and
twelve agents each, in three time zones and on varied shifts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from domain.roles import Role
from storage.demo.common import SeededTeam
from storage.models import Person, Team
from storage.people import name_key

DOMAIN = "example.com"
DEFAULT_USER_EMAIL = f"sam.carter@{DOMAIN}"  # the Billing lead; the console's default user


@dataclass(frozen=True)
class TeamPlan:
    """A demo team to create: its name, zone, lead and agents."""

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


def email_of(name: str) -> str:
    """A demo person's email, from their name."""
    local = name.lower().replace("'", "").replace(" ", ".")
    return f"{local}@{DOMAIN}"


async def seed(s: AsyncSession) -> list[SeededTeam]:
    """The manager, the admin, and each team with its lead and agents; flushed (ids set)."""
    manager = Person(
        email=email_of(MANAGER[0]), display_name=MANAGER[0], role=Role.manager, timezone=MANAGER[1]
    )
    admin = Person(
        email=email_of(ADMIN[0]), display_name=ADMIN[0], role=Role.admin, timezone=ADMIN[1]
    )
    s.add_all([manager, admin])
    await s.flush()
    teams: list[SeededTeam] = []
    for plan in TEAMS:
        team = Team(name=plan.name, name_key=name_key(plan.name), timezone=plan.timezone)
        team.manager_id = manager.id
        s.add(team)
        await s.flush()
        lead = Person(
            email=email_of(plan.lead),
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
                    email=email_of(name),
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
        teams.append(SeededTeam(team, lead, agents))
    if manager.id is not None:
        manager.team_id = teams[0].team.id
        admin.team_id = None
    return teams
