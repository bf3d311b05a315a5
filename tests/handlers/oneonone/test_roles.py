"""Who holds a 1:1 is decided now: never with one's own manager; a lead moved or demoted
loses the schedules (and buttons sent before), whoever leads the person now inherits them."""

from __future__ import annotations

from domain.roles import Role
from domain.types import Action
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action
from storage import people
from storage.db import Database
from tests.conftest import actor_of, make_person, make_team
from tests.handlers.kudos.helpers import text_of
from tests.handlers.oneonone.helpers import dms_to, pair, run, the_1on1


async def test_a_lead_never_holds_a_1on1_with_their_manager(
    db: Database, ctx: HandlerContext
) -> None:
    p = await pair(db)
    boss = await make_person(db, "alex.boss", role=Role.manager, team=p.team)
    for line in (
        "/1on1 schedule @alex.boss every 2 weeks tue 10:00",
        "/1on1 prep @alex.boss",
        "/1on1 agenda @alex.boss the rota",
    ):
        reply = await run(db, ctx, p.lead, line)
        assert not reply.ok, line
    refused = await run(db, ctx, p.lead, "/1on1 prep @alex.boss")
    assert "leads act on the agents of their team only" in refused.text
    # The manager holds 1:1s with the lead, though.
    assert (await run(db, ctx, boss, "/1on1 schedule @lead.one every 4 weeks mon 09:00")).ok


async def test_the_new_lead_inherits_and_the_old_one_loses_them(
    db: Database, ctx: HandlerContext
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    o = await the_1on1(db)
    support = await make_team(db, "Support")
    assert p.lead.id
    assert support.id
    await people.assign_member(db, person_id=p.lead.id, team_id=support.id, role=Role.agent)
    new = await make_person(db, "nia.new", role=Role.lead, team=p.team)
    # The old lead: buttons sent before, commands, list and prep card: nothing of Maria's.
    for action_id in ("oneonone.prep", "oneonone.done"):
        old = await run_action(Action(actor_of(p.lead), action_id, str(o.id)), ctx)
        assert not old.ok
        assert "isn't one of yours" in old.fallback
    assert not (await run(db, ctx, p.lead, "/1on1 prep @maria.lopez")).ok
    assert "Maria Lopez" not in text_of(await run(db, ctx, p.lead, "/1on1 list"))
    # The new lead: it is theirs now.
    listed = text_of(await run(db, ctx, new, "/1on1 list"))
    assert "Maria Lopez" in listed
    prep = await run_action(Action(actor_of(new), "oneonone.prep", str(o.id)), ctx)
    assert prep.ok, prep.fallback
    assert (await run(db, ctx, new, "/1on1 done @maria.lopez good first chat")).ok
    # Maria's list names the lead she has now.
    assert "Nia New" in text_of(await run(db, ctx, p.maria, "/1on1 list"))
    # Scheduling anew replaces the inherited series (its agenda moves along).
    assert (await run(db, ctx, p.maria, "/1on1 agenda my shifts")).ok
    assert (await run(db, ctx, new, "/1on1 schedule @maria.lopez every 1 weeks wed 11:00")).ok
    mine = await the_1on1(db)  # one active schedule: Nia's
    assert mine.lead_id == new.id
    assert "my shifts" in text_of(await run(db, ctx, new, "/1on1 prep @maria.lopez"))
    assert any("set up a 1:1" in m.payload for m in await dms_to(db, p.maria))
