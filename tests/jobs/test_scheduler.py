"""The scheduler: local-time triggers (DST), claims, the entry point, catch-up."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from handlers.core.context import HandlerContext
from jobs import scheduler as sched
from jobs.scheduler import Outcome, Runtime, Scheduler, cron_trigger, next_fire_time
from jobs.spec import Cron, JobRunInfo, JobSpec
from storage import jobruns, people
from storage.db import Database
from storage.models import Team
from tests.conftest import FakeClock, make_ctx

UTC = dt.UTC


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def local(tz: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz))


def nine_am(tz: str) -> Cron:
    return Cron(minute="0", hour="9", timezone=tz)


def fires(cron: Cron, start: dt.datetime, n: int) -> list[dt.datetime]:
    trig = cron_trigger(cron)
    out, t = [], start
    for _ in range(n):
        nxt = next_fire_time(trig, t)
        assert nxt is not None
        out.append(nxt)
        t = nxt
    return out


# --- time: DST and zones -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "before", "expected_utc_hours"),
    [
        # US spring forward: Sunday 8 March 2026, 09:00 EST=14:00Z then EDT=13:00Z.
        ("America/New_York", utc(2026, 3, 6, 15), [14, 13, 13]),
        # US fall back: Sunday 1 November 2026.
        ("America/New_York", utc(2026, 10, 30, 15), [13, 14, 14]),
        # EU spring forward: Sunday 29 March 2026, 09:00 CET=08:00Z then CEST=07:00Z.
        ("Europe/Berlin", utc(2026, 3, 28, 7), [8, 7, 7]),
        # EU fall back: Sunday 25 October 2026.
        ("Europe/Berlin", utc(2026, 10, 24, 6), [7, 8, 8]),
        # India has no DST and a half-hour offset: 09:00 IST = 03:30Z every day.
        ("Asia/Kolkata", utc(2026, 3, 27, 4), [3, 3, 3]),
    ],
)
def test_team_nine_am_is_nine_local_across_dst(
    tz: str, before: dt.datetime, expected_utc_hours: list[int]
) -> None:
    got = fires(nine_am(tz), before, 3)
    assert [t.hour for t in got] == expected_utc_hours
    assert all(t.astimezone(ZoneInfo(tz)).time() == dt.time(9, 0) for t in got)
    days = [t.astimezone(ZoneInfo(tz)).date() for t in got]
    assert days == [days[0] + dt.timedelta(days=i) for i in range(3)]  # one run a day, no gap


def test_kolkata_half_hour_offset() -> None:
    [t] = fires(nine_am("Asia/Kolkata"), utc(2026, 11, 17, 0), 1)
    assert t == utc(2026, 11, 17, 3, 30)


def test_weekday_schedule_skips_the_weekend() -> None:
    cron = Cron(minute="0", hour="9", day_of_week="mon-fri", timezone="Europe/London")
    # Friday 20 November 2026 at 10:00 London: next is Monday 23rd at 09:00.
    [t] = fires(cron, utc(2026, 11, 20, 10), 1)
    assert t == utc(2026, 11, 23, 9)


def test_previous_fire_time_is_the_scheduled_time() -> None:
    trig = cron_trigger(nine_am("America/New_York"))
    # 09:00:42 EDT on 9 March 2026 -> the run is for 09:00 EDT (13:00Z).
    assert sched.previous_fire_time(trig, utc(2026, 3, 9, 13, 0, 42)) == utc(2026, 3, 9, 13)
    assert sched.previous_fire_time(trig, utc(2026, 3, 9, 13)) == utc(2026, 3, 9, 13)
    assert sched.previous_fire_time(trig, utc(2026, 3, 9, 12, 59)) == utc(2026, 3, 8, 13)
    assert sched.previous_fire_time(trig, utc(2026, 3, 8, 12, 59)) == utc(2026, 3, 7, 14)
    every5 = cron_trigger(Cron(minute="*/5", timezone="UTC"))
    assert sched.previous_fire_time(every5, utc(2026, 1, 1, 0, 7, 3)) == utc(2026, 1, 1, 0, 5)


def test_quiet_hours_push_an_agent_message_to_the_next_working_morning(ctx: HandlerContext) -> None:
    from domain.roles import Role
    from domain.types import message
    from handlers.core.notify import person_message
    from storage.models import Person

    agent = Person(
        id=7,
        email="a@x",
        display_name="A",
        role=Role.agent,
        timezone="America/New_York",
        work_hours="Mon-Fri 09:00-17:00",
    )
    # Tuesday 17 Nov 2026, 20:00 in New York (01:00Z Wednesday): held until Wed 09:00 EST.
    ctx.clock.set(utc(2026, 11, 18, 1))  # type: ignore[attr-defined]
    msg = person_message(ctx, agent, message("hi"), dedupe_key="k")
    assert msg.not_before == local("America/New_York", 2026, 11, 18, 9).astimezone(UTC)
    # Friday 18:00 -> Monday 09:00 (the weekend is skipped).
    ctx.clock.set(local("America/New_York", 2026, 11, 20, 18))  # type: ignore[attr-defined]
    msg = person_message(ctx, agent, message("hi"), dedupe_key="k2")
    assert msg.not_before == local("America/New_York", 2026, 11, 23, 9).astimezone(UTC)
    # Asked for: sent now, whatever the hour.
    msg = person_message(ctx, agent, message("hi"), dedupe_key="k3", asked_for=True)
    assert msg.not_before == local("America/New_York", 2026, 11, 20, 18).astimezone(UTC)
    # A lead is not held.
    lead = Person(id=8, email="l@x", display_name="L", role=Role.lead, timezone="UTC")
    assert person_message(ctx, lead, message("x"), dedupe_key="k4").not_before == ctx.now()


# --- claims and runs ----------------------------------------------------------------------


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.runs: list[JobRunInfo] = []
        self.fail = fail

    async def __call__(self, ctx: HandlerContext, info: JobRunInfo) -> None:
        self.runs.append(info)
        if self.fail:
            raise RuntimeError("boom")


def runtime(db: Database, clock: FakeClock, *specs: JobSpec, node: str = "n1") -> Runtime:
    ctx = make_ctx(db, clock, job_grace_seconds=600)
    return Runtime(ctx=ctx, jobs={s.id: s for s in specs}, node=node)


async def test_two_schedulers_one_fire_time_one_run(any_db: Database, clock: FakeClock) -> None:
    rec = Recorder()
    spec = JobSpec("daily", "d", rec, cron=Cron(minute="0", hour="9"))
    fire = utc(2026, 11, 17, 9)
    a = runtime(any_db, clock, spec, node="a")
    b = runtime(any_db, clock, spec, node="b")
    results = [
        await sched.run_job(a, "daily", team_id=None, fire_time=fire),
        await sched.run_job(b, "daily", team_id=None, fire_time=fire),
    ]
    assert results == [Outcome.ok, Outcome.taken]
    assert len(rec.runs) == 1
    assert rec.runs[0].fire_time == fire
    assert rec.runs[0].scope == ""
    run = await jobruns.get_run(any_db, job_id="daily", scope="", fire_time=fire)
    assert run is not None
    assert run.status == "ok"
    assert run.claimed_by == "a"


async def test_failed_job_is_recorded_with_its_error(
    any_db: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    spec = JobSpec("bad", "b", Recorder(fail=True), cron=Cron())
    fire = utc(2026, 11, 17, 9)
    assert await sched.run_job(
        runtime(any_db, clock, spec), "bad", team_id=None, fire_time=fire
    ) is (Outcome.failed)
    run = await jobruns.get_run(any_db, job_id="bad", scope="", fire_time=fire)
    assert run is not None
    assert run.status == "failed"
    assert run.error == "RuntimeError: boom"
    assert "job bad failed" in caplog.text
    assert fire.isoformat() in caplog.text
    # A failed run is not retried for the same fire time by another scheduler.
    again = await sched.run_job(runtime(any_db, clock, spec), "bad", team_id=None, fire_time=fire)
    assert again is Outcome.taken


async def test_entry_point_derives_fire_time_from_the_trigger(
    db: Database, clock: FakeClock
) -> None:
    rec = Recorder()
    team = await people.create_team(db, name="Berlin", timezone="Europe/Berlin")
    spec = JobSpec("goal", "g", rec, team_cron=lambda t: nine_am(t.timezone))
    rt = runtime(db, clock, spec)
    # APScheduler calls fire() a little late; the run is for 09:00 Berlin (08:00Z).
    clock.set(utc(2026, 11, 17, 8, 0, 3))
    await sched.fire(rt, "goal", team.id)
    clock.set(utc(2026, 11, 17, 8, 0, 9))  # a second scheduler, a bit later still
    await sched.fire(rt, "goal", team.id)
    assert [(r.fire_time, r.team_id) for r in rec.runs] == [(utc(2026, 11, 17, 8), team.id)]


async def test_entry_point_ignores_unknown_jobs_and_teams(db: Database, clock: FakeClock) -> None:
    rec = Recorder()
    spec = JobSpec("goal", "g", rec, team_cron=lambda t: nine_am(t.timezone))
    rt = runtime(db, clock, spec)
    await sched.fire(rt, "nope")
    await sched.fire(rt, "goal", 999)
    assert rec.runs == []
    assert await jobruns.list_runs(db) == []


async def test_scheduler_registers_one_job_per_team_and_refreshes(
    db: Database, clock: FakeClock
) -> None:
    berlin = await people.create_team(db, name="Berlin", timezone="Europe/Berlin")
    kolkata = await people.create_team(db, name="Pune", timezone="Asia/Kolkata")
    sweep = JobSpec("sweep", "s", Recorder(), cron=Cron(minute="*/5"))

    def team_cron(t: Team) -> Cron | None:
        return nine_am(t.timezone) if t.name != "Off" else None

    goal = JobSpec("goal", "g", Recorder(), team_cron=team_cron)
    clock.set(utc(2026, 11, 17, 12))  # nothing to catch up for the 09:00 jobs
    s = Scheduler(runtime(db, clock, sweep, goal), timezone="Europe/London")
    await s.start()
    try:
        jobs = s.jobs()
        assert {"sweep", f"goal:team:{berlin.id}", f"goal:team:{kolkata.id}"} <= set(jobs)
        assert sched.REFRESH_JOB_ID in jobs
        trig = s.aps.get_job(f"goal:team:{kolkata.id}").trigger
        assert str(trig.timezone) == "Asia/Kolkata"
        # Teams change: one moves zone, one is added, one has no schedule.
        assert berlin.id is not None
        await people.update_team(db, team_id=berlin.id, timezone="America/New_York")
        await people.create_team(db, name="Off", timezone="UTC")
        await s.sync_jobs()
        jobs = s.jobs()
        assert str(s.aps.get_job(f"goal:team:{berlin.id}").trigger.timezone) == "America/New_York"
        assert len([j for j in jobs if j.startswith("goal:")]) == 2
    finally:
        await s.shutdown()
    assert not s.aps.running


async def test_missed_runs_after_downtime_are_caught_up_once(
    db: Database, clock: FakeClock
) -> None:
    rec = Recorder()
    spec = JobSpec("sweep", "s", rec, cron=Cron(minute="*/5"))
    daily = Recorder()
    old = JobSpec("daily", "d", daily, cron=Cron(minute="0", hour="6"))
    # Down since 09:00; restarted at 09:22. Four sweeps were missed: run once, for 09:20.
    clock.set(utc(2026, 11, 17, 9, 22, 30))
    s = Scheduler(runtime(db, clock, spec, old))
    await s.start()
    await s.shutdown()
    assert [r.fire_time for r in rec.runs] == [utc(2026, 11, 17, 9, 20)]
    assert daily.runs == []  # 06:00 is beyond the grace period (600 s here)
    # A second scheduler starting now finds the catch-up already claimed.
    s2 = Scheduler(runtime(db, clock, spec, old, node="n2"))
    await s2.start()
    await s2.shutdown()
    assert len(rec.runs) == 1
