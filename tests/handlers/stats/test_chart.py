"""/stats METRIC chart [PERIOD]: the neutral chart carries the same figures as
`/stats METRIC PERIOD` and as the web dashboard's series, with alt text and a table."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from domain.fmt import fmt_value
from domain.kpi import KpiRow
from domain.types import Chart, Reply
from handlers.core.context import HandlerContext
from handlers.dashboard import team_page
from storage import kpis
from tests.conftest import actor_of, make_ctx
from tests.handlers.stats.world import TODAY, make_world, run, text_of


def chart_of(reply: Reply) -> Chart:
    charts = [b for b in reply.blocks if isinstance(b, Chart)]
    assert len(charts) == 1, text_of(reply)
    return charts[0]


async def test_team_chart_has_the_figures_of_the_text_answer(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    plain = await run(ctx, w.lead, "/stats aht week")
    charted = await run(ctx, w.lead, "/stats aht chart week")
    assert charted.ok, text_of(charted)
    chart = chart_of(charted)
    # The team's figure over the week, as `/stats aht week` states it ("Team *5:03 ✓*").
    team_value = re.search(r"Team \*([0-9:]+)", text_of(plain))
    assert team_value is not None
    assert f"*{team_value.group(1)}" in text_of(charted)
    # A point a day: 10..16 Nov; every day's figure is the team's (ann 280, bob 330, cid
    # 300+i at equal weight): (280 + 330 + 300 + i) / 3.
    assert chart.shape == "line"
    assert len(chart.labels) == 7
    assert chart.labels[-1] == "Mon 16 Nov"
    [line] = chart.series
    expected = [round((280 + 330 + 300 + i) / 3, 4) for i in range(7, 14)]
    assert list(line.values) == pytest.approx(expected)
    assert line.texts == tuple(fmt_value("s", v) for v in expected)
    # The goal line and its band (lower is better for AHT: the band is below).
    assert chart.goal == 310
    assert chart.goal_above is False
    assert "≤ 5:10" in chart.goal_text
    # The table alternative: a row a day with the same values.
    assert chart.table is not None
    assert [r[1] for r in chart.table.rows] == list(line.texts)
    # The alt text names the metric, the team, the range, the ends and the goal count.
    assert "Average handle time" in chart.alt_text
    assert "Billing" in chart.alt_text
    assert f"highest {line.texts[-1]}" in chart.alt_text
    assert "Goal ≤ 5:10 /day: 7 of 7 days on goal." in chart.alt_text
    assert chart.alt_text in charted.text  # the notification text carries it


async def test_chart_and_the_dashboard_draw_the_same_line(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    assert w.billing.id is not None
    charted = await run(ctx, w.lead, "/stats aht chart 2026-11-03..2026-11-16")
    page = await team_page(ctx, actor_of(w.lead), w.billing.id, 14)
    [aht] = [s for s in page.series if s.key == "aht"]
    # The dashboard's 14 days end today (17 Nov, no figures yet); the chart's end on 16 Nov.
    dash = dict(zip(aht.days, aht.values, strict=True))
    [line] = chart_of(charted).series
    days = [dt.date(2026, 11, 3) + dt.timedelta(days=i) for i in range(14)]
    for day, value in zip(days, line.values, strict=True):
        if day in dash:
            assert dash[day] == value


async def test_person_and_agent_charts(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    mine = await run(ctx, w.cid, "/stats aht chart week")  # an agent: their own
    [line] = chart_of(mine).series
    assert list(line.values) == [300.0 + i for i in range(7, 14)]
    assert "Cid Agent" in chart_of(mine).title
    same = await run(ctx, w.cid, "/stats me aht chart week")
    assert chart_of(same) == chart_of(mine)
    theirs = await run(ctx, w.lead, "/stats chart @cid.agent aht week")
    assert chart_of(theirs).series == chart_of(mine).series
    refused = await run(ctx, w.other_lead, "/stats @cid.agent aht chart week")
    assert not refused.ok


async def test_long_periods_chart_weeks_and_combine_their_sums(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    assert w.billing.id is not None
    # A heavy day: weeks are combined from sums (weighted), never an average of days.
    await kpis.upsert_values(
        ctx.db,
        rows=[KpiRow(TODAY - dt.timedelta(days=2), "aht", 600.0, w.ann.id, w.billing.id, 1000)],
    )
    reply = await run(ctx, w.lead, "/stats aht chart 2025-11-17..2026-11-16")
    chart = chart_of(reply)
    assert len(chart.labels) == 53  # 365 days: 52 whole weeks back from the end, and a day
    assert chart.labels[0] == "Mon 17 Nov"
    assert chart.labels[-1] == "w/c Tue 10 Nov"
    assert chart.table is not None
    assert len(chart.table.rows) == 53
    assert "per week" in chart.alt_text
    last = chart.series[0].values[-1]  # 10-16 Nov
    # Ann 280 at 10 a day but 600 at 1000 on 15 Nov; Bob 330 and Cid 300+i at 10 a day.
    total = 280 * 10 * 6 + 600 * 1000 + 330 * 10 * 7 + sum(300 + i for i in range(7, 14)) * 10
    assert last == pytest.approx(total / (60 + 1000 + 70 + 70), abs=1e-3)


async def test_chart_needs_a_metric_and_two_days(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    for line, says in (
        ("/stats chart", "Name the metric"),
        ("/stats chart week", "Name the metric"),
        ("/stats aht chart yesterday", "at least two days"),
        ("/stats aht chart today", "at least two days"),
    ):
        reply = await run(ctx, w.lead, line)
        assert not reply.ok, line
        assert says in text_of(reply), line
    default = await run(ctx, w.lead, "/stats aht chart")
    assert len(chart_of(default).labels) == 30  # the last 30 days


async def test_charts_off_answer_the_table(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    off = make_ctx(ctx.db, ctx.clock, charts_enabled=False)
    reply = await run(off, w.lead, "/stats aht chart week")
    assert reply.ok
    assert not [b for b in reply.blocks if isinstance(b, Chart)]
    assert "Charts are turned off" in text_of(reply)
    assert "Mon 16 Nov" in text_of(reply)


async def test_a_chart_survives_the_outbox_json(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats aht chart week")
    again = Reply.from_json(reply.to_json())
    assert again.blocks == reply.blocks
