"""The pulse's home-view section: an agent's open pulse, a lead's round progress."""

from __future__ import annotations

import dataclasses
import json

from handlers.core.context import HandlerContext
from handlers.pulse import home_section
from storage.db import Database
from tests.conftest import actor_of
from tests.handlers.pulse.helpers import make_crew, open_now, tap


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
