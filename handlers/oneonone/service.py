"""Operations on a schedule that the commands, the buttons and the 1:1 sweep share: who
holds 1:1s with whom, which occurrence is meant, recording one as held, and the slot
that follows."""

from __future__ import annotations

import datetime as dt

from domain.errors import NotAllowed, NotFound, UsageError, UserError
from domain.localtime import fmt_local
from domain.parsing import Args
from domain.roles import Role
from domain.types import Actor, Block, Context, Mention, Reply, Text
from handlers.core.access import visible_team_ids
from handlers.core.context import HandlerContext
from handlers.oneonone.schedule import next_slot, slot_text
from storage import oneonones as store
from storage import people
from storage.models import OneOnOne, Person

NOTES_MAX = 4000


async def roster_person(ctx: HandlerContext, m: Mention) -> Person:
    """The active person a mention names; NotFound otherwise."""
    p = await people.get_person(ctx.db, person_id=m.person_id)
    if p is None or not p.active:
        raise NotFound(f"I can't find {m.name} on the roster.")
    return p


async def require_leads(ctx: HandlerContext, actor: Actor, person: Person) -> None:
    """A lead holds 1:1s with people in their team; a manager with people in their teams."""
    if actor.role not in (Role.lead, Role.manager):
        raise NotAllowed("Only leads and managers schedule and run 1:1s.")
    if person.id == actor.person_id:
        raise UserError("A 1:1 needs two people; pick someone from your team.")
    teams = await visible_team_ids(ctx, actor)
    if person.team_id is None or person.team_id not in teams:
        raise NotAllowed(f"{person.display_name} isn't in a team of yours.")


async def led_person(ctx: HandlerContext, actor: Actor, args: Args) -> Person:
    """The `@person` a lead's sub-command starts with, once the actor may hold 1:1s with them."""
    who = await roster_person(ctx, args.take_mention())
    await require_leads(ctx, actor, who)
    return who


async def active_with(ctx: HandlerContext, actor: Actor, person: Person) -> OneOnOne:
    """The actor's active schedule with `person` as the lead; NotFound with a hint otherwise."""
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
    extra = slot is None
    if slot is None:
        slot = now
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
    what = "an extra 1:1" if extra else f"the 1:1 of {fmt_local(slot, o.timezone)}"
    text = f"Recorded {what} with *{who.display_name}* as held" + (
        " with your notes." if notes else "."
    )
    blocks: list[Block] = [Text(text)]
    if nxt is not None:
        blocks.append(Context(f"Next: {slot_text(nxt, o.timezone)}"))
    if not notes:
        blocks.append(
            Context("Tip: `/1on1 done @name NOTES` keeps notes for next time's prep card.")
        )
    return Reply(blocks=blocks, text=text)
