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
from tests.conftest import FakeClock
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
