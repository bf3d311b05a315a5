"""/stats: who may see what (own figures, a lead's team, a manager's teams)."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from tests.handlers.stats.world import make_world, run, text_of


async def test_agent_gets_own_figures_only(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    mine = await run(ctx, w.ann, "/stats")
    assert mine.ok
    assert "Ann Agent" in text_of(mine)
    assert "Bob" not in text_of(mine)
    assert (await run(ctx, w.ann, "/stats me aht week")).ok
    for line in ("/stats @bob.agent", "/stats team Billing", "/stats team Support"):
        reply = await run(ctx, w.ann, line)
        assert not reply.ok, line
        assert "own figures" in text_of(reply), line


async def test_lead_cannot_see_another_team_or_its_people(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.lead, "/stats team Support")
    assert not reply.ok
    assert "isn't one of yours" in text_of(reply)
    reply = await run(ctx, w.lead, "/stats @dan.agent")
    assert not reply.ok
    assert "isn't in a team of yours" in text_of(reply)
    own = await run(ctx, w.lead, "/stats @bob.agent week")
    assert own.ok
    assert "Bob Agent" in text_of(own)


async def test_manager_sees_the_teams_they_manage(ctx: HandlerContext) -> None:
    w = await make_world(ctx.db)
    reply = await run(ctx, w.manager, "/stats team Billing aht")
    assert reply.ok
    assert "Ann Agent" in text_of(reply)
    reply = await run(ctx, w.manager, "/stats team Support")
    assert not reply.ok
