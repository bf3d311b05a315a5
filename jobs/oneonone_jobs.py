"""The 1:1 sweep (every 5 minutes): moves schedules past slots that went by, sends each
person their reminders in their own zone (the working day before, and shortly before),
and nudges the lead (then the manager) when a cadence lapses.

The "lead" of each schedule is whoever holds it now (handlers.oneonone.acting_leads), read
at every sweep: a lead moved or demoted since it was set up gets no more prep cards or
nudges about that person; their current lead does. A schedule nobody holds now (the
person has no lead or manager) sends nothing, and the log says so."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from domain.localtime import local_date, local_now, local_to_utc, zone_name
from domain.roles import Role
from domain.shifts import (
    DEFAULT_WORK_HOURS,
    first_shift_start,
    parse_work_hours,
    previous_working_day,
)
from domain.types import Block, Buttons, Context, Reply, Text
from handlers.core import notify
from handlers.core.access import current_manager
from handlers.core.context import HandlerContext
from handlers.oneonone import (
    acting_leads,
    due_since,
    following_slot,
    lapse_state,
    prep_button,
    prep_card,
)
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import oneonones as store
from storage import people
from storage.models import OneOnOne, Person
from storage.outbox import OutboxNew

log = logging.getLogger(__name__)

LOOKAHEAD = dt.timedelta(days=15)  # a day-before reminder can be days before (weekends, rotas)


def _hours(p: Person) -> str:
    try:
        parse_work_hours(p.work_hours)
        return p.work_hours
    except ValueError:
        return DEFAULT_WORK_HOURS


def day_before_at(p: Person, meeting: dt.datetime) -> dt.datetime:
    """The start of the person's working day before the meeting's local day (UTC)."""
    tz = zone_name(p.timezone)
    hours = _hours(p)
    day = local_date(meeting, tz)
    prev = previous_working_day(hours, day)
    start = first_shift_start(hours, tz, prev)
    return start if start is not None else local_to_utc(prev, dt.time(9, 0), tz)


def when_text(t: dt.datetime, tz: str) -> str:
    """`Tue 24 Nov at 10:00 (Europe/London)`."""
    name = zone_name(tz)
    local = local_now(t, name)
    return f"{local:%a %d %b} at {local:%H:%M} ({name})"


async def advance_passed(ctx: HandlerContext, now: dt.datetime) -> int:
    """Move every schedule whose occurrence ended (with nothing recorded) to its next slot."""
    moved = 0
    for o in await store.list_active(ctx.db, due_before=now):
        current = o.next_at
        for _ in range(20):  # a scheduler down for weeks catches up, slot by slot
            if current is None or current + dt.timedelta(minutes=o.duration_minutes) > now:
                break
            nxt = await following_slot(ctx, o, current)
            if not await store.pass_slot(
                ctx.db, one_on_one_id=o.id or 0, expected_next_at=current, new_next_at=nxt
            ):
                break
            moved += 1
            current = nxt
    return moved


@dataclass(frozen=True)
class _Due:
    """One reminder to send: to `person`, about their 1:1 `o` with `other`."""

    o: OneOnOne
    person: Person
    other: Person
    is_lead: bool
    kind: str  # "daybefore" or "soon"
    key: str  # the outbox dedupe key


def _due_reminders(
    upcoming: list[OneOnOne],
    holders: dict[int, Person | None],
    by_id: dict[int, Person],
    now: dt.datetime,
    soon: dt.timedelta,
) -> list[_Due]:
    """The reminders whose time has come, to both people of each upcoming 1:1 (its lead
    being whoever holds it now)."""
    due: list[_Due] = []
    for o in upcoming:
        assert o.next_at is not None
        lead, agent = holders.get(o.id or 0), by_id.get(o.agent_id)
        if lead is None or agent is None or not agent.active:
            continue
        base = f"1on1:{o.id}:{o.next_at:%Y%m%dT%H%M}"
        for person, other, is_lead in ((lead, agent, True), (agent, lead, False)):
            if day_before_at(person, o.next_at) <= now < o.next_at - soon:
                key = f"{base}:daybefore:{person.id}"
                due.append(_Due(o, person, other, is_lead, "daybefore", key))
            if o.next_at - soon <= now:
                due.append(_Due(o, person, other, is_lead, "soon", f"{base}:soon:{person.id}"))
    return due


async def send_reminders(ctx: HandlerContext, now: dt.datetime) -> int:
    """Day-before and short reminders that are due now, to the lead and the person."""
    minutes = ctx.settings.oneonone_reminder_minutes
    upcoming = [
        o
        for o in await store.list_active(ctx.db, due_before=now + LOOKAHEAD)
        if o.next_at is not None and o.next_at > now
    ]
    if not upcoming:
        return 0
    holders = await _holders(ctx, upcoming)
    by_id = await people.get_people(ctx.db, person_ids=[o.agent_id for o in upcoming])
    due = _due_reminders(upcoming, holders, by_id, now, dt.timedelta(minutes=minutes))
    # Building a prep card is a few queries: skip the reminders sent on earlier sweeps.
    sent = await store.existing_keys(ctx.db, keys=[d.key for d in due])
    msgs: list[OutboxNew] = []
    for d in due:
        if d.key in sent:
            continue
        if d.kind == "daybefore":
            reply = await _day_before(ctx, d.o, d.person, d.other, d.is_lead)
            msgs.append(notify.person_message(ctx, d.person, reply, dedupe_key=d.key))
            continue
        reply = _soon(d.o, d.person, d.other, d.is_lead, minutes)
        msg = notify.person_message(ctx, d.person, reply, dedupe_key=d.key)
        # Outside their shift the message would wait past the meeting: drop it.
        assert d.o.next_at is not None
        if msg.not_before is None or msg.not_before < d.o.next_at:
            msgs.append(msg)
    return await notify.send(ctx, msgs)


async def _day_before(
    ctx: HandlerContext, o: OneOnOne, person: Person, other: Person, is_lead: bool
) -> Reply:
    assert o.next_at is not None
    when = when_text(o.next_at, person.timezone)
    text = f"📅 Your 1:1 with *{other.display_name}* is on *{when}* ({o.duration_minutes} min)."
    blocks: list[Block] = [Text(text)]
    if is_lead:
        # The card's history is the schedule's (its lead_id); it goes to whoever holds it now.
        blocks.extend(
            await prep_card(ctx, lead_id=o.lead_id, agent=other, o=o, viewer_tz=person.timezone)
        )
    else:
        agenda = await store.pending_agenda(ctx.db, one_on_one_ids=[o.id or 0])
        if agenda:
            blocks.append(
                Text("*On the agenda so far*\n" + "\n".join(f"• {a.text}" for a in agenda))
            )
        blocks.append(Context("Anything you'd like to talk about? `/1on1 agenda TEXT`"))
    return Reply(blocks=blocks, text=f"Your 1:1 with {other.display_name} is on {when}.")


def _soon(o: OneOnOne, person: Person, other: Person, is_lead: bool, minutes: int) -> Reply:
    assert o.next_at is not None
    when = when_text(o.next_at, person.timezone)
    text = f"⏰ Your 1:1 with *{other.display_name}* starts in {minutes} minutes ({when})."
    blocks: list[Block] = [Text(text)]
    if is_lead:
        blocks.append(Buttons((prep_button(o),)))
    return Reply(blocks=blocks, text=f"Your 1:1 with {other.display_name} starts at {when}.")


async def check_lapses(ctx: HandlerContext, now: dt.datetime) -> int:
    """Nudge the lead when a 1:1 is more than one cadence overdue; the manager after two."""
    active = [o for o in await store.list_active(ctx.db) if o.id is not None]
    if not active:
        return 0
    dealt = await store.last_dealt(ctx.db, one_on_one_ids=[o.id or 0 for o in active])
    late = [(o, lapse_state(o, dealt.get(o.id or 0), now)) for o in active]
    late = [(o, s) for o, s in late if s != "ok"]
    if not late:
        return 0
    holders = await _holders(ctx, [o for o, _ in late])
    by_id = await people.get_people(ctx.db, person_ids=[o.agent_id for o, _ in late])
    msgs: list[OutboxNew] = []
    for o, state in late:
        lead, agent = holders.get(o.id or 0), by_id.get(o.agent_id)
        if lead is None or agent is None or not agent.active or not lead.active:
            continue
        due = due_since(o, dealt.get(o.id or 0))
        last = dealt.get(o.id or 0)
        last_text = f"the last one was {last:%d %b}" if last else "none has been held yet"
        key = f"1on1:{o.id}:lapse:{due:%Y%m%d}"
        text = (
            f"⚠️ Your 1:1s with *{agent.display_name}* ({o.cadence_weeks}-weekly) are overdue: "
            f"{last_text}. Hold one and record it with `/1on1 done`, or `/1on1 skip` with a reason."
        )
        msgs.append(
            notify.person_message(
                ctx, lead, Reply(blocks=[Text(text)], text=text), dedupe_key=f"{key}:lead"
            )
        )
        if state == "lapsed":
            manager = await _manager_of(ctx, lead, agent)
            if manager is not None and manager.id != lead.id:
                mtext = (
                    f"⚠️ {lead.display_name}'s 1:1s with {agent.display_name} have lapsed: "
                    f"{last_text} (cadence {o.cadence_weeks} week(s))."
                )
                msgs.append(
                    notify.person_message(
                        ctx,
                        manager,
                        Reply(blocks=[Text(mtext)], text=mtext),
                        dedupe_key=f"{key}:manager",
                    )
                )
    return await notify.send(ctx, msgs)


async def _holders(ctx: HandlerContext, schedules: list[OneOnOne]) -> dict[int, Person | None]:
    """Who holds each schedule now; a redirect or a schedule nobody holds is logged."""
    holders = await acting_leads(ctx, schedules)
    for o in schedules:
        holder = holders.get(o.id or 0)
        if holder is None:
            log.warning(
                "1:1 %s: nobody leads person %s now (set up by %s); no reminders sent",
                o.id,
                o.agent_id,
                o.lead_id,
            )
        elif holder.id != o.lead_id:
            log.info(
                "1:1 %s: person %s is led by %s now, not %s; reminders go to %s",
                o.id,
                o.agent_id,
                holder.id,
                o.lead_id,
                holder.id,
            )
    return holders


async def _manager_of(ctx: HandlerContext, lead: Person, agent: Person) -> Person | None:
    """The manager of the person's team now (an active manager), else the lead's own."""
    if agent.team_id is not None:
        team = await people.get_team(ctx.db, team_id=agent.team_id)
        if team is not None and team.manager_id:
            manager = await people.get_person(ctx.db, person_id=team.manager_id)
            known = {manager.id: manager} if manager is not None and manager.id else {}
            current = current_manager(team, known)
            if current is not None:
                return current
    if lead.manager_id:
        manager = await people.get_person(ctx.db, person_id=lead.manager_id)
        if manager is not None and manager.active and manager.role is Role.manager:
            return manager
    return None


async def sweep(ctx: HandlerContext, run: JobRunInfo) -> None:
    """Every 5 minutes: advance, remind; lapses once an hour."""
    now = ctx.now()
    await advance_passed(ctx, now)
    await send_reminders(ctx, now)
    if run.fire_time.minute < 5:
        await check_lapses(ctx, now)


SWEEP = JobSpec(
    id="oneonone.sweep",
    description="Every 5 minutes: 1:1 reminders in each person's zone; lapsed cadences",
    run=sweep,
    cron=Cron(minute="*/5"),
)

JOBS = (SWEEP,)
