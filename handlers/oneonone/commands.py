"""The `/1on1` sub-commands that change a schedule or show a card: schedule, move, cancel,
done, skip, prep and agenda. (`list` is in listing.py.)"""

from __future__ import annotations

import datetime as dt

from domain.dates import parse_date
from domain.errors import NotFound, UsageError, UserError
from domain.localtime import fmt_local, local_to_utc, local_today, zone_name
from domain.numbers import parse_int
from domain.parsing import Args
from domain.shifts import parse_time, parse_weekday
from domain.types import Actor, Block, Command, Context, Mention, Reply, Text
from handlers.core import notify
from handlers.core.access import may_act_on
from handlers.core.context import HandlerContext
from handlers.oneonone.prep import prep_card
from handlers.oneonone.schedule import cadence_text, first_slot, parse_duration, slot_text
from handlers.oneonone.service import (
    acting_leads,
    active_with,
    current_slot,
    following_slot,
    led_person,
    record_done,
    roster_person,
    schedule_with,
)
from storage import oneonones as store
from storage import people
from storage.models import OneOnOne, Person
from storage.outbox import OutboxNew

AGENDA_MAX = 500
REASON_MAX = 500
MISSED_WINDOW = dt.timedelta(days=2)  # `skip` after the fact: a slot this recent


async def _lead_name(ctx: HandlerContext, actor: Actor) -> str:
    lead = await people.get_person(ctx.db, person_id=actor.person_id)
    return lead.display_name if lead else actor.name


def _dm(ctx: HandlerContext, who: Person, text: str, *, dedupe_key: str) -> OutboxNew:
    """The DM a change causes, written in the change's own transaction."""
    return notify.person_message(
        ctx, who, Reply(blocks=[Text(text)], text=text), dedupe_key=dedupe_key
    )


# --- schedule ----------------------------------------------------------------------------


def _cadence(args: Args) -> int:
    """`every week`, `every N weeks` into weeks (1 to 12)."""
    if args.take_if("every") is None:
        raise UsageError("Say how often, e.g. `every 2 weeks`.")
    n_word = args.take_word("a number of weeks")
    if n_word.lower() in ("week", "weeks"):
        return 1
    cadence = parse_int(n_word, what="the number of weeks", lo=1, hi=12)
    if args.take_if("week", "weeks") is None:
        raise UsageError("Say `weeks` after the number, e.g. `every 2 weeks`.")
    return cadence


def _weekday_and_time(args: Args) -> tuple[int, dt.time]:
    try:
        weekday = parse_weekday(args.take_word("a weekday (mon ... sun)"))
        at = parse_time(args.take_word("a time (HH:MM)"))
    except ValueError as exc:
        raise UsageError(str(exc).capitalize() + ".") from None
    return weekday, at


