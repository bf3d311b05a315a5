"""`/action` and its buttons: every command's happy path and every bad input, which
changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import SQLModel

from domain.items import ActionStatus
from domain.roles import Role
from domain.types import Action, Buttons, Fields, Reply, Table
from handlers import actions as h
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from handlers.core.home import home
from storage import actions as store
from storage import outbox
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.models import ActionItem, OneOnOne, OutboxMessage, Person, PulseRound
from tests.conftest import FakeClock, actor_of, command, make_ctx, make_person, make_team


@dataclass
class World:
    lead: Person
    maria: Person
    sam: Person
    manager: Person
    other_lead: Person
    oscar: Person
    admin: Person


@pytest.fixture
async def w(db: Database) -> World:
    billing = await make_team(db, "Billing", "Europe/London")
    tech = await make_team(db, "Tech Support", "America/New_York")
    return World(
        lead=await make_person(db, "lee.lead", role=Role.lead, team=billing),
        maria=await make_person(db, "maria.lopez", team=billing),
        sam=await make_person(db, "sam.agent", team=billing),
        manager=await make_person(db, "mona.manager", role=Role.manager, team=billing),
        other_lead=await make_person(
            db, "olga.other", role=Role.lead, team=tech, tz="America/New_York"
        ),
        oscar=await make_person(db, "oscar.other", team=tech, tz="America/New_York"),
        admin=await make_person(db, "ada.admin", role=Role.admin),
    )


async def run(db: Database, ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(db, who, line), ctx)


async def press(
    ctx: HandlerContext, who: Person, action_id: str, value: str, form: dict[str, str] | None = None
) -> Reply:
    return await run_action(Action(actor_of(who), action_id, value, form or {}), ctx)


async def counts(db: Database) -> dict[str, int]:
    async with db.engine.connect() as conn:
        out = {}
        for table in SQLModel.metadata.sorted_tables:
            q = sa.select(sa.func.count()).select_from(table)
            out[table.name] = int((await conn.execute(q)).scalar_one())
        return out


async def snapshot(db: Database) -> tuple[dict[str, int], list[tuple[object, ...]]]:
    """Row counts and every item's state, to prove a refusal changed nothing."""
    async with db.session() as s:
        rows = (await s.execute(sa.select(ActionItem))).scalars().all()
        items: list[tuple[object, ...]] = [
            (i.id, i.status, i.owner_id, i.due_date, i.assigned_by_id, i.closed_at) for i in rows
        ]
    return await counts(db), items


async def messages(db: Database) -> list[OutboxMessage]:
    return await outbox.messages_after(db, after_id=0)


async def assign(db: Database, ctx: HandlerContext, w: World, line: str) -> ActionItem:
    reply = await run(db, ctx, w.lead, line)
    assert reply.ok, reply.fallback
    items = await store.list_items(db, statuses=list(ActionStatus))
    return max(items, key=lambda i: i.id or 0)


# --- create ----------------------------------------------------------------------------


async def test_lead_assigns_and_owner_is_told(db: Database, ctx: HandlerContext, w: World) -> None:
    reply = await run(
        db, ctx, w.lead, "/action @maria.lopez call back the Smith account due tomorrow"
    )
    assert reply.ok, reply.fallback
    assert "#1" in reply.fallback
    assert "Maria Lopez" in reply.fallback
    assert "Wed 18 Nov" in reply.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.title == "call back the Smith account"
    assert item.owner_id == w.maria.id
    assert item.assigned_by_id == w.lead.id
    assert item.team_id == w.maria.team_id
    assert item.due_date == dt.date(2026, 11, 18)
    assert item.status is ActionStatus.open
    assert item.source == "manual"
    [msg] = await messages(db)
    assert msg.dedupe_key == "action:1:assigned"
    assert msg.recipient_person_id == w.maria.id
    dm = Reply.from_json(msg.payload)
    assert "call back the Smith account" in dm.fallback
    [buttons] = [b for b in dm.blocks if isinstance(b, Buttons)]
    assert [(b.label, b.action_id, b.value) for b in buttons.buttons] == [
        ("Accept", "action.accept", "1"),
        ("Done", "action.done", "1"),
        ("Need help", "action.help", "1"),
    ]
    [event] = await store.events(db, item_id=1)
    assert event.kind == "created"
    assert event.actor_id == w.lead.id
    assert "Maria Lopez" in event.detail


