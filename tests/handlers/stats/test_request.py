"""/stats: reading the words; bad input explains itself and changes nothing."""

from __future__ import annotations

import pytest

from handlers.core.context import HandlerContext
from storage import kpis
from tests.handlers.stats.world import make_world, run, text_of


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("/stats wibble", "Metrics: "),
        ("/stats wibble", "Periods: "),
        ("/stats 2026-02-30", "not a real date"),
        ("/stats 2026-11-10..2026-11-01", "ends before it starts"),
        ("/stats 2027-01-01", "in the future"),
        ("/stats aht csat", "one metric at a time"),
        ("/stats week month", "one period at a time"),
        ("/stats team Nowhere", "no team called"),
        ("/stats @nobody.here", "don't know"),
    ],
)
async def test_bad_input_explains(ctx: HandlerContext, line: str, expect: str) -> None:
    w = await make_world(ctx.db)
    before = await kpis.count_values(ctx.db)
    reply = await run(ctx, w.lead, line)
    assert not reply.ok
    assert expect in text_of(reply)
    assert await kpis.count_values(ctx.db) == before
