"""Opening a round with `/pulse now`: one DM per agent with the score buttons, one open
round at a time, and eNPS only in the first round of each month."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import select

from domain.types import Reply
from handlers.core.context import HandlerContext
from handlers.pulse import DEFAULT_QUESTION
from storage.db import Database
from storage.models import OutboxMessage, PulseRound
from tests.conftest import FakeClock, make_person
from tests.handlers.pulse.helpers import close_all, make_crew, open_now, run, tap


async def test_pulse_now_sends_one_dm_per_agent_with_buttons(
    db: Database, ctx: HandlerContext
) -> None:
    crew = await make_crew(db, "Billing", 6)
    reply = await run(db, ctx, crew.lead, "/pulse now")
    assert reply.ok
    assert "6 agents" in reply.text
    async with db.session() as s:
        msgs = list((await s.execute(select(OutboxMessage))).scalars())
        rnd = (await s.execute(select(PulseRound))).scalars().one()
    assert rnd.question == DEFAULT_QUESTION
    assert rnd.include_enps  # the first round of the month asks eNPS too
    assert {m.recipient_person_id for m in msgs} == {a.id for a in crew.agents}
    assert {m.dedupe_key for m in msgs} == {f"pulse:{rnd.id}:{a.id}" for a in crew.agents}
    payload = Reply.from_json(msgs[0].payload)
    values = [b.value for blk in payload.blocks if blk.kind == "buttons" for b in blk.buttons]
    assert [v for v in values if ":esat:" in v] == [f"{rnd.id}:esat:{s}" for s in range(1, 6)]
    assert [v for v in values if ":enps:" in v] == [f"{rnd.id}:enps:{s}" for s in range(11)]
    # The button values carry the round and the score, never the person.
    for m in msgs:
        assert str(m.recipient_person_id) not in {v.split(":")[0] for v in values} - {str(rnd.id)}
    assert rnd.closes_at - rnd.opens_at == dt.timedelta(hours=72)
    assert rnd.remind_at is not None
    assert rnd.remind_at - rnd.opens_at == dt.timedelta(hours=24)


async def test_second_round_refused_while_one_is_open(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    await open_now(db, ctx, crew)
    reply = await run(db, ctx, crew.lead, "/pulse now")
    assert not reply.ok
    assert "already has a round open" in reply.text
    async with db.session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(PulseRound)) == 1


async def test_enps_only_in_the_first_round_of_the_month(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 3)
    first = await open_now(db, ctx, crew)
    await close_all(db)
    clock.advance(days=4)
    second = await open_now(db, ctx, crew)
    await close_all(db)
    clock.set(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC))
    third = await open_now(db, ctx, crew)
    async with db.session() as s:
        rounds = {r.id: r for r in (await s.execute(select(PulseRound))).scalars()}
        dms = [
            m
            for m in (await s.execute(select(OutboxMessage))).scalars()
            if m.dedupe_key.startswith(f"pulse:{second}:")
        ]
    assert [rounds[i].include_enps for i in (first, second, third)] == [True, False, True]
    assert ":enps:" not in dms[0].payload
    assert not (await tap(ctx, crew.agents[0], f"{second}:enps:9")).ok


async def test_a_team_smaller_than_the_threshold_is_warned(
    db: Database, ctx: HandlerContext
) -> None:
    """Its results can never be shown: the lead is told when the round opens and when the
    schedule is set, not after the agents have answered into the void."""
    small = await make_crew(db, "Billing", 4)
    scheduled = await run(db, ctx, small.lead, "/pulse schedule weekly fri 15:00")
    assert scheduled.ok
    assert "⚠ Billing has 4 agents" in scheduled.text
    assert "can never be shown" in scheduled.text
    assert "at least 5 answers" in scheduled.text
    opened = await run(db, ctx, small.lead, "/pulse now")
    assert opened.ok
    assert "⚠ Only 4 agents were asked" in opened.text
    assert "this round's results can never be shown" in opened.text
    assert "told only how many answered" in opened.to_json()
    # At the threshold: no warning.
    big = await make_crew(db, "Sales", 5)
    assert "⚠" not in (await run(db, ctx, big.lead, "/pulse schedule weekly fri 15:00")).text
    reply = await run(db, ctx, big.lead, "/pulse now")
    assert reply.ok
    assert "⚠" not in reply.to_json()
    assert "if at least 5 answered" in reply.to_json()


async def test_agents_left_out_can_bring_a_round_under_the_threshold(
    db: Database, ctx: HandlerContext
) -> None:
    """Six agents, three off until after it closes: three are asked, too few to show."""
    crew = await make_crew(db, "Billing", 5)
    for i in range(2):
        await make_person(db, f"weekend{i}", team=crew.team, work_hours="Sat-Sun 09:00-17:00")
    reply = await run(db, ctx, crew.lead, "/pulse now")  # a Tuesday
    assert "5 agents asked" in reply.text
    assert "⚠" not in reply.text
    other = await make_crew(db, "Sales", 3)
    for i in range(3):
        await make_person(db, f"nights{i}", team=other.team, work_hours="Sat-Sun 09:00-17:00")
    warned = await run(db, ctx, other.lead, "/pulse now")
    assert "3 agents asked" in warned.text
    assert "⚠ Only 3 agents were asked" in warned.text
