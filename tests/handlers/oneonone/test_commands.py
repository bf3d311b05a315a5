"""`/1on1` sub-commands: schedules in the lead's zone, permissions, moved, skipped and held
occurrences, cancelling, and agenda points."""

from __future__ import annotations

from sqlmodel import select

from domain.roles import Role
from handlers.core.context import HandlerContext
from storage.db import Database
from storage.models import (
    AgendaItem,
    OneOnOne,
)
from tests.conftest import FakeClock, make_person, make_team
from tests.handlers.kudos.helpers import text_of
from tests.handlers.oneonone.helpers import at, dms_to, occurrences, pair, run, the_1on1


async def test_schedule_in_the_leads_zone_tells_the_agent_in_theirs(
    db: Database, ctx: HandlerContext
) -> None:
    p = await pair(db)
    # The clock: Tue 17 Nov 2026 10:00 UTC (London is on GMT, Chicago on CST).
    reply = await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")
    assert reply.ok, reply.text
    o = await the_1on1(db)
    assert (o.lead_id, o.agent_id, o.cadence_weeks, o.weekday, o.local_time) == (
        p.lead.id,
        p.maria.id,
        2,
        1,
        "10:00",
    )
    assert o.timezone == "Europe/London"
    assert o.duration_minutes == 30
    # 10:00 today has begun, so the first is next Tuesday.
    assert o.next_at == at(2026, 11, 24, 10)
    assert "Tue 24 Nov 10:00 (Europe/London)" in reply.text
    assert "Tue 24 Nov 04:00 (America/Chicago)" in text_of(reply)
    dm = await dms_to(db, p.maria)
    assert len(dm) == 1
    assert "Tue 24 Nov 04:00 (America/Chicago)" in dm[0].payload
    # Rescheduling replaces the schedule (one active per pair) and keeps a 45 min duration.
    again = await run(
        db, ctx, p.lead, "/1on1 schedule @maria.lopez every week thu 15:30 duration 45m"
    )
    assert again.ok
    assert "Rescheduled" in again.text
    o2 = await the_1on1(db)
    assert o2.id != o.id
    assert o2.cadence_weeks == 1
    assert o2.duration_minutes == 45
    assert o2.next_at == at(2026, 11, 19, 15, 30)


async def test_only_leads_and_managers_of_the_team_run_1on1s(
    db: Database, ctx: HandlerContext
) -> None:
    p = await pair(db)
    other = await make_team(db, "Sales")
    stranger = await make_person(db, "x.agent", team=other)
    other_lead = await make_person(db, "other.lead", role=Role.lead, team=other)
    line = "/1on1 schedule @maria.lopez every 2 weeks tue 10:00"
    assert not (await run(db, ctx, p.sam, line)).ok
    assert not (await run(db, ctx, other_lead, line)).ok
    refused = await run(db, ctx, p.lead, "/1on1 schedule @x.agent every 2 weeks tue 10:00")
    assert not refused.ok
    assert "isn't in a team of yours" in refused.text
    assert not (await run(db, ctx, p.lead, "/1on1 schedule @lead.one every 2 weeks tue 10:00")).ok
    bad = await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks someday 10:00")
    assert not bad.ok
    assert "weekday" in bad.text
    bad = await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 13 weeks tue 10:00")
    assert not bad.ok
    bad = await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 25:00")
    assert not bad.ok
    async with db.session() as s:
        assert list((await s.execute(select(OneOnOne))).scalars()) == []
    # A manager of the team may hold 1:1s with its people (their lead included).
    mgr = await make_person(db, "the.manager", role=Role.manager, team=p.team)
    assert (await run(db, ctx, mgr, "/1on1 schedule @lead.one every 4 weeks fri 11:00")).ok
    assert stranger.id is not None


