"""What the kudos tests share: a team of four, reading a reply as text, the rows written."""

from __future__ import annotations

import dataclasses

from sqlmodel import col, select

from domain.roles import Role
from domain.types import Block, Buttons, Context, Fields, Header, Reply, Table, Text
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage.db import Database
from storage.models import OutboxMessage, Person, Recognition, Team
from tests.conftest import command, make_person, make_team


@dataclasses.dataclass
class Crew:
    team: Team
    lead: Person
    maria: Person
    sam: Person
    lee: Person


async def crew(db: Database, name: str = "Billing", tz: str = "Europe/London") -> Crew:
    team = await make_team(db, name, tz=tz)
    slug = name.lower()
    lead = await make_person(db, f"lead.{slug}", role=Role.lead, team=team, tz=tz)
    maria = await make_person(db, f"maria.{slug}", team=team, tz=tz)
    sam = await make_person(db, f"sam.{slug}", team=team, tz=tz)
    lee = await make_person(db, f"lee.{slug}", team=team, tz=tz)
    return Crew(team, lead, maria, sam, lee)


def block_text(blocks: list[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Header | Text | Context):
            out.append(b.text)
        elif isinstance(b, Table):
            out.append(" | ".join(b.columns))
            out.extend(" | ".join(r) for r in b.rows)
        elif isinstance(b, Fields):
            out.extend(f"{a}: {v}" for a, v in b.pairs)
        elif isinstance(b, Buttons):
            out.extend(x.label for x in b.buttons)
    return "\n".join(out)


def text_of(reply: Reply) -> str:
    return block_text(reply.blocks) + "\n" + reply.text


async def run(db: Database, ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(db, who, line), ctx)


async def recognitions(db: Database) -> list[Recognition]:
    async with db.session() as s:
        return list((await s.execute(select(Recognition).order_by(col(Recognition.id)))).scalars())


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list(
            (await s.execute(select(OutboxMessage).order_by(col(OutboxMessage.id)))).scalars()
        )
