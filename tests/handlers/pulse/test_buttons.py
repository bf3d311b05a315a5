"""The pulse buttons: answering, changing, answering twice, late taps, forged values,
rounds not sent to the presser, and comments."""

from __future__ import annotations

import pytest
from sqlmodel import select

from handlers.core.context import HandlerContext
from storage.db import Database
from storage.models import PulseDelivery
from tests.conftest import FakeClock, make_ctx
from tests.handlers.pulse.helpers import comment, make_crew, open_now, responses, run, tap


async def test_answer_change_and_answer_twice(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    agent = crew.agents[0]
    reply = await tap(ctx, agent, f"{rid}:esat:4")
    assert reply.ok
    assert reply.replace_original
    assert "4" in reply.text
    assert "Satisfied" in reply.text
    labels = [b.label for blk in reply.blocks if blk.kind == "buttons" for b in blk.buttons]
    assert "Add a comment" in labels
    chosen = [
        b.value for blk in reply.blocks if blk.kind == "buttons" for b in blk.buttons if b.style
    ]
    assert chosen == [f"{rid}:esat:4"]
    rows = await responses(db)
    assert [(r.question, r.score) for r in rows] == [("esat", 4)]
    # Change it.
    reply = await tap(ctx, agent, f"{rid}:esat:2")
    assert reply.ok
    assert "Dissatisfied" in reply.text
    rows = await responses(db)
    assert [(r.question, r.score) for r in rows] == [("esat", 2)]
    # The same answer twice is still one answer.
    await tap(ctx, agent, f"{rid}:esat:2")
    assert len(await responses(db)) == 1
    # eNPS is a separate answer of the same respondent.
    reply = await tap(ctx, agent, f"{rid}:enps:9")
    assert reply.ok
    assert sorted((r.question, r.score) for r in await responses(db)) == [("enps", 9), ("esat", 2)]
    async with db.session() as s:
        deliveries = list((await s.execute(select(PulseDelivery))).scalars())
    assert sum(d.answered for d in deliveries) == 1


async def test_late_tap_is_told_the_round_closed(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    await tap(ctx, crew.agents[0], f"{rid}:esat:5")
    clock.advance(hours=72, seconds=1)
    reply = await tap(ctx, crew.agents[0], f"{rid}:esat:1")
    assert not reply.ok
    assert "closed" in reply.text
    late = await tap(ctx, crew.agents[1], f"{rid}:esat:1")
    assert "closed" in late.text
    assert [r.score for r in await responses(db)] == [5]
    bad = await comment(ctx, crew.agents[0], rid, "too late")
    assert "closed" in bad.text
    assert (await responses(db))[0].comment is None


@pytest.mark.parametrize(
    "value",
    [
        "{rid}:esat:0",
        "{rid}:esat:6",
        "{rid}:enps:11",
        "{rid}:esat:-1",
        "{rid}:nps:3",
        "{rid}:esat:99",
        "{rid}:esat",
        "{rid}",
        "junk",
        "",
        "{rid}:esat:3:{person}",
    ],
)
async def test_forged_values_change_nothing(db: Database, ctx: HandlerContext, value: str) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    agent = crew.agents[0]
    reply = await tap(ctx, agent, value.format(rid=rid, person=crew.agents[1].id))
    assert not reply.ok
    assert await responses(db) == []
    async with db.session() as s:
        assert not any(d.answered for d in (await s.execute(select(PulseDelivery))).scalars())


async def test_forged_round_of_another_team_changes_nothing(
    db: Database, ctx: HandlerContext
) -> None:
    billing = await make_crew(db, "Billing", 3)
    sales = await make_crew(db, "Sales", 3)
    rid = await open_now(db, ctx, billing)
    # A Sales agent (never asked in Billing's round) and Billing's lead (not an agent).
    for who in (sales.agents[0], billing.lead):
        reply = await tap(ctx, who, f"{rid}:esat:5")
        assert not reply.ok
        assert "wasn't sent to you" in reply.text
        assert "wasn't sent to you" in (await comment(ctx, who, rid, "hi")).text
    # A round that does not exist.
    assert not (await tap(ctx, billing.agents[0], f"{rid + 99}:esat:5")).ok
    assert await responses(db) == []


async def test_enps_refused_on_a_round_without_it(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    await run(db, ctx, crew.lead, "/pulse enps off")
    rid = await open_now(db, ctx, crew)
    reply = await tap(ctx, crew.agents[0], f"{rid}:enps:10")
    assert not reply.ok
    assert await responses(db) == []


async def test_comment_after_answer(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    first = await comment(ctx, crew.agents[0], rid, "More breaks please")
    assert not first.ok
    assert "Pick a score first" in first.text
    await tap(ctx, crew.agents[0], f"{rid}:esat:3")
    reply = await comment(ctx, crew.agents[0], rid, "More breaks please")
    assert reply.ok
    assert [r.comment for r in await responses(db)] == ["More breaks please"]
    too_long = await comment(ctx, crew.agents[0], rid, "x" * 1001)
    assert not too_long.ok
    assert "comment" in too_long.errors
    assert [r.comment for r in await responses(db)] == ["More breaks please"]
    await comment(ctx, crew.agents[0], rid, "   ")
    assert [r.comment for r in await responses(db)] == [None]


async def test_a_secret_changed_mid_round_never_counts_anyone_twice(
    db: Database, clock: FakeClock
) -> None:
    before = make_ctx(db, clock, leadbot_secret="a" * 40)
    after = make_ctx(db, clock, leadbot_secret="b" * 40)
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, before, crew)
    agent = crew.agents[0]
    assert (await tap(before, agent, f"{rid}:esat:4")).ok
    snapshot = sorted((r.question, r.score, r.comment) for r in await responses(db))
    for reply in (
        await tap(after, agent, f"{rid}:esat:1"),
        await tap(after, agent, f"{rid}:enps:3"),
        await comment(after, agent, rid, "another go"),
    ):
        assert not reply.ok
        assert "already answered" in reply.text
    assert sorted((r.question, r.score, r.comment) for r in await responses(db)) == snapshot
    # Someone who had not answered yet answers normally under the new secret.
    assert (await tap(after, crew.agents[1], f"{rid}:esat:5")).ok
    assert len(await responses(db)) == 2
