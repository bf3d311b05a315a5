"""`/action @owner TEXT ...`: creating items from chat, and every bad input, which changes
nothing; a property test over any text."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.items import ActionStatus
from domain.roles import Role
from domain.types import Buttons, Reply
from handlers import actions as h
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import actions as store
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.models import Person
from tests.conftest import FakeClock, actor_of, command, make_ctx, make_person, make_team
from tests.handlers.actions.helpers import (
    World,
    assign,
    counts,
    messages,
    run,
    snapshot,
)


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