async def test_due_date_is_read_in_the_assigners_zone(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    # 02:00 UTC Tuesday is still Monday evening in New York.
    clock.set(dt.datetime(2026, 11, 17, 2, 0, tzinfo=dt.UTC))
    reply = await run(db, ctx, w.other_lead, "/action @oscar.other fix macros due tomorrow")
    assert reply.ok, reply.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.due_date == dt.date(2026, 11, 17)


async def test_owner_off_shift_is_told_at_shift_start(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    clock.set(dt.datetime(2026, 11, 17, 20, 0, tzinfo=dt.UTC))
    with time_machine.travel(clock.now, tick=False):  # the outbox stamps rows with real time
        reply = await run(db, ctx, w.lead, "/action @maria.lopez tidy notes")
    assert reply.ok
    assert "shift starts" in reply.fallback
    [msg] = await messages(db)
    assert msg.next_attempt_at == dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("line", "key", "op", "target"),
    [
        ("/action @maria.lopez shorten wrap-up metric aht <= 300s", "aht", "<=", 300.0),
        ("/action @maria.lopez shorten wrap-up metric aht<=5:00 due friday", "aht", "<=", 300.0),
        ("/action @maria.lopez shorten wrap-up due friday metric AHT < 4m", "aht", "<", 240.0),
        ("/action @maria.lopez empathy coaching metric csat >= 85%", "csat", ">=", 85.0),
        ("/action @maria.lopez promoter calls metric nps >= +30pts", "nps", ">=", 30.0),
    ],
)
async def test_metric_link(
    db: Database, ctx: HandlerContext, w: World, line: str, key: str, op: str, target: float
) -> None:
    item = await assign(db, ctx, w, line)
    assert (item.metric_key, item.metric_op, item.metric_target) == (key, op, target)
    assert "metric" not in item.title


async def test_agent_creates_for_themselves_without_a_message(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    reply = await run(db, ctx, w.maria, "/action me finish the refunds course due friday")
    assert reply.ok, reply.fallback
    assert "for you" in reply.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.owner_id == w.maria.id
    assert item.assigned_by_id == w.maria.id
    assert await messages(db) == []


async def test_quoted_title_may_contain_due(db: Database, ctx: HandlerContext, w: World) -> None:
    item = await assign(db, ctx, w, '/action @maria.lopez "chase the due invoices" due friday')
    assert item.title == "chase the due invoices"
    assert item.due_date == dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("who", "line", "expected"),
    [
        ("lead", "/action @nobody call back", "I don't know @nobody"),
        ("lead", "/action call back the Smith account", "who owns"),
        ("lead", "/action @maria.lopez", "what needs doing"),
        ("lead", "/action @maria.lopez due tomorrow", "what needs doing"),
        ("lead", "/action @maria.lopez review metric definitions", "put the title in quotes"),
        ("lead", "/action @maria.lopez call back due soonish", "couldn't read"),
        ("lead", "/action @maria.lopez call back due 2026-11-01", "in the past"),
        ("lead", "/action @maria.lopez call back due yesterday", "in the past"),
        ("lead", "/action @maria.lopez call back due 2026-02-30", "calendar"),
        ("lead", "/action @maria.lopez call back metric foo <= 3", "no metric 'foo'"),
        ("lead", "/action @maria.lopez call back metric aht >= 300s", "Lower Average handle"),
        ("lead", "/action @maria.lopez call back metric csat <= 80%", "Higher CSAT"),
        ("lead", "/action @maria.lopez call back metric csat >= 120%", "above 100.0%"),
        ("lead", "/action @maria.lopez call back metric aht <= fast", "isn't a target"),
        ("lead", "/action @maria.lopez call back metric aht", "metric target"),
        ("lead", "/action @oscar.other call back", "isn't in a team you lead"),
        ("maria", "/action @sam.agent call back", "for themselves only"),
        ("admin", "/action @maria.lopez call back", "leads and managers"),
        ("lead", "/action @maria.lopez " + "x" * 301, "300 at most"),
    ],
)
async def test_bad_create_changes_nothing(
    db: Database, ctx: HandlerContext, w: World, who: str, line: str, expected: str
) -> None:
    before = await snapshot(db)
    reply = await run(db, ctx, getattr(w, who), line)
    assert not reply.ok
    assert expected.lower() in reply.fallback.lower(), reply.fallback
    assert "Traceback" not in reply.fallback
    assert await snapshot(db) == before


async def test_manager_assigns_in_managed_team(db: Database, ctx: HandlerContext, w: World) -> None:
    reply = await run(db, ctx, w.manager, "/action @sam.agent review QA form due next week")
    assert reply.ok, reply.fallback


# --- list ------------------------------------------------------------------------------


async def test_list_team_mine_overdue_and_person(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back the Smith account due tomorrow")
    await assign(db, ctx, w, "/action @sam.agent update the macro due today")
    await run(db, ctx, w.other_lead, "/action @oscar.other other team thing")
    team = await run(db, ctx, w.lead, "/action list team")
    assert team.ok
    [table] = [b for b in team.blocks if isinstance(b, Table)]
    assert [r[0] for r in table.rows] == ["#2", "#1"]  # soonest due first
    assert "other team thing" not in team.fallback
    mine = await run(db, ctx, w.maria, "/action list")
    assert "call back the Smith account" in mine.fallback
    assert "update the macro" not in mine.fallback
    person = await run(db, ctx, w.lead, "/action list @sam.agent")
    assert "update the macro" in person.fallback
    assert "Smith" not in person.fallback
    nothing = await run(db, ctx, w.lead, "/action list overdue")
    assert "Nothing is overdue" in nothing.fallback
    clock.advance(days=2)  # Thursday: both overdue
    overdue = await run(db, ctx, w.lead, "/action list overdue")
    assert "#1" in overdue.fallback
    assert "#2" in overdue.fallback
    assert "overdue" in overdue.fallback


@pytest.mark.parametrize(
    ("who", "line", "expected"),
    [
        ("maria", "/action list team", "Agents see their own items"),
        ("maria", "/action list @sam.agent", "own figures only"),
        ("lead", "/action list @oscar.other", "isn't in a team of yours"),
        ("lead", "/action list everything", "I can list"),
        ("lead", "/action list @nobody", "I don't know @nobody"),
    ],
)
async def test_bad_list(
    db: Database, ctx: HandlerContext, w: World, who: str, line: str, expected: str
) -> None:
    reply = await run(db, ctx, getattr(w, who), line)
    assert not reply.ok
    assert expected in reply.fallback


# --- done, accept, cancel, due, reassign, show ------------------------------------------


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
        ("sam", "/action done 1", "isn't yours"),
        ("other_lead", "/action done 1", "isn't yours"),
        ("oscar", "/action cancel 1", "isn't yours"),
        ("sam", "/action show 1", "isn't yours"),
        ("other_lead", "/action due 1 friday", "isn't yours"),
        ("lead", "/action due 1 2026-11-01", "in the past"),
        ("lead", "/action due 1 whenever", "couldn't read"),
        ("lead", "/action due 1", "new due date"),
        ("lead", "/action due 1 tomorrow", "already due"),
        ("lead", "/action reassign 1 @oscar.other", "isn't in a team you lead"),
        ("lead", "/action reassign 1 @maria.lopez", "already owns"),
        ("lead", "/action reassign 1 @nobody", "I don't know @nobody"),
        ("maria", "/action reassign 1 @sam.agent", "for themselves only"),
        ("maria", "/action accept 2", "isn't yours"),
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


async def test_show_prints_the_whole_trail(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow metric aht <= 300s")
    clock.advance(minutes=5)
    await run(db, ctx, w.maria, "/action accept 1")
    clock.advance(minutes=5)
    await run(db, ctx, w.lead, "/action due 1 friday")
    clock.advance(minutes=5)
    await run(db, ctx, w.maria, "/action done 1 done and dusted")
    reply = await run(db, ctx, w.lead, "/action show #1")
    assert reply.ok
    [table] = [b for b in reply.blocks if isinstance(b, Table)]
    assert [r[2] for r in table.rows] == ["created", "accepted", "due date changed", "done"]
    assert [r[1] for r in table.rows] == ["Lee Lead", "Maria Lopez", "Lee Lead", "Maria Lopez"]
    assert table.rows[0][0] == "Tue 17 Nov 10:00"
    assert table.rows[3][3] == "done and dusted"
    [fields] = [b for b in reply.blocks if isinstance(b, Fields)]
    assert ("Status", "done") in fields.pairs
    assert any(k == "Metric" and "no figures yet" in v for k, v in fields.pairs)


# --- buttons ---------------------------------------------------------------------------


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
        ("maria", "action.accept", "2", "isn't yours"),
        ("sam", "action.done", "1", "isn't yours"),
        ("other_lead", "action.done", "1", "isn't yours"),
        ("lead", "action.accept", "1", "Only the owner"),
        ("lead", "action.help", "1", "Only the owner"),
        ("lead", "action.achieved", "1", "isn't linked to a metric"),
        ("oscar", "action.achieved", "1", "isn't yours"),
        ("maria", "action.explode", "1", "isn't valid"),
        ("lead", "action.create", "garbage", "isn't valid"),
        ("lead", "action.create", "one_on_one:999:2", "doesn't exist"),
        ("lead", "action.create", "pulse:999:2", "doesn't exist"),
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
    button = h.create_button(source="one_on_one", source_ref=str(oid), owner_id=w.maria.id or 0)
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


async def test_create_item_is_public(db: Database, ctx: HandlerContext, w: World) -> None:
    item = await h.create_item(
        ctx,
        actor=actor_of(w.lead),
        owner_id=w.sam.id or 0,
        title="share the pulse feedback",
        due=dt.date(2026, 11, 24),
        source="pulse",
        source_ref="7",
        metric=h.MetricLink("fcr", ">=", 75.0),
    )
    assert item.id == 1
    assert (item.source, item.source_ref, item.metric_key) == ("pulse", "7", "fcr")
    assert [m.dedupe_key for m in await messages(db)] == ["action:1:assigned"]


async def test_home_shows_open_items_with_buttons(
    db: Database, ctx: HandlerContext, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back the Smith account due tomorrow")
    view = await home(actor_of(w.maria), ctx)
    assert "call back the Smith account" in " ".join(getattr(b, "text", "") for b in view.blocks)
    assert any(isinstance(b, Buttons) and b.buttons[0].value == "1" for b in view.blocks)
    lead_view = await home(actor_of(w.lead), ctx)
    assert any("1 open action items" in getattr(b, "text", "") for b in lead_view.blocks)
    assert await h.home_section(actor_of(w.oscar), ctx) == []


def test_any_text_gives_a_reply_and_refusals_write_nothing() -> None:
    """Property test focused on `/action` (the tree-wide fuzz spreads over every verb)."""
    loop = asyncio.new_event_loop()
    clock = FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))

    async def setup() -> tuple[Database, list[Person]]:
        db = Database("sqlite+aiosqlite://")
        await db.create_all()
        await ensure_reference_data(db)
        team = await make_team(db)
        other = await make_team(db, "Tech Support", "America/New_York")
        cast = [
            await make_person(db, "maria.lopez", team=team),
            await make_person(db, "lee.lead", role=Role.lead, team=team),
            await make_person(db, "olga.other", role=Role.lead, team=other),
            await make_person(db, "ada.admin", role=Role.admin),
        ]
        ctx = make_ctx(db, clock)
        await h.create_item(ctx, actor=actor_of(cast[1]), owner_id=cast[0].id or 0, title="seed")
        return db, cast

    db, cast = loop.run_until_complete(setup())
    ctx = make_ctx(db, clock)
    words = st.sampled_from(
        [
            "@maria.lopez",
            "@nobody",
            "me",
            "due",
            "metric",
            "aht",
            "csat",
            "<=",
            ">=",
            "300s",
            "5:00",
            "120%",
            "tomorrow",
            "next",
            "week",
            "in",
            "9999",
            "days",
            "2026-02-30",
            "1999-01-01",
            "list",
            "team",
            "overdue",
            "done",
            "show",
            "due",
            "cancel",
            "reassign",
            "accept",
            "#1",
            "1",
            "99999999999999",
            "\x00",
            "'; DROP TABLE actionitem; --",
        ]
    )
    text = st.one_of(st.lists(words, max_size=10).map(" ".join), st.text(max_size=200))

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(text=text, who=st.integers(min_value=0, max_value=len(cast) - 1))
    def check(text: str, who: int) -> None:
        async def one() -> None:
            before = await counts(db)
            cmd = await command(db, cast[who], f"/action {text}")
            reply = await run_command(cmd, ctx)
            assert reply.fallback or reply.blocks
            assert "something went wrong on our side" not in reply.fallback, text
            if not reply.ok:
                assert await counts(db) == before, (text, reply.fallback)

        loop.run_until_complete(one())

    try:
        check()
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()


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
    assert "isn't from a team of yours" in other.fallback
    meeting = await press(
        ctx, w.lead, "action.create", f"meeting:weekly-huddle:{w.sam.id}", {"title": "new macro"}
    )
    assert meeting.ok, meeting.fallback
    items = await store.list_items(db)
    assert sorted((i.source, i.source_ref or "") for i in items) == [
        ("meeting", "weekly-huddle"),
        ("pulse", str(rid)),
    ]


async def test_help(db: Database, ctx: HandlerContext, w: World) -> None:
    reply = await run(db, ctx, w.maria, "/action help")
    assert reply.ok
    assert "/action @owner TEXT [due DATE] [metric METRIC OP TARGET]" in reply.fallback


async def test_list_done_and_day_off_hint(db: Database, ctx: HandlerContext, w: World) -> None:
    reply = await run(db, ctx, w.lead, "/action @maria.lopez weekend rota check due saturday")
    assert reply.ok
    assert "Sat 21 Nov is a day off for Maria Lopez" in " ".join(
        getattr(b, "text", "") for b in reply.blocks
    )
    await assign(db, ctx, w, "/action @sam.agent quick fix due today")
    assert (await run(db, ctx, w.sam, "/action done 2")).ok
    done = await run(db, ctx, w.lead, "/action list done")
    assert done.ok
    [table] = [b for b in done.blocks if isinstance(b, Table)]
    assert [(r[0], r[4]) for r in table.rows] == [("#2", "done")]
    mine = await run(db, ctx, w.maria, "/action list done")
    assert "Nothing was done" in mine.fallback