async def schedule(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/1on1 schedule @agent every N weeks WEEKDAY HH:MM [duration 30m]`, in the lead's zone."""
    actor = cmd.actor
    who = await led_person(ctx, actor, args)
    cadence = _cadence(args)
    weekday, at = _weekday_and_time(args)
    duration = 30
    if args.take_if("duration", "for") is not None:
        duration = parse_duration(args.take_word("a duration (e.g. 30m)"))
    args.expect_end()
    tz = zone_name(actor.timezone)
    now = ctx.now()
    local_time = f"{at:%H:%M}"
    nxt = first_slot(now, weekday, local_time, tz)
    lead_name = await _lead_name(ctx, actor)
    # A schedule the actor inherited with this person (set up by a lead who no longer
    # leads them) is replaced by the new one, its agenda points moving along.
    inherited = await schedule_with(ctx, actor, who)

    def messages(o: OneOnOne, replaced: bool) -> list[OutboxNew]:
        dm_text = (
            f"📅 {lead_name} {'changed your' if replaced else 'set up a'} 1:1 "
            f"{cadence_text(o)}. The first is on *{slot_text(nxt, who.timezone)}* your time."
        )
        dm = Reply(
            blocks=[
                Text(dm_text),
                Context(
                    "Add points to talk about with `/1on1 agenda TEXT`; they go on the prep card."
                ),
            ],
            text=dm_text,
        )
        return [notify.person_message(ctx, who, dm, dedupe_key=f"1on1:{o.id}:scheduled")]

    o, replaced = await store.schedule(
        ctx.db,
        lead_id=actor.person_id,
        agent_id=who.id or 0,
        cadence_weeks=cadence,
        weekday=weekday,
        local_time=local_time,
        duration_minutes=duration,
        timezone=tz,
        next_at=nxt,
        at=now,
        replaces=[inherited.id] if inherited is not None and inherited.id is not None else [],
        messages=messages,
    )
    text = (
        f"{'Rescheduled' if replaced else 'Scheduled'} 1:1s with *{who.display_name}* "
        f"{cadence_text(o)}, {duration} min. First: *{slot_text(nxt, tz)}*"
    )
    blocks: list[Block] = [Text(text)]
    if zone_name(who.timezone) != tz:
        blocks.append(Context(f"For {who.display_name} that is {slot_text(nxt, who.timezone)}."))
    blocks.append(Context("Both of you get a reminder the working day before and shortly before."))
    return Reply(blocks=blocks, text=text)


# --- move, cancel, done --------------------------------------------------------------------


def _new_time(args: Args, o: OneOnOne, now: dt.datetime) -> dt.datetime:
    """`DATE HH:MM` (a date in any form domain.dates reads) in the schedule's zone, in UTC."""
    words = [str(t) for t in args.rest()]
    if len(words) < 2:
        raise UsageError("Give the new date and time, e.g. `2026-11-26 14:30` or `fri 09:00`.")
    try:
        at = parse_time(words[-1])
    except ValueError as exc:
        raise UsageError(str(exc).capitalize() + ".") from None
    day = parse_date(words[:-1], today=local_today(now, o.timezone))
    new_at = local_to_utc(day, at, o.timezone)
    if new_at <= now:
        raise UsageError(f"{slot_text(new_at, o.timezone)} is in the past; pick a later time.")
    return new_at


async def move(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/1on1 move @agent DATE HH:MM`: the next occurrence only."""
    actor = cmd.actor
    who = await led_person(ctx, actor, args)
    o = await active_with(ctx, actor, who)
    now = ctx.now()
    new_at = _new_time(args, o, now)
    if o.next_at is None:
        raise UserError("This 1:1 has no upcoming occurrence to move.")
    old_at = o.next_at
    if new_at == old_at:
        raise UserError("That is already when the 1:1 is.")
    # The slot it leaves is marked "moved" (for a moved one moved again, its row records
    # that too), so the regular schedule carries on after it and never lands here twice.
    dm = _dm(
        ctx,
        who,
        f"📅 {await _lead_name(ctx, actor)} moved your 1:1 from "
        f"{slot_text(old_at, who.timezone)} to *{slot_text(new_at, who.timezone)}*.",
        dedupe_key=f"1on1:{o.id}:moved:{old_at:%Y%m%dT%H%M}:{new_at:%Y%m%dT%H%M}",
    )
    await store.record_occurrence(
        ctx.db,
        one_on_one_id=o.id or 0,
        scheduled_at=old_at,
        status="moved",
        reason=f"moved to {new_at.isoformat()}",
        at=now,
        next_at=new_at,
        set_next=True,
        messages=[dm],
    )
    text = (
        f"Moved the 1:1 with *{who.display_name}* from {slot_text(old_at, o.timezone)} "
        f"to *{slot_text(new_at, o.timezone)}*. The regular schedule carries on after it."
    )
    return Reply(blocks=[Text(text)], text=text)


async def cancel(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/1on1 cancel @agent`: stop the schedule; history and notes stay."""
    actor = cmd.actor
    who = await led_person(ctx, actor, args)
    o = await active_with(ctx, actor, who)
    args.expect_end()
    dm = _dm(
        ctx,
        who,
        f"{await _lead_name(ctx, actor)} stopped your recurring 1:1s ({cadence_text(o)}).",
        dedupe_key=f"1on1:{o.id}:cancelled",
    )
    await store.cancel(ctx.db, one_on_one_id=o.id or 0, messages=[dm])
    text = f"Cancelled the recurring 1:1s with *{who.display_name}*. Past notes are kept."
    return Reply(blocks=[Text(text)], text=text)


async def done(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/1on1 done @agent [notes]`: the current occurrence was held."""
    who = await led_person(ctx, cmd.actor, args)
    o = await active_with(ctx, cmd.actor, who)
    return await record_done(ctx, cmd.actor, who, o, args.rest_text() or None)


# --- skip --------------------------------------------------------------------------------


async def _skip_missed(
    ctx: HandlerContext,
    who: Person,
    o: OneOnOne,
    slot: dt.datetime,
    reason: str | None,
    now: dt.datetime,
) -> Reply:
    """Record a slot that just went by unrecorded as skipped; the schedule stays."""
    await store.record_occurrence(
        ctx.db,
        one_on_one_id=o.id or 0,
        scheduled_at=slot,
        status="skipped",
        reason=reason,
        at=now,
    )
    text = (
        f"Recorded the 1:1 with *{who.display_name}* on "
        f"{fmt_local(slot, o.timezone)} as skipped" + (f" ({reason})" if reason else "") + "."
    )
    blocks: list[Block] = [Text(text)]
    if o.next_at is not None:
        blocks.append(Context(f"Next: {slot_text(o.next_at, o.timezone)}"))
    return Reply(blocks=blocks, text=text)


async def _skip_next(
    ctx: HandlerContext, who: Person, o: OneOnOne, reason: str | None, now: dt.datetime
) -> Reply:
    """Skip the upcoming occurrence and move the schedule to the slot after it."""
    if o.next_at is None:
        raise UserError("This 1:1 has no upcoming occurrence to skip.")
    slot = o.next_at
    nxt = await following_slot(ctx, o, slot)
    dm = _dm(
        ctx,
        who,
        f"Your 1:1 on {slot_text(slot, who.timezone)} is skipped"
        + (f" ({reason})" if reason else "")
        + f". The next one is {slot_text(nxt, who.timezone)}.",
        dedupe_key=f"1on1:{o.id}:skipped:{slot:%Y%m%dT%H%M}",
    )
    await store.record_occurrence(
        ctx.db,
        one_on_one_id=o.id or 0,
        scheduled_at=slot,
        status="skipped",
        reason=reason,
        at=now,
        next_at=nxt,
        set_next=True,
        messages=[dm],
    )
    text = (
        f"Skipped the 1:1 with *{who.display_name}* on {fmt_local(slot, o.timezone)}. "
        f"Next: *{slot_text(nxt, o.timezone)}*."
    )
    return Reply(blocks=[Text(text)], text=text)


async def skip(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/1on1 skip @agent [reason]`: the next occurrence, or one that just went by."""
    who = await led_person(ctx, cmd.actor, args)
    o = await active_with(ctx, cmd.actor, who)
    reason = args.rest_text() or None
    if reason is not None and len(reason) > REASON_MAX:
        raise UsageError(f"Keep the reason under {REASON_MAX} characters.")
    now = ctx.now()
    current, is_next = await current_slot(ctx, o)
    if current is not None and not is_next and current >= now - MISSED_WINDOW:
        # One that just went by unrecorded: that is the one they mean (`/1on1 skip @x sick`).
        return await _skip_missed(ctx, who, o, current, reason, now)
    return await _skip_next(ctx, who, o, reason, now)


# --- prep, agenda ------------------------------------------------------------------------


async def prep(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/1on1 prep @agent`: the prep card, with or without a schedule."""
    actor = cmd.actor
    who = await led_person(ctx, actor, args)
    args.expect_end()
    o = await schedule_with(ctx, actor, who)
    lead_id = o.lead_id if o is not None else actor.person_id
    blocks = await prep_card(ctx, lead_id=lead_id, agent=who, o=o, viewer_tz=actor.timezone)
    return Reply(blocks=blocks, text=f"1:1 prep for {who.display_name}")


async def _agenda_target(ctx: HandlerContext, actor: Actor, other: Person | None) -> OneOnOne:
    """The 1:1 a point goes to: the actor's with whoever holds it now (that person when
    named), else, for a lead naming someone they lead, theirs with that person."""
    mine = await store.list_active(ctx.db, agent_id=actor.person_id)
    holders = await acting_leads(ctx, mine)
    candidates = [o for o in mine if holders.get(o.id or 0) is not None]
    if other is not None:
        candidates = [o for o in candidates if (h := holders.get(o.id or 0)) and h.id == other.id]
        if not candidates and await may_act_on(ctx, actor, other):
            theirs = await schedule_with(ctx, actor, other)
            candidates = [theirs] if theirs else []
    if not candidates:
        raise NotFound(
            "You have no 1:1 scheduled"
            + (f" with {other.display_name}" if other else "")
            + " to add this to."
        )
    return candidates[0]


async def agenda(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    """`/1on1 agenda [@person] TEXT`: a point for the next 1:1's prep card."""
    actor = cmd.actor
    other: Person | None = None
    if isinstance(args.peek(), Mention):
        other = await roster_person(ctx, args.take_mention())
    text = args.rest_text()
    if not text:
        raise UsageError("Say what you'd like to talk about, e.g. `/1on1 agenda my schedule`.")
    if len(text) > AGENDA_MAX:
        raise UsageError(f"Keep an agenda point under {AGENDA_MAX} characters.")
    o = await _agenda_target(ctx, actor, other)
    await store.add_agenda(
        ctx.db, one_on_one_id=o.id or 0, author_id=actor.person_id, text=text, at=ctx.now()
    )
    when = f" on {slot_text(o.next_at, actor.timezone)}" if o.next_at else ""
    reply_text = f"Added to your next 1:1{when}: “{text}”"
    return Reply(blocks=[Text(reply_text)], text=reply_text)
