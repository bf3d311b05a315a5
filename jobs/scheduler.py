"""The scheduler: APScheduler 3.11 (AsyncIOScheduler) with every job of jobs/registry.JOBS.

- One APScheduler job per global JobSpec (id = the spec's id), and one per team for
  per-team specs (id = "goal_update:team:3"), each a CronTrigger in its own time zone, so
  DST is handled by the trigger. Per-team jobs are refreshed every few minutes (teams
  come and go, and change zone or posting time).
- APScheduler only ever calls `fire(runtime, job_id, team_id)`: one static, module-level
  entry point that gets the process's Runtime through its arguments (as
  python-telegram-bot's JobQueue passes its context), registered with
  replace_existing=True. No module state: two Runtimes in one process (tests) never mix.
- Before a job does anything it claims (job id, scope, fire time) in JobRun. The fire time
  is the trigger's scheduled time (the newest one at or before now), so every scheduler
  process computes the same key and only the first insert wins.
- coalesce=True and misfire_grace_time=JOB_GRACE_SECONDS: runs missed while the loop was
  busy are coalesced into one. On start, each job's newest fire time within the grace
  period is caught up once (if nobody ran it), never replayed as a burst.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from domain.localtime import zone
from handlers.core.context import HandlerContext
from jobs.dispatcher import default_node_name
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import jobruns, people
from storage.db import Database
from storage.models import Team

log = logging.getLogger(__name__)

REFRESH_JOB_ID = "_leadbot:refresh"


class Outcome(StrEnum):
    ok = "ok"
    failed = "failed"
    taken = "taken"  # another process (or an earlier run) has this fire time
    skipped = "skipped"  # unknown job or team, or no schedule for it


@dataclass
class Runtime:
    """What job runs need, one per process: the handlers' context (store, settings,
    registry, clock), the jobs by id, and this process's name for claims."""

    ctx: HandlerContext
    jobs: Mapping[str, JobSpec]
    node: str = field(default_factory=default_node_name)
    running: set[asyncio.Task[object]] = field(default_factory=set)

    @property
    def db(self) -> Database:
        return self.ctx.db

    @property
    def grace_seconds(self) -> int:
        return self.ctx.settings.job_grace_seconds

    def now(self) -> dt.datetime:
        return self.ctx.now()


# --- triggers --------------------------------------------------------------------------


def cron_trigger(cron: Cron) -> CronTrigger:
    """The APScheduler trigger of a Cron, in the Cron's own zone (ValueError if invalid)."""
    return CronTrigger(
        second=cron.second,
        minute=cron.minute,
        hour=cron.hour,
        day_of_week=cron.day_of_week,
        day=cron.day,
        timezone=zone(cron.timezone),
    )


