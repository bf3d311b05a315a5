"""`/leadbot person ...`: every sub-command, who may use it, bad input, what it leaves behind."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.roles import Role
from handlers.core.context import HandlerContext
from handlers.imports import import_kpis
from storage import oneonones, outbox, people, pulse
from storage.models import ActionItem, OutboxMessage
from storage.outbox import OutboxNew
from tests.handlers.leadbot.helpers import center, person, run, snapshot, team


async def test_add_a_person(ctx: HandlerContext) -> None:
    c = await center(ctx)
    reply = await run(
        ctx,
        c.admin,
        '/leadbot person add Nia.Night@Example.com Nia Night team Billing hours "Sun-Thu '
        '22:00-06:00"',
    )
    assert reply.ok, reply.text
    assert reply.text.startswith(
        "Added Nia Night <nia.night@example.com> as an agent in *Billing* "
        "(Europe/London, Sun-Thu 22:00-06:00)."
    )
    nia = await people.get_by_email(ctx.db, email="nia.night@example.com")
    assert nia is not None
    assert (nia.role, nia.team_id, nia.work_hours) == (
        Role.agent,
        c.billing.id,
        "Sun-Thu 22:00-06:00",
    )
    boss = await run(
        ctx, c.admin, "/leadbot person add bo@example.com Bo Boss as manager tz=Asia/Tokyo"
    )
    assert boss.ok, boss.text
    assert "as a manager (Asia/Tokyo, Mon-Fri 09:00-17:00)" in boss.text


async def test_a_new_lead_of_a_team_without_one_leads_it(ctx: HandlerContext) -> None:
    c = await center(ctx)
    empty = await people.create_team(ctx.db, name="Retention", timezone="Europe/Berlin")
    reply = await run(
        ctx, c.admin, "/leadbot person add lin@example.com Lin Lead team Retention as lead"
    )
    assert reply.ok, reply.text
    assert "They are Retention's lead." in reply.text
    assert (await team(ctx.db, empty)).lead_id is not None


async def test_deactivate_and_reactivate(ctx: HandlerContext) -> None:
    c = await center(ctx)
    assert c.maria.id is not None
    await outbox.enqueue(
        ctx.db, messages=[OutboxNew(dedupe_key="waiting", payload="{}", person_id=c.maria.id)]
    )
    reply = await run(ctx, c.admin, "/leadbot person deactivate @maria.lopez")
    assert reply.ok, reply.text
    assert reply.text.startswith("Deactivated Maria Lopez <maria.lopez@example.com>.")
    assert "1 message waiting for Maria Lopez was dropped." in reply.text
    assert (
        "They own 1 open action item: reassign it with `/action reassign ID @person`." in reply.text
    )
    off = await person(ctx.db, c.maria)
    assert (off.active, off.deactivated_at) == (False, ctx.now())
    # They are asked in no pulse and drop out of the roster lists; their history stays.
    assert c.billing.id is not None
    assert c.maria.id not in [p.id for p in await pulse.team_agents(ctx.db, team_id=c.billing.id)]
    assert c.maria.id not in [p.id for p in await people.list_people(ctx.db, team_id=c.billing.id)]
    assert await oneonones.active_for(ctx.db, lead_id=c.sam.id or 0, agent_id=c.maria.id)
    # A mention of a deactivated person does not resolve, so it is looked up again.
    back = await run(ctx, c.admin, "/leadbot person reactivate @maria.lopez")
    assert back.ok, back.text
    assert back.text == "Maria Lopez is active again, as an agent in *Billing*."
    assert (await person(ctx.db, c.maria)).active


async def test_deactivating_a_lead_says_the_team_has_none(ctx: HandlerContext) -> None:
    c = await center(ctx)
    reply = await run(ctx, c.admin, "/leadbot person deactivate sam.carter@example.com")
    assert reply.ok, reply.text
    assert (
        "Billing has no lead now. 2 1:1s and 1 open action item of Sam Carter wait for the "
        "next lead."
    ) in reply.text
    assert (await team(ctx.db, c.billing)).lead_id is None


async def test_kpis_of_a_deactivated_person_stop_from_that_day(ctx: HandlerContext) -> None:
    c = await center(ctx)
    await run(ctx, c.admin, "/leadbot person deactivate @maria.lopez")
    today = ctx.now().date()
    text = (
        "date,email,metric,value\n"
        f"{today.isoformat()},maria.lopez@example.com,aht,300\n"
        f"{(today - dt.timedelta(days=1)).isoformat()},maria.lopez@example.com,aht,310\n"
        f"{today.isoformat()},oliver.bennett@example.com,aht,290\n"
    )
    result = await import_kpis(ctx, text)
    assert result.ok, result.summary()
    assert (result.created, result.skipped) == (3, 0)
    later = await import_kpis(
        ctx,
        f"date,email,metric,value\n{today.isoformat()},oliver.bennett@example.com,csat,90\n",
    )
    assert later.created == 1
    # A day after the deactivation: skipped and counted, not an error.
    ctx.clock.advance(days=2)  # type: ignore[attr-defined]
    tomorrow = today + dt.timedelta(days=1)
    skipped = await import_kpis(
        ctx, f"date,email,metric,value\n{tomorrow.isoformat()},maria.lopez@example.com,aht,1\n"
    )
    assert skipped.ok
    assert (skipped.created, skipped.skipped) == (0, 1)
    assert "1 skipped: their people were deactivated before those days." in skipped.summary()


async def test_move_hands_the_agents_1on1s_to_the_new_teams_lead(ctx: HandlerContext) -> None:
    c = await center(ctx)
    reply = await run(ctx, c.admin, "/leadbot person move @maria.lopez Tech Support")
    assert reply.ok, reply.text
    assert reply.text.startswith("Moved Maria Lopez from *Billing* to *Tech Support*.")
    assert "Tess Tech took over 1 1:1 in Tech Support from Sam Carter." in reply.text
    assert c.maria.id is not None
    [o] = await oneonones.list_active(ctx.db, agent_id=c.maria.id)
    assert o.lead_id == c.tess.id
    assert (await person(ctx.db, c.maria)).team_id == c.tech.id
    # Tess is told, and so is Maria (held for her working hours).
    rows = await outbox.messages_after(ctx.db, after_id=0)
    assert sorted(r.recipient_person_id or 0 for r in rows) == sorted([c.tess.id or 0, c.maria.id])


async def test_role_changes_apply_and_say_what_they_leave(ctx: HandlerContext) -> None:
    c = await center(ctx)
    demoted = await run(ctx, c.admin, "/leadbot person role @sam.carter agent")
    assert demoted.ok, demoted.text
    assert demoted.text.startswith("Sam Carter is now an agent.")
    assert "Billing has no lead now." in demoted.text
    promoted = await run(ctx, c.admin, "/leadbot person role @oliver.bennett lead")
    assert promoted.ok, promoted.text
    assert "They are Billing's lead." in promoted.text
    # Oliver's own 1:1 with Sam ends: he leads it now.
    assert (
        "Oliver Bennett took over 1 1:1 and 1 open action item in Billing from Sam Carter. "
        "1 1:1 ended: Oliver Bennett had one with that person already, or was that person."
    ) in promoted.text
    assert (await team(ctx.db, c.billing)).lead_id == c.oliver.id
    # The role is read on every request: Oliver may set Billing's goals at once.
    goal = await run(ctx, await person(ctx.db, c.oliver), "/goal set aht <= 300s")
    assert goal.ok, goal.text


async def test_manager_and_list(ctx: HandlerContext) -> None:
    c = await center(ctx)
    reply = await run(ctx, c.admin, "/leadbot person manager @maria.lopez @alex.morgan")
    assert reply.text == "Maria Lopez's manager is now Alex Morgan."
    assert (await person(ctx.db, c.maria)).manager_id == c.alex.id
    cleared = await run(ctx, c.admin, "/leadbot person manager @maria.lopez none")
    assert cleared.text == "Maria Lopez has no manager set now."
    await run(ctx, c.admin, "/leadbot person deactivate @oliver.bennett")
    listing = await run(ctx, c.admin, "/leadbot person list deactivated")
    assert listing.text == "Deactivated people: 1"
    billing = await run(ctx, c.admin, "/leadbot person list Billing")
    assert billing.text == "People in Billing: 4"  # Alex's home team too; Oliver, deactivated
    lost = await run(ctx, c.admin, "/leadbot person list unreachable")
    assert lost.text == "People leadbot can't message yet: 5"


@pytest.mark.parametrize("role", ["agent", "lead", "manager"])
@pytest.mark.parametrize(
    "line",
    [
        "/leadbot person add x@example.com X team Billing",
        "/leadbot person deactivate @maria.lopez",
        "/leadbot person reactivate @maria.lopez",
        "/leadbot person move @maria.lopez Tech Support",
        "/leadbot person role @maria.lopez lead",
        "/leadbot person manager @maria.lopez @alex.morgan",
        "/leadbot person list",
    ],
)
async def test_only_admins_change_people(ctx: HandlerContext, role: str, line: str) -> None:
    c = await center(ctx)
    who = {"agent": c.oliver, "lead": c.sam, "manager": c.alex}[role]
    before = await snapshot(ctx.db)
    reply = await run(ctx, who, line)
    assert not reply.ok
    assert reply.text == "Only admins can change people on the roster."
    assert await snapshot(ctx.db) == before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/leadbot person add", "Give their email first, then their name."),
        ("/leadbot person add maria", "'maria' is not an email address."),
        ("/leadbot person add x@example.com", "Give the person a name."),
        ("/leadbot person add x@example.com X", "An agent needs a team: add `team NAME`."),
        ("/leadbot person add x@example.com X team Nowhere", "There is no team called 'Nowhere'"),
        ("/leadbot person add x@example.com X team Billing as boss", "The role must be one of"),
        ("/leadbot person add x@example.com X team Billing tz Mars/Base", "Unknown time zone"),
        ("/leadbot person add x@example.com X team Billing hours Mon-Fri", "Working hours:"),
        ("/leadbot person add x@example.com X team Billing team Tech", "`team` is given twice."),
        ("/leadbot person add x@example.com X team Billing as lead", "Billing already has a lead"),
        ("/leadbot person add maria.lopez@example.com M team Billing", "is already on the roster"),
        ("/leadbot person deactivate", "Missing a person (@name or their email)."),
        ("/leadbot person deactivate @ghost", "I don't know @ghost"),
        ("/leadbot person deactivate ghost@example.com", "No one with the email ghost@example.com"),
        ("/leadbot person deactivate @ada.admin", "You can't deactivate yourself"),
        ("/leadbot person deactivate @maria.lopez now", "I didn't understand 'now'."),
        ("/leadbot person reactivate @maria.lopez", "Maria Lopez is active already."),
        ("/leadbot person move @maria.lopez", "Name the team to move them to."),
        ("/leadbot person move @maria.lopez Billing", "Maria Lopez is in Billing already."),
        ("/leadbot person move @maria.lopez none", "An agent needs a team"),
        ("/leadbot person move @sam.carter Tech Support", "Tech Support already has a lead"),
        ("/leadbot person move @maria.lopez Nowhere", "There is no team called 'Nowhere'"),
        ("/leadbot person role @maria.lopez", "Missing a role"),
        ("/leadbot person role @maria.lopez boss", "The role must be one of"),
        ("/leadbot person role @maria.lopez agent", "Maria Lopez is an agent already."),
        ("/leadbot person role @oliver.bennett lead", "Billing already has a lead (Sam Carter)"),
        ("/leadbot person role @ada.admin agent", "Ada Admin is the only admin"),
        ("/leadbot person role @alex.morgan lead", "Billing already has a lead (Sam Carter)"),
        ("/leadbot person manager @maria.lopez @maria.lopez", "can't be their own manager"),
        ("/leadbot person manager @maria.lopez", "Missing a person"),
        ("/leadbot person fly @maria.lopez", "I don't know `/leadbot person fly @Maria Lopez`."),
    ],
)
async def test_bad_input_changes_nothing(ctx: HandlerContext, line: str, message: str) -> None:
    c = await center(ctx)
    before = await snapshot(ctx.db)
    reply = await run(ctx, c.admin, line)
    assert not reply.ok, reply.text
    assert message in reply.text
    assert "something went wrong" not in reply.text
    assert await snapshot(ctx.db) == before


async def test_a_deactivated_person_is_not_moved_until_reactivated(ctx: HandlerContext) -> None:
    c = await center(ctx)
    await run(ctx, c.admin, "/leadbot person deactivate @maria.lopez")
    before = await snapshot(ctx.db)
    reply = await run(ctx, c.admin, "/leadbot person move maria.lopez@example.com Tech Support")
    assert not reply.ok
    assert "Maria Lopez is deactivated: `/leadbot person reactivate maria.lopez@example.com`" in (
        reply.text
    )
    assert await snapshot(ctx.db) == before


async def test_items_and_messages_stay_in_step(ctx: HandlerContext) -> None:
    """The hand-over's messages are written with the change: none without it."""
    c = await center(ctx)
    await run(ctx, c.admin, "/leadbot person role @sam.carter agent")
    assert await outbox.messages_after(ctx.db, after_id=0) == []  # nobody to hand to
    await run(ctx, c.admin, "/leadbot team lead Billing @oliver.bennett")
    rows: list[OutboxMessage] = await outbox.messages_after(ctx.db, after_id=0)
    assert sorted(r.recipient_person_id or 0 for r in rows) == sorted(
        [c.oliver.id or 0, c.maria.id or 0]
    )
    async with ctx.db.session() as s:
        item = await s.get(ActionItem, c.item_id)
        assert item is not None
        assert item.assigned_by_id == c.oliver.id
