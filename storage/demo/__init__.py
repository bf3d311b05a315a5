"""The demo contact center (`leadbot demo`): three teams, their people, 90 days of KPIs,
goals, kudos, action items, 1:1s and pulse rounds. Seeded once, in one transaction.

One module per feature, seeded in this order (the random draws come from one seeded
generator, so the order is part of the data): `people` (teams, leads, agents, a manager
and an admin), `kpis`, then for each team `goals`, `kudos`, `actions`, `oneonones` and
`pulse`.

Public surface: seed, is_seeded, table_counts, Hasher, TEAMS, DOMAIN, DEFAULT_USER_EMAIL.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from storage.db import Database
from storage.demo import actions, goals, kpis, kudos, oneonones, people, pulse
from storage.demo.common import Hasher
from storage.demo.people import DEFAULT_USER_EMAIL, DOMAIN, TEAMS
from storage.models import (
    ActionItem,
    Goal,
    MetricValue,
    Notice,
    OneOnOne,
    Person,
    PulseResponse,
    PulseRound,
    Recognition,
    Team,
)

__all__ = [
    "DEFAULT_USER_EMAIL",
    "DOMAIN",
    "TEAMS",
    "Hasher",
    "is_seeded",
    "seed",
    "table_counts",
]

MARKER = "demo-seed:v1"
SEED = 20240611


async def is_seeded(db: Database) -> bool:
    """Whether the demo center has been seeded in this store."""
    async with db.session() as s:
        return await s.get(Notice, MARKER) is not None


async def seed(db: Database, *, now: dt.datetime, hasher: Hasher) -> bool:
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
    teams = await people.seed(s)
    await kpis.seed(s, rng, now.date(), teams)
    for team, lead, agents in teams:
        assert team.id is not None
        await goals.seed(s, team, lead, now)
        await kudos.seed(s, rng, team, lead, agents, now)
        await actions.seed(s, rng, team, lead, agents, now)
        await oneonones.seed(s, team, lead, agents, now)
        await pulse.seed(s, rng, team, lead, agents, now, hasher)
