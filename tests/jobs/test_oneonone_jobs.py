"""The 1:1 sweep: reminder times in each person's own zone, the prep card on the lead's
reminder, slots that pass with nothing recorded, and lapsed-cadence nudges (once each)."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import col, select

from domain.roles import Role
from domain.types import Reply
from handlers.core.context import HandlerContext
from jobs.oneonone_jobs import (
    SWEEP,
    advance_passed,
    check_lapses,
    day_before_at,
    send_reminders,
    sweep,
)
from jobs.spec import JobRunInfo
from storage import people
from storage.db import Database
from storage.models import OneOnOne, OneOnOneOccurrence, OutboxMessage, Person, Team
from tests.conftest import FakeClock, make_person, make_settings, make_team
from tests.handlers.kudos.helpers import text_of
from tests.handlers.oneonone.helpers import Pair, at, pair, run


async def messages(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list(
            (await s.execute(select(OutboxMessage).order_by(col(OutboxMessage.id)))).scalars()
        )


async def keys(db: Database) -> list[str]:
    return [m.dedupe_key for m in await messages(db)]


async def one(db: Database) -> OneOnOne:
    async with db.session() as s:
        rows = await s.execute(select(OneOnOne).where(OneOnOne.active == True))  # noqa: E712
        return next(iter(rows.scalars()))


async def scheduled(db: Database, ctx: HandlerContext, p: Pair) -> OneOnOne:
    # Set up on Tue 17 Nov after 16:00, so the first is Tue 24 Nov 16:00 London
    # (16:00 UTC, 10:00 in Chicago); then every 2 weeks.
    assert isinstance(ctx.clock, FakeClock)
    ctx.clock.set(at(2026, 11, 17, 17))
    reply = await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 16:00")
    assert reply.ok, reply.text
    async with db.session() as s:
        # Only the reminders matter here.
        for m in (await s.execute(select(OutboxMessage))).scalars():
            await s.delete(m)
    return await one(db)


async def test_reminders_the_working_day_before_and_shortly_before_in_each_zone(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    o = await scheduled(db, ctx, p)
    assert o.next_at == at(2026, 11, 24, 16)
    assert day_before_at(p.lead, at(2026, 11, 24, 16)) == at(2026, 11, 23, 9)  # 09:00 London
    assert day_before_at(p.maria, at(2026, 11, 24, 16)) == at(2026, 11, 23, 15)  # 09:00 Chicago
    stamp = "20261124T1600"

    clock.set(at(2026, 11, 23, 8, 55))
    assert await send_reminders(ctx, clock.now) == 0
    clock.set(at(2026, 11, 23, 9, 0))
    assert await send_reminders(ctx, clock.now) == 1
    assert await keys(db) == [f"1on1:{o.id}:{stamp}:daybefore:{p.lead.id}"]
    lead_msg = Reply.from_json((await messages(db))[0].payload)
    lead_text = text_of(lead_msg)
    assert "Tue 24 Nov at 16:00 (Europe/London)" in lead_text
    assert "1:1 prep: Maria Lopez" in lead_text  # the prep card rides with it
    clock.set(at(2026, 11, 23, 14, 55))
    assert await send_reminders(ctx, clock.now) == 0
    clock.set(at(2026, 11, 23, 15, 0))
    assert await send_reminders(ctx, clock.now) == 1
    agent_msg = (await messages(db))[-1]
    assert agent_msg.dedupe_key == f"1on1:{o.id}:{stamp}:daybefore:{p.maria.id}"
    assert "Tue 24 Nov at 10:00 (America/Chicago)" in agent_msg.payload
    assert "1:1 prep" not in agent_msg.payload

    clock.set(at(2026, 11, 24, 15, 44))
    assert await send_reminders(ctx, clock.now) == 0
    clock.set(at(2026, 11, 24, 15, 45))
    assert await send_reminders(ctx, clock.now) == 2
    assert sorted((await keys(db))[-2:]) == sorted(
        [f"1on1:{o.id}:{stamp}:soon:{p.lead.id}", f"1on1:{o.id}:{stamp}:soon:{p.maria.id}"]
    )
    soon_agent = next(m for m in await messages(db) if m.dedupe_key.endswith(f"soon:{p.maria.id}"))
    assert "starts in 15 minutes (Tue 24 Nov at 10:00 (America/Chicago))" in soon_agent.payload
    # Later sweeps send nothing twice.
    clock.set(at(2026, 11, 24, 15, 50))
    assert await send_reminders(ctx, clock.now) == 0
    assert len(await messages(db)) == 4


async def test_monday_1on1_is_reminded_on_friday_and_short_reminder_respects_shifts(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    # Mon 30 Nov 14:30 London = 08:30 Chicago, before Maria's shift starts at 09:00.
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks mon 14:30")).ok
    o = await one(db)
    assert o.next_at == at(2026, 11, 23, 14, 30)
    assert day_before_at(p.lead, at(2026, 11, 30, 14, 30)) == at(2026, 11, 27, 9)
    clock.set(at(2026, 11, 23, 14, 20))
    await send_reminders(ctx, clock.now)
    soon = [k for k in await keys(db) if ":soon:" in k]
    # The lead is reminded; Maria is off shift until after it starts, so she is not.
    assert soon == [f"1on1:{o.id}:20261123T1430:soon:{p.lead.id}"]


async def test_a_slot_that_passes_unrecorded_moves_on_and_done_can_still_record_it(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    o = await scheduled(db, ctx, p)
    clock.set(at(2026, 11, 24, 16, 20))  # still in the meeting (30 min)
    assert await advance_passed(ctx, clock.now) == 0
    clock.set(at(2026, 11, 24, 16, 30))
    assert await advance_passed(ctx, clock.now) == 1
    assert await advance_passed(ctx, clock.now) == 0
    assert (await one(db)).next_at == at(2026, 12, 8, 16)
    clock.set(at(2026, 11, 25, 11))
    done = await run(db, ctx, p.lead, "/1on1 done @maria.lopez late notes")
    assert done.ok
    assert "Tue 24 Nov 16:00" in done.text
    async with db.session() as s:
        occ = list((await s.execute(select(OneOnOneOccurrence))).scalars())
    assert [(x.scheduled_at, x.status, x.notes) for x in occ] == [
        (at(2026, 11, 24, 16), "held", "late notes")
    ]
    assert (await one(db)).next_at == at(2026, 12, 8, 16)
    assert o.id is not None


async def test_scheduler_down_for_weeks_catches_up(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    await scheduled(db, ctx, p)
    clock.set(at(2027, 1, 10, 12))
    await advance_passed(ctx, clock.now)
    assert (await one(db)).next_at == at(2027, 1, 19, 16)


async def test_lapsed_cadence_nudges_the_lead_then_the_manager_once_each(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    mgr = await _manager(db, p.team)
    clock.set(at(2026, 11, 17, 17))
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 1 weeks tue 16:00")).ok
    o = await one(db)
    base = f"1on1:{o.id}:lapse:20261124"
    clock.set(at(2026, 12, 1, 15, 59))  # one cadence after the first was due: not yet
    assert await check_lapses(ctx, clock.now) == 0
    clock.set(at(2026, 12, 1, 16, 1))
    assert await check_lapses(ctx, clock.now) == 1
    assert f"{base}:lead" in await keys(db)
    assert await check_lapses(ctx, clock.now) == 0
    clock.set(at(2026, 12, 8, 16, 1))
    assert await check_lapses(ctx, clock.now) == 1
    manager_msg = next(m for m in await messages(db) if m.dedupe_key == f"{base}:manager")
    assert manager_msg.recipient_person_id == mgr.id
    assert "Lead One's 1:1s with Maria Lopez have lapsed" in manager_msg.payload
    assert await check_lapses(ctx, clock.now) == 0
    # Holding today's (the sweep moved the schedule on meanwhile) resets it.
    await advance_passed(ctx, clock.now)
    assert (await one(db)).next_at == at(2026, 12, 8, 16)
    assert (await run(db, ctx, p.lead, "/1on1 done @maria.lopez")).ok
    assert await check_lapses(ctx, clock.now) == 0


async def test_the_sweep_job_is_registered_every_five_minutes(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    from jobs.registry import build_jobs

    assert SWEEP in build_jobs(make_settings())
    assert SWEEP.cron is not None
    assert SWEEP.cron.minute == "*/5"
    p = await pair(db)
    await scheduled(db, ctx, p)
    clock.set(at(2026, 11, 23, 9, 0))
    await sweep(ctx, JobRunInfo(SWEEP.id, at(2026, 11, 23, 9, 0)))
    assert len(await keys(db)) == 1


async def _manager(db: Database, team: Team) -> Person:
    mgr = await make_person(db, "big.boss", role=Role.manager, team=team)
    async with db.session() as s:
        t = await s.get(Team, team.id)
        assert t is not None
        t.manager_id = mgr.id
    return mgr


async def test_reminders_across_the_weeks_when_only_one_zone_changed_clocks(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    from storage import people

    p = await pair(db)
    # Maria's early shift in Chicago: 04:00-12:00.
    await people.upsert_person(
        db,
        email=p.maria.email,
        display_name=p.maria.display_name,
        role=p.maria.role,
        team_id=p.team.id,
        work_hours="Mon-Fri 04:00-12:00",
    )
    clock.set(at(2027, 3, 16, 12))
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 1 weeks mon 10:00")).ok
    o = await one(db)
    # 22 Mar: Chicago is on CDT already, London still on GMT: 10:00 London = 05:00 Chicago.
    assert o.next_at == at(2027, 3, 22, 10)
    clock.set(at(2027, 3, 19, 9, 0))  # Friday 04:00 in Chicago, 09:00 in London
    assert await send_reminders(ctx, clock.now) == 2
    by_person = {m.recipient_person_id: m.payload for m in await messages(db)}
    assert "Mon 22 Mar at 05:00 (America/Chicago)" in by_person[p.maria.id]
    assert "Mon 22 Mar at 10:00 (Europe/London)" in by_person[p.lead.id]
    clock.set(at(2027, 3, 22, 9, 45))
    assert await send_reminders(ctx, clock.now) == 2
    # Held; the next is after London's change: 10:00 London = 09:00 UTC = 04:00 Chicago.
    clock.set(at(2027, 3, 22, 10, 30))
    assert (await run(db, ctx, p.lead, "/1on1 done @maria.lopez")).ok
    assert (await one(db)).next_at == at(2027, 3, 29, 9)
    clock.set(at(2027, 3, 26, 9, 0))  # Friday 04:00 Chicago
    await send_reminders(ctx, clock.now)
    latest = (await messages(db))[-2:]
    texts = {m.recipient_person_id: m.payload for m in latest}
    assert "Mon 29 Mar at 04:00 (America/Chicago)" in texts[p.maria.id]
    assert "Mon 29 Mar at 10:00 (Europe/London)" in texts[p.lead.id]


async def test_skip_after_the_fact_marks_the_slot_that_just_passed(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    await scheduled(db, ctx, p)
    clock.set(at(2026, 11, 24, 17))
    await advance_passed(ctx, clock.now)
    skipped = await run(db, ctx, p.lead, "/1on1 skip @maria.lopez she was off sick")
    assert skipped.ok, skipped.text
    assert "Tue 24 Nov 16:00 as skipped (she was off sick)" in skipped.text
    assert (await one(db)).next_at == at(2026, 12, 8, 16)
    async with db.session() as s:
        occ = list((await s.execute(select(OneOnOneOccurrence))).scalars())
    assert [(x.scheduled_at, x.status, x.reason) for x in occ] == [
        (at(2026, 11, 24, 16), "skipped", "she was off sick")
    ]
    # Days later, `skip` means the next one.
    clock.set(at(2026, 11, 30, 9))
    assert (await run(db, ctx, p.lead, "/1on1 skip @maria.lopez holiday")).ok
    assert (await one(db)).next_at == at(2026, 12, 22, 16)


async def test_a_moved_lead_gets_no_prep_card_the_new_lead_does(
    db: Database, ctx: HandlerContext, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Sam leads Billing, schedules Maria, then moves to Support as an agent; Lee takes
    Billing. The day-before reminder with Maria's prep card (her KPIs) goes to Lee."""
    p = await pair(db)
    o = await scheduled(db, ctx, p)
    support = await make_team(db, "Support")
    new_lead = await make_person(db, "lee.new", role=Role.lead, team=p.team)
    assert p.lead.id
    assert support.id
    await people.assign_member(db, person_id=p.lead.id, team_id=support.id, role=Role.agent)
    clock.set(at(2026, 11, 23, 9, 0))
    with caplog.at_level(logging.INFO, logger="jobs.oneonone_jobs"):
        assert await send_reminders(ctx, clock.now) == 1
    [msg] = await messages(db)
    assert msg.recipient_person_id == new_lead.id
    assert "1:1 prep: Maria Lopez" in text_of(Reply.from_json(msg.payload))
    assert f"1:1 {o.id}: person {p.maria.id} is led by {new_lead.id} now" in caplog.text
    # Maria's own reminder names the lead she has now.
    clock.set(at(2026, 11, 23, 15, 0))
    assert await send_reminders(ctx, clock.now) == 1
    assert "Lee New" in (await messages(db))[-1].payload


