"""What the 1:1 tests share: a lead in London with agents in Chicago and London, the rows
written, and UTC times."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import col, select

from domain.roles import Role
from domain.types import Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage.db import Database
from storage.models import OneOnOne, OneOnOneOccurrence, OutboxMessage, Person, Team
from tests.conftest import command, make_person, make_team

UTC = dt.UTC


@dataclasses.dataclass
class Pair:
    team: Team
    lead: Person
    maria: Person
    sam: Person


async def pair(db: Database) -> Pair:
    """A lead in London; Maria works from Chicago; Sam from London."""
    team = await make_team(db, "Billing", tz="Europe/London")
    lead = await make_person(db, "lead.one", role=Role.lead, team=team, tz="Europe/London")
    maria = await make_person(db, "maria.lopez", team=team, tz="America/Chicago")
    sam = await make_person(db, "sam.lee", team=team, tz="Europe/London")
    return Pair(team, lead, maria, sam)


async def run(db: Database, ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(db, who, line), ctx)


async def the_1on1(db: Database) -> OneOnOne:
    async with db.session() as s:
        rows = (await s.execute(select(OneOnOne).where(OneOnOne.active == True))).scalars()  # noqa: E712
        found = list(rows)
    assert len(found) == 1
    return found[0]


async def occurrences(db: Database) -> list[OneOnOneOccurrence]:
    async with db.session() as s:
        q = select(OneOnOneOccurrence).order_by(col(OneOnOneOccurrence.scheduled_at))
        return list((await s.execute(q)).scalars())


async def dms_to(db: Database, person: Person) -> list[OutboxMessage]:
    async with db.session() as s:
        q = select(OutboxMessage).where(OutboxMessage.recipient_person_id == person.id)
        return list((await s.execute(q.order_by(col(OutboxMessage.id)))).scalars())


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=UTC)
