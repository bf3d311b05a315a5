"""Running /goal lines and reading the goals back, for the /goal tests."""

from __future__ import annotations

from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from storage import goals
from storage.models import Goal, Person
from tests.conftest import command
from tests.handlers.stats.world import World, text_of


async def run(ctx: HandlerContext, who: Person, line: str) -> tuple[bool, str]:
    reply = await run_command(await command(ctx.db, who, line), ctx)
    return reply.ok, text_of(reply)


async def active(ctx: HandlerContext, w: World) -> list[Goal]:
    assert w.billing.id
    assert w.support.id
    return await goals.list_goals(ctx.db, team_ids=[w.billing.id, w.support.id])
