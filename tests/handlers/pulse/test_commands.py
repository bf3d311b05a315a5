"""The `/pulse` sub-commands: who may run them, the schedule and question, which team a
command means, status (counts, never names) and `/pulse mine`."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select

from domain.roles import Role
from handlers.core.context import HandlerContext
from storage import pulse as store
from storage.db import Database
from storage.models import PulseRound, PulseSchedule, Team
from tests.conftest import FakeClock, make_person
from tests.handlers.pulse.helpers import all_text, make_crew, open_now, run, tap


async def test_agents_cannot_open_or_read_results(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 3)
    for line in ("/pulse now", "/pulse results", "/pulse schedule weekly fri 15:00"):
        reply = await run(db, ctx, crew.agents[0], line)
        assert not reply.ok, line
    async with db.session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(PulseRound)) == 0
        assert await s.scalar(sa.select(sa.func.count()).select_from(PulseSchedule)) == 0


async def test_schedule_and_question(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 1)
    reply = await run(db, ctx, crew.lead, "/pulse schedule weekly fri 15:00")
    assert reply.ok, reply.text
    assert "every Friday at 15:00 (Europe/London)" in reply.text
    assert "Fri 20 Nov 15:00" in reply.text  # the next round
    reply = await run(db, ctx, crew.lead, '/pulse question "How supported did you feel this week?"')
    assert reply.ok, reply.text
    assert crew.team.id is not None
    sched = await store.get_schedule(db, team_id=crew.team.id)
    assert sched.cadence == "weekly"
    assert sched.weekday == 4
    assert sched.local_time == "15:00"
    assert sched.question == "How supported did you feel this week?"
    # Bad input is explained and changes nothing.
    for line in (
        "/pulse schedule daily",
        "/pulse schedule weekly fri 25:00",
        "/pulse schedule weekly funday",
        "/pulse schedule off now",
        '/pulse question "?"',
    ):
        bad = await run(db, ctx, crew.lead, line)
        assert not bad.ok, line
        assert "Usage" in bad.text, line
    again = await store.get_schedule(db, team_id=crew.team.id)
    assert (again.cadence, again.weekday, again.local_time, again.question) == (
        "weekly",
        4,
        "15:00",
        "How supported did you feel this week?",
    )
    off = await run(db, ctx, crew.lead, "/pulse schedule off")
    assert off.ok
    assert (await store.get_schedule(db, team_id=crew.team.id)).cadence == "off"


async def test_lead_cannot_touch_another_team(db: Database, ctx: HandlerContext) -> None:
    a = await make_crew(db, "Billing", 2)
    await make_crew(db, "Sales", 2)
    reply = await run(db, ctx, a.lead, "/pulse now team Sales")
    assert not reply.ok
    assert "isn't one of your teams" in reply.text
    async with db.session() as s:
        assert await s.scalar(sa.select(sa.func.count()).select_from(PulseRound)) == 0


async def test_status_shows_counts_never_names(db: Database, ctx: HandlerContext) -> None:
    crew = await make_crew(db, "Billing", 6)
    rid = await open_now(db, ctx, crew)
    await tap(ctx, crew.agents[0], f"{rid}:esat:5")
    await tap(ctx, crew.agents[3], f"{rid}:esat:1")
    reply = await run(db, ctx, crew.lead, "/pulse status")
    assert reply.ok
    text = all_text(reply)
    assert "2 of 6" in text
    for a in crew.agents:
        assert a.display_name not in text
        assert a.email not in text


async def test_mine_shows_only_my_answers(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    crew = await make_crew(db, "Billing", 3)
    rid = await open_now(db, ctx, crew)
    await tap(ctx, crew.agents[0], f"{rid}:esat:2")
    await tap(ctx, crew.agents[1], f"{rid}:esat:5")
    mine0 = await run(db, ctx, crew.agents[0], "/pulse mine")
    mine1 = await run(db, ctx, crew.agents[1], "/pulse mine")
    mine2 = await run(db, ctx, crew.agents[2], "/pulse mine")
    assert "2 Dissatisfied" in mine0.text
    assert "5" not in mine0.text.split(":", 1)[1].replace("2026", "")
    assert "5 Very satisfied" in mine1.text
    assert "Dissatisfied" not in mine1.text
    assert "-" in mine2.text
    # `/pulse mine` takes no one else's name.
    other = await run(db, ctx, crew.lead, f"/pulse mine @{crew.agents[0].email.split('@')[0]}")
    assert not other.ok
    lead_mine = await run(db, ctx, crew.lead, "/pulse mine")
    assert "haven't been asked" in lead_mine.text


async def test_manager_of_several_teams_names_the_team(db: Database, ctx: HandlerContext) -> None:
    boss = await make_person(db, "big.boss", role=Role.manager)
    crews = [await make_crew(db, name, 2) for name in ("Alpha", "Bravo")]
    async with db.session() as s:
        for c in crews:
            team = await s.get(Team, c.team.id)
            assert team is not None
            team.manager_id = boss.id
    vague = await run(db, ctx, boss, "/pulse now")
    assert not vague.ok
    assert "Say which team" in vague.text
    ok = await run(db, ctx, boss, "/pulse now team Bravo")
    assert ok.ok, ok.text
    assert "Bravo" in ok.text
    async with db.session() as s:
        opened = list((await s.execute(select(PulseRound))).scalars())
    assert [r.team_id for r in opened] == [crews[1].team.id]