async def test_move_one_occurrence_then_the_schedule_resumes(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    moved = await run(db, ctx, p.lead, "/1on1 move @maria.lopez 2026-11-26 14:30")
    assert moved.ok, moved.text
    o = await the_1on1(db)
    assert o.next_at == at(2026, 11, 26, 14, 30)
    occ = await occurrences(db)
    assert [(x.scheduled_at, x.status) for x in occ] == [(at(2026, 11, 24, 10), "moved")]
    dm = (await dms_to(db, p.maria))[-1]
    assert "Thu 26 Nov 08:30 (America/Chicago)" in dm.payload
    # Held on the moved day: the next one is the regular slot after the one it replaced.
    clock.set(at(2026, 11, 26, 15))
    done = await run(db, ctx, p.lead, "/1on1 done @maria.lopez talked about the rota")
    assert done.ok, done.text
    o = await the_1on1(db)
    assert o.next_at == at(2026, 12, 8, 10)
    statuses = [(x.scheduled_at, x.status, x.notes) for x in await occurrences(db)]
    assert (at(2026, 11, 26, 14, 30), "held", "talked about the rota") in statuses


async def test_moving_earlier_does_not_bring_back_the_replaced_slot(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    assert (await run(db, ctx, p.lead, "/1on1 move @maria.lopez 2026-11-20 09:00")).ok
    clock.set(at(2026, 11, 20, 9, 30))
    assert (await run(db, ctx, p.lead, "/1on1 done @maria.lopez")).ok
    assert (await the_1on1(db)).next_at == at(2026, 12, 8, 10)
    past = await run(db, ctx, p.lead, "/1on1 move @maria.lopez 2026-11-19 09:00")
    assert not past.ok
    assert "past" in past.text


async def test_skip_moves_to_the_next_slot_and_counts_as_dealt_with(
    db: Database, ctx: HandlerContext
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    skipped = await run(db, ctx, p.lead, "/1on1 skip @maria.lopez on leave")
    assert skipped.ok
    assert (await the_1on1(db)).next_at == at(2026, 12, 8, 10)
    occ = await occurrences(db)
    assert [(x.scheduled_at, x.status, x.reason) for x in occ] == [
        (at(2026, 11, 24, 10), "skipped", "on leave")
    ]
    assert "skipped (on leave)" in (await dms_to(db, p.maria))[-1].payload
    nothing = await run(db, ctx, p.sam, "/1on1 skip @maria.lopez")
    assert not nothing.ok


async def test_done_without_a_slot_today_records_an_extra_1on1(
    db: Database, ctx: HandlerContext
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    done = await run(db, ctx, p.lead, "/1on1 done @maria.lopez quick catch-up")
    assert done.ok
    assert "extra 1:1" in done.text
    o = await the_1on1(db)
    assert o.next_at == at(2026, 11, 24, 10)
    assert [(x.status, x.notes) for x in await occurrences(db)] == [("held", "quick catch-up")]


async def test_cancel_and_unknown_pair(db: Database, ctx: HandlerContext) -> None:
    p = await pair(db)
    missing = await run(db, ctx, p.lead, "/1on1 done @maria.lopez")
    assert not missing.ok
    assert "no 1:1 scheduled" in missing.text
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    assert (await run(db, ctx, p.lead, "/1on1 cancel @maria.lopez")).ok
    async with db.session() as s:
        o = next(iter((await s.execute(select(OneOnOne))).scalars()))
    assert not o.active
    assert o.next_at is None
    assert "stopped your recurring 1:1s" in (await dms_to(db, p.maria))[-1].payload


async def test_agenda_points_go_to_the_next_1on1_and_leave_with_it(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    none = await run(db, ctx, p.maria, "/1on1 agenda rota")
    assert not none.ok
    assert "no 1:1 scheduled" in none.text
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    added = await run(db, ctx, p.maria, "/1on1 agenda career path")
    assert added.ok
    assert "Tue 24 Nov 04:00 (America/Chicago)" in added.text
    assert not (await run(db, ctx, p.maria, "/1on1 agenda")).ok
    clock.set(at(2026, 11, 24, 10, 20))
    assert (await run(db, ctx, p.lead, "/1on1 done @maria.lopez")).ok
    async with db.session() as s:
        items = list((await s.execute(select(AgendaItem))).scalars())
    assert len(items) == 1
    assert items[0].occurrence_id is not None
    card = text_of(await run(db, ctx, p.lead, "/1on1 prep @maria.lopez"))
    assert "Agenda*: nothing added yet" in card


async def test_move_understands_natural_dates(db: Database, ctx: HandlerContext) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    moved = await run(db, ctx, p.lead, "/1on1 move @maria.lopez next friday 09:15")
    assert moved.ok, moved.text
    assert (await the_1on1(db)).next_at == at(2026, 11, 27, 9, 15)
    bad = await run(db, ctx, p.lead, "/1on1 move @maria.lopez someday 09:15")
    assert not bad.ok
    assert "Usage" in bad.text
    missing_time = await run(db, ctx, p.lead, "/1on1 move @maria.lopez friday")
    assert not missing_time.ok
