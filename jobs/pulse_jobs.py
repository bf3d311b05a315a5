"""Pulse jobs: open scheduled rounds, remind non-responders, close rounds and summarise.

All three are global sweeps every 5 minutes; each is idempotent on its own (a claimed
slot key, a `reminded` flag, a `summary_sent` flag, and outbox dedupe keys), so a retry
or a second scheduler never opens, reminds or reports twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from domain.shifts import is_working, next_working_moment
from handlers.core import notify
from handlers.core.context import HandlerContext
from handlers.pulse import ask_reply, latest_slot, open_round, summary_reply
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import people
from storage import pulse as store

log = logging.getLogger(__name__)

GRACE = dt.timedelta(hours=6)  # a slot missed by a scheduler that was down this long opens late
REMIND_MARGIN = dt.timedelta(hours=1)  # no reminder that would land in the last hour


async def open_scheduled(ctx: HandlerContext, run: JobRunInfo) -> None:
    """Open each team's round whose scheduled slot has come (once per slot, cluster-wide)."""
    now = ctx.now()
    opened = 0
    for sched, team in await store.active_schedules(ctx.db):
        try:
            slot = latest_slot(sched, team.timezone, now)
        except ValueError:
            log.warning("pulse schedule unusable team=%s", team.id)
            continue
        # A slot before the schedule was set, or long past, is not opened.
        if slot is None or slot <= sched.updated_at or now - slot > GRACE:
            continue
        result = await open_round(
            ctx, team, created_by_id=None, claim_key=f"pulse:open:{team.id}:{slot.isoformat()}"
        )
        if result is not None:
            opened += 1
            log.info(
                "pulse round opened team=%s round=%s asked=%s", team.id, result[0].id, result[1]
            )
    if opened:
        log.info("pulse open sweep opened=%s", opened)


async def remind_non_responders(ctx: HandlerContext, run: JobRunInfo) -> None:
    """One reminder to each agent who has not answered, sent while they are working.

    Deciding at send time (rather than holding a queued reminder) means an agent who
    answers in the meantime never gets one.
    """
    now = ctx.now()
    sent = 0
    for rnd, delivery, person in await store.reminder_candidates(ctx.db, now=now):
        assert delivery.id is not None
        try:
            working = is_working(person.work_hours, person.timezone, now)
            next_moment = next_working_moment(person.work_hours, person.timezone, now)
        except ValueError:
            working, next_moment = True, now
        if not working:
            if next_moment >= rnd.closes_at - REMIND_MARGIN:
                # Their next shift starts too late for a reminder to help: drop it.
                await store.mark_reminded(ctx.db, delivery_id=delivery.id, message=None)
            continue
        if now >= rnd.closes_at - REMIND_MARGIN:
            await store.mark_reminded(ctx.db, delivery_id=delivery.id, message=None)
            continue
        msg = notify.person_message(
            ctx,
            person,
            ask_reply(ctx, rnd, person.timezone, reminder=True),
            dedupe_key=f"pulse:{rnd.id}:{person.id}:reminder",
        )
        if await store.mark_reminded(ctx.db, delivery_id=delivery.id, message=msg):
            sent += 1
    if sent:
        # A count only: who was reminded would say who has not answered.
        log.info("pulse reminders sent=%s", sent)


async def close_and_summarise(ctx: HandlerContext, run: JobRunInfo) -> None:
    """Close rounds past their closing time and DM each team's lead the summary."""
    now = ctx.now()
    await store.close_due(ctx.db, now=now)
    for rnd in await store.rounds_needing_summary(ctx.db):
        assert rnd.id is not None
        team = await people.get_team(ctx.db, team_id=rnd.team_id)
        messages = []
        if team is not None:
            to_id = team.lead_id or team.manager_id
            to = await people.get_person(ctx.db, person_id=to_id) if to_id else None
            if to is not None and to.active:
                reply = await summary_reply(ctx, rnd, team, to)
                messages.append(
                    notify.person_message(ctx, to, reply, dedupe_key=f"pulse:{rnd.id}:summary")
                )
        await store.mark_summary_sent(ctx.db, round_id=rnd.id, messages=messages)
        log.info("pulse round closed round=%s team=%s", rnd.id, rnd.team_id)


EVERY_5_MIN = Cron(minute="*/5")

OPEN = JobSpec(
    id="pulse.open",
    description="Open scheduled pulse rounds (each team's schedule, in its time zone)",
    run=open_scheduled,
    cron=EVERY_5_MIN,
)
REMIND = JobSpec(
    id="pulse.remind",
    description="Remind agents who have not answered the pulse, within their working hours",
    run=remind_non_responders,
    cron=EVERY_5_MIN,
)
CLOSE = JobSpec(
    id="pulse.close",
    description="Close pulse rounds and send each lead the results summary",
    run=close_and_summarise,
    cron=EVERY_5_MIN,
)

JOBS = (OPEN, REMIND, CLOSE)
