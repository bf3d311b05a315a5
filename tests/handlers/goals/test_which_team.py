"""A team-wide change never lands on a team its author didn't name, and no target is too
big to be refused clearly."""

from __future__ import annotations

import dataclasses

import pytest

from domain.roles import Role
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import people
from tests.conftest import command
from tests.handlers.goals.helpers import active, run
from tests.handlers.stats.world import make_world, text_of


@pytest.mark.parametrize("line", ["/goal set aht <= 290", "/goal clear aht"])
async def test_a_manager_of_several_teams_is_asked_which(ctx: HandlerContext, line: str) -> None:
    w = await make_world(ctx.db)
    assert w.manager.id
    assert w.support.id
    await people.assign_member(
        ctx.db, person_id=w.manager.id, team_id=w.support.id, role=Role.manager
    )
    before = [(g.team_id, g.metric_key, g.target) for g in await active(ctx, w)]
    ok, text = await run(ctx, w.manager, line)
    assert not ok
    assert "Say which team: add `team NAME` (Billing, Support)" in text
    assert [(g.team_id, g.metric_key, g.target) for g in await active(ctx, w)] == before
    # From Support's linked channel it means Support.
    cmd = await command(ctx.db, w.manager, line)
    reply = await run_command(dataclasses.replace(cmd, channel_team_id=w.support.id), ctx)
    assert reply.ok or "Support has no" in text_of(reply), text_of(reply)
    assert "Support" in text_of(reply)
    # A lead's only team needs no name.
    ok, text = await run(ctx, w.lead, "/goal set aht <= 290")
    assert ok, text


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("9" * 400, "too many digits"),
        ("1" + "0" * 30, "too many digits"),
        ("1e999", "doesn't read as"),
        ("inf", "doesn't read as"),
        ("-5", "doesn't read as"),
        ("²", "doesn't read as"),
        ("300." + "0" * 20, "too many decimals"),
        ("999999999", "more than a day"),
    ],
)
async def test_absurd_targets_are_refused_clearly(
    ctx: HandlerContext, target: str, expected: str
) -> None:
    w = await make_world(ctx.db)
    ok, text = await run(ctx, w.lead, f"/goal set aht <= {target}")
    assert not ok
    assert expected in text, text
    assert "went wrong" not in text
    assert len(text.split("\n")[0]) < 200  # a 400-digit number is never echoed whole
