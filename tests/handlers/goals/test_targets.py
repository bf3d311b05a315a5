"""/goal set: units, ranges and directions of targets; bad input changes nothing."""

from __future__ import annotations

import pytest

from handlers.core.context import HandlerContext
from tests.handlers.goals.helpers import active, run
from tests.handlers.stats.world import make_world


@pytest.mark.parametrize(
    ("line", "metric", "op", "target", "period"),
    [
        ("/goal set aht <= 300s daily", "aht", "<=", 300, "daily"),
        ("/goal set aht <= 5:00 weekly", "aht", "<=", 300, "weekly"),
        ("/goal set aht <=5m30s", "aht", "<=", 330, "daily"),
        ("/goal set aht ≤ 280 s monthly", "aht", "<=", 280, "monthly"),
        ("/goal set csat >= 90%", "csat", ">=", 90, "daily"),
        ("/goal set CSAT => 87.5 weekly", "csat", ">=", 87.5, "weekly"),
        ("/goal set nps >= +30 monthly", "nps", ">=", 30, "monthly"),
        ("/goal set sl >= 80%", "service_level", ">=", 80, "daily"),
        ("/goal set abandon < 5%", "abandon_rate", "<", 5, "daily"),
    ],
)
async def test_set_reads_units(
    ctx: HandlerContext, line: str, metric: str, op: str, target: float, period: str
) -> None:
    w = await make_world(ctx.db)
    ok, text = await run(ctx, w.lead, line)
    assert ok, text
    g = next(g for g in await active(ctx, w) if g.metric_key == metric and g.period == period)
    assert (g.op, g.target, g.team_id, g.set_by_id) == (op, target, w.billing.id, w.lead.id)
    assert "Note:" not in text


async def test_contrary_direction_is_allowed_with_a_warning(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    ok, text = await run(ctx, w.lead, "/goal set aht >= 180s weekly")
    assert ok
    assert "lower Average handle time is better" in text
    assert "`<=`" in text
    assert any(g.op == ">=" for g in await active(ctx, w))
    ok, text = await run(ctx, w.lead, "/goal set csat <= 99%")
    assert ok
    assert "higher CSAT is better" in text


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ("/goal set", "Say which metric"),
        ("/goal set speedy >= 3", "don't know the metric"),
        ("/goal set aht", "comparison and a target"),
        ("/goal set aht = 300", "not a comparison"),
        ("/goal set aht <=", "target after the comparison"),
        ("/goal set aht <= 90%", "use seconds"),
        ("/goal set csat >= 5:00", "use a percentage"),
        ("/goal set csat >= 120%", "between 0.0% and 100.0%"),
        ("/goal set nps >= 150", "between"),
        ("/goal set aht <= -5", "use seconds"),
        ("/goal set aht <= 300s yearly", "daily, weekly or monthly"),
        ("/goal set aht <= 300s daily extra", "didn't understand"),
        ("/goal set aht <= 300s team Nowhere", "no team called"),
        ("/goal set aht <= 300s team Support", "isn't one of yours"),
        ("/goal clear aht team Support", "isn't one of yours"),
        ("/goal clear", "Say which metric"),
        ("/goal clear aht hourly", "daily, weekly or monthly"),
        ("/goal frobnicate", "don't know"),
    ],
)
async def test_bad_input_changes_nothing(ctx: HandlerContext, line: str, expect: str) -> None:
    w = await make_world(ctx.db)
    before = [(g.id, g.target, g.active) for g in await active(ctx, w)]
    ok, text = await run(ctx, w.lead, line)
    assert not ok, text
    assert expect in text, text
    assert [(g.id, g.target, g.active) for g in await active(ctx, w)] == before
