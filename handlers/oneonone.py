"""`/1on1`: recurring one-on-ones (scheduled in the lead's zone), moves, skips, notes,
agenda points, and the prep card. Pulse answers never appear here: they are anonymous."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from domain.dates import parse_date
from domain.errors import NotAllowed, NotFound, UsageError, UserError
from domain.fmt import DASH, fmt_delta, fmt_goal, fmt_value, goal_met, sparkline
from domain.localtime import local_to_utc, zone
from domain.parsing import Args
from domain.roles import Role
from domain.shifts import DAY_NAMES, parse_time, parse_weekday
from domain.types import (
    Action,
    Actor,
    Block,
    Button,
    Buttons,
    Command,
    Context,
    Form,
    FormField,
    Header,
    Mention,
    Reply,
    Table,
    Text,
)
from handlers.actions import create_button
from handlers.core import notify
from handlers.core.access import visible_team_ids
from handlers.core.context import ActionSpec, CommandSpec, HandlerContext
from storage import kudos as kudos_store
from storage import oneonones as store
from storage import people
from storage.models import OneOnOne, Person

NOTES_MAX = 4000
AGENDA_MAX = 500
DEFAULT_PREP_DAYS = 30
MISSED_WINDOW = dt.timedelta(days=2)  # `skip` after the fact: a slot this recent
DEFAULT_METRICS = ("csat", "fcr", "aht", "qa_score", "adherence")
_DURATION_RE = re.compile(r"^(?:(\d{1,2})h)?(?:(\d{1,3})m?)?$")


# --- the schedule's arithmetic (pure) --------------------------------------------------------


def _zone_name(name: str) -> str:
    try:
        return zone(name).key
    except ValueError:
        return "UTC"


def anchor_day(o: OneOnOne) -> dt.date:
    """The local day of the series' first slot: the first matching weekday and time after
    the moment it was scheduled."""
    z = zone(_zone_name(o.timezone))
    at = parse_time(o.local_time)
    day = o.created_at.astimezone(z).date()
    for _ in range(8):
        if day.weekday() == o.weekday and local_to_utc(day, at, z) > o.created_at:
            return day
        day += dt.timedelta(days=1)
    return day


def first_slot(created_at: dt.datetime, weekday: int, local_time: str, tz: str) -> dt.datetime:
    """The first slot of a new schedule (UTC)."""
    o = OneOnOne(
        lead_id=0,
        agent_id=0,
        weekday=weekday,
        local_time=local_time,
        timezone=tz,
        created_at=created_at,
    )
    return local_to_utc(anchor_day(o), parse_time(local_time), zone(_zone_name(tz)))


def slot_at(o: OneOnOne, k: int) -> dt.datetime:
    """The k-th regular slot (UTC): same wall-clock time in the schedule's zone, DST or not."""
    day = anchor_day(o) + dt.timedelta(weeks=o.cadence_weeks * k)
    return local_to_utc(day, parse_time(o.local_time), zone(_zone_name(o.timezone)))


