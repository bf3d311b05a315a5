"""Builders shared by the `/pulse` tests: a team with its lead and agents, running a
command, tapping a score, commenting, and rounds opened, answered and closed."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlmodel import select

from domain.roles import Role
from domain.types import Action, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from storage import pulse as store
from storage.db import Database
from storage.models import Person, PulseResponse, PulseRound, Team
from tests.conftest import FakeClock, actor_of, command, make_person, make_team


@dataclasses.dataclass
class Crew:
    team: Team
    lead: Person
    agents: list[Person]


async def make_crew(db: Database, name: str, n_agents: int, *, tz: str = "Europe/London") -> Crew:
    team = await make_team(db, name, tz=tz)
    slug = name.lower().replace(" ", "")
    lead = await make_person(db, f"lead.{slug}", role=Role.lead, team=team, tz=tz)
    agents = [await make_person(db, f"agent{i}.{slug}", team=team, tz=tz) for i in range(n_agents)]
    team.lead_id = lead.id
    return Crew(team, lead, agents)


async def run(db: Database, ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(db, who, line), ctx)


async def tap(ctx: HandlerContext, who: Person, value: str) -> Reply:
    return await run_action(Action(actor_of(who), "pulse.answer", value), ctx)


async def comment(ctx: HandlerContext, who: Person, round_id: int, text: str) -> Reply:
    return await run_action(
        Action(actor_of(who), "pulse.comment", str(round_id), form={"comment": text}), ctx
    )


async def open_now(db: Database, ctx: HandlerContext, crew: Crew) -> int:
    reply = await run(db, ctx, crew.lead, "/pulse now")
    assert reply.ok, reply.text
    assert crew.team.id is not None
    rnd = await store.latest_round(db, team_id=crew.team.id)
    assert rnd is not None
    assert rnd.id is not None
    return rnd.id


async def responses(db: Database) -> list[PulseResponse]:
    async with db.session() as s:
        return list((await s.execute(select(PulseResponse))).scalars())


async def close_all(db: Database) -> None:
    """Close every open round as the close job does (storage.pulse.close_due: the same
    transaction cuts the tie between the answers and the people who gave them)."""
    async with db.session() as s:
        latest = await s.scalar(sa.select(sa.func.max(PulseRound.closes_at)))
    if latest is not None:
        await store.close_due(db, now=latest)


def all_text(reply: Reply) -> str:
    return reply.text + "\n" + reply.to_json()


async def answered_round(
    db: Database, ctx: HandlerContext, clock: FakeClock, crew: Crew, scores: list[int]
) -> int:
    """Open a round, have the first len(scores) agents answer, close it, move on a week."""
    rid = await open_now(db, ctx, crew)
    for agent, score in zip(crew.agents, scores, strict=False):
        assert (await tap(ctx, agent, f"{rid}:esat:{score}")).ok
    await close_all(db)
    clock.advance(days=7)
    return rid


async def manager_view(
    db: Database, ctx: HandlerContext, clock: FakeClock, scores: dict[str, list[int]]
) -> tuple[Person, Reply]:
    manager = await make_person(db, "big.boss", role=Role.manager)
    for name, answers in scores.items():
        crew = await make_crew(db, name, 6)
        async with db.session() as s:
            team = await s.get(Team, crew.team.id)
            assert team is not None
            team.manager_id = manager.id
        rid = await open_now(db, ctx, crew)
        for agent, score in zip(crew.agents, answers, strict=False):
            await tap(ctx, agent, f"{rid}:esat:{score}")
    await close_all(db)
    return manager, await run(db, ctx, manager, "/pulse results")
