"""Creating items from code, and showing one with its whole trail."""

from __future__ import annotations

import datetime as dt

from domain.types import Fields, Table
from handlers import actions as h
from handlers.core.context import HandlerContext
from storage.db import Database
from tests.conftest import FakeClock, actor_of
from tests.handlers.actions.helpers import (
    World,
    assign,
    messages,
    run,
)


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
