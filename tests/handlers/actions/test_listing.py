"""`/action list`: mine, team, overdue, done, a person's; and the refusals."""

from __future__ import annotations

import pytest

from domain.types import Table
from handlers.core.context import HandlerContext
from storage.db import Database
from tests.conftest import FakeClock
from tests.handlers.actions.helpers import (
    World,
    assign,
    run,
)


async def test_list_team_mine_overdue_and_person(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    await assign(db, ctx, w, "/action @maria.lopez call back the Smith account due tomorrow")
    await assign(db, ctx, w, "/action @sam.agent update the macro due today")
    await run(db, ctx, w.other_lead, "/action @oscar.other other team thing")
    team = await run(db, ctx, w.lead, "/action list team")
    assert team.ok
    [table] = [b for b in team.blocks if isinstance(b, Table)]
    assert [r[0] for r in table.rows] == ["#2", "#1"]  # soonest due first
    assert "other team thing" not in team.fallback
    mine = await run(db, ctx, w.maria, "/action list")
    assert "call back the Smith account" in mine.fallback
    assert "update the macro" not in mine.fallback
    person = await run(db, ctx, w.lead, "/action list @sam.agent")
    assert "update the macro" in person.fallback
    assert "Smith" not in person.fallback
    nothing = await run(db, ctx, w.lead, "/action list overdue")
    assert "Nothing is overdue" in nothing.fallback
    clock.advance(days=2)  # Thursday: both overdue
    overdue = await run(db, ctx, w.lead, "/action list overdue")
    assert "#1" in overdue.fallback
    assert "#2" in overdue.fallback
    assert "overdue" in overdue.fallback


@pytest.mark.parametrize(
    ("who", "line", "expected"),
    [
        ("maria", "/action list team", "Agents see their own items"),
        ("maria", "/action list @sam.agent", "own figures only"),
        ("lead", "/action list @oscar.other", "isn't in a team of yours"),
        ("lead", "/action list everything", "I can list"),
        ("lead", "/action list @nobody", "I don't know @nobody"),
    ],
)
async def test_bad_list(
    db: Database, ctx: HandlerContext, w: World, who: str, line: str, expected: str
) -> None:
    reply = await run(db, ctx, getattr(w, who), line)
    assert not reply.ok
    assert expected in reply.fallback


async def test_list_done_and_day_off_hint(db: Database, ctx: HandlerContext, w: World) -> None:
    reply = await run(db, ctx, w.lead, "/action @maria.lopez weekend rota check due saturday")
    assert reply.ok
    assert "Sat 21 Nov is a day off for Maria Lopez" in " ".join(
        getattr(b, "text", "") for b in reply.blocks
    )
    await assign(db, ctx, w, "/action @sam.agent quick fix due today")
    assert (await run(db, ctx, w.sam, "/action done 2")).ok
    done = await run(db, ctx, w.lead, "/action list done")
    assert done.ok
    [table] = [b for b in done.blocks if isinstance(b, Table)]
    assert [(r[0], r[4]) for r in table.rows] == [("#2", "done")]
    mine = await run(db, ctx, w.maria, "/action list done")
    assert "Nothing was done" in mine.fallback
