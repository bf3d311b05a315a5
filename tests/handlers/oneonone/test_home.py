"""The 1:1 section of the home view: next 1:1s and the latest kudos."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from handlers.core.home import home
from storage.db import Database
from tests.conftest import actor_of
from tests.handlers.kudos.helpers import text_of
from tests.handlers.oneonone.helpers import pair, run


async def test_home_shows_next_1on1_and_latest_kudos(db: Database, ctx: HandlerContext) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    assert (await run(db, ctx, p.sam, "/kudos @maria.lopez #action great save")).ok
    view = text_of(await home(actor_of(p.maria), ctx))
    assert "with Lead One: *Tue 24 Nov 04:00 (America/Chicago)*" in view
    assert "great save" in view
    lead_view = text_of(await home(actor_of(p.lead), ctx))
    assert "with Maria Lopez: Tue 24 Nov 10:00" in lead_view
