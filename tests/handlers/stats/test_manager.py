"""/stats from a manager of several teams: the teams side by side."""

from __future__ import annotations

from domain.roles import Role
from handlers.core.context import HandlerContext
from storage import people
from tests.handlers.stats.world import make_world, run, table_of, text_of


async def test_manager_of_several_teams_sees_them_side_by_side(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    assert w.manager.id
    assert w.support.id
    await people.assign_member(
        ctx.db, person_id=w.manager.id, team_id=w.support.id, role=Role.manager
    )
    reply = await run(ctx, w.manager, "/stats")
    assert reply.ok, text_of(reply)
    t = table_of(reply)
    assert t.columns[:3] == ("team", "goals met", "AHT")
    rows = {r[0]: r for r in t.rows}
    # Billing: 10..16 Nov (280 + 330 + 310) / 3 = 5:07 on its 5:10 goal; Support: 8:20, no goal.
    assert rows["Billing"][1:3] == ("1/1", "5:07 ✓")
    assert rows["Support"][1:3] == ("\u2013", "8:20")
    detail = await run(ctx, w.manager, "/stats team Support")
    assert detail.ok
    assert "Support" in text_of(detail)
