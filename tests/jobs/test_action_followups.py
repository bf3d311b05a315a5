"""Action-item follow-ups over a week with a fixed clock: the due reminder, overdue nudges
on working days only, the escalation, the weekly summary, quiet hours, nothing after done,
and the evidence close offered once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import time_machine

from domain.items import ActionStatus
from domain.kpi import KpiRow
from domain.roles import Role
from domain.types import Action, Buttons, Reply, Table
from handlers.actions.buttons import action_button
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from jobs import action_followups as job
from jobs.registry import build_jobs
from jobs.spec import JobRunInfo
from storage import actions as store
from storage import outbox, people
from storage.db import Database
from storage.kpis import upsert_values
from storage.models import OutboxMessage, Person
from tests.conftest import (
    FakeClock,
    actor_of,
    command,
    make_ctx,
    make_person,
    make_settings,
    make_team,
)

UTC = dt.UTC


@dataclass
class World:
    lead: Person
    maria: Person
    manager: Person
    ny_lead: Person
    oscar: Person


@pytest.fixture
async def w(db: Database) -> World:
    billing = await make_team(db, "Billing", "Europe/London")
    tech = await make_team(db, "Tech Support", "America/New_York")
    return World(
        lead=await make_person(db, "lee.lead", role=Role.lead, team=billing),
        maria=await make_person(db, "maria.lopez", team=billing),
        manager=await make_person(db, "mona.manager", role=Role.manager, team=billing),
        ny_lead=await make_person(
            db, "nick.lead", role=Role.lead, team=tech, tz="America/New_York"
        ),
        oscar=await make_person(db, "oscar.other", team=tech, tz="America/New_York"),
    )


async def say(ctx: HandlerContext, who: Person, line: str) -> Reply:
    reply = await run_command(await command(ctx.db, who, line), ctx)
    assert reply.ok, reply.fallback
    return reply


async def sweep_at(ctx: HandlerContext, clock: FakeClock, when: dt.datetime) -> list[OutboxMessage]:
    """Run one sweep at `when`; the messages it enqueued."""
    clock.set(when)
    before = await outbox.last_id(ctx.db)
    with time_machine.travel(when, tick=False):  # the outbox stamps rows with real time
        await job.run(ctx, JobRunInfo(job_id=job.SPEC.id, fire_time=when))
    return await outbox.messages_after(ctx.db, after_id=before)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_registered_as_a_frequent_global_sweep() -> None:
    spec = next(j for j in build_jobs(make_settings()) if j.id == "action_followups")
    assert spec.cron is not None
    assert spec.cron.minute == "*/5"
    assert spec.team_cron is None


async def test_a_week_of_follow_ups(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.lead, "/action @maria.lopez call back the Smith account due thursday")
    sent: list[tuple[dt.datetime, str, int | None]] = []
    # Every hour from Tuesday 11:00 to the next Wednesday 23:00 (London = UTC in November).
    when = at(17, 11)
    while when <= at(25, 23):
        for m in await sweep_at(ctx, clock, when):
            sent.append((when, m.dedupe_key, m.recipient_person_id))
        when += dt.timedelta(hours=1)
    lee, mona, maria = w.lead.id, w.manager.id, w.maria.id
    assert sent == [
        (at(18, 9), "action:1:due:2026-11-19", maria),  # the working day before
        (at(20, 9), "action:1:nudge:2026-11-20", maria),  # Friday: 1 working day overdue
        # nothing on Saturday or Sunday
        (at(23, 9), "action:1:nudge:2026-11-23", maria),
        (at(23, 9), f"action:summary:{lee}:2026-W48", lee),
        (at(23, 9), f"action:summary:{mona}:2026-W48", mona),
        (at(24, 9), "action:1:nudge:2026-11-24", maria),
        (at(24, 9), "action:1:escalated:2026-11-19", lee),  # after 2 overdue working days
        (at(25, 9), "action:1:nudge:2026-11-25", maria),
    ]
    kinds = [e.kind for e in await store.events(db, item_id=1)]
    assert kinds == [
        "created",
        "reminder_sent",
        "nudge_sent",
        "nudge_sent",
        "summarized",
        "summarized",
        "nudge_sent",
        "escalated",
        "nudge_sent",
    ]
    # Done: nothing more, ever.
    clock.set(at(25, 12))
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.maria, "/action done 1")
    for day in (26, 27):
        assert await sweep_at(ctx, clock, at(day, 9, 5)) == []
    # Next Monday only the summaries come (reporting it done), nothing about the item.
    monday = await sweep_at(ctx, clock, at(30, 9, 5))
    assert sorted(m.dedupe_key for m in monday) == sorted(
        [f"action:summary:{lee}:2026-W49", f"action:summary:{mona}:2026-W49"]
    )
    assert "1 done in the last 7 days" in Reply.from_json(monday[0].payload).fallback
    assert [e.kind for e in await store.events(db, item_id=1)][-1] == "done"


async def test_reminder_and_nudge_contents(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(
            ctx, w.lead, "/action @maria.lopez shorten wrap-up due thursday metric aht <= 300s"
        )
    await upsert_values(
        db,
        rows=[
            KpiRow(
                dt.date(2026, 11, 17), "aht", 290.0, person_id=w.maria.id, team_id=w.maria.team_id
            )
        ],
    )
    [reminder] = await sweep_at(ctx, clock, at(18, 9, 5))
    r = Reply.from_json(reminder.payload)
    text = " ".join(getattr(b, "text", "") for b in r.blocks)
    assert "due tomorrow" in text
    assert "Average handle time: 4:50 on Tue 17 Nov, on target" in text
    assert any(isinstance(b, Buttons) for b in r.blocks)
    [nudge] = await sweep_at(ctx, clock, at(20, 9, 5))
    assert "was due Thu 19 Nov" in Reply.from_json(nudge.payload).fallback


async def test_follow_ups_run_in_the_owners_zone(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.ny_lead, "/action @oscar.other update the FAQ due thursday")
    # Wednesday 09:00 in London is 04:00 in New York: too early.
    assert await sweep_at(ctx, clock, at(18, 13, 55)) == []
    [msg] = await sweep_at(ctx, clock, at(18, 14, 0))  # 09:00 in New York
    assert msg.dedupe_key == "action:1:due:2026-11-19"
    assert msg.recipient_person_id == w.oscar.id
    assert await sweep_at(ctx, clock, at(20, 13, 0)) == []  # 08:00 NY on Friday
    [nudge] = await sweep_at(ctx, clock, at(20, 14, 5))
    assert nudge.dedupe_key == "action:1:nudge:2026-11-20"


async def test_no_reminder_when_created_on_the_reminder_day(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.lead, "/action @maria.lopez call back due tomorrow")
    assert await sweep_at(ctx, clock, at(17, 12)) == []  # she was just told it's due tomorrow


async def test_moving_the_due_date_restarts_the_cycle(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    ctx2 = make_ctx(db, clock, action_escalate_after_days=1)
    with time_machine.travel(clock.now, tick=False):
        await say(ctx2, w.lead, "/action @maria.lopez call back due wednesday")
    await sweep_at(ctx2, clock, at(19, 9))
    escalated = [m.dedupe_key for m in await sweep_at(ctx2, clock, at(20, 9))]
    assert "action:1:escalated:2026-11-18" in escalated
    clock.set(at(20, 10))
    with time_machine.travel(clock.now, tick=False):
        await say(ctx2, w.lead, "/action due 1 monday")
    assert await sweep_at(ctx2, clock, at(20, 11)) == []
    keys = [m.dedupe_key for m in await sweep_at(ctx2, clock, at(25, 9))]
    assert "action:1:escalated:2026-11-23" in keys  # a new date, a new escalation


async def test_self_assigned_items_escalate_to_the_lead(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.maria, "/action me finish the refunds course due wednesday")
    keys = {(m.dedupe_key, m.recipient_person_id) for m in await sweep_at(ctx, clock, at(23, 9, 5))}
    assert ("action:1:escalated:2026-11-18", w.lead.id) in keys


async def test_messages_to_agents_wait_for_their_shift(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.lead, "/action @maria.lopez call back due wednesday")
    # A lead marks it done at 20:00; Maria is told at her next shift start, not now.
    clock.set(at(17, 20))
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.lead, "/action done 1 did it myself")
        [msg] = [
            m
            for m in await outbox.messages_after(db, after_id=0)
            if m.dedupe_key.startswith("action:1:done")
        ]
    assert msg.next_attempt_at == at(18, 9)


async def _values(db: Database, person: Person, days: list[tuple[int, float]]) -> None:
    await upsert_values(
        db,
        rows=[
            KpiRow(dt.date(2026, 11, d), "aht", v, person_id=person.id, team_id=person.team_id)
            for d, v in days
        ],
    )


async def test_evidence_close_offered_once_after_five_days(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.lead, "/action @maria.lopez shorten wrap-up metric aht <= 300s")
    await _values(db, w.maria, [(16, 280.0)])  # before the item: doesn't count
    await _values(db, w.maria, [(17, 290.0), (18, 295.0), (19, 300.0), (20, 250.0)])
    assert await sweep_at(ctx, clock, at(21, 10)) == []  # 4 working days (weekend skipped)
    await _values(db, w.maria, [(23, 299.0)])
    [offer] = await sweep_at(ctx, clock, at(24, 10))
    assert offer.dedupe_key == "action:1:close_offer"
    assert offer.recipient_person_id == w.lead.id
    reply = Reply.from_json(offer.payload)
    [buttons] = [b for b in reply.blocks if isinstance(b, Buttons)]
    assert (buttons.buttons[0].label, buttons.buttons[0].action_id) == (
        "Close as achieved",
        "action.achieved",
    )
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.close_offered_at == at(24, 10)
    await _values(db, w.maria, [(24, 200.0)])
    assert await sweep_at(ctx, clock, at(25, 10)) == []  # once
    assert [e.kind for e in await store.events(db, item_id=1)].count("close_offered") == 1
    pressed = await action_button(
        Action(actor_of(w.lead), "action.achieved", buttons.buttons[0].value), ctx
    )
    assert pressed.ok, pressed.fallback
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.status is ActionStatus.done
    last = (await store.events(db, item_id=1))[-1]
    assert last.kind == "done"
    assert "closed as achieved" in last.detail


async def test_no_offer_when_a_day_misses(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.lead, "/action @maria.lopez shorten wrap-up metric aht <= 300s")
    await _values(db, w.maria, [(17, 290.0), (18, 310.0), (19, 300.0), (20, 250.0), (23, 299.0)])
    assert await sweep_at(ctx, clock, at(24, 10)) == []
    # A working day without a figure breaks the streak too.
    await _values(db, w.maria, [(18, 290.0)])
    await store.change(
        db,
        item_id=1,
        actor_id=None,
        kind="note",
        detail="",
        allowed_from=store.OPEN_STATUSES,
        updates={},
        now=at(24, 11),
    )
    assert [m.dedupe_key for m in await sweep_at(ctx, clock, at(24, 12))] == [
        "action:1:close_offer"
    ]


def test_overdue_working_days() -> None:
    hours = "Mon-Fri 09:00-17:00"
    thu = dt.date(2026, 11, 19)
    assert job.overdue_working_days(hours, thu, thu) == 0
    assert job.overdue_working_days(hours, thu, dt.date(2026, 11, 22)) == 1  # Fri only
    assert job.overdue_working_days(hours, thu, dt.date(2026, 11, 24)) == 3


async def test_weekly_summary_contents(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.lead, "/action @maria.lopez call back due wednesday")
        await say(ctx, w.lead, "/action @maria.lopez update notes due thursday")
        await say(ctx, w.lead, "/action @lee.lead book the QA session")
        await say(ctx, w.lead, "/action @maria.lopez quick one")
        await say(ctx, w.maria, "/action done 4")
        await say(ctx, w.ny_lead, "/action @oscar.other other team, not in Billing's summary")
    # Sunday: nothing; Monday before the shift: nothing; at the shift start: the summary.
    assert not [m for m in await sweep_at(ctx, clock, at(22, 10)) if "summary" in m.dedupe_key]
    assert not [m for m in await sweep_at(ctx, clock, at(23, 8, 55)) if "summary" in m.dedupe_key]
    sent = {
        m.recipient_person_id: m
        for m in await sweep_at(ctx, clock, at(23, 9))
        if "summary" in m.dedupe_key
    }
    assert set(sent) == {w.lead.id, w.manager.id}
    reply = Reply.from_json(sent[w.lead.id].payload)
    assert reply.fallback == (
        "Action items this week: 3 open, 2 overdue, 1 done in the last 7 days."
    )
    [table] = [b for b in reply.blocks if isinstance(b, Table)]
    assert table.rows == (("Maria Lopez", "2", "Wed 18 Nov", "#1 #2"),)
    # Nothing twice, even if asked again later that day; New York's lead gets his at 09:00 there.
    later = [m.dedupe_key for m in await sweep_at(ctx, clock, at(23, 15))]
    assert later == [f"action:summary:{w.ny_lead.id}:2026-W48"]
    trail = [e.detail for e in await store.events(db, item_id=1) if e.kind == "summarized"]
    assert sorted(trail) == [
        "listed as overdue in the weekly summary to Lee Lead",
        "listed as overdue in the weekly summary to Mona Manager",
    ]


async def test_closing_withdraws_follow_ups_still_waiting(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    billing = await people.get_team(db, team_id=w.maria.team_id or 0)
    assert billing is not None
    late = await make_person(
        db, "lena.late", role=Role.lead, team=billing, work_hours="Mon-Fri 13:00-21:00"
    )
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, late, "/action @maria.lopez call back due wednesday")
    keys = [m.dedupe_key for m in await sweep_at(ctx, clock, at(23, 9))]
    assert "action:1:escalated:2026-11-18" in keys  # held until Lena's shift at 13:00
    clock.set(at(23, 10))
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.maria, "/action done 1 sorry, done now")
    left = [m.dedupe_key for m in await outbox.messages_after(db, after_id=0)]
    assert "action:1:escalated:2026-11-18" not in left
    assert "action:1:nudge:2026-11-23" not in left  # never tried: withdrawn as well
    assert f"action:1:done:{late.id}" in left  # the news that it's done still goes
    kinds = [e.kind for e in await store.events(db, item_id=1)]
    assert "escalated" in kinds  # the trail keeps what was decided


async def test_an_owners_request_does_not_restart_escalation(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    """Asking for a new date changes nothing until it is approved: the item escalates
    from its original date; an approval then starts the cycle for the new one."""
    ctx2 = make_ctx(db, clock, action_escalate_after_days=1)
    with time_machine.travel(clock.now, tick=False):
        await say(ctx2, w.lead, "/action @maria.lopez call back due wednesday")
    clock.set(at(19, 8))
    with time_machine.travel(clock.now, tick=False):
        await say(ctx2, w.maria, "/action due 1 next friday")  # overdue since Wednesday
    await sweep_at(ctx2, clock, at(19, 9))
    keys = {(m.dedupe_key, m.recipient_person_id) for m in await sweep_at(ctx2, clock, at(20, 9))}
    assert ("action:1:escalated:2026-11-18", w.lead.id) in keys  # the original date
    clock.set(at(20, 10))
    with time_machine.travel(clock.now, tick=False):
        await say(ctx2, w.lead, "/action approve 1")
    item = await store.get(db, item_id=1)
    assert item is not None
    assert item.due_date == dt.date(2026, 11, 27)
    later = [m.dedupe_key for m in await sweep_at(ctx2, clock, at(23, 9))]
    assert not [k for k in later if "escalated" in k]  # not overdue any more


async def test_escalations_and_summaries_go_to_who_leads_now(
    db: Database, ctx: HandlerContext, clock: FakeClock, w: World
) -> None:
    """The assigner moved to another team as an agent: the escalation goes to Maria's
    team's manager (it has no lead now), and the mover gets no summary of Billing."""
    with time_machine.travel(clock.now, tick=False):
        await say(ctx, w.lead, "/action @maria.lopez call back the Smith account due thursday")
    tech = await people.get_team_by_name(db, name="Tech Support")
    assert tech is not None
    assert tech.id
    assert w.lead.id
    await people.assign_member(db, person_id=w.lead.id, team_id=tech.id, role=Role.agent)
    sent: list[tuple[str, int | None]] = []
    when = at(17, 11)
    while when <= at(25, 12):
        sent += [(m.dedupe_key, m.recipient_person_id) for m in await sweep_at(ctx, clock, when)]
        when += dt.timedelta(hours=1)
    assert ("action:1:escalated:2026-11-19", w.manager.id) in sent
    assert not [k for k, pid in sent if pid == w.lead.id]  # no escalation, no summary
