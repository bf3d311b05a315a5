"""Changes to an item: done, accept, cancel, due, reassign; refusals change nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.items import ActionStatus
from domain.types import Reply
from handlers.core.context import HandlerContext
from storage import actions as store
from storage.db import Database
from tests.handlers.actions.helpers import (
    World,
    assign,
    messages,
    press,
    run,
    snapshot,
)


async def test_owner_done_with_note_tells_the_assigner(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back the Smith account due tomorrow")
    reply = await run(db, ctx, w.maria, "/action done #1 called, all sorted")
    assert reply.ok, reply.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.status is ActionStatus.done
    assert item.closed_at == ctx.now()
    kinds = [(e.kind, e.actor_id, e.detail) for e in await store.events(db, item_id=1)]
    assert kinds[-1] == ("done", w.maria.id, "called, all sorted")
    told = [m for m in await messages(db) if m.recipient_person_id == w.lead.id]
    assert [m.dedupe_key for m in told] == [f"action:1:done:{w.lead.id}"]
    assert "all sorted" in Reply.from_json(told[0].payload).fallback


async def test_double_done_is_explained(db: Database, ctx: HandlerContext, w: World) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back")
    assert (await run(db, ctx, w.maria, "/action done 1")).ok
    before = await snapshot(db)
    again = await run(db, ctx, w.lead, "/action done 1")
    assert not again.ok
    assert "already done" in again.fallback
    assert "Maria Lopez" in again.fallback
    button = await press(ctx, w.maria, "action.done", "1")
    assert not button.ok
    assert "already done" in button.fallback
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("who", "line", "expected"),
    [
        ("lead", "/action done 99", "no action item #99"),
        ("lead", "/action done abc", "isn't an action item number"),
        ("lead", "/action done", "Missing the item number"),
        ("lead", "/action done 99999999999", "no action item"),
        ("sam", "/action done 1", "no action item #"),  # the same answer as a missing one
        ("other_lead", "/action done 1", "no action item #"),  # the same answer as a missing one
        ("oscar", "/action cancel 1", "no action item #"),  # the same answer as a missing one
        ("sam", "/action show 1", "no action item #"),  # the same answer as a missing one
        (
            "other_lead",
            "/action due 1 friday",
            "no action item #",
        ),  # the same answer as a missing one
        ("lead", "/action due 1 2026-11-01", "in the past"),
        ("lead", "/action due 1 whenever", "couldn't read"),
        ("lead", "/action due 1", "new due date"),
        ("lead", "/action due 1 tomorrow", "already due"),
        ("lead", "/action reassign 1 @oscar.other", "isn't in a team you lead"),
        ("lead", "/action reassign 1 @maria.lopez", "already owns"),
        ("lead", "/action reassign 1 @nobody", "I don't know @nobody"),
        ("maria", "/action reassign 1 @sam.agent", "for themselves only"),
        ("maria", "/action accept 2", "no action item #"),  # the same answer as a missing one
        ("lead", "/action accept 1", "Only the owner"),
        ("lead", "/action frobnicate 1", "who owns"),
    ],
)
async def test_bad_changes_change_nothing(
    db: Database, ctx: HandlerContext, w: World, who: str, line: str, expected: str
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back the Smith account due tomorrow")
    await assign(db, ctx, w, "/action @sam.agent sam's own thing")
    before = await snapshot(db)
    reply = await run(db, ctx, getattr(w, who), line)
    assert not reply.ok
    assert expected in reply.fallback, reply.fallback
    assert await snapshot(db) == before


async def test_managers_and_leads_of_the_team_may_close(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await run(db, ctx, w.maria, "/action me learn the new CRM")
    reply = await run(db, ctx, w.manager, "/action done 1 seen it done")
    assert reply.ok, reply.fallback
    # The owner is told someone else closed her item.
    assert [m.recipient_person_id for m in await messages(db)] == [w.maria.id]


async def test_accept_then_cancel_then_done_refused(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back")
    accepted = await run(db, ctx, w.maria, "/action accept 1")
    assert accepted.ok
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.status is ActionStatus.in_progress
    twice = await run(db, ctx, w.maria, "/action accept 1")
    assert not twice.ok
    cancel = await run(db, ctx, w.lead, "/action cancel 1 customer closed the account")
    assert cancel.ok
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.status is ActionStatus.cancelled
    done = await run(db, ctx, w.maria, "/action done 1")
    assert not done.ok
    assert "already cancelled" in done.fallback
    kinds = [e.kind for e in await store.events(db, item_id=1)]
    assert kinds == ["created", "accepted", "cancelled"]


async def test_due_change_tells_the_owner(db: Database, ctx: HandlerContext, w: World) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    reply = await run(db, ctx, w.lead, "/action due 1 next friday")
    assert reply.ok, reply.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.due_date == dt.date(2026, 11, 27)
    last = (await store.events(db, item_id=1))[-1]
    assert (last.kind, last.detail) == ("due_changed", "2026-11-18 → 2026-11-27")
    keys = [m.dedupe_key for m in await messages(db)]
    assert keys == ["action:1:assigned", f"action:1:due_changed:{last.id}"]
    cleared = await run(db, ctx, w.lead, "/action due 1 none")
    assert cleared.ok
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.due_date is None


async def test_reassign_tells_both(db: Database, ctx: HandlerContext, w: World) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    reply = await run(db, ctx, w.lead, "/action reassign 1 to @sam.agent")
    assert reply.ok, reply.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.owner_id == w.sam.id
    recipients = [(m.recipient_person_id, m.dedupe_key) for m in await messages(db)]
    last = (await store.events(db, item_id=1))[-1]
    assert last.kind == "reassigned"
    assert last.detail == "Maria Lopez → Sam Agent"
    assert (w.sam.id, f"action:1:assigned:{last.id}") in recipients
    assert (w.maria.id, f"action:1:unassigned:{last.id}") in recipients
    # Maria can no longer close it; Sam can.
    assert not (await run(db, ctx, w.maria, "/action done 1")).ok
    assert (await run(db, ctx, w.sam, "/action done 1")).ok
