"""`/1on1 list` for a lead, an agent and a manager."""

from __future__ import annotations

from domain.roles import Role
from handlers.core.context import HandlerContext
from storage.db import Database
from tests.conftest import FakeClock, make_person
from tests.handlers.kudos.helpers import text_of
from tests.handlers.oneonone.helpers import at, pair, run


async def test_list_for_lead_and_agent(db: Database, ctx: HandlerContext) -> None:
    p = await pair(db)
    empty = await run(db, ctx, p.lead, "/1on1 list")
    assert "No 1:1s yet" in text_of(empty)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    assert (await run(db, ctx, p.lead, "/1on1 schedule @sam.lee every 1 weeks wed 14:00")).ok
    lead_view = text_of(await run(db, ctx, p.lead, "/1on1 list"))
    assert "Maria Lopez | Tue 24 Nov 10:00 | 2 wk | never | on track" in lead_view
    assert "Sam Lee | Wed 18 Nov 14:00 | 1 wk | never | on track" in lead_view
    agent_view = text_of(await run(db, ctx, p.maria, "/1on1 list"))
    assert "Lead One | Tue 24 Nov 04:00 | 2 wk | 0" in agent_view


async def test_manager_sees_how_each_lead_keeps_up(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    mgr = await make_person(db, "the.manager", role=Role.manager, team=p.team)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 1 weeks tue 10:00")).ok
    clock.set(at(2026, 12, 9, 12))  # over two cadences after the first was due: lapsed
    view = text_of(await run(db, ctx, mgr, "/1on1 list"))
    assert "Across your teams" in view
    assert "Billing | Lead One | 1/2 | 0 | 1" in view
    lead_view = text_of(await run(db, ctx, p.lead, "/1on1 list"))
    assert "| lapsed" in lead_view
