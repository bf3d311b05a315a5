"""The KPI section of the home view."""

from __future__ import annotations

from domain.types import Fields, Reply
from handlers.core.context import HandlerContext
from handlers.core.home import home
from handlers.stats import home_section
from tests.conftest import actor_of, make_person
from tests.handlers.stats.world import make_world, text_of


async def test_home_section_for_lead_and_agent(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    lead_blocks = await home_section(actor_of(w.lead), ctx)
    text = text_of(Reply(blocks=lead_blocks))
    assert "Billing KPIs" in text
    pairs = dict(next(b for b in lead_blocks if isinstance(b, Fields)).pairs)
    assert pairs["AHT"].startswith("5:07 ✓")  # 10..16 Nov: (280 + 330 + 310) / 3 = 306.67
    agent_blocks = await home_section(actor_of(w.bob), ctx)
    text = text_of(Reply(blocks=agent_blocks))
    assert "Your KPIs" in text
    assert "You're on target for *0 of 1*" in text
    full = await home(actor_of(w.ann), ctx)
    assert "Your KPIs" in text_of(full)
    empty = await make_person(ctx.db, "new.agent", team=w.support)
    assert await home_section(actor_of(empty), ctx) == []