def next_slot(o: OneOnOne, after: dt.datetime, taken: Iterable[dt.datetime] = ()) -> dt.datetime:
    """The first regular slot strictly after `after` that nothing happened to yet."""
    skip = set(taken)
    z = zone(_zone_name(o.timezone))
    step = 7 * o.cadence_weeks
    start = anchor_day(o)
    k = max(0, (after.astimezone(z).date() - start).days // step - 1)
    for _ in range(200):
        t = slot_at(o, k)
        if t > after and t not in skip:
            return t
        k += 1
    raise AssertionError("no slot found")  # pragma: no cover


def is_regular(o: OneOnOne, t: dt.datetime) -> bool:
    """True when `t` is one of the series' regular slots (not a moved time)."""
    z = zone(_zone_name(o.timezone))
    days = (t.astimezone(z).date() - anchor_day(o)).days
    if days < 0 or days % (7 * o.cadence_weeks):
        return False
    return slot_at(o, days // (7 * o.cadence_weeks)) == t


def fmt_local(t: dt.datetime, tz: str, *, zone_label: bool = True) -> str:
    """`Tue 24 Nov 10:00 (Europe/London)` in the given zone."""
    name = _zone_name(tz)
    text = f"{t.astimezone(zone(name)):%a %d %b %H:%M}"
    return f"{text} ({name})" if zone_label else text


def parse_duration(text: str) -> int:
    """`30m`, `45`, `1h`, `1h30m` into minutes (5 to 240)."""
    m = _DURATION_RE.match(text.strip().lower())
    if not m or not (m.group(1) or m.group(2)):
        raise UsageError(f"{text!r} is not a duration (use e.g. 30m, 45m or 1h).")
    minutes = int(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    if not 5 <= minutes <= 240:
        raise UsageError("A 1:1 lasts between 5 minutes and 4 hours.")
    return minutes


def cadence_text(o: OneOnOne) -> str:
    every = "every week" if o.cadence_weeks == 1 else f"every {o.cadence_weeks} weeks"
    return f"{every}, {DAY_NAMES[o.weekday].capitalize()} {o.local_time} ({o.timezone})"


# --- who may do what -------------------------------------------------------------------------


async def _person(ctx: HandlerContext, m: Mention) -> Person:
    p = await people.get_person(ctx.db, person_id=m.person_id)
    if p is None or not p.active:
        raise NotFound(f"I can't find {m.name} on the roster.")
    return p


async def _require_leads(ctx: HandlerContext, actor: Actor, person: Person) -> None:
    """A lead holds 1:1s with people in their team; a manager with people in their teams."""
    if actor.role not in (Role.lead, Role.manager):
        raise NotAllowed("Only leads and managers schedule and run 1:1s.")
    if person.id == actor.person_id:
        raise UserError("A 1:1 needs two people; pick someone from your team.")
    teams = await visible_team_ids(ctx, actor)
    if person.team_id is None or person.team_id not in teams:
        raise NotAllowed(f"{person.display_name} isn't in a team of yours.")


async def _active(ctx: HandlerContext, actor: Actor, person: Person) -> OneOnOne:
    o = await store.active_for(ctx.db, lead_id=actor.person_id, agent_id=person.id or 0)
    if o is None:
        raise NotFound(
            f"You have no 1:1 scheduled with {person.display_name}. "
            f"Start one with `/1on1 schedule @{person.email.split('@')[0]} "
            "every 2 weeks tue 10:00`."
        )
    return o


async def _taken(ctx: HandlerContext, o: OneOnOne, since: dt.datetime) -> set[dt.datetime]:
    rows = await store.occurrences(ctx.db, one_on_one_ids=[o.id or 0], since=since)
    return {r.scheduled_at for r in rows}


async def following_slot(ctx: HandlerContext, o: OneOnOne, current: dt.datetime) -> dt.datetime:
    """The next regular slot after the current occurrence (a moved one counts from the
    slot it replaced, which is marked as taken)."""
    since = current - dt.timedelta(weeks=2 * o.cadence_weeks + 1)
    taken = await _taken(ctx, o, since) | {current}
    return next_slot(o, current, taken)


# --- /1on1 -------------------------------------------------------------------------------------


async def oneonone(cmd: Command, ctx: HandlerContext) -> Reply:
    args = Args(cmd.args)
    sub = args.take_if(
        "schedule", "list", "move", "cancel", "done", "skip", "prep", "agenda", "next"
    )
    if sub is None:
        if args:
            raise UsageError(f"I don't know `/1on1 {args.rest_text()}`.")
        sub = "list"
    actor = cmd.actor
    if sub == "list" or sub == "next":
        args.expect_end()
        return await _list(actor, ctx)
    if sub == "agenda":
        return await _agenda(actor, args, ctx)
    who = await _person(ctx, args.take_mention())
    await _require_leads(ctx, actor, who)
    if sub == "schedule":
        return await _schedule(actor, who, args, ctx)
    if sub == "prep":
        args.expect_end()
        o = await store.active_for(ctx.db, lead_id=actor.person_id, agent_id=who.id or 0)
        blocks = await prep_card(
            ctx, lead_id=actor.person_id, agent=who, o=o, viewer_tz=actor.timezone
        )
        return Reply(blocks=blocks, text=f"1:1 prep for {who.display_name}")
    o = await _active(ctx, actor, who)
    if sub == "move":
        return await _move(actor, who, o, args, ctx)
    if sub == "cancel":
        args.expect_end()
        return await _cancel(actor, who, o, ctx)
    if sub == "done":
        notes = args.rest_text() or None
        return await record_done(ctx, actor, who, o, notes)
    reason = args.rest_text() or None
    return await _skip(actor, who, o, reason, ctx)


async def _schedule(actor: Actor, who: Person, args: Args, ctx: HandlerContext) -> Reply:
    if args.take_if("every") is None:
        raise UsageError("Say how often, e.g. `every 2 weeks`.")
    n_word = args.take_word("a number of weeks")
    if n_word.lower() in ("week", "weeks"):
        cadence = 1
    else:
        if not n_word.isdigit():
            raise UsageError(f"{n_word!r} is not a number of weeks.")
        cadence = int(n_word)
        if args.take_if("week", "weeks") is None:
            raise UsageError("Say `weeks` after the number, e.g. `every 2 weeks`.")
    if not 1 <= cadence <= 12:
        raise UsageError("The cadence is between 1 and 12 weeks.")
    try:
        weekday = parse_weekday(args.take_word("a weekday (mon ... sun)"))
        at = parse_time(args.take_word("a time (HH:MM)"))
    except ValueError as exc:
        raise UsageError(str(exc).capitalize() + ".") from None
    duration = 30
    if args.take_if("duration", "for") is not None:
        duration = parse_duration(args.take_word("a duration (e.g. 30m)"))
    args.expect_end()
    tz = _zone_name(actor.timezone)
    now = ctx.now()
    local_time = f"{at:%H:%M}"
    nxt = first_slot(now, weekday, local_time, tz)
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
    )
    lead = await people.get_person(ctx.db, person_id=actor.person_id)
    lead_name = lead.display_name if lead else actor.name
    dm_text = (
        f"📅 {lead_name} {'changed your' if replaced else 'set up a'} 1:1 {cadence_text(o)}. "
        f"The first is on *{fmt_local(nxt, who.timezone)}* your time."
    )
    dm = Reply(
        blocks=[
            Text(dm_text),
            Context("Add points to talk about with `/1on1 agenda TEXT`; they go on the prep card."),
        ],
        text=dm_text,
    )
    await notify.notify_person(ctx, who, dm, dedupe_key=f"1on1:{o.id}:scheduled")
    text = (
        f"{'Rescheduled' if replaced else 'Scheduled'} 1:1s with *{who.display_name}* "
        f"{cadence_text(o)}, {duration} min. First: *{fmt_local(nxt, tz)}*"
    )
    blocks: list[Block] = [Text(text)]
    if _zone_name(who.timezone) != tz:
        blocks.append(Context(f"For {who.display_name} that is {fmt_local(nxt, who.timezone)}."))
    blocks.append(Context("Both of you get a reminder the working day before and shortly before."))
    return Reply(blocks=blocks, text=text)


async def _list(actor: Actor, ctx: HandlerContext) -> Reply:
    now = ctx.now()
    tz = _zone_name(actor.timezone)
    mine_as_lead = await store.list_active(ctx.db, lead_ids=[actor.person_id])
    mine_as_agent = await store.list_active(ctx.db, agent_id=actor.person_id)
    ids = {o.agent_id for o in mine_as_lead} | {o.lead_id for o in mine_as_agent}
    names = await people.get_people(ctx.db, person_ids=list(ids))
    blocks: list[Block] = [Header("Your 1:1s")]
    if mine_as_lead:
        dealt = await store.last_dealt(ctx.db, one_on_one_ids=[o.id or 0 for o in mine_as_lead])
        held = await store.occurrences(
            ctx.db, one_on_one_ids=[o.id or 0 for o in mine_as_lead], statuses=["held"]
        )
        last_held: dict[int, dt.datetime] = {}
        for h in held:
            last_held.setdefault(h.one_on_one_id, h.scheduled_at)
        rows = []
        lapsed = 0
        for o in mine_as_lead:
            p = names.get(o.agent_id)
            lh = last_held.get(o.id or 0)
            state = lapse_state(o, dealt.get(o.id or 0), now)
            lapsed += state != "ok"
            rows.append(
                (
                    p.display_name if p else "(removed)",
                    fmt_local(o.next_at, tz, zone_label=False) if o.next_at else "-",
                    f"{o.cadence_weeks} wk",
                    f"{lh.astimezone(zone(tz)):%d %b}" if lh else "never",
                    {"ok": "on track", "late": "overdue", "lapsed": "lapsed"}[state],
                )
            )
        blocks.append(Table(("with", "next", "every", "last held", "status"), tuple(rows)))
        blocks.append(Context(f"Times in {tz}. `/1on1 prep @name` for a prep card."))
        if lapsed:
            blocks.append(Text(f"⚠️ {lapsed} 1:1 cadence(s) overdue: hold or skip them to reset."))
    if mine_as_agent:
        agenda = await store.pending_agenda(
            ctx.db, one_on_one_ids=[o.id or 0 for o in mine_as_agent]
        )
        rows2 = []
        for o in mine_as_agent:
            p = names.get(o.lead_id)
            n = sum(1 for a in agenda if a.one_on_one_id == o.id)
            rows2.append(
                (
                    p.display_name if p else "(removed)",
                    fmt_local(o.next_at, tz, zone_label=False) if o.next_at else "-",
                    f"{o.cadence_weeks} wk",
                    str(n),
                )
            )
        blocks.append(Text("*With your lead*" if mine_as_lead else "*Your next 1:1s*"))
        blocks.append(Table(("with", "next", "every", "agenda points"), tuple(rows2)))
        blocks.append(Context("Add a point: `/1on1 agenda TEXT`"))
    if actor.role is Role.manager:
        blocks.extend(await _teams_overview(actor, ctx, now))
    if len(blocks) == 1:
        if actor.role in (Role.lead, Role.manager):
            hint = "No 1:1s yet. Start one: `/1on1 schedule @name every 2 weeks tue 10:00`."
        else:
            hint = "You have no 1:1s scheduled yet; your lead sets them up."
        blocks.append(Text(hint))
    total = len(mine_as_lead) + len(mine_as_agent)
    return Reply(blocks=blocks, text=f"You have {total} 1:1 schedule(s).")


async def _teams_overview(actor: Actor, ctx: HandlerContext, now: dt.datetime) -> list[Block]:
    """For a manager: how each lead under them keeps up their 1:1s."""
    teams = await people.teams_managed_by(ctx.db, person_id=actor.person_id)
    leads = {t.lead_id: t for t in teams if t.lead_id and t.lead_id != actor.person_id}
    if not leads:
        return []
    active = await store.list_active(ctx.db, lead_ids=list(leads))
    dealt = await store.last_dealt(ctx.db, one_on_one_ids=[o.id or 0 for o in active])
    names = await people.get_people(ctx.db, person_ids=list(leads))
    rows = []
    for lead_id, team in sorted(leads.items(), key=lambda kv: kv[1].name):
        mine = [o for o in active if o.lead_id == lead_id]
        states = [lapse_state(o, dealt.get(o.id or 0), now) for o in mine]
        agents = await kudos_store.team_agents(ctx.db, team_id=team.id or 0)
        covered = {o.agent_id for o in mine}
        lead = names.get(lead_id)
        rows.append(
            (
                team.name,
                lead.display_name if lead else "-",
                f"{len(covered & {a.id for a in agents})}/{len(agents)}",
                str(states.count("late")),
                str(states.count("lapsed")),
            )
        )
    return [
        Text("*Across your teams*"),
        Table(
            ("team", "lead", "agents with 1:1s", "overdue", "lapsed"),
            tuple(rows),
            ("l", "l", "r", "r", "r"),
        ),
    ]


def lapse_state(o: OneOnOne, last_dealt: dt.datetime | None, now: dt.datetime) -> str:
    """ok / late (more than one cadence overdue) / lapsed (more than two)."""
    due = due_since(o, last_dealt)
    cadence = dt.timedelta(weeks=o.cadence_weeks)
    if now - due > 2 * cadence:
        return "lapsed"
    if now - due > cadence:
        return "late"
    return "ok"


def due_since(o: OneOnOne, last_dealt: dt.datetime | None) -> dt.datetime:
    """When the next 1:1 was due: a cadence after the last held/skipped one, else the
    schedule's first slot."""
    first = slot_at(o, 0)
    if last_dealt is None or last_dealt < first:
        return first
    return last_dealt + dt.timedelta(weeks=o.cadence_weeks)


async def _move(actor: Actor, who: Person, o: OneOnOne, args: Args, ctx: HandlerContext) -> Reply:
    now = ctx.now()
    tz = _zone_name(o.timezone)
    words = [str(t) for t in args.rest()]
    if len(words) < 2:
        raise UsageError("Give the new date and time, e.g. `2026-11-26 14:30` or `fri 09:00`.")
    try:
        at = parse_time(words[-1])
    except ValueError as exc:
        raise UsageError(str(exc).capitalize() + ".") from None
    day = parse_date(words[:-1], today=now.astimezone(zone(tz)).date())
    new_at = local_to_utc(day, at, tz)
    if new_at <= now:
        raise UsageError(f"{fmt_local(new_at, tz)} is in the past; pick a later time.")
    if o.next_at is None:
        raise UserError("This 1:1 has no upcoming occurrence to move.")
    old_at = o.next_at
    if new_at == old_at:
        raise UserError("That is already when the 1:1 is.")
    # The slot it leaves is marked "moved" (for a moved one moved again, its row records
    # that too), so the regular schedule carries on after it and never lands here twice.
    await store.record_occurrence(
        ctx.db,
        one_on_one_id=o.id or 0,
        scheduled_at=old_at,
        status="moved",
        reason=f"moved to {new_at.isoformat()}",
        at=now,
        next_at=new_at,
        set_next=True,
    )
    lead = await people.get_person(ctx.db, person_id=actor.person_id)
    dm_text = (
        f"📅 {lead.display_name if lead else actor.name} moved your 1:1 from "
        f"{fmt_local(old_at, who.timezone)} to *{fmt_local(new_at, who.timezone)}*."
    )
    await notify.notify_person(
        ctx,
        who,
        Reply(blocks=[Text(dm_text)], text=dm_text),
        dedupe_key=f"1on1:{o.id}:moved:{old_at:%Y%m%dT%H%M}:{new_at:%Y%m%dT%H%M}",
    )
    text = (
        f"Moved the 1:1 with *{who.display_name}* from {fmt_local(old_at, tz)} "
        f"to *{fmt_local(new_at, tz)}*. The regular schedule carries on after it."
    )
    return Reply(blocks=[Text(text)], text=text)


async def _cancel(actor: Actor, who: Person, o: OneOnOne, ctx: HandlerContext) -> Reply:
    await store.cancel(ctx.db, one_on_one_id=o.id or 0)
    lead = await people.get_person(ctx.db, person_id=actor.person_id)
    dm_text = (
        f"{lead.display_name if lead else actor.name} stopped your recurring 1:1s "
        f"({cadence_text(o)})."
    )
    await notify.notify_person(
        ctx, who, Reply(blocks=[Text(dm_text)], text=dm_text), dedupe_key=f"1on1:{o.id}:cancelled"
    )
    text = f"Cancelled the recurring 1:1s with *{who.display_name}*. Past notes are kept."
    return Reply(blocks=[Text(text)], text=text)


async def current_slot(ctx: HandlerContext, o: OneOnOne) -> tuple[dt.datetime | None, bool]:
    """The occurrence `done` refers to: (slot, whether it is `next_at`).

    The upcoming one when it is today or has begun; else the latest slot that passed with
    nothing recorded (in the last two cadences); else None (an extra 1:1).
    """
    now = ctx.now()
    if o.next_at is not None and o.next_at <= now + dt.timedelta(hours=12):
        return o.next_at, True
    since = now - dt.timedelta(weeks=2 * o.cadence_weeks)
    open_rows = await store.occurrences(
        ctx.db, one_on_one_ids=[o.id or 0], statuses=["scheduled"], since=since, limit=1
    )
    if open_rows:
        return open_rows[0].scheduled_at, False
    return None, False


async def record_done(
    ctx: HandlerContext, actor: Actor, who: Person, o: OneOnOne, notes: str | None
) -> Reply:
    """Mark the current 1:1 held (with notes) and move the schedule on."""
    if notes is not None and len(notes) > NOTES_MAX:
        raise UsageError(f"Notes can be {NOTES_MAX} characters at most ({len(notes)} now).")
    now = ctx.now()
    slot, is_next = await current_slot(ctx, o)
    tz = _zone_name(o.timezone)
    if slot is None:
        slot = now
        extra = True
    else:
        extra = False
    nxt = await following_slot(ctx, o, slot) if is_next else o.next_at
    await store.record_occurrence(
        ctx.db,
        one_on_one_id=o.id or 0,
        scheduled_at=slot,
        status="held",
        notes=notes,
        at=now,
        next_at=nxt,
        set_next=is_next,
    )
    what = "an extra 1:1" if extra else f"the 1:1 of {fmt_local(slot, tz, zone_label=False)}"
    text = f"Recorded {what} with *{who.display_name}* as held" + (
        " with your notes." if notes else "."
    )
    blocks: list[Block] = [Text(text)]
    if nxt is not None:
        blocks.append(Context(f"Next: {fmt_local(nxt, tz)}"))
    if not notes:
        blocks.append(
            Context("Tip: `/1on1 done @name NOTES` keeps notes for next time's prep card.")
        )
    return Reply(blocks=blocks, text=text)


async def _skip(
    actor: Actor, who: Person, o: OneOnOne, reason: str | None, ctx: HandlerContext
) -> Reply:
    if reason is not None and len(reason) > 500:
        raise UsageError("Keep the reason under 500 characters.")
    now = ctx.now()
    tz = _zone_name(o.timezone)
    current, is_next = await current_slot(ctx, o)
    if current is not None and not is_next and current >= now - MISSED_WINDOW:
        # One that just went by unrecorded: that is the one they mean (`/1on1 skip @x sick`).
        await store.record_occurrence(
            ctx.db,
            one_on_one_id=o.id or 0,
            scheduled_at=current,
            status="skipped",
            reason=reason,
            at=now,
        )
        text = (
            f"Recorded the 1:1 with *{who.display_name}* on "
            f"{fmt_local(current, tz, zone_label=False)} as skipped"
            + (f" ({reason})" if reason else "")
            + "."
        )
        blocks: list[Block] = [Text(text)]
        if o.next_at is not None:
            blocks.append(Context(f"Next: {fmt_local(o.next_at, tz)}"))
        return Reply(blocks=blocks, text=text)
    if o.next_at is None:
        raise UserError("This 1:1 has no upcoming occurrence to skip.")
    slot = o.next_at
    nxt = await following_slot(ctx, o, slot)
    await store.record_occurrence(
        ctx.db,
        one_on_one_id=o.id or 0,
        scheduled_at=slot,
        status="skipped",
        reason=reason,
        at=now,
        next_at=nxt,
        set_next=True,
    )
    dm_text = (
        f"Your 1:1 on {fmt_local(slot, who.timezone)} is skipped"
        + (f" ({reason})" if reason else "")
        + f". The next one is {fmt_local(nxt, who.timezone)}."
    )
    await notify.notify_person(
        ctx,
        who,
        Reply(blocks=[Text(dm_text)], text=dm_text),
        dedupe_key=f"1on1:{o.id}:skipped:{slot:%Y%m%dT%H%M}",
    )
    text = (
        f"Skipped the 1:1 with *{who.display_name}* on {fmt_local(slot, tz, zone_label=False)}. "
        f"Next: *{fmt_local(nxt, tz)}*."
    )
    return Reply(blocks=[Text(text)], text=text)


async def _agenda(actor: Actor, args: Args, ctx: HandlerContext) -> Reply:
    other: Person | None = None
    if isinstance(args.peek(), Mention):
        other = await _person(ctx, args.take_mention())
    text = args.rest_text()
    if not text:
        raise UsageError("Say what you'd like to talk about, e.g. `/1on1 agenda my schedule`.")
    if len(text) > AGENDA_MAX:
        raise UsageError(f"Keep an agenda point under {AGENDA_MAX} characters.")
    candidates = await store.list_active(ctx.db, agent_id=actor.person_id)
    if other is not None:
        candidates = [o for o in candidates if o.lead_id == other.id]
        if not candidates:
            mine = await store.active_for(ctx.db, lead_id=actor.person_id, agent_id=other.id or 0)
            candidates = [mine] if mine else []
    if not candidates:
        raise NotFound(
            "You have no 1:1 scheduled"
            + (f" with {other.display_name}" if other else "")
            + " to add this to."
        )
    o = candidates[0]
    await store.add_agenda(
        ctx.db, one_on_one_id=o.id or 0, author_id=actor.person_id, text=text, at=ctx.now()
    )
    when = f" on {fmt_local(o.next_at, actor.timezone)}" if o.next_at else ""
    reply_text = f"Added to your next 1:1{when}: “{text}”"
    return Reply(blocks=[Text(reply_text)], text=reply_text)


# --- the prep card -----------------------------------------------------------------------------


async def prep_card(
    ctx: HandlerContext,
    *,
    lead_id: int,
    agent: Person,
    o: OneOnOne | None,
    viewer_tz: str,
) -> list[Block]:
    """KPIs vs goals since the last 1:1 with trends, action items, kudos, the last notes and
    the agenda. Never anything from pulse surveys."""
    now = ctx.now()
    tz = _zone_name(viewer_tz)
    data = await store.load_prep(
        ctx.db,
        lead_id=lead_id,
        agent=agent,
        one_on_one_id=o.id if o is not None else None,
        now=now,
        default_days=DEFAULT_PREP_DAYS,
        default_metrics=DEFAULT_METRICS,
    )
    last = data.last_held
    since_label = (
        f"since the last 1:1 ({last.scheduled_at.astimezone(zone(tz)):%d %b})"
        if last
        else f"last {DEFAULT_PREP_DAYS} days (no 1:1 held yet)"
    )
    blocks: list[Block] = [Header(f"1:1 prep: {agent.display_name}")]
    if o is not None and o.next_at is not None:
        blocks.append(Context(f"Next 1:1: {fmt_local(o.next_at, tz)} · {cadence_text(o)}"))

    # KPIs vs the team's goals
    rows = []
    for f in data.figures:
        if f.value is None and f.previous is None:
            continue
        unit = f.metric.unit
        g = data.goals.get(f.metric.key)
        if g is not None:
            ok = goal_met(g.op, g.target, f.value)
            goal_text = fmt_goal(unit, g.op, g.target)
            status = "" if ok is None else ("✓ on target" if ok else "✗ off target")
        else:
            goal_text, status = DASH, ""
        change = None if f.value is None or f.previous is None else f.value - f.previous
        rows.append(
            (
                f.metric.name,
                fmt_value(unit, f.value),
                goal_text,
                status,
                fmt_delta(unit, change, higher_is_better=f.metric.higher_is_better),
                sparkline(f.daily[-14:]),
            )
        )
    blocks.append(Text(f"*KPIs {since_label}*"))
    if rows:
        blocks.append(
            Table(
                ("metric", "value", "goal", "", "vs before", "last 14 days"),
                tuple(rows),
                ("l", "r", "l", "l", "r", "l"),
            )
        )
    else:
        blocks.append(Context("No KPI data for this period."))

    # action items
    open_items, closed = data.open_items, data.closed_items
    agent_today = now.astimezone(zone(_zone_name(agent.timezone))).date()
    blocks.append(Text(f"*Action items* ({len(open_items)} open, {len(closed)} closed recently)"))
    if open_items or closed:
        arows = []
        for a in open_items:
            due = f"{a.due_date:%d %b}" if a.due_date else "-"
            overdue = a.due_date is not None and a.due_date < agent_today
            arows.append(
                (a.title[:70], a.status.value.replace("_", " "), due + (" ⚠️" if overdue else ""))
            )
        for a in closed:
            when = f"{a.closed_at.astimezone(zone(tz)):%d %b}" if a.closed_at else "-"
            arows.append((a.title[:70], a.status.value, f"closed {when}"))
        blocks.append(Table(("item", "status", "due"), tuple(arows)))

    # kudos
    received = data.kudos
    if received:
        lines = []
        for r in received[:3]:
            g_ = data.names.get(r.giver_id or 0)
            lines.append(f"• {g_.display_name if g_ else 'leadbot'}: “{r.message[:100]}”")
        blocks.append(Text(f"*Kudos received: {len(received)}*\n" + "\n".join(lines)))
    else:
        blocks.append(Text("*Kudos received: 0*. Anything worth recognising?"))

    # last notes and agenda
    if last is not None:
        notes = last.notes or "(no notes recorded)"
        blocks.append(Text(f"*Notes from {last.scheduled_at.astimezone(zone(tz)):%d %b}*\n{notes}"))
    if data.agenda:
        blocks.append(
            Text(
                "*Agenda*\n"
                + "\n".join(f"• {a.text} ({_name(data.names, a.author_id)})" for a in data.agenda)
            )
        )
    else:
        blocks.append(Text("*Agenda*: nothing added yet."))

    buttons = [action_item_button(agent, o)]
    if o is not None:
        buttons.append(
            Button(
                "Record as held",
                "oneonone.done",
                str(o.id),
                form=Form(
                    title="1:1 notes",
                    action_id="oneonone.done",
                    value=str(o.id),
                    fields=(
                        FormField(
                            "notes",
                            "Notes (kept for the next prep card)",
                            multiline=True,
                            max_length=NOTES_MAX,
                        ),
                    ),
                    submit_label="Save",
                ),
            )
        )
    blocks.append(Buttons(tuple(buttons)))
    blocks.append(Context("Pulse survey answers are anonymous and never shown on a prep card."))
    return blocks


def _name(by_id: dict[int, Person], pid: int | None) -> str:
    p = by_id.get(pid or 0)
    return p.display_name if p else "?"


def action_item_button(agent: Person, o: OneOnOne | None) -> Button:
    """The action item form's button (handlers.actions), tied to this 1:1 when there is one."""
    if o is not None and o.id is not None:
        return create_button(source="one_on_one", source_ref=str(o.id), owner_id=agent.id or 0)
    return create_button(source="meeting", source_ref="1on1-prep", owner_id=agent.id or 0)


# --- buttons ---------------------------------------------------------------------------------


async def on_action(action: Action, ctx: HandlerContext) -> Reply:
    """`oneonone.prep` (show the card) and `oneonone.done` (record as held, with notes)."""
    verb = action.action_id.rsplit(".", 1)[-1]
    if verb not in ("prep", "done") or not action.value.isdigit():
        raise UserError("That button is no longer valid.")
    o = await store.get(ctx.db, one_on_one_id=int(action.value))
    if o is None or not o.active or o.lead_id != action.actor.person_id:
        raise NotAllowed("That 1:1 isn't one of yours (or it was cancelled).")
    agent = await people.get_person(ctx.db, person_id=o.agent_id)
    if agent is None:
        raise UserError("That person is no longer on the roster.")
    if verb == "prep":
        blocks = await prep_card(
            ctx, lead_id=o.lead_id, agent=agent, o=o, viewer_tz=action.actor.timezone
        )
        return Reply(blocks=blocks, text=f"1:1 prep for {agent.display_name}")
    notes = (action.form.get("notes") or "").strip() or None
    if notes is not None and len(notes) > NOTES_MAX:
        return Reply(errors={"notes": f"At most {NOTES_MAX} characters."}, ok=False)
    return await record_done(ctx, action.actor, agent, o, notes)


# --- App Home ---------------------------------------------------------------------------------


async def home_section(actor: Actor, ctx: HandlerContext) -> list[Block]:
    """Next 1:1s (as agent and as lead) and the latest kudos received."""
    tz = _zone_name(actor.timezone)
    blocks: list[Block] = []
    as_agent = await store.list_active(ctx.db, agent_id=actor.person_id)
    as_lead = await store.list_active(ctx.db, lead_ids=[actor.person_id])
    ids = {o.lead_id for o in as_agent} | {o.agent_id for o in as_lead}
    names = await people.get_people(ctx.db, person_ids=list(ids))
    lines = []
    for o in as_agent:
        if o.next_at is not None:
            p = names.get(o.lead_id)
            lines.append(f"• with {p.display_name if p else '?'}: *{fmt_local(o.next_at, tz)}*")
    upcoming = [o for o in as_lead if o.next_at is not None][:5]
    for o in upcoming:
        assert o.next_at is not None
        p = names.get(o.agent_id)
        lines.append(
            f"• with {p.display_name if p else '?'}: {fmt_local(o.next_at, tz, zone_label=False)}"
        )
    if lines:
        blocks.append(Text("*Your next 1:1s*\n" + "\n".join(lines)))
        if as_agent:
            blocks.append(Context("Add a point to talk about: `/1on1 agenda TEXT`"))
    received = await kudos_store.in_range(ctx.db, person_id=actor.person_id, limit=3)
    if received:
        givers = await people.get_people(
            ctx.db, person_ids=[r.giver_id for r in received if r.giver_id]
        )
        klines = [
            f"• {givers[r.giver_id].display_name if r.giver_id in givers else 'leadbot'}: "
            f"“{r.message[:90]}”"
            for r in received
        ]
        blocks.append(Text("*Latest kudos for you* 🎉\n" + "\n".join(klines)))
    return blocks


COMMAND = CommandSpec(
    verb="1on1",
    summary="Recurring one-on-ones: schedule, move, skip, notes, agenda and prep cards",
    usage=(
        "/1on1 schedule @agent every N weeks WEEKDAY HH:MM [duration 30m]",
        "/1on1 list",
        "/1on1 move @agent DATE HH:MM",
        "/1on1 cancel @agent",
        "/1on1 done @agent [notes]",
        "/1on1 skip @agent [reason]",
        "/1on1 prep @agent",
        "/1on1 agenda TEXT",
    ),
    handler=lambda cmd, _args, ctx: oneonone(cmd, ctx),  # TEMP shim
    examples=(
        "/1on1 schedule @maria.lopez every 2 weeks tue 10:00 duration 30m",
        "/1on1 move @maria.lopez 2026-11-26 14:30",
        "/1on1 done @maria.lopez agreed to shadow Sam on escalations",
        "/1on1 agenda I'd like to talk about the weekend rota",
    ),
)

BUTTONS = ActionSpec(prefix="oneonone", handler=on_action)
