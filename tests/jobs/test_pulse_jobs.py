"""Pulse jobs: scheduled opening (DST, idempotent), reminders to non-responders only and
within working hours, closing with the lead's summary."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import select

from domain.roles import Role
from domain.types import Action, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action
from handlers.pulse import TOO_FEW, latest_slot, next_slot
from jobs.pulse_jobs import close_and_summarise, open_scheduled, remind_non_responders
from jobs.registry import build_jobs
from jobs.spec import JobRunInfo
from storage import pulse as store
from storage.db import Database
from storage.models import OutboxMessage, Person, PulseRound, PulseSchedule, Team
from tests.conftest import FakeClock, actor_of, command, make_person, make_settings, make_team

LONDON = "Europe/London"


def info(job: str, clock: FakeClock) -> JobRunInfo:
    return JobRunInfo(job_id=job, fire_time=clock())


async def crew(
    db: Database, n: int, *, tz: str = LONDON, work_hours: str = "Mon-Fri 09:00-17:00"
) -> tuple[Team, Person, list[Person]]:
    team = await make_team(db, "Billing", tz=tz)
    lead = await make_person(db, "lead.one", role=Role.lead, team=team, tz=tz)
    agents = [
        await make_person(db, f"agent{i}", team=team, tz=tz, work_hours=work_hours)
        for i in range(n)
    ]
    return team, lead, agents


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.session() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())  # type: ignore[arg-type]


async def rounds(db: Database) -> list[PulseRound]:
    async with db.session() as s:
        return list((await s.execute(select(PulseRound))).scalars())


async def tap(ctx: HandlerContext, who: Person, value: str) -> Reply:
    return await run_action(Action(actor_of(who), "pulse.answer", value), ctx)


def test_jobs_are_registered() -> None:
    ids = {j.id for j in build_jobs(make_settings())}
    assert {"pulse.open", "pulse.remind", "pulse.close"} <= ids


async def test_scheduled_round_opens_once_at_local_time(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _team, lead, _agents = await crew(db, 3)
    from handlers.core.dispatch import run_command

    reply = await run_command(await command(db, lead, "/pulse schedule weekly fri 15:00"), ctx)
    assert reply.ok
    # Tuesday: nothing due (last Friday's slot was before the schedule existed).
    await open_scheduled(ctx, info("pulse.open", clock))
    assert await rounds(db) == []
    clock.set(dt.datetime(2026, 11, 20, 14, 55, tzinfo=dt.UTC))  # Fri 14:55 London
    await open_scheduled(ctx, info("pulse.open", clock))
    assert await rounds(db) == []
    clock.set(dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC))
    await open_scheduled(ctx, info("pulse.open", clock))
    await open_scheduled(ctx, info("pulse.open", clock))  # a retry or a second scheduler
    clock.advance(minutes=5)
    await open_scheduled(ctx, info("pulse.open", clock))
    opened = await rounds(db)
    assert len(opened) == 1
    assert len(await outbox(db)) == 3
    # Even after the round is closed, the same slot never opens again.
    async with db.session() as s:
        await s.execute(sa.update(PulseRound).values(status="closed"))
    await open_scheduled(ctx, info("pulse.open", clock))
    assert len(await rounds(db)) == 1
    # The next Friday opens the next one.
    clock.set(dt.datetime(2026, 11, 27, 15, 5, tzinfo=dt.UTC))
    await open_scheduled(ctx, info("pulse.open", clock))
    assert len(await rounds(db)) == 2


async def test_a_slot_long_past_is_not_opened(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    team, _lead, _agents = await crew(db, 2)
    assert team.id is not None
    await store.set_schedule(
        db, team_id=team.id, now=clock(), cadence="weekly", weekday=1, local_time="09:00"
    )
    clock.set(dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC))  # 11 h after Tue 09:00
    await open_scheduled(ctx, info("pulse.open", clock))
    assert await rounds(db) == []


def test_slots_follow_dst_in_the_teams_zone() -> None:
    sched = PulseSchedule(team_id=1, cadence="weekly", weekday=4, local_time="15:00")
    ny = "America/New_York"
    # US clocks go back on Sunday 1 Nov 2026: 15:00 is 19:00 UTC before, 20:00 after.
    before = next_slot(sched, ny, dt.datetime(2026, 10, 29, tzinfo=dt.UTC))
    after = next_slot(sched, ny, dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    assert before == dt.datetime(2026, 10, 30, 19, 0, tzinfo=dt.UTC)
    assert after == dt.datetime(2026, 11, 6, 20, 0, tzinfo=dt.UTC)
    assert latest_slot(sched, ny, dt.datetime(2026, 11, 6, 19, 30, tzinfo=dt.UTC)) == before
    # Monthly: the first Friday; biweekly: every other Friday.
    monthly = PulseSchedule(team_id=1, cadence="monthly", weekday=4, local_time="15:00")
    assert next_slot(monthly, ny, dt.datetime(2026, 11, 7, tzinfo=dt.UTC)) == dt.datetime(
        2026, 12, 4, 20, 0, tzinfo=dt.UTC
    )
    bi = PulseSchedule(team_id=1, cadence="biweekly", weekday=4, local_time="15:00")
    first = next_slot(bi, ny, dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    assert first is not None
    second = next_slot(bi, ny, first)
    assert second is not None
    assert second - first == dt.timedelta(days=14)


async def test_scheduled_open_across_dst(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    team, _lead, _agents = await crew(db, 2, tz="America/New_York")
    assert team.id is not None
    clock.set(dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC))
    await store.set_schedule(
        db, team_id=team.id, now=clock(), cadence="weekly", weekday=4, local_time="15:00"
    )
    clock.set(dt.datetime(2026, 11, 6, 19, 5, tzinfo=dt.UTC))  # 14:05 in New York (EST)
    await open_scheduled(ctx, info("pulse.open", clock))
    assert await rounds(db) == []
    clock.set(dt.datetime(2026, 11, 6, 20, 5, tzinfo=dt.UTC))  # 15:05 in New York
    await open_scheduled(ctx, info("pulse.open", clock))
    assert len(await rounds(db)) == 1


async def test_dms_are_held_until_working_hours(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _team, lead, agents = await crew(db, 2)
    # The outbox never schedules before the real now, so this test lives in the future.
    clock.set(dt.datetime(2030, 11, 22, 16, 30, tzinfo=dt.UTC))  # Friday 16:30 London
    night = await make_person(db, "night.owl", team=_team, work_hours="Mon-Fri 22:00-06:00")
    from handlers.core.dispatch import run_command

    assert (await run_command(await command(db, lead, "/pulse now"), ctx)).ok
    by_person = {m.recipient_person_id: m for m in await outbox(db)}
    for a in agents:  # working now: sent at once
        assert by_person[a.id].next_attempt_at == clock()
    # The night-shift agent is held until their shift starts at 22:00.
    assert by_person[night.id].next_attempt_at == dt.datetime(2030, 11, 22, 22, 0, tzinfo=dt.UTC)


async def test_reminders_only_to_non_responders_within_working_hours(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _team, lead, agents = await crew(db, 4)
    clock.set(dt.datetime(2030, 11, 22, 16, 30, tzinfo=dt.UTC))  # Friday 16:30 London
    from handlers.core.dispatch import run_command

    assert (await run_command(await command(db, lead, "/pulse now"), ctx)).ok
    rnd = (await rounds(db))[0]
    assert (await tap(ctx, agents[0], f"{rnd.id}:esat:4")).ok
    before = len(await outbox(db))
    # Before the reminder time: nothing.
    clock.advance(hours=23)
    await remind_non_responders(ctx, info("pulse.remind", clock))
    assert len(await outbox(db)) == before
    # Saturday 16:30: reminder due, but it is the weekend: nothing yet.
    clock.set(dt.datetime(2030, 11, 23, 16, 35, tzinfo=dt.UTC))
    await remind_non_responders(ctx, info("pulse.remind", clock))
    assert len(await outbox(db)) == before
    # Someone answers over the weekend; Monday 09:00 the others are reminded, once.
    assert (await tap(ctx, agents[1], f"{rnd.id}:esat:2")).ok
    clock.set(dt.datetime(2030, 11, 25, 9, 0, tzinfo=dt.UTC))
    await remind_non_responders(ctx, info("pulse.remind", clock))
    await remind_non_responders(ctx, info("pulse.remind", clock))
    reminders = [m for m in await outbox(db) if m.dedupe_key.endswith(":reminder")]
    assert {m.recipient_person_id for m in reminders} == {agents[2].id, agents[3].id}
    assert all(m.next_attempt_at == clock() for m in reminders)
    assert "Reminder" in Reply.from_json(reminders[0].payload).text


async def test_no_reminder_when_the_next_shift_is_after_closing(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _team, lead, _agents = await crew(db, 1, work_hours="Mon-Tue 09:00-17:00")
    clock.set(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))  # Tuesday
    from handlers.core.dispatch import run_command

    assert (await run_command(await command(db, lead, "/pulse now"), ctx)).ok
    clock.set(dt.datetime(2026, 11, 18, 10, 5, tzinfo=dt.UTC))
    await remind_non_responders(ctx, info("pulse.remind", clock))
    clock.set(dt.datetime(2026, 11, 19, 10, 5, tzinfo=dt.UTC))
    await remind_non_responders(ctx, info("pulse.remind", clock))
    assert not [m for m in await outbox(db) if m.dedupe_key.endswith(":reminder")]


async def _round_with(
    db: Database, ctx: HandlerContext, lead: Person, agents: list[Person], scores: list[int]
) -> PulseRound:
    from handlers.core.dispatch import run_command

    assert (await run_command(await command(db, lead, "/pulse now"), ctx)).ok
    assert lead.team_id is not None
    rnd = await store.current_round(db, team_id=lead.team_id, now=ctx.now())
    assert rnd is not None
    for a, s in zip(agents, scores, strict=False):
        assert (await tap(ctx, a, f"{rnd.id}:esat:{s}")).ok
    return rnd


async def test_close_sends_summary_once(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _team, lead, agents = await crew(db, 6)
    rnd = await _round_with(db, ctx, lead, agents, [5, 5, 4, 3, 2])
    clock.advance(hours=71)
    await close_and_summarise(ctx, info("pulse.close", clock))
    assert (await store.get_round(db, round_id=rnd.id or 0)).status == "open"  # type: ignore[union-attr]
    clock.advance(hours=1)
    await close_and_summarise(ctx, info("pulse.close", clock))
    await close_and_summarise(ctx, info("pulse.close", clock))
    summaries = [m for m in await outbox(db) if m.dedupe_key.endswith(":summary")]
    assert len(summaries) == 1
    assert summaries[0].recipient_person_id == lead.id
    text = Reply.from_json(summaries[0].payload).text
    assert "ESAT 60%" in text
    assert "5 of 6" in text
    # A late tap after closing is told politely and changes nothing.
    late = await tap(ctx, agents[5], f"{rnd.id}:esat:5")
    assert "closed" in late.text
    stats = await store.round_stats(db, team_ids=[rnd.team_id], since=rnd.opens_at)
    assert stats[0].responses == 5


async def test_close_with_too_few_answers_tells_the_count_only(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _team, lead, agents = await crew(db, 6)
    await _round_with(db, ctx, lead, agents, [5, 1, 1, 1])
    clock.advance(hours=73)
    await close_and_summarise(ctx, info("pulse.close", clock))
    summaries = [m for m in await outbox(db) if m.dedupe_key.endswith(":summary")]
    text = Reply.from_json(summaries[0].payload).to_json()
    assert TOO_FEW in text
    assert "4 answers" in text
    assert "ESAT" not in text
    assert "%" not in text


async def test_sharp_drop_is_flagged(db: Database, ctx: HandlerContext, clock: FakeClock) -> None:
    _team, lead, agents = await crew(db, 5)
    await _round_with(db, ctx, lead, agents, [5, 5, 5, 4, 4])
    clock.advance(hours=73)
    await close_and_summarise(ctx, info("pulse.close", clock))
    clock.advance(days=4)
    await _round_with(db, ctx, lead, agents, [5, 4, 3, 3, 2])
    clock.advance(hours=73)
    await close_and_summarise(ctx, info("pulse.close", clock))
    summaries = [m for m in await outbox(db) if m.dedupe_key.endswith(":summary")]
    assert len(summaries) == 2
    assert "Sharp drop" not in Reply.from_json(summaries[0].payload).text
    assert "Sharp drop: ESAT fell 60 points" in Reply.from_json(summaries[1].payload).text


async def test_job_logs_never_name_anyone(
    db: Database, ctx: HandlerContext, clock: FakeClock, caplog: object
) -> None:
    import logging

    import pytest

    assert isinstance(caplog, pytest.LogCaptureFixture)
    caplog.set_level(logging.DEBUG)
    _team, lead, agents = await crew(db, 5)
    rnd = await _round_with(db, ctx, lead, agents, [5, 4, 3])
    clock.advance(hours=24)
    await remind_non_responders(ctx, info("pulse.remind", clock))
    clock.advance(hours=49)
    await close_and_summarise(ctx, info("pulse.close", clock))
    ours = ("jobs", "handlers", "storage")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))
    for a in agents:
        assert a.email not in logged
        assert a.display_name not in logged
        assert f"person={a.id}" not in logged
    assert f"round={rnd.id}" in logged


async def test_changing_the_question_just_after_the_slot_does_not_skip_it(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    team, _lead, _agents = await crew(db, 2)
    assert team.id is not None
    await store.set_schedule(
        db, team_id=team.id, now=clock(), cadence="weekly", weekday=4, local_time="15:00"
    )
    clock.set(dt.datetime(2026, 11, 20, 15, 1, tzinfo=dt.UTC))
    await store.set_schedule(db, team_id=team.id, now=clock(), question="How was the week?")
    clock.advance(minutes=4)
    await open_scheduled(ctx, info("pulse.open", clock))
    opened = await rounds(db)
    assert [r.question for r in opened] == ["How was the week?"]


async def test_agents_off_until_after_closing_are_not_asked(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    team, lead, agents = await crew(db, 2)
    weekender = await make_person(db, "weekend.only", team=team, work_hours="Sat-Sun 09:00-17:00")
    from handlers.core.dispatch import run_command

    reply = await run_command(await command(db, lead, "/pulse now"), ctx)  # Tuesday 10:00
    assert reply.ok
    assert "2 agents asked" in reply.text
    assert "1 agent off until after it closes was not asked" in reply.text
    assert {m.recipient_person_id for m in await outbox(db)} == {a.id for a in agents}
    rnd = (await rounds(db))[0]
    assert rnd.id is not None
    assert await store.asked_and_answered(db, round_id=rnd.id) == (2, 0)
    assert "wasn't sent to you" in (await tap(ctx, weekender, f"{rnd.id}:esat:5")).text


async def test_now_refused_when_nobody_can_answer_in_time(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    _team, lead, _agents = await crew(db, 2, work_hours="Sat 09:00-17:00")
    from handlers.core.dispatch import run_command

    reply = await run_command(await command(db, lead, "/pulse now"), ctx)  # Tuesday
    assert not reply.ok
    assert "works before the round would close" in reply.text
    assert await rounds(db) == []
