"""The pulse's home-view section: an agent's open pulse, a lead's round progress."""

from __future__ import annotations

import dataclasses
import json

from handlers.core.context import HandlerContext
from handlers.pulse import TOO_FEW, home_section
from storage.db import Database
from tests.conftest import FakeClock, actor_of
from tests.handlers.pulse.helpers import answered_round, make_crew, open_now, tap


async def test_home_section(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 5)
    assert await home_section(actor_of(crew.agents[0]), ctx) == []
    rid = await open_now(db, ctx, crew)
    blocks = await home_section(actor_of(crew.agents[0]), ctx)
    values = [b.value for blk in blocks if blk.kind == "buttons" for b in blk.buttons]
    assert values == [f"{rid}:esat:{s}" for s in range(1, 6)]
    await tap(ctx, crew.agents[0], f"{rid}:esat:3")
    assert await home_section(actor_of(crew.agents[0]), ctx) == []
    lead_blocks = await home_section(actor_of(crew.lead), ctx)
    assert "1 of 5 answered" in json.dumps([dataclasses.asdict(b) for b in lead_blocks])


async def test_home_shows_the_latest_closed_round_only_when_it_may_be_shown(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 6)
    await answered_round(db, ctx, clock, crew, [5, 4, 4, 2, 1])
    text = json.dumps([dataclasses.asdict(b) for b in await home_section(actor_of(crew.lead), ctx)])
    assert "Latest results (round of 17 Nov 2026): ESAT 60%, mean 3.20, 5 of 6 answered" in text
    await answered_round(db, ctx, clock, crew, [5, 5, 5, 5])
    text = json.dumps([dataclasses.asdict(b) for b in await home_section(actor_of(crew.lead), ctx)])
    assert "closed with 4 answers" in text
    assert TOO_FEW in text
    assert "ESAT" not in text
    # An agent's home never shows results.
    assert await home_section(actor_of(crew.agents[0]), ctx) == []
