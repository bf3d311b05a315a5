"""How a scheduled job is declared. jobs/registry.py lists every one.

A job is a plain async function `run(ctx, run)`; the scheduler claims each (job, scope,
fire time) in the database before calling it, so it runs once however many schedulers
there are. Jobs never call a platform: they write outbox rows (with dedupe keys).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers.core.context import HandlerContext
from storage.models import Team


@dataclass(frozen=True)
class Cron:
    """A cron-style schedule in local time (fields as in APScheduler's CronTrigger);
    `second` lets a frequent job (the alert tick) run every few seconds."""

    minute: str = "0"
    hour: str = "*"
    day_of_week: str = "*"
    day: str = "*"
    timezone: str = "UTC"
    second: str = "0"


@dataclass(frozen=True)
class JobRunInfo:
    """What one run is about: its scope (a team, or the whole install) and its fire time."""

    job_id: str
    fire_time: dt.datetime  # the scheduled time (UTC), not when it actually started
    team_id: int | None = None

    @property
    def scope(self) -> str:
        return f"team:{self.team_id}" if self.team_id is not None else ""


JobFunc = Callable[[HandlerContext, JobRunInfo], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: global (`cron`), or one schedule per team (`team_cron`) in its zone.

    Jobs about individual people (reminders in each person's own zone and working hours)
    are global sweeps that run often (e.g. every 5 minutes) and decide per person what is
    due now; outbox dedupe keys make each message happen once.
    """

    id: str
    description: str
    run: JobFunc
    cron: Cron | None = None
    team_cron: Callable[[Team], Cron | None] | None = None
