"""The shared fixture world of the /stats, /goal and goal-update tests: two teams, a lead
each, a manager, four agents and 14 days of AHT and CSAT; and helpers to read replies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from domain.kpi import KpiRow
from domain.roles import Role
from domain.types import Reply, Table
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import goals, kpis, people
from storage.db import Database
from storage.models import Person, Team
from tests.conftest import command, make_person, make_team

TODAY = dt.date(2026, 11, 17)  # the clock fixture: Tuesday 17 Nov 2026, 10:00 UTC


def text_of(reply: Reply) -> str:
    """Everything a reader sees: blocks' text and table cells."""
    parts: list[str] = [reply.text]
    for b in reply.blocks:
        if isinstance(b, Table):
            parts.append(" | ".join(b.columns))
            parts.extend(" | ".join(r) for r in b.rows)
        elif hasattr(b, "text"):
            parts.append(b.text)
    return "\n".join(parts)


def table_of(reply: Reply) -> Table:
    tables = [b for b in reply.blocks if isinstance(b, Table)]
    assert tables, text_of(reply)
    return tables[0]


@dataclass
class World:
    billing: Team
    support: Team
    lead: Person
    other_lead: Person
    manager: Person
    ann: Person
    bob: Person
    cid: Person
    dan: Person  # in Support


async def make_world(db: Database) -> World:
    billing = await make_team(db, "Billing")
    support = await make_team(db, "Support")
    lead = await make_person(db, "lee.lead", role=Role.lead, team=billing)
    other = await make_person(db, "ola.lead", role=Role.lead, team=support)
    manager = await make_person(db, "max.manager", role=Role.agent)
    assert manager.id
    assert billing.id
    manager = await people.assign_member(
        db, person_id=manager.id, team_id=billing.id, role=Role.manager
    )
    ann = await make_person(db, "ann.agent", team=billing)
    bob = await make_person(db, "bob.agent", team=billing)
    cid = await make_person(db, "cid.agent", team=billing)
    dan = await make_person(db, "dan.agent", team=support)
    rows: list[KpiRow] = []
    for i in range(14):
        day = TODAY - dt.timedelta(days=14 - i)  # 3..16 Nov
        for p, aht, sat in ((ann, 280.0, 9), (bob, 330.0, 6), (cid, 300.0 + i, 8)):
            rows.append(KpiRow(day, "aht", aht, p.id, billing.id, weight=10))
            rows.append(KpiRow(day, "csat", sat * 10.0, p.id, billing.id, 10, sat, 10))
        rows.append(KpiRow(day, "aht", 500.0, dan.id, support.id, weight=10))
    await kpis.upsert_values(db, rows=rows)
    assert billing.id is not None
    await goals.set_goal(
        db,
        team_id=billing.id,
        metric_key="aht",
        op="<=",
        target=310,
        period="daily",
        set_by_id=lead.id,
    )
    return World(billing, support, lead, other, manager, ann, bob, cid, dan)


async def run(ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(ctx.db, who, line), ctx)
