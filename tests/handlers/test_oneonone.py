"""`/1on1`: recurring schedules in the lead's zone (DST, two zones), moved and skipped
occurrences, notes, agenda points, the prep card (and no pulse data on it), permissions,
the list, the buttons and the App Home section."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlmodel import col, select

from domain.items import ActionStatus
from domain.kpi import KpiRow
from domain.roles import Role
from domain.types import Action, Buttons, Reply
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_action, run_command
from handlers.core.home import home
from handlers.oneonone import fmt_local, is_regular, next_slot, slot_at
from storage import kudos as kudos_store
from storage.db import Database
from storage.kpis import upsert_values
from storage.models import (
    ActionItem,
    AgendaItem,
    Goal,
    OneOnOne,
    OneOnOneOccurrence,
    OutboxMessage,
    Person,
    PulseResponse,
    PulseRound,
    Team,
)
from tests.conftest import FakeClock, actor_of, command, make_person, make_team
from tests.handlers.test_kudos import text_of

UTC = dt.UTC


@dataclasses.dataclass
class Pair:
    team: Team
    lead: Person
    maria: Person
    sam: Person


async def pair(db: Database) -> Pair:
    """A lead in London; Maria works from Chicago; Sam from London."""
    team = await make_team(db, "Billing", tz="Europe/London")
    lead = await make_person(db, "lead.one", role=Role.lead, team=team, tz="Europe/London")
    maria = await make_person(db, "maria.lopez", team=team, tz="America/Chicago")
    sam = await make_person(db, "sam.lee", team=team, tz="Europe/London")
    return Pair(team, lead, maria, sam)


async def run(db: Database, ctx: HandlerContext, who: Person, line: str) -> Reply:
    return await run_command(await command(db, who, line), ctx)


async def the_1on1(db: Database) -> OneOnOne:
    async with db.session() as s:
        rows = (await s.execute(select(OneOnOne).where(OneOnOne.active == True))).scalars()  # noqa: E712
        found = list(rows)
    assert len(found) == 1
    return found[0]


async def occurrences(db: Database) -> list[OneOnOneOccurrence]:
    async with db.session() as s:
        q = select(OneOnOneOccurrence).order_by(col(OneOnOneOccurrence.scheduled_at))
        return list((await s.execute(q)).scalars())


async def dms_to(db: Database, person: Person) -> list[OutboxMessage]:
    async with db.session() as s:
        q = select(OutboxMessage).where(OutboxMessage.recipient_person_id == person.id)
        return list((await s.execute(q.order_by(col(OutboxMessage.id)))).scalars())


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=UTC)


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


async def test_recurring_slots_keep_the_wall_clock_time_across_dst(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    clock.set(at(2027, 3, 1, 12))  # Mon 1 Mar 2027
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 1 weeks mon 10:00")).ok
    o = await the_1on1(db)
    slots = [slot_at(o, k) for k in range(5)]
    # London moves to BST on 28 Mar: 10:00 London is 10:00 UTC, then 09:00 UTC.
    assert slots == [
        at(2027, 3, 8, 10),
        at(2027, 3, 15, 10),
        at(2027, 3, 22, 10),
        at(2027, 3, 29, 9),
        at(2027, 4, 5, 9),
    ]
    # Chicago moves to CDT on 14 Mar, two weeks earlier: the agent's local time shifts.
    chicago = [fmt_local(t, "America/Chicago", zone_label=False) for t in slots]
    assert chicago == [
        "Mon 08 Mar 04:00",
        "Mon 15 Mar 05:00",
        "Mon 22 Mar 05:00",
        "Mon 29 Mar 04:00",
        "Mon 05 Apr 04:00",
    ]
    assert all(is_regular(o, t) for t in slots)
    assert not is_regular(o, at(2027, 3, 9, 10))
    assert next_slot(o, at(2027, 3, 15, 10)) == at(2027, 3, 22, 10)
    assert next_slot(o, at(2027, 3, 15, 10), taken={at(2027, 3, 22, 10)}) == at(2027, 3, 29, 9)


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


async def add_prep_data(db: Database, p: Pair, now: dt.datetime) -> None:
    async with db.session() as s:
        s.add(Goal(team_id=p.team.id or 0, metric_key="csat", op=">=", target=90.0))
        s.add(Goal(team_id=p.team.id or 0, metric_key="aht", op="<=", target=300.0))
        s.add(
            ActionItem(
                title="Shadow Sam on escalations",
                owner_id=p.maria.id,
                assigned_by_id=p.lead.id,
                team_id=p.team.id,
                due_date=dt.date(2026, 11, 30),
            )
        )
        s.add(
            ActionItem(
                title="Finish the refunds course",
                owner_id=p.maria.id,
                team_id=p.team.id,
                status=ActionStatus.done,
                closed_at=now - dt.timedelta(days=2),
            )
        )
        # Pulse data exists for the team: none of it may reach the card.
        rnd = PulseRound(
            team_id=p.team.id or 0,
            question="How satisfied are you?",
            opens_at=now - dt.timedelta(days=3),
            closes_at=now - dt.timedelta(days=1),
        )
        s.add(rnd)
        await s.flush()
        s.add(
            PulseResponse(
                round_id=rnd.id or 0,
                respondent_hash="h" * 64,
                score=1,
                comment="SECRET-PULSE-COMMENT",
            )
        )
    rows = []
    for i in range(1, 29):
        day = now.date() - dt.timedelta(days=i)
        recent = i <= 14
        rows.append(
            KpiRow(day, "csat", 93.0 if recent else 85.0, person_id=p.maria.id, team_id=p.team.id)
        )
        rows.append(
            KpiRow(day, "aht", 320.0 if recent else 290.0, person_id=p.maria.id, team_id=p.team.id)
        )
    await upsert_values(db, rows=rows)
    await kudos_store.record(
        db,
        giver_id=p.sam.id or 0,
        receivers=[kudos_store.NewRecognition(p.maria.id or 0, p.team.id)],
        message="calmed down a very angry caller",
        value_tag="communication",
        group_key="g-prep",
        at=now - dt.timedelta(days=1),
    )


async def test_prep_card_content_and_no_pulse_data(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    # The last 1:1: held two weeks ago (an extra one), with notes.
    clock.set(at(2026, 11, 3, 10))
    assert (await run(db, ctx, p.lead, "/1on1 done @maria.lopez wants to try the chat queue")).ok
    clock.set(at(2026, 11, 17, 10))
    assert (await run(db, ctx, p.maria, "/1on1 agenda my weekend shifts")).ok
    await add_prep_data(db, p, clock.now)
    card = await run(db, ctx, p.lead, "/1on1 prep @maria.lopez")
    assert card.ok, card.text
    body = text_of(card)
    assert "1:1 prep: Maria Lopez" in body
    assert "since the last 1:1 (03 Nov)" in body
    # KPIs vs goals with trends (since 3 Nov: on target for CSAT, over the AHT goal).
    assert "CSAT | 93.0% | ≥ 90.0% | ✓ on target | ▲ +8.0 pts |" in body
    assert "Average handle time | 5:20 | ≤ 5:00 | ✗ off target | ▲ +30s ! |" in body
    assert "Shadow Sam on escalations | open | 30 Nov" in body
    assert "Finish the refunds course | done | closed 15 Nov" in body
    assert "Kudos received: 1" in body
    assert "calmed down a very angry caller" in body
    assert "wants to try the chat queue" in body
    assert "my weekend shifts (Maria Lopez)" in body
    assert "SECRET-PULSE-COMMENT" not in card.to_json()
    assert "How satisfied" not in card.to_json()
    buttons = [b for blk in card.blocks if isinstance(blk, Buttons) for b in blk.buttons]
    add = next(b for b in buttons if b.action_id == "action.create")
    assert add.form is not None
    assert add.value.startswith("one_on_one:")
    # An agent can't see a prep card, nor a lead for someone outside their team.
    assert not (await run(db, ctx, p.sam, "/1on1 prep @maria.lopez")).ok


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


async def test_list_for_lead_and_agent(db: Database, ctx: HandlerContext) -> None:
    p = await pair(db)
    empty = await run(db, ctx, p.lead, "/1on1 list")
    assert "No 1:1s yet" in text_of(empty)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    assert (await run(db, ctx, p.lead, "/1on1 schedule @sam.lee every 1 weeks wed 14:00")).ok
    lead_view = text_of(await run(db, ctx, p.lead, "/1on1 list"))
    assert "Maria Lopez | Tue 24 Nov 10:00 | 2 wk | never | on track" in lead_view
    assert "Sam Lee | Wed 18 Nov 14:00 | 1 wk | never | on track" in lead_view
    agent_view = text_of(await run(db, ctx, p.maria, "/1on1 list"))
    assert "Lead One | Tue 24 Nov 04:00 | 2 wk | 0" in agent_view


async def test_buttons_prep_and_done_validate_the_value(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    o = await the_1on1(db)
    prep = await run_action(Action(actor_of(p.lead), "oneonone.prep", str(o.id)), ctx)
    assert prep.ok
    assert "1:1 prep: Maria Lopez" in text_of(prep)
    for who, value in ((p.sam, str(o.id)), (p.lead, "abc"), (p.lead, "424242")):
        assert not (await run_action(Action(actor_of(who), "oneonone.prep", value), ctx)).ok
    clock.set(at(2026, 11, 24, 10, 25))
    done = await run_action(
        Action(actor_of(p.lead), "oneonone.done", str(o.id), form={"notes": "good chat"}), ctx
    )
    assert done.ok
    assert [(x.status, x.notes) for x in await occurrences(db)] == [("held", "good chat")]


async def test_home_shows_next_1on1_and_latest_kudos(db: Database, ctx: HandlerContext) -> None:
    p = await pair(db)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 2 weeks tue 10:00")).ok
    assert (await run(db, ctx, p.sam, "/kudos @maria.lopez #action great save")).ok
    view = text_of(await home(actor_of(p.maria), ctx))
    assert "with Lead One: *Tue 24 Nov 04:00 (America/Chicago)*" in view
    assert "great save" in view
    lead_view = text_of(await home(actor_of(p.lead), ctx))
    assert "with Maria Lopez: Tue 24 Nov 10:00" in lead_view


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


async def test_manager_sees_how_each_lead_keeps_up(
    db: Database, ctx: HandlerContext, clock: FakeClock
) -> None:
    p = await pair(db)
    mgr = await make_person(db, "the.manager", role=Role.manager, team=p.team)
    assert (await run(db, ctx, p.lead, "/1on1 schedule @maria.lopez every 1 weeks tue 10:00")).ok
    clock.set(at(2026, 12, 9, 12))  # over two cadences after the first was due: lapsed
    view = text_of(await run(db, ctx, mgr, "/1on1 list"))
    assert "Across your teams" in view
    assert "Billing | Lead One | 1/2 | 0 | 1" in view
    lead_view = text_of(await run(db, ctx, p.lead, "/1on1 list"))
    assert "| lapsed" in lead_view