def next_fire_time(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The first fire time strictly after `now` (UTC)."""
    nxt: dt.datetime | None = trigger.get_next_fire_time(None, now + dt.timedelta(microseconds=1))
    return nxt.astimezone(dt.UTC) if nxt else None


_LOOKBACK = (
    dt.timedelta(minutes=2),
    dt.timedelta(hours=2),
    dt.timedelta(days=1, hours=2),
    dt.timedelta(days=8),
    dt.timedelta(days=32),
    dt.timedelta(days=367),
)


def previous_fire_time(trigger: CronTrigger, now: dt.datetime) -> dt.datetime | None:
    """The newest scheduled fire time at or before `now` (UTC), or None within a year."""
    for window in _LOOKBACK:
        t = trigger.get_next_fire_time(None, now - window)
        if t is None or t > now:
            continue
        while True:
            nxt = trigger.get_next_fire_time(t, t + dt.timedelta(microseconds=1))
            if nxt is None or nxt > now:
                found: dt.datetime = t.astimezone(dt.UTC)
                return found
            t = nxt
    return None


def schedule_of(spec: JobSpec, team: Team | None) -> Cron | None:
    """The Cron of a global job (team None) or of a per-team job for one team."""
    if team is None:
        return spec.cron
    if spec.team_cron is None:
        return None
    return spec.team_cron(team)


def aps_id(job_id: str, team_id: int | None) -> str:
    return job_id if team_id is None else f"{job_id}:team:{team_id}"


# --- running one job ---------------------------------------------------------------------


async def run_job(
    rt: Runtime, job_id: str, *, team_id: int | None, fire_time: dt.datetime
) -> Outcome:
    """Claim (job, scope, fire time) and, when the claim is ours, run the job once."""
    spec = rt.jobs.get(job_id)
    if spec is None:
        log.error("scheduled job %r is not registered; skipped", job_id)
        return Outcome.skipped
    info = JobRunInfo(job_id=job_id, fire_time=fire_time.astimezone(dt.UTC), team_id=team_id)
    run_id = await jobruns.claim(
        rt.db,
        job_id=job_id,
        scope=info.scope,
        fire_time=info.fire_time,
        claimed_by=rt.node,
        now=rt.now(),
    )
    if run_id is None:
        log.info("job %s %s at %s: already claimed", job_id, info.scope, info.fire_time)
        return Outcome.taken
    try:
        await spec.run(rt.ctx, info)
    except Exception as exc:
        log.exception(
            "job %s failed (scope %r, fire time %s, run %s)",
            job_id,
            info.scope,
            info.fire_time.isoformat(),
            run_id,
        )
        await jobruns.finish(
            rt.db, run_id=run_id, ok=False, error=f"{type(exc).__name__}: {exc}", now=rt.now()
        )
        return Outcome.failed
    await jobruns.finish(rt.db, run_id=run_id, ok=True, now=rt.now())
    log.info("job %s %s at %s: ok", job_id, info.scope, info.fire_time.isoformat())
    return Outcome.ok


async def scheduled_fire_time(rt: Runtime, job_id: str, team_id: int | None) -> dt.datetime | None:
    """The fire time a run that starts now is for: the trigger's newest time <= now."""
    spec = rt.jobs.get(job_id)
    if spec is None:
        return None
    team = None
    if team_id is not None:
        team = await people.get_team(rt.db, team_id=team_id)
        if team is None:
            return None
    cron = schedule_of(spec, team)
    if cron is None:
        return None
    return previous_fire_time(cron_trigger(cron), rt.now())


async def fire(rt: Runtime, job_id: str, team_id: int | None = None) -> None:
    """The one entry point APScheduler calls; the runtime comes in its arguments."""
    task = asyncio.current_task()
    if task is not None:  # so a shutdown can wait for runs in progress
        rt.running.add(task)
        task.add_done_callback(rt.running.discard)
    try:
        fire_time = await scheduled_fire_time(rt, job_id, team_id)
        if fire_time is None:
            log.info("job %s (team %s) has no schedule now; skipped", job_id, team_id)
            return
        await run_job(rt, job_id, team_id=team_id, fire_time=fire_time)
    except Exception:
        # run_job records job failures; this is the claim or the database failing.
        log.exception("job %s (team %s) could not run", job_id, team_id)


async def refresh(scheduler: Scheduler) -> None:
    """The internal job that re-reads teams and updates the per-team schedules."""
    try:
        await scheduler.sync_jobs()
    except Exception:
        log.exception("refreshing the job schedules failed")


# --- the plan (what runs when) ----------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    job_id: str
    description: str
    team: Team | None
    cron: Cron | None
    next_utc: dt.datetime | None
    error: str | None = None
    per_team: bool = False  # a per-team job (team None: there are no teams yet)

    @property
    def aps_id(self) -> str:
        return aps_id(self.job_id, self.team.id if self.team else None)

    @property
    def tz(self) -> str:
        return self.cron.timezone if self.cron else "UTC"


async def plan(rt: Runtime) -> list[Planned]:
    """Every job with its schedule and next fire time, per team for per-team jobs."""
    teams = await people.list_teams(rt.db)
    now = rt.now()
    out: list[Planned] = []
    for spec in rt.jobs.values():
        scopes: list[Team | None] = []
        if spec.cron is not None:
            scopes.append(None)
        if spec.team_cron is not None:
            scopes.extend(teams)
        if spec.team_cron is not None and not teams:
            out.append(Planned(spec.id, spec.description, None, None, None, per_team=True))
        for team in scopes:
            try:
                cron = schedule_of(spec, team)
                nxt = next_fire_time(cron_trigger(cron), now) if cron else None
                out.append(
                    Planned(spec.id, spec.description, team, cron, nxt, per_team=team is not None)
                )
            except ValueError as exc:
                out.append(Planned(spec.id, spec.description, team, None, None, str(exc), True))
    return out


# --- the scheduler ------------------------------------------------------------------------


class Scheduler:
    """APScheduler with leadbot's jobs; `start()` inside a running event loop."""

    def __init__(
        self, rt: Runtime, *, timezone: str | None = None, refresh_seconds: float = 300.0
    ) -> None:
        self.rt = rt
        self.timezone = zone(timezone or rt.ctx.settings.scheduler_timezone)
        self.refresh_seconds = refresh_seconds
        self.aps = AsyncIOScheduler(
            timezone=self.timezone,
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": rt.grace_seconds,
                "max_instances": 1,
            },
        )
        self._crons: dict[str, Cron] = {}

    async def start(self) -> None:
        await self.sync_jobs()
        self.aps.add_job(
            refresh,
            IntervalTrigger(seconds=self.refresh_seconds, timezone=self.timezone),
            args=(self,),
            id=REFRESH_JOB_ID,
            replace_existing=True,
        )
        self.aps.start()
        await self.catch_up()
        log.info("scheduler started with %d job(s) on %s", len(self._crons), self.rt.node)

    async def sync_jobs(self) -> None:
        """Add, replace or remove APScheduler jobs so they match the registry and teams."""
        desired: dict[str, tuple[str, int | None, Cron]] = {}
        for p in await plan(self.rt):
            if p.error:
                log.warning("job %s for team %s not scheduled: %s", p.job_id, p.team, p.error)
                continue
            if p.cron is None:
                continue
            desired[p.aps_id] = (p.job_id, p.team.id if p.team else None, p.cron)
        for jid in list(self._crons):
            if jid not in desired:
                if self.aps.get_job(jid) is not None:
                    self.aps.remove_job(jid)
                del self._crons[jid]
        for jid, (job_id, team_id, cron) in desired.items():
            if self._crons.get(jid) == cron:
                continue
            self.aps.add_job(
                fire,
                cron_trigger(cron),
                args=(self.rt, job_id, team_id),
                id=jid,
                name=jid,
                replace_existing=True,
            )
            self._crons[jid] = cron

    async def catch_up(self) -> list[Outcome]:
        """Run each job's newest missed fire time once, if it is within the grace period."""
        now = self.rt.now()
        grace = dt.timedelta(seconds=self.rt.grace_seconds)
        todo = []
        for jid, cron in self._crons.items():
            job_id, _, rest = jid.partition(":team:")
            team_id = int(rest) if rest else None
            prev = previous_fire_time(cron_trigger(cron), now)
            if prev is None or now - prev > grace:
                continue
            scope = f"team:{team_id}" if team_id is not None else ""
            if await jobruns.get_run(self.rt.db, job_id=job_id, scope=scope, fire_time=prev):
                continue
            log.info("catching up job %s (%s) missed at %s", job_id, scope, prev.isoformat())
            todo.append(run_job(self.rt, job_id, team_id=team_id, fire_time=prev))
        outcomes: list[Outcome] = []
        for result in await asyncio.gather(*todo, return_exceptions=True):
            if isinstance(result, BaseException):
                log.error("catching up a missed run failed: %r", result)
                outcomes.append(Outcome.failed)
            else:
                outcomes.append(result)
        return outcomes

    def jobs(self) -> dict[str, dt.datetime | None]:
        """APScheduler's jobs and their next run times (UTC)."""
        return {
            j.id: (j.next_run_time.astimezone(dt.UTC) if j.next_run_time else None)
            for j in self.aps.get_jobs()
        }

    async def shutdown(self, grace_seconds: float = 30.0) -> None:
        """Stop firing; let job runs in progress finish (up to the grace period)."""
        running = set(self.rt.running)
        if self.aps.running:
            self.aps.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler stops on the loop's next turn
        if running:
            log.info("waiting for %d job run(s) to finish", len(running))
            await asyncio.wait(running, timeout=grace_seconds)
        log.info("scheduler stopped")