async def test_nobody_leads_the_person_now_nothing_is_sent_and_the_log_says_so(
    db: Database, ctx: HandlerContext, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    p = await pair(db)
    o = await scheduled(db, ctx, p)
    assert p.lead.id
    assert p.team.id
    await people.assign_member(db, person_id=p.lead.id, team_id=p.team.id, role=Role.agent)
    clock.set(at(2026, 11, 23, 9, 0))
    with caplog.at_level(logging.WARNING, logger="jobs.oneonone_jobs"):
        assert await send_reminders(ctx, clock.now) == 0
    assert await messages(db) == []
    assert f"1:1 {o.id}: nobody leads person {p.maria.id} now" in caplog.text


async def test_a_schedule_with_ones_own_manager_never_reaches_the_manager(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    """A row from before the rule (a lead's 1:1 "with" their manager) lapses quietly: the
    manager is not told that their own 1:1s "with Alex" lapsed, nor sent a prep card."""
    p = await pair(db)
    alex = await _manager(db, p.team)
    assert alex.id
    assert p.lead.id
    async with db.session() as s:
        s.add(
            OneOnOne(
                lead_id=p.lead.id,
                agent_id=alex.id,
                weekday=1,
                local_time="16:00",
                timezone="Europe/London",
                cadence_weeks=1,
                next_at=at(2026, 11, 24, 16),
                created_at=at(2026, 11, 17, 17),
            )
        )
    refused = await run(db, ctx, p.lead, "/1on1 schedule @big.boss every 1 weeks tue 16:00")
    assert not refused.ok  # today the rule stops it at the door
    for day in (23, 24):
        clock.set(at(2026, 11, day, 16, 1))
        await send_reminders(ctx, clock.now)
    clock.set(at(2026, 12, 8, 16, 1))
    assert await check_lapses(ctx, clock.now) == 0
    assert await messages(db) == []
