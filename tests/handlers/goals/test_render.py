"""/goal list: the current figure against each goal, and who set it."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from tests.handlers.goals.helpers import run
from tests.handlers.stats.world import make_world


async def test_list_shows_current_value_and_hit(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    ok, text = await run(ctx, w.lead, "/goal list")
    assert ok
    # Yesterday's AHT 5:08 against ≤ 5:10.
    assert "5:08 ✓" in text
    assert "by Lee Lead" in text
