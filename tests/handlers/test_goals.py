"""/goal set, list and clear: units, ranges, directions, roles; refusals change nothing."""

from __future__ import annotations

import pytest

from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import goals
from storage.models import Goal, Person
from tests.conftest import command
from tests.handlers.test_stats import World, make_world, text_of


async def run(ctx: HandlerContext, who: Person, line: str) -> tuple[bool, str]:
    reply = await run_command(await command(ctx.db, who, line), ctx)
    return reply.ok, text_of(reply)


async def active(ctx: HandlerContext, w: World) -> list[Goal]:
    assert w.billing.id
    assert w.support.id
    return await goals.list_goals(ctx.db, team_ids=[w.billing.id, w.support.id])


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


async def test_set_again_replaces(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)  # has aht <= 310 daily
    ok, text = await run(ctx, w.lead, "/goal set aht <= 290s")
    assert ok
    assert "replaces ≤ 5:10 daily" in text
    daily = [g for g in await active(ctx, w) if g.metric_key == "aht" and g.period == "daily"]
    assert [g.target for g in daily] == [290]


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


async def test_list_shows_current_value_and_hit(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    ok, text = await run(ctx, w.lead, "/goal list")
    assert ok
    # Yesterday's AHT 5:08 against ≤ 5:10.
    assert "5:08 ✓" in text
    assert "by Lee Lead" in text


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
