"""/stats METRIC: every agent ranked best first; queue metrics; big teams."""

from __future__ import annotations

import datetime as dt

from domain.kpi import KpiRow
from domain.roles import Role
from handlers.core.context import HandlerContext
from storage import kpis
from tests.conftest import make_person, make_team
from tests.handlers.stats.world import TODAY, make_world, run, table_of, text_of


async def test_breakdown_ranks_best_first_by_direction(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats aht week")
    assert reply.ok, text_of(reply)
    rows = table_of(reply).rows
    assert [r[1] for r in rows] == ["Ann Agent", "Cid Agent", "Bob Agent"]  # lower AHT first
    assert rows[0][6] == "best"
    assert "lowest" in rows[-1][6]
    assert rows[-1][2].endswith("✗")
    assert rows[0][2].endswith("✓")
    reply = await run(ctx, w.lead, "/stats csat week")
    assert [r[1] for r in table_of(reply).rows] == ["Ann Agent", "Cid Agent", "Bob Agent"]
    assert "higher is better" in text_of(reply)


async def test_queue_metric_has_no_agent_breakdown(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    assert w.billing.id
    await kpis.upsert_values(
        ctx.db,
        rows=[KpiRow(TODAY - dt.timedelta(days=1), "service_level", 81.0, None, w.billing.id, 400)],
    )
    reply = await run(ctx, w.lead, "/stats sl week")
    assert reply.ok
    assert "measured for the queue" in text_of(reply)


async def test_breakdown_of_a_big_team_shows_both_ends_and_no_data_names(
    ctx: HandlerContext,
) -> None:
    team = await make_team(ctx.db, "Big")
    lead = await make_person(ctx.db, "big.lead", role=Role.lead, team=team)
    assert team.id
    rows = []
    for i in range(40):
        p = await make_person(ctx.db, f"agent.n{i:02d}", team=team)
        # A zero-contact day counts for nothing: agent 39 has no usable figure at all.
        # (The others have enough contacts to be compared: 30 or more.)
        weight = 0 if i == 39 else 30 + i
        rows.append(KpiRow(TODAY - dt.timedelta(days=1), "aht", 200.0 + i, p.id, team.id, weight))
    await kpis.upsert_values(ctx.db, rows=rows)
    reply = await run(ctx, lead, "/stats aht yesterday")
    table = table_of(reply)
    assert len(table.rows) == 30
    assert table.rows[0][:2] == ("1", "Agent N00")
    assert table.rows[-1][:2] == ("39", "Agent N38")
    assert "lowest" in table.rows[-1][6]
    text = text_of(reply)
    assert "9 agents in the middle not shown." in text
    assert "No figures: Agent N39." in text
