"""The Prep card and Record as held buttons check their value."""

from __future__ import annotations

from domain.types import Action
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action
from storage.db import Database
from tests.conftest import FakeClock, actor_of
from tests.handlers.kudos.helpers import text_of
from tests.handlers.oneonone.helpers import at, occurrences, pair, run, the_1on1


async def test_buttons_prep_and_done_validate_the_value(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    o = await the_1on1(db)
    prep = await run_action(Action(actor_of(p.lead), "oneonone.prep", str(o.id)), ctx)
    assert prep.ok
    assert "1:1 prep: Maria Lopez" in text_of(prep)
    for who, value in ((p.sam, str(o.id)), (p.lead, "abc"), (p.lead, "424242")):
        assert not (await run_action(Action(actor_of(who), "oneonone.prep", value), ctx)).ok
    clock.set(at(2026, 11, 24, 10, 25))
    done = await run_action(
        Action(actor_of(p.lead), "oneonone.done", str(o.id), form={"notes": "good chat"}), ctx
    )
    assert done.ok
    assert [(x.status, x.notes) for x in await occurrences(db)] == [("held", "good chat")]
