"""/stats for a team: the overview, a period, no data, the last day with figures, zones."""

from __future__ import annotations

import datetime as dt

from domain.kpi import KpiRow
from domain.roles import Role
from handlers.core.context import HandlerContext
from storage import kpis
from tests.conftest import FakeClock, make_person, make_team
from tests.handlers.stats.world import TODAY, make_world, run, table_of, text_of


async def test_lead_sees_team_yesterday_week_goal_and_trend(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats")
    assert reply.ok, text_of(reply)
    t = table_of(reply)
    assert t.columns[:4] == ("metric", "yesterday", "7 days", "Δ prior 7d")
    aht = next(r for r in t.rows if r[0] == "AHT")
    # Yesterday (16 Nov): (280 + 330 + 313) / 3 = 307.67 -> 5:08, on the <= 310 goal.
    assert aht[1] == "5:08 ✓"
    assert aht[4] == "≤ 5:10 /day"
    assert len(aht[5]) == 14
    assert set(aht[5]) <= set("▁▂▃▄▅▆▇█·")
    csat = next(r for r in t.rows if r[0] == "CSAT")
    assert csat[1] == "76.7%"  # (9 + 6 + 8) / 30
    assert "Billing" in reply.blocks[0].text  # type: ignore[union-attr]


async def test_explicit_period_and_range(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats month")
    assert reply.ok
    assert "November 2026 to date" in text_of(reply)
    reply = await run(ctx, w.lead, "/stats 2026-11-03..2026-11-09")
    assert reply.ok, text_of(reply)
    aht = next(r for r in table_of(reply).rows if r[0] == "AHT")
    # 3..9 Nov: cid is 300..306 -> mean of (280 + 330 + 303) / 3 = 304.33 -> 5:04
    assert aht[1] == "5:04 ✓"


async def test_no_data_says_so(ctx: HandlerContext) -> None:
    team = await make_team(ctx.db, "Empty")
    lead = await make_person(ctx.db, "eve.lead", role=Role.lead, team=team)
    reply = await run(ctx, lead, "/stats")
    assert reply.ok
    assert "No figures for Empty" in text_of(reply)


async def test_monday_overview_shows_friday(ctx: HandlerContext, clock: FakeClock) -> None:
    w = await make_world(ctx.db)
    # Sunday 15 Nov has data in the world; move to a team whose data stops on Friday.
    clock.set(dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))  # Monday 23 Nov
    assert w.billing.id
    await kpis.upsert_values(
        ctx.db, rows=[KpiRow(dt.date(2026, 11, 20), "aht", 250.0, w.ann.id, w.billing.id, 10)]
    )
    reply = await run(ctx, w.lead, "/stats")
    assert table_of(reply).columns[1] == "Fri 20 Nov"


async def test_yesterday_and_month_in_the_team_zone_across_dst_and_month_end(
    ctx: HandlerContext, clock: FakeClock
) -> None:
    team = await make_team(ctx.db, "East", tz="America/New_York")
    lead = await make_person(ctx.db, "nia.lead", role=Role.lead, team=team, tz="America/New_York")
    ann = await make_person(ctx.db, "ned.agent", team=team, tz="America/New_York")
    assert team.id
    await kpis.upsert_values(
        ctx.db,
        rows=[
            KpiRow(dt.date(2026, 10, 30), "aht", 200.0, ann.id, team.id, 10),
            KpiRow(dt.date(2026, 10, 31), "aht", 300.0, ann.id, team.id, 10),
            KpiRow(dt.date(2026, 11, 1), "aht", 400.0, ann.id, team.id, 10),
        ],
    )
    # 03:30 UTC on 2 Nov is 22:30 on 1 Nov in New York (EST since 1 Nov): today is 1 Nov.
    clock.set(dt.datetime(2026, 11, 2, 3, 30, tzinfo=dt.UTC))
    reply = await run(ctx, lead, "/stats yesterday")
    aht = next(r for r in table_of(reply).rows if r[0] == "AHT")
    assert aht[1] == "5:00"  # 31 Oct
    assert aht[2] == "3:20"  # the day before, 30 Oct
    # On the 1st, "month" is the whole of October.
    reply = await run(ctx, lead, "/stats month")
    assert "October 2026" in text_of(reply)
    assert next(r for r in table_of(reply).rows if r[0] == "AHT")[1] == "4:10"
    # Two hours later it is 00:30 on 2 Nov in New York too.
    clock.advance(hours=2)
    reply = await run(ctx, lead, "/stats yesterday")
    assert next(r for r in table_of(reply).rows if r[0] == "AHT")[1] == "6:40"


async def test_today_is_today_so_far(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    assert w.billing.id
    await kpis.upsert_values(ctx.db, rows=[KpiRow(TODAY, "aht", 240.0, w.ann.id, w.billing.id, 30)])
    reply = await run(ctx, w.lead, "/stats today")
    aht = next(r for r in table_of(reply).rows if r[0] == "AHT")
    assert aht[1] == "4:00 ✓"
    assert "today" in text_of(reply)
