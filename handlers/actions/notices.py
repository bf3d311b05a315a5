"""Messages about items: DMs through the outbox, held until the recipient is on shift."""

from __future__ import annotations

import datetime as dt

from domain.shifts import next_working_moment
from domain.types import Actor, Reply
from handlers.actions.permissions import get_person
from handlers.core.context import HandlerContext
from handlers.core.notify import person_message
from storage.models import Person
from storage.outbox import OutboxNew


def working_moment(ctx: HandlerContext, person: Person) -> dt.datetime:
    """Now, or the start of the person's next shift (leads and managers too)."""
    try:
        return next_working_moment(person.work_hours, person.timezone, ctx.now())
    except ValueError:  # a bad shift pattern: don't hold the message
        return ctx.now()


def working_hours_dm(ctx: HandlerContext, person: Person, reply: Reply, *, key: str) -> OutboxNew:
    """A DM through the outbox, held until the person's working hours (`key` dedupes it)."""
    return person_message(ctx, person, reply, dedupe_key=key, at=working_moment(ctx, person))


async def messages_to(
    ctx: HandlerContext,
    actor: Actor,
    recipients: list[int | None],
    reply: Reply,
    key: str,
) -> list[OutboxNew]:
    """The same note to each active recipient who isn't the actor (each once)."""
    out: list[OutboxNew] = []
    seen: set[int] = set()
    for pid in recipients:
        if pid is None or pid == actor.person_id or pid in seen:
            continue
        seen.add(pid)
        person = await get_person(ctx, pid)
        if person is not None and person.active:
            out.append(working_hours_dm(ctx, person, reply, key=f"{key}:{pid}"))
    return out
