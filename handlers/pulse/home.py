"""The pulse's part of the home view: an agent's open pulse, to answer from there, and for
a lead or manager each of their teams' open round's progress (counts only, never who) and
latest closed round, held to the same threshold as `/pulse results`."""

from __future__ import annotations

import datetime as dt

from domain.localtime import fmt_local
from domain.roles import Role
from domain.types import Actor, Block, Context, Header, Text
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from handlers.pulse.render import score_buttons
from handlers.pulse.results import TOO_FEW, min_responses, view_round
from handlers.pulse.wording import DAY_FMT
from storage import people
from storage import pulse as store
from storage.models import Team

LATEST_WEEKS = 12  # the latest closed round is looked for as far back as /pulse results


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """An agent's open pulse (to answer from home); a lead's or manager's teams' open round
    (counts only) and latest closed round (figures only when it may be shown)."""
    if actor.role is Role.agent:
        return await _agent_section(actor, ctx)
    if actor.role not in (Role.lead, Role.manager):
        return []
    ids = await visible_team_ids(ctx, actor)
    teams = [t for t in await people.list_teams(ctx.db) if t.id in ids]
    lines: list[str] = []
    for team in teams:
        lines += await _team_lines(ctx, team, named=len(teams) > 1)
    if not lines:
        return []
    return [Header("Pulse"), Text("\n".join(lines))]


async def _team_lines(ctx: HandlerContext, team: Team, *, named: bool) -> list[str]:
    assert team.id is not None
    now = ctx.now()

    def say(text: str) -> None:
        lines.append(f"{team.name}: {text}" if named else text[:1].upper() + text[1:])

    lines: list[str] = []
    current = await store.current_round(ctx.db, team_id=team.id, now=now)
    if current is not None and current.id is not None:
        asked, answers = await store.asked_and_answered(ctx.db, round_id=current.id)
        say(
            f"round open until {fmt_local(current.closes_at, team.timezone)}: "
            f"{answers} of {asked} answered so far."
        )
    closed = await store.round_stats(
        ctx.db, team_ids=[team.id], since=now - dt.timedelta(weeks=LATEST_WEEKS)
    )
    if closed:
        v = view_round(closed[-1], min_responses(ctx))
        day = fmt_local(v.stats.opens_at, team.timezone, DAY_FMT)
        if v.shown:
            say(
                f"latest results (round of {day}): ESAT {v.esat_pct:.0f}%, mean "
                f"{v.mean:.2f}, {v.stats.responses} of {v.stats.asked} answered; "
                "`/pulse results` for more."
            )
        else:
            n = v.stats.responses
            say(f"the round of {day} closed with {n} answer{'s' if n != 1 else ''}: {TOO_FEW}.")
    return lines


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
