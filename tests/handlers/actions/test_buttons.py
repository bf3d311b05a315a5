"""Every `action.*` button and form, forged values included (they change nothing)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.types import Reply
from handlers.core import followups
from handlers.core.context import HandlerContext
from storage import actions as store
from storage.db import Database
from storage.models import OneOnOne, PulseRound
from tests.handlers.actions.helpers import (
    World,
    assign,
    messages,
    press,
    snapshot,
)


async def test_buttons_accept_done_help(db: Database, ctx: HandlerContext, w: World) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    assert (await press(ctx, w.maria, "action.accept", "1")).ok
    helped = await press(ctx, w.maria, "action.help", "1", {"message": "which account?"})
    assert helped.ok, helped.fallback
    assert "Lee Lead" in helped.fallback
    help_msgs = [m for m in await messages(db) if ":help:" in m.dedupe_key]
    assert [m.recipient_person_id for m in help_msgs] == [w.lead.id]
    assert "which account?" in Reply.from_json(help_msgs[0].payload).fallback
    done = await press(ctx, w.maria, "action.done", "1")
    assert done.ok
    assert done.replace_original
    kinds = [e.kind for e in await store.events(db, item_id=1)]
    assert kinds == ["created", "accepted", "help_requested", "done"]


@pytest.mark.parametrize(
    ("who", "action_id", "value", "expected"),
    [
        ("maria", "action.done", "999", "no action item #999"),
        ("maria", "action.done", "abc", "isn't valid"),
        ("maria", "action.done", "1; DROP TABLE actionitem", "isn't valid"),
        ("maria", "action.done", "", "isn't valid"),
        ("maria", "action.accept", "2", "no action item #"),  # the same answer as a missing one
        ("sam", "action.done", "1", "no action item #"),  # the same answer as a missing one
        ("other_lead", "action.done", "1", "no action item #"),  # the same answer as a missing one
        ("lead", "action.accept", "1", "Only the owner"),
        ("lead", "action.help", "1", "Only the owner"),
        ("lead", "action.achieved", "1", "isn't linked to a metric"),
        ("oscar", "action.achieved", "1", "no action item #"),  # the same answer as a missing one
        ("maria", "action.explode", "1", "isn't valid"),
        ("lead", "action.create", "garbage", "isn't valid"),
        ("lead", "action.create", "one_on_one:999:2", "isn't one you can see"),
        ("lead", "action.create", "pulse:999:2", "isn't one you can see"),
        ("lead", "action.create", "meeting:standup:99999", "isn't on the roster"),
        ("other_lead", "action.create", "meeting:standup:2", "isn't in a team you lead"),
        ("sam", "action.create", "meeting:standup:2", "for themselves only"),
    ],
)
async def test_forged_buttons_change_nothing(
    db: Database, ctx: HandlerContext, w: World, who: str, action_id: str, value: str, expected: str
) -> None:
    assert w.maria.id == 2
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    await assign(db, ctx, w, "/action @sam.agent sam's thing")
    before = await snapshot(db)
    reply = await press(ctx, getattr(w, who), action_id, value, {"title": "x"})
    assert not reply.ok
    assert expected in reply.fallback, reply.fallback
    assert await snapshot(db) == before


async def test_create_from_a_one_on_one(db: Database, ctx: HandlerContext, w: World) -> None:
    async with db.session() as s:
        o = OneOnOne(lead_id=w.lead.id or 0, agent_id=w.maria.id or 0, timezone="Europe/London")
        s.add(o)
        await s.flush()
        oid = o.id
    button = followups.create_button(
        source="one_on_one", source_ref=str(oid), owner_id=w.maria.id or 0
    )
    assert button.value == f"one_on_one:{oid}:{w.maria.id}"
    assert button.form is not None
    opened = await press(ctx, w.lead, "action.create", button.value)
    assert opened.form is not None
    assert [f.name for f in opened.form.fields] == ["title", "due"]
    bad = await press(ctx, w.lead, "action.create", button.value, {"title": "", "due": "someday"})
    assert not bad.ok
    assert set(bad.errors) == {"title", "due"}
    assert await store.list_items(db) == []
    made = await press(
        ctx,
        w.lead,
        "action.create",
        button.value,
        {"title": "practise de-escalation", "due": "fri"},
    )
    assert made.ok, made.fallback
    [item] = await store.list_items(db)
    assert (item.source, item.source_ref, item.owner_id) == ("one_on_one", str(oid), w.maria.id)
    assert item.due_date == dt.date(2026, 11, 20)
    wrong_agent = await press(
        ctx, w.lead, "action.create", f"one_on_one:{oid}:{w.sam.id}", {"title": "x"}
    )
    assert not wrong_agent.ok


async def test_create_from_a_pulse_result_and_a_meeting(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    async with db.session() as s:
        r = PulseRound(
            team_id=w.lead.team_id or 0,
            question="How was your week?",
            opens_at=dt.datetime(2026, 11, 13, 15, tzinfo=dt.UTC),
            closes_at=dt.datetime(2026, 11, 16, 15, tzinfo=dt.UTC),
        )
        s.add(r)
        await s.flush()
        rid = r.id
    made = await press(
        ctx, w.lead, "action.create", f"pulse:{rid}:{w.lead.id}", {"title": "fix the rota swaps"}
    )
    assert made.ok, made.fallback
    other = await press(
        ctx,
        w.other_lead,
        "action.create",
        f"pulse:{rid}:{w.other_lead.id}",
        {"title": "not my team's pulse"},
    )
    assert not other.ok
    assert "isn't one you can see" in other.fallback  # one answer for any id
    meeting = await press(
        ctx, w.lead, "action.create", f"meeting:weekly-huddle:{w.sam.id}", {"title": "new macro"}
    )
    assert meeting.ok, meeting.fallback
    items = await store.list_items(db)
    assert sorted((i.source, i.source_ref or "") for i in items) == [
        ("meeting", "weekly-huddle"),
        ("pulse", str(rid)),
    ]
