"""The owner of an assigned item asks for a new date or a cancellation; whoever assigned
it (or the owner's lead) decides, with buttons; nobody dodges an item quietly."""

from __future__ import annotations

import datetime as dt

from domain.items import ActionStatus
from domain.roles import Role
from domain.types import Buttons, Reply
from handlers.core.context import HandlerContext
from storage import actions as store
from storage import people
from storage.db import Database
from tests.handlers.actions.helpers import World, assign, messages, press, run, snapshot

TOMORROW = dt.date(2026, 11, 18)
NEXT_FRIDAY = dt.date(2026, 11, 27)


def _buttons(reply: Reply) -> list[tuple[str, str]]:
    return [
        (b.action_id, b.value)
        for blk in reply.blocks
        if isinstance(blk, Buttons)
        for b in blk.buttons
    ]


async def test_the_owner_asks_and_the_assigner_approves(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    asked = await run(db, ctx, w.maria, "/action due 1 next friday")
    assert asked.ok, asked.fallback
    assert "asked Lee Lead" in asked.fallback
    assert "stays due Wed 18 Nov" in asked.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.due_date == TOMORROW  # nothing moved yet
    kinds = [e.kind for e in await store.events(db, item_id=1)]
    assert kinds == ["created", "due_proposed"]
    p = await store.pending_proposal(db, item_id=1)
    assert p is not None
    assert (p.kind, p.due_date, p.from_due) == ("due", NEXT_FRIDAY, TOMORROW)
    # The lead's DM asks, with Approve / Decline for this request.
    dm = next(m for m in await messages(db) if m.dedupe_key == f"action:1:proposal:{p.id}")
    assert dm.recipient_person_id == w.lead.id
    request = Reply.from_json(dm.payload)
    assert "Maria Lopez asks to move it from Wed 18 Nov to Fri 27 Nov" in request.fallback
    assert ("action.approve", f"1:{p.id}") in _buttons(request)
    assert ("action.decline", f"1:{p.id}") in _buttons(request)

    approved = await press(ctx, w.lead, "action.approve", f"1:{p.id}")
    assert approved.ok, approved.fallback
    assert approved.replace_original
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.due_date == NEXT_FRIDAY
    last = (await store.events(db, item_id=1))[-1]
    assert (last.kind, last.actor_id) == ("due_changed", w.lead.id)  # follow-ups restart
    told = [m for m in await messages(db) if m.recipient_person_id == w.maria.id]
    assert (
        "Lee Lead approved: it is now due Fri 27 Nov" in Reply.from_json(told[-1].payload).fallback
    )
    # The button again (or the command) decides nothing twice.
    before = await snapshot(db)
    again = await press(ctx, w.lead, "action.approve", f"1:{p.id}")
    assert not again.ok
    assert "approved already" in again.fallback
    assert not (await run(db, ctx, w.lead, "/action approve 1")).ok
    assert await snapshot(db) == before


async def test_a_cancellation_request_declined_with_a_reason(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    asked = await run(db, ctx, w.maria, "/action cancel 1 the customer left")
    assert asked.ok, asked.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.status is ActionStatus.open  # still open
    # The owner's lead's manager may decide too (the manager leads Maria's team).
    declined = await run(db, ctx, w.manager, "/action decline 1 they came back yesterday")
    assert declined.ok, declined.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.status is ActionStatus.open
    last = (await store.events(db, item_id=1))[-1]
    assert last.kind == "proposal_declined"
    told = [m for m in await messages(db) if m.recipient_person_id == w.maria.id]
    text = Reply.from_json(told[-1].payload).fallback
    assert "declined your request to cancel it" in text
    assert "they came back yesterday" in text


async def test_an_approved_cancellation_cancels(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    assert (await run(db, ctx, w.maria, "/action cancel 1 the customer left")).ok
    assert (await run(db, ctx, w.lead, "/action approve 1")).ok
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.status is ActionStatus.cancelled


async def test_items_one_set_oneself_stay_free(db: Database, ctx: HandlerContext, w: World) -> None:
    assert (await run(db, ctx, w.maria, "/action me learn the CRM due tomorrow")).ok
    moved = await run(db, ctx, w.maria, "/action due 1 next friday")
    assert moved.ok
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.due_date == NEXT_FRIDAY
    assert (await run(db, ctx, w.maria, "/action cancel 1")).ok
    assert await store.pending_proposal(db, item_id=1) is None


async def test_a_newer_request_replaces_and_a_leader_change_withdraws(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    assert (await run(db, ctx, w.maria, "/action due 1 friday")).ok
    first = await store.pending_proposal(db, item_id=1)
    again = await run(db, ctx, w.maria, "/action due 1 next friday")
    assert "replaces your earlier request" in again.fallback
    second = await store.pending_proposal(db, item_id=1)
    assert first is not None
    assert second is not None
    assert second.id != first.id
    stale = await press(ctx, w.lead, "action.approve", f"1:{first.id}")
    assert not stale.ok
    assert "withdrawn already" in stale.fallback
    # The lead moves the date themselves: nothing left to decide.
    assert (await run(db, ctx, w.lead, "/action due 1 in 3 days")).ok
    assert await store.pending_proposal(db, item_id=1) is None
    assert not (await press(ctx, w.lead, "action.approve", f"1:{second.id}")).ok


async def test_the_owner_cannot_decide_or_hand_on(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    assert (await run(db, ctx, w.maria, "/action due 1 friday")).ok
    p = await store.pending_proposal(db, item_id=1)
    assert p is not None
    before = await snapshot(db)
    for reply in (
        await run(db, ctx, w.maria, "/action approve 1"),
        await press(ctx, w.maria, "action.approve", f"1:{p.id}"),
        await press(ctx, w.sam, "action.approve", f"1:{p.id}"),  # the same as a missing one
        await press(ctx, w.lead, "action.approve", f"2:{p.id}"),  # another item's id
    ):
        assert not reply.ok
    assert await snapshot(db) == before
    # A lead who owns an item their manager assigned may not hand it to an agent either.
    assert (await run(db, ctx, w.manager, "/action @lee.lead write the rota")).ok
    refused = await run(db, ctx, w.lead, "/action reassign 2 @sam.agent")
    assert not refused.ok
    assert "was assigned to you" in refused.fallback


async def test_the_assigner_moved_away_the_owners_lead_decides(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    tech = await people.get_team_by_name(db, name="Tech Support")
    assert tech is not None
    assert tech.id
    assert w.lead.id
    await people.assign_member(db, person_id=w.lead.id, team_id=tech.id, role=Role.agent)
    asked = await run(db, ctx, w.maria, "/action due 1 friday")
    assert asked.ok, asked.fallback
    assert "asked Mona Manager" in asked.fallback  # Billing has no lead now: its manager
    assert not (await run(db, ctx, w.lead, "/action approve 1")).ok  # Lee no longer leads her
    assert (await run(db, ctx, w.manager, "/action approve 1")).ok


async def test_the_card_shows_the_request_and_its_buttons_to_who_decides(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    assert (await run(db, ctx, w.maria, "/action due 1 friday")).ok
    p = await store.pending_proposal(db, item_id=1)
    assert p is not None
    for_lead = await run(db, ctx, w.lead, "/action show 1")
    assert "move it from Wed 18 Nov to Fri 20 Nov (waiting for a decision)" in str(for_lead.blocks)
    assert ("action.approve", f"1:{p.id}") in _buttons(for_lead)
    for_owner = await run(db, ctx, w.maria, "/action show 1")
    assert "waiting for a decision" in str(for_owner.blocks)
    assert ("action.approve", f"1:{p.id}") not in _buttons(for_owner)
