"""The pulse's part of the home view: an agent's open pulse, to answer from there, and a
lead's open round's progress (counts only, never who)."""

from __future__ import annotations

from domain.localtime import fmt_local
from domain.roles import Role
from domain.types import Actor, Block, Context, Header, Text
from handlers.core.context import HandlerContext
from handlers.pulse.render import score_buttons
from storage import people
from storage import pulse as store


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """An agent's open pulse (to answer from home); a lead's round progress (counts only)."""
    if actor.role is Role.agent:
        return await _agent_section(actor, ctx)
    if actor.role is not Role.lead or actor.team_id is None:
        return []
    team = await people.get_team(ctx.db, team_id=actor.team_id)
    if team is None:
        return []
    current = await store.current_round(ctx.db, team_id=actor.team_id, now=ctx.now())
    if current is None or current.id is None:
        return []
    asked, answers = await store.asked_and_answered(ctx.db, round_id=current.id)
    return [
        Header("Pulse"),
        Text(
            f"Round open until {fmt_local(current.closes_at, team.timezone)}: "
            f"{answers} of {asked} answered so far."
        ),
    ]


async def _agent_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    now = ctx.now()
    for rnd, answered in await store.rounds_delivered_to(
        ctx.db, person_id=actor.person_id, limit=2
    ):
        if store.is_open(rnd, now) and not answered:
            assert rnd.id is not None
            return [
                Header("Pulse"),
                Text(f"*{rnd.question}* (anonymous, one tap)"),
                score_buttons(rnd.id, "esat", None),
                Context(f"Open until {fmt_local(rnd.closes_at, actor.timezone)}."),
            ]
    return []
