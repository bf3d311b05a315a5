"""/goal set, list and clear: replacing, roles, managers, one period at a time."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from tests.handlers.goals.helpers import active, run
from tests.handlers.stats.world import make_world


async def test_set_again_replaces(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)  # has aht <= 310 daily
    ok, text = await run(ctx, w.lead, "/goal set aht <= 290s")
    assert ok
    assert "replaces ≤ 5:10 daily" in text
    daily = [g for g in await active(ctx, w) if g.metric_key == "aht" and g.period == "daily"]
    assert [g.target for g in daily] == [290]


async def test_agents_cannot_set_or_clear_but_can_list(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    for line in ("/goal set csat >= 90%", "/goal clear aht"):
        ok, text = await run(ctx, w.ann, line)
        assert not ok
        assert "Only leads or managers" in text
    assert len(await active(ctx, w)) == 1
    ok, text = await run(ctx, w.ann, "/goal list")
    assert ok
    assert "≤ 5:10" in text
    ok, text = await run(ctx, w.ann, "/goal list team Support")
    assert not ok


async def test_manager_sets_for_a_managed_team_and_clear(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    ok, text = await run(ctx, w.manager, "/goal set fcr >= 75% weekly team Billing")
    assert ok, text
    ok, text = await run(ctx, w.manager, "/goal clear fcr team Billing")
    assert ok
    assert "Cleared Billing's First contact resolution goal" in text
    ok, text = await run(ctx, w.manager, "/goal clear fcr team Billing")
    assert not ok
    assert "nothing changed" in text
    assert [g.metric_key for g in await active(ctx, w)] == ["aht"]


async def test_clear_one_period_keeps_the_others(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    await run(ctx, w.lead, "/goal set aht <= 300s weekly")
    ok, _ = await run(ctx, w.lead, "/goal clear aht weekly")
    assert ok
    assert [(g.metric_key, g.period) for g in await active(ctx, w)] == [("aht", "daily")]
