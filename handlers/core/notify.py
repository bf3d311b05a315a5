"""Messages to other people and channels go through the outbox, never straight out.

Agents are not messaged outside their working hours unless they asked for the message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence

from domain.roles import Role
from domain.shifts import next_working_moment
from domain.types import Reply
from handlers.core.context import HandlerContext
from storage import outbox
from storage.models import Person
from storage.outbox import OutboxNew


def person_message(
    ctx: HandlerContext,
    person: Person,
    reply: Reply,
    *,
    dedupe_key: str,
    asked_for: bool = False,
    at: dt.datetime | None = None,
) -> OutboxNew:
    """A DM to a person, held until their next working moment when they are an agent."""
    when = at or ctx.now()
    if not asked_for and person.role is Role.agent:
        # A bad pattern was refused at import; never lose a message over it.
        with contextlib.suppress(ValueError):
            when = next_working_moment(person.work_hours, person.timezone, when)
    assert person.id is not None
    return OutboxNew(
        dedupe_key=dedupe_key, payload=reply.to_json(), person_id=person.id, not_before=when
    )


def team_message(
    team_id: int, reply: Reply, *, dedupe_key: str, at: dt.datetime | None = None
) -> OutboxNew:
    """A post in a team's channel."""
    return OutboxNew(dedupe_key=dedupe_key, payload=reply.to_json(), team_id=team_id, not_before=at)


async def send(ctx: HandlerContext, messages: Sequence[OutboxNew]) -> int:
    """Enqueue messages; returns how many were new (dedupe keys seen before are skipped)."""
    return await outbox.enqueue(ctx.db, messages=messages)


async def notify_person(
    ctx: HandlerContext,
    person: Person,
    reply: Reply,
    *,
    dedupe_key: str,
    asked_for: bool = False,
) -> int:
    """Enqueue one DM (see person_message)."""
    msg = person_message(ctx, person, reply, dedupe_key=dedupe_key, asked_for=asked_for)
    return await send(ctx, [msg])
