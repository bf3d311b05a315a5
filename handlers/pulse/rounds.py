"""Opening a round: who is asked, the DMs (held to each agent's working hours), and the
monthly eNPS question. The jobs call `open_round` for scheduled rounds, `/pulse now`
for rounds opened at once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from domain.shifts import next_working_moment
from domain.types import Reply
from handlers.core import notify
from handlers.core.context import HandlerContext
from handlers.pulse.render import ask_reply
from handlers.pulse.results import min_responses
from handlers.pulse.schedule import month_start
from handlers.pulse.wording import DEFAULT_QUESTION
from storage import pulse as store
from storage.models import Person, PulseRound, Team
from storage.outbox import OutboxNew

_EMPTY = Reply()


def _deliveries(ctx: HandlerContext, rnd: PulseRound, agents: Sequence[Person]) -> list[OutboxNew]:
    """One DM per agent, held to their working hours (notify.person_message decides)."""
    payloads: dict[str, str] = {}  # the message differs only by time zone: render once per zone
    msgs = []
    for p in agents:
        if p.timezone not in payloads:
            payloads[p.timezone] = ask_reply(ctx, rnd, p.timezone).to_json()
        msg = notify.person_message(ctx, p, _EMPTY, dedupe_key=f"pulse:{rnd.id}:{p.id}")
        msgs.append(dataclasses.replace(msg, payload=payloads[p.timezone]))
    return msgs


async def open_round(
    ctx: HandlerContext,
    team: Team,
    *,
    created_by_id: int | None,
    claim_key: str | None = None,
) -> tuple[PulseRound, int] | None:
    """Open a round for a team now: deliveries and DMs (held to each agent's hours).

    eNPS is added to the first round of each local month when the schedule says so. The
    round keeps today's privacy threshold for good (results.threshold). None when the team
    already has an open round or the claim was taken.
    """
    assert team.id is not None
    now = ctx.now()
    sched = await store.get_schedule(ctx.db, team_id=team.id)
    include_enps = sched.enps_monthly and not await store.enps_asked_since(
        ctx.db, team_id=team.id, since=month_start(now, team.timezone)
    )
    closes = now + dt.timedelta(hours=max(1, sched.open_hours))
    remind: dt.datetime | None = now + dt.timedelta(hours=max(1, sched.remind_after_hours))
    if remind is not None and remind >= closes:
        remind = None
    return await store.open_round(
        ctx.db,
        team_id=team.id,
        question=sched.question or DEFAULT_QUESTION,
        include_enps=include_enps,
        opens_at=now,
        closes_at=closes,
        remind_at=remind,
        created_by_id=created_by_id,
        min_responses=min_responses(ctx),
        build_messages=lambda rnd, agents: _deliveries(ctx, rnd, agents),
        claim_key=claim_key,
        eligible=lambda p: can_answer_before(p, now, closes),
    )


def can_answer_before(person: Person, now: dt.datetime, closes: dt.datetime) -> bool:
    """False for an agent whose next shift starts after the round closes (on leave, off):
    they are not asked, rather than getting a pulse they can no longer answer."""
    try:
        return next_working_moment(person.work_hours, person.timezone, now) < closes
    except ValueError:
        return True  # a bad work-hours pattern never costs someone their say
