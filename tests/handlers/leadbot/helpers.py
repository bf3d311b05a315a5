"""A small center for the admin command tests, and a snapshot of everything they change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import SQLModel

from domain.roles import Role
from domain.types import Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import oneonones, people
from storage.db import Database
from storage.models import ActionItem, Person, Team
from tests.conftest import command, make_person, make_team


@dataclass
class Center:
    billing: Team
    tech: Team
    admin: Person
    sam: Person  # Billing's lead
    tess: Person  # Tech Support's lead
    maria: Person  # a Billing agent
    oliver: Person  # a Billing agent
    alex: Person  # manager of Billing
    item_id: int  # an open item Sam assigned to Maria


async def center(ctx: HandlerContext) -> Center:
    db = ctx.db
    billing = await make_team(db, "Billing", "Europe/London")
    tech = await make_team(db, "Tech Support", "America/New_York")
    admin = await make_person(db, "ada.admin", role=Role.admin)
    sam = await make_person(db, "sam.carter", role=Role.lead, team=billing)
    tess = await make_person(db, "tess.tech", role=Role.lead, team=tech)
    maria = await make_person(db, "maria.lopez", team=billing)
    oliver = await make_person(db, "oliver.bennett", team=billing)
    alex = await make_person(db, "alex.morgan", role=Role.manager)
    assert billing.id is not None
    assert alex.id is not None
    await people.set_team_manager(db, team_id=billing.id, person_id=alex.id, now=ctx.now())
    for agent in (maria, oliver):
        assert agent.id is not None
        await oneonones.schedule(
            db,
            lead_id=sam.id or 0,
            agent_id=agent.id,
            cadence_weeks=2,
            weekday=1,
            local_time="10:00",
            duration_minutes=30,
            timezone="Europe/London",
            next_at=ctx.now() + dt.timedelta(days=7),
            at=ctx.now(),
        )
    async with db.session() as s:
        item = ActionItem(
            title="Shadow a senior agent",
            owner_id=maria.id,
            assigned_by_id=sam.id,
            team_id=billing.id,
        )
        s.add(item)
        await s.flush()
        assert item.id is not None
        item_id = item.id
    fresh = {p.id: p for p in await people.list_people(db, include_inactive=True)}
    teams = {t.id: t for t in await people.list_teams(db)}
    return Center(
        billing=teams[billing.id],
        tech=teams[tech.id],
        admin=fresh[admin.id],
        sam=fresh[sam.id],
        tess=fresh[tess.id],
        maria=fresh[maria.id],
        oliver=fresh[oliver.id],
        alex=fresh[alex.id],
        item_id=item_id,
    )


async def run(ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(ctx.db, who, line), ctx)


async def snapshot(db: Database) -> str:
    """Every row of every table: a refused command must leave it exactly as it was."""
    out = []
    async with db.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            rows = (await conn.execute(sa.select(table).order_by(*table.primary_key))).all()
            out.append(f"{table.name}: {rows!r}")
    return "\n".join(out)


async def person(db: Database, p: Person) -> Person:
    assert p.id is not None
    stored = await people.get_person(db, person_id=p.id)
    assert stored is not None
    return stored


async def team(db: Database, t: Team) -> Team:
    assert t.id is not None
    stored = await people.get_team(db, team_id=t.id)
    assert stored is not None
    return stored
