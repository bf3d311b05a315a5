"""The frequent alert job and the live pollers' job.

- `alerts` runs every ALERT_TICK_SECONDS (a cron with seconds, claimed per fire time like
  every job): evaluate every rule on every queue, edit incident messages and wallboards
  (handlers.alerts.tick). Two schedulers claim each tick once; a tick that overlaps the
  next one is safe too (every change is a compare-and-set).
- `live_poll` runs every LIVE_POLL_SECONDS when a poller is configured: asks each source
  (Genesys Cloud, Amazon Connect, Twilio Flex; bot/live/) and stores what it says.
- The claims of these two jobs (thousands a day) are pruned after an hour.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from domain.live import LiveSource
from domain.settings import Settings
from handlers import alerts
from handlers.core.context import HandlerContext
from jobs.spec import Cron, JobRunInfo, JobSpec

log = logging.getLogger(__name__)

TICK_ID = "alerts"
POLL_ID = "live_poll"
KEEP_RUNS = dt.timedelta(hours=1)


def every(seconds: int) -> Cron:
    """A cron firing every `seconds` (a divisor of 60), or every N minutes from 60 up."""
    if seconds >= 60:
        return Cron(minute=f"*/{max(seconds // 60, 1)}", second="0")
    return Cron(minute="*", second=f"*/{seconds}")


async def run_tick(ctx: HandlerContext, info: JobRunInfo) -> None:
    # Evaluated at the tick's scheduled time, not a few milliseconds after it: a breach
    # first seen at one tick then reaches its onset exactly at a later tick, instead of
    # missing it by the start-up jitter and waiting a whole tick more.
    now = ctx.now()
    if (
        dt.timedelta(0)
        <= now - info.fire_time
        < dt.timedelta(seconds=ctx.settings.alert_tick_seconds)
    ):
        now = info.fire_time
    stats = await alerts.tick(ctx, now=now)
    if stats.opened or stats.resolved or stats.escalated or stats.lost_races:
        log.info("alerts: %s", stats)
    when = info.fire_time
    if when.second == 0 and when.minute % 10 == 0:
        pruned = await alerts.prune_runs(
            ctx.db, job_ids=[TICK_ID, POLL_ID], before=ctx.now() - KEEP_RUNS
        )
        log.debug("alerts: pruned %d old claims", pruned)


def poll_job(sources: Sequence[LiveSource]) -> JobSpec:
    async def run(ctx: HandlerContext, info: JobRunInfo) -> None:
        await alerts.poll(ctx, sources)

    return JobSpec(id=POLL_ID, description="Poll the live queue sources", run=run)


def build_specs(settings: Settings, sources: Sequence[LiveSource]) -> tuple[JobSpec, ...]:
    """The alert tick, and the poll job when there are sources."""
    tick = JobSpec(
        id=TICK_ID,
        description="Evaluate queue alerts; edit incident messages and wallboards",
        run=run_tick,
        cron=every(settings.alert_tick_seconds),
    )
    if not sources:
        return (tick,)
    slowest = max(settings.live_poll_seconds, *(int(s.poll_seconds) for s in sources))
    seconds = next(n for n in (*range(slowest, 60), 60) if 60 % n == 0 or n == 60)
    poll = poll_job(sources)
    return tick, JobSpec(
        id=poll.id, description=poll.description, run=poll.run, cron=every(seconds)
    )
