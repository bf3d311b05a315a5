"""Operations on a schedule that the commands, the buttons and the 1:1 sweep share: who
holds 1:1s with whom, which occurrence is meant, recording one as held, and the slot
that follows.

Who holds a schedule is decided now, never by its stored lead alone: the person who set
it up while they still may act on the other person (handlers/core/access.py), else
whoever leads that person now (their team's lead, then its manager), else nobody. So a
lead moved to another team, or demoted, loses the schedules (prep cards, reminders,
buttons sent earlier) of the people they no longer lead, and the new lead inherits them.
"""

from __future__ import annotations

import datetime as dt

from domain.errors import NotAllowed, NotFound, UsageError, UserError
from domain.localtime import fmt_local
from domain.parsing import Args
from domain.roles import Role
from domain.types import Actor, Block, Context, Mention, Reply, Text
from handlers.core.access import Standing, standing, standings_of, team_leaders
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
    """A lead holds 1:1s with the agents of their team; a manager with the agents and leads
    of the teams they manage; nobody with their own manager."""
    if actor.role not in (Role.lead, Role.manager):
        raise NotAllowed("Only leads and managers schedule and run 1:1s.")
    if person.id == actor.person_id:
        raise UserError("A 1:1 needs two people; pick someone from your team.")
    s = await standing(ctx, actor)
    if not s.leads_team(person.team_id):
        raise NotAllowed(f"{person.display_name} isn't in a team of yours.")
    if not s.may_act_on(person):
        raise NotAllowed(s.refusal(person))


async def led_person(ctx: HandlerContext, actor: Actor, args: Args) -> Person:
    """The `@person` a lead's sub-command starts with, once the actor may hold 1:1s with them."""
    who = await roster_person(ctx, args.take_mention())
    await require_leads(ctx, actor, who)
    return who


async def acting_leads(ctx: HandlerContext, schedules: list[OneOnOne]) -> dict[int, Person | None]:
    """Who holds each active schedule now (by its id): its stored lead while they may still
    act on the other person, else that person's current lead (then manager), else None.
    A schedule inherited by someone who has their own with that person is None too (it
    is superseded: the inheritor's own one counts)."""
    if not schedules:
        return {}
    teams = await people.list_teams(ctx.db)
    by_id = await people.get_people(
        ctx.db,
        person_ids=list(
            {o.lead_id for o in schedules}
            | {o.agent_id for o in schedules}
            | {p for t in teams for p in (t.lead_id, t.manager_id) if p is not None}
        ),
    )
    agent_teams = {by_id[o.agent_id].team_id for o in schedules if o.agent_id in by_id}
    leaders = await team_leaders(ctx, [t for t in teams if t.id in agent_teams], by_id)
    for pair in leaders.values():
        by_id.update({p.id: p for p in pair if p is not None and p.id is not None})
    st = standings_of(by_id.values(), teams)
    out: dict[int, Person | None] = {}
    for o in schedules:
        out[o.id or 0] = _holder(o, by_id, st, leaders)
    inherited = [o for o in schedules if (h := out[o.id or 0]) is not None and h.id != o.lead_id]
    if inherited:
        own = {
            (x.lead_id, x.agent_id)
            for x in await store.list_active(ctx.db, agent_ids=[o.agent_id for o in inherited])
        }
        for o in inherited:
            holder = out[o.id or 0]
            if holder is not None and (holder.id, o.agent_id) in own:
                out[o.id or 0] = None
    return out


def _holder(
    o: OneOnOne,
    by_id: dict[int, Person],
    st: dict[int, Standing],
    leaders: dict[int, tuple[Person | None, Person | None]],
) -> Person | None:
    agent = by_id.get(o.agent_id)
    if agent is None or not agent.active:
        return None
    for p in (by_id.get(o.lead_id), *leaders.get(agent.team_id or 0, (None, None))):
        if p is not None and p.id is not None and p.id in st and st[p.id].may_act_on(agent):
            return p
    return None


async def held_by(ctx: HandlerContext, actor: Actor) -> list[OneOnOne]:
    """The active schedules the actor holds now: their own (while they may still act on
    the other person) and those they inherited, soonest first."""
    s = await standing(ctx, actor)
    agent_ids: list[int] = []
    for team_id in sorted(s.teams):
        agent_ids += [
            p.id
            for p in await people.list_people(ctx.db, team_id=team_id)
            if p.id is not None and s.may_act_on(p)
        ]
    mine = await store.list_active(ctx.db, lead_ids=[actor.person_id])
    theirs = await store.list_active(ctx.db, agent_ids=agent_ids)
    found = {o.id: o for o in (*mine, *theirs)}
    holders = await acting_leads(ctx, list(found.values()))
    held = [o for oid, o in found.items() if (h := holders.get(oid or 0)) and h.id == s.person_id]
    return sorted(held, key=lambda o: (o.next_at is None, o.next_at or o.created_at, o.id or 0))


async def schedule_with(ctx: HandlerContext, actor: Actor, person: Person) -> OneOnOne | None:
    """The active schedule the actor holds now with `person` (their own first)."""
    candidates = await store.list_active(ctx.db, agent_id=person.id or 0)
    holders = await acting_leads(ctx, candidates)
    held = [o for o in candidates if (h := holders.get(o.id or 0)) and h.id == actor.person_id]
    held.sort(key=lambda o: (o.lead_id != actor.person_id, o.id or 0))
    return held[0] if held else None


async def active_with(ctx: HandlerContext, actor: Actor, person: Person) -> OneOnOne:
    """The schedule the actor holds now with `person`; NotFound with a hint otherwise."""
    o = await schedule_with(ctx, actor, person)
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
