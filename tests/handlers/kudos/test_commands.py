"""`/kudos mine` and the recent shout-outs (plain `/kudos`)."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from storage.db import Database
from tests.handlers.kudos.helpers import crew, run, text_of


async def test_mine_shows_received_and_given(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    assert (await run(db, ctx, c.sam, "/kudos @maria.billing #action fixed the IVR")).ok
    assert (await run(db, ctx, c.maria, "/kudos @sam.billing @lee.billing covered lunch")).ok
    mine = await run(db, ctx, c.maria, "/kudos mine")
    body = text_of(mine)
    assert "Received: 1" in body
    assert "fixed the IVR" in body
    assert "Sam Billing" in body
    assert "Given: 1" in body
    assert "Sam Billing and Lee Billing" in body


async def test_bare_kudos_shows_recent_team_shout_outs(db: Database, ctx: HandlerContext) -> None:
    c = await crew(db)
    assert (await run(db, ctx, c.sam, "/kudos @maria.billing #action fixed the IVR")).ok
    feed = await run(db, ctx, c.lee, "/kudos")
    assert feed.ok
    assert "fixed the IVR" in text_of(feed)
    assert "#ownership" in text_of(feed)
