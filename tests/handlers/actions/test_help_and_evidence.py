"""Need help acts once per press; Close as achieved checks the evidence again on press."""

from __future__ import annotations

import asyncio
import datetime as dt

from domain.items import ActionStatus
from domain.kpi import KpiRow
from domain.roles import Role
from domain.types import Reply
from handlers.core.context import HandlerContext
from storage import actions as store
from storage import kpis
from storage.db import Database
from tests.conftest import FakeClock, make_ctx, make_person, make_team
from tests.handlers.actions.helpers import World, assign, messages, press, run, snapshot


async def _help_dms(db: Database) -> list[str]:
    return [m.dedupe_key for m in await messages(db) if ":help:" in m.dedupe_key]


async def test_the_same_request_twice_asks_once(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back due tomorrow")
    clock.set(dt.datetime(2026, 11, 17, 10, 0, 0, 900_000, tzinfo=dt.UTC))
    first = await press(ctx, w.maria, "action.help", "1", {"message": "which account?"})
    clock.advance(seconds=1.1)  # the form sent again, across a second boundary
    second = await press(ctx, w.maria, "action.help", "1", {"message": "which account?"})
    assert first.ok
    assert second.ok
    assert "already asked Lee Lead" in second.fallback
    assert len(await _help_dms(db)) == 1
    kinds = [e.kind for e in await store.events(db, item_id=1)]
    assert kinds.count("help_requested") == 1
    # Two genuine requests minutes apart both go.
    clock.advance(minutes=3)
    third = await press(ctx, w.maria, "action.help", "1", {"message": "which account?"})
    assert "I've asked Lee Lead" in third.fallback
    clock.advance(seconds=5)
    other = await press(ctx, w.maria, "action.help", "1", {"message": "and the phone number?"})
    assert other.ok
    assert len(await _help_dms(db)) == 3


async def test_two_presses_at_once_ask_once(concurrent_db: Database, clock: FakeClock) -> None:
    ctx = make_ctx(concurrent_db, clock)
    team = await make_team(concurrent_db)
    lead = await make_person(concurrent_db, "lee.lead", role=Role.lead, team=team)
    maria = await make_person(concurrent_db, "maria.lopez", team=team)
    assert (await run(concurrent_db, ctx, lead, "/action @maria.lopez call back")).ok
    replies = await asyncio.gather(
        *(press(ctx, maria, "action.help", "1", {"message": "stuck"}) for _ in range(4))
    )
    assert all(r.ok for r in replies), [r.fallback for r in replies]
    assert len(await _help_dms(concurrent_db)) == 1
    kinds = [e.kind for e in await store.events(concurrent_db, item_id=1)]
    assert kinds.count("help_requested") == 1  # recorded once, not once per press


async def _metric_item(db: Database, ctx: HandlerContext, w: World) -> None:
    reply = await run(
        db, ctx, w.lead, "/action @maria.lopez shorten wrap-up due next week metric aht <= 300s"
    )
    assert reply.ok, reply.fallback


async def _aht(db: Database, w: World, days: list[int], value: float) -> None:
    assert w.maria.team_id
    rows = [
        KpiRow(dt.date(2026, 11, d), "aht", value, w.maria.id, w.maria.team_id, 40) for d in days
    ]
    await kpis.upsert_values(db, rows=rows)


async def test_achieved_is_refused_until_the_metric_is_met(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    clock.set(dt.datetime(2026, 11, 9, 10, 0, tzinfo=dt.UTC))  # Monday 9 Nov
    await _metric_item(db, ctx, w)
    clock.set(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))
    await _aht(db, w, [12, 13, 16], 280.0)  # three working days on target, five needed
    before = await snapshot(db)
    early = await press(ctx, w.maria, "action.achieved", "1")  # the value sent by hand
    assert not early.ok
    assert "isn't achieved yet" in early.fallback
    assert "5 working days in a row" in early.fallback
    assert await snapshot(db) == before
    await _aht(db, w, [10, 11], 290.0)  # now Tue 10 .. Mon 16: five working days
    done = await press(ctx, w.maria, "action.achieved", "1")
    assert done.ok, done.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.status is ActionStatus.done
    # Pressed by the owner: the assigner is told it was closed as achieved.
    told = [m for m in await messages(db) if m.recipient_person_id == w.lead.id]
    assert told
    assert "closed as achieved" in Reply.from_json(told[-1].payload).fallback


async def test_achieved_is_refused_once_the_evidence_no_longer_holds(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    clock.set(dt.datetime(2026, 11, 9, 10, 0, tzinfo=dt.UTC))
    await _metric_item(db, ctx, w)
    await _aht(db, w, [10, 11, 12, 13, 16], 280.0)
    # A close offered on the 17th, pressed on the 18th after a bad day.
    clock.set(dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC))
    await _aht(db, w, [17], 360.0)
    reply = await press(ctx, w.lead, "action.achieved", "1")
    assert not reply.ok
    assert "not yet on target" in reply.fallback
